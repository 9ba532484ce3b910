"""`finjobs demo`: the main jobs end to end on embedded defaults (SQLite file + private Redis),
through real worker processes, as production runs them."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import typer

from finjobs.cli import context

DEMO_EMAIL = "demo@finjobs.local"
DEMO_QUEUES = ("csv-import", "data-cleanup")


@contextlib.contextmanager
def workers(*queues: str) -> Iterator[None]:
    """Real `finjobs worker` processes for the demo's queues; SIGTERM (as Heroku would) at the end."""
    log_path = context.settings().state_dir / "demo-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FINJOBS_LOG_LEVEL": os.environ.get("FINJOBS_LOG_LEVEL", "WARNING")}
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "finjobs", "worker", *queues, "-c", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _ensure_user() -> int:
    from finjobs.errors import NotFound
    from finjobs.services.users import create_user, get_user

    with context.session() as s:
        try:
            return get_user(s, DEMO_EMAIL).id
        except NotFound:
            created = create_user(s, DEMO_EMAIL, name="Demo User")
            context.console.print(
                f"created demo user {created.id}; API token: {created.token}", highlight=False
            )
            return created.id


def _import(user_id: int, data: bytes, name: str) -> dict[str, Any]:
    from finjobs.cli.imports import _status, follow
    from finjobs.services.imports import accept_import, enqueue_import

    with context.session() as s:
        import_id = accept_import(
            s, user_id, name, data, settings=context.settings(), account="demo checking"
        ).id
    enqueue_import(context.redis(), import_id)
    follow(import_id, timeout=600, quiet=False)
    return _status(import_id)


def demo_import(user_id: int) -> None:
    from finjobs.sample_data import csv_bytes

    con = context.console
    con.rule("bank CSV import through the csv-import queue")
    today = dt.date.today()
    data = csv_bytes(600, seed=today.year, start=today - dt.timedelta(days=365))
    path = context.settings().state_dir / "demo-bank.csv"
    path.write_bytes(data)
    con.print(f"generated a year of bank statement: {path} ({len(data):,} bytes)", highlight=False)
    first = _import(user_id, data, path.name)
    con.print(
        f"import {first['id']}: {first['status']}, imported {first['imported']}, skipped "
        f"{first['skipped']}, duplicates {first['duplicates']}",
        highlight=False,
    )
    if first["status"] != "completed":
        raise typer.Exit(1)
    again = _import(user_id, data, path.name)
    con.print(
        f"the same file again: import {again['id']} imported {again['imported']}, duplicates "
        f"{again['duplicates']} (nothing twice)",
        highlight=False,
    )
    if again["imported"] != 0:
        raise typer.Exit(1)


def _seed_cleanup_work(user_id: int) -> None:
    """Old dismissed insights, expired ones and failed voice logs, so the cleanup has work to show."""
    from finjobs.db.models import AiInsight, VoiceLog, utcnow

    now = utcnow()
    with context.session() as s:
        for i in range(3):
            s.add(
                AiInsight(
                    user_id=user_id,
                    type="spending_spike",
                    severity="info",
                    title="old",
                    dedup_key=f"demo:dismissed:{now.timestamp()}:{i}",
                    dismissed_at=now - dt.timedelta(days=40),
                )
            )
        s.add(
            AiInsight(
                user_id=user_id,
                type="budget_warning",
                severity="warning",
                title="expired",
                dedup_key=f"demo:expired:{now.timestamp()}",
                expires_at=now - dt.timedelta(days=1),
            )
        )
        for _ in range(2):
            s.add(VoiceLog(user_id=user_id, status="failed", created_at=now - dt.timedelta(days=100)))
    context.redis().set("budget_status:999999999", "{}")  # a cache key of a user that does not exist


def demo_cleanup(user_id: int) -> None:
    from finjobs.cli.follow import wait_for_job
    from finjobs.services.maintenance import enqueue_cleanup

    con = context.console
    con.rule("data cleanup through the data-cleanup queue")
    _seed_cleanup_work(user_id)
    job = enqueue_cleanup(context.redis())
    outcome = wait_for_job(context.redis(), job.id, timeout=120)
    if outcome["status"] != "finished":
        con.print(f"[red]cleanup job {outcome['status']}[/red]: {outcome.get('error')}")
        raise typer.Exit(1)
    con.print("cleanup removed:", outcome["result"], highlight=False)


def demo() -> None:
    """Database, a demo user, a bank CSV import (and its re-import), the cleanup job, the status view."""
    from finjobs.cli.status import render
    from finjobs.db.migrate import upgrade
    from finjobs.services.queues import queue_stats

    settings = context.settings()
    con = context.console
    con.rule("finjobs demo")
    con.print(f"database: {settings.database_url}", highlight=False)
    redis_where = settings.redis_url or f"embedded server in {settings.state_dir / 'redis'}"
    con.print(f"redis:    {redis_where}", highlight=False)
    upgrade(settings.database_url)
    user_id = _ensure_user()
    started = time.monotonic()
    with workers(*DEMO_QUEUES):
        demo_import(user_id)
        demo_cleanup(user_id)
        con.print(render(queue_stats(context.redis())))
    con.print(f"demo finished in {time.monotonic() - started:.1f} s", highlight=False)
