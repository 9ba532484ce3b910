"""Spending forecasts end to end with the real Prophet: jobs on forecast-compute -> forecast_results and the
Redis cache, the weekly fan-out, GET /api/v1/forecasts per caller, and `finjobs forecast run|show`.
Real PostgreSQL/SQLite and Redis; a real forked worker for the preload path."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from finjobs.cli import forecast as forecast_cli
from finjobs.cli.app import FinjobsGroup
from finjobs.db.models import ForecastResult as ForecastRow
from finjobs.db.models import utcnow
from finjobs.queue import keys
from finjobs.queue.enqueue import enqueue
from finjobs.queue.registry import fetch_job, get_queue
from finjobs.queue.worker import simple_worker
from finjobs.services import forecasts as svc
from finjobs.services.users import create_user
from finjobs.web import create_app
from tests.conftest import Stack
from tests.support.forecast_data import (
    expected_top_categories,
    insert_history,
    sparse_history,
    spending_history,
)

pytestmark = pytest.mark.slow


def _today() -> date:
    return utcnow().date()  # the jobs forecast from today in FINJOBS_TIMEZONE, UTC in these tests


def _user_with_history(stack: Stack, email: str, *, days: int = 200, seed: int = 1, created_at=None):
    txns = spending_history(random.Random(seed), end=_today(), days=days)
    with stack.session() as s:
        user = create_user(s, email)
        insert_history(s, user.id, txns, created_at=created_at)
    return user, txns


def _mounted() -> typer.Typer:
    root = typer.Typer(cls=FinjobsGroup)
    root.add_typer(forecast_cli.app, name="forecast")
    return root


@pytest.fixture
def client_for(stack: Stack):
    app = create_app(stack.settings)

    def get(token: str | None, path: str = "/api/v1/forecasts"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return app.test_client().get(path, headers=headers)

    return get


def test_jobs_store_rows_and_cache_and_the_api_serves_them_per_caller(stack: Stack, client_for) -> None:
    alice, txns = _user_with_history(stack, "alice@example.com")
    with stack.session() as s:
        bob = create_user(s, "bob@example.com")
        queued = svc.enqueue_user_forecasts(s, stack.redis, alice.id, today=_today(), tag="t")
    top = expected_top_categories(txns, today=_today())
    assert [q.category for q in queued] == [None, *top]
    assert {q.rq_queue for q in queued} == {"forecast-compute-high"}

    assert simple_worker(stack.redis, ["forecast-compute"]).work(burst=True)
    for q in queued:
        job = fetch_job(stack.redis, q.job_id)
        assert job is not None and job.get_status().value == "finished", q
        assert job.return_value()["status"] == "done"

    with stack.session() as s:
        rows = s.scalars(select(ForecastRow).where(ForecastRow.user_id == alice.id)).all()
    by_key = {(r.forecast_type, r.category): r for r in rows}
    assert set(by_key) == {("spending", None), *(("category", c) for c in top)}
    spending = by_key["spending", None]
    assert spending.model in {"prophet", "seasonal_naive"}
    assert spending.payload["model"] == spending.model
    assert (
        len(spending.payload["daily"]) == 90 and spending.payload["daily"][0]["date"] == _today().isoformat()
    )
    assert spending.payload["history_days"] >= 190 and spending.payload["metrics"]["backtest_days"] == 28
    assert timedelta(days=7) - timedelta(minutes=5) < spending.valid_until - utcnow() <= timedelta(days=7)

    # the forecast is in the right range: the next 84 days' expected spend vs the last 84 days' actual
    # (whole months' worth, so both hold about as many rents: bills are now scheduled on their dates)
    recent = sum(-t.amount_minor for t in txns if t.amount_minor < 0 and t.status == "posted"
                 and _today() - timedelta(days=84) <= t.date < _today())  # fmt: skip
    predicted = sum(Decimal(d["yhat"]) for d in spending.payload["daily"][:84]) * 100
    assert 0.5 * recent < predicted < 1.6 * recent

    ttl = stack.redis.ttl(keys.forecast(alice.id))
    assert 0 < ttl <= keys.FORECAST_TTL
    cached = json.loads(stack.redis.get(keys.forecast(alice.id)))
    assert cached["spending"]["daily"] == spending.payload["daily"]
    assert sorted(c["category"] for c in cached["categories"]) == sorted(top)

    resp = client_for(alice.token)
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["user_id"] == alice.id and doc["source"] == "cache"
    assert doc["spending"]["model"] == spending.model and doc["spending"]["stale"] is False
    assert doc["spending"]["months"] == spending.payload["months"]
    assert sorted(c["category"] for c in doc["categories"]) == sorted(top)
    totals = [sum(Decimal(d["yhat"]) for d in c["daily"]) for c in doc["categories"]]
    assert totals == sorted(totals, reverse=True)  # biggest predicted spend first

    other = client_for(bob.token)
    assert other.status_code == 200
    assert other.get_json() == {"user_id": bob.id, "source": "table", "spending": None, "categories": []}
    assert client_for(None).status_code == 401

    spec = client_for(alice.token, "/api/v1/openapi.json").get_json()
    described = spec["paths"]["/api/v1/forecasts"]["get"]["responses"]
    assert {"200", "401"} <= set(described)  # (the app may add shared ones, e.g. 429)
    schema = spec["components"]["schemas"]["Forecast"]
    assert set(schema["required"]) <= set(doc["spending"]) and set(doc["spending"]) <= set(
        schema["properties"]
    )


def test_short_history_stores_a_none_row_with_its_reason(stack: Stack) -> None:
    txns = sparse_history(random.Random(3), end=_today(), dates=40)
    with stack.session() as s:
        user = create_user(s, "sparse@example.com")
        insert_history(s, user.id, txns)
    job = enqueue(stack.redis, "forecast-compute", svc.JOB_SPENDING, user.id)
    simple_worker(stack.redis, ["forecast-compute"]).work(burst=True)
    assert job.return_value()["model"] == "none"
    with stack.session() as s:
        row = s.scalars(select(ForecastRow).where(ForecastRow.user_id == user.id)).one()
        doc = svc.read_forecasts(s, stack.redis, user.id)
    assert row.model == "none" and row.payload["skip_reason"] == "insufficient_history"
    assert "only 40 distinct transaction dates" in row.payload["reason"]
    assert doc["source"] == "cache" and doc["spending"]["skip_reason"] == "insufficient_history"
    assert doc["spending"]["daily"] == [] and doc["spending"]["distinct_dates"] == 40


def test_job_for_a_missing_category_is_rejected_without_retry(stack: Stack) -> None:
    alice, _ = _user_with_history(stack, "alice@example.com", days=90)
    job = enqueue(stack.redis, "forecast-compute", svc.JOB_CATEGORY, alice.id, "Yachts", priority="low")
    simple_worker(stack.redis, ["forecast-compute"]).work(burst=True)
    assert job.get_status().value == "finished"
    assert job.return_value()["status"] == "rejected" and "Yachts" in job.return_value()["error"]
    assert stack.redis.get(keys.forecast(alice.id)) is None


def test_cache_is_written_on_commit_and_reads_fall_back_to_the_table(stack: Stack) -> None:
    alice, _ = _user_with_history(stack, "alice@example.com", days=150)
    with pytest.raises(RuntimeError), stack.session() as s:
        svc.forecast_user(s, stack.redis, alice.id, today=_today())
        raise RuntimeError("rolled back")
    assert stack.redis.get(keys.forecast(alice.id)) is None  # nothing the table does not hold

    with stack.session() as s:
        stored = svc.forecast_user(s, stack.redis, alice.id, today=_today())
        assert stack.redis.get(keys.forecast(alice.id)) is None  # not before the commit
    with stack.session() as s:
        cached = svc.read_forecasts(s, stack.redis, alice.id)
    assert cached["source"] == "cache" and cached["spending"]["model"] == stored.result.model

    svc.invalidate_forecast_cache(stack.redis, alice.id)
    with stack.session() as s:
        from_table = svc.read_forecasts(s, stack.redis, alice.id)
        later = svc.read_forecasts(s, stack.redis, alice.id, now=stored.valid_until + timedelta(seconds=1))
    assert from_table["source"] == "table"
    assert from_table["spending"] == cached["spending"]
    assert later["spending"]["stale"] is True and later["spending"]["daily"] == cached["spending"]["daily"]

    stack.redis.set(keys.forecast(alice.id), b"{not json", ex=60)  # a broken cache is not trusted
    with stack.session() as s:
        assert svc.read_forecasts(s, stack.redis, alice.id)["source"] == "table"


def test_weekly_fanout_counts_priorities_and_skips(stack: Stack) -> None:
    slot = datetime.combine(_today(), datetime.min.time(), tzinfo=UTC)
    this_week = slot - timedelta(days=2)
    due, txns = _user_with_history(stack, "due@example.com", created_at=this_week, seed=1)
    valid, _ = _user_with_history(stack, "valid@example.com", created_at=this_week, seed=2)
    none_row, txns_n = _user_with_history(stack, "none@example.com", created_at=this_week, seed=3)
    _user_with_history(stack, "idle@example.com", created_at=slot - timedelta(days=9), seed=4)
    with stack.session() as s:
        short = create_user(s, "short@example.com")
        insert_history(
            s, short.id, sparse_history(random.Random(5), end=_today(), dates=59), created_at=this_week
        )
        for uid, model in ((valid.id, "prophet"), (none_row.id, "none")):
            s.add(ForecastRow(user_id=uid, forecast_type="spending", model=model, payload={},
                              valid_until=slot + timedelta(days=1)))  # fmt: skip

    with stack.session() as s:
        counts = svc.enqueue_weekly_forecasts(s, stack.redis, slot=slot)
    assert counts == {"users": 2, "category_jobs": 10, "skipped_short_history": 1, "skipped_still_valid": 1}

    tag = f"{slot:%Y%m%d}"
    normal = get_queue(stack.redis, "forecast-compute", "normal")
    low = get_queue(stack.redis, "forecast-compute", "low")
    assert normal.job_ids == [f"forecast-{due.id}-{tag}", f"forecast-{none_row.id}-{tag}"]
    assert get_queue(stack.redis, "forecast-compute", "high").count == 0
    low_jobs = [low.fetch_job(i) for i in low.job_ids]
    assert [j.func_name for j in low_jobs] == [svc.JOB_CATEGORY] * 10
    assert [tuple(j.args) for j in low_jobs] == [
        *((due.id, c) for c in expected_top_categories(txns, today=_today())),
        *((none_row.id, c) for c in expected_top_categories(txns_n, today=_today())),
    ]
    assert all(j.id.startswith(f"forecast-{j.args[0]}-{tag}-c") for j in low_jobs)

    with stack.session() as s:  # the same slot again: the live jobs are not duplicated
        assert svc.enqueue_weekly_forecasts(s, stack.redis, slot=slot) == counts
    assert normal.count == 2 and low.count == 10


def test_cli_run_then_show_json_and_plot(stack: Stack, tmp_path: Path) -> None:
    alice, txns = _user_with_history(stack, "alice@example.com", days=180, seed=7)
    runner = CliRunner()
    app = _mounted()

    missing = runner.invoke(app, ["forecast", "show", "--user", str(alice.id), "--json"])
    assert missing.exit_code == 1 and "no forecast for user" in missing.output

    out = runner.invoke(app, ["forecast", "run", "--user", "alice@example.com", "--json"])
    assert out.exit_code == 0, out.output
    queued = json.loads(out.stdout)
    assert queued["user_id"] == alice.id and len(queued["jobs"]) == 6
    assert queued["jobs"][0] == {"job_id": f"forecast-{alice.id}-run", "kind": "spending", "category": None,
                                 "priority": "high", "rq_queue": "forecast-compute-high"}  # fmt: skip
    simple_worker(stack.redis, ["forecast-compute"]).work(burst=True)

    png = tmp_path / "forecast.png"
    shown = runner.invoke(app, ["forecast", "show", "--user", str(alice.id), "--json", "--plot", str(png)])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert {"model", "metrics", "daily", "months", "categories"} <= set(doc)
    assert doc["model"] in {"prophet", "seasonal_naive"} and doc["source"] == "cache"
    assert set(doc["metrics"]) == {"mae", "mase", "baseline_mae", "baseline_mase", "backtest_days"}
    assert len(doc["daily"]) == 90
    assert set(doc["daily"][0]) == {"date", "yhat", "lower", "upper"}
    for d in doc["daily"]:
        assert Decimal(d["lower"]) <= Decimal(d["yhat"]) <= Decimal(d["upper"])
    assert doc["months"] and doc["months"][0]["month"] == f"{_today():%Y-%m}"
    assert sorted(c["category"] for c in doc["categories"]) == sorted(
        expected_top_categories(txns, today=_today())
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000

    text = runner.invoke(app, ["forecast", "show", "--user", str(alice.id)])
    assert text.exit_code == 0 and "Total spending" in text.output and "Groceries" in text.output


def test_real_worker_runs_forecast_jobs_for_cli_run_wait(
    pg_stack: Stack, start_worker, tmp_path: Path
) -> None:
    alice, _ = _user_with_history(pg_stack, "alice@example.com", days=120, seed=9)
    worker = start_worker("forecast-compute")
    try:
        started = time.monotonic()
        out = CliRunner().invoke(
            _mounted(), ["forecast", "run", "--user", str(alice.id), "--wait", "--timeout", "60", "--json"]
        )
        assert out.exit_code == 0, out.output + (tmp_path / "worker-0.log").read_text()
        doc = json.loads(out.stdout)
        assert doc["status"] == "finished" and len(doc["jobs"]) == 6
        assert all(j["result"]["status"] == "done" for j in doc["jobs"])
        assert time.monotonic() - started < 60
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    text = (tmp_path / "worker-0.log").read_text()
    assert "preloaded finjobs.adapters.prophet_model" in text
    # quiet: no cmdstanpy chatter per fit ("Chain [1] start processing" is INFO)
    assert "cmdstanpy" not in text and "Chain [1]" not in text


def test_jobs_preload_imports_the_service_and_freezes_the_heap() -> None:
    # In a subprocess: gc.freeze() is process-wide, and this is what a worker parent would run once.
    code = (
        "import gc, sys; import finjobs.jobs.forecasts as j; j.preload(); "
        "print(gc.get_freeze_count() > 1000, 'finjobs.services.forecasts' in sys.modules, "
        "'finjobs.db.models' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"]
