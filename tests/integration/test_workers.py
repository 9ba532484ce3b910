"""Real forked worker processes (`finjobs worker`): retries with backoff, replay, a killed work horse,
and SIGTERM sent to the whole process group as Heroku does."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from rq.registry import FailedJobRegistry

from finjobs.queue.enqueue import enqueue
from finjobs.queue.registry import fetch_job, get_queue
from tests.conftest import Stack, finjobs_cmd, wait_until


def test_retries_back_off_then_fail_then_replay_runs_again(
    pg_stack: Stack, start_worker, tmp_path: Path
) -> None:
    marker = tmp_path / "attempts"
    job = enqueue(
        pg_stack.redis,
        "data-cleanup",
        "tests.support.jobs.always_fails",
        str(marker),
        retry_intervals=[1, 2, 3],
    )
    start_worker("data-cleanup")
    failed = FailedJobRegistry(queue=get_queue(pg_stack.redis, "data-cleanup"))
    wait_until(lambda: job.id in failed.get_job_ids(), 30, "the job to exhaust its retries")
    times = [float(x) for x in marker.read_text().split()]
    assert len(times) == 4  # the first run + 3 retries
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # each retry waits at least its interval; RQ's scheduler polls every second, so allow ~2 s late
    for gap, interval in zip(gaps, [1, 2, 3], strict=True):
        assert interval - 0.1 <= gap <= interval + 2.5, gaps

    out = subprocess.run(
        finjobs_cmd("jobs", "replay", job.id, "--json"),
        env=pg_stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"replayed": ["' + job.id + '"]' in out.stdout
    wait_until(lambda: len(marker.read_text().split()) >= 8, 30, "the replay's 4 attempts")
    wait_until(lambda: job.id in failed.get_job_ids(), 10, "the replayed job to fail again")


def test_killing_the_work_horse_does_not_kill_the_worker(
    pg_stack: Stack, start_worker, tmp_path: Path
) -> None:
    marker = tmp_path / "horse"
    victim = enqueue(
        pg_stack.redis,
        "data-cleanup",
        "tests.support.jobs.sleep_then_mark",
        60,
        str(marker),
        retry_intervals=[],
    )
    worker = start_worker("data-cleanup")
    wait_until(lambda: marker.exists() and "start" in marker.read_text(), 20, "the job to start")
    horse_pid = int(marker.read_text().split()[1])
    os.kill(horse_pid, signal.SIGKILL)
    wait_until(lambda: fetch_job(pg_stack.redis, victim.id).get_status() == "failed", 20, "the job to fail")  # type: ignore[union-attr]
    after = enqueue(pg_stack.redis, "data-cleanup", "tests.support.jobs.echo", "still here")
    wait_until(lambda: fetch_job(pg_stack.redis, after.id).get_status() == "finished", 20, "the next job")  # type: ignore[union-attr]
    assert worker.poll() is None
    assert "done" not in marker.read_text()


def test_sigterm_to_the_process_group_lets_the_running_job_finish(
    pg_stack: Stack, start_worker, tmp_path: Path
) -> None:
    marker = tmp_path / "term"
    job = enqueue(pg_stack.redis, "data-cleanup", "tests.support.jobs.sleep_then_mark", 3, str(marker))
    waiting = enqueue(pg_stack.redis, "data-cleanup", "tests.support.jobs.echo", "not taken")
    worker = start_worker("data-cleanup")
    wait_until(lambda: marker.exists() and "start" in marker.read_text(), 20, "the job to start")
    os.killpg(worker.pid, signal.SIGTERM)  # every process of the dyno, as Heroku does
    assert worker.wait(20) == 0
    assert marker.read_text().strip().endswith("done")
    assert fetch_job(pg_stack.redis, job.id).get_status() == "finished"  # type: ignore[union-attr]
    assert fetch_job(pg_stack.redis, waiting.id).get_status() == "queued"  # type: ignore[union-attr]


def test_cleanup_run_wait_follows_the_job_through_a_real_worker(pg_stack: Stack, start_worker) -> None:
    start_worker("data-cleanup")
    out = subprocess.run(
        finjobs_cmd("cleanup", "run", "--wait", "--json", "--timeout", "60"),
        env=pg_stack.env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "finished"
    assert doc["result"] == {
        "dismissed_insights": 0,
        "expired_insights": 0,
        "failed_voice_logs": 0,
        "redis_keys": 0,
    }


def test_an_idle_worker_stops_promptly_on_sigterm(pg_stack: Stack, start_worker) -> None:
    """The signal may land on the worker's pubsub thread; the main thread must still notice it well
    inside Heroku's 30 s (RQ's own 45 s blocking dequeue would not)."""
    for trial in range(3):
        worker = start_worker("data-cleanup", "csv-import")
        time.sleep(3 + 2 * trial)
        sent = time.monotonic()
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(20) == 0
        assert time.monotonic() - sent < 12
