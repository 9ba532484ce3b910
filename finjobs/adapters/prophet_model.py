"""Prophet adapter: fits a user's daily spend, backtests it against the seasonal-naive baseline, and
returns a ForecastResult. Touches prophet/cmdstanpy/pandas/numpy (imported lazily) and cmdstan's
temporary files; no network. Series prep, metrics and roll-ups come from finjobs.domain.forecasting.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from datetime import date, timedelta

from finjobs.domain import forecast_level as fl
from finjobs.domain import forecasting as fc
from finjobs.domain.money import format_minor

# Measured on 730 days x 90 ahead: 300 draws cost ~30 ms over none and the band width varies ~0.4%
# between seeds (100 draws: ~1%, and a slightly narrower band). Backtest fits skip the sampling.
UNCERTAINTY_SAMPLES = 300
# Prophet's own rule is two full cycles; with one, each yearly Fourier term is fit from a single
# occurrence and replays last year's one-offs. On scripts/eval_forecast.py (tuning seeds 1, 2) two
# cycles still replayed them (month-total MAE 892 vs 854 with three years), so yearly needs three.
YEARLY_MIN_DAYS = 1095
# Prophet's default; 0.005 and 0.001 (a stiffer trend) scored worse on the same seeds (908, 1326).
CHANGEPOINT_PRIOR_SCALE = 0.05

_QUIET_LOGGERS = ("cmdstanpy", "prophet")


class _DropPlotlyNotice(logging.Filter):
    # prophet.plot logs an ERROR when plotly is missing; finjobs never uses plotly.
    def filter(self, record: logging.LogRecord) -> bool:
        return "plotly" not in record.getMessage().lower()


def _quiet() -> None:
    # cmdstanpy configures its logger (level DEBUG plus an INFO stream handler) on first use unless
    # some handler already exists, which would undo an earlier setLevel: let it do that first.
    from cmdstanpy.utils import get_logger

    get_logger()
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    plot_logger = logging.getLogger("prophet.plot")
    if not any(isinstance(f, _DropPlotlyNotice) for f in plot_logger.filters):
        plot_logger.addFilter(_DropPlotlyNotice())


def preload() -> None:
    """Import prophet (and quiet its loggers) once; workers call this in the parent before forking."""
    _quiet()
    import prophet  # noqa: F401


def fit_predict(
    series: Sequence[fc.Point],
    horizon: int,
    *,
    seed: int = 0,
    uncertainty_samples: int = UNCERTAINTY_SAMPLES,
) -> list[fc.DailyPrediction]:
    """Fit Prophet (MAP) to a zero-filled daily series; predict the `horizon` days after its last day.

    Weekly seasonality always, yearly once the series spans YEARLY_MIN_DAYS, daily never (one point a
    day). The 80% band includes observation noise and trend uncertainty (uncertainty_samples=0: no band,
    lower = upper = yhat); all values are clipped at 0. Deterministic for a given seed.
    """
    return fit_predict_paths(series, horizon, seed=seed, uncertainty_samples=uncertainty_samples)[0]


def fit_predict_paths(
    series: Sequence[fc.Point],
    horizon: int,
    *,
    seed: int = 0,
    uncertainty_samples: int = UNCERTAINTY_SAMPLES,
) -> tuple[list[fc.DailyPrediction], list[list[float]]]:
    """fit_predict plus the joint sample paths behind its band: Prophet's predictive_samples()["yhat"]
    is (horizon x uncertainty_samples), each column one draw of trend changes plus observation noise
    over all the days, so a column summed over a month is one draw of that month's total. The daily
    band is the per-day (1-w)/2, (1+w)/2 quantiles of the same draws (one sampling, not two).
    Deterministic for a given seed: numpy's global RNG (which Prophet samples from) is seeded and
    restored afterwards. No paths when uncertainty_samples=0.
    """
    _quiet()
    import numpy as np
    import pandas as pd
    from prophet import Prophet

    if len(series) < 2:
        raise ValueError("Prophet needs at least two days of history")
    span = (series[-1][0] - series[0][0]).days
    df = pd.DataFrame(
        {"ds": pd.to_datetime([d for d, _ in series]), "y": [float(v) for _, v in series]},
    )
    model = Prophet(
        weekly_seasonality=True,
        yearly_seasonality=span >= YEARLY_MIN_DAYS,
        daily_seasonality=False,
        interval_width=fc.INTERVAL_WIDTH,
        uncertainty_samples=uncertainty_samples,
        changepoint_prior_scale=CHANGEPOINT_PRIOR_SCALE,
    )
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        with warnings.catch_warnings():
            # Prophet's own pandas deprecation notices: nothing a finjobs operator can act on.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"prophet(\.|$)")
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"prophet(\.|$)")
            model.fit(df, seed=seed)
            future = model.make_future_dataframe(periods=horizon, include_history=False)
            model.uncertainty_samples = 0  # yhat only; the draws come from predictive_samples below
            yhat = model.predict(future)["yhat"].tolist()
            model.uncertainty_samples = uncertainty_samples
            draws = model.predictive_samples(future)["yhat"] if uncertainty_samples else None
    finally:
        np.random.set_state(state)
    start = series[-1][0] + timedelta(days=1)
    if draws is None:  # a point forecast
        return fc.predictions_from_floats(start, yhat, yhat, yhat), []
    lo_q, hi_q = (1 - fc.INTERVAL_WIDTH) / 2, (1 + fc.INTERVAL_WIDTH) / 2
    lower = np.quantile(draws, lo_q, axis=1).tolist()
    upper = np.quantile(draws, hi_q, axis=1).tolist()
    return fc.predictions_from_floats(start, yhat, lower, upper), draws.T.tolist()


def forecast_series(
    points: Sequence[fc.Point],
    *,
    today: date,
    horizon: int = 90,
    currency: str = "USD",
    backtest_days: int = fc.BACKTEST_DAYS,
    seed: int = 0,
    scheduled: Sequence[fc.ScheduledPayment] = (),
    bill_points: Sequence[fc.Point] = (),
) -> fc.ForecastResult:
    """Forecast a user's daily spend for the `horizon` days from `today`.

    `points` are (date, spend in minor units) pairs, outflows positive; points dated today or later are
    ignored. Fewer than MIN_DISTINCT_DATES distinct dates -> model "none" with skip_reason. Otherwise:
    backtest Prophet and the seasonal-naive baseline on the last `backtest_days` days (both fit on the
    days before them); if Prophet's MAE is higher, the baseline forecasts (model "seasonal_naive"),
    else Prophet is refit on the full history (model "prophet").

    `scheduled` are known bills (fc.split_bills), already taken out of `points`; `bill_points` are their
    past payments. The model forecasts the rest; the bills are added on their dates, and month ranges
    come from the model's joint sample paths (fc.path_month_rollups).
    """
    past = [(d, v) for d, v in points if d < today]
    paid = [(d, v) for d, v in bill_points if d < today]
    n_dates = fc.distinct_dates([*past, *paid])
    why_not = fc.check_history([*past, *paid])
    if why_not is not None:
        return fc.skipped(today, why_not, currency=currency, distinct=n_dates)

    if not past:  # all of it is known bills: the model has nothing else to forecast
        past = [(today - timedelta(days=1), 0)]
    series = fc.daily_series([*past, (min(d for d, _ in [*past, *paid]), 0)], end=today - timedelta(days=1))
    # The models learn the regular part: lumps (days above a high quantile) capped, drawn back in below.
    rem = fl.split_spikes(series)
    train, test = fc.backtest_split(rem.capped, backtest_days)
    train_y = [float(v) for _, v in train]
    test_y = [float(v) for _, v in test]

    # The backtest scores yhat only, so it skips the interval sampling.
    prophet_bt = [float(p.yhat) for p in fit_predict(train, len(test), seed=seed, uncertainty_samples=0)]
    baseline_bt = fc.seasonal_naive(train_y, len(test))
    metrics = fc.Metrics(
        mae=fc.mae(test_y, prophet_bt),
        mase=fc.mase(test_y, prophet_bt, train_y),
        baseline_mae=fc.mae(test_y, baseline_bt),
        baseline_mase=fc.mase(test_y, baseline_bt, train_y),
        backtest_days=len(test),
    )
    scores = (
        f"backtest MAE over the last {len(test)} days (lumps capped): Prophet {_fmt(metrics.mae, currency)}, "
        f"same-weekday-last-week baseline {_fmt(metrics.baseline_mae, currency)}"
    )
    if fc.prophet_wins(metrics.mae, metrics.baseline_mae):
        model, reason = fc.MODEL_PROPHET, f"Prophet chosen; {scores}"
        daily, paths = fit_predict_paths(rem.capped, horizon, seed=seed)
    else:
        model = fc.MODEL_SEASONAL_NAIVE
        reason = f"Prophet did worse than the baseline, so the baseline forecasts; {scores}"
        daily = fc.baseline_forecast(rem.capped, horizon)
        paths = fc.baseline_paths(rem.capped, horizon, seed=seed)
    daily, paths, level_note = _level(rem, daily, paths, currency=currency)
    daily, paths = fl.add_spikes(daily, paths, rem, seed=seed)
    paths, widened = fl.widen_to_history(paths, series)
    if widened > 1:
        level_note = (
            f"{level_note}; sample paths' spread widened x{widened:.2f} to match the history's 4-week totals"
        )
    reason = f"{reason}; {level_note}"
    if scheduled:
        reason = f"{reason}; {len(scheduled)} known bill payments scheduled on their dates"

    spent = fc.spent_in_month_to_date([*series, *paid], today)
    months = fc.path_month_rollups(today, paths, today=today, spent_this_month=spent, scheduled=scheduled)
    daily = fc.with_scheduled(daily, scheduled)
    return fc.ForecastResult(
        model=model,
        today=today,
        currency=currency,
        reason=reason,
        metrics=metrics,
        daily=tuple(daily),
        months=tuple(months),
        history_days=len(series),
        distinct_dates=n_dates,
        scheduled=tuple(scheduled),
    )


def _level(
    rem: fl.Remainder, daily: list[fc.DailyPrediction], paths: list[list[float]], *, currency: str
) -> tuple[list[fc.DailyPrediction], list[list[float]], str]:
    """The model's curve and paths rescaled to the regular part's level (fl.regular_rate), with a
    sentence saying which level and what the lumps are."""
    horizon = min(len(p) for p in paths)
    model_rate = sum(sum(p[:horizon]) for p in paths) / len(paths) / horizon
    level, rate = fl.regular_rate(rem.capped)
    caps = [c for c in rem.caps if c != float("inf")]
    lumps = (
        f"days over their weekday's outlier fence ({_fmt(min(caps), currency)} to "
        f"{_fmt(max(caps), currency)}) capped there, their excess ({rem.lump_days()} days in the last "
        f"{min(len(rem.capped), fl.LEVEL_DAYS)}) drawn in as lumps"
        if rem.lump_days()
        else "no lumps capped"
    )
    if level == fl.LEVEL_MODEL or model_rate <= 0:
        why = "recent spend moved off the long mean, or the history is too short for one"
        return daily, paths, f"month level: {fl.LEVEL_MODEL} (the model's own: {why}); {lumps}"
    daily, paths = fl.rescale(daily, paths, rate / model_rate)
    days = min(len(rem.capped), fl.LEVEL_DAYS)
    note = f"month level: {level} (the capped mean of the last {days} days: {_fmt(rate, currency)} a day)"
    return daily, paths, f"{note}; {lumps}"


def _fmt(minor: float, currency: str) -> str:
    return f"{format_minor(round(minor), currency)} {currency}"
