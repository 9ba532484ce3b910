"""Benchmark: weekly forecasts for N users (total + top-5 categories = 6 series each) through the real
`finjobs worker forecast-compute --burst`, on a throwaway PostgreSQL and Redis (finjobs.devservers).

Prints series/s, the median seconds per series including database and queue work, the worker processes'
peak RSS, the same series forecast bare in this process (no DB, no queue) as a ratio, and last
`seconds_per_series=X` (worker wall time / series). Goal: <= 0.3 s per series, peak RSS <= 300 MB.

    .venv/bin/python scripts/bench_forecast.py [--users 1000] [--days 730] [--baseline 60]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.forecast_data import CATEGORY_NAMES, copy_rows, spending_history  # noqa: E402

TXN_COLUMNS = (
    "user_id, date, amount_minor, currency, description, category_id, fingerprint, status, created_at,"
    " account"
)


# `finjobs worker forecast-compute --burst` with the registry entry this benchmark proposes: preload
# finjobs.jobs.forecasts too (its preload() imports the service and configures the ORM mappers).
PROPOSED_PRELOAD_WORKER = """
import dataclasses
from finjobs.queue import registry
spec = registry.QUEUES["forecast-compute"]
extra = (*spec.preload, "finjobs.jobs.forecasts")
registry.QUEUES["forecast-compute"] = dataclasses.replace(spec, preload=extra)
import sys
sys.argv = ["finjobs", "worker", "forecast-compute", "--burst"]
from finjobs.cli import main
main()
"""


def load_users(url: str, n_users: int, days: int, seed: int, today: datetime) -> int:
    """Users 1..n with two years of spending each, bulk-loaded with COPY; returns the transaction count."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rng = random.Random(seed)
    created = today - timedelta(days=1)  # "created this week": the fan-out picks every user
    naive_created = created.replace(tzinfo=None)
    total = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY users (id, email, name, currency, created_at) FROM STDIN") as cp:
            for uid in range(1, n_users + 1):
                cp.write_row((uid, f"user{uid}@bench.example", f"User {uid}", "USD", naive_created))
        cat_ids: dict[int, dict[str, int]] = {}
        with cur.copy("COPY categories (id, user_id, name) FROM STDIN") as cp:
            for uid in range(1, n_users + 1):
                cat_ids[uid] = {}
                for k, name in enumerate(CATEGORY_NAMES):
                    cid = (uid - 1) * len(CATEGORY_NAMES) + k + 1
                    cat_ids[uid][name] = cid
                    cp.write_row((cid, uid, name))
        with cur.copy(f"COPY transactions ({TXN_COLUMNS}) FROM STDIN") as cp:
            for uid in range(1, n_users + 1):
                txns = spending_history(rng, end=today.date(), days=days)
                total += len(txns)
                for row in copy_rows(uid, txns, cat_ids[uid], created):
                    cp.write_row(row)
        for table in ("users", "categories", "transactions"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cur.execute("ANALYZE")
    return total


class RssSampler(threading.Thread):
    """Samples the worker process tree every `interval` s; keeps the peak RSS of each process, keyed by
    (pid, start time) so a recycled pid is a new process, with its depth in the tree (0 = the pool)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak: dict[tuple[int, float], int] = {}
        self.depth: dict[tuple[int, float], int] = {}
        self.cpu: dict[tuple[int, float], float] = {}  # last seen user+sys CPU seconds of the process itself
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.stop.is_set():
            level, depth = [root], 0
            while level:
                below = []
                for proc in level:
                    try:
                        with proc.oneshot():
                            key = (proc.pid, proc.create_time())
                            rss = proc.memory_info().rss
                            times = proc.cpu_times()
                        below.extend(proc.children())
                    except psutil.NoSuchProcess:
                        continue
                    self.depth[key] = depth
                    self.peak[key] = max(self.peak.get(key, 0), rss)
                    self.cpu[key] = times.user + times.system
                level, depth = below, depth + 1
            self.samples += 1
            if not root.is_running():
                return
            self.stop.wait(self.interval)


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def baseline(url: str, user_ids: list[int], today: datetime) -> tuple[float, float, int, float]:
    """The same series forecast bare in this process: points loaded first, then only the adapter runs.
    Returns (wall s per series, CPU s per series incl. cmdstan, series, wall s per bare Prophet fit)."""
    from finjobs.adapters import prophet_model as pm
    from finjobs.db.engine import session_scope
    from finjobs.domain import forecasting as fc
    from finjobs.services.forecasts import expense_points, top_categories

    pm.preload()
    series = []
    with session_scope(url) as s:
        tops = top_categories(s, user_ids, today=today.date())
        for uid in user_ids:
            series.append(expense_points(s, uid)[0])
            for _cid, name in tops[uid]:
                series.append(expense_points(s, uid, category=name)[0])
    pm.forecast_series(series[0], today=today.date())  # warm-up: first Prophet() loads the Stan model
    started = time.perf_counter()
    cpu0 = cpu_seconds(resource.RUSAGE_SELF) + cpu_seconds(resource.RUSAGE_CHILDREN)
    for points in series:
        pm.forecast_series(points, today=today.date())
    per_series = (time.perf_counter() - started) / len(series)
    cpu = cpu_seconds(resource.RUSAGE_SELF) + cpu_seconds(resource.RUSAGE_CHILDREN) - cpu0
    fits = [fc.daily_series(p, end=today.date() - timedelta(days=1)) for p in series[::6][:10]]
    started = time.perf_counter()
    for daily in fits:
        pm.fit_predict(daily, 90)
    per_fit = (time.perf_counter() - started) / len(fits)
    return per_series, cpu / len(series), len(series), per_fit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--days", type=int, default=730, help="days of history per user")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline", type=int, default=10, help="users whose 6 series are also forecast bare")
    ap.add_argument(
        "--proposed-preload",
        action="store_true",
        help="run the worker with finjobs.jobs.forecasts added to forecast-compute's registry preload",
    )
    args = ap.parse_args()

    import redis as redis_lib
    from sqlalchemy import func, select

    from finjobs.db.engine import session_scope
    from finjobs.db.migrate import upgrade
    from finjobs.db.models import ForecastResult
    from finjobs.devservers import PostgresServer, RedisServer
    from finjobs.queue.registry import rq_queues
    from finjobs.services.forecasts import enqueue_weekly_forecasts

    pg = PostgresServer().start()
    rs = RedisServer().start()
    state = Path(tempfile.mkdtemp(prefix="finjobs-bench-"))
    try:
        upgrade(pg.url)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        t0 = time.perf_counter()
        n_txns = load_users(pg.url, args.users, args.days, args.seed, today)
        print(f"loaded {args.users} users, {n_txns} transactions ({args.days} days each) "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip

        redis = redis_lib.Redis.from_url(rs.url)
        t0 = time.perf_counter()
        with session_scope(pg.url) as s:
            counts = enqueue_weekly_forecasts(s, redis, slot=datetime.now(UTC))
        n_series = counts["users"] + counts["category_jobs"]
        print(f"fan-out {counts} in {time.perf_counter() - t0:.2f} s: {n_series} series")

        env = {
            **os.environ,
            "DATABASE_URL": pg.url,
            "REDIS_URL": rs.url,
            "FINJOBS_STATE_DIR": str(state),
            "PYTHONPATH": str(ROOT),
        }
        log_path = state / "worker.log"
        with log_path.open("wb") as log:
            t0 = time.perf_counter()
            cpu0 = cpu_seconds(resource.RUSAGE_CHILDREN)
            cmd = (
                [sys.executable, "-c", PROPOSED_PRELOAD_WORKER]
                if args.proposed_preload
                else [sys.executable, "-m", "finjobs", "worker", "forecast-compute", "--burst"]
            )
            print("worker:", "registry + proposed preload" if args.proposed_preload else " ".join(cmd[1:]))
            worker = subprocess.Popen(
                cmd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
            sampler = RssSampler(worker.pid)
            sampler.start()
            rc = worker.wait()
            wall = time.perf_counter() - t0
            # every process of the worker tree (pool, worker, horses, cmdstan) was reaped by its parent
            worker_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu0
            sampler.stop.set()
            sampler.join()
        left = sum(q.count for q in rq_queues(redis, "forecast-compute"))
        failed = sum(len(q.failed_job_registry) for q in rq_queues(redis, "forecast-compute"))

        with session_scope(pg.url) as s:
            stored = s.scalar(select(func.count()).select_from(ForecastResult))
            by_model = dict(
                s.execute(select(ForecastResult.model, func.count()).group_by(ForecastResult.model)).all()
            )
            starts = sorted(
                tuple(r) for r in s.execute(select(ForecastResult.created_at, ForecastResult.model))
            )
        # One worker runs the jobs one after another and each row's created_at is its job's start, so
        # the gap between consecutive rows is one whole job: dequeue, fork, load, fit, store, commit.
        gaps = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(starts)]
        fitted = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(starts) if a[1] != "none"]
        durations = []
        for q in rq_queues(redis, "forecast-compute"):
            for job in q.finished_job_registry.get_job_ids():
                j = q.fetch_job(job)
                if j is not None and j.started_at and j.ended_at:
                    durations.append((j.ended_at - j.started_at).total_seconds())

        print(f"worker exit code {rc}; jobs left {left}; failed {failed}; rows stored {stored} {by_model}")
        log_text = log_path.read_text(errors="replace")
        print(f"worker log: {len(log_text.splitlines())} lines, "
              f"{sum('cmdstanpy' in ln for ln in log_text.splitlines())} from cmdstanpy")  # fmt: skip
        print(
            f"wall {wall:.1f} s for {n_series} series (incl. worker start-up): {n_series / wall:.2f} series/s"
        )
        print(f"worker tree CPU (user+sys, PostgreSQL server excluded): {worker_cpu:.1f} s = "
              f"{worker_cpu / n_series:.3f} s per series; load average now {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")  # fmt: skip
        if gaps:
            print(f"median seconds per series, job start to next job start (DB + queue + fork + fit): "
                  f"{statistics.median(gaps):.3f} (p90 {statistics.quantiles(gaps, n=10)[-1]:.3f}, "
                  f"{len(gaps)} gaps)")  # fmt: skip
        if fitted:
            print(f"  the same for series that got a model (prophet or seasonal_naive, not 'none'): "
                  f"{statistics.median(fitted):.3f} over {len(fitted)}")  # fmt: skip
        if durations:
            print(f"median RQ job duration (started_at..ended_at, last {len(durations)} finished jobs kept): "
                  f"{statistics.median(durations):.3f} s")  # fmt: skip
        roles = {0: "pool parent", 1: "worker", 2: "work horse", 3: "cmdstan (and forks not yet exec'd)"}
        mb = 1024 * 1024
        for depth in sorted(set(sampler.depth.values())):
            pids = [p for p, d in sampler.depth.items() if d == depth]
            peak = max(sampler.peak.get(p, 0) for p in pids)
            cpu = sum(sampler.cpu.get(p, 0.0) for p in pids)
            print(f"peak RSS {roles.get(depth, f'depth {depth}')}: {peak / mb:.0f} MB "
                  f"(max over {len(pids)} processes; their CPU seen by sampling: {cpu:.1f} s)")  # fmt: skip
        print(f"peak RSS any worker process: {max(sampler.peak.values()) / mb:.0f} MB "
              f"({sampler.samples} samples every 0.2 s)")  # fmt: skip

        users = list(range(1, min(args.baseline, args.users) + 1))
        per_bare, cpu_bare, n_bare, per_fit = baseline(pg.url, users, today)
        per_worker = wall / n_series
        print(
            f"bare forecast_series in this process (no DB, no queue): {per_bare:.3f} s per series "
            f"({cpu_bare:.3f} s CPU) over {n_bare} series; one bare Prophet fit: {per_fit:.3f} s"
        )
        print(f"ratio worker / bare forecast_series: wall {per_worker / per_bare:.2f}, "
              f"CPU {worker_cpu / n_series / cpu_bare:.2f}")  # fmt: skip
        print(f"seconds_per_series={per_worker:.3f}")
    finally:
        rs.destroy()
        pg.destroy()


if __name__ == "__main__":
    main()
