"""Draws a forecast as a PNG: recent daily spend, the forecast with its 80% band, known bills on their
dates, and the month totals with their sample-path ranges.
Touches matplotlib (imported lazily; the Agg canvas, no pyplot global state) and the output file.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from finjobs.domain import forecasting as fc
from finjobs.domain.money import exponent

if TYPE_CHECKING:
    from matplotlib.axes import Axes

HISTORY_DAYS = 120

_MODEL_NAMES = {
    fc.MODEL_PROPHET: "Prophet",
    fc.MODEL_SEASONAL_NAIVE: "same weekday last week (seasonal naive)",
    fc.MODEL_NONE: "none",
}


def _major(minor: float, currency: str) -> float:
    return float(minor) / float(10 ** exponent(currency))


def _amount(minor: float, currency: str) -> str:
    places = exponent(currency)
    value = _major(minor, currency)
    # Month totals read best without cents; daily axes keep them only for zero-decimal currencies.
    return f"{value:,.0f}" if abs(value) >= 100 or places == 0 else f"{value:,.2f}"


def _month_label(key: str) -> str:
    return date(int(key[:4]), int(key[5:7]), 1).strftime("%B %Y")


def _summary_lines(result: fc.ForecastResult) -> list[str]:
    cur = result.currency
    coverage = f"{round(100 * result.months[0].coverage)}%" if result.months else "80%"
    lines = [
        f"$\\bf{{Expected\\ spend}}$ ({coverage} range)",
        f"{coverage} of simulated month totals fall in the range",
    ]
    for r in result.months:
        line = (
            f"\n{_month_label(r.month)}\n"
            f"{_amount(r.expected, cur)} {cur}  ({_amount(r.lower, cur)} – {_amount(r.upper, cur)})"
        )
        if r.actual_to_date:
            line += f"\nincl. {_amount(r.actual_to_date, cur)} already spent"
        if r.scheduled:
            line += f"\nincl. {_amount(r.scheduled, cur)} in known bills"
        lines.append(line)
    return lines


def _mark_bills(ax: Axes, result: fc.ForecastResult) -> None:
    """A marker per known bill at its date and the day's forecast; the biggest few payees labelled once."""
    if not result.scheduled:
        return
    cur = result.currency
    by_day = {p.day: p.yhat for p in result.daily}
    xs = [p.day for p in result.scheduled if p.day in by_day]
    ys = [_major(by_day[d], cur) for d in xs]
    ax.scatter(xs, ys, marker="v", s=46, color="#e6550d", zorder=5, label="known bill")  # type: ignore[arg-type]  # dates plot fine
    first: dict[str, fc.ScheduledPayment] = {}
    for p in result.scheduled:  # each payee labelled once, at its first date
        first.setdefault(p.payee, p)
    ranked = sorted(first.values(), key=lambda p: -p.amount)
    biggest = [p for p in ranked if p.amount * 4 >= ranked[0].amount][:3]  # small bills: marker only
    for p in biggest:
        if p.day in by_day:
            ax.annotate(
                f"{p.payee} {_amount(p.amount, cur)}",
                xy=(p.day, _major(by_day[p.day], cur)),
                xytext=(4, 6),
                textcoords="offset points",
                fontsize=8,
                color="#a63603",
            )


def _subtitle(result: fc.ForecastResult) -> str:
    cur = result.currency
    if result.model == fc.MODEL_NONE or result.metrics is None:
        return f"No forecast: {result.reason}"
    m = result.metrics
    mase = f"{m.mase:.2f}" if m.mase is not None else "n/a"
    return (
        f"Model: {_MODEL_NAMES.get(result.model, result.model)}.  "
        f"Backtest on the last {m.backtest_days} days, mean daily error: "
        f"Prophet {_amount(m.mae, cur)}, baseline {_amount(m.baseline_mae, cur)} {cur}"
        f" (Prophet MASE {mase})"
    )


def render_plot(
    history_points: Sequence[fc.Point],
    result: fc.ForecastResult,
    path: str | os.PathLike[str],
    *,
    title: str,
    history_days: int = HISTORY_DAYS,
) -> None:
    """Write a PNG of the last `history_days` of spend, the forecast and its band, and the month totals."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    cur = result.currency
    series = fc.daily_series(history_points, end=result.today - timedelta(days=1))[-history_days:]

    fig = Figure(figsize=(13, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    # The totals and legend get their own panel so they never cover the data.
    ax, panel = fig.subplots(1, 2, width_ratios=[3.1, 1])
    panel.axis("off")

    if series:
        days = [d for d, _ in series]
        spend = [_major(v, cur) for _, v in series]
        ax.bar(days, spend, width=0.85, color="#c9c9c9", label="daily spend")
        if len(spend) >= 7:
            avg = [sum(spend[i - 6 : i + 1]) / 7 for i in range(6, len(spend))]
            ax.plot(days[6:], avg, color="#555555", linewidth=1.8, label="7-day average")

    if result.daily:
        fdays = [p.day for p in result.daily]
        ax.fill_between(
            fdays,
            [_major(p.lower, cur) for p in result.daily],
            [_major(p.upper, cur) for p in result.daily],
            color="#9ecae1",
            alpha=0.55,
            linewidth=0,
            label="80% range (daily)",
        )
        ax.plot(
            fdays,
            [_major(p.yhat, cur) for p in result.daily],
            color="#08519c",
            linewidth=1.6,
            label="forecast",
        )
        if len(fdays) >= 7:
            fy = [_major(p.yhat, cur) for p in result.daily]
            ax.plot(
                fdays[6:],
                [sum(fy[i - 6 : i + 1]) / 7 for i in range(6, len(fy))],
                color="#08519c",
                linestyle=(0, (4, 2)),
                linewidth=1.8,
                label="forecast, 7-day average",
            )

    _mark_bills(ax, result)
    ax.axvline(result.today, color="#d62728", linestyle="--", linewidth=1)
    ax.annotate(
        "today",
        xy=(result.today, 1),
        xycoords=("data", "axes fraction"),
        xytext=(4, -14),
        textcoords="offset points",
        color="#d62728",
    )
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"spend per day ({cur})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.grid(axis="y", color="#eeeeee")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    fig.suptitle(title, fontsize=15, fontweight="bold", x=0.01, ha="left")
    ax.set_title(_subtitle(result), fontsize=10, loc="left", color="#444444")
    if result.months:
        text = "\n".join(_summary_lines(result))
    else:
        text = "$\\bf{No\\ forecast}$\n\n" + textwrap.fill(result.reason or "no months covered", 32)
    panel.text(0.0, 1.0, text, transform=panel.transAxes, va="top", ha="left", fontsize=11, linespacing=1.5)
    handles, labels = ax.get_legend_handles_labels()
    panel.legend(handles, labels, loc="lower left", frameon=False, fontsize=10)
    fig.savefig(os.fspath(path), format="png")
