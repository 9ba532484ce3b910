"""Bearer-token auth for every API endpoint but /healthz, and the per-request helpers views share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, jsonify, request
from redis import Redis
from sqlalchemy.orm import Session

from finjobs.config import Settings

F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    return cast(Settings, current_app.config["FINJOBS_SETTINGS"])


@contextmanager
def db() -> Iterator[Session]:
    from finjobs.db.engine import session_scope

    with session_scope(settings().database_url) as s:
        yield s


def redis() -> Redis:
    """One Redis client per app (connection pool shared by requests)."""
    conn = current_app.extensions.get("finjobs_redis")
    if conn is None:
        from finjobs.queue.connection import connect_redis

        conn = current_app.extensions["finjobs_redis"] = connect_redis(settings(), check=False)
    return cast(Redis, conn)


def user_id() -> int:
    return cast(int, g.user_id)


def require_user(view: F) -> F:
    """401 without a valid `Authorization: Bearer <token>`; else g.user_id is the caller."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from finjobs.services.users import user_for_token

        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("missing bearer token")
        with db() as s:
            user = user_for_token(s, token.strip())
            if user is None:
                return _unauthorized("invalid token")
            g.user_id = user.id
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _unauthorized(message: str) -> Any:
    resp = jsonify(error="unauthorized", message=message)
    resp.status_code = 401
    resp.headers["WWW-Authenticate"] = 'Bearer realm="finjobs"'
    return resp
