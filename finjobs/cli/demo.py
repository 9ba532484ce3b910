"""`finjobs demo`: the main job end to end on the embedded defaults (SQLite file + private Redis)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import typer

from finjobs.cli import context

DEMO_EMAIL = "demo@finjobs.local"


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


def run_burst_worker(*queues: str) -> None:
    """Drain the queues with a real worker process, as production would (here in burst mode)."""
    env = {**os.environ, "FINJOBS_LOG_LEVEL": os.environ.get("FINJOBS_LOG_LEVEL", "WARNING")}
    subprocess.run([sys.executable, "-m", "finjobs", "worker", *queues, "--burst"], check=True, env=env)


def demo() -> None:
    """Database, a demo user, the cleanup job through a real worker, and the status view."""
    from finjobs.cli.follow import wait_for_job
    from finjobs.cli.status import render
    from finjobs.db.migrate import upgrade
    from finjobs.services.maintenance import enqueue_cleanup
    from finjobs.services.queues import queue_stats

    settings = context.settings()
    con = context.console
    con.rule("finjobs demo")
    con.print(f"database: {settings.database_url}", highlight=False)
    con.print(
        f"redis:    {settings.redis_url or 'embedded server in ' + str(settings.state_dir / 'redis')}",
        highlight=False,
    )
    upgrade(settings.database_url)
    user_id = _ensure_user()

    con.rule("data cleanup through the data-cleanup queue")
    _seed_cleanup_work(user_id)
    job = enqueue_cleanup(context.redis())
    con.print(f"enqueued job {job.id} on {job.origin}; starting a worker", highlight=False)
    run_burst_worker("data-cleanup")
    outcome = wait_for_job(context.redis(), job.id, timeout=120)
    if outcome["status"] != "finished":
        con.print(f"[red]cleanup job {outcome['status']}[/red]: {outcome.get('error')}")
        raise typer.Exit(1)
    con.print("cleanup removed:", outcome["result"], highlight=False)
    con.print(render(queue_stats(context.redis())))
