"""The finjobs worker: RQ's HerokuWorker (SIGTERM-safe) plus count-based trimming of finished jobs,
run as a pool of forked processes with heavy modules preloaded once in the parent.

Running jobs carry a short lease (heartbeat every 5 s, lease 15 s) so `finjobs scheduler` can re-queue
the job of a worker that died (SIGKILL, OOM, lost dyno) within seconds instead of RQ's minutes.
Workers honour a per-queue pause (finjobs.queue.pause) and count every attempt's outcome and run time
into Redis (finjobs.services.metrics) for /metrics and the console.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from redis import Redis
from rq.exceptions import StopRequested
from rq.registry import FinishedJobRegistry
from rq.utils import now
from rq.worker import HerokuWorker, SimpleWorker
from rq.worker_pool import WorkerPool

from finjobs.queue.pause import paused_queues
from finjobs.queue.registry import FINISHED_KEEP, QUEUES, SERIALIZER, JsonJob, JsonQueue, spec

log = logging.getLogger(__name__)

JOB_HEARTBEAT_INTERVAL = 5  # seconds between a running job's heartbeats (RQ: 30)
JOB_LEASE_MARGIN = 10  # a started job's lease outlives its last heartbeat by this much (RQ: 60)
WORKER_TTL = 60  # an idle worker refreshes its key every WORKER_TTL - 15 s; a dead one vanishes soon
# without `finjobs scheduler`, workers' own registry cleanup is the fallback: every minute, not RQ's 10
MAINTENANCE_INTERVAL = 60


def shutdown_grace(environ: Mapping[str, str] | None = None) -> int:
    """FINJOBS_SHUTDOWN_GRACE (Settings, default 25 s). Read when a worker starts: RQ's WorkerPool
    builds workers with fixed arguments, so the worker fetches its own setting."""
    from finjobs.config import Settings

    return Settings.from_env(environ).shutdown_grace


def trim_finished(queue: JsonQueue, keep: int = FINISHED_KEEP) -> int:
    """Delete all but the newest `keep` finished jobs of a queue; returns how many went."""
    registry = FinishedJobRegistry(queue=queue)
    # Scores are expiry times; every finjobs job has the same result TTL, so score order is finish order.
    old = queue.connection.zrange(registry.key, 0, -(keep + 1))
    for raw in old:
        job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        registry.remove(job_id, delete_job=True)
    return len(old)


class TrimFinishedMixin:
    """Keeps the newest FINISHED_KEEP finished jobs per queue after every success."""

    def handle_job_success(self, job: Any, queue: Any, started_job_registry: Any, execution: Any) -> None:
        super().handle_job_success(job, queue, started_job_registry, execution)  # type: ignore[misc]
        trim_finished(queue)


IDLE_DEQUEUE_TIMEOUT = 5
PAUSE_POLL = 1  # seconds between pause checks of a worker whose queues are all paused


def _record(worker: Any, job: Any, outcome: str) -> None:
    """Count one attempt into Redis; a metrics hiccup must never fail the job itself."""
    from finjobs.services.metrics import record_job

    try:
        started = job.started_at
        duration = (now() - started).total_seconds() if started is not None else 0.0
        record_job(worker.connection, spec(job.origin).name, job.func_name, outcome, max(duration, 0.0))
    except Exception:  # a metric lost is better than a job failed by its bookkeeping
        log.exception("could not record metrics for job %s", job.id)


class QueueControlMixin:
    """Per-queue pause and metrics for any RQ worker class.

    Pause: before each dequeue the worker drops paused queues from what it listens to; with all of
    them paused it idles (heartbeating) until one resumes, or in burst mode stops as if they were
    empty. A job dequeued in the instant a pause lands is handed back to the front of its queue."""

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        me: Any = self
        while True:
            paused = paused_queues(me.connection)
            listening = [q for q in me.queues if spec(q.name).name not in paused]
            if not listening:
                if timeout is None:
                    return None
                if me._stop_requested:
                    raise StopRequested()
                me.heartbeat()
                me.procline("paused: " + ",".join(sorted(paused)))
                time.sleep(PAUSE_POLL)
                continue
            me._ordered_queues = listening
            try:
                # while some queue is paused, return every few seconds to notice it resume
                idle = max_idle_time if not paused or timeout is None else IDLE_DEQUEUE_TIMEOUT
                result = super().dequeue_job_and_maintain_ttl(timeout, idle)  # type: ignore[misc]
            finally:
                me._ordered_queues = me.queues[:]
            if result is None:
                if timeout is None or not paused or max_idle_time is not None:
                    return None
                continue
            job, queue = result
            if spec(queue.name).name not in paused_queues(me.connection):
                return result
            self._hand_back(job, queue)

    def _hand_back(self, job: Any, queue: Any) -> None:
        with queue.connection.pipeline() as pipe:
            pipe.lrem(queue.intermediate_queue_key, 1, job.id)
            queue.push_job_id(job.id, pipeline=pipe, at_front=True)
            pipe.execute()

    def handle_job_success(self, job: Any, queue: Any, started_job_registry: Any, execution: Any) -> None:
        _record(self, job, "success")
        super().handle_job_success(job, queue, started_job_registry, execution)  # type: ignore[misc]

    def handle_job_failure(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> None:
        stopped = getattr(self, "_stopped_job_id", None) == job.id  # RQ marks it STOPPED, never retries
        _record(self, job, "stopped" if stopped else "retried" if job.should_retry else "failed")
        super().handle_job_failure(job, queue, *args, **kwargs)  # type: ignore[misc]


class FinjobsWorker(QueueControlMixin, TrimFinishedMixin, HerokuWorker):
    """On SIGTERM: take no new job; the running job gets ~25 s to finish (Heroku kills at 30 s), then
    ShutDownImminentException aborts it, its transaction rolls back, and its retry re-queues it.
    A running job's lease is short (see JOB_HEARTBEAT_INTERVAL) so a dead worker is noticed fast."""

    imminent_shutdown_delay = 25  # replaced in __init__ by the FINJOBS_SHUTDOWN_GRACE setting

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # RQ's WorkerPool builds workers with fixed arguments: the defaults are set here
        kwargs.setdefault("job_monitoring_interval", JOB_HEARTBEAT_INTERVAL)
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL)
        super().__init__(*args, **kwargs)
        self.imminent_shutdown_delay = shutdown_grace()

    @property
    def dequeue_timeout(self) -> int:
        """Seconds one blocking dequeue waits. Short on purpose: a process signal may be delivered to
        the pubsub thread, and the main thread only runs the SIGTERM handler once its blocking read
        returns. RQ waits worker_ttl - 15 s (45 s here), so an idle worker would ignore SIGTERM past
        Heroku's 30 s; 5 s keeps shutdown prompt for one cheap BLMOVE per idle worker every 5 s."""
        return IDLE_DEQUEUE_TIMEOUT

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        """The started-registry lease: next heartbeat + margin (RQ adds 60 s, too slow to notice a
        dead worker). Never below the margin, even past the job's timeout."""
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = max(1, int(min(job.timeout - working_time, interval)))
        return int(interval) + JOB_LEASE_MARGIN


