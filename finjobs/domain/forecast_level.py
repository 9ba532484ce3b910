"""The month level of the non-bill spending, chosen per series by a backtest inside its own history.

A model fit by least squares forecasts the mean of the daily spend; with lumpy spending (cash, rare
large purchases) the month total that minimises the absolute error is nearer the median month, and a
model can also drift off the level. So at the history's last LEVEL_CUTS month starts every candidate
level forecasts that month from the days before it, and the one with the least error forecasts the
next: the model's own month sum, the mean of the last 3 whole months, their blend (the model shrunk
halfway to the mean), or the median month of the last 6. The model's curve and sample paths are then
rescaled to the winner. Pure: stdlib only; the adapter passes the model in as a function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from finjobs.domain.forecasting import BACKTEST_DAYS, DailyPrediction, Point
from finjobs.domain.money import spend_minor

LEVEL_MODEL = "model"  # the model's own month sum
LEVEL_MEAN_3 = "mean_3_months"  # the mean daily spend of the last three whole months
LEVEL_BLEND = "blend"  # half of each: the model's sum shrunk towards the 3-month mean
LEVEL_MEDIAN_6 = "median_6_months"  # the median month (by daily rate) of the last six whole months
LEVELS = (LEVEL_MODEL, LEVEL_MEAN_3, LEVEL_BLEND, LEVEL_MEDIAN_6)  # ties go to the earlier one
# Chosen on scripts/eval_forecast.py --seeds 1 2 4 5 --users 12 --cuts 3 (ratio_vs_best_baseline; 0.978
# without a level choice): 3 cuts 0.911, 2 cuts 0.938, 5 cuts 0.909; a 9-month median 0.938. Each cut
# costs one Prophet fit without sampling: bare forecast_series took 2.3-2.8x as long (/tmp timing, 8
# 730-day series), the main cost of this step.
LEVEL_CUTS = 3  # month starts inside the history that the level is backtested on
MEAN_MONTHS = 3
MEDIAN_MONTHS = 6


def _month_start(d: date, back: int) -> date:
    i = d.year * 12 + d.month - 1 - back
    return date(i // 12, i % 12 + 1, 1)


def whole_months(series: Sequence[Point], before: date, *, months: int) -> list[tuple[int, int]]:
    """(spend, days) of up to `months` whole calendar months before `before`'s month that the series
    covers, oldest first."""
    out = []
    for back in range(months, 0, -1):
        first, end = _month_start(before, back), _month_start(before, back - 1)
        if series and series[0][0] <= first:
            out.append((sum(v for d, v in series if first <= d < end), (end - first).days))
    return out


def history_rates(series: Sequence[Point], before: date) -> dict[str, float]:
    """The daily spend rates the history alone gives before `before`: the last 3 whole months' mean and
    the last 6's median month, each only when the series covers all of those months."""
    months = whole_months(series, before, months=max(MEAN_MONTHS, MEDIAN_MONTHS))
    out: dict[str, float] = {}
    if len(months) >= MEAN_MONTHS:
        last = months[-MEAN_MONTHS:]
        out[LEVEL_MEAN_3] = sum(s for s, _ in last) / sum(n for _, n in last)
    if len(months) >= MEDIAN_MONTHS:
        rates = sorted(s / n for s, n in months[-MEDIAN_MONTHS:])
        mid = len(rates) // 2
        out[LEVEL_MEDIAN_6] = rates[mid] if len(rates) % 2 else (rates[mid - 1] + rates[mid]) / 2
    return out


def level_rates(model_rate: float, history: dict[str, float]) -> dict[str, float]:
    """Each candidate's daily spend rate, from the model's and history_rates'."""
    out = {LEVEL_MODEL: model_rate, **history}
    if LEVEL_MEAN_3 in history:
        out[LEVEL_BLEND] = (model_rate + history[LEVEL_MEAN_3]) / 2
    return out


def choose_level(
    series: Sequence[Point],
    today: date,
    model_rate_at: Callable[[Sequence[Point], int], float],
    *,
    cuts: int = LEVEL_CUTS,
) -> tuple[str, dict[str, float]]:
    """Which month level forecasts this series best, by its own history: at each of the last `cuts`
    month starts before today's month, every candidate (level_rates) forecasts that month's total from
    the days before it (`model_rate_at(train, days)` is the model's mean daily spend over the `days`
    after `train`), and the one with the least mean absolute error over the cuts wins (ties: the
    earlier in LEVELS; a candidate missing at a cut is out). Returns (the winner, each candidate's mean
    error in minor units); (LEVEL_MODEL, {}) when no cut has MEAN_MONTHS whole months before it.
    """
    errors: dict[str, list[float]] = {}
    used = 0
    for back in range(cuts, 0, -1):
        start, end = _month_start(today, back), _month_start(today, back - 1)
        history = history_rates(series, start)
        train = [p for p in series if p[0] < start]
        if LEVEL_MEAN_3 not in history or len(train) < 2 * BACKTEST_DAYS:
            continue
        used += 1
        days = (end - start).days
        actual = sum(v for d, v in series if start <= d < end)
        for k, rate in level_rates(model_rate_at(train, days), history).items():
            errors.setdefault(k, []).append(abs(rate * days - actual))
    mean_err = {k: sum(v) / used for k in LEVELS if len(v := errors.get(k, [])) == used > 0}
    if not mean_err:
        return LEVEL_MODEL, {}
    return min(mean_err, key=lambda k: mean_err[k]), mean_err


def rescale(
    daily: Sequence[DailyPrediction], paths: Sequence[Sequence[float]], factor: float
) -> tuple[list[DailyPrediction], list[list[float]]]:
    """The model's daily curve and sample paths with every value times `factor` (>= 0): same shape and
    relative spread, another level."""
    return (
        [
            DailyPrediction(
                d.day,
                spend_minor(d.yhat * factor),
                spend_minor(d.lower * factor),
                spend_minor(d.upper * factor),
            )
            for d in daily
        ],
        [[v * factor for v in p] for p in paths],
    )
