"""Unit tests for finjobs.domain.forecasting: series prep, the 60-date rule, seasonal naive, MAE/MASE,
the baseline band, month roll-ups and the JSON form. Pure: no Prophet."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finjobs.domain import forecasting as fc
from finjobs.domain.forecasting import DailyPrediction, ForecastResult, Metrics, MonthRollup

D = date(2026, 3, 1)


def day(i: int) -> date:
    return D + timedelta(days=i)


# --- series prep -------------------------------------------------------------------------------


def test_daily_series_sums_same_day_and_zero_fills_gaps():
    points = [(day(0), 500), (day(3), 200), (day(0), 250), (day(1), 100)]
    assert fc.daily_series(points) == [(day(0), 750), (day(1), 100), (day(2), 0), (day(3), 200)]


def test_daily_series_runs_to_end_and_drops_points_after_it():
    points = [(day(0), 100), (day(2), 300), (day(9), 999)]
    assert fc.daily_series(points, end=day(4)) == [
        (day(0), 100),
        (day(1), 0),
        (day(2), 300),
        (day(3), 0),
        (day(4), 0),
    ]


def test_daily_series_nets_refunds_and_floors_days_at_zero():
    points = [(day(0), 1000), (day(0), -300), (day(1), 200), (day(1), -500)]
    assert fc.daily_series(points) == [(day(0), 700), (day(1), 0)]


def test_daily_series_of_nothing_is_empty():
    assert fc.daily_series([]) == []
    assert fc.daily_series([(day(5), 100)], end=day(1)) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 10**6)), min_size=1, max_size=50))
def test_daily_series_is_contiguous_and_keeps_the_total(raw):
    points = [(day(i), v) for i, v in raw]
    series = fc.daily_series(points)
    dates = [d for d, _ in series]
    assert dates[0] == min(d for d, _ in points) and dates[-1] == max(d for d, _ in points)
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(dates))
    assert sum(v for _, v in series) == sum(v for _, v in points)


def test_distinct_dates_counts_dates_not_transactions():
    assert fc.distinct_dates([(day(0), 1), (day(0), 2), (day(5), 3)]) == 2
    assert fc.distinct_dates([]) == 0


@pytest.mark.parametrize(("n_dates", "skips"), [(0, True), (59, True), (60, False), (61, False)])
def test_check_history_needs_60_distinct_dates(n_dates, skips):
    # Two transactions per date and gaps between dates: only distinct dates count, not days spanned.
    points = [(day(3 * i), 100) for i in range(n_dates)] * 2
    reason = fc.check_history(points)
    if skips:
        assert reason == f"only {n_dates} distinct transaction dates; a forecast needs at least 60"
    else:
        assert reason is None


def test_skipped_result_says_why():
    r = fc.skipped(day(0), "only 3 distinct transaction dates; a forecast needs at least 60", distinct=3)
    d = r.to_dict()
    assert (d["model"], d["skip_reason"], d["distinct_dates"]) == ("none", "insufficient_history", 3)
    assert d["daily"] == [] and d["months"] == [] and d["metrics"] is None
    assert "60" in d["reason"]


def test_backtest_split_holds_out_the_tail():
    series = [(day(i), i) for i in range(40)]
    train, test = fc.backtest_split(series, 28)
    assert len(train) == 12 and train[-1] == (day(11), 11)
    assert test[0] == (day(12), 12) and len(test) == 28
    with pytest.raises(ValueError):
        fc.backtest_split(series, 40)


# --- seasonal naive, MAE, MASE -----------------------------------------------------------------


def test_seasonal_naive_repeats_last_week():
    history = [9, 9, 1, 2, 3, 4, 5, 6, 7]
    assert fc.seasonal_naive(history, 9) == [1, 2, 3, 4, 5, 6, 7, 1, 2]
    assert fc.seasonal_naive([1, 2, 3], 4, season=2) == [2, 3, 2, 3]
    with pytest.raises(ValueError):
        fc.seasonal_naive([1, 2], 3)


def test_mae_by_hand():
    assert fc.mae([1, 2, 3, 4], [2, 2, 5, 0]) == pytest.approx((1 + 0 + 2 + 4) / 4)
    with pytest.raises(ValueError):
        fc.mae([], [])


def test_naive_scale_and_mase_by_hand():
    # season 2: in-sample naive errors |3-1|, |2-2|, |7-3|, |2-2| -> scale 6/4 = 1.5
    training = [1, 2, 3, 2, 7, 2]
    assert fc.naive_scale(training, season=2) == pytest.approx(1.5)
    actual, predicted = [4, 4], [1, 4]  # MAE 1.5 -> MASE 1.0
    assert fc.mase(actual, predicted, training, season=2) == pytest.approx(1.0)


def test_mase_is_undefined_for_an_exactly_weekly_history():
    training = [1, 2, 3, 4, 5, 6, 7] * 3
    assert fc.naive_scale(training) is None
    assert fc.mase([1.0], [2.0], training) is None
    assert fc.naive_scale([1, 2, 3]) is None  # shorter than a season


def test_seasonal_naive_backtest_on_a_tiny_weekly_series():
    # Two identical weeks plus noise of +-1 in the third: naive predicts week 2, errs by 1 on 4 of 7 days.
    week = [10, 20, 30, 40, 50, 60, 70]
    train = week + [w + 1 if i % 2 == 0 else w for i, w in enumerate(week)]
    test = [float(w) for w in week]
    pred = fc.seasonal_naive(train, 7)
    assert fc.mae(test, pred) == pytest.approx(4 / 7)
    # naive scale on train: the second week differs from the first on 4 days by 1 -> 4/7
    assert fc.mase(test, pred, train) == pytest.approx(1.0)


def test_prophet_keeps_ties_and_loses_when_strictly_worse():
    assert fc.prophet_wins(10.0, 10.0)
    assert fc.prophet_wins(9.0, 10.0)
    assert not fc.prophet_wins(10.5, 10.0)


# --- baseline forecast with its band -----------------------------------------------------------


def test_baseline_forecast_repeats_last_week_with_a_zero_band_when_history_is_exactly_weekly():
    week = [100, 200, 300, 400, 500, 600, 700]
    series = [(day(i), week[i % 7]) for i in range(35)]
    out = fc.baseline_forecast(series, 10)
    assert [p.day for p in out] == [day(35 + h) for h in range(10)]
    assert [p.yhat for p in out] == [week[h % 7] for h in range(10)]
    assert all(p.lower == p.yhat == p.upper for p in out)


def test_baseline_band_comes_from_the_empirical_lag_residuals():
    # Alternating weeks: +0 and +100 on every day -> lag-7 residuals are +100 and -100 equally often,
    # lag-14 residuals all 0. Week 1 ahead gets the 10%/90% quantiles of +-100, week 2 ahead a zero band.
    series = [(day(i), 1000 + (100 if (i // 7) % 2 else 0)) for i in range(8 * 7)]
    out = fc.baseline_forecast(series, 14)
    first, second = out[0], out[7]
    assert (first.yhat, first.lower, first.upper) == (1100, 1000, 1200)
    assert (second.yhat, second.lower, second.upper) == (1100, 1100, 1100)


def test_baseline_band_never_goes_below_zero_and_brackets_yhat():
    series = [(day(i), (i * 7919) % 500) for i in range(70)]
    for p in fc.baseline_forecast(series, 90):
        assert 0 <= p.lower <= p.yhat <= p.upper


def test_predictions_from_floats_round_clip_and_order():
    out = fc.predictions_from_floats(day(0), [10.5, -3.0, 7.2], [-5.0, -9.0, 8.0], [12.0, 1.0, 9.9])
    assert out == [
        DailyPrediction(day(0), 10, 0, 12),  # 10.5 rounds half-even to 10
        DailyPrediction(day(1), 0, 0, 1),
        DailyPrediction(day(2), 7, 7, 10),  # a lower above yhat is pulled down to yhat
    ]


# --- roll-ups ----------------------------------------------------------------------------------


def _flat_paths(n: int, value: float = 100.0, paths: int = 5) -> list[list[float]]:
    return [[value] * n for _ in range(paths)]


def test_path_month_rollups_across_a_month_boundary():
    today = date(2026, 1, 29)  # Jan 29, 30, 31 left; Feb 2026 has 28 days; March only partly covered
    rollups = fc.path_month_rollups(today, _flat_paths(3 + 28 + 5), today=today, spent_this_month=5000)
    assert [(r.month, r.expected, r.lower, r.upper, r.actual_to_date, r.predicted_days) for r in rollups] == [
        ("2026-01", 5300, 5300, 5300, 5000, 3),
        ("2026-02", 2800, 2800, 2800, 0, 28),
    ]


def test_path_month_rollups_across_a_year_boundary_and_leap_february():
    today = date(2027, 12, 31)
    rollups = fc.path_month_rollups(today, _flat_paths(1 + 31 + 29, 10.0), today=today)
    assert [(r.month, r.expected, r.predicted_days) for r in rollups] == [
        ("2027-12", 10, 1),
        ("2028-01", 310, 31),
        ("2028-02", 290, 29),
    ]


def test_path_month_rollups_ignores_days_before_today_and_a_late_start():
    today = date(2026, 5, 10)
    early = fc.path_month_rollups(today - timedelta(days=3), _flat_paths(40), today=today)
    assert [r.month for r in early] == ["2026-05"]
    # paths starting after today do not cover this month; June is covered fully
    later = fc.path_month_rollups(date(2026, 5, 20), _flat_paths(45), today=today)
    assert [r.month for r in later] == ["2026-06"]


def test_spent_in_month_to_date_counts_the_1st_to_yesterday():
    series = [
        (date(2026, 4, 28), 1),
        (date(2026, 5, 1), 10),
        (date(2026, 5, 9), 100),
        (date(2026, 5, 10), 1000),
    ]
    assert fc.spent_in_month_to_date(series, date(2026, 5, 10)) == 110


# --- JSON --------------------------------------------------------------------------------------


def test_to_dict_writes_money_as_decimal_strings():
    r = ForecastResult(
        model="prophet",
        today=date(2026, 1, 31),
        currency="USD",
        reason="Prophet chosen",
        metrics=Metrics(mae=1234.4, mase=0.81234, baseline_mae=1500.6, baseline_mase=None, backtest_days=28),
        daily=(DailyPrediction(date(2026, 1, 31), 1234, 1000, 1507),),
        months=(MonthRollup("2026-01", 99999, 90000, 120000, actual_to_date=98765, predicted_days=1),),
        history_days=400,
        distinct_dates=300,
    )
    d = json.loads(json.dumps(r.to_dict()))
    assert d["metrics"] == {
        "mae": "12.34",
        "mase": 0.812,
        "baseline_mae": "15.01",
        "baseline_mase": None,
        "backtest_days": 28,
    }
    assert d["daily"] == [{"date": "2026-01-31", "yhat": "12.34", "lower": "10.00", "upper": "15.07"}]
    assert d["months"][0] == {
        "month": "2026-01",
        "expected": "999.99",
        "lower": "900.00",
        "upper": "1200.00",
        "actual_to_date": "987.65",
        "predicted_days": 1,
        "scheduled": "0.00",
        "coverage": 0.8,
    }
    assert (d["model"], d["skip_reason"], d["today"]) == ("prophet", None, "2026-01-31")


def test_to_dict_uses_the_currency_exponent():
    r = ForecastResult(
        model="seasonal_naive", today=D, currency="JPY", daily=(DailyPrediction(D, 1500, 0, 2000),)
    )
    assert r.to_dict()["daily"][0] == {"date": "2026-03-01", "yhat": "1500", "lower": "0", "upper": "2000"}
