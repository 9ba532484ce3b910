"""The rq-scheduler adapter: register the schedule table as JSON cron jobs (ids schedule-<name>),
list and clear them, and the trigger job's body. Touches Redis only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from redis import Redis

from finjobs.queue.catalogue import SCHEDULE_FIRE
from finjobs.schedule import SCHEDULES, Schedule
from finjobs.services.schedule_ledger import SlotRun, tick
from finjobs.services.schedule_slots import GRACE, next_slots

log = logging.getLogger(__name__)

FIRE = SCHEDULE_FIRE.path


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
