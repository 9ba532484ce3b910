"""Runs the schedule table exactly once per slot: the scheduler loop over slot maths
(schedule_slots.py), the schedule_runs ledger (schedule_ledger.py) and rq-scheduler (schedule_rq.py).

Touches the database (schedule_runs) through db_url, and Redis. `now` is always an argument.

DST rules: schedule_slots.py; manual runs and retries: schedule_ledger.py.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from redis import Redis

from finjobs.schedule import SCHEDULES, Schedule

# The parts live in their own modules; their public names are re-exported so callers keep one import.
from finjobs.services.schedule_ledger import (
    MANUAL,
    MAX_ATTEMPTS,
    SlotRun,
    claim,
    cleanup_fanout,
    default_owner,
    last_runs,
    last_seen,
    resolve,
    run_claimed,
    run_manual,
    tick,
)
from finjobs.services.schedule_rq import (
    FIRE,
    RegisterReport,
    clear,
    fire_schedule,
    register,
    registered,
    rq_scheduler,
)
from finjobs.services.schedule_slots import (
    GRACE,
    MAX_LOOKBACK,
    Due,
    describe,
    due_slots,
    latest_slot,
    next_slots,
    slots_between,
    wall_to_utc,
)

log = logging.getLogger(__name__)

SETTLE = timedelta(minutes=2)  # the loop's safety-net tick leaves fresh slots to rq-scheduler's trigger


# ---- the scheduler process -------------------------------------------------------------------------


class SchedulerLoop:
    """`finjobs scheduler`: registers the table, then every `interval` seconds lets rq-scheduler move
    due entries to their queues and re-queues jobs of dead workers; every `maintenance_every` seconds
    re-registers, ticks the ledger for missed slots and re-enqueues accepted imports/receipts.
    Several may run at once (each with its own name): rq-scheduler's lock and the ledger dedupe."""

    def __init__(
        self,
        db_url: str,
        redis: Redis,
        *,
        tz: tzinfo,
        table: Iterable[Schedule] = SCHEDULES,
        table_ref: str | None = None,
        grace: timedelta = GRACE,
        name: str | None = None,
        interval: float = 5,
        maintenance_every: float = 60,
        settle: timedelta = SETTLE,
    ) -> None:
        self.db_url, self.redis, self.tz = db_url, redis, tz
        self.table, self.table_ref = tuple(table), table_ref
        self.grace, self.settle = grace, settle
        self.interval, self.maintenance_every = interval, maintenance_every
        self.name = name or f"finjobs-{socket.gethostname()}-{os.getpid()}"
        self.rq = rq_scheduler(redis, name=self.name, interval=interval)
        self._last_maintenance: float | None = None
        self._retries: Any = None

    def tick(self, now: datetime, *, settle: timedelta | None = None) -> list[SlotRun]:
        return tick(
            self.db_url,
            self.redis,
            now,
            tz=self.tz,
            table=self.table,
            grace=self.grace,
            settle=self.settle if settle is None else settle,
            owner=f"scheduler:{self.name}",
        )

    def start(self, now: datetime) -> dict[str, Any]:
        """On start: register, and run (or skip) what was missed while no scheduler was up."""
        report = register(self.redis, tz=self.tz, table=self.table, table_ref=self.table_ref, now=now)
        runs = self.tick(now, settle=timedelta(0))
        return {"register": report.to_dict(), "runs": [r.to_dict() for r in runs]}

    def fire_due(self) -> int:
        """rq-scheduler's pass under its lock: due entries become trigger jobs on their queues."""
        if not self.rq.acquire_lock():
            return 0
        try:
            due = list(self.rq.get_jobs_to_queue())  # what rq-scheduler's enqueue_jobs() does, counted
            for job in due:
                self.rq.enqueue_job(job)
            return len(due)
        finally:
            self.rq.remove_lock()

    def maintenance(self, now: datetime) -> dict[str, Any]:
        from finjobs.db.engine import session_scope
        from finjobs.services.recovery import reconcile_accepted

        register(self.redis, tz=self.tz, table=self.table, table_ref=self.table_ref, now=now)
        runs = self.tick(now)
        with session_scope(self.db_url) as session:
            rec = reconcile_accepted(session, self.redis)
        return {"runs": [r.to_dict() for r in runs], "reconcile": rec.to_dict()}

    def step(self, now: datetime, monotonic: float) -> None:
        from finjobs.services.recovery import enqueue_due_retries, requeue_abandoned

        self.rq.heartbeat()
        self.fire_due()
        requeue_abandoned(self.redis)
        self._retries = enqueue_due_retries(self.redis, self._retries)
        if self._last_maintenance is None or monotonic - self._last_maintenance >= self.maintenance_every:
            self._last_maintenance = monotonic
            self.maintenance(now)

    def run(
        self, stop: threading.Event, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.rq.register_birth()
        try:
            log.info("scheduler %s: %s", self.name, self.start(clock()))
            self._last_maintenance = time.monotonic()
            while not stop.is_set():
                began = time.monotonic()
                try:
                    self.step(clock(), began)
                except Exception:  # a Redis/DB blip must not end the scheduler; next pass retries
                    log.exception("scheduler pass failed")
                stop.wait(max(0.0, self.interval - (time.monotonic() - began)))
        finally:
            self.rq.remove_lock()
            self.rq.register_death()


__all__ = [
    "FIRE",
    "GRACE",
    "MANUAL",
    "MAX_ATTEMPTS",
    "MAX_LOOKBACK",
    "SETTLE",
    "Due",
    "RegisterReport",
    "SchedulerLoop",
    "SlotRun",
    "claim",
    "cleanup_fanout",
    "clear",
    "default_owner",
    "describe",
    "due_slots",
    "fire_schedule",
    "last_runs",
    "last_seen",
    "latest_slot",
    "next_slots",
    "register",
    "registered",
    "resolve",
    "rq_scheduler",
    "run_claimed",
    "run_manual",
    "slots_between",
    "tick",
    "wall_to_utc",
]
