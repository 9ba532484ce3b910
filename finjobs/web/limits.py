"""Rate limits shared by every web process through Redis (Flask-Limiter + limits): per token, per
endpoint class. Uploads (POST of files) have their own, stricter budget; every other authenticated
endpoint shares the reads budget; /healthz is exempt. A breach answers 429 with Retry-After."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, request
from flask_limiter import Limiter

from finjobs.config import Settings

F = TypeVar("F", bound=Callable[..., Any])
EXEMPT = {"health.healthz", "openapi.openapi", "static"}


def uploads(view: F) -> F:
    """Mark a view as an upload: it counts against the stricter uploads budget."""
    view.rate_class = "uploads"  # type: ignore[attr-defined]
    return view


def _key() -> str:
    """The caller's token (hashed: tokens never reach Redis keys), else its address."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "t:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "unknown")


def storage_uri(redis_url: str) -> str:
    # limits names a unix-socket Redis "redis+unix://"; redis-py (and finjobs) say "unix://"
    return "redis+unix://" + redis_url[len("unix://") :] if redis_url.startswith("unix://") else redis_url


def install(app: Flask, settings: Settings) -> Limiter:
    from finjobs.queue.connection import redis_url

    limiter = Limiter(
        key_func=_key,
        app=app,
        storage_uri=storage_uri(redis_url(settings)),
        strategy="moving-window",
        headers_enabled=True,
        key_prefix="finjobs:ratelimit",
    )
    for endpoint, view in list(app.view_functions.items()):
        if endpoint in EXEMPT:
            limiter.exempt(view)
            continue
        rate_class = getattr(view, "rate_class", "reads")
        limit = settings.rate_limit_uploads if rate_class == "uploads" else settings.rate_limit_reads
        app.view_functions[endpoint] = limiter.shared_limit(limit, scope=rate_class)(view)
    return limiter