class FinjobsSimpleWorker(QueueControlMixin, TrimFinishedMixin, SimpleWorker):
    """Runs jobs in-process (no fork): tests, and debugging with a debugger attached."""


def simple_worker(connection: Redis, queue_names: list[str]) -> FinjobsSimpleWorker:
    """In-process worker over finjobs queues (each expanded to its RQ priority queues, in order)."""
    queues = [JsonQueue(rq, connection=connection) for name in queue_names for rq in spec(name).rq_names]
    return FinjobsSimpleWorker(
        queues, connection=connection, serializer=SERIALIZER, job_class=JsonJob, queue_class=JsonQueue
    )


def preload(queue_names: list[str]) -> list[str]:
    """Import heavy modules once in the parent so forked work horses share them (copy-on-write)."""
    loaded = []
    for name in queue_names:
        for module in QUEUES[name].preload:
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                continue  # adapter not built yet: nothing to preload
            hook = getattr(mod, "preload", None)
            if callable(hook):
                hook()
            loaded.append(module)
    return loaded


class SlotPool(WorkerPool):
    """RQ's WorkerPool with a fixed number of worker processes per finjobs queue, each listening only to
    that queue's RQ queues (priority order): per-queue concurrency holds exactly, and a single-level
    queue's workers listen to one RQ queue, which gets RQ's reliable (BLMOVE) dequeue."""

    def __init__(self, slots: dict[str, int], connection: Redis, **kwargs: Any) -> None:
        super().__init__(list(slots), connection=connection, num_workers=sum(slots.values()), **kwargs)
        self.slots = dict(slots)
        self.assignment: dict[str, str] = {}  # worker name -> queue name
        self._all_queue_names = list(slots)

    def _start_for(self, queue_name: str, burst: bool, logging_level: str = "INFO") -> None:
        before = set(self.worker_dict)
        self._queue_names = spec(queue_name).rq_names
        try:
            self.start_worker(burst=burst, logging_level=logging_level)
        finally:
            self._queue_names = self._all_queue_names
        for name in set(self.worker_dict) - before:
            self.assignment[name] = queue_name

    def start_workers(self, burst: bool = True, _sleep: float = 0, logging_level: str = "INFO") -> None:
        self._logging_level = logging_level
        for queue_name, count in self.slots.items():
            for _ in range(count):
                self._start_for(queue_name, burst, logging_level)

    def check_workers(self, respawn: bool = True) -> None:
        self.reap_workers()  # type: ignore[no-untyped-call]
        if not respawn or self.status == self.Status.STOPPED:
            return
        alive: dict[str, int] = dict.fromkeys(self.slots, 0)
        for name in self.worker_dict:
            alive[self.assignment[name]] += 1
        for queue_name, count in self.slots.items():
            for _ in range(count - alive[queue_name]):
                log.warning("respawning a worker for %s", queue_name)
                self._start_for(queue_name, self._burst, getattr(self, "_logging_level", "INFO"))


def run_pool(
    connection: Redis,
    slots: dict[str, int],
    *,
    burst: bool = False,
    logging_level: str = "INFO",
) -> None:
    """Run the workers (`slots`: queue name -> processes) until SIGTERM/SIGINT, or until empty in burst."""
    loaded = preload(list(slots))
    if loaded:
        log.info("preloaded %s", ", ".join(loaded))
    pool = SlotPool(
        slots,
        connection,
        worker_class=FinjobsWorker,
        serializer=SERIALIZER,
        job_class=JsonJob,
        queue_class=JsonQueue,
    )
    pool.start(burst=burst, logging_level=logging_level)
