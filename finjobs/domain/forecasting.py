"""Spending forecasts, the pure part: daily series prep, the 60-date rule, the seasonal-naive baseline,
MAE/MASE, and month roll-ups. Pure: stdlib + decimal + dataclasses; Prophet lives in
finjobs.adapters.prophet_model, which calls these functions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from finjobs.domain.money import format_minor, spend_minor
from finjobs.domain.recurring import (
    RecurringSeries,
    Txn,
    days_overdue,
    detect_recurring,
    normalise_payee,
    upcoming_dates,
)

MIN_DISTINCT_DATES = 60
BACKTEST_DAYS = 28
SEASON = 7  # days: the seasonal-naive baseline repeats "the same weekday last week"
INTERVAL_WIDTH = 0.80  # Prophet's default interval; the baseline's empirical band uses the same coverage

MODEL_PROPHET = "prophet"
MODEL_SEASONAL_NAIVE = "seasonal_naive"
MODEL_NONE = "none"

SKIP_INSUFFICIENT_HISTORY = "insufficient_history"

Point = tuple[date, int]


@dataclass(frozen=True)
class DailyPrediction:
    """One forecast day in integer minor units; 0 <= lower <= yhat <= upper."""

    day: date
    yhat: int
    lower: int
    upper: int


@dataclass(frozen=True)
class MonthRollup:
    """Expected spend for one calendar month, in minor units.

    `expected`, `lower` and `upper` all include `actual_to_date`: what was already spent in the
    month before `today` (only the current month has any). `predicted_days` counts the forecast days
    that fall in the month.
    """

    month: str  # "YYYY-MM"
    expected: int  # the median simulated month total (path_month_rollups)
    lower: int
    upper: int
    actual_to_date: int = 0
    predicted_days: int = 0
    scheduled: int = 0  # known bills expected in the month (inside expected, lower and upper)
    coverage: float = INTERVAL_WIDTH  # lower..upper is this central range of simulated month totals


@dataclass(frozen=True)
class ScheduledPayment:
    """A known bill (a detected recurring outflow) expected on `day` at its current price.

    `status`: "due" (expected on `day`), "overdue" (its expected date has passed unpaid, so it is placed
    on today; `days_late` says by how much) or "paid" (it posted today at `amount`: counted in today's
    spend, not expected again).
    """

    payee: str
    day: date
    amount: int  # minor units, > 0
    cadence: str
    status: str = "due"
    days_late: int = 0


@dataclass(frozen=True)
class Metrics:
    """Backtest scores on the user's own last `backtest_days` days (money in minor units, as floats).

    `mae`/`mase` score Prophet, `baseline_mae`/`baseline_mase` the seasonal-naive baseline, on the same
    days. MASE divides by the in-sample MAE of the lag-7 seasonal-naive forecast on the training history
    (Hyndman & Koehler 2006); it is None when that scale is 0 (a history that repeats exactly weekly).
    """

    mae: float
    mase: float | None
    baseline_mae: float
    baseline_mase: float | None
    backtest_days: int


@dataclass(frozen=True)
class ForecastResult:
    """What a forecast run stores: the model used (or why none), its backtest, daily and monthly figures."""

    model: str  # MODEL_PROPHET | MODEL_SEASONAL_NAIVE | MODEL_NONE
    today: date
    currency: str = "USD"
    skip_reason: str | None = None  # machine code, e.g. SKIP_INSUFFICIENT_HISTORY; None when forecast
    reason: str = ""  # one sentence for people: why this model, or why no forecast
    metrics: Metrics | None = None
    daily: tuple[DailyPrediction, ...] = ()
    months: tuple[MonthRollup, ...] = ()
    history_days: int = 0
    distinct_dates: int = 0
    scheduled: tuple[ScheduledPayment, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; money as decimal strings in `currency`, MASE as a plain number."""

        def money(minor: int) -> str:
            return format_minor(minor, self.currency)

        metrics: dict[str, Any] | None = None
        if self.metrics is not None:
            m = self.metrics
            metrics = {
                "mae": money(round(m.mae)),
                "mase": _round_or_none(m.mase),
                "baseline_mae": money(round(m.baseline_mae)),
                "baseline_mase": _round_or_none(m.baseline_mase),
                "backtest_days": m.backtest_days,
            }
        return {
            "model": self.model,
            "today": self.today.isoformat(),
            "currency": self.currency,
            "skip_reason": self.skip_reason,
            "reason": self.reason,
            "history_days": self.history_days,
            "distinct_dates": self.distinct_dates,
            "metrics": metrics,
            "daily": [
                {
                    "date": d.day.isoformat(),
                    "yhat": money(d.yhat),
                    "lower": money(d.lower),
                    "upper": money(d.upper),
                }
                for d in self.daily
            ],
            "months": [
                {
                    "month": r.month,
                    "expected": money(r.expected),
                    "lower": money(r.lower),
                    "upper": money(r.upper),
                    "actual_to_date": money(r.actual_to_date),
                    "predicted_days": r.predicted_days,
                    "scheduled": money(r.scheduled),
                    "coverage": r.coverage,
                }
                for r in self.months
            ],
            "range_method": "median (expected) and 10th-90th percentile of month totals over joint sample"
            " paths (lumps drawn in), plus known bills",
            "scheduled": [
                {
                    "payee": p.payee,
                    "date": p.day.isoformat(),
                    "amount": money(p.amount),
                    "cadence": p.cadence,
                    "status": p.status,
                    "days_late": p.days_late,
                }
                for p in self.scheduled
            ],
        }


