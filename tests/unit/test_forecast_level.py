"""Unit tests for the month level of the non-bill spending (fl.choose_level and friends): which of the
model's sum, the 3-month mean, their blend and the median month a history's own month-start backtest
picks. Pure."""

from __future__ import annotations

from datetime import date, timedelta

from finjobs.domain import forecast_level as fl
from finjobs.domain import forecasting as fc


def steady(start: date, end: date, per_day: int) -> list[fc.Point]:
    return [(start + timedelta(days=i), per_day) for i in range((end - start).days)]


def test_history_rates_use_whole_months_before_the_cut():
    series = [(d, d.month * 100) for d, _ in steady(date(2026, 1, 1), date(2026, 5, 20), 0)]
    rates = fl.history_rates(series, date(2026, 5, 10))
    assert rates == {fl.LEVEL_MEAN_3: (28 * 200 + 31 * 300 + 30 * 400) / 89}  # 4 whole months: no median
    assert fl.history_rates(series[40:], date(2026, 5, 10)) == {}  # starts after Feb 1
    longer = [(d, d.month * 100) for d, _ in steady(date(2025, 10, 1), date(2026, 5, 20), 0)]
    assert (
        fl.history_rates(longer, date(2026, 5, 10))[fl.LEVEL_MEDIAN_6] == (300 + 400) / 2
    )  # Nov..Apr: 1100 1200 100 200 300 400


def test_lumpy_months_make_the_median_month_win():
    # Steady spend plus one large purchase every three months: the least-squares model (here the mean
    # daily spend so far) and the 3-month mean carry the lumps into months without one; the median does not.
    series = steady(date(2025, 3, 1), date(2026, 5, 1), 1000)
    lumps = {date(2025, 6, 15), date(2025, 9, 15), date(2025, 12, 15)}
    series = [(d, v + (90000 if d in lumps else 0)) for d, v in series]

    def mean_so_far(train, days):
        return sum(v for _, v in train) / len(train)

    level, errors = fl.choose_level(series, date(2026, 5, 1), mean_so_far)
    assert level == fl.LEVEL_MEDIAN_6 and errors[fl.LEVEL_MEDIAN_6] == 0
    assert min(errors[k] for k in (fl.LEVEL_MODEL, fl.LEVEL_MEAN_3, fl.LEVEL_BLEND)) > 0


def test_a_model_biased_high_loses_to_the_three_month_mean():
    series = steady(date(2025, 6, 1), date(2026, 5, 1), 1000)

    def doubled(train, days):
        return 2000.0

    level, errors = fl.choose_level(series, date(2026, 5, 1), doubled)
    assert level == fl.LEVEL_MEAN_3
    assert errors[fl.LEVEL_MEAN_3] == 0
    assert errors[fl.LEVEL_BLEND] * 2 == errors[fl.LEVEL_MODEL] > 0


def test_an_exact_model_keeps_its_own_level_and_a_short_history_falls_back_to_it():
    # Spend doubles in the last three months: the mean of earlier months lags, a model that follows it wins.
    series = [
        *steady(date(2025, 6, 1), date(2026, 2, 1), 1000),
        *steady(date(2026, 2, 1), date(2026, 5, 1), 2000),
    ]

    def truth(train, days):
        return 2000.0  # the rate of every backtested month (Feb, Mar, Apr)

    level, errors = fl.choose_level(series, date(2026, 5, 1), truth)
    assert level == fl.LEVEL_MODEL and errors[fl.LEVEL_MODEL] == 0 < errors[fl.LEVEL_BLEND]
    assert fl.choose_level(series[-80:], date(2026, 5, 1), truth) == (fl.LEVEL_MODEL, {})


def test_rescale_keeps_the_curve_shape_and_scales_paths():
    d = date(2026, 5, 1)
    daily = [fc.DailyPrediction(d, 100, 50, 200), fc.DailyPrediction(d + timedelta(days=1), 0, 0, 10)]
    out, paths = fl.rescale(daily, [[100.0, 0.0], [40.0, 20.0]], 0.5)
    assert out == [fc.DailyPrediction(d, 50, 25, 100), fc.DailyPrediction(d + timedelta(days=1), 0, 0, 5)]
    assert paths == [[50.0, 0.0], [20.0, 10.0]]
