"""Recovery with real worker processes and real servers: a SIGKILLed worker's job is re-queued and
finished by another worker within 30 s with no duplicate effect; SIGTERM (Heroku) rolls a long job
back and re-queues it; reconcile brings accepted imports/receipts back after a Redis flush."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from rq.job import JobStatus
from sqlalchemy import func, select
from typer.testing import CliRunner

from finjobs.db.models import CsvImportLog, Receipt, ScheduleRun, User
from finjobs.queue.enqueue import enqueue
from finjobs.queue.registry import fetch_job
from finjobs.services.recovery import reconcile_accepted
from finjobs.services.scheduling import SchedulerLoop
from tests.conftest import Stack, finjobs_cmd, wait_until


def rows(stack: Stack, key: str) -> int:
    with stack.session() as s:
        return int(
            s.scalar(select(func.count()).select_from(ScheduleRun).where(ScheduleRun.schedule == key)) or 0
        )


def starts(marker: Path) -> list[int]:
    if not marker.exists():
        return []
    return [int(ln.split()[1]) for ln in marker.read_text().splitlines() if ln.startswith("start")]


@pytest.fixture
def scheduler_loop(pg_stack: Stack) -> Iterator[SchedulerLoop]:
    """The `finjobs scheduler` loop (5 s passes) in a thread, with an empty schedule table so only its
    recovery work runs (re-queue dead workers' jobs, move due retries, reconcile)."""
    from zoneinfo import ZoneInfo

    loop = SchedulerLoop(pg_stack.db_url, pg_stack.redis, tz=ZoneInfo("UTC"), table=(), name="recovery-test")
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    yield loop
    stop.set()
    thread.join(15)


def test_a_sigkilled_worker_s_job_is_finished_by_another_worker_within_30_s(
    pg_stack: Stack, start_worker, scheduler_loop: SchedulerLoop, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    job = enqueue(
        pg_stack.redis,
        "data-cleanup",
        "tests.support.schedule.write_row_then_sleep",
        "sigkill-test",
        str(marker),
        120,  # the first attempt would run for 2 minutes
        0.5,
    )
    first = start_worker("data-cleanup")
    wait_until(lambda: len(starts(marker)) == 1, 30, "the job to start")
    time.sleep(1)  # mid-job: its row is inserted, not committed
    horse = starts(marker)[0]
    # the whole dyno dies: the pool, its workers and the work horse (which has its own process group)
    os.killpg(first.pid, signal.SIGKILL)
    os.killpg(os.getpgid(horse), signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait(10)
    start_worker("data-cleanup")

    def finished() -> bool:
        j = fetch_job(pg_stack.redis, job.id)
        return j is not None and j.get_status() == JobStatus.FINISHED

    wait_until(finished, 40, "another worker to finish the job")
    elapsed = time.monotonic() - killed_at
    assert elapsed < 30, f"took {elapsed:.1f} s"
    done = fetch_job(pg_stack.redis, job.id)
    assert done is not None
    assert done.retries_left == 2  # the crash used one of its 3 retries
    assert len(starts(marker)) == 2 and marker.read_text().count("done") == 1
    assert rows(pg_stack, "sigkill-test") == 1  # the killed attempt's transaction left nothing
    print(f"\nSIGKILL -> finished by another worker in {elapsed:.1f} s")


def test_sigterm_rolls_a_long_job_back_and_it_runs_once_on_a_new_worker(
    pg_stack: Stack, start_worker, scheduler_loop: SchedulerLoop, tmp_path: Path
) -> None:
    marker = tmp_path / "term"
    job = enqueue(
        pg_stack.redis,
        "data-cleanup",
        "tests.support.schedule.write_row_then_sleep",
        "sigterm-test",
        str(marker),
        60,
        0.5,
    )
    # FINJOBS_SHUTDOWN_GRACE=3: the Heroku 25 s grace, shortened for the test
    worker = start_worker("data-cleanup", env={"FINJOBS_SHUTDOWN_GRACE": "3"})
    wait_until(lambda: len(starts(marker)) == 1, 30, "the job to start")
    time.sleep(1)
    sent = time.monotonic()
    os.killpg(worker.pid, signal.SIGTERM)  # as Heroku does (it would SIGKILL 30 s later)
    assert worker.wait(20) == 0
    stopped_after = time.monotonic() - sent
    assert stopped_after < 10, stopped_after
    assert "done" not in marker.read_text()
    assert rows(pg_stack, "sigterm-test") == 0  # rolled back
    aborted = fetch_job(pg_stack.redis, job.id)
    assert aborted is not None and aborted.get_status() in {JobStatus.SCHEDULED, JobStatus.QUEUED}
    assert aborted.retries_left == 2
    start_worker("data-cleanup")

    def finished() -> bool:
        j = fetch_job(pg_stack.redis, job.id)
        return j is not None and j.get_status() == JobStatus.FINISHED

    wait_until(finished, 40, "a new worker to finish the re-queued job")
    assert len(starts(marker)) == 2 and marker.read_text().count("done") == 1
    assert rows(pg_stack, "sigterm-test") == 1


def _accepted(stack: Stack) -> tuple[list[int], list[int], int]:
    with stack.session() as s:
        user = User(email="rec@example.com")
        s.add(user)
        s.flush()
        imports = [CsvImportLog(user_id=user.id, status=st) for st in ("accepted", "running", "accepted")]
        done = CsvImportLog(user_id=user.id, status="completed")
        receipts = [Receipt(user_id=user.id, status=st) for st in ("accepted", "running")]
        s.add_all([*imports, done, *receipts, Receipt(user_id=user.id, status="failed")])
        s.flush()
        return [i.id for i in imports], [r.id for r in receipts], done.id


def test_reconcile_brings_accepted_work_back_after_a_redis_flush(stack: Stack) -> None:
    import_ids, receipt_ids, done_id = _accepted(stack)
    stack.redis.flushdb()  # Redis restarted without persistence
    with stack.session() as s:
        report = reconcile_accepted(s, stack.redis)
    assert report.imports == import_ids and report.receipts == receipt_ids
    for i in import_ids:
        job = fetch_job(stack.redis, f"import-{i}")
        assert job is not None and job.get_status() == JobStatus.QUEUED
        assert (job.func_name, job.args, job.origin) == ("finjobs.jobs.imports.run_import", [i], "csv-import")
    for r in receipt_ids:
        job = fetch_job(stack.redis, f"receipt-{r}")
        assert job is not None and job.get_status() == JobStatus.QUEUED
        assert (job.func_name, job.args, job.origin) == (
            "finjobs.jobs.receipts.scan_receipt",
            [r],
            "ocr-processing",
        )
    assert fetch_job(stack.redis, f"import-{done_id}") is None
    queued = stack.redis.llen("rq:queue:csv-import"), stack.redis.llen("rq:queue:ocr-processing")
    assert queued == (3, 2)
    # running it again enqueues nothing extra
    with stack.session() as s:
        again = reconcile_accepted(s, stack.redis)
    assert again.imports == again.receipts == [] and again.live == 5
    assert (stack.redis.llen("rq:queue:csv-import"), stack.redis.llen("rq:queue:ocr-processing")) == queued


def test_reconcile_cli_and_a_job_that_failed_for_good_is_left_for_replay(stack: Stack) -> None:
    from finjobs.cli import schedule as schedule_cli

    import_ids, _receipt_ids, _ = _accepted(stack)
    stack.redis.flushdb()
    gone = enqueue(
        stack.redis,
        "csv-import",
        "tests.support.jobs.always_fails",
        "/dev/null",
        job_id=f"import-{import_ids[0]}",
        retry_intervals=[],
    )
    from finjobs.queue.worker import simple_worker

    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    assert fetch_job(stack.redis, gone.id).get_status() == JobStatus.FAILED  # type: ignore[union-attr]
    root = typer.Typer()  # what the lead mounts as top-level `finjobs reconcile` / `finjobs scheduler`
    root.command("reconcile")(schedule_cli.reconcile)
    root.command("scheduler")(schedule_cli.scheduler)
    out = CliRunner().invoke(root, ["reconcile", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["imports"] == import_ids[1:] and len(doc["receipts"]) == 2
    assert doc["failed"] == [gone.id] and doc["abandoned"] == []


def test_shutdown_grace_comes_from_the_environment() -> None:
    from finjobs.errors import ConfigError
    from finjobs.queue.worker import FinjobsWorker, shutdown_grace

    assert shutdown_grace({}) == 25
    assert shutdown_grace({"FINJOBS_SHUTDOWN_GRACE": "3"}) == 3
    for bad in ("soon", "-1", "4000"):
        with pytest.raises(ConfigError, match="FINJOBS_SHUTDOWN_GRACE"):
            shutdown_grace({"FINJOBS_SHUTDOWN_GRACE": bad})
    assert FinjobsWorker.imminent_shutdown_delay == 25


def test_the_scheduler_process_registers_on_start_and_stops_on_sigterm(
    pg_stack: Stack, tmp_path: Path
) -> None:
    from finjobs.cli.app import app as root_app
    from finjobs.services.scheduling import registered

    names = {c.name for c in root_app.registered_commands}
    if "scheduler" in names:  # mounted by the lead
        cmd = finjobs_cmd("scheduler", "--interval", "1")
    else:  # mounted here exactly as it will be: a top-level command
        code = (
            "import typer; from finjobs.cli import schedule as s; r = typer.Typer(); "
            "r.command('scheduler')(s.scheduler); r.command('reconcile')(s.reconcile); r()"
        )
        cmd = [sys.executable, "-c", code, "scheduler", "--interval", "1"]
    log = (tmp_path / "scheduler.log").open("wb")
    proc = subprocess.Popen(
        cmd, env=pg_stack.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_until(lambda: len(registered(pg_stack.redis)) == 4, 30, "the scheduler to register the table")
        wait_until(lambda: bool(pg_stack.redis.keys("rq:scheduler_instance:*")), 10, "its rq-scheduler birth")
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    (key,) = pg_stack.redis.keys("rq:scheduler_instance:*")
    assert pg_stack.redis.hexists(key, "death")  # it said goodbye: a restart under the same name works
    assert len(registered(pg_stack.redis)) == 4  # entries outlive the process (the next one reconciles)
