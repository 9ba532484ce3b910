"""Recurring-payment detection: cadences, jitter, price changes, and habits that are not subscriptions."""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finjobs.domain.recurring import (
    RecurringSeries,
    Txn,
    days_overdue,
    detect_recurring,
    normalise_payee,
    upcoming_dates,
)


def monthly(day: int, start: tuple[int, int], n: int) -> list[date]:
    y, m = start
    out = []
    for _ in range(n):
        out.append(date(y, m, min(day, calendar.monthrange(y, m)[1])))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def txns(name: str, dates: list[date], amounts: list[int] | int, prefix: str = "t") -> list[Txn]:
    if isinstance(amounts, int):
        amounts = [amounts] * len(dates)
    return [
        Txn(f"{prefix}{i}", d, a, f"{name} {d:%m/%d} REF{1000 + i}", None)
        for i, (d, a) in enumerate(zip(dates, amounts, strict=True))
    ]


def only(series: list[RecurringSeries]) -> RecurringSeries:
    assert len(series) == 1, series
    return series[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NETFLIX.COM", "netflix"),
        ("POS 4411 NETFLIX.COM #0042 12/03", "netflix"),
        ("Netflix.com ref 99812", "netflix"),
        ("DEBIT CARD PURCHASE XXXX1234 SPOTIFY USA", "spotify usa"),
        ("SPOTIFY USA 03/14/26 P123456X", "spotify usa"),
        ("STARBUCKS STORE #12345", "starbucks"),
        ("Trader Joe's #552", "trader joe s"),
        ("12345", "12345"),  # nothing left: fall back to the raw text
    ],
)
def test_normalise_payee(raw: str, expected: str) -> None:
    assert normalise_payee(raw) == expected


def test_monthly_subscription() -> None:
    ds = monthly(15, (2026, 1), 5)
    s = only(detect_recurring(txns("NETFLIX.COM", ds, -1549)))
    assert s.payee == "netflix"
    assert s.cadence == "monthly"
    assert s.typical_amount_minor == 1549
    assert s.is_income is False
    assert s.last_date == date(2026, 5, 15)
    assert s.next_expected_date == date(2026, 6, 15)
    assert s.occurrences == ["t0", "t1", "t2", "t3", "t4"]
    assert (s.amount_changed, s.previous_amount_minor) == (False, None)
    assert s.first_date == date(2026, 1, 15)


def test_monthly_with_jitter_and_month_end_clamping() -> None:
    ds = monthly(31, (2025, 11), 7)  # Nov 30, Dec 31, Jan 31, Feb 28, Mar 31, Apr 30, May 31
    ds[2] += timedelta(days=2)  # Feb 2: across the month boundary
    ds[4] -= timedelta(days=3)  # Mar 28: at the edge of +-3
    s = only(detect_recurring(txns("ADOBE", ds, -5499)))
    assert s.cadence == "monthly"
    assert len(s.occurrences) == 7
    assert s.next_expected_date == date(2026, 6, 30)


def test_monthly_day_drift_beyond_tolerance_is_not_monthly() -> None:
    # Every 28 days: looks monthly for a while, but drifts off any day of the month (and
    # four-weekly is not one of the supported cadences).
    ds = [date(2026, 1, 1) + timedelta(days=28 * k) for k in range(6)]
    assert detect_recurring(txns("FOUR WEEKLY", ds, -2000)) == []
    assert only(detect_recurring(txns("FOUR WEEKLY", ds[:3], -2000))).cadence == "monthly"


@pytest.mark.parametrize(
    ("period", "cadence"),
    [(7, "weekly"), (14, "biweekly")],
)
def test_fixed_period_cadences(period: int, cadence: str) -> None:
    rng = random.Random(period)
    ds = [date(2026, 3, 2) + timedelta(days=period * k + rng.choice([0, 0, 1, -1])) for k in range(8)]
    s = only(detect_recurring(txns("HELLOFRESH", ds, -6999)))
    assert s.cadence == cadence
    assert s.next_expected_date == date(2026, 3, 2) + timedelta(days=period * 8)


def test_yearly() -> None:
    ds = [date(2023, 4, 12), date(2024, 4, 14), date(2025, 4, 11), date(2026, 4, 12)]
    s = only(detect_recurring(txns("AMAZON PRIME ANNUAL", ds, -13900)))
    assert (s.cadence, s.next_expected_date) == ("yearly", date(2027, 4, 12))


