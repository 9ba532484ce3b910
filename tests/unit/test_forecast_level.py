"""Unit tests for the month level of the non-bill spending (fc.choose_level and friends): which of the
model's sum, the 3-month mean and their blend a history's own month-start backtest picks. Pure."""

from __future__ import annotations

from datetime import date, timedelta

from finjobs.domain import forecasting as fc


def steady(start: date, end: date, per_day: int) -> list[fc.Point]:
    return [(start + timedelta(days=i), per_day) for i in range((end - start).days)]


def test_recent_daily_rate_is_the_mean_over_whole_months_before_the_cut():
    series = [(d, d.month * 100) for d, _ in steady(date(2026, 1, 1), date(2026, 5, 20), 0)]
    rate = fc.recent_daily_rate(series, date(2026, 5, 10))
    assert rate == (28 * 200 + 31 * 300 + 30 * 400) / 89
    assert fc.recent_daily_rate(series[40:], date(2026, 5, 10)) is None  # starts after Feb 1


def test_a_model_biased_high_loses_to_the_three_month_mean():
    series = steady(date(2025, 6, 1), date(2026, 5, 1), 1000)

    def doubled(train, days):
        return 2000.0

    level, errors = fc.choose_level(series, date(2026, 5, 1), doubled)
    assert level == fc.LEVEL_MEAN_3
    assert errors[fc.LEVEL_MEAN_3] == 0
    assert errors[fc.LEVEL_BLEND] * 2 == errors[fc.LEVEL_MODEL] > 0


def test_an_exact_model_keeps_its_own_level_and_a_short_history_falls_back_to_it():
    # Spend doubles in the last three months: the mean of earlier months lags, a model that follows it wins.
    series = [
        *steady(date(2025, 6, 1), date(2026, 2, 1), 1000),
        *steady(date(2026, 2, 1), date(2026, 5, 1), 2000),
    ]

    def truth(train, days):
        return 2000.0  # the rate of every backtested month (Feb, Mar, Apr)

    level, errors = fc.choose_level(series, date(2026, 5, 1), truth)
    assert level == fc.LEVEL_MODEL and errors[fc.LEVEL_MODEL] == 0 < errors[fc.LEVEL_BLEND]
    assert fc.choose_level(series[-80:], date(2026, 5, 1), truth) == (fc.LEVEL_MODEL, {})


def test_rescale_keeps_the_curve_shape_and_scales_paths():
    d = date(2026, 5, 1)
    daily = [fc.DailyPrediction(d, 100, 50, 200), fc.DailyPrediction(d + timedelta(days=1), 0, 0, 10)]
    out, paths = fc.rescale(daily, [[100.0, 0.0], [40.0, 20.0]], 0.5)
    assert out == [fc.DailyPrediction(d, 50, 25, 100), fc.DailyPrediction(d + timedelta(days=1), 0, 0, 5)]
    assert paths == [[50.0, 0.0], [20.0, 10.0]]
