"""Insight rules over one user's transactions: spikes, creep, recurring changes, large and duplicate charges.

Pure: stdlib + decimal + dataclasses; values in, values out; `today` is always an argument.
Every rule explains itself (the numbers go into the message and the payload) and returns drafts
with a stable dedup_key, so running the rules daily on the same data never repeats an insight.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise
from typing import Any, Literal

from finjobs.domain.money import format_minor, to_minor
from finjobs.domain.recurring import (
    CADENCES,
    RecurringSeries,
    Txn,
    days_overdue,
    detect_recurring,
    normalise_payee,
)

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class InsightDraft:
    """An insight to store and show once. payload: JSON primitives only, money as decimal strings."""

    type: str
    severity: str
    user_id: int | None
    title: str
    message: str
    payload: dict[str, Any]
    dedup_key: str


def _money(minor: int, currency: str) -> str:
    return f"{format_minor(minor, currency)} {currency}"


def _name(payee: str) -> str:
    """Display form of a normalised payee ('apple bill' -> 'Apple Bill'); payloads keep the key."""
    return payee.title()


def _ratio(num: Decimal | int, den: Decimal | int) -> Decimal:
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def _expenses(txns: Iterable[Txn], today: date) -> list[Txn]:
    return [t for t in txns if t.amount_minor < 0 and t.date <= today]


# --- spending spike ------------------------------------------------------------------------------


def spending_spike(
    txns: Sequence[Txn],
    today: date,
    *,
    currency: str = "USD",
    user_id: int | None = None,
    window_days: int = 7,
    baseline_weeks: int = 8,
    factor: Decimal = Decimal(2),
    floor: Decimal = Decimal(50),
) -> list[InsightDraft]:
    """A category's last `window_days` spend > factor x its weekly mean over the previous weeks.

    The excess over the mean must also reach `floor` (major units), and the user's history must
    cover the whole baseline; a category with no baseline spend has nothing to spike against.
    The dedup key names the first day of the current spike episode (walking back over days on
    which the rule also held), so a spike that lasts several days is reported once.
    """
    expenses = _expenses(txns, today)
    if not expenses:
        return []
    first_seen = min(t.date for t in txns)
    floor_minor = to_minor(floor, currency)
    daily: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for t in expenses:
        if t.category is not None:
            daily[t.category][t.date] += -t.amount_minor

    def window_sum(days: dict[date, int], end: date, length: int) -> int:
        return sum(days.get(end - timedelta(days=i), 0) for i in range(length))

    def check(days: dict[date, int], d: date) -> tuple[int, int] | None:
        base_end = d - timedelta(days=window_days)
        if first_seen > base_end - timedelta(days=7 * baseline_weeks - 1):
            return None
        recent = window_sum(days, d, window_days)
        base_total = window_sum(days, base_end, 7 * baseline_weeks)
        weekly_mean = Decimal(base_total) / baseline_weeks
        scaled_mean = weekly_mean * window_days / 7
        if base_total > 0 and recent > factor * scaled_mean and recent - scaled_mean >= floor_minor:
            return recent, base_total
        return None

    out = []
    for cat in sorted(daily):
        hit = check(daily[cat], today)
        if hit is None:
            continue
        start = today
        while (today - start).days < 30 and check(daily[cat], start - timedelta(days=1)) is not None:
            start -= timedelta(days=1)
        recent, base_total = hit
        mean = int((Decimal(base_total) / baseline_weeks).to_integral_value(ROUND_HALF_EVEN))
        ratio = _ratio(recent * 7, Decimal(base_total) / baseline_weeks * window_days)
        out.append(
            InsightDraft(
                type="spending_spike",
                severity="warning",
                user_id=user_id,
                title=f"Spending spike in {cat}",
                message=(
                    f"You spent {_money(recent, currency)} on {cat} in the last {window_days} days, "
                    f"{ratio}x your weekly average of {_money(mean, currency)} over the previous "
                    f"{baseline_weeks} weeks."
                ),
                payload={
                    "category": cat,
                    "currency": currency,
                    "recent": format_minor(recent, currency),
                    "window_days": window_days,
                    "baseline_weekly_mean": format_minor(mean, currency),
                    "baseline_weeks": baseline_weeks,
                    "ratio": str(ratio),
                    "since": start.isoformat(),
                },
                dedup_key=f"spending_spike:{cat}:{start.isoformat()}",
            )
        )
    return out


# --- category creep ------------------------------------------------------------------------------


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def category_creep(
    txns: Sequence[Txn],
    today: date,
    *,
    currency: str = "USD",
    user_id: int | None = None,
    min_months: int = 3,
    min_step: Decimal = Decimal("0.05"),
    floor: Decimal = Decimal(50),
) -> list[InsightDraft]:
    """Steady growth: each of the last `min_months`+ complete months > the month before by `min_step`.

    Three months of growth means four monthly totals (m0 < m1 < m2 < m3). The current, partial
    month is never used. The total rise over the streak must reach `floor` (major units).
    Once per category per last complete month.
    """
    last = _month_index(today) - 1
    totals: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for t in _expenses(txns, today):
        m = _month_index(t.date)
        if t.category is not None and m <= last:
            totals[t.category][m] += -t.amount_minor
    floor_minor = to_minor(floor, currency)
    out = []
    for cat in sorted(totals):
        months = totals[cat]
        streak = 0
        while True:
            cur, prev = months.get(last - streak, 0), months.get(last - streak - 1, 0)
            if prev > 0 and Decimal(cur) > Decimal(prev) * (1 + min_step):
                streak += 1
            else:
                break
        first = months.get(last - streak, 0)
        end = months.get(last, 0)
        if streak < min_months or end - first < floor_minor:
            continue
        span = list(range(last - streak, last + 1))
        growth = _ratio((end - first) * 100, first)
        out.append(
            InsightDraft(
                type="category_creep",
                severity="info",
                user_id=user_id,
                title=f"{cat} spending keeps rising",
                message=(
                    f"Your {cat} spending has grown {streak} months in a row, from "
                    f"{_money(first, currency)} in {_month_label(span[0])} to {_money(end, currency)} "
                    f"in {_month_label(last)} (+{growth}%)."
                ),
                payload={
                    "category": cat,
                    "currency": currency,
                    "months": [_month_label(m) for m in span],
                    "totals": [format_minor(months.get(m, 0), currency) for m in span],
                    "growth_percent": str(growth),
                },
                dedup_key=f"category_creep:{cat}:{_month_label(last)}",
            )
        )
    return out


# --- recurring -----------------------------------------------------------------------------------


def recurring_insights(
    txns: Sequence[Txn],
    today: date,
    *,
    currency: str = "USD",
    user_id: int | None = None,
    series: Sequence[RecurringSeries] | None = None,
    new_within_days: int = 31,
    price_change_within_days: int = 45,
) -> list[InsightDraft]:
    """New subscription, price increase, missed expected payment (income: missed payday).

    - new: an outflow series whose third charge (the one that made it detectable) is at most
      `new_within_days` old, so a first run over years of history does not call everything new.
    - price increase: the current price regime is dearer and began at most
      `price_change_within_days` ago.
    - missed: next_expected_date + the cadence tolerance has passed, by at most one period.
    """
    if series is None:
        series = detect_recurring(t for t in txns if t.date <= today)
    by_id = {t.id: t for t in txns}
    out = []
    for s in series:
        amount = _money(s.typical_amount_minor, currency)
        base = {
            "payee": s.payee,
            "cadence": s.cadence,
            "currency": currency,
            "amount": format_minor(s.typical_amount_minor, currency),
            "last_date": s.last_date.isoformat(),
            "next_expected_date": s.next_expected_date.isoformat(),
            "occurrences": len(s.occurrences),
            "is_income": s.is_income,
        }
        third = by_id.get(s.occurrences[2]) if len(s.occurrences) >= 3 else None
        if not s.is_income and third is not None and 0 <= (today - third.date).days <= new_within_days:
            out.append(
                InsightDraft(
                    type="recurring_new",
                    severity="info",
                    user_id=user_id,
                    title=f"Recurring charge detected: {_name(s.payee)}",
                    message=(
                        f"{_name(s.payee)} has charged you {amount} {s.cadence} "
                        f"{len(s.occurrences)} times since {s.first_date}; "
                        f"next expected on {s.next_expected_date.isoformat()}."
                    ),
                    payload=base | {"first_date": str(s.first_date)},
                    dedup_key=f"recurring_new:{s.key}:{s.first_date}",
                )
            )
        prev = s.previous_amount_minor
        if (
            not s.is_income
            and s.amount_changed
            and prev is not None
            and s.changed_on is not None
            and s.typical_amount_minor > prev
            and 0 <= (today - s.changed_on).days <= price_change_within_days
        ):
            pct = _ratio((s.typical_amount_minor - prev) * 100, prev)
            out.append(
                InsightDraft(
                    type="recurring_price_increase",
                    severity="warning",
                    user_id=user_id,
                    title=f"{_name(s.payee)} raised its price",
                    message=(
                        f"{_name(s.payee)} now charges {amount} {s.cadence}, up from "
                        f"{_money(prev, currency)} (+{pct}%) since {s.changed_on.isoformat()}."
                    ),
                    payload=base
                    | {
                        "previous_amount": format_minor(prev, currency),
                        "change_percent": str(pct),
                        "changed_on": s.changed_on.isoformat(),
                    },
                    dedup_key=f"recurring_price_increase:{s.key}:{s.changed_on.isoformat()}",
                )
            )
        overdue = days_overdue(s, today)
        if 0 < overdue <= CADENCES[s.cadence].period_days:
            what = "payment from" if s.is_income else "charge from"
            out.append(
                InsightDraft(
                    type="recurring_missed",
                    severity="warning",
                    user_id=user_id,
                    title=f"Expected {what} {_name(s.payee)} has not arrived",
                    message=(
                        f"A {s.cadence} {what} {_name(s.payee)} of about {amount} was expected on "
                        f"{s.next_expected_date.isoformat()} (+{s.tolerance_days} days grace) and "
                        f"has not appeared; the last one was on {s.last_date.isoformat()}."
                    ),
                    payload=base | {"days_overdue": overdue},
                    # The amount tells apart two plans of one merchant due the same day.
                    dedup_key=(
                        f"recurring_missed:{s.key}:{s.typical_amount_minor}:{s.next_expected_date.isoformat()}"
                    ),
                )
            )
    return out


# --- large single expense ------------------------------------------------------------------------


def _p95(values: Sequence[int]) -> int:
    """Nearest-rank 95th percentile (an observed value, so no float interpolation)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def large_expense(
    txns: Sequence[Txn],
    today: date,
    *,
    currency: str = "USD",
    user_id: int | None = None,
    series: Sequence[RecurringSeries] | None = None,
    window_days: int = 7,
    lookback_days: int = 90,
    factor: int = 3,
    floor: Decimal = Decimal(100),
    min_history: int = 20,
) -> list[InsightDraft]:
    """An expense in the last `window_days` above factor x the p95 of the prior `lookback_days`.

    Needs `min_history` expenses in the lookback to know what "typical" is, and the amount
    must reach `floor` (major units). Charges of detected recurring series (rent) are expected,
    so they are skipped. Once per transaction.
    """
    if series is None:
        series = detect_recurring(t for t in txns if t.date <= today)
    expected = {i for s in series for i in s.occurrences}
    window_start = today - timedelta(days=window_days - 1)
    history_start = window_start - timedelta(days=lookback_days)
    expenses = _expenses(txns, today)
    history = [-t.amount_minor for t in expenses if history_start <= t.date < window_start]
    if len(history) < min_history:
        return []
    p95 = _p95(history)
    floor_minor = to_minor(floor, currency)
    out = []
    for t in sorted(expenses, key=lambda t: (t.date, str(t.id))):
        amount = -t.amount_minor
        if t.date < window_start or t.id in expected or amount < floor_minor or amount <= factor * p95:
            continue
        payee = normalise_payee(t.description)
        out.append(
            InsightDraft(
                type="large_expense",
                severity="warning",
                user_id=user_id,
                title=f"Large expense at {_name(payee)}",
                message=(
                    f"{_money(amount, currency)} at {_name(payee)} on {t.date.isoformat()} is "
                    f"{_ratio(amount, p95)}x your usual large expense ({_money(p95, currency)}, the "
                    f"95th percentile of {len(history)} expenses in the previous {lookback_days} days)."
                ),
                payload={
                    "txn_id": t.id,
                    "payee": payee,
                    "date": t.date.isoformat(),
                    "currency": currency,
                    "amount": format_minor(amount, currency),
                    "p95": format_minor(p95, currency),
                    "ratio": str(_ratio(amount, p95)),
                    "history_count": len(history),
                },
                dedup_key=f"large_expense:{t.id}",
            )
        )
    return out


