"""RQ entrypoints, one module per area. A job's signature is a wire contract: JSON primitives in,
new parameters keyword-only with defaults, never reordered. Each job builds its context with
job_context() and calls one service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from rq import get_current_job
from sqlalchemy.orm import Session

from finjobs.config import Settings
from finjobs.db.engine import session_scope
from finjobs.queue.connection import connect_redis


@contextmanager
def job_context() -> Iterator[tuple[Settings, Session, Redis]]:
    """Settings from the worker's environment, a session in one transaction, the job's Redis."""
    settings = Settings.from_env()
    job = get_current_job()
    redis = job.connection if job is not None else connect_redis(settings)
    with session_scope(settings.database_url) as session:
        yield settings, session, redis
