"""Fixtures over real servers: PostgreSQL and Redis started on free ports for the session (unless
TEST_DATABASE_URL / TEST_REDIS_URL are given), SQLite files per test. Nothing is faked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    from finjobs.config import normalize_database_url
    from finjobs.db.migrate import upgrade

    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        url = normalize_database_url(given)
        upgrade(url)
        yield url
        return
    from finjobs.devservers import PostgresServer

    server = PostgresServer().start()
    try:
        upgrade(server.url)
        yield server.url
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given
        return
    from finjobs.devservers import RedisServer

    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.destroy()


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    """A clean Redis database, flushed before and after (as RQ's own tests do)."""
    conn = redis_lib.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


def _truncate_all(url: str) -> None:
    from finjobs.db.engine import get_engine
    from finjobs.db.models import Base

    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with get_engine(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on real PostgreSQL (tables emptied after) and on a fresh migrated SQLite file."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        yield url
        _truncate_all(url)
    else:
        from finjobs.db.migrate import upgrade

        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    from finjobs.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    upgrade(url)
    return url


@dataclass
class Stack:
    """Settings, database and Redis of one test, with the environment set for jobs and the CLI."""

    db_url: str
    redis_url: str
    redis: redis_lib.Redis
    state_dir: Path
    env: dict[str, str]

    @contextmanager
    def session(self) -> Iterator[Session]:
        from finjobs.db.engine import session_scope

        with session_scope(self.db_url) as s:
            yield s

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        from finjobs.config import Settings

        return Settings.from_env(self.env)


@contextmanager
def _stack(db_url: str, redis_url: str, redis: redis_lib.Redis, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:  # fmt: skip
    from finjobs.cli import context

    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "FINJOBS_STATE_DIR": str(tmp_path / "state"),
        "PYTHONPATH": str(ROOT),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    context.reset()
    yield Stack(db_url, redis_url, redis, tmp_path / "state", {**os.environ, **env})
    context.reset()


@pytest.fixture
def stack(db_url: str, redis_url: str, redis: redis_lib.Redis, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:  # fmt: skip
    """PostgreSQL and SQLite in turn, with Redis, and the environment set for jobs and the CLI."""
    with _stack(db_url, redis_url, redis, tmp_path, monkeypatch) as st:
        yield st


@pytest.fixture
def pg_stack(pg_url: str, redis_url: str, redis: redis_lib.Redis, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:  # fmt: skip
    """A Stack on PostgreSQL only (worker-process tests where the backend is not the point)."""
    with _stack(pg_url, redis_url, redis, tmp_path, monkeypatch) as st:
        yield st
    _truncate_all(pg_url)


def finjobs_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "finjobs", *args]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def start_worker(pg_stack: Stack, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start real `finjobs worker` processes (own session, log in tmp_path); all SIGKILLed at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(
        *queues: str, concurrency: int = 1, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(procs)}.log").open("wb")
        proc = subprocess.Popen(
            finjobs_cmd("worker", *queues, "--concurrency", str(concurrency)),
            env={**pg_stack.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
