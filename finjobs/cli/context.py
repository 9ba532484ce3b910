"""What every command needs, built lazily from the environment: settings, Redis, a DB session, output
(the Rich consoles too)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finjobs.errors import InputError

if TYPE_CHECKING:
    from redis import Redis
    from rich.console import Console
    from sqlalchemy.orm import Session

    from finjobs.config import Settings

    console: Console  # stdout
    err_console: Console  # stderr


def __getattr__(name: str) -> Console:
    """`console` and `err_console`, made on first use: rich.console (~15 ms) is not needed by --help."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    made = globals()[name] = Console(stderr=name == "err_console")
    return made


@cache
def settings() -> Settings:
    from finjobs.config import Settings  # pydantic: ~25 ms, not needed by --help

    return Settings.from_env()


@cache
def redis() -> Redis:
    from finjobs.queue.connection import connect_redis

    return connect_redis(settings())


@contextmanager
def session() -> Iterator[Session]:
    from finjobs.db.engine import session_scope

    with session_scope(settings().database_url) as s:
        yield s


def reset() -> None:
    """Forget cached settings/connections (tests change the environment between invocations)."""
    settings.cache_clear()
    redis.cache_clear()


def read_input(path: Path) -> bytes:
    """A file the user named, or one clear InputError naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None


def emit_json(doc: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(doc, default=str) + "\n")
    sys.stdout.flush()
