"""GET /metrics parsed by prometheus_client's own text parser: counts match the jobs the workers ran,
and they live in Redis (a new app and new workers see the same totals)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from finjobs.queue.enqueue import enqueue
from finjobs.queue.worker import simple_worker
from finjobs.web import create_app
from tests.conftest import Stack


def scrape(stack: Stack, token: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """sample name -> {sorted labels: value}"""
    resp = (
        create_app(stack.settings).test_client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.content_type.startswith("text/plain")
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def operator(stack: Stack, name: str = "prom") -> str:
    from finjobs.services.operators import create_operator

    with stack.session() as s:
        return create_operator(s, name).token


def test_metrics_count_the_jobs_run(stack: Stack, tmp_path: Path) -> None:
    from finjobs.db.models import ScheduleRun

    for i in range(3):
        enqueue(stack.redis, "data-cleanup", "tests.support.jobs.echo", str(i), retry_intervals=())
    # one retry at once (interval 0), then it fails for good: one "retried" and one "failed" attempt
    enqueue(stack.redis, "data-cleanup", "tests.support.jobs.always_fails", str(tmp_path / "m"),
            retry_intervals=(0,))  # fmt: skip
    simple_worker(stack.redis, ["data-cleanup"]).work(burst=True)
    enqueue(stack.redis, "notification", "tests.support.jobs.echo", "waiting", retry_intervals=())
    slot = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    with stack.session() as s:
        s.add(ScheduleRun(schedule="weekly-cleanup", slot=slot, status="done"))

    m = scrape(stack, operator(stack))
    total = m["finjobs_jobs_total"]
    q = ("queue", "data-cleanup")
    assert total[(("function", "tests.support.jobs.echo"), ("outcome", "success"), q)] == 3
    assert total[(("function", "tests.support.jobs.always_fails"), ("outcome", "retried"), q)] == 1
    assert total[(("function", "tests.support.jobs.always_fails"), ("outcome", "failed"), q)] == 1
    jobs = m["finjobs_jobs"]
    assert jobs[(q, ("state", "finished"))] == 3
    assert jobs[(q, ("state", "failed"))] == 1
    assert jobs[(("queue", "notification"), ("state", "waiting"))] == 1
    assert m["finjobs_queue_oldest_job_age_seconds"][(("queue", "notification"),)] >= 0
    assert m["finjobs_queue_oldest_job_age_seconds"][(q,)] == 0  # nothing waits there
    echo = (("function", "tests.support.jobs.echo"), q)
    assert m["finjobs_job_duration_seconds_count"][echo] == 3
    assert m["finjobs_job_duration_seconds_bucket"][(*echo[:1], ("le", "+Inf"), q)] == 3
    assert 0 <= m["finjobs_job_duration_seconds_sum"][echo] < 5
    assert m["finjobs_workers"][(q,)] == 0  # the burst worker has gone
    assert m["finjobs_schedule_last_success_timestamp"][(("schedule", "weekly-cleanup"),)] == slot.timestamp()
    assert "finjobs_import_rows_per_second" in m

    # counters live in Redis: another worker and a new app add to the same totals
    enqueue(stack.redis, "data-cleanup", "tests.support.jobs.echo", "again", retry_intervals=())
    simple_worker(stack.redis, ["data-cleanup"]).work(burst=True)
    again = scrape(stack, operator(stack, "prom2"))
    assert (
        again["finjobs_jobs_total"][(("function", "tests.support.jobs.echo"), ("outcome", "success"), q)] == 4
    )


def test_metrics_token_and_operators_only(stack: Stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from finjobs.services.users import create_user

    with stack.session() as s:
        user = create_user(s, "ana@example.com").token
    monkeypatch.setenv("FINJOBS_METRICS_TOKEN", "scrape-secret")
    client = create_app(stack.settings).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {user}"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200 and b"finjobs_jobs{" in ok.data


def test_throughput_counts_per_minute(stack: Stack) -> None:
    from finjobs.services.metrics import record_job, throughput

    now = 1_800_000_000.0
    record_job(stack.redis, "csv-import", "f", "success", 0.2, at=now)
    record_job(stack.redis, "csv-import", "f", "failed", 0.3, at=now - 60)
    record_job(stack.redis, "csv-import", "f", "success", 0.3, at=now - 61 * 60 * 24)  # beyond 24 h
    series = throughput(stack.redis, ["csv-import", "notification"], now=now)
    assert len(series["csv-import"]) == 1440
    assert series["csv-import"][-2:] == [1, 1] and sum(series["csv-import"]) == 2
    assert sum(series["notification"]) == 0


def test_weekly_cleanup_keeps_metrics_pauses_and_the_session_secret(stack: Stack) -> None:
    """The cleanup sweeps TTL-less `finjobs:*` cache keys; durable console state is not cache."""
    from finjobs.queue.pause import paused_queues, set_paused
    from finjobs.services.cleanup import purge_stale_keys
    from finjobs.services.metrics import job_counts, record_job

    record_job(stack.redis, "csv-import", "f", "success", 0.1)
    set_paused(stack.redis, "notification", True)
    client = create_app(stack.settings).test_client()
    client.get("/console/login")  # creates the session secret
    stack.redis.set("finjobs:leftover", "x")  # a TTL-less cache key: swept
    with stack.session() as s:
        assert purge_stale_keys(s, stack.redis) == 1
    assert job_counts(stack.redis) == {("csv-import", "f", "success"): 1}
    assert paused_queues(stack.redis) == {"notification"}
    assert stack.redis.get("finjobs-state:console:session-secret")
