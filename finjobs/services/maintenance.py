"""Enqueue maintenance work (cleanup). The id is per UTC day: a second request that day while the
first is still queued returns the same job."""

from __future__ import annotations

from redis import Redis

from finjobs.db.models import utcnow
from finjobs.queue.catalogue import CLEANUP
from finjobs.queue.enqueue import enqueue_job
from finjobs.queue.registry import JsonJob


def enqueue_cleanup(redis: Redis) -> JsonJob:
    return enqueue_job(
        redis,
        CLEANUP,
        job_id=CLEANUP.job_id(day=utcnow()),
        description="data cleanup",
    )
