"""Chat-session context: a Redis hash per session with a sliding TTL, owned by one user.

Key `finjobs:chat:{session_id}`; the field `__owner` holds the user id. Every read or write renews
the TTL; an expired session is simply gone. Another user's session is NotFound (never "forbidden":
that would tell them it exists).
"""

from __future__ import annotations

import re
from typing import Any

from redis import Redis

from finjobs.errors import InputError, NotFound

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
OWNER = "__owner"
MAX_FIELDS = 100
MAX_VALUE = 8192
MAX_FIELD_NAME = 200


def key(session_id: str) -> str:
    return f"finjobs:chat:{session_id}"


def _check_id(session_id: str) -> None:
    if not _ID.match(session_id):
        raise InputError("a chat session id is 1-64 letters, digits, '_' or '-'", source="session_id")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _owned(redis: Redis, session_id: str, user_id: int) -> bool:
    owner = redis.hget(key(session_id), OWNER)
    return owner is not None and _text(owner) == str(user_id)


def put_context(redis: Redis, session_id: str, user_id: int, context: Any, *, ttl: int) -> dict[str, str]:
    """Replace the session's context (creating the session, owned by the caller)."""
    _check_id(session_id)
    if not isinstance(context, dict) or not all(isinstance(k, str) for k in context):
        raise InputError("the context must be a JSON object", source="body")
    if len(context) > MAX_FIELDS:
        raise InputError(f"at most {MAX_FIELDS} fields", source="body")
    values: dict[str, str] = {}
    for field, value in context.items():
        if field == OWNER or not field or len(field) > MAX_FIELD_NAME:
            raise InputError(f"field name {field[:40]!r} is reserved, empty or too long", source="body")
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise InputError(
                f"field {field!r} must be a string of at most {MAX_VALUE} characters", source="body"
            )
        values[field] = value
    k = key(session_id)
    owner = redis.hget(k, OWNER)
    if owner is not None and _text(owner) != str(user_id):
        raise NotFound(f"no chat session {session_id}")
    with redis.pipeline() as pipe:  # MULTI/EXEC: a reader never sees the old and new context mixed
        pipe.delete(k)
        pipe.hset(k, mapping={OWNER: str(user_id), **values})  # type: ignore[dict-item]
        pipe.expire(k, ttl)
        pipe.execute()
    return values


def get_context(redis: Redis, session_id: str, user_id: int, *, ttl: int) -> dict[str, str]:
    _check_id(session_id)
    k = key(session_id)
    if not _owned(redis, session_id, user_id):
        raise NotFound(f"no chat session {session_id}")
    with redis.pipeline() as pipe:
        pipe.hgetall(k)
        pipe.expire(k, ttl)
        raw, _ = pipe.execute()
    return {_text(f): _text(v) for f, v in raw.items() if _text(f) != OWNER}


def delete_context(redis: Redis, session_id: str, user_id: int) -> None:
    _check_id(session_id)
    if not _owned(redis, session_id, user_id):
        raise NotFound(f"no chat session {session_id}")
    redis.delete(key(session_id))