# --- duplicate charge ----------------------------------------------------------------------------


def duplicate_charge(
    txns: Sequence[Txn],
    today: date,
    *,
    currency: str = "USD",
    user_id: int | None = None,
    within_days: int = 2,
    window_days: int = 14,
    habit_lookback_days: int = 60,
    habit_count: int = 3,
) -> list[InsightDraft]:
    """Same payee and same amount twice within `within_days`, among the last `window_days`.

    Not for habits: when that exact (payee, amount) was already charged `habit_count`+ times in
    the `habit_lookback_days` before the pair (a daily coffee), a second one is normal.
    """
    groups: dict[tuple[str, int], list[Txn]] = defaultdict(list)
    for t in _expenses(txns, today):
        groups[(normalise_payee(t.description), t.amount_minor)].append(t)
    window_start = today - timedelta(days=window_days - 1)
    out = []
    for (payee, amount_minor), group in sorted(groups.items()):
        group.sort(key=lambda t: (t.date, str(t.id)))
        for a, b in pairwise(group):
            if b.date < window_start or (b.date - a.date).days > within_days:
                continue
            since = a.date - timedelta(days=habit_lookback_days)
            if sum(since <= t.date < a.date for t in group) >= habit_count:
                continue
            amount = -amount_minor
            first, second = sorted((a, b), key=lambda t: str(t.id))
            out.append(
                InsightDraft(
                    type="duplicate_charge",
                    severity="warning",
                    user_id=user_id,
                    title=f"Possible duplicate charge at {_name(payee)}",
                    message=(
                        f"{_name(payee)} charged {_money(amount, currency)} on {a.date.isoformat()} and "
                        f"again on {b.date.isoformat()}. If you only bought once, ask for a refund."
                    ),
                    payload={
                        "payee": payee,
                        "currency": currency,
                        "amount": format_minor(amount, currency),
                        "txn_ids": [a.id, b.id],
                        "dates": [a.date.isoformat(), b.date.isoformat()],
                    },
                    dedup_key=f"duplicate_charge:{first.id}:{second.id}",
                )
            )
    return out


# --- entry point ---------------------------------------------------------------------------------


def generate_insights(
    txns: Sequence[Txn],
    today: date,
    *,
    currency: str = "USD",
    user_id: int | None = None,
    series: Sequence[RecurringSeries] | None = None,
) -> list[InsightDraft]:
    """All rules over one user's transactions (those dated after `today` are ignored).

    Deterministic: the same txns and today give the same drafts in the same order (most severe
    first, then type, then dedup_key); dedup keys are unique within the result.
    """
    known = [t for t in txns if t.date <= today]
    if series is None:  # services pass the list services.recurring serves to the CLI and API
        series = detect_recurring(known)
    drafts = [
        *spending_spike(known, today, currency=currency, user_id=user_id),
        *category_creep(known, today, currency=currency, user_id=user_id),
        *recurring_insights(known, today, currency=currency, user_id=user_id, series=series),
        *large_expense(known, today, currency=currency, user_id=user_id, series=series),
        *duplicate_charge(known, today, currency=currency, user_id=user_id),
    ]
    unique: dict[str, InsightDraft] = {}
    for d in drafts:
        unique.setdefault(d.dedup_key, d)
    return sorted(unique.values(), key=lambda d: (SEVERITY_RANK[d.severity], d.type, d.dedup_key))
