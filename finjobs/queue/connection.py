"""Open the Redis connection finjobs uses (REDIS_URL, or the embedded server)."""

from __future__ import annotations

import redis

from finjobs.config import Settings
from finjobs.errors import ConfigError
from finjobs.queue.embedded import ensure_embedded


def redis_url(settings: Settings) -> str:
    return settings.redis_url or ensure_embedded(settings.state_dir)


def connect_redis(settings: Settings, *, check: bool = True) -> redis.Redis:
    """A client for RQ (bytes, not decoded). With check, a failed PING becomes one ConfigError line."""
    url = redis_url(settings)
    try:
        conn = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
        if check:
            conn.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise ConfigError(f"REDIS_URL: cannot connect to {_redact(url)}: {exc}") from None
    return conn


def _redact(url: str) -> str:
    """Hide a password in messages: redis://:secret@host -> redis://:***@host."""
    head, sep, tail = url.partition("@")
    if not sep:
        return url
    scheme, _, cred = head.partition("://")
    user = cred.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}"
