"""Unit tests for the non-bill spending's split into a regular part and lumps (fl.split_spikes), its month
level (fl.regular_rate), the lumps drawn back into sample paths (fl.add_spikes) and the paths' spread
checked against the history's own 4-week totals (fl.widen_to_history). Pure."""

from __future__ import annotations

import math
import random
import statistics
from datetime import date, timedelta

from finjobs.domain import forecast_level as fl
from finjobs.domain import forecasting as fc

START = date(2024, 6, 1)
MONDAY = date(2024, 6, 3)


def days(values: list[int], start: date = START) -> list[fc.Point]:
    return [(start + timedelta(days=i), v) for i, v in enumerate(values)]


def test_days_over_their_weekdays_outlier_fence_are_capped_and_their_excess_kept_as_lumps():
    # 20 weeks from a Monday of 100 + 10 x (week % 5) a day, and on two Saturdays a 2,000 purchase
    # instead. Saturdays: 100 x4, 110 x3, 120 x4, 130 x3, 140 x4, 2000 x2: Q1 110, Q3 140, fence
    # 140 + 1.5 x 30 = 185, so the two purchases are capped at 185 and 1,815 each is a lump, 2 in 20
    # Saturdays. Other weekdays: Q1 110, Q3 130, fence 160, nothing over it.
    values = [100 + 10 * ((i // 7) % 5) for i in range(140)]
    for week in (3, 11):
        values[7 * week + 5] = 2000
    series = days(values, MONDAY)
    rem = fl.split_spikes(series)
    assert rem.caps == (160, 160, 160, 160, 160, 185, 160)
    assert rem.spikes == ((), (), (), (), (), (1815.0, 1815.0), ())
    assert rem.rates == (0, 0, 0, 0, 0, 2 / 20, 0)
    assert rem.lump_days() == 2 and rem.mean_lump(5) == 181.5 and rem.mean_lump(0) == 0
    assert [v for _, v in rem.capped] == [185 if v == 2000 else v for v in values]
    # the capped mass is all there: capped + lumps = the series
    assert sum(v for _, v in rem.capped) + sum(rem.spikes[5]) == sum(values)


def test_only_the_last_window_sets_the_caps_and_too_few_spending_days_cap_nothing():
    # an expensive stretch long ago does not set today's caps
    series = days([*[1000] * 49, *[10 * (1 + i % 5) for i in range(fl.LEVEL_DAYS)]], MONDAY)
    assert fl.split_spikes(series).caps == fl.split_spikes(series[49:]).caps
    nine_weeks = days([0, 500, 0, 20, 7, 9, 3] * 9, MONDAY)  # 9 of each weekday, under MIN_SPENDING_DAYS
    rem = fl.split_spikes(nine_weeks)
    assert rem.capped == nine_weeks and rem.lump_days() == 0 and set(rem.caps) == {math.inf}


def test_a_steady_history_takes_the_long_mean_and_a_recent_shift_the_models_level():
    rng = random.Random(7)
    steady = days([rng.choice([0, 50, 100, 150]) for _ in range(500)])
    level, rate = fl.regular_rate(steady)
    assert level == fl.LEVEL_LONG and rate == statistics.fmean(v for _, v in steady)
    # the last 91 days spend twice as much: the long mean lags, the model's level stands
    shifted = [(d, v * 2 if i >= 500 - fl.RECENT_DAYS else v) for i, (d, v) in enumerate(steady)]
    level, rate = fl.regular_rate(shifted)
    assert level == fl.LEVEL_MODEL and rate == statistics.fmean(v for _, v in shifted[-fl.RECENT_DAYS :])
    # no longer than the recent stretch: nothing to compare with
    assert fl.regular_rate(steady[: fl.RECENT_DAYS])[0] == fl.LEVEL_MODEL


def test_rescale_keeps_the_curve_shape_and_scales_paths():
    d = date(2026, 5, 1)
    daily = [fc.DailyPrediction(d, 100, 50, 200), fc.DailyPrediction(d + timedelta(days=1), 0, 0, 10)]
    out, paths = fl.rescale(daily, [[100.0, 0.0], [40.0, 20.0]], 0.5)
    assert out == [fc.DailyPrediction(d, 50, 25, 100), fc.DailyPrediction(d + timedelta(days=1), 0, 0, 5)]
    assert paths == [[50.0, 0.0], [20.0, 10.0]]


def test_lumps_come_back_at_their_weekdays_rate_and_sizes_and_the_median_month_skips_a_rare_one():
    # lumps only on Fridays (weekday 4): one in ten Fridays, 1,000 or 3,000
    rates = (0, 0, 0, 0, 0.1, 0, 0)
    rem = fl.Remainder([], (math.inf,) * 7, ((), (), (), (), (1000.0, 3000.0), (), ()), rates)
    d = date(2026, 5, 1)  # a Friday
    daily = [fc.DailyPrediction(d + timedelta(days=i), 50, 20, 80) for i in range(31)]
    paths = [[50.0] * 31 for _ in range(2000)]
    out_daily, out_paths = fl.add_spikes(daily, paths, rem, seed=3)
    assert out_daily[0] == fc.DailyPrediction(d, 250, 20, 280)  # Friday: + 0.1 x mean size 2,000
    assert out_daily[1:7] == daily[1:7]
    added = [(i, v - 50.0) for p in out_paths for i, v in enumerate(p) if v != 50.0]
    assert {v for _, v in added} == {1000.0, 3000.0}
    assert {(d + timedelta(days=i)).weekday() for i, _ in added} == {4}
    assert abs(len(added) / (2000 * 5) - 0.1) < 0.01  # May 2026 has 5 Fridays
    assert out_paths == fl.add_spikes(daily, paths, rem, seed=3)[1]  # repeatable
    # 0.9^5 = 59% of the May paths get no lump: the median month total is the regular 1,550
    (may,) = fc.path_month_rollups(d, out_paths, today=d)
    assert may.month == "2026-05" and may.expected == 1550 < may.upper
    none = fl.Remainder([], (math.inf,) * 7, ((),) * 7, (0.0,) * 7)
    assert fl.add_spikes(daily, paths, none) == (daily, paths)


def test_paths_narrower_than_the_historys_four_week_totals_are_widened_to_them():
    rng = random.Random(1)
    # history: 4-week blocks alternate 28 quiet days at 0 and 28 busy days at 200, so neighbouring
    # 4-week totals differ by 5,600 (spread 5,600 / sqrt 2); paths with independent days of 100 +- 100
    # spread by only ~530 over 4 weeks
    history = days([200 * ((i // 28) % 2) for i in range(28 * 12)])
    paths = [[rng.choice([0.0, 200.0]) for _ in range(30)] for _ in range(400)]
    wide, k = fl.widen_to_history(paths, history)
    sums = [sum(p[:28]) for p in wide]
    assert k > 5
    diffs = [5600, -5600] * 5 + [5600]  # the 11 steps between the 12 blocks
    assert abs(statistics.pstdev(sums) / (statistics.stdev(diffs) / math.sqrt(2)) - 1) < 1e-9
    mean_before = statistics.fmean(sum(p) for p in paths)
    assert abs(statistics.fmean(sum(p) for p in wide) - mean_before) < 1e-6  # the level does not move
    # a steady trend is not spread: 4-week totals rising by the same step leave the paths as they are
    trend = days([i // 28 * 100 for i in range(28 * 12)])
    assert fl.widen_to_history(paths, trend) == (paths, 1.0)
    # nor does a history steadier than the paths, or one too short to say
    assert fl.widen_to_history(paths, days([100] * 200)) == (paths, 1.0)
    assert fl.widen_to_history(paths, history[:100]) == (paths, 1.0)
