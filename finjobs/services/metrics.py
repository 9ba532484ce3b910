"""Job metrics kept in Redis (so they survive restarts and sum across hosts) and the Prometheus
exposition of them and of the live queue figures. Workers call record_job; /metrics calls render.

Redis layout, under STATE_PREFIX (the weekly sweep of TTL-less cache keys leaves it alone): one hash of
outcome counters, one hash of duration histogram buckets (per-bucket counts, cumulated on read), and
per-queue per-minute completion counters that expire after 25 h.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from finjobs.queue.keys import STATE_PREFIX

COUNTS_KEY = STATE_PREFIX + "metrics:jobs_total"
DURATION_KEY = STATE_PREFIX + "metrics:job_duration"
MINUTE_KEY = STATE_PREFIX + "metrics:minute:{queue}:{minute}"
MINUTE_TTL = 25 * 3600
# seconds; finjobs jobs run from milliseconds (a budget check) to half an hour (a big import)
BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, math.inf)
OUTCOMES = ("success", "retried", "failed", "stopped")


def _field(*parts: str) -> str:
    return json.dumps(list(parts))


def record_job(
    redis: Redis, queue: str, function: str, outcome: str, duration: float, *, at: float | None = None
) -> None:
    """Count one finished attempt of a job (outcome: success, retried, failed for good, or stopped on
    request) and its duration, in one round trip."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES} (got {outcome!r})")
    bucket = next(i for i, bound in enumerate(BUCKETS) if duration <= bound)
    minute = int((at if at is not None else time.time()) // 60)
    minute_key = MINUTE_KEY.format(queue=queue, minute=minute)
    with redis.pipeline(transaction=False) as pipe:
        pipe.hincrby(COUNTS_KEY, _field(queue, function, outcome), 1)
        pipe.hincrby(DURATION_KEY, _field(queue, function, str(bucket)), 1)
        pipe.hincrbyfloat(DURATION_KEY, _field(queue, function, "sum"), duration)
        pipe.incr(minute_key)
        pipe.expire(minute_key, MINUTE_TTL)
        pipe.execute()


def _decoded(raw: dict[Any, Any]) -> Iterator[tuple[list[str], str]]:
    for key, value in raw.items():
        text = key.decode() if isinstance(key, bytes) else str(key)
        yield json.loads(text), value.decode() if isinstance(value, bytes) else str(value)


def job_counts(redis: Redis) -> dict[tuple[str, str, str], int]:
    """(queue, function, outcome) -> attempts counted since metrics began."""
    return {(q, f, o): int(v) for (q, f, o), v in _decoded(redis.hgetall(COUNTS_KEY))}


@dataclass(frozen=True)
class Histogram:
    queue: str
    function: str
    buckets: list[tuple[float, int]]  # (upper bound, cumulative count), ending with +Inf
    total: float

    @property
    def count(self) -> int:
        return self.buckets[-1][1]


def durations(redis: Redis) -> list[Histogram]:
    per: dict[tuple[str, str], list[int]] = {}
    sums: dict[tuple[str, str], float] = {}
    for (queue, function, part), value in _decoded(redis.hgetall(DURATION_KEY)):
        counts = per.setdefault((queue, function), [0] * len(BUCKETS))
        if part == "sum":
            sums[(queue, function)] = float(value)
        else:
            counts[int(part)] += int(value)
    out = []
    for (queue, function), counts in sorted(per.items()):
        running, cumulative = 0, []
        for bound, n in zip(BUCKETS, counts, strict=True):
            running += n
            cumulative.append((bound, running))
        out.append(Histogram(queue, function, cumulative, sums.get((queue, function), 0.0)))
    return out


def throughput(
    redis: Redis, queues: Iterable[str], *, minutes: int = 24 * 60, now: float | None = None
) -> dict[str, list[int]]:
    """Per queue, jobs finished (any outcome) in each of the last `minutes` minutes, oldest first."""
    last = int((now if now is not None else time.time()) // 60)
    span = range(last - minutes + 1, last + 1)
    names = list(queues)
    keys = [MINUTE_KEY.format(queue=q, minute=m) for q in names for m in span]
    values = redis.mget(keys) if keys else []
    out: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        chunk = values[i * minutes : (i + 1) * minutes]
        out[name] = [int(v) if v is not None else 0 for v in chunk]
    return out


def schedule_last_success(db_url: str) -> dict[str, datetime]:
    """Newest slot per schedule whose ledger row is done."""
    from sqlalchemy import func, select

    from finjobs.db.engine import session_scope
    from finjobs.db.models import ScheduleRun

    with session_scope(db_url) as session:
        rows = session.execute(
            select(ScheduleRun.schedule, func.max(ScheduleRun.slot))
            .where(ScheduleRun.status == "done")
            .group_by(ScheduleRun.schedule)
        ).all()
    out = {}
    for name, slot in rows:
        if isinstance(slot, str):  # func.max bypasses the column type on SQLite
            slot = datetime.fromisoformat(slot)
        out[str(name)] = slot if slot.tzinfo else slot.replace(tzinfo=UTC)
    return out


def import_rows_per_second(db_url: str, *, window: timedelta = timedelta(hours=1)) -> float:
    """Rows processed per second of import run time, over imports finished in the last `window`."""
    from sqlalchemy import select

    from finjobs.db.engine import session_scope
    from finjobs.db.models import CsvImportLog

    since = datetime.now(UTC) - window
    rows, seconds = 0, 0.0
    with session_scope(db_url) as session:
        found = session.execute(
            select(CsvImportLog.processed, CsvImportLog.started_at, CsvImportLog.finished_at).where(
                CsvImportLog.finished_at >= since, CsvImportLog.started_at.is_not(None)
            )
        ).all()
    for processed, started, finished in found:
        if started is not None and finished is not None:
            rows += processed or 0
            seconds += max((finished - started).total_seconds(), 0.0)
    return rows / seconds if seconds > 0 else 0.0


class _Collector:
    """A prometheus_client collector that reads everything at scrape time (no process-local state)."""

    def __init__(self, redis: Redis, db_url: str) -> None:
        self.redis = redis
        self.db_url = db_url

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        from finjobs.services.queues import queue_stats

        stats = queue_stats(self.redis)
        jobs = GaugeMetricFamily("finjobs_jobs", "Jobs per queue and state.", labels=["queue", "state"])
        oldest = GaugeMetricFamily(
            "finjobs_queue_oldest_job_age_seconds", "Age of the oldest waiting job.", labels=["queue"]
        )
        workers = GaugeMetricFamily("finjobs_workers", "Workers listening to a queue.", labels=["queue"])
        paused = GaugeMetricFamily("finjobs_queue_paused", "1 while a queue is paused.", labels=["queue"])
        for s in stats:
            for state, n in s.by_state().items():
                jobs.add_metric([s.name, state], n)
            oldest.add_metric([s.name], s.oldest_age or 0.0)
            workers.add_metric([s.name], s.workers)
            paused.add_metric([s.name], 1 if s.paused else 0)
        yield from (jobs, oldest, workers, paused)

        total = CounterMetricFamily(
            "finjobs_jobs", "Job attempts finished, by outcome.", labels=["queue", "function", "outcome"]
        )
        for (queue, function, outcome), n in sorted(job_counts(self.redis).items()):
            total.add_metric([queue, function, outcome], n)
        yield total

        hist = HistogramMetricFamily(
            "finjobs_job_duration_seconds", "Job run time.", labels=["queue", "function"]
        )
        for h in durations(self.redis):
            buckets = [("+Inf" if math.isinf(b) else repr(float(b)), n) for b, n in h.buckets]
            hist.add_metric([h.queue, h.function], buckets, h.total)
        yield hist

        last = GaugeMetricFamily(
            "finjobs_schedule_last_success_timestamp",
            "Unix time of the newest slot a schedule ran to done.",
            labels=["schedule"],
        )
        for name, slot in sorted(schedule_last_success(self.db_url).items()):
            last.add_metric([name], slot.timestamp())
        yield last
        yield GaugeMetricFamily(
            "finjobs_import_rows_per_second",
            "CSV rows imported per second of run time (imports finished in the last hour).",
            value=import_rows_per_second(self.db_url),
        )


def render(redis: Redis, db_url: str) -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(redis, db_url))
    return generate_latest(registry), CONTENT_TYPE_LATEST
