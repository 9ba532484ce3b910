"""Budget evaluation through the database (PostgreSQL and SQLite): the one aggregate query, every alert
branch at its boundary, scope rules, once-per-period storage, the cached status read, CLI and API."""

from __future__ import annotations

import datetime as dt
import json
import random

from sqlalchemy import func, select, text
from typer.testing import CliRunner

from finjobs.db.models import AiInsight
from finjobs.db.models import Budget as BudgetRow
from finjobs.queue import keys
from finjobs.queue.registry import get_queue
from finjobs.services.budget_queries import expense_sums_select
from finjobs.services.budgets import (
    budget_statuses,
    enqueue_daily_budget_checks,
    evaluate_budgets,
    spent_by_budget,
    user_chunks,
)
from tests.conftest import Stack
from tests.support.finance import add_budget, add_category, add_txn, add_user

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
D15 = dt.date(2026, 3, 15)  # 16 days left: no projection possible


def _types(session, budget_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    rows = session.scalars(
        select(AiInsight.type).where(AiInsight.payload["budget_id"].as_integer() == budget_id)
    )
    return sorted(rows)


def _case(session, spent: int, *, day: dt.date = D15, threshold: int = 80) -> int:  # type: ignore[no-untyped-def]
    """A user with one all-spending 100.00 USD budget for March and `spent` minor units of expenses."""
    uid = add_user(session)
    bid = add_budget(session, uid, 10_000, *MARCH, threshold_pct=threshold)
    if spent:
        add_txn(session, uid, MARCH[0], -spent)
    return bid


def test_every_alert_branch_at_its_boundary(stack: Stack) -> None:
    with stack.session() as s:
        cases = {
            "below_threshold": (_case(s, 7_999), []),
            "exactly_threshold": (_case(s, 8_000), ["budget_warning"]),
            "exactly_100_percent": (_case(s, 10_000), ["budget_warning"]),
            "one_cent_over": (_case(s, 10_001), ["budget_exceeded"]),
            "threshold_90_below": (_case(s, 8_999, threshold=90), []),
            "threshold_90_at": (_case(s, 9_000, threshold=90), ["budget_warning"]),
            "threshold_100_at": (_case(s, 10_000, threshold=100), ["budget_warning"]),
            "nothing_spent": (_case(s, 0), []),
        }
    with stack.session() as s:
        run = evaluate_budgets(s, stack.redis, today=D15)
        assert run.budgets == len(cases)
        for name, (bid, expected) in cases.items():
            assert _types(s, bid) == expected, name
        # The stored alert carries the numbers of the day.
        exceeded = s.scalar(select(AiInsight).where(AiInsight.type == "budget_exceeded"))
        assert exceeded is not None and exceeded.severity == "critical"
        assert exceeded.payload["spent"] == "100.01" and exceeded.payload["over"] == "0.01"
        assert exceeded.expires_at == dt.datetime(2026, 4, 2, tzinfo=dt.UTC)


def test_projection_needs_fewer_than_ten_days_left(stack: Stack) -> None:
    """7,500 of 10,000 spent: on pace to overspend (7500 x 31 > 10000 x 21) and under the 80% warning.
    With exactly 10 days left (21 March) nothing fires; with 9 left (22 March) the projection does."""
    with stack.session() as s:
        ten_left = _case(s, 7_500)
        nine_left = _case(s, 7_500)
        slow = _case(s, 5_001)  # > 50% but the pace stays under budget: 5001 x 31 < 10000 x 22
        half = _case(s, 5_000)  # exactly 50% is not "more than half"
        warn_and_project = _case(s, 8_500)
    with stack.session() as s:
        evaluate_budgets(s, stack.redis, today=dt.date(2026, 3, 21), user_ids=[_owner(s, ten_left)])
        others = [_owner(s, b) for b in (nine_left, slow, half, warn_and_project)]
        evaluate_budgets(s, stack.redis, today=dt.date(2026, 3, 22), user_ids=others)
        assert _types(s, ten_left) == []
        assert _types(s, nine_left) == ["budget_projection"]
        assert _types(s, slow) == []
        assert _types(s, half) == []
        assert _types(s, warn_and_project) == ["budget_projection", "budget_warning"]
        proj = s.scalar(
            select(AiInsight).where(AiInsight.type == "budget_projection", AiInsight.user_id == others[0])
        )
        assert proj is not None and proj.severity == "info"
        assert proj.payload["projected"] == "105.68"  # 7500 x 31 / 22 = 10568.18...


def _owner(session, budget_id: int) -> int:  # type: ignore[no-untyped-def]
    from finjobs.db.models import Budget

    row = session.get(Budget, budget_id)
    return row.user_id


def test_spent_counts_the_right_transactions(stack: Stack) -> None:
    """Category budget: its category only. All-spending budget: every category and none. Both: posted
    expenses in the budget's currency from start_date to today; income, pending, other currencies,
    days before the start and after today do not count."""
    with stack.session() as s:
        uid = add_user(s)
        food = add_category(s, uid, "food")
        fun = add_category(s, uid, "fun")
        b_food = add_budget(s, uid, 50_000, *MARCH, category_id=food)
        b_fun = add_budget(s, uid, 50_000, *MARCH, category_id=fun)
        b_all = add_budget(s, uid, 50_000, *MARCH)
        add_txn(s, uid, dt.date(2026, 3, 1), -1_000, category_id=food)  # first day counts
        add_txn(s, uid, D15, -200, category_id=food)  # today counts
        add_txn(s, uid, dt.date(2026, 3, 5), -30, category_id=fun)
        add_txn(s, uid, dt.date(2026, 3, 6), -4, category_id=None)  # uncategorised: all only
        add_txn(s, uid, dt.date(2026, 2, 28), -70_000, category_id=food)  # before start
        add_txn(s, uid, dt.date(2026, 3, 16), -80_000, category_id=food)  # after today
        add_txn(s, uid, dt.date(2026, 3, 7), 90_000, category_id=food)  # income
        add_txn(s, uid, dt.date(2026, 3, 7), -60_000, category_id=food, status="pending")
        add_txn(s, uid, dt.date(2026, 3, 7), -50_000, category_id=food, currency="EUR")
        other = add_user(s)  # another user's spending never counts
        add_txn(s, other, D15, -99_999, category_id=None)
    with stack.session() as s:
        spent = {b.id: v for b, v in spent_by_budget(s, D15)}
    assert spent == {b_food: 1_200, b_fun: 30, b_all: 1_234}


def test_deleted_inactive_and_out_of_period_budgets_are_ignored(stack: Stack) -> None:
    with stack.session() as s:
        uid = add_user(s)
        add_txn(s, uid, D15, -99_000)
        live = add_budget(s, uid, 10_000, *MARCH)
        add_budget(s, uid, 10_000, *MARCH, deleted=True)
        add_budget(s, uid, 10_000, *MARCH, is_active=False)
        add_budget(s, uid, 10_000, dt.date(2026, 3, 16), dt.date(2026, 4, 15))  # starts tomorrow
        add_budget(s, uid, 10_000, dt.date(2026, 2, 1), dt.date(2026, 3, 14))  # ended yesterday
        last_day = add_budget(s, uid, 10_000, dt.date(2026, 2, 15), D15)  # ends today: in force
    with stack.session() as s:
        run = evaluate_budgets(s, stack.redis, today=D15)
        assert run.budgets == 2
        assert {i.type for i in s.scalars(select(AiInsight))} == {"budget_exceeded"}
        assert sorted(_types(s, live) + _types(s, last_day)) == ["budget_exceeded", "budget_exceeded"]
        assert s.scalar(select(func.count()).select_from(AiInsight)) == 2


def test_an_alert_is_stored_once_per_budget_type_and_period(stack: Stack) -> None:
    with stack.session() as s:
        uid = add_user(s)
        bid = add_budget(s, uid, 10_000, *MARCH)
        add_txn(s, uid, dt.date(2026, 3, 2), -8_500)
    with stack.session() as s:
        first = evaluate_budgets(s, stack.redis, today=D15)
    with stack.session() as s:
        again = evaluate_budgets(s, stack.redis, today=dt.date(2026, 3, 16))
    assert (first.alerts, len(first.new_insights)) == (1, 1)
    assert (again.alerts, len(again.new_insights)) == (1, 0)  # the rule still fires; nothing new stored
    with stack.session() as s:
        add_txn(s, uid, dt.date(2026, 3, 16), -2_000)  # now over: a new type in the same period
    with stack.session() as s:
        over = evaluate_budgets(s, stack.redis, today=dt.date(2026, 3, 17))
        assert [n.type for n in over.new_insights] == ["budget_exceeded"]
        assert _types(s, bid) == ["budget_exceeded", "budget_warning"]
        keys_ = sorted(s.scalars(select(AiInsight.dedup_key)))
    assert keys_ == [
        f"u{uid}:budget:{bid}:budget_exceeded:2026-03-01",
        f"u{uid}:budget:{bid}:budget_warning:2026-03-01",
    ]


def test_status_is_cached_and_evaluation_refreshes_it(stack: Stack) -> None:
    with stack.session() as s:
        uid = add_user(s)
        cat = add_category(s, uid, "groceries")
        bid = add_budget(s, uid, 10_000, *MARCH, category_id=cat)
        add_txn(s, uid, dt.date(2026, 3, 3), -2_500, category_id=cat)
    with stack.session() as s:
        first = budget_statuses(s, stack.redis, uid, today=D15)
    assert [(r["budget_id"], r["category"], r["spent"], r["percent"], r["state"]) for r in first] == [
        (bid, "groceries", "25.00", "25.0", "ok")
    ]
    ttl = stack.redis.ttl(keys.budget_status(uid))
    assert 0 < ttl <= keys.BUDGET_STATUS_TTL
    with stack.session() as s:
        add_txn(s, uid, dt.date(2026, 3, 4), -6_000, category_id=cat)
        cached = budget_statuses(s, stack.redis, uid, today=D15)
    assert cached == first  # served from Redis until invalidated
    with stack.session() as s:
        run = evaluate_budgets(s, stack.redis, today=D15)
        assert run.cache_keys_deleted == 1
        fresh = budget_statuses(s, stack.redis, uid, today=D15)
    assert (fresh[0]["spent"], fresh[0]["state"]) == ("85.00", "warning")
    with stack.session() as s:
        tomorrow = budget_statuses(s, stack.redis, uid, today=dt.date(2026, 3, 16))
    assert tomorrow[0]["days_left"] == 15  # a cached day is not served on the next day


def test_daily_fan_out_splits_users_into_ranges_with_deterministic_ids(stack: Stack) -> None:
    with stack.session() as s:
        users = [add_user(s) for _ in range(5)]
        for u in users:
            add_budget(s, u, 10_000, *MARCH)
        add_budget(s, add_user(s), 10_000, *MARCH, deleted=True)  # not a candidate
    with stack.session() as s:
        chunks, n = user_chunks(s, today=D15, size=2)
        assert n == 5
        assert chunks == [(users[0], users[1]), (users[2], users[3]), (users[4], users[4])]
        slot = dt.datetime(2026, 3, 15, 6, 0, tzinfo=dt.UTC)
        assert enqueue_daily_budget_checks(s, stack.redis, slot=slot) == {"users": 5, "jobs": 1}
        assert enqueue_daily_budget_checks(s, stack.redis, slot=slot) == {"users": 5, "jobs": 1}
    queue = get_queue(stack.redis, "budget-evaluation")
    assert queue.job_ids == ["budgets-20260315-1-of-1"]  # the second fan-out found it queued
    job = queue.fetch_job("budgets-20260315-1-of-1")
    assert job is not None and job.args == ["2026-03-15"] and job.kwargs == {"lo": users[0], "hi": users[4]}


def test_cli_create_status_and_api_status(stack: Stack) -> None:
    from finjobs.cli import budgets as cli
    from finjobs.services.users import create_user
    from finjobs.web import create_app

    today = dt.datetime.now(stack.settings.tz).date()
    with stack.session() as s:
        me = create_user(s, "me@example.com")
        you = create_user(s, "you@example.com")
    runner = CliRunner()
    res = runner.invoke(
        cli.app,
        ["create", "--user", "me@example.com", "--amount", "500.00", "--category", "Dining",
         "--start", today.replace(day=1).isoformat(), "--end", (today + dt.timedelta(days=20)).isoformat(),
         "--threshold", "75", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    created = json.loads(res.stdout)
    assert (created["amount_minor"], created["category"], created["alert_threshold_pct"]) == (
        50_000,
        "Dining",
        75,
    )
    with stack.session() as s:
        add_txn(s, me.id, today, -40_000, category_id=created["category_id"])
    res = runner.invoke(cli.app, ["status", "--user", str(me.id), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [(b["category"], b["spent"], b["percent"], b["state"]) for b in doc["budgets"]] == [
        ("Dining", "400.00", "80.0", "warning")
    ]
    table = runner.invoke(cli.app, ["status", "--user", "me@example.com"])
    assert table.exit_code == 0 and "Dining" in table.stdout and "warning" in table.stdout
    bad = runner.invoke(cli.app, ["create", "--user", str(me.id), "--amount", "lots", "--start", "2026-03-01",
                                  "--end", "2026-03-31"])  # fmt: skip
    assert bad.exit_code != 0 and "amount" in str(bad.exception or bad.output)
    client = create_app(stack.settings).test_client()
    assert client.get("/api/v1/budgets/status").status_code == 401
    mine = client.get("/api/v1/budgets/status", headers={"Authorization": f"Bearer {me.token}"})
    assert mine.status_code == 200
    assert mine.get_json()["budgets"] == doc["budgets"]
    theirs = client.get("/api/v1/budgets/status", headers={"Authorization": f"Bearer {you.token}"})
    assert theirs.get_json()["budgets"] == []
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/budgets/status" in spec["paths"]


def test_cli_evaluate_enqueues_the_chunks_and_the_job_stores_alerts(stack: Stack) -> None:
    from finjobs.cli import budgets as cli
    from finjobs.queue.worker import simple_worker

    today = dt.datetime.now(stack.settings.tz).date()
    with stack.session() as s:
        uid = add_user(s)
        add_budget(s, uid, 10_000, today.replace(day=1), today + dt.timedelta(days=30))
        add_txn(s, uid, today, -12_000)
    res = CliRunner().invoke(cli.app, ["evaluate", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["users"] == 1 and doc["job_ids"] == [f"budgets-{today:%Y%m%d}-1-of-1"]
    simple_worker(stack.redis, ["budget-evaluation"]).work(burst=True)
    job = get_queue(stack.redis, "budget-evaluation").fetch_job(doc["job_ids"][0])
    assert job is not None
    result = job.return_value()
    assert (result["budgets"], result["alerts"], result["inserted"]) == (1, 1, 1)
    assert result["notification_jobs"] == 0  # no channel configured
    with stack.session() as s:
        assert [i.type for i in s.scalars(select(AiInsight))] == ["budget_exceeded"]


def test_spent_is_the_same_for_every_scope_and_start_date_mix(stack: Stack) -> None:
    """The aggregate query has two shapes: budgets in scope sharing one start date (sums per user and
    category), or not (per-day sums, each budget adding its own days). All give the same numbers."""
    with stack.session() as s:
        mixed = add_user(s)
        food = add_category(s, mixed, "food")
        early = add_budget(s, mixed, 50_000, dt.date(2026, 3, 1), dt.date(2026, 3, 31), category_id=food)
        late = add_budget(s, mixed, 50_000, dt.date(2026, 3, 10), dt.date(2026, 4, 9), category_id=food)
        late_all = add_budget(s, mixed, 50_000, dt.date(2026, 3, 10), dt.date(2026, 4, 9))
        add_txn(s, mixed, dt.date(2026, 3, 5), -700, category_id=food)
        add_txn(s, mixed, dt.date(2026, 3, 10), -300, category_id=food)  # a late budget's first day
        add_txn(s, mixed, dt.date(2026, 3, 12), -50)
        same = add_user(s)
        b1 = add_budget(s, same, 50_000, *MARCH)
        add_txn(s, same, dt.date(2026, 3, 2), -11)
        add_txn(s, same, dt.date(2026, 2, 28), -99)
    expected = {early: 1_000, late: 300, late_all: 350, b1: 11}
    with stack.session() as s:
        assert {b.id: v for b, v in spent_by_budget(s, D15)} == expected
        assert {b.id: v for b, v in spent_by_budget(s, D15, user_ids=[mixed])} == {
            k: expected[k] for k in (early, late, late_all)
        }
        assert {b.id: v for b, v in spent_by_budget(s, D15, user_ids=[same])} == {b1: 11}
        lo, hi = sorted((mixed, same))
        assert {b.id: v for b, v in spent_by_budget(s, D15, user_range=(lo, hi))} == expected


def test_a_row_the_domain_rejects_is_skipped_not_fatal(stack: Stack) -> None:
    with stack.session() as s:
        uid = add_user(s)
        add_txn(s, uid, D15, -20_000)
        add_budget(s, uid, 10_000, *MARCH, threshold_pct=0)  # written around create_budget's checks
        good = add_budget(s, uid, 10_000, *MARCH)
    with stack.session() as s:
        run = evaluate_budgets(s, stack.redis, today=D15)
        assert [n.type for n in run.new_insights] == ["budget_exceeded"]
        assert _types(s, good) == ["budget_exceeded"]


def _random_ledger(s, rng: random.Random) -> tuple[dict[str, list[int]], list[tuple], list[tuple]]:  # type: ignore[no-untyped-def,type-arg]
    """Users whose budgets share 1 March as start ("same"), or not ("mixed"), in USD and EUR, with
    transactions of every kind around them; returns the users and what was written, as tuples."""
    users: dict[str, list[int]] = {"same": [], "mixed": [], "eur": []}
    budgets, txns = [], []
    for kind in ("same", "same", "eur", "mixed", "mixed", "same"):
        uid = add_user(s)
        users[kind].append(uid)
        cats = [add_category(s, uid, f"c{k}") for k in range(3)]
        for k in range(rng.randint(2, 5)):
            category = rng.choice([None, *cats])
            currency = "EUR" if kind == "eur" else rng.choice(["USD", "USD", "EUR"])
            start = (
                MARCH[0]
                if kind != "mixed"
                else rng.choice([MARCH[0], dt.date(2026, 3, 9), dt.date(2026, 2, 20)])
            )
            end = max(D15, start + dt.timedelta(days=rng.randint(0, 40)))
            live = k == 0 or rng.random() < 0.85
            deleted = not live and rng.random() < 0.5  # not in force: deleted, or else inactive
            bid = add_budget(s, uid, rng.randint(0, 90_000), start, end, category_id=category,
                             currency=currency, is_active=live or deleted, deleted=deleted)  # fmt: skip
            budgets.append((bid, uid, category, currency, start, end, live))
        for _ in range(rng.randint(0, 40)):
            day = dt.date(2026, 2, 10) + dt.timedelta(days=rng.randint(0, 45))
            amount = rng.choice([-1, -1, -1, 1]) * rng.randint(1, 30_000)
            category = rng.choice([None, *cats])
            currency = rng.choice(["USD", "USD", "EUR"])
            status = rng.choice(["posted", "posted", "posted", "pending"])
            add_txn(s, uid, day, amount, category_id=category, currency=currency, status=status)
            txns.append((uid, day, amount, category, currency, status))
    return users, budgets, txns


def _reference(budgets: list[tuple], txns: list[tuple], today: dt.date, users: set[int]) -> dict[int, int]:  # type: ignore[type-arg]
    """The design's definition, one budget at a time, in plain Python."""
    out = {}
    for bid, uid, category, currency, start, end, live in budgets:
        if uid not in users or not live or not start <= today <= end:
            continue
        out[bid] = sum(
            -amount
            for t_user, day, amount, t_category, t_currency, status in txns
            if t_user == uid and t_currency == currency and status == "posted" and amount < 0
            and start <= day <= today and (category is None or t_category == category)
        )  # fmt: skip
    return out


def test_spent_matches_a_budget_by_budget_reference_on_random_ledgers(stack: Stack) -> None:
    """Random ledgers, every query shape: one start date or several, one currency or two, the whole
    table, a user range, given users, given budgets. The one aggregate query agrees with the
    definition."""
    all_budgets: list[tuple] = []  # type: ignore[type-arg]
    all_txns: list[tuple] = []  # type: ignore[type-arg]
    everyone: set[int] = set()
    for seed in range(4):  # each seed adds users to the same database: the whole table grows
        rng = random.Random(seed)
        with stack.session() as s:
            users, budgets, txns = _random_ledger(s, rng)
        all_budgets += budgets
        all_txns += txns
        ours = {u for group in users.values() for u in group}
        everyone |= ours
        lo, hi = min(ours) + 1, max(ours) - 1
        scopes: list[tuple[dict, set[int]]] = [  # type: ignore[type-arg]
            ({}, everyone),
            ({"user_ids": users["same"]}, set(users["same"])),  # one start, USD and EUR
            ({"user_ids": users["eur"]}, set(users["eur"])),  # one start, one currency
            ({"user_ids": users["mixed"]}, set(users["mixed"])),  # per-day sums
            ({"user_range": (lo, hi)}, set(range(lo, hi + 1))),
        ]
        with stack.session() as s:
            for scope, in_scope in scopes:
                got = {b.id: v for b, v in spent_by_budget(s, D15, **scope)}
                assert got == _reference(all_budgets, all_txns, D15, in_scope), (seed, scope)
            # Given budgets (in force or not): those in force, with the same figures.
            picked = [b[0] for b in rng.sample(all_budgets, min(5, len(all_budgets)))]
            got = {b.id: v for b, v in spent_by_budget(s, D15, budget_ids=picked)}
            expected = _reference(all_budgets, all_txns, D15, everyone)
            assert got == {k: v for k, v in expected.items() if k in picked}, (seed, picked)


def test_the_aggregate_reads_the_partial_expense_index(db_url: str) -> None:
    """PostgreSQL proves the literal expense test implies the partial index's WHERE and reads that
    index alone (sequential and bitmap scans off: an empty table would rather be scanned). SQLite,
    without statistics, ranks it level with ix_transactions_user_date (the pick follows the order
    the indexes were created in): either way each user's date window is searched, never the table."""
    from finjobs.db.engine import session_scope
    from finjobs.services.budget_queries import _scope

    stmt_args = {"since": MARCH[0], "currencies": ["USD", "EUR"], "per_day": True}
    with session_scope(db_url) as s:
        conn = s.connection()
        if conn.dialect.name == "postgresql":
            s.execute(text("SET LOCAL enable_seqscan = off"))
            s.execute(text("SET LOCAL enable_bitmapscan = off"))
            compiled = expense_sums_select(D15, user_ids=[1, 2], **stmt_args).compile(
                dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
            )
            with conn.connection.driver_connection.cursor() as cur:  # type: ignore[union-attr]
                cur.execute("EXPLAIN " + str(compiled), compiled.params)
                plan = "\n".join(r[0] for r in cur.fetchall())
            assert "Index Only Scan using ix_transactions_expenses" in plan, plan
            assert "Filter: ((amount_minor" not in plan and "status" not in plan, plan  # the index's WHERE
        else:
            users = select(BudgetRow.__table__.c.user_id).where(*_scope(D15, user_range=(1, 9)))
            compiled = expense_sums_select(D15, user_scope=users, **stmt_args).compile(
                dialect=conn.dialect, compile_kwargs={"literal_binds": True}
            )
            plan = "\n".join(str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled)))
            searched = [line for line in plan.splitlines() if " transactions " in f" {line} "]
            assert len(searched) == 1, plan
            assert searched[0].startswith("SEARCH transactions USING INDEX ix_transactions_"), plan
            assert "(user_id=? AND date>? AND date<?)" in searched[0], plan
