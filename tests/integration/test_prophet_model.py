"""Integration tests for the Prophet adapter and the forecast plot, with the real Prophet/cmdstan fit on
generated series whose structure is known. Touches tmp_path only. About 0.2 s per forecast here."""

from __future__ import annotations

import json
import random
import statistics
import warnings
from datetime import date, timedelta

import pytest

from finjobs.adapters import prophet_model as pm
from finjobs.adapters.forecast_plot import render_plot
from finjobs.domain import forecast_level as fl
from finjobs.domain import forecasting as fc

pytestmark = pytest.mark.slow

TODAY = date(2026, 11, 28)  # a Saturday; 3 days of November left
WEEKLY = [0, 500, 800, 200, 1500, 4000, 2500]  # Mon..Sun extra spend, minor units


def weekly_trend_truth(d: date, start: date) -> float:
    """Noise-free spend: 30.00 a day, +0.03 per day of trend, plus the weekday's extra."""
    return 3000 + 3 * (d - start).days + WEEKLY[d.weekday()]


def weekly_trend_points(n: int, seed: int) -> tuple[date, list[fc.Point]]:
    rng = random.Random(seed)
    start = TODAY - timedelta(days=n)
    pts = []
    for i in range(n):
        d = start + timedelta(days=i)
        pts.append((d, max(0, round(weekly_trend_truth(d, start) + rng.gauss(0, 300)))))
    return start, pts


def seasonal_random_walk_points(n: int, seed: int, step: float = 300) -> list[fc.Point]:
    """y_t = |y_(t-7) + noise|: each weekday's spend drifts on its own. Pure noise, integrated at lag 7:
    the process for which "same weekday last week" is the best forecast there is."""
    rng = random.Random(seed)
    levels = [rng.uniform(4000, 12000) for _ in range(7)]
    pts = []
    for i in range(n):
        levels[i % 7] = abs(levels[i % 7] + rng.gauss(0, step))
        pts.append((TODAY - timedelta(days=n - i), round(levels[i % 7])))
    return pts


@pytest.fixture(scope="module", autouse=True)
def _preloaded():
    pm.preload()


@pytest.fixture(scope="module")
def weekly_case():
    # 760 days: more than two years, so yearly seasonality is switched on as well.
    start, pts = weekly_trend_points(760, seed=1)
    return start, pts, pm.forecast_series(pts, today=TODAY)


def test_weekly_pattern_and_trend_are_recovered_and_prophet_is_chosen(weekly_case):
    start, pts, result = weekly_case
    assert result.model == "prophet" and result.skip_reason is None
    assert result.reason.startswith("Prophet chosen")
    m = result.metrics
    recent_mean = statistics.mean(v for _, v in pts[-28:])
    # Noise sd is 300 (~4.6% of the level): a model that found the pattern errs by about 0.8 * sd.
    assert m.backtest_days == 28
    assert m.mae < 0.06 * recent_mean
    assert m.mae < m.baseline_mae and m.mase < 1

    daily = result.daily
    assert len(daily) == 90 and daily[0].day == TODAY and daily[-1].day == TODAY + timedelta(days=89)
    truth = [weekly_trend_truth(p.day, start) for p in daily]
    # Level and trend: every forecast day within 3% of the noise-free truth, over the whole 90 days.
    assert max(abs(p.yhat - t) / t for p, t in zip(daily, truth, strict=True)) < 0.03
    # Weekly shape: each weekday's offset from its week's mean matches the true offsets within 1.50.
    first_week = sorted(daily[:7], key=lambda p: p.day.weekday())
    week_mean = statistics.mean(p.yhat for p in first_week)
    true_offsets = [w - statistics.mean(WEEKLY) for w in WEEKLY]
    assert all(abs((p.yhat - week_mean) - o) < 150 for p, o in zip(first_week, true_offsets, strict=True))
    assert sum(p.lower <= t <= p.upper for p, t in zip(daily, truth, strict=True)) >= 0.9 * len(daily)


def test_weekly_case_month_rollups(weekly_case):
    start, pts, result = weekly_case
    assert [r.month for r in result.months] == ["2026-11", "2026-12", "2027-01"]
    nov, dec, _jan = result.months
    spent = sum(v for d, v in pts if d >= date(2026, 11, 1))
    assert nov.actual_to_date == spent and nov.predicted_days == 3
    # expected is the median of the sample paths' totals: within a percent of the summed yhat here
    assert abs(nov.expected - spent - sum(p.yhat for p in result.daily[:3])) < 0.01 * nov.expected
    dec_truth = sum(weekly_trend_truth(date(2026, 12, 1) + timedelta(days=i), start) for i in range(31))
    assert abs(dec.expected - dec_truth) < 0.02 * dec_truth
    assert dec.lower <= dec_truth <= dec.upper and dec.predicted_days == 31


