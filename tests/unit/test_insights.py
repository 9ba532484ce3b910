"""Insight rules on small hand-built histories: each rule firing, its negatives, and stable dedup keys."""

from __future__ import annotations

import calendar
import json
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from finjobs.domain.insights import (
    InsightDraft,
    category_creep,
    duplicate_charge,
    generate_insights,
    large_expense,
    recurring_insights,
    spending_spike,
)
from finjobs.domain.recurring import Txn

TODAY = date(2026, 11, 20)
_ids = iter(range(1, 10**9))


def tx(d: date, amount_minor: int, description: str = "SHOP", category: str | None = None) -> Txn:
    return Txn(next(_ids), d, amount_minor, description, category)


def monthly(day: int, start: tuple[int, int], n: int) -> list[date]:
    y, m = start
    out = []
    for _ in range(n):
        out.append(date(y, m, min(day, calendar.monthrange(y, m)[1])))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def weekly_dining(weeks: int, end: date, per_week_minor: int) -> list[Txn]:
    """Two dinners a week, ending the week before `end`'s 7-day window."""
    out = []
    for w in range(weeks):
        d = end - timedelta(days=7 + 7 * w + 2)
        out += [tx(d, -per_week_minor // 2, "OLIVE GARDEN", "dining")]
        out += [tx(d - timedelta(days=3), -per_week_minor // 2, "CHIPOTLE", "dining")]
    return out


def keys(drafts: list[InsightDraft]) -> list[str]:
    return [d.dedup_key for d in drafts]


def assert_json(drafts: list[InsightDraft]) -> None:
    for d in drafts:
        assert json.loads(json.dumps(d.payload)) == d.payload
        assert d.severity in {"info", "warning", "critical"}


# --- spending spike ------------------------------------------------------------------------------


def test_spike_fires_and_explains_itself() -> None:
    history = weekly_dining(9, TODAY, 10_000)  # 100.00 a week
    recent = [
        tx(TODAY - timedelta(days=2), -18_000, "STEAKHOUSE", "dining"),
        tx(TODAY, -7_000, "BAR", "dining"),
    ]
    (d,) = spending_spike(history + recent, TODAY)
    assert d.type == "spending_spike" and d.severity == "warning"
    assert d.payload["recent"] == "250.00"
    assert d.payload["baseline_weekly_mean"] == "100.00"
    assert d.payload["ratio"] == "2.5"
    assert "250.00 USD on dining in the last 7 days, 2.5x your weekly average of 100.00 USD" in d.message
    # The steakhouse alone (180.00) was under 2x; the bar today made it 250.00, so the episode
    # starts today and the key names it; tomorrow, with the same data, the key is the same.
    assert d.dedup_key == f"spending_spike:dining:{TODAY.isoformat()}"
    (again,) = spending_spike(history + recent, TODAY + timedelta(days=1))
    assert again.dedup_key == d.dedup_key
    assert_json([d])


def test_spike_episode_key_is_stable_across_days() -> None:
    history = weekly_dining(10, TODAY, 10_000)
    big = [tx(TODAY - timedelta(days=4), -40_000, "STEAKHOUSE", "dining")]
    runs = [spending_spike(history + big, TODAY + timedelta(days=i)) for i in range(3)]
    assert {k for r in runs for k in keys(r)} == {
        f"spending_spike:dining:{(TODAY - timedelta(days=4)).isoformat()}"
    }


@pytest.mark.parametrize(
    ("recent_minor", "fires"),
    [
        (10_000, False),  # steady spend: no spike
        (20_000, False),  # exactly 2x the weekly mean: not "above" 2x
        (20_100, True),  # just above 2x, and the 101.00 excess passes the 50.00 floor
    ],
)
def test_spike_threshold(recent_minor: int, fires: bool) -> None:
    history = weekly_dining(9, TODAY, 10_000)
    recent = [tx(TODAY - timedelta(days=1), -recent_minor, "DINER", "dining")]
    expected = [f"spending_spike:dining:{TODAY - timedelta(days=1)}"] if fires else []
    assert keys(spending_spike(history + recent, TODAY)) == expected


def test_no_spike_below_the_floor_or_without_baseline() -> None:
    small = weekly_dining(9, TODAY, 1_000)  # 10.00 a week
    assert spending_spike([*small, tx(TODAY, -5_000, "DINER", "dining")], TODAY) == []  # 40 excess < 50
    assert spending_spike([*small, tx(TODAY, -6_100, "DINER", "dining")], TODAY) != []
    # A new user (history shorter than the 8-week baseline) gets no spikes at all.
    young = weekly_dining(4, TODAY, 10_000)
    assert spending_spike([*young, tx(TODAY, -90_000, "DINER", "dining")], TODAY) == []
    # Uncategorised spending has no baseline of its own.
    assert spending_spike([*small, tx(TODAY, -90_000, "DINER", None)], TODAY) == []


# --- category creep ------------------------------------------------------------------------------


def creep_history(totals: list[int], last_month: tuple[int, int] = (2026, 10)) -> list[Txn]:
    """One groceries txn per month with the given totals, ending in `last_month`."""
    y, m = last_month
    out = []
    for total in reversed(totals):
        out.append(tx(date(y, m, 10), -total, "SAFEWAY", "groceries"))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def test_creep_fires_on_three_months_of_growth() -> None:
    (d,) = category_creep(creep_history([40_000, 44_000, 50_000, 56_000]), TODAY)
    assert d.type == "category_creep" and d.severity == "info"
    assert d.payload["months"] == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert d.payload["totals"] == ["400.00", "440.00", "500.00", "560.00"]
    assert d.payload["growth_percent"] == "40.0"
    assert "grown 3 months in a row, from 400.00 USD in 2026-07 to 560.00 USD in 2026-10" in d.message
    assert d.dedup_key == "category_creep:groceries:2026-10"
    # All month long the key stays the same; next month is a new period.
    assert keys(category_creep(creep_history([40_000, 44_000, 50_000, 56_000]), date(2026, 11, 30))) == [
        d.dedup_key
    ]
    assert_json([d])


@pytest.mark.parametrize(
    "totals",
    [
        [44_000, 50_000, 56_000],  # only two months of growth
        [40_000, 50_000, 45_000, 56_000],  # not steady
        [40_000, 41_000, 42_000, 43_000],  # growth under 5% a month
        [4_000, 4_400, 5_000, 5_600],  # rise of 16.00 under the 50.00 floor
        [50_000, 50_000, 50_000, 50_000],  # flat
    ],
)
def test_no_creep(totals: list[int]) -> None:
    assert category_creep(creep_history(totals), TODAY) == []


def test_creep_ignores_the_current_partial_month() -> None:
    history = creep_history([40_000, 44_000, 50_000, 56_000], last_month=(2026, 11))
    # November is still running on Nov 20: only Aug-Oct (two rises) are complete.
    assert category_creep(history, TODAY) == []
    assert keys(category_creep(history, date(2026, 12, 1))) == ["category_creep:groceries:2026-11"]


# --- recurring -----------------------------------------------------------------------------------


def test_new_subscription_detected_once() -> None:
    subs = [tx(d, -1549, "NETFLIX.COM") for d in monthly(5, (2026, 9), 3)]  # Sep 5, Oct 5, Nov 5
    (d,) = recurring_insights(subs, TODAY)
    assert d.type == "recurring_new"
    assert d.payload["amount"] == "15.49" and d.payload["cadence"] == "monthly"
    assert d.payload["next_expected_date"] == "2026-12-05"
    assert "Netflix has charged you 15.49 USD monthly 3 times since 2026-09-05" in d.message
    assert d.dedup_key == "recurring_new:out:netflix:monthly:2026-09-05"
    # The fourth charge does not make it new again (same key), and an old one is not new at all.
    more = [*subs, tx(date(2026, 12, 5), -1549, "NETFLIX.COM")]
    assert keys(recurring_insights(more, date(2026, 12, 6))) == [d.dedup_key]
    old = [tx(x, -1549, "NETFLIX.COM") for x in monthly(5, (2026, 1), 11)]
    assert recurring_insights(old, TODAY) == []


def test_price_increase() -> None:
    charges = [tx(x, -999, "SPOTIFY USA") for x in monthly(8, (2026, 3), 6)]
    charges.append(tx(date(2026, 9, 8), -1199, "SPOTIFY USA"))
    charges.append(tx(date(2026, 10, 8), -1199, "SPOTIFY USA"))
    charges.append(tx(date(2026, 11, 8), -1199, "SPOTIFY USA"))
    (d,) = recurring_insights(charges, date(2026, 10, 20))
    assert d.type == "recurring_price_increase" and d.severity == "warning"
    assert d.payload["previous_amount"] == "9.99" and d.payload["amount"] == "11.99"
    assert d.payload["change_percent"] == "20.0"
    assert (
        "Spotify Usa now charges 11.99 USD monthly, up from 9.99 USD (+20.0%) since 2026-09-08" in d.message
    )
    assert d.dedup_key == "recurring_price_increase:out:spotify usa:monthly:2026-09-08"
    # Still the same insight later in the window (the Nov 8 charge is in the future on Oct 20);
    # gone once the change is more than 45 days old.
    assert keys(recurring_insights(charges, date(2026, 10, 23))) == [d.dedup_key]
    assert recurring_insights(charges, TODAY) == []


def test_missed_payment_and_grace() -> None:
    gym = [tx(x, -2499, "PLANET FITNESS") for x in monthly(1, (2026, 3), 8)]  # Mar..Oct 1st
    # Next expected Nov 1, +3 days grace.
    assert recurring_insights(gym, date(2026, 11, 4)) == []
    (d,) = recurring_insights(gym, date(2026, 11, 5))
    assert d.type == "recurring_missed"
    assert d.payload["days_overdue"] == 1
    assert d.dedup_key == "recurring_missed:out:planet fitness:monthly:2499:2026-11-01"
    assert "expected on 2026-11-01 (+3 days grace)" in d.message
    # Same miss on later days: same key. Long dead series: nothing.
    assert keys(recurring_insights(gym, date(2026, 11, 25))) == [d.dedup_key]
    assert recurring_insights(gym, date(2027, 3, 1)) == []
    # Paid late but paid: nothing missed.
    paid = [*gym, tx(date(2026, 11, 3), -2499, "PLANET FITNESS")]
    assert recurring_insights(paid, date(2026, 11, 10)) == []


def test_missed_payday() -> None:
    pay = [tx(date(2026, 7, 3) + timedelta(days=14 * k), 310_000, "ACME PAYROLL") for k in range(9)]
    # Nine paydays from Jul 3: the last on Oct 23, the next expected Nov 6, +2 days grace.
    assert recurring_insights(pay, date(2026, 11, 8)) == []
    (d,) = recurring_insights(pay, date(2026, 11, 16))
    assert (d.type, d.payload["is_income"], d.payload["days_overdue"]) == ("recurring_missed", True, 8)
    assert d.payload["next_expected_date"] == "2026-11-06"
    assert "payment from Acme Payroll" in d.message


def test_coffee_is_not_a_new_subscription() -> None:
    rng = random.Random(7)
    coffee = [
        tx(TODAY - timedelta(days=i), -475, "SQ *JOES CAFE", "coffee")
        for i in range(120)
        if rng.random() < 0.75
    ]
    assert recurring_insights(coffee, TODAY) == []


# --- large expense -------------------------------------------------------------------------------


def typical_history(n: int = 40) -> list[Txn]:
    rng = random.Random(3)
    return [tx(TODAY - timedelta(days=10 + i * 2), -rng.randrange(1_000, 8_000), "TARGET") for i in range(n)]


def test_large_expense() -> None:
    history = typical_history()
    p95 = sorted(-t.amount_minor for t in history)[37]  # nearest rank: ceil(0.95 * 40) = 38th
    big = tx(TODAY - timedelta(days=1), -(3 * p95 + 1), "BEST BUY #123")
    (d,) = large_expense([*history, big], TODAY)
    assert d.type == "large_expense"
    assert d.payload["txn_id"] == big.id
    assert d.payload["p95"] == f"{Decimal(p95) / 100:.2f}"
    assert d.payload["history_count"] == 40
    assert d.dedup_key == f"large_expense:{big.id}"
    assert "at Best Buy on" in d.message and "95th percentile of 40 expenses" in d.message
    # Exactly 3x is not "above"; out of the 7-day window is not recent.
    exact = tx(TODAY, -3 * p95, "BEST BUY")
    assert large_expense([*history, exact], TODAY) == []
    assert large_expense([*history, big], TODAY + timedelta(days=7)) == []


def test_no_large_expense_below_floor_without_history_or_for_rent() -> None:
    tiny = [tx(TODAY - timedelta(days=10 + i), -200, "VENDING") for i in range(40)]
    assert large_expense([*tiny, tx(TODAY, -9_000, "VENDING")], TODAY) == []  # 90.00 < 100.00 floor
    assert large_expense([*tiny[:10], tx(TODAY, -90_000, "TV")], TODAY) == []  # 10 expenses: too few
    rent = [tx(x, -180_000, "OAKWOOD RENT") for x in monthly(1, (2026, 6), 6)]  # Jun..Nov 1st
    assert large_expense([*typical_history(), *rent], date(2026, 11, 3)) == []


# --- duplicate charge ----------------------------------------------------------------------------


def test_duplicate_charge() -> None:
    a = tx(TODAY - timedelta(days=3), -8_999, "POS 4411 BEST BUY #123")
    b = tx(TODAY - timedelta(days=1), -8_999, "BEST BUY #123 11/19")
    (d,) = duplicate_charge([a, b], TODAY)
    assert d.type == "duplicate_charge"
    assert d.payload["txn_ids"] == [a.id, b.id]
    assert d.dedup_key == f"duplicate_charge:{min(a.id, b.id)}:{max(a.id, b.id)}"
    assert "charged 89.99 USD on" in d.message


def test_no_duplicate_for_far_apart_different_amount_or_habit() -> None:
    a = tx(TODAY - timedelta(days=4), -8_999, "BEST BUY")
    assert duplicate_charge([a, tx(TODAY - timedelta(days=1), -8_999, "BEST BUY")], TODAY) == []  # 3 days
    assert duplicate_charge([a, tx(TODAY - timedelta(days=3), -8_998, "BEST BUY")], TODAY) == []
    coffee = [tx(TODAY - timedelta(days=i), -475, "SQ *JOES CAFE") for i in range(30)]
    assert duplicate_charge(coffee, TODAY) == []


# --- entry point ---------------------------------------------------------------------------------


def full_history() -> list[Txn]:
    rng = random.Random(11)
    out = []
    for i in range(200):
        d = TODAY - timedelta(days=i)
        if rng.random() < 0.7:
            out.append(tx(d, -rng.choice([425, 475]), "SQ *JOES CAFE", "coffee"))
        if rng.random() < 0.2:
            out.append(tx(d, -rng.randrange(3_000, 12_000), "WHOLE FOODS", "groceries"))
    out += weekly_dining(20, TODAY, 10_000)
    out += [tx(x, -1549, "NETFLIX.COM", "entertainment") for x in monthly(12, (2026, 5), 7)]
    out += [tx(x, -999, "SPOTIFY", "entertainment") for x in monthly(15, (2026, 4), 7)]  # Apr..Oct
    out += [tx(x, -2000, "OPENAI CHATGPT", "software") for x in monthly(2, (2026, 9), 3)]  # new
    out.append(tx(TODAY - timedelta(days=1), -30_000, "STEAKHOUSE", "dining"))  # spike
    out.append(tx(TODAY - timedelta(days=2), -120_000, "BEST BUY", "electronics"))  # large
    out.append(tx(TODAY + timedelta(days=3), -999_999, "FUTURE", "electronics"))  # ignored
    return out


def test_generate_insights_end_to_end_and_deterministic() -> None:
    txns = full_history()
    drafts = generate_insights(txns, TODAY, user_id=5)
    assert {d.type for d in drafts} == {
        "spending_spike",
        "large_expense",
        "recurring_new",
        "recurring_missed",
    }
    by_type = {d.type: d for d in drafts}
    assert by_type["recurring_new"].payload["payee"] == "openai chatgpt"
    assert by_type["recurring_missed"].payload["payee"] == "spotify"  # Nov 15 + 3 passed
    assert by_type["large_expense"].payload["amount"] == "1200.00"
    assert by_type["spending_spike"].payload["category"] == "dining"
    assert all(d.user_id == 5 for d in drafts)
    assert "coffee" not in json.dumps([d.payload for d in drafts])
    assert len(set(keys(drafts))) == len(drafts)
    assert [d.severity for d in drafts] == sorted(
        (d.severity for d in drafts), key=["critical", "warning", "info"].index
    )
    assert_json(drafts)
    # Same data, re-run (even reordered): identical drafts, so nothing repeats.
    shuffled = txns[:]
    random.Random(2).shuffle(shuffled)
    assert generate_insights(shuffled, TODAY, user_id=5) == drafts
    # Next day, same data: nothing new that was not already raised.
    assert set(keys(generate_insights(txns, TODAY + timedelta(days=1), user_id=5))) <= set(keys(drafts))


def test_generate_insights_other_currency_floors() -> None:
    # JPY has no minor digits: the 100 floor means 100 yen, and amounts print without decimals.
    history = [tx(TODAY - timedelta(days=10 + i * 2), -1_000, "KONBINI") for i in range(40)]
    (d,) = generate_insights([*history, tx(TODAY, -50_000, "BIC CAMERA")], TODAY, currency="JPY")
    assert (d.type, d.payload["amount"], d.payload["currency"]) == ("large_expense", "50000", "JPY")
