"""Runs the schedule table exactly once per slot: slot maths (croniter, DST-safe), the schedule_runs
ledger claim, the missed-slot rule, rq-scheduler registration (JSON jobs) and the scheduler loop.

Touches the database (schedule_runs) through db_url, and Redis. `now` is always an argument.

Slots: a cron is read as wall-clock time in the schedule zone. A wall-clock time that does not exist
(spring forward, 02:00 -> 03:00) runs at the same distance past the gap's start, i.e. 02:00 runs at
03:00 local, once; a wall-clock time that exists twice (fall back) runs at its first occurrence, once.
A slot is stored in the ledger as aware UTC. A manual run (`finjobs schedule run`) is its own slot:
the current instant (microseconds), claimed by "manual:...", and never hides a missed cron slot.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from redis import Redis

from finjobs.queue.catalogue import SCHEDULE_FIRE
from finjobs.schedule import SCHEDULES, Schedule

log = logging.getLogger(__name__)

GRACE = timedelta(hours=6)  # a missed slot younger than this runs on start; older ones are `skipped`
SETTLE = timedelta(minutes=2)  # the loop's safety-net tick leaves fresh slots to rq-scheduler's trigger
MAX_LOOKBACK = timedelta(days=31)  # slots older than this are not even recorded as skipped
MAX_ATTEMPTS = 3  # a slot whose fan-out raised is retried (by later ticks) while within GRACE
FIRE = SCHEDULE_FIRE.path
MANUAL = "manual:"
_DST_MARGIN = timedelta(hours=3)  # wall-clock window padding; covers any real DST shift


# ---- slot maths ------------------------------------------------------------------------------------


def wall_to_utc(naive: datetime, tz: tzinfo) -> datetime:
    """Wall-clock time in tz -> aware UTC. fold=0: a time in a spring gap moves forward by the gap,
    an ambiguous fall-back time is its first occurrence."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def slots_between(
    cron: str, tz: tzinfo, after: datetime, until: datetime, *, lookback: timedelta = MAX_LOOKBACK
) -> list[datetime]:
    """Every slot s with after < s <= until (aware UTC, ascending, distinct), at most `lookback` old."""
    from croniter import croniter

    lower = max(after, until - lookback)
    it = croniter(cron, _wall(lower, tz) - _DST_MARGIN)
    end = _wall(until, tz) + _DST_MARGIN
    found: set[datetime] = set()
    while True:
        naive = it.get_next(datetime)
        if naive > end:
            break
        instant = wall_to_utc(naive, tz)
        if lower < instant <= until:
            found.add(instant)
    return sorted(found)


def latest_slot(cron: str, tz: tzinfo, now: datetime) -> datetime | None:
    """The most recent slot at or before now (None if the cron never fired within a year)."""
    from croniter import croniter

    it = croniter(cron, _wall(now, tz) + _DST_MARGIN)
    floor = _wall(now, tz) - timedelta(days=366)
    best: datetime | None = None
    while True:
        naive = it.get_prev(datetime)
        if naive < floor:
            return best
        instant = wall_to_utc(naive, tz)
        if instant <= now and (best is None or instant > best):
            best = instant
        # the UTC mapping is monotone except inside a DST gap, so one margin past a hit is enough
        if best is not None and naive < _wall(best, tz) - _DST_MARGIN:
            return best


def next_slots(cron: str, tz: tzinfo, now: datetime, count: int = 3) -> list[datetime]:
    """The next `count` slots strictly after now (aware UTC, ascending)."""
    from croniter import croniter

    it = croniter(cron, _wall(now, tz) - _DST_MARGIN)
    found: set[datetime] = set()
    last_naive: datetime | None = None
    for _ in range(100_000):
        naive = it.get_next(datetime)
        instant = wall_to_utc(naive, tz)
        if instant > now:
            found.add(instant)
        if len(found) >= count and last_naive is None:
            last_naive = naive + _DST_MARGIN  # keep going through a possible gap before stopping
        if last_naive is not None and naive > last_naive:
            break
    return sorted(found)[:count]


def describe(cron: str) -> str:
    """The cron in words (cron-descriptor), e.g. 'At 06:00'."""
    from cron_descriptor import ExpressionDescriptor

    return str(ExpressionDescriptor(cron, use_24hour_time_format=True).get_description())


# ---- the missed-slot rule ------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    schedule: Schedule
    slot: datetime  # aware UTC
    action: str  # "run" | "skip"


def due_slots(
    table: Iterable[Schedule],
    last_seen: Mapping[str, datetime | None],
    now: datetime,
    *,
    tz: tzinfo,
    grace: timedelta = GRACE,
    settle: timedelta = timedelta(0),
) -> list[Due]:
    """The slots not yet in the ledger, oldest first: every slot after last_seen up to now - settle
    (with no history: only the latest one). Each runs when younger than grace, else is skipped."""
    until = now - settle
    out: list[Due] = []
    for sched in table:
        seen = last_seen.get(sched.name)
        if seen is None:
            latest = latest_slot(sched.cron, tz, until)
            slots = [latest] if latest is not None else []
        else:
            slots = slots_between(sched.cron, tz, seen, until)
        out.extend(Due(sched, s, "run" if now - s <= grace else "skip") for s in slots)
    out.sort(key=lambda d: (d.slot, d.schedule.name))
    return out


# ---- the ledger --------------------------------------------------------------------------------------


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


