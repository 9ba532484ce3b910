#!/usr/bin/env python3
"""Benchmark the console's queue page and /metrics with 100,000 failed jobs on one queue.

Starts a throwaway Redis (finjobs.devservers) and a migrated SQLite file, signs in an operator, and
times through the real Flask app (test client, full request path): the failed-jobs page (first and
last page), the overview and /metrics, first with 100 failed jobs (the baseline) and then with
--jobs more. Failed jobs are written with RQ's own API as a worker leaves them (job hash, FAILED
status, failed-registry entry, failure Result), 1,000 per pipeline. Prints the median of --repeat
requests for each, and `ratio_vs_100_failed=` per page.

    .venv/bin/python scripts/bench_console.py [--jobs 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import redis as redis_lib

from finjobs.config import Settings
from finjobs.db.engine import session_scope
from finjobs.db.migrate import upgrade
from finjobs.devservers import RedisServer
from finjobs.queue.registry import FAILURE_TTL, SERIALIZER, JsonJob, JsonQueue
from finjobs.services.metrics import record_job
from finjobs.services.operators import create_operator
from finjobs.web import create_app

QUEUE = "csv-import"
FUNC = "finjobs.jobs.imports.run_import"
TRACEBACK = (
    'Traceback (most recent call last):\n  File "finjobs/jobs/imports.py", line 30, in run_import\n'
    'psycopg.OperationalError: connection to server at "db" failed: timeout expired\n'
)


def seed_failed(conn: redis_lib.Redis, start: int, count: int) -> None:
    """`count` failed jobs as a worker leaves them, written 1,000 per pipeline."""
    from rq.job import JobStatus
    from rq.registry import FailedJobRegistry
    from rq.results import Result

    registry = FailedJobRegistry(queue=JsonQueue(QUEUE, connection=conn))
    now = datetime.now(UTC)
    for first in range(start, start + count, 1000):
        with conn.pipeline() as pipe:
            for i in range(first, min(first + 1000, start + count)):
                job = JsonJob.create(
                    FUNC, args=[i], connection=conn, id=f"import-bench-{i}", origin=QUEUE,
                    failure_ttl=FAILURE_TTL, serializer=SERIALIZER,
                )  # fmt: skip
                job.enqueued_at = job.started_at = job.ended_at = now
                job.set_status(JobStatus.FAILED, pipeline=pipe)
                registry.add(job, ttl=FAILURE_TTL, exc_string=TRACEBACK, pipeline=pipe)
                Result.create_failure(job, FAILURE_TTL, TRACEBACK, pipeline=pipe)
            pipe.execute()


def timed(client, path: str, repeat: int, headers: dict[str, str] | None = None) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        resp = client.get(path, headers=headers or {})
        times.append(time.perf_counter() - t0)
        assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:300])
    return statistics.median(times)


def measure(client, token: str, repeat: int, total: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    last = max(1, -(-total // 50))
    bearer = {"Authorization": f"Bearer {token}"}
    return {
        "queue page 1": timed(client, f"/console/queues/{QUEUE}?state=failed", repeat),
        "queue page last": timed(client, f"/console/queues/{QUEUE}?state=failed&page={last}", repeat),
        "overview": timed(client, "/console/", repeat),
        "/metrics": timed(client, "/metrics", repeat, bearer),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    server = RedisServer().start()
    tmp = Path(tempfile.mkdtemp(prefix="finjobs-bench-console-"))
    db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    upgrade(db_url)
    env = {"DATABASE_URL": db_url, "REDIS_URL": server.url, "FINJOBS_STATE_DIR": str(tmp / "state")}
    try:
        settings = Settings.from_env(env)
        conn = redis_lib.Redis.from_url(server.url)
        with session_scope(db_url) as s:
            token = create_operator(s, "bench").token
        client = create_app(settings).test_client()
        assert client.post("/console/login", data={"token": token}).status_code == 302
        for i in range(100):
            record_job(conn, QUEUE, FUNC, "failed", 0.01 * i)
        seed_failed(conn, 0, 100)
        base = measure(client, token, args.repeat, 100)
        t0 = time.perf_counter()
        seed_failed(conn, 100, args.jobs)
        seeded = time.perf_counter() - t0
        total = args.jobs + 100
        print(f"seeded {args.jobs:,} failed jobs in {seeded:.1f} s; {QUEUE} now holds {total:,} failed")
        big = measure(client, token, args.repeat, total)
        print(f"{'request':<28}{'100 failed':>14}{f'{total:,} failed':>18}  ratio_vs_100_failed")
        for (name, b), g in zip(base.items(), big.values(), strict=True):
            print(f"{name:<28}{b * 1000:>12.1f}ms{g * 1000:>16.1f}ms  {g / b:.2f}")
        worst = max(big["queue page 1"], big["/metrics"])
        print(f"queue_page_s={big['queue page 1']:.3f} metrics_s={big['/metrics']:.3f} (goal < 0.5 s each)")
        return 0 if worst < 0.5 else 1
    finally:
        server.destroy()


if __name__ == "__main__":
    sys.exit(main())
