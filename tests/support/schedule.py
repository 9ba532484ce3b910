"""Test fan-outs and jobs for the scheduling and recovery tests: importable by worker processes.

The fan-outs record each slot they were called for in a Redis list `fanout:<name>`, so a test can
check that every slot ran exactly once; the table mirrors the real one (same names and crons).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finjobs.schedule import SCHEDULES, Schedule


def _record(redis: Any, name: str, slot: datetime) -> dict[str, int]:
    redis.rpush(f"fanout:{name}", slot.isoformat())
    return {"jobs": 1}


def forecast_fanout(session: Any, redis: Any, *, slot: datetime) -> dict[str, int]:
    return _record(redis, "weekly-forecast", slot)


def budget_fanout(session: Any, redis: Any, *, slot: datetime) -> dict[str, int]:
    return _record(redis, "daily-budget-check", slot)


def insight_fanout(session: Any, redis: Any, *, slot: datetime) -> dict[str, int]:
    return _record(redis, "daily-insights", slot)


def every_fanout(session: Any, redis: Any, *, slot: datetime) -> dict[str, int]:
    return _record(redis, "every", slot)


def flaky_fanout(session: Any, redis: Any, *, slot: datetime) -> dict[str, int]:
    """Raises on its first call (per Redis database), then records like the others."""
    if redis.incr("fanout:flaky:calls") == 1:
        raise RuntimeError("deliberate fan-out failure")
    return _record(redis, "flaky", slot)


_TEST_FANOUTS = {
    "weekly-forecast": "tests.support.schedule.forecast_fanout",
    "daily-budget-check": "tests.support.schedule.budget_fanout",
    "daily-insights": "tests.support.schedule.insight_fanout",
}

# The real table with test fan-outs, except weekly-cleanup which keeps its real fan-out.
TABLE: tuple[Schedule, ...] = tuple(
    Schedule(s.name, s.cron, _TEST_FANOUTS.get(s.name, s.fanout), s.queue, s.description) for s in SCHEDULES
)


def one_entry_table(cron: str) -> tuple[Schedule, ...]:
    return (Schedule("every", cron, "tests.support.schedule.every_fanout"),)


EVERY_MINUTE = one_entry_table("* * * * *")


def write_row_then_sleep(key: str, marker: str, first_sleep: float, later_sleep: float) -> int:
    """Inside ONE transaction: insert ledger row (key, 2000-01-01) and sleep; the first attempt sleeps
    first_sleep, later ones later_sleep. A run killed mid-way leaves no row (rolled back); two runs
    that both committed would hit the unique key. Records 'start <pid>' / 'done' in marker."""
    from finjobs.db.models import ScheduleRun
    from finjobs.jobs import job_context

    path = Path(marker)
    attempt = (
        len([ln for ln in path.read_text().splitlines() if ln.startswith("start")]) if path.exists() else 0
    )
    with path.open("a") as fh:
        fh.write(f"start {os.getpid()}\n")
    with job_context() as (_settings, session, _redis):
        session.add(
            ScheduleRun(schedule=key, slot=datetime(2000, 1, 1, tzinfo=UTC), claimed_by=str(os.getpid()))
        )
        session.flush()
        time.sleep(first_sleep if attempt == 0 else later_sleep)
    with path.open("a") as fh:
        fh.write("done\n")
    return os.getpid()
