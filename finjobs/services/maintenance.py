"""Enqueue maintenance work (cleanup). The id is per UTC day: a second request that day while the
first is still queued returns the same job."""

from __future__ import annotations

from redis import Redis

from finjobs.db.models import utcnow
from finjobs.queue.enqueue import enqueue
from finjobs.queue.registry import JsonJob


def enqueue_cleanup(redis: Redis) -> JsonJob:
    return enqueue(
        redis,
        "data-cleanup",
        "finjobs.jobs.maintenance.cleanup",
        job_id=f"cleanup-{utcnow():%Y%m%d}",
        description="data cleanup",
    )