def test_two_occurrences_are_not_enough() -> None:
    assert detect_recurring(txns("NETFLIX", monthly(5, (2026, 1), 2), -1549)) == []


def test_amounts_must_stay_near_the_median() -> None:
    ds = monthly(3, (2026, 1), 5)
    assert detect_recurring(txns("CITY PARKING", ds, [-1000, -1300, -900, -1200, -1050])) == []


def test_variable_bill_within_tolerance() -> None:
    ds = monthly(20, (2025, 10), 6)
    s = only(detect_recurring(txns("CON EDISON", ds, [-9800, -10100, -9500, -9990, -10300, -9650])))
    assert s.cadence == "monthly"
    assert s.typical_amount_minor == 9800  # median_low
    assert s.amount_changed is False


def test_one_bill_month_a_little_past_the_tolerance_is_kept() -> None:
    # Median 10_000; 11_000 is 10% off (past 7.5%, within twice that) in one month of six.
    ds = monthly(20, (2025, 10), 6)
    amounts = [-10_000, -10_100, -9_900, -11_000, -10_050, -9_950]
    assert only(detect_recurring(txns("PG&E", ds, amounts))).cadence == "monthly"
    # Two such months in six is too many (fewer than 80% near the median).
    amounts[1] = -11_000
    amounts[3] = -11_050
    assert detect_recurring(txns("PG&E", ds, amounts)) == []


def test_price_increase_is_one_series_with_the_old_price() -> None:
    ds = monthly(8, (2025, 12), 6)
    s = only(detect_recurring(txns("SPOTIFY", ds, [-999] * 4 + [-1199] * 2)))
    assert s.cadence == "monthly"
    assert len(s.occurrences) == 6
    assert (s.amount_changed, s.typical_amount_minor, s.previous_amount_minor) == (True, 1199, 999)
    assert s.changed_on == date(2026, 4, 8)


def test_small_price_increase_within_tolerance() -> None:
    ds = monthly(8, (2025, 12), 5)
    s = only(detect_recurring(txns("SPOTIFY", ds, [-999] * 3 + [-1049] * 2)))
    assert (s.amount_changed, s.typical_amount_minor, s.previous_amount_minor) == (True, 1049, 999)


def test_one_skipped_month_in_many_is_tolerated_but_not_in_three() -> None:
    ds = monthly(10, (2025, 6), 9)
    del ds[4]
    assert only(detect_recurring(txns("GYM", ds, -2499))).cadence == "monthly"
    short = monthly(10, (2026, 1), 4)
    del short[1]
    assert detect_recurring(txns("GYM", short, -2499)) == []


def test_two_plans_at_one_merchant_are_two_series() -> None:
    a = txns("APPLE.COM/BILL", monthly(3, (2026, 1), 5), -299, prefix="a")
    b = txns("APPLE.COM/BILL", monthly(19, (2026, 1), 5), -1099, prefix="b")
    found = detect_recurring(a + b)
    assert sorted(s.typical_amount_minor for s in found) == [299, 1099]
    assert {s.payee for s in found} == {"apple bill"}


def test_payday_is_income() -> None:
    ds = [date(2026, 1, 2) + timedelta(days=14 * k) for k in range(6)]
    s = only(detect_recurring(txns("ACME CORP PAYROLL", ds, [310_000, 309_500, 311_000] * 2)))
    assert (s.is_income, s.cadence) == (True, "biweekly")
    # Income and outflow never mix: a refund from the same payee is not part of the series.
    assert all(not x.is_income for x in detect_recurring(txns("NETFLIX", monthly(1, (2026, 1), 4), -1549)))


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_habits_are_not_subscriptions() -> None:
    rng = random.Random(42)
    days = _days(date(2025, 6, 1), date(2026, 5, 31))
    history: list[Txn] = []
    for d in days:
        weekday = d.weekday() < 5
        if rng.random() < (0.8 if weekday else 0.3):  # coffee most mornings, same price
            history.append(Txn(f"c{d}", d, -475, "SQ *JOES CAFE", "coffee"))
        if rng.random() < 1.5 / 7:  # groceries 1-2x a week, same shop
            history.append(Txn(f"g{d}", d, -rng.randrange(2500, 18000), "WHOLE FOODS MKT #10", "groceries"))
    fuel = date(2025, 6, 3)
    while fuel <= days[-1]:  # fuel every 5-12 days
        history.append(Txn(f"f{fuel}", fuel, -rng.randrange(3500, 7500), "CHEVRON 0042", "fuel"))
        fuel += timedelta(days=rng.randint(5, 12))
    assert detect_recurring(history) == []
    # ...while a real subscription in the same history is still found.
    netflix = txns("NETFLIX.COM", monthly(12, (2025, 7), 10), -1549, prefix="n")
    assert [s.payee for s in detect_recurring(history + netflix)] == ["netflix"]