# ---- rq-scheduler ----------------------------------------------------------------------------------


@contextmanager
def _quiet_crontab() -> Iterator[None]:
    """rq-scheduler's own next-run computation warns about crontab's clock default; finjobs
    overwrites that time with the zone-correct slot right after, so the warning is noise."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*crontab.*")
        yield


def _rq_scheduler_class() -> type[Any]:
    from rq_scheduler import Scheduler

    from finjobs.queue.registry import JsonJob, JsonQueue

    class FinjobsScheduler(Scheduler):  # type: ignore[misc]
        """rq-scheduler with JSON jobs (JsonJob: nothing pickled) whose cron entries are re-armed for
        the next slot in the schedule's zone (rq-scheduler itself reads crons in the host's clock)."""

        job_class = JsonJob
        queue_class = JsonQueue

        def get_queue_for_job(self, job: Any) -> Any:
            return JsonQueue(job.origin, connection=self.connection)

        def enqueue_job(self, job: Any) -> None:
            with _quiet_crontab():
                super().enqueue_job(job)
            zone, cron = job.meta.get("timezone"), job.meta.get("cron_string")
            if zone and cron and self.connection.zscore(self.scheduled_jobs_key, job.id) is not None:
                from zoneinfo import ZoneInfo

                nxt = next_slots(cron, ZoneInfo(zone), datetime.now(UTC), 1)[0]
                self.connection.zadd(self.scheduled_jobs_key, {job.id: nxt.timestamp()})

    return FinjobsScheduler


def rq_scheduler(redis: Redis, *, name: str | None = None, interval: float = 5) -> Any:
    """rq-scheduler's Scheduler over finjobs' JSON job and queue classes."""
    return _rq_scheduler_class()(connection=redis, name=name, interval=interval)


@dataclass
class RegisterReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
        }


def _zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)


def registered(redis: Redis) -> dict[str, tuple[Any, datetime]]:
    """Our rq-scheduler entries (ids schedule-*) -> (job, next run as aware UTC)."""
    sched = rq_scheduler(redis)
    out = {}
    for job, when in sched.get_jobs(with_times=True):
        if job.id.startswith("schedule-"):
            out[job.id] = (job, when.replace(tzinfo=UTC))
    return out


def register(
    redis: Redis,
    *,
    tz: tzinfo,
    table: Iterable[Schedule] = SCHEDULES,
    table_ref: str | None = None,
    now: datetime | None = None,
) -> RegisterReport:
    """Make rq-scheduler hold exactly the table: one entry per schedule under a stable id, added when
    missing, replaced when its cron/queue/zone/fan-out changed, removed when no longer in the table.
    Running it again changes nothing (rq-scheduler's own cron() adds a copy per call).
    `table_ref`: dotted path the trigger job imports the table from (default: finjobs.schedule)."""
    now = now or datetime.now(UTC)
    sched = rq_scheduler(redis)
    report = RegisterReport()
    current = {jid: job for jid, (job, _when) in registered(redis).items()}
    wanted = {s.job_id: s for s in table}
    zone = _zone_name(tz)
    fire_kwargs = {"table": table_ref} if table_ref else {}
    for jid, job in current.items():
        if jid not in wanted:
            sched.cancel(jid)
            job.delete()
            report.removed.append(jid)
    for jid, s in wanted.items():
        job = current.get(jid)
        if job is not None:
            same = (
                job.meta.get("cron_string") == s.cron
                and job.meta.get("timezone") == zone
                and job.meta.get("fanout") == s.fanout
                and job.origin == s.queue
                and job.func_name == FIRE
                and list(job.args) == [s.name]
                and dict(job.kwargs) == fire_kwargs
            )
            if same:
                report.unchanged.append(jid)
                continue
            sched.cancel(jid)
            job.delete()
        with _quiet_crontab():
            sched.cron(
                s.cron,
                func=FIRE,
                args=[s.name],
                kwargs=fire_kwargs,
                id=jid,
                queue_name=s.queue,
                description=f"schedule {s.name} ({s.cron} {zone})",
                meta={"timezone": zone, "fanout": s.fanout},
                timeout=15 * 60,
            )
        # rq-scheduler computed the first run in the host's clock; arm it in the schedule's zone
        first = next_slots(s.cron, tz, now, 1)[0]
        redis.zadd(sched.scheduled_jobs_key, {jid: first.timestamp()})
        (report.updated if job is not None else report.added).append(jid)
    return report


def clear(redis: Redis) -> list[str]:
    """Remove every finjobs entry from rq-scheduler (the ledger is kept)."""
    sched = rq_scheduler(redis)
    removed = []
    for jid, (job, _when) in registered(redis).items():
        sched.cancel(jid)
        job.delete()
        removed.append(jid)
    return removed


def fire_schedule(
    db_url: str,
    redis: Redis,
    name: str,
    now: datetime,
    *,
    tz: tzinfo,
    table: Iterable[Schedule] = SCHEDULES,
    grace: timedelta = GRACE,
    owner: str = "",
) -> list[SlotRun]:
    """The trigger job's work: tick for one schedule. A slot someone already claimed is a no-op."""
    from finjobs.errors import NotFound

    chosen = [s for s in table if s.name == name]
    if not chosen:
        raise NotFound(f"no schedule named {name!r}")
    return tick(db_url, redis, now, tz=tz, table=chosen, grace=grace, owner=owner)


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
