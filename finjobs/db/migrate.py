"""Run Alembic migrations programmatically (`finjobs db upgrade`, the release phase, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from finjobs.db.engine import get_engine

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def wait_for_schema(url: str, *, timeout: float = 120.0, interval: float = 1.0) -> None:
    """Block until the database is migrated to head. Long-running processes call this at start:
    locally they start beside the release process (honcho runs all at once), not after it."""
    import logging
    import time

    from sqlalchemy.exc import OperationalError

    from finjobs.errors import ConfigError

    want, deadline, said = head(), time.monotonic() + timeout, False
    while True:
        try:
            if current(url) == want:
                return
        except OperationalError:
            pass  # the database may be starting too
        if time.monotonic() > deadline:
            raise ConfigError(
                f"DATABASE_URL: schema not at revision {want} after {timeout:.0f} s; run `finjobs db upgrade`"
            )
        if not said:
            logging.getLogger(__name__).warning("waiting for the database schema (revision %s)", want)
            said = True
        time.sleep(interval)