def _round_or_none(x: float | None, places: int = 3) -> float | None:
    return None if x is None else round(x, places)


# --- series prep -------------------------------------------------------------------------------


def distinct_dates(points: Iterable[Point]) -> int:
    """How many different dates carry at least one transaction (any amount)."""
    return len({d for d, _ in points})


def check_history(points: Iterable[Point], *, minimum: int = MIN_DISTINCT_DATES) -> str | None:
    """None when there is enough history to forecast, else the sentence saying why not."""
    n = distinct_dates(points)
    if n < minimum:
        return f"only {n} distinct transaction dates; a forecast needs at least {minimum}"
    return None


def daily_series(points: Iterable[Point], *, end: date | None = None) -> list[Point]:
    """Daily spend from the first transaction date to `end` (default: the last date), missing days as 0.

    Amounts are spend as positive minor units; several on one day are summed. A refund (negative
    amount) nets against that day, and a day's total is floored at 0 because the models treat spend
    as non-negative. Points after `end` are ignored (pass end=today-1: today is not over yet).
    """
    totals: dict[date, int] = {}
    for d, amount in points:
        if end is not None and d > end:
            continue
        totals[d] = totals.get(d, 0) + amount
    if not totals:
        return []
    first = min(totals)
    last = end if end is not None else max(totals)
    return [
        (day, max(0, totals.get(day, 0)))
        for day in (first + timedelta(days=i) for i in range((last - first).days + 1))
    ]


def backtest_split(series: Sequence[Point], days: int = BACKTEST_DAYS) -> tuple[list[Point], list[Point]]:
    """(training history, last `days` days held out)."""
    if days <= 0 or days >= len(series):
        raise ValueError(f"cannot hold out {days} days of a {len(series)}-day series")
    return list(series[:-days]), list(series[-days:])


# --- baseline and metrics ----------------------------------------------------------------------


def seasonal_naive(history: Sequence[float], horizon: int, *, season: int = SEASON) -> list[float]:
    """Repeat the last `season` values forward: day h ahead gets the value of the same weekday last week."""
    if len(history) < season:
        raise ValueError(f"seasonal naive needs at least {season} values, got {len(history)}")
    last = list(history[-season:])
    return [float(last[h % season]) for h in range(horizon)]


