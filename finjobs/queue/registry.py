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
    # RQ has no numeric priorities; a queue with levels is several RQ queues drained in this order.
    # Single-level queues keep one RQ queue, so their workers get RQ's reliable (BLMOVE) dequeue.
    priorities: tuple[str, ...] = ("normal",)

    def rq_name(self, priority: str = "normal") -> str:
        if priority not in self.priorities:
            from finjobs.errors import InputError

            raise InputError(
                f"queue {self.name} has no priority {priority!r} (has {', '.join(self.priorities)})"
            )
        return self.name if priority == "normal" else f"{self.name}-{priority}"

    @property
    def rq_names(self) -> list[str]:
        """The RQ queues behind this queue, highest priority first (the order workers drain them)."""
        return [self.rq_name(p) for p in self.priorities]


QUEUES: dict[str, QueueSpec] = {
    spec.name: spec
    for spec in (
        QueueSpec("csv-import", 3, "bank CSV import", 30 * 60),
        QueueSpec("ocr-processing", 2, "receipt OCR", 5 * 60, ("finjobs.adapters.ocr",)),
        QueueSpec(
            "forecast-compute",
            1,
            "spending forecasts",
            30 * 60,
            ("finjobs.adapters.prophet_model", "finjobs.jobs.forecasts"),
            priorities=("high", "normal", "low"),
        ),
        QueueSpec("budget-evaluation", 5, "daily budget check", 30 * 60),
        QueueSpec("insight-generation", 3, "daily insight rules", 30 * 60),
        QueueSpec("notification", 2, "insight delivery", 5 * 60),
        QueueSpec("data-cleanup", 1, "weekly purge", 30 * 60),
    )
}


# RQ queue name -> the finjobs queue it belongs to
_BY_RQ_NAME = {rq: s for s in QUEUES.values() for rq in s.rq_names}


def spec(name: str) -> QueueSpec:
    """The queue spec for a finjobs queue name (or one of its RQ priority queues)."""
    from finjobs.errors import InputError

    try:
        return _BY_RQ_NAME[name]
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
        # RQ's own constructors (e.g. Queue.from_queue_key) pass serializer=None explicitly
        if kwargs.get("serializer") is None:
            kwargs["serializer"] = SERIALIZER
        if kwargs.get("job_class") is None:
            kwargs["job_class"] = JsonJob
        if name in _BY_RQ_NAME:
            kwargs.setdefault("default_timeout", _BY_RQ_NAME[name].job_timeout)
        super().__init__(name, connection=connection, **kwargs)


def get_queue(connection: Redis, name: str, priority: str = "normal") -> JsonQueue:
    return JsonQueue(spec(name).rq_name(priority), connection=connection)


def rq_queues(connection: Redis, name: str) -> list[JsonQueue]:
    """Every RQ queue behind a finjobs queue, highest priority first."""
    return [JsonQueue(n, connection=connection) for n in spec(name).rq_names]


def fetch_job(connection: Redis, job_id: str) -> JsonJob | None:
    from rq.exceptions import NoSuchJobError

    try:
        job = JsonJob.fetch(job_id, connection=connection, serializer=SERIALIZER)
    except NoSuchJobError:
        return None
    assert isinstance(job, JsonJob)
    return job


def all_queues(connection: Redis) -> list[JsonQueue]:
    return [q for name in QUEUES for q in rq_queues(connection, name)]
