"""Queue status, failed-job listing, job details and replay: what `finjobs status` / `jobs` show."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Worker
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from finjobs.errors import InputError, NotFound
from finjobs.queue.registry import QUEUES, JsonJob, JsonQueue, fetch_job, rq_queues


@dataclass(frozen=True)
class QueueStats:
    name: str
    concurrency: int
    waiting: int
    active: int
    scheduled: int  # delayed: retries waiting for their backoff, jobs enqueued for later
    failed: int
    finished: int
    workers: int
    paused: bool = False  # `finjobs queues pause`: its workers take no new job
    oldest_age: float | None = None  # seconds the oldest waiting job has waited

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def by_state(self) -> dict[str, int]:
        return {
            "waiting": self.waiting,
            "active": self.active,
            "delayed": self.scheduled,
            "failed": self.failed,
            "finished": self.finished,
        }


def oldest_waiting_age(redis: Redis, queues: list[JsonQueue], now: datetime | None = None) -> float | None:
    """Seconds since the job at the head of any of these RQ queues was enqueued (None when empty)."""
    now = now or datetime.now(UTC)
    ages = []
    for q in queues:
        head = q.get_job_ids(0, 1)
        job = fetch_job(redis, head[0]) if head else None
        if job is not None and job.enqueued_at is not None:
            enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=UTC)
            ages.append(max((now - enqueued).total_seconds(), 0.0))
    return max(ages) if ages else None


def queue_stats(redis: Redis, names: list[str] | None = None) -> list[QueueStats]:
    """Cheap counts only (list and sorted-set lengths): fast whatever a queue holds."""
    from finjobs.queue.pause import paused_queues

    paused = paused_queues(redis)
    stats = []
    for name in names or list(QUEUES):
        qs = rq_queues(redis, name)
        workers = {w.name for q in qs for w in Worker.all(queue=q)}
        stats.append(
            QueueStats(
                name=name,
                concurrency=QUEUES[name].concurrency,
                waiting=sum(int(q.count) for q in qs),
                active=sum(StartedJobRegistry(queue=q).count for q in qs),
                scheduled=sum(int(ScheduledJobRegistry(queue=q).count) for q in qs),  # type: ignore[no-untyped-call,misc]
                failed=sum(FailedJobRegistry(queue=q).count for q in qs),
                finished=sum(FinishedJobRegistry(queue=q).count for q in qs),
                workers=len(workers),
                paused=name in paused,
                oldest_age=oldest_waiting_age(redis, qs),
            )
        )
    return stats


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def job_summary(job: JsonJob, *, detail: bool = False) -> dict[str, Any]:
    status = job.get_status(refresh=False)
    out: dict[str, Any] = {
        "id": job.id,
        "queue": job.origin,
        "func": job.func_name,
        "status": str(status.value if hasattr(status, "value") else status),
        "enqueued_at": _iso(job.enqueued_at),
        "ended_at": _iso(job.ended_at),
        "retries_left": job.retries_left,
        "description": job.description,
    }
    result = job.latest_result()
    if result is not None and result.exc_string:
        lines = result.exc_string.strip().splitlines()
        out["error"] = lines[-1] if lines else ""
        if detail:
            out["traceback"] = result.exc_string
    if detail:
        out.update(
            args=list(job.args),
            kwargs=dict(job.kwargs),
            started_at=_iso(job.started_at),
            created_at=_iso(job.created_at),
            meta=job.get_meta(refresh=False),
            result=job.return_value() if status == "finished" else None,
        )
    return out


def failed_jobs(redis: Redis, queue: str | None = None) -> list[dict[str, Any]]:
    out = []
    queues = rq_queues(redis, queue) if queue else [q for n in QUEUES for q in rq_queues(redis, n)]
    for q in queues:
        for job_id in FailedJobRegistry(queue=q).get_job_ids():
            job = fetch_job(redis, job_id)
            if job is not None:
                out.append(job_summary(job))
    return out


def show_job(redis: Redis, job_id: str) -> dict[str, Any]:
    job = fetch_job(redis, job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r} (finished jobs are kept 100 per queue, failed ones 7 days)")
    return job_summary(job, detail=True)


def replay(redis: Redis, job_ids: list[str]) -> list[str]:
    """Requeue failed jobs with their full retry policy restored (a replay is a fresh start, as Sidekiq's)."""
    replayed = []
    for job_id in job_ids:
        job = fetch_job(redis, job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        registry = FailedJobRegistry(queue=JsonQueue(job.origin, connection=redis))
        if job_id not in registry:
            raise InputError(f"job {job_id} is not in the failed registry (status {job.get_status()})")
        if job.retry_intervals:
            job.retries_left = len(job.retry_intervals)
            job.save()
        registry.requeue(job)
        replayed.append(job_id)
    return replayed


def replay_queue(redis: Redis, queue: str) -> list[str]:
    ids = [i for q in rq_queues(redis, queue) for i in FailedJobRegistry(queue=q).get_job_ids()]
    return replay(redis, ids)
