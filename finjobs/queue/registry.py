"""THE queue registry: the seven queues, their concurrency and the job policy every queue shares.

Also builds RQ Queue objects with the JSON serializer: nothing finjobs enqueues or reads is pickle,
so a write to Redis can never become code execution in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

RETRY_INTERVALS: tuple[int, ...] = (5, 15, 45)  # seconds before retry 1, 2, 3
FAILURE_TTL = 7 * 24 * 3600  # failed jobs stay 7 days for `finjobs jobs replay`
FINISHED_KEEP = 100  # finished jobs kept per queue, newest first (count-based, like BullMQ)
# RQ expires results by age only; the count trim does the real work, this just bounds an idle queue.
RESULT_TTL = 30 * 24 * 3600
SERIALIZER = JSONSerializer


@dataclass(frozen=True)
class QueueSpec:
    name: str
    concurrency: int
    description: str
    job_timeout: int  # seconds a single job may run before RQ kills it
    preload: tuple[str, ...] = ()  # heavy modules imported once in the worker's parent process


QUEUES: dict[str, QueueSpec] = {
    spec.name: spec
    for spec in (
        QueueSpec("csv-import", 3, "bank CSV import", 30 * 60),
        QueueSpec("ocr-processing", 2, "receipt OCR", 5 * 60, ("finjobs.adapters.ocr",)),
        QueueSpec("forecast-compute", 1, "spending forecasts", 30 * 60, ("finjobs.adapters.prophet_model",)),
        QueueSpec("budget-evaluation", 5, "daily budget check", 30 * 60),
        QueueSpec("insight-generation", 3, "daily insight rules", 30 * 60),
        QueueSpec("notification", 2, "insight delivery", 5 * 60),
        QueueSpec("data-cleanup", 1, "weekly purge", 30 * 60),
    )
}


def spec(name: str) -> QueueSpec:
    from finjobs.errors import InputError

    try:
        return QUEUES[name]
    except KeyError:
        known = ", ".join(QUEUES)
        raise InputError(f"unknown queue {name!r} (known: {known})") from None


class JsonJob(Job):
    """An RQ Job that reads and writes JSON unless told otherwise (RQ's own default is pickle)."""

    def __init__(self, id: str | None = None, connection: Redis | None = None, serializer: Any = None):
        super().__init__(id, connection=connection, serializer=serializer or SERIALIZER)


class JsonQueue(Queue):
    """An RQ Queue whose jobs are JsonJobs serialised as JSON, however RQ internals construct it."""

    def __init__(self, name: str = "default", connection: Redis | None = None, **kwargs: Any):
        kwargs.setdefault("serializer", SERIALIZER)
        kwargs.setdefault("job_class", JsonJob)
        if name in QUEUES:
            kwargs.setdefault("default_timeout", QUEUES[name].job_timeout)
        super().__init__(name, connection=connection, **kwargs)


def get_queue(connection: Redis, name: str) -> JsonQueue:
    return JsonQueue(spec(name).name, connection=connection)


def fetch_job(connection: Redis, job_id: str) -> JsonJob | None:
    from rq.exceptions import NoSuchJobError

    try:
        return JsonJob.fetch(job_id, connection=connection, serializer=SERIALIZER)
    except NoSuchJobError:
        return None


def all_queues(connection: Redis) -> list[JsonQueue]:
    return [get_queue(connection, name) for name in QUEUES]
