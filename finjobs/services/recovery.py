"""Recovery passes run by `finjobs scheduler` (and `finjobs reconcile`): re-queue jobs of dead workers
within seconds, move due retries when no worker holds RQ's scheduler lock, and re-enqueue accepted
imports/receipts that Redis lost. Touches Redis; reconcile_accepted also reads the database.

Why this is fast: FinjobsWorker heartbeats a running job every 5 s with a 15 s lease (RQ's default
lease is 90 s and its own cleanup runs every 10 minutes). A lease that expired means the worker
process died; this pass then re-queues the job at the front of its queue at once, counting one retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from rq.job import JobStatus
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def requeue_abandoned(redis: Redis, *, timestamp: float | None = None) -> list[str]:
    """Jobs whose started-lease expired (their worker died): re-queued at the front now if they have
    retries left (one is used), else failed the way RQ does. Returns the re-queued job ids.
    Holds each queue's RQ maintenance lock, so it never races a worker's own registry cleanup."""
    from rq.registry import StartedJobRegistry
    from rq.utils import current_timestamp

    from finjobs.queue.registry import SERIALIZER, JsonJob, all_queues, fetch_job

    requeued: list[str] = []
    for queue in all_queues(redis):
        registry = StartedJobRegistry(queue=queue, job_class=JsonJob, serializer=SERIALIZER)
        score = timestamp if timestamp is not None else current_timestamp()
        if not redis.zcount(registry.key, 0, score):
            continue
        if not queue.acquire_maintenance_lock():
            continue
        try:
            for raw in redis.zrangebyscore(registry.key, 0, score):
                member = raw.decode() if isinstance(raw, bytes) else str(raw)
                job_id = registry.parse_job_id(member)
                job = fetch_job(redis, job_id)
                if job is None or job.get_status() != JobStatus.STARTED or not (job.retries_left or 0) > 0:
                    continue  # leftovers and jobs without retries: RQ's cleanup below handles them
                with redis.pipeline() as pipe:
                    pipe.multi()  # one transaction: off the started registry and back on the queue
                    pipe.zrem(registry.key, member)
                    job.retries_left = (job.retries_left or 0) - 1
                    queue.enqueue_job(job, pipeline=pipe, at_front=True)
                    pipe.execute()
                log.warning("job %s: its worker died; re-queued (%s retries left)", job_id, job.retries_left)
                requeued.append(job_id)
            registry.cleanup(score)  # the rest: failed (AbandonedJobError) or stale entries dropped
        finally:
            queue.release_maintenance_lock()  # type: ignore[no-untyped-call]
    return requeued


def enqueue_due_retries(redis: Redis, scheduler: Any = None) -> Any:
    """Move due scheduled jobs (retries) to their queues for every queue whose RQ scheduler lock is
    free: a SIGKILLed worker's lock lapses after ~60 s, but a live worker only re-tries to take it
    every 10 minutes. Uses RQ's own lock, so it never doubles a live worker's scheduler.
    Pass back the returned scheduler on the next call to reuse its connection."""
    from rq.scheduler import RQScheduler

    from finjobs.queue.registry import SERIALIZER, all_queues

    if scheduler is None:
        names = [q.name for q in all_queues(redis)]
        # WARNING: it would log every lock it takes, i.e. every pass
        scheduler = RQScheduler(names, connection=redis, serializer=SERIALIZER, logging_level="WARNING")
    if scheduler.acquire_locks():
        try:
            scheduler.enqueue_scheduled_jobs()
        finally:
            scheduler.release_locks()
    return scheduler


@dataclass
class ReconcileReport:
    imports: list[int] = field(default_factory=list)  # re-enqueued import ids
    receipts: list[int] = field(default_factory=list)  # re-enqueued receipt ids
    live: int = 0  # rows whose job is queued/started/scheduled/deferred: left alone
    failed: list[str] = field(default_factory=list)  # job ids in the failed registry: for `jobs replay`

    def to_dict(self) -> dict[str, Any]:
        return {"imports": self.imports, "receipts": self.receipts, "live": self.live, "failed": self.failed}


def reconcile_accepted(session: Session, redis: Redis) -> ReconcileReport:
    """Every import/receipt the database has accepted (accepted or running) gets a live job: if Redis
    has none under its fixed id (restart, flush), it is enqueued again. A job that failed for good is
    left in the failed registry (replaying it is a decision, re-enqueueing it every minute is a loop)."""
    from sqlalchemy import select

    from finjobs.db.models import CsvImportLog, Receipt
    from finjobs.queue.catalogue import IMPORT, RECEIPT_SCAN
    from finjobs.queue.enqueue import enqueue_job
    from finjobs.queue.registry import fetch_job

    report = ReconcileReport()
    kinds = (
        (CsvImportLog, IMPORT, "import_id", report.imports),
        (Receipt, RECEIPT_SCAN, "receipt_id", report.receipts),
    )
    for model, kind, id_field, out in kinds:
        ids = session.scalars(
            select(model.id).where(model.status.in_(("accepted", "running"))).order_by(model.id)
        ).all()
        for row_id in ids:
            job_id = kind.job_id(**{id_field: row_id})
            job = fetch_job(redis, job_id)
            status = job.get_status() if job is not None else None
            if status in _LIVE:
                report.live += 1
            elif status == JobStatus.FAILED:
                report.failed.append(job_id)
            else:
                enqueue_job(redis, kind, row_id, job_id=job_id)
                out.append(row_id)
    if report.imports or report.receipts:
        log.warning("reconcile re-enqueued imports %s, receipts %s", report.imports, report.receipts)
    return report
