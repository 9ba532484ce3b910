"""The schedule_runs ledger: claim a slot exactly once, run its fan-out, record the outcome, retry a
failed slot within the grace period, and manual runs. Touches the database through db_url, and Redis.

A manual run (`finjobs schedule run`) is its own slot: the current instant (microseconds), claimed by
"manual:...", and never hides a missed cron slot.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from redis import Redis

from finjobs.schedule import SCHEDULES, Schedule
from finjobs.services.schedule_slots import GRACE, due_slots

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a slot whose fan-out raised is retried (by later ticks) while within GRACE
MANUAL = "manual:"


@dataclass(frozen=True)
class SlotRun:
    """What happened to one (schedule, slot) in this call."""

    schedule: str
    slot: datetime
    status: str  # done | failed | skipped
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "slot": self.slot.isoformat(),
            "status": self.status,
            **self.detail,
        }


def last_seen(db_url: str, names: Iterable[str]) -> dict[str, datetime | None]:
    """Newest cron slot per schedule in the ledger (manual runs excluded)."""
    from sqlalchemy import func, select

    from finjobs.db.engine import session_scope
    from finjobs.db.models import ScheduleRun

    wanted = list(names)
    out: dict[str, datetime | None] = dict.fromkeys(wanted)
    with session_scope(db_url) as session:
        rows = session.execute(
            select(ScheduleRun.schedule, func.max(ScheduleRun.slot))
            .where(ScheduleRun.schedule.in_(wanted), ~ScheduleRun.claimed_by.startswith(MANUAL))
            .group_by(ScheduleRun.schedule)
        ).all()
    for name, slot in rows:
        # func.max bypasses the column type on some backends: normalise to aware UTC
        if isinstance(slot, str):
            slot = datetime.fromisoformat(slot)
        out[name] = slot if slot is None or slot.tzinfo else slot.replace(tzinfo=UTC)
    return out


def last_runs(db_url: str, names: Iterable[str]) -> dict[str, dict[str, Any] | None]:
    """The newest ledger row per schedule (cron or manual): slot, status, detail."""
    from sqlalchemy import select

    from finjobs.db.engine import session_scope
    from finjobs.db.models import ScheduleRun

    out: dict[str, dict[str, Any] | None] = {}
    with session_scope(db_url) as session:
        for name in names:
            row = session.scalars(
                select(ScheduleRun)
                .where(ScheduleRun.schedule == name)
                .order_by(ScheduleRun.slot.desc())
                .limit(1)
            ).first()
            out[name] = (
                None
                if row is None
                else {
                    "slot": row.slot.isoformat(),
                    "status": row.status,
                    "claimed_by": row.claimed_by,
                    **row.detail,
                }
            )
    return out


def claim(db_url: str, name: str, slot: datetime, *, owner: str, status: str = "claimed") -> bool:
    """Insert (schedule, slot) into the ledger; False when someone already has it (unique key)."""
    from sqlalchemy.exc import IntegrityError

    from finjobs.db.engine import session_scope
    from finjobs.db.models import ScheduleRun, utcnow

    try:
        with session_scope(db_url) as session:
            row = ScheduleRun(schedule=name, slot=slot, status=status, claimed_by=owner[:200], detail={})
            if status == "skipped":
                row.finished_at = utcnow()
                row.detail = {"reason": "older than the grace window"}
            session.add(row)
    except IntegrityError:
        return False
    return True


def _reclaim_failed(db_url: str, name: str, slot: datetime, *, owner: str) -> bool:
    """Take back a failed slot for another attempt; atomic (only one process sees rowcount 1)."""
    from sqlalchemy import update

    from finjobs.db.engine import session_scope
    from finjobs.db.models import ScheduleRun, utcnow

    with session_scope(db_url) as session:
        result = session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.schedule == name, ScheduleRun.slot == slot, ScheduleRun.status == "failed")
            .values(status="claimed", claimed_by=owner[:200], claimed_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def _retryable(
    db_url: str, names: Iterable[str], now: datetime, grace: timedelta
) -> list[tuple[str, datetime]]:
    from sqlalchemy import select

    from finjobs.db.engine import session_scope
    from finjobs.db.models import ScheduleRun

    with session_scope(db_url) as session:
        rows = session.execute(
            select(ScheduleRun.schedule, ScheduleRun.slot, ScheduleRun.detail).where(
                ScheduleRun.schedule.in_(list(names)),
                ScheduleRun.status == "failed",
                ScheduleRun.slot >= now - grace,
                ~ScheduleRun.claimed_by.startswith(MANUAL),
            )
        ).all()
    return [(n, s) for n, s, d in rows if int((d or {}).get("attempts", 1)) < MAX_ATTEMPTS]


def resolve(path: str) -> Callable[..., dict[str, int]]:
    """A fan-out from its dotted path, imported only now (its module may be newer than this one)."""
    module, _, attr = path.rpartition(".")
    fn = getattr(importlib.import_module(module), attr)
    if not callable(fn):
        raise TypeError(f"{path} is not callable")
    return fn  # type: ignore[no-any-return]


def run_claimed(db_url: str, redis: Redis, sched: Schedule, slot: datetime) -> SlotRun:
    """Run the fan-out of a slot this process holds; the ledger row becomes done or failed.
    The fan-out and the `done` mark share one transaction: a fan-out that raises leaves no rows."""
    from sqlalchemy import select

    from finjobs.db.engine import session_scope
    from finjobs.db.models import ScheduleRun, utcnow

    started = time.monotonic()
    try:
        with session_scope(db_url) as session:
            counts = resolve(sched.fanout)(session, redis, slot=slot)
            row = session.execute(
                select(ScheduleRun).where(ScheduleRun.schedule == sched.name, ScheduleRun.slot == slot)
            ).scalar_one()
            attempts = int((row.detail or {}).get("attempts", 0)) + 1
            seconds = round(time.monotonic() - started, 3)
            detail = {"counts": dict(counts or {}), "attempts": attempts, "seconds": seconds}
            row.status, row.detail, row.finished_at = "done", detail, utcnow()
        log.info("schedule %s slot %s done: %s", sched.name, slot.isoformat(), detail["counts"])
        return SlotRun(sched.name, slot, "done", detail)
    except Exception as exc:
        log.exception("schedule %s slot %s failed", sched.name, slot.isoformat())
        with session_scope(db_url) as session:
            row = session.execute(
                select(ScheduleRun).where(ScheduleRun.schedule == sched.name, ScheduleRun.slot == slot)
            ).scalar_one()
            attempts = int((row.detail or {}).get("attempts", 0)) + 1
            detail = {"error": f"{type(exc).__name__}: {exc}"[:500], "attempts": attempts}
            row.status, row.detail, row.finished_at = "failed", detail, utcnow()
        return SlotRun(sched.name, slot, "failed", detail)


def tick(
    db_url: str,
    redis: Redis,
    now: datetime,
    *,
    tz: tzinfo,
    table: Iterable[Schedule] = SCHEDULES,
    grace: timedelta = GRACE,
    settle: timedelta = timedelta(0),
    owner: str = "",
) -> list[SlotRun]:
    """Claim and run (or record as skipped) every slot due by `now` that no one has claimed yet.
    Safe to call from any number of processes at once: the ledger's unique key decides."""
    table = tuple(table)
    names = [s.name for s in table]
    by = {s.name: s for s in table}
    owner = owner or default_owner()
    results: list[SlotRun] = []
    for due in due_slots(table, last_seen(db_url, names), now, tz=tz, grace=grace, settle=settle):
        status = "claimed" if due.action == "run" else "skipped"
        if not claim(db_url, due.schedule.name, due.slot, owner=owner, status=status):
            continue
        if due.action == "skip":
            log.warning("schedule %s slot %s older than %s: skipped", due.schedule.name, due.slot, grace)
            results.append(SlotRun(due.schedule.name, due.slot, "skipped"))
        else:
            results.append(run_claimed(db_url, redis, due.schedule, due.slot))
    tried = {(r.schedule, r.slot) for r in results}
    for name, slot in _retryable(db_url, names, now, grace):
        if (name, slot) not in tried and _reclaim_failed(db_url, name, slot, owner=owner):
            results.append(run_claimed(db_url, redis, by[name], slot))
    return results


def run_manual(db_url: str, redis: Redis, sched: Schedule, now: datetime, *, owner: str = "") -> SlotRun:
    """`finjobs schedule run NAME`: its own slot (the current instant), run here and now."""
    slot = now.astimezone(UTC)
    if not claim(db_url, sched.name, slot, owner=MANUAL + (owner or default_owner())):
        raise RuntimeError(f"slot {slot.isoformat()} of {sched.name} is already claimed")
    return run_claimed(db_url, redis, sched, slot)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def cleanup_fanout(session: Any, redis: Redis, *, slot: datetime) -> dict[str, int]:
    """weekly-cleanup: one data-cleanup job (its id is per day, so a duplicate request is a no-op)."""
    from finjobs.services.maintenance import enqueue_cleanup

    enqueue_cleanup(redis)
    return {"cleanup": 1}
