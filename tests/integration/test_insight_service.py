"""Insight generation through the database (PostgreSQL and SQLite): idempotent storage per user,
expiry, the daily fan-out, listing and dismissal through the CLI and the API."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from finjobs.db.models import AiInsight
from finjobs.errors import NotFound
from finjobs.queue.registry import get_queue
from finjobs.queue.worker import simple_worker
from finjobs.services.insights import (
    dismiss_insight,
    enqueue_daily_insights,
    list_insights,
    run_insights_for_user,
)
from tests.conftest import Stack
from tests.support.finance import add_txn, add_user

TODAY = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 15, 7, 0, tzinfo=dt.UTC)


def seed_spender(session, uid: int) -> None:  # type: ignore[no-untyped-def]
    """Three monthly Netflix charges (the third today: recurring_new, info) and the same 45.00 at
    Acme twice on consecutive days (duplicate_charge, warning)."""
    for day in (dt.date(2026, 1, 15), dt.date(2026, 2, 15), TODAY):
        add_txn(session, uid, day, -1_599, description="NETFLIX.COM")
    add_txn(session, uid, dt.date(2026, 3, 13), -4_500, description="ACME STORE")
    add_txn(session, uid, dt.date(2026, 3, 14), -4_500, description="ACME STORE")


def test_rules_run_stores_each_insight_once(stack: Stack) -> None:
    with stack.session() as s:
        uid = add_user(s)
        seed_spender(s, uid)
    with stack.session() as s:
        first = run_insights_for_user(s, uid, today=TODAY, now=NOW)
    assert sorted((n.type, n.severity) for n in first) == [
        ("duplicate_charge", "warning"),
        ("recurring_new", "info"),
    ]
    with stack.session() as s:
        assert run_insights_for_user(s, uid, today=TODAY, now=NOW) == []
        assert run_insights_for_user(s, uid, today=TODAY + dt.timedelta(days=1), now=NOW) == []
        rows = {r.type: r for r in s.scalars(select(AiInsight))}
    assert set(rows) == {"duplicate_charge", "recurring_new"}
    assert rows["recurring_new"].dedup_key == f"u{uid}:recurring_new:out:netflix:monthly:2026-01-15"
    # Lifetimes outlast the window in which each rule fires (expired rows are purged by cleanup).
    assert rows["recurring_new"].expires_at == NOW + dt.timedelta(days=45)
    assert rows["duplicate_charge"].expires_at == NOW + dt.timedelta(days=30)


def test_same_rule_key_for_two_users_gives_each_their_insight(stack: Stack) -> None:
    """Rule dedup keys name no user (recurring_new:<payee>:<first date>): stored keys must."""
    with stack.session() as s:
        alice, bob = add_user(s), add_user(s)
        seed_spender(s, alice)
        seed_spender(s, bob)
    with stack.session() as s:
        a = run_insights_for_user(s, alice, today=TODAY, now=NOW)
        b = run_insights_for_user(s, bob, today=TODAY, now=NOW)
    assert {n.type for n in a} == {n.type for n in b} == {"duplicate_charge", "recurring_new"}
    assert {n.user_id for n in b} == {bob}


def test_only_the_users_currency_and_posted_transactions_are_read(stack: Stack) -> None:
    with stack.session() as s:
        uid = add_user(s)
        add_txn(s, uid, dt.date(2026, 3, 13), -4_500, description="ACME STORE", currency="EUR")
        add_txn(s, uid, dt.date(2026, 3, 14), -4_500, description="ACME STORE", status="pending")
        add_txn(s, uid, dt.date(2026, 3, 14), -4_500, description="ACME STORE")
    with stack.session() as s:
        assert run_insights_for_user(s, uid, today=TODAY, now=NOW) == []
    with pytest.raises(NotFound), stack.session() as s:
        run_insights_for_user(s, 999_999, today=TODAY)


def test_list_hides_dismissed_and_expired_newest_first(stack: Stack) -> None:
    with stack.session() as s:
        uid, other = add_user(s), add_user(s)
        seed_spender(s, uid)
        seed_spender(s, other)
    with stack.session() as s:
        run_insights_for_user(s, uid, today=TODAY, now=NOW)
        run_insights_for_user(s, other, today=TODAY, now=NOW)
    with stack.session() as s:
        listed = list_insights(s, uid, now=NOW)
        assert [r["type"] for r in listed] == ["recurring_new", "duplicate_charge"]  # same time: id desc
        assert list_insights(s, uid, now=NOW + dt.timedelta(days=31)) == [listed[0]]  # duplicate expired
        mine = listed[1]["id"]
        theirs = list_insights(s, other, now=NOW)[0]["id"]
        with pytest.raises(NotFound):
            dismiss_insight(s, uid, theirs, now=NOW)
        assert dismiss_insight(s, uid, mine, now=NOW)["dismissed_at"] == NOW.isoformat()
        assert [r["id"] for r in list_insights(s, uid, now=NOW)] == [listed[0]["id"]]


def test_daily_fan_out_covers_users_active_this_week(stack: Stack) -> None:
    with stack.session() as s:
        recent, quiet, none = add_user(s), add_user(s), add_user(s)
        add_txn(s, recent, TODAY - dt.timedelta(days=6), -100)  # 7th day back, inclusive
        add_txn(s, quiet, TODAY - dt.timedelta(days=7), -100)
        del none
    slot = dt.datetime(2026, 3, 15, 5, 30, tzinfo=dt.UTC)
    with stack.session() as s:
        assert enqueue_daily_insights(s, stack.redis, slot=slot) == {"users": 1, "jobs": 1}
    queue = get_queue(stack.redis, "insight-generation")
    assert queue.job_ids == [f"insights-20260315-{recent}"]
    job = queue.fetch_job(f"insights-20260315-{recent}")
    assert job is not None and job.args == [recent, "2026-03-15"]


def test_cli_run_list_and_api_list_dismiss(stack: Stack) -> None:
    from finjobs.cli import insights as cli
    from finjobs.services.users import create_user
    from finjobs.web import create_app

    today = dt.datetime.now(stack.settings.tz).date()
    with stack.session() as s:
        me = create_user(s, "me@example.com")
        you = create_user(s, "you@example.com")
        for uid in (me.id, you.id):
            add_txn(s, uid, today - dt.timedelta(days=2), -4_500, description="ACME STORE")
            add_txn(s, uid, today - dt.timedelta(days=1), -4_500, description="ACME STORE")
    runner = CliRunner()
    res = runner.invoke(cli.app, ["run", "--user", "me@example.com", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["job_ids"] == [f"insights-{today:%Y%m%d}-{me.id}"]
    simple_worker(stack.redis, ["insight-generation"]).work(burst=True)
    res = runner.invoke(cli.app, ["list", "--user", str(me.id), "--json"])
    assert res.exit_code == 0, res.output
    listed = json.loads(res.stdout)["insights"]
    assert [i["type"] for i in listed] == ["duplicate_charge"]
    human = runner.invoke(cli.app, ["list", "--user", str(me.id)])
    assert human.exit_code == 0 and "Possible duplicate charge at Acme" in human.stdout
    with stack.session() as s:  # the other user's insight exists (the CLI ran only for me)
        run_insights_for_user(s, you.id, today=today)
        theirs = s.scalar(select(AiInsight.id).where(AiInsight.user_id == you.id))
    client = create_app(stack.settings).test_client()
    auth = {"Authorization": f"Bearer {me.token}"}
    assert client.get("/api/v1/insights").status_code == 401
    got = client.get("/api/v1/insights", headers=auth)
    assert got.status_code == 200 and got.get_json()["insights"] == listed
    mine = listed[0]["id"]
    assert client.post(f"/api/v1/insights/{theirs}/dismiss", headers=auth).status_code == 404
    assert client.post("/api/v1/insights/987654/dismiss", headers=auth).status_code == 404
    dismissed = client.post(f"/api/v1/insights/{mine}/dismiss", headers=auth)
    assert dismissed.status_code == 200 and dismissed.get_json()["dismissed_at"] is not None
    assert client.get("/api/v1/insights", headers=auth).get_json()["insights"] == []
    # the other user's insight was not touched
    other = client.get("/api/v1/insights", headers={"Authorization": f"Bearer {you.token}"}).get_json()
    assert [i["id"] for i in other["insights"]] == [theirs]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/insights", "/api/v1/insights/{insight_id}/dismiss"} <= set(spec["paths"])