def test_result_serialises_to_json_with_decimal_strings(weekly_case):
    _start, _pts, result = weekly_case
    d = json.loads(json.dumps(result.to_dict()))
    assert d["model"] == "prophet" and d["metrics"]["backtest_days"] == 28
    first = d["daily"][0]
    assert first["date"] == "2026-11-28"
    assert first["yhat"] == f"{result.daily[0].yhat / 100:.2f}"
    assert set(d["months"][1]) == {
        "month",
        "expected",
        "lower",
        "upper",
        "actual_to_date",
        "predicted_days",
        "scheduled",
        "coverage",
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_seasonal_random_walk_baseline_wins_and_is_used(seed):
    pts = seasonal_random_walk_points(400, seed)
    result = pm.forecast_series(pts, today=TODAY)
    m = result.metrics
    assert result.model == "seasonal_naive"
    assert result.reason.startswith("Prophet did worse than the baseline")
    assert m.baseline_mae < m.mae
    # The stored forecast is last week repeated (last week as the model saw it, outlier days capped;
    # at the regular level: same shape, times one factor), plus each weekday's mean lump (the capped-off
    # excess, drawn back in at its weekday's rate), with a band from the user's own residuals.
    rem = fl.split_spikes(fc.daily_series(pts, end=TODAY - timedelta(days=1)))
    last_week = [v for _, v in rem.capped[-7:]] * 2
    lumps = [rem.mean_lump(p.day.weekday()) for p in result.daily[:14]]
    yhat = [p.yhat - lump for p, lump in zip(result.daily[:14], lumps, strict=True)]
    factor = sum(yhat) / sum(last_week)
    assert all(abs(y - factor * v) <= 2 for y, v in zip(yhat, last_week, strict=True))
    if "month level: model " in result.reason and not rem.lump_days():
        assert yhat == last_week
    assert all(p.lower <= p.yhat <= p.upper for p in result.daily)
    assert result.daily[-1].upper - result.daily[-1].lower > result.daily[0].upper - result.daily[0].lower


def test_iid_noise_prophet_beats_seasonal_naive():
    # Observed, and expected in theory: on iid spend the seasonal naive forecasts one random draw with
    # another (E|X - X'| = mean for exponential spend), while Prophet forecasts about the mean
    # (E|X - mean| = 2/e * mean, ~0.74 of that). So the baseline does NOT win on iid noise.
    rng = random.Random(7)
    pts = [(TODAY - timedelta(days=500 - i), round(rng.expovariate(1 / 3000))) for i in range(500)]
    result = pm.forecast_series(pts, today=TODAY)
    assert result.model == "prophet"
    assert result.metrics.mae < 0.9 * result.metrics.baseline_mae


def test_rare_large_purchases_are_lumps_the_median_month_skips_and_the_range_keeps():
    # 50.00 a day +- 10.00, and a 1,500.00 purchase about every 90 days (8 in the two years). The old
    # mean-of-paths month carried 8/730 x 1,500 x 31 = +510 into every month; a month has a lump with
    # probability 1 - (1 - 8/730)^31 = 29%, so the median month is the regular one and the 90th
    # percentile has the purchase in it.
    rng = random.Random(3)
    today = date(2026, 12, 1)
    lump_days = {today - timedelta(days=45 + 90 * k + rng.randint(0, 20)) for k in range(8)}
    pts = []
    for i in range(730):
        d = today - timedelta(days=730 - i)
        pts.append((d, max(0, round(rng.gauss(5000, 1000))) + (150000 if d in lump_days else 0)))
    result = pm.forecast_series(pts, today=today, horizon=31)
    (dec,) = result.months
    regular = 31 * 5000
    assert abs(dec.expected - regular) < 0.05 * regular
    assert dec.upper > regular + 100000 and dec.lower < regular
    assert "drawn in as lumps" in result.reason and "month level: long_mean" in result.reason
    # the daily curve carries the lumps' mean: its month sum is the mean month, above the median
    assert sum(p.yhat for p in result.daily) > dec.expected + 30000


def test_fewer_than_60_distinct_dates_skips_and_60_forecasts():
    # Sparse spenders: one purchase every 3 days, several on some dates.
    dates = [TODAY - timedelta(days=3 * i + 1) for i in range(60)]
    pts = [(d, 1250) for d in dates] + [(d, 300) for d in dates[::4]]
    short = pm.forecast_series([*pts[1:59], (dates[1], 999)], today=TODAY)
    assert short.model == "none" and short.skip_reason == "insufficient_history"
    assert short.reason == "only 58 distinct transaction dates; a forecast needs at least 60"
    assert short.daily == () and short.metrics is None

    enough = pm.forecast_series(pts, today=TODAY)
    assert enough.model in ("prophet", "seasonal_naive") and enough.skip_reason is None
    assert enough.distinct_dates == 60 and enough.history_days == 3 * 59 + 1
    assert len(enough.daily) == 90 and all(0 <= p.lower <= p.yhat <= p.upper for p in enough.daily)


def test_points_today_or_later_are_ignored():
    _start, pts = weekly_trend_points(200, seed=4)
    with_future = [*pts, (TODAY, 10**9), (TODAY + timedelta(days=3), 10**9)]
    assert pm.forecast_series(with_future, today=TODAY) == pm.forecast_series(pts, today=TODAY)


def test_fits_are_quiet(capfd, caplog):
    _start, pts = weekly_trend_points(120, seed=5)
    caplog.set_level("DEBUG")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm.forecast_series(pts, today=TODAY)
    assert [str(w.message) for w in caught] == []
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert not [r for r in caplog.records if r.name.startswith(("cmdstanpy", "prophet"))]


def test_render_plot_writes_a_png(tmp_path, weekly_case):
    _start, pts, result = weekly_case
    path = tmp_path / "forecast.png"
    render_plot(pts, result, path, title="Spending forecast")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000

    skipped = fc.skipped(TODAY, "only 3 distinct transaction dates; a forecast needs at least 60", distinct=3)
    render_plot(pts[-3:], skipped, tmp_path / "none.png", title="No forecast")
    assert (tmp_path / "none.png").read_bytes()[:4] == b"\x89PNG"
