"""Enqueue a finjobs job with the shared policy: retries at 5/15/45 s, result and failure TTLs.

Deterministic job ids make enqueueing idempotent: while a job with that id is queued, scheduled or
running, enqueueing it again returns the existing job instead of a second copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from redis import Redis
from rq import Retry
from rq.job import JobStatus

from finjobs.queue.catalogue import JobKind
from finjobs.queue.registry import FAILURE_TTL, RESULT_TTL, RETRY_INTERVALS, JsonJob, fetch_job, get_queue

_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def enqueue(
    connection: Redis,
    queue_name: str,
    func: str,
    *args: Any,
    job_id: str | None = None,
    description: str | None = None,
    meta: dict[str, Any] | None = None,
    retry_intervals: Sequence[int] = RETRY_INTERVALS,
    at_front: bool = False,
    priority: str = "normal",
    **kwargs: Any,
) -> JsonJob:
    """Put `func` (a dotted path into finjobs.jobs) on a queue. Args must be JSON primitives.
    `priority` picks one of the queue's levels (forecast-compute: high > normal > low)."""
    if job_id is not None:
        if not _JOB_ID.match(job_id):
            raise ValueError(f"job id {job_id!r} must match [A-Za-z0-9_-]+")
        existing = fetch_job(connection, job_id)
        if existing is not None and existing.get_status() in _LIVE:
            return existing
    queue = get_queue(connection, queue_name, priority)
    retry = Retry(max=len(retry_intervals), interval=list(retry_intervals)) if retry_intervals else None
    job = queue.enqueue(
        func,
        args=args,
        kwargs=kwargs,
        job_id=job_id,
        description=description,
        meta=meta or {},
        retry=retry,
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        at_front=at_front,
    )
    assert isinstance(job, JsonJob)
    return job


def enqueue_job(connection: Redis, kind: JobKind, *args: Any, **kwargs: Any) -> JsonJob:
    """`enqueue` for a catalogued job: its queue and path come from finjobs.queue.catalogue."""
    return enqueue(connection, kind.queue, kind.path, *args, **kwargs)
