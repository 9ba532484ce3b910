"""Budget alert rules at their boundaries, the status read, and the cheap builder of active budgets
(active_budget, and the service's budgets_of_rows over it, pure). No I/O."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finjobs.domain.budgets import Budget, budget_status, evaluate_budget, in_force
from finjobs.errors import InputError
from finjobs.services.budgets import budgets_of_rows, threshold_fraction

# A 30-day period: Nov 1..30. On Nov 20 days_left = 10, on Nov 21 days_left = 9.
START, END = date(2026, 11, 1), date(2026, 11, 30)
MID = date(2026, 11, 10)  # 20 days left: projection never applies
BUDGET = Budget(
    id=7,
    user_id=3,
    category_id=12,
    amount_minor=50_000,
    currency="USD",
    start_date=START,
    end_date=END,
    alert_threshold=Decimal("0.80"),
)


def types(drafts: list) -> list[str]:
    return [d.type for d in drafts]


@pytest.mark.parametrize(
    ("spent", "expected"),
    [
        (0, []),
        (39_999, []),  # just under 80%
        (40_000, ["budget_warning"]),  # exactly the threshold: warning (>=)
        (49_999, ["budget_warning"]),
        (50_000, ["budget_warning"]),  # exactly 100%: on budget, not exceeded
        (50_001, ["budget_exceeded"]),  # one cent over: exceeded, and only exceeded
        (90_000, ["budget_exceeded"]),
    ],
)
def test_exceeded_and_warning_boundaries(spent: int, expected: list[str]) -> None:
    assert types(evaluate_budget(BUDGET, spent, MID)) == expected


def test_custom_threshold_fraction() -> None:
    b = replace(BUDGET, alert_threshold=Decimal("0.5"))
    assert types(evaluate_budget(b, 24_999, MID)) == []
    assert types(evaluate_budget(b, 25_000, MID)) == ["budget_warning"]


def test_severities_and_dedup_key() -> None:
    (exceeded,) = evaluate_budget(BUDGET, 60_000, MID)
    assert exceeded.severity == "critical"
    assert exceeded.user_id == 3
    assert exceeded.dedup_key == "budget:7:budget_exceeded:2026-11-01"
    assert exceeded.payload["over"] == "100.00"
    assert "600.00 of 500.00 USD" in exceeded.message
    (warning,) = evaluate_budget(BUDGET, 45_000, MID)
    assert warning.severity == "warning"
    assert warning.dedup_key == "budget:7:budget_warning:2026-11-01"
    assert "90.0%" in warning.message and "alert at 80%" in warning.message
    # Same budget, same period, another day: same key, so the store shows it once.
    assert evaluate_budget(BUDGET, 46_000, date(2026, 11, 12))[0].dedup_key == warning.dedup_key
    # Next period of a rolling budget: a new key.
    nxt = replace(BUDGET, start_date=date(2026, 12, 1), end_date=date(2026, 12, 31))
    assert (
        evaluate_budget(nxt, 45_000, date(2026, 12, 10))[0].dedup_key == "budget:7:budget_warning:2026-12-01"
    )


def test_payload_is_json_primitives() -> None:
    for d in evaluate_budget(BUDGET, 45_000, date(2026, 11, 25)):
        assert json.loads(json.dumps(d.payload)) == d.payload


# Projection: > 50% spent, fewer than 10 days left, straight-line projection above the amount.
# 30-day period; on day 21 (Nov 21, 9 days left) spending 26_000 projects to 26_000/21*30 = 37_142.
# Spending 36_000 on Nov 21 projects to 51_428 > 50_000.
@pytest.mark.parametrize(
    ("today", "spent", "expected"),
    [
        (date(2026, 11, 20), 36_000, []),  # days_left == 10: not "fewer than 10"
        (date(2026, 11, 21), 36_000, ["budget_projection"]),  # days_left == 9
        (date(2026, 11, 21), 26_000, []),  # over 50% but projects under budget
        (date(2026, 11, 30), 25_000, []),  # exactly 50%: not over 50%
        (date(2026, 11, 30), 25_001, []),  # last day: projection == spent, under budget
        (date(2026, 11, 25), 41_000, ["budget_warning"]),  # projects 49_200: under
        (date(2026, 11, 25), 42_000, ["budget_warning", "budget_projection"]),  # 50_400: both fire
        (date(2026, 11, 25), 51_000, ["budget_exceeded"]),  # never alongside exceeded
    ],
)
def test_projection_boundaries(today: date, spent: int, expected: list[str]) -> None:
    assert types(evaluate_budget(BUDGET, spent, today)) == expected


def test_projection_exactly_at_budget_does_not_fire() -> None:
    # Day 24 of 30: 40_000 * 30 / 24 = 50_000 exactly, which does not pass the budget.
    b = replace(BUDGET, alert_threshold=Decimal("1"))
    assert types(evaluate_budget(b, 40_000, date(2026, 11, 24))) == []
    assert types(evaluate_budget(b, 40_001, date(2026, 11, 24))) == ["budget_projection"]
    (p,) = evaluate_budget(b, 40_001, date(2026, 11, 24))
    assert p.severity == "info"
    assert p.payload["projected"] == "500.01"
    assert p.payload["days_left"] == 6


def test_all_categories_budget_is_category_none() -> None:
    b = replace(BUDGET, category_id=None)
    (d,) = evaluate_budget(b, 60_000, MID)
    assert d.payload["category_id"] is None
    assert "all spending" in d.message
    (d2,) = evaluate_budget(BUDGET, 60_000, MID)
    assert d2.payload["category_id"] == 12
    assert "category 12" in d2.message


@pytest.mark.parametrize(
    "budget",
    [
        replace(BUDGET, is_active=False),
        replace(BUDGET, deleted_at=datetime(2026, 11, 5, tzinfo=UTC)),
    ],
    ids=["inactive", "deleted"],
)
def test_inactive_and_deleted_budgets_are_ignored(budget: Budget) -> None:
    assert evaluate_budget(budget, 90_000, MID) == []
    assert budget_status(budget, 90_000, MID)["in_force"] is False


@pytest.mark.parametrize(
    ("today", "fires"),
    [
        (date(2026, 10, 31), False),
        (START, True),  # inclusive start
        (END, True),  # inclusive end
        (date(2026, 12, 1), False),
    ],
)
def test_period_is_inclusive_and_outside_is_ignored(today: date, fires: bool) -> None:
    assert in_force(BUDGET, today) is fires
    assert bool(evaluate_budget(BUDGET, 90_000, today)) is fires


def test_status_read() -> None:
    s = budget_status(BUDGET, 41_234, date(2026, 11, 21))
    assert s == {
        "budget_id": 7,
        "category_id": 12,
        "currency": "USD",
        "amount": "500.00",
        "spent": "412.34",
        "remaining": "87.66",
        "percent": "82.5",
        "start_date": "2026-11-01",
        "end_date": "2026-11-30",
        "days_elapsed": 21,
        "days_left": 9,
        "total_days": 30,
        "in_force": True,
        "state": "warning",
    }
    assert budget_status(BUDGET, 50_000, MID)["state"] == "warning"
    assert budget_status(BUDGET, 50_001, MID)["state"] == "exceeded"
    assert budget_status(BUDGET, 50_001, MID)["remaining"] == "-0.01"
    assert budget_status(BUDGET, 100, MID)["state"] == "ok"
    # Outside the period the day counts clamp instead of going negative.
    before = budget_status(BUDGET, 0, date(2026, 10, 1))
    assert (before["days_elapsed"], before["days_left"]) == (0, 30)
    after = budget_status(BUDGET, 0, date(2027, 1, 1))
    assert (after["days_elapsed"], after["days_left"]) == (30, 0)


def test_zero_budget_and_other_currency() -> None:
    zero = replace(BUDGET, amount_minor=0)
    assert evaluate_budget(zero, 0, MID) == []
    assert types(evaluate_budget(zero, 1, MID)) == ["budget_exceeded"]
    assert budget_status(zero, 1, MID)["percent"] is None
    yen = replace(BUDGET, currency="JPY", amount_minor=30_000)
    (d,) = evaluate_budget(yen, 31_000, MID)
    assert d.payload["over"] == "1000"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"amount_minor": -1},
        {"end_date": date(2026, 10, 1)},
        {"alert_threshold": Decimal("80")},
        {"alert_threshold": Decimal("0")},
    ],
)
def test_invalid_budget_is_input_error(kwargs: dict) -> None:
    with pytest.raises(InputError):
        replace(BUDGET, **kwargs)


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=10**9),
    spent=st.integers(min_value=0, max_value=2 * 10**9),
    day=st.integers(min_value=0, max_value=29),
    threshold=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1"), places=2),
)
def test_rules_are_consistent(amount: int, spent: int, day: int, threshold: Decimal) -> None:
    b = replace(BUDGET, amount_minor=amount, alert_threshold=threshold)
    today = date.fromordinal(START.toordinal() + day)
    kinds = types(evaluate_budget(b, spent, today))
    state = budget_status(b, spent, today)["state"]
    assert ("budget_exceeded" in kinds) == (spent > amount) == (state == "exceeded")
    assert ("budget_warning" in kinds) == (state == "warning")
    assert not ("budget_exceeded" in kinds and "budget_warning" in kinds)
    if "budget_projection" in kinds:
        assert spent * 2 > amount and (END - today).days < 10 and spent <= amount


budget_row = st.tuples(
    st.integers(min_value=1, max_value=2**40),  # id
    st.integers(min_value=1, max_value=2**40),  # user_id
    st.none() | st.integers(min_value=1, max_value=2**40),  # category_id
    st.integers(min_value=-3, max_value=10**12),  # amount_minor (negative: the domain rejects it)
    st.sampled_from(["USD", "EUR", "JPY"]),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),  # start_date
    st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 1, 31)),  # end_date, maybe before start
    st.integers(min_value=-2, max_value=103),  # alert_threshold_pct, valid 1..100
)


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(st.tuples(budget_row, st.integers(min_value=0, max_value=10**12)), max_size=8))
def test_budgets_of_rows_builds_what_the_constructor_builds(batch: list) -> None:
    """Every row gives the Budget the constructor gives (same fields, equality, hash, repr), paired
    with its spent, in order; a row the constructor rejects is left out. (Were a field added to
    Budget and not to active_budget, vars() would differ here.)"""
    expected = []
    for (id_, user, category, amount, currency, start, end, pct), spent in batch:
        try:
            budget = Budget(id_, user, category, amount, currency, start, end, threshold_fraction(pct))
        except InputError:
            continue
        expected.append((budget, spent))
    got = budgets_of_rows(batch)
    assert got == expected
    for (g, g_spent), (e, e_spent) in zip(got, expected, strict=True):
        assert type(g) is Budget and vars(g) == vars(e) and g_spent == e_spent
        assert hash(g) == hash(e) and repr(g) == repr(e)
        assert replace(g, amount_minor=1) == replace(e, amount_minor=1)


def test_budgets_of_rows_logs_and_skips_a_rejected_row(caplog: pytest.LogCaptureFixture) -> None:
    good = (1, 2, None, 100, "USD", START, END, 80)
    zero_threshold = (3, 2, None, 100, "USD", START, END, 0)
    ends_early = (4, 2, 9, 100, "USD", END, START, 80)
    got = budgets_of_rows([(good, 5), (zero_threshold, 6), (ends_early, 7)])
    assert [(b.id, b.alert_threshold, spent) for b, spent in got] == [(1, Decimal("0.8"), 5)]
    assert "budget 3 skipped" in caplog.text and "budget 4 skipped" in caplog.text