def test_coffee_on_a_regular_weekday_pattern_with_same_day_duplicates_is_not_weekly() -> None:
    # Every Monday, but twice on some Mondays: a slot holds one charge, so this is a habit.
    ds = [date(2026, 1, 5) + timedelta(days=7 * k) for k in range(8)]
    items = txns("BLUE BOTTLE", ds + ds[::3], -450)
    assert detect_recurring(items) == []


def test_days_overdue() -> None:
    s = only(detect_recurring(txns("NETFLIX", monthly(15, (2026, 1), 4), -1549)))
    assert s.next_expected_date == date(2026, 5, 15)
    assert days_overdue(s, date(2026, 5, 18)) == 0  # within the +-3 grace
    assert days_overdue(s, date(2026, 5, 19)) == 1


def test_deterministic_regardless_of_input_order() -> None:
    items = txns("NETFLIX", monthly(15, (2026, 1), 4), -1549) + txns(
        "GYM", monthly(2, (2026, 1), 4), -2499, prefix="g"
    )
    shuffled = items[:]
    random.Random(1).shuffle(shuffled)
    assert detect_recurring(items) == detect_recurring(shuffled)


@settings(max_examples=120, deadline=None)
@given(
    day=st.integers(min_value=1, max_value=31),
    start_month=st.integers(min_value=1, max_value=12),
    n=st.integers(min_value=3, max_value=14),
    jitter=st.lists(st.integers(min_value=-2, max_value=2), min_size=14, max_size=14),
    amount=st.integers(min_value=100, max_value=500_000),
)
def test_any_jittered_monthly_series_is_found(
    day: int, start_month: int, n: int, jitter: list[int], amount: int
) -> None:
    ds = [d + timedelta(days=j) for d, j in zip(monthly(day, (2024, start_month), n), jitter, strict=False)]
    s = only(detect_recurring(txns("SOME SERVICE", ds, -amount)))
    assert s.cadence == "monthly"
    assert len(s.occurrences) == n
    assert s.typical_amount_minor == amount
    assert s.next_expected_date > s.last_date


@settings(max_examples=80, deadline=None)
@given(
    period=st.sampled_from([7, 14]),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    n=st.integers(min_value=3, max_value=20),
    jitter=st.lists(st.integers(min_value=-1, max_value=1), min_size=20, max_size=20),
)
def test_any_jittered_weekly_or_biweekly_series_is_found(
    period: int, start: date, n: int, jitter: list[int]
) -> None:
    ds = [start + timedelta(days=period * k + jitter[k]) for k in range(n)]
    s = only(detect_recurring(txns("CLEANER", ds, -12000)))
    assert s.cadence == {7: "weekly", 14: "biweekly"}[period]
    assert len(s.occurrences) == n
    assert abs((s.next_expected_date - (start + timedelta(days=period * n))).days) <= 1


def _monthly(last: date, nxt: date) -> RecurringSeries:
    return RecurringSeries(
        payee="rent",
        cadence="monthly",
        typical_amount_minor=150000,
        last_date=last,
        next_expected_date=nxt,
        occurrences=[1, 2, 3],
        amount_changed=False,
        previous_amount_minor=None,
        tolerance_days=3,
    )


def test_upcoming_dates_keep_the_day_of_month_through_short_months():
    s = _monthly(date(2027, 1, 31), date(2027, 2, 28))
    assert upcoming_dates(s, date(2027, 2, 10), date(2027, 5, 1)) == [
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_upcoming_dates_late_payment_is_due_now_and_an_ended_series_yields_nothing():
    s = _monthly(date(2026, 11, 1), date(2026, 12, 1))
    assert upcoming_dates(s, date(2026, 12, 10), date(2027, 1, 31)) == [date(2026, 12, 10), date(2027, 1, 1)]
    assert upcoming_dates(s, date(2027, 2, 20), date(2027, 4, 30)) == []  # missed for over a month: ended
