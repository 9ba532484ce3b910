"""What the operator's console shows and does: jobs of a queue by state (paged, cheap counts), a job's
page, replay and delete of failed jobs by filter, per-queue pause, workers, the schedule table and
recent imports. Every action writes the audit log. Reads the same services as `finjobs status`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from redis import Redis
from rq import Worker
from rq.registry import (
    BaseRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from sqlalchemy.orm import Session

from finjobs.errors import InputError, NotFound
from finjobs.queue.pause import set_paused
from finjobs.queue.registry import SERIALIZER, JsonJob, JsonQueue, fetch_job, rq_queues, spec
from finjobs.services.operators import OperatorInfo, record
from finjobs.services.queues import job_summary, replay

STATES = ("waiting", "active", "delayed", "failed", "finished")
_REGISTRIES: dict[str, type[BaseRegistry]] = {
    "active": StartedJobRegistry,
    "delayed": ScheduledJobRegistry,
    "failed": FailedJobRegistry,
    "finished": FinishedJobRegistry,
}
PER_PAGE = 50


def _registry(queue: JsonQueue, state: str) -> BaseRegistry:
    return _REGISTRIES[state](queue=queue, job_class=JsonJob, serializer=SERIALIZER)


def _count(queue: JsonQueue, state: str) -> int:
    if state == "waiting":
        return int(queue.count)
    return int(_registry(queue, state).get_job_count(cleanup=False))


def _ids(queue: JsonQueue, state: str, start: int, stop: int) -> list[str]:
    """Ids ranked start..stop-1: waiting in queue order, registries newest first."""
    if stop <= start:
        return []
    if state == "waiting":
        return queue.get_job_ids(start, stop - start)
    return _registry(queue, state).get_job_ids(start, stop - 1, desc=True, cleanup=False)


@dataclass(frozen=True)
class JobPage:
    queue: str
    state: str
    total: int
    page: int
    per_page: int
    jobs: list[dict[str, Any]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_jobs(redis: Redis, queue: str, state: str, *, page: int = 1, per_page: int = PER_PAGE) -> JobPage:
    """One page of a queue's jobs in a state: counts are list/sorted-set lengths and only the page's
    jobs are loaded, so a queue with 100,000 failed jobs pages as fast as one with ten."""
    if state not in STATES:
        raise InputError(f"unknown state {state!r} (known: {', '.join(STATES)})")
    name = spec(queue).name
    page = max(1, page)
    start, stop = (page - 1) * per_page, page * per_page
    ids: list[str] = []
    total = 0
    for q in rq_queues(redis, name):  # priority order: a page may span two RQ queues
        n = _count(q, state)
        ids += _ids(q, state, max(start - total, 0), min(stop - total, n))
        total += n
    jobs = [j for j in JsonJob.fetch_many(ids, connection=redis, serializer=SERIALIZER) if j is not None]
    return JobPage(name, state, total, page, per_page, [job_summary(j) for j in jobs])  # type: ignore[arg-type]


def job_page(session: Session, redis: Redis, job_id: str) -> dict[str, Any]:
    """Everything about one job, with attempts, progress and the import or receipt it works on."""
    job = fetch_job(redis, job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r} (finished jobs are kept 100 per queue, failed ones 7 days)")
    doc = job_summary(job, detail=True)
    doc["attempts"] = (job.number_of_retries or 0) + (1 if job.started_at or job.ended_at else 0)
    doc["max_retries"] = len(job.retry_intervals or [])
    doc["progress"] = (doc.get("meta") or {}).get("progress")
    doc["belongs_to"] = _belongs_to(session, redis, job_id)
    return doc


def _belongs_to(session: Session, redis: Redis, job_id: str) -> dict[str, Any] | None:
    from finjobs.db.models import Receipt

    kind, _, raw = job_id.partition("-")
    if not raw.isdigit():
        return None
    if kind == "import":
        from finjobs.services.imports import import_status

        try:
            return {"kind": "import", **import_status(session, redis, int(raw))}
        except NotFound:
            return None
    if kind == "receipt":
        receipt = session.get(Receipt, int(raw))
        if receipt is not None:
            return {
                "kind": "receipt",
                "id": receipt.id,
                "status": receipt.status,
                "merchant": receipt.merchant,
            }
    return None


@dataclass(frozen=True)
class FailedFilter:
    """Which failed jobs a bulk action takes: all given conditions must hold."""

    queue: str | None = None
    function: str = ""  # substring of the dotted function name
    error: str = ""  # substring of the traceback
    older_than: timedelta | None = None  # failed at least this long ago

    def describe(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "function": self.function,
            "error": self.error,
            "older_than_s": self.older_than.total_seconds() if self.older_than else None,
        }


def matching_failed(redis: Redis, flt: FailedFilter, *, now: datetime | None = None) -> Iterator[JsonJob]:
    """Failed jobs matching the filter, fetched 500 at a time."""
    now = now or datetime.now(UTC)
    names = [spec(flt.queue).name] if flt.queue else None
    from finjobs.queue.registry import QUEUES

    for name in names or list(QUEUES):
        for q in rq_queues(redis, name):
            ids = _registry(q, "failed").get_job_ids(cleanup=False)
            for i in range(0, len(ids), 500):
                batch = JsonJob.fetch_many(ids[i : i + 500], connection=redis, serializer=SERIALIZER)
                for job in batch:
                    if job is not None and _matches(job, flt, now):  # type: ignore[arg-type]
                        yield job  # type: ignore[misc]


def _matches(job: JsonJob, flt: FailedFilter, now: datetime) -> bool:
    if flt.function and flt.function not in (job.func_name or ""):
        return False
    if flt.older_than is not None:
        ended = job.ended_at
        if ended is None:
            return False
        ended = ended if ended.tzinfo else ended.replace(tzinfo=UTC)
        if now - ended < flt.older_than:
            return False
    if flt.error:
        result = job.latest_result()
        text = (result.exc_string if result is not None else "") or ""
        if flt.error.lower() not in text.lower():
            return False
    return True


def replay_jobs(session: Session, redis: Redis, who: OperatorInfo, job_ids: list[str]) -> list[str]:
    done = replay(redis, job_ids)
    record(session, who.name, "job.replay", ",".join(done)[:500], {"count": len(done)})
    return done


def replay_failed(session: Session, redis: Redis, who: OperatorInfo, flt: FailedFilter) -> list[str]:
    ids = [job.id for job in matching_failed(redis, flt)]
    done = replay(redis, ids) if ids else []
    record(session, who.name, "failed.replay", flt.queue or "*", {**flt.describe(), "count": len(done)})
    return done


def delete_failed(session: Session, redis: Redis, who: OperatorInfo, flt: FailedFilter) -> int:
    deleted = 0
    for job in list(matching_failed(redis, flt)):
        FailedJobRegistry(queue=JsonQueue(job.origin, connection=redis)).remove(job, delete_job=True)
        deleted += 1
    record(session, who.name, "failed.delete", flt.queue or "*", {**flt.describe(), "count": deleted})
    return deleted


def pause_queue(session: Session, redis: Redis, who: OperatorInfo, queue: str, *, paused: bool) -> bool:
    name = spec(queue).name
    changed = set_paused(redis, name, paused)
    record(session, who.name, "queue.pause" if paused else "queue.resume", name, {"changed": changed})
    return changed


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    hostname: str
    pid: int | None
    queues: list[str]
    state: str
    current_job: str | None
    since: datetime | None  # when it started its current job, else when it was born
    birth: datetime | None = field(default=None)


def workers(redis: Redis) -> list[WorkerInfo]:
    out = []
    for w in Worker.all(connection=redis):
        job_id = w.get_current_job_id()
        started = None
        if job_id:
            job = fetch_job(redis, job_id)
            started = job.started_at if job is not None else None
        out.append(
            WorkerInfo(
                name=w.name,
                hostname=w.hostname or "",
                pid=w.pid,
                queues=sorted({spec(n).name for n in w.queue_names() if _known(n)}),
                state=str(w.get_state()),
                current_job=job_id,
                since=started or w.birth_date,
                birth=w.birth_date,
            )
        )
    return sorted(out, key=lambda w: (w.queues, w.name))


def _known(rq_name: str) -> bool:
    try:
        spec(rq_name)
    except InputError:
        return False
    return True


def schedule_table(db_url: str, tz: tzinfo, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each schedule slot: cron, what it means, its last ledger run and its next slot."""
    from finjobs.schedule import SCHEDULES
    from finjobs.services.scheduling import describe, last_runs, next_slots

    now = now or datetime.now(UTC)
    last = last_runs(db_url, [s.name for s in SCHEDULES])
    rows = []
    for s in SCHEDULES:
        upcoming = next_slots(s.cron, tz, now, count=1)
        rows.append(
            {
                "name": s.name,
                "cron": s.cron,
                "when": describe(s.cron),
                "queue": s.queue,
                "last": last.get(s.name),
                "next": upcoming[0].isoformat() if upcoming else None,
            }
        )
    return rows


def recent_imports(session: Session, redis: Redis, *, limit: int = 10) -> list[dict[str, Any]]:
    """The newest imports of any user with live progress (the same read as `finjobs import status`)."""
    from sqlalchemy import select

    from finjobs.db.models import CsvImportLog
    from finjobs.services.imports import import_status

    ids = session.scalars(select(CsvImportLog.id).order_by(CsvImportLog.id.desc()).limit(limit)).all()
    return [import_status(session, redis, i) for i in ids]