def mae(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Mean absolute error."""
    if len(actual) != len(predicted) or not actual:
        raise ValueError("mae needs two non-empty sequences of the same length")
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)


def naive_scale(training: Sequence[float], *, season: int = SEASON) -> float | None:
    """In-sample MAE of the seasonal-naive forecast on the training history: mean |y_t - y_(t-season)|.

    This is the MASE denominator (Hyndman & Koehler 2006, seasonal form). None when it is undefined:
    a history no longer than one season, or one that repeats exactly (scale 0).
    """
    if len(training) <= season:
        return None
    diffs = [abs(training[t] - training[t - season]) for t in range(season, len(training))]
    scale = sum(diffs) / len(diffs)
    return scale if scale > 0 else None


def mase(
    actual: Sequence[float], predicted: Sequence[float], training: Sequence[float], *, season: int = SEASON
) -> float | None:
    """Mean absolute scaled error: MAE on `actual` / naive_scale(training). Below 1 beats the
    in-sample seasonal-naive error; None when the scale is undefined."""
    scale = naive_scale(training, season=season)
    return None if scale is None else mae(actual, predicted) / scale


def prophet_wins(prophet_mae: float, baseline_mae: float) -> bool:
    """Prophet is kept unless it does strictly worse than the baseline on the backtest (ties: Prophet)."""
    return prophet_mae <= baseline_mae


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The `q` quantile of ascending `sorted_values`: linear interpolation between order statistics
    (Hyndman-Fan type 7, numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def baseline_forecast(
    series: Sequence[Point],
    horizon: int,
    *,
    season: int = SEASON,
    width: float = INTERVAL_WIDTH,
    min_residuals: int = 8,
) -> list[DailyPrediction]:
    """Seasonal-naive forecast of the `horizon` days after `series`, with an empirical interval.

    The band for a day k whole seasons ahead comes from the history's own (k+1)-season-ahead errors,
    y_t - y_(t-(k+1)*season): so it widens with the horizon only as much as this user's spending
    actually drifts. When the history is too short for that lag (fewer than `min_residuals` errors),
    the longest lag that has enough is used.
    """
    values = [float(v) for _, v in series]
    point = seasonal_naive(values, horizon, season=season)
    bands: dict[int, tuple[float, float]] = {}
    lo_q, hi_q = (1 - width) / 2, (1 + width) / 2
    start = series[-1][0] + timedelta(days=1)
    out: list[DailyPrediction] = []
    for h, yhat in enumerate(point):
        k = h // season
        if k not in bands:
            bands[k] = _residual_band(values, k, season, lo_q, hi_q, min_residuals, bands)
        r_lo, r_hi = bands[k]
        y = spend_minor(yhat)
        out.append(
            DailyPrediction(
                day=start + timedelta(days=h),
                yhat=y,
                lower=min(y, spend_minor(yhat + r_lo)),
                upper=max(y, spend_minor(yhat + r_hi)),
            )
        )
    return out


def _residual_band(
    values: Sequence[float],
    k: int,
    season: int,
    lo_q: float,
    hi_q: float,
    min_residuals: int,
    known: dict[int, tuple[float, float]],
) -> tuple[float, float]:
    lag = (k + 1) * season
    residuals = sorted(values[t] - values[t - lag] for t in range(lag, len(values)))
    if len(residuals) < min_residuals:
        if k > 0:
            return known.get(k - 1) or _residual_band(values, k - 1, season, lo_q, hi_q, min_residuals, known)
        if not residuals:
            return (0.0, 0.0)
    return (quantile(residuals, lo_q), quantile(residuals, hi_q))


def predictions_from_floats(
    start: date, yhat: Sequence[float], lower: Sequence[float], upper: Sequence[float]
) -> list[DailyPrediction]:
    """Model output (floats in minor units, from `start` on) -> DailyPrediction, clipped at 0 and ordered."""
    out = []
    for i, (y, lo, hi) in enumerate(zip(yhat, lower, upper, strict=True)):
        ym = spend_minor(y)
        out.append(
            DailyPrediction(start + timedelta(days=i), ym, min(ym, spend_minor(lo)), max(ym, spend_minor(hi)))
        )
    return out


# --- roll-ups ----------------------------------------------------------------------------------


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _month_end(d: date) -> date:
    first_next = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def spent_in_month_to_date(series: Iterable[Point], today: date) -> int:
    """Actual spend from the 1st of today's month up to yesterday (today is not over yet)."""
    first = today.replace(day=1)
    return sum(v for d, v in series if first <= d < today)


def skipped(today: date, reason: str, *, currency: str = "USD", distinct: int = 0) -> ForecastResult:
    """The stored result when there is not enough history to forecast."""
    return ForecastResult(
        model=MODEL_NONE,
        today=today,
        currency=currency,
        skip_reason=SKIP_INSUFFICIENT_HISTORY,
        reason=reason,
        distinct_dates=distinct,
    )


# --- known bills and sample-path month ranges ------------------------------------------------------

PATHS = 300  # joint sample paths per forecast (Prophet's uncertainty_samples; the baseline's resamples)
RESAMPLE_WEEKS = 12  # the baseline draws each future week from the history's last this-many weeks


def split_bills(
    txns: Iterable[Txn], *, today: date, horizon: int
) -> tuple[list[Point], list[ScheduledPayment], list[Point]]:
    """(spend points the model should see, known bills scheduled from `today` for `horizon` days,
    the past payments of those bills).

    Recurring outflows that domain.recurring detects (on the days before today) are taken out of the
    model's points (all their occurrences: a model would smear them over every day) and come back as
    payments on their expected dates at their current price. A bill whose payee already posted today
    is "paid" (today's amount, not expected again); one whose expected date has passed, by no more than
    its cadence's tolerance, is "overdue" and placed on today; one missed by more is taken as stopped
    and not scheduled. Other transactions dated today or later are ignored (today is not over).
    """
    txns = list(txns)
    past = [t for t in txns if t.date < today]
    posted_today: dict[str, int] = {}
    for t in txns:
        if t.date == today and t.amount_minor < 0:
            key = normalise_payee(t.description)
            posted_today[key] = posted_today.get(key, 0) - t.amount_minor
    bills = [s for s in detect_recurring(past) if not s.is_income]
    known = {i for s in bills for i in s.occurrences}
    # A bill missed by more than its cadence's tolerance has most likely stopped (a cancelled
    # subscription, a service that ended): its past payments stay out of the model, none is scheduled.
    bills = [s for s in bills if days_overdue(s, today) <= 0 or s.payee in posted_today]
    points = [(t.date, -t.amount_minor) for t in past if t.amount_minor < 0 and t.id not in known]
    paid = [(t.date, -t.amount_minor) for t in past if t.amount_minor < 0 and t.id in known]
    end = today + timedelta(days=horizon - 1)
    scheduled = [p for s in bills for p in _bill_payments(s, today, end, posted_today.pop(s.payee, 0))]
    return points, sorted(scheduled, key=lambda p: (p.day, p.payee)), paid


def _bill_payments(s: RecurringSeries, today: date, end: date, paid_today: int) -> list[ScheduledPayment]:
    """One series' payments from today to `end`. The first one is "paid" when the payee posted
    `paid_today` (> 0) today and that payment was due within the series' tolerance of today (or
    overdue), "overdue" when its expected date has passed, else "due"."""
    out = []
    for i, d in enumerate(upcoming_dates(s, today, end)):
        late = (today - s.next_expected_date).days if i == 0 else 0
        if i == 0 and paid_today > 0 and (d - today).days <= s.tolerance_days:
            out.append(ScheduledPayment(s.payee, today, paid_today, s.cadence, "paid", max(late, 0)))
        elif late > 0:
            out.append(ScheduledPayment(s.payee, d, s.typical_amount_minor, s.cadence, "overdue", late))
        else:
            out.append(ScheduledPayment(s.payee, d, s.typical_amount_minor, s.cadence))
    return out


def baseline_paths(
    series: Sequence[Point], horizon: int, *, n: int = PATHS, weeks: int = RESAMPLE_WEEKS, seed: int = 0
) -> list[list[float]]:
    """`n` joint sample paths of the `horizon` days after `series`: each future week is one of the
    history's last `weeks` whole weeks, drawn at random (weekday-aligned), so a path keeps the lumps,
    quiet days and within-week swings the user really had."""
    values = [float(v) for _, v in series]
    blocks = [
        values[len(values) - 7 * (j + 1) : len(values) - 7 * j] for j in range(min(weeks, len(values) // 7))
    ]
    if not blocks:
        raise ValueError("baseline paths need at least one whole week of history")
    rng = random.Random(seed)
    return [[v for _ in range(-(-horizon // 7)) for v in rng.choice(blocks)][:horizon] for _ in range(n)]


def with_scheduled(
    daily: Sequence[DailyPrediction], scheduled: Sequence[ScheduledPayment]
) -> list[DailyPrediction]:
    """Daily predictions with each known bill added on its own date (to yhat, lower and upper)."""
    extra: dict[date, int] = {}
    for p in scheduled:
        extra[p.day] = extra.get(p.day, 0) + p.amount
    return [
        DailyPrediction(
            d.day, d.yhat + extra.get(d.day, 0), d.lower + extra.get(d.day, 0), d.upper + extra.get(d.day, 0)
        )
        for d in daily
    ]


def path_month_rollups(
    start: date,
    paths: Sequence[Sequence[float]],
    *,
    today: date,
    spent_this_month: int = 0,
    scheduled: Sequence[ScheduledPayment] = (),
    width: float = INTERVAL_WIDTH,
) -> list[MonthRollup]:
    """Month totals from joint sample paths of the model's daily spend (day 0 = `start`).

    Each path is summed over the month (floored at 0), and expected / lower / upper are the median and the
    (1-width)/2, (1+width)/2 quantiles of those sums: the quantile of a month total, which adding daily
    quantiles is not. The median, not the mean: with lumpy spending (a large purchase in one month of
    three) it is the total the month is as likely to fall under as over, the least absolute error.
    Known bills in the month and spending so far this month are added to all three.
    Only months the paths cover from `today` (current month) or the 1st to the month end are returned.
    """
    horizon = min(len(p) for p in paths)
    days = [start + timedelta(days=i) for i in range(horizon)]
    bills: dict[str, int] = {}
    for p in scheduled:
        bills[month_key(p.day)] = bills.get(month_key(p.day), 0) + p.amount
    spans: dict[str, list[int]] = {}
    for i, d in enumerate(days):
        if d >= today:
            spans.setdefault(month_key(d), []).append(i)
    out = []
    for key, idx in spans.items():
        first = days[idx[0]]
        month_start = today if key == month_key(today) else first.replace(day=1)
        if first != month_start or len(idx) != (_month_end(first) - month_start).days + 1:
            continue
        totals = sorted(max(0.0, sum(p[i] for i in idx)) for p in paths)
        fixed = (spent_this_month if key == month_key(today) else 0) + bills.get(key, 0)
        out.append(
            MonthRollup(
                month=key,
                expected=fixed + spend_minor(quantile(totals, 0.5)),
                lower=fixed + spend_minor(quantile(totals, (1 - width) / 2)),
                upper=fixed + spend_minor(quantile(totals, (1 + width) / 2)),
                actual_to_date=spent_this_month if key == month_key(today) else 0,
                predicted_days=len(idx),
                scheduled=bills.get(key, 0),
                coverage=width,
            )
        )
    return out
