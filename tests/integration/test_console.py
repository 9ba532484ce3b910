"""The operator's console through create_app(settings).test_client() on real PostgreSQL/SQLite and
Redis: sign-in with operator tokens only, CSRF, read-only refusal, replay, bulk actions, pause, audit."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from typer.testing import CliRunner

from finjobs.cli.app import app as cli
from finjobs.queue.enqueue import enqueue
from finjobs.queue.worker import simple_worker
from finjobs.web import create_app
from tests.conftest import Stack

runner = CliRunner()


def operator_token(stack: Stack, name: str = "ops", *, read_only: bool = False) -> str:
    from finjobs.services.operators import create_operator

    with stack.session() as s:
        return create_operator(s, name, read_only=read_only).token


def signed_in(stack: Stack, token: str) -> FlaskClient:
    client = create_app(stack.settings).test_client()
    resp = client.post("/console/login", data={"token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def csrf(client: FlaskClient) -> str:
    with client.session_transaction() as sess:
        return str(sess["csrf"])


def failed_job(stack: Stack, marker: Path, job_id: str = "flaky-1", attempts: int = 2) -> str:
    """A job that fails on its first run (no retries) and succeeds once replayed."""
    enqueue(
        stack.redis, "csv-import", "tests.support.jobs.fails_until", str(marker), attempts,
        job_id=job_id, retry_intervals=(),
    )  # fmt: skip
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    return job_id


def test_only_operator_tokens_open_the_console(stack: Stack) -> None:
    from finjobs.services.users import create_user

    with stack.session() as s:
        user_token = create_user(s, "ana@example.com").token
    client = create_app(stack.settings).test_client()
    assert client.get("/console/").status_code == 302  # to the sign-in page
    refused = client.post("/console/login", data={"token": user_token})
    assert refused.status_code == 403
    assert "not an operator token" in refused.get_data(as_text=True)
    bearer = client.get("/console/", headers={"Authorization": f"Bearer {user_token}"})
    assert bearer.status_code == 302 and "/console/login" in bearer.headers["Location"]
    assert client.get("/metrics", headers={"Authorization": f"Bearer {user_token}"}).status_code == 401
    page = signed_in(stack, operator_token(stack)).get("/console/")
    assert page.status_code == 200
    assert 'data-queue="csv-import"' in page.get_data(as_text=True)


def test_replay_a_failed_job_from_its_page(stack: Stack, tmp_path: Path) -> None:
    job_id = failed_job(stack, tmp_path / "marker")
    client = signed_in(stack, operator_token(stack))
    listing = client.get("/console/queues/csv-import?state=failed").get_data(as_text=True)
    assert f'data-job="{job_id}"' in listing and "not yet" in listing
    page = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert "tests.support.jobs.fails_until" in page and "RuntimeError: not yet" in page
    assert client.post(f"/console/jobs/{job_id}/replay").status_code == 400  # no CSRF token
    assert client.post(f"/console/jobs/{job_id}/replay", data={"csrf": "forged"}).status_code == 400
    assert client.post(f"/console/jobs/{job_id}/replay", data={"csrf": csrf(client)}).status_code == 302
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    done = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert re.search(r'id="job-status">finished<', done)
    audit = client.get("/console/").get_data(as_text=True)
    assert "job.replay" in audit and job_id in audit and "console.sign-in" in audit


def test_read_only_operator_sees_everything_and_changes_nothing(stack: Stack, tmp_path: Path) -> None:
    job_id = failed_job(stack, tmp_path / "marker")
    client = signed_in(stack, operator_token(stack, "watcher", read_only=True))
    assert job_id in client.get("/console/queues/csv-import?state=failed").get_data(as_text=True)
    token = csrf(client)
    assert client.post(f"/console/jobs/{job_id}/replay", data={"csrf": token}).status_code == 403
    assert client.post("/console/queues/csv-import/pause", data={"csrf": token}).status_code == 403
    assert client.post("/console/failed/delete", data={"csrf": token}).status_code == 403
    from finjobs.services.queues import show_job

    assert show_job(stack.redis, job_id)["status"] == "failed"
    assert runner.invoke(cli, ["status", "--json"]).stdout.count('"paused": false') == 7


def test_pause_holds_new_jobs_until_resume(stack: Stack) -> None:
    paused = runner.invoke(cli, ["queues", "pause", "data-cleanup"])
    assert paused.exit_code == 0, paused.output
    import json

    status = json.loads(runner.invoke(cli, ["status", "--json"]).stdout)["queues"]
    assert [q["name"] for q in status if q["paused"]] == ["data-cleanup"]
    assert "data-cleanup paused" in runner.invoke(cli, ["status"], env={"COLUMNS": "200"}).stdout
    from finjobs.services.queues import queue_stats, show_job

    assert queue_stats(stack.redis, ["data-cleanup"])[0].paused
    job = enqueue(stack.redis, "data-cleanup", "tests.support.jobs.echo", "held", retry_intervals=())
    worker = simple_worker(stack.redis, ["data-cleanup", "notification"])
    other = enqueue(stack.redis, "notification", "tests.support.jobs.echo", "free", retry_intervals=())
    worker.work(burst=True)
    assert show_job(stack.redis, job.id)["status"] == "queued"  # paused: waits
    assert show_job(stack.redis, other.id)["status"] == "finished"  # the other queue ran
    client = signed_in(stack, operator_token(stack))
    assert "paused" in client.get("/console/queues/data-cleanup?state=waiting").get_data(as_text=True)
    assert client.post("/console/queues/data-cleanup/resume", data={"csrf": csrf(client)}).status_code == 302
    simple_worker(stack.redis, ["data-cleanup"]).work(burst=True)
    assert show_job(stack.redis, job.id)["status"] == "finished"
    audit = client.get("/console/").get_data(as_text=True)
    assert "queue.pause" in audit and "queue.resume" in audit


def test_bulk_replay_and_delete_take_only_matching_failed_jobs(stack: Stack, tmp_path: Path) -> None:
    for i in range(3):
        enqueue(stack.redis, "csv-import", "tests.support.jobs.always_fails", str(tmp_path / f"a{i}"),
                job_id=f"always-{i}", retry_intervals=())  # fmt: skip
    failed_job(stack, tmp_path / "flaky", "flaky-1")
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    client = signed_in(stack, operator_token(stack))
    token = csrf(client)
    # nothing failed a day ago: the age filter takes none
    aged = {"csrf": token, "queue": "csv-import", "older_than_minutes": "1440"}
    assert client.post("/console/failed/replay", data=aged).status_code == 302
    replay = {"csrf": token, "queue": "csv-import", "function": "fails_until"}
    assert client.post("/console/failed/replay", data=replay).status_code == 302
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    from finjobs.services.queues import failed_jobs, show_job

    assert show_job(stack.redis, "flaky-1")["status"] == "finished"
    assert sorted(j["id"] for j in failed_jobs(stack.redis, "csv-import")) == [
        "always-0",
        "always-1",
        "always-2",
    ]
    wrong_error = {"csrf": token, "error": "no such text anywhere"}
    client.post("/console/failed/delete", data=wrong_error)
    assert len(failed_jobs(stack.redis, "csv-import")) == 3
    client.post("/console/failed/delete", data={"csrf": token, "error": "DELIBERATE failure"})
    assert failed_jobs(stack.redis, "csv-import") == []
    audit = client.get("/console/").get_data(as_text=True)
    assert '"count": 0' in audit and '"count": 1' in audit and '"count": 3' in audit


def test_queue_pages_count_without_loading_every_job(stack: Stack) -> None:
    from finjobs.services.console import list_jobs

    for i in range(120):
        enqueue(stack.redis, "forecast-compute", "tests.support.jobs.echo", str(i), retry_intervals=(),
                priority="low" if i % 2 else "high")  # fmt: skip
    first = list_jobs(stack.redis, "forecast-compute", "waiting", page=1)
    last = list_jobs(stack.redis, "forecast-compute", "waiting", page=3)
    assert (first.total, first.pages, len(first.jobs), len(last.jobs)) == (120, 3, 50, 20)
    # priority order: every high job (even args) before any low one, across the page boundary
    seen = [
        j["id"] for p in (1, 2, 3) for j in list_jobs(stack.redis, "forecast-compute", "waiting", page=p).jobs
    ]
    assert len(set(seen)) == 120
    client = signed_in(stack, operator_token(stack))
    html = client.get("/console/queues/forecast-compute?state=waiting&page=3").get_data(as_text=True)
    assert "page 3 of 3" in html and html.count('data-job="') == 20


def test_operators_cli_issues_hashed_tokens_and_delete_ends_sessions(stack: Stack) -> None:
    import json

    from finjobs.db.models import Operator

    out = runner.invoke(cli, ["operators", "create", "rita", "--read-only", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["read_only"] is True and doc["token"].startswith("fjop_")
    with stack.session() as s:
        stored = s.query(Operator).filter_by(name="rita").one()
        assert stored.token_hash != doc["token"] and len(stored.token_hash) == 64
    assert "read-only" in runner.invoke(cli, ["operators", "list"]).stdout
    dup = runner.invoke(cli, ["operators", "create", "rita"])
    assert dup.exit_code == 1 and "already exists" in dup.output
    client = signed_in(stack, doc["token"])
    assert client.get("/console/").status_code == 200
    assert runner.invoke(cli, ["operators", "delete", "rita"]).exit_code == 0
    assert client.get("/console/").status_code == 302  # its cookie no longer opens anything
    bad = runner.invoke(cli, ["queues", "pause", "nope"])
    assert bad.exit_code == 1 and "unknown queue" in bad.output


def test_overview_shows_recent_imports_with_progress_and_the_schedule_ledger(stack: Stack) -> None:
    from datetime import UTC, datetime

    from finjobs.db.models import CsvImportLog, ScheduleRun
    from finjobs.services.users import create_user

    with stack.session() as s:
        user_id = create_user(s, "ana@example.com").id
        s.add(CsvImportLog(user_id=user_id, filename="march.csv", status="running", total_rows=1000,
                           processed=250, started_at=datetime.now(UTC)))  # fmt: skip
        s.add(
            ScheduleRun(schedule="daily-insights", slot=datetime(2026, 12, 1, 3, tzinfo=UTC), status="done")
        )
    html = signed_in(stack, operator_token(stack)).get("/console/").get_data(as_text=True)
    imports = html[html.index('id="imports"') :]
    assert "march.csv" in imports and "250/1000" in imports and "width: 25.0%" in imports
    schedule = html[html.index('id="schedule"') : html.index('id="imports"')]
    assert "2026-12-01T03:00:00+00:00" in schedule and "done" in schedule
