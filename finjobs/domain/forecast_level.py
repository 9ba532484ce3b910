"""The non-bill spending split into a regular part and lumps, and the regular part's month level.

What is left once the known bills are out is lumpy: cash withdrawals, a rare large purchase. A model fit
by least squares to that daily series chases the lumps (a month with a 1,500 purchase lifts the trend)
and its Gaussian noise spreads them over every day. So a day above Tukey's outlier fence of its
weekday's spending days is capped there (split_spikes): the model learns the capped, regular series,
and the capped-off excess is a compound process of its own, "a lump on a Monday with probability
`rates[0]`, its size one of the Monday excesses seen", drawn into every sample path (add_spikes).
Under absolute error the month total to forecast is the median of those paths, which is 0 extra in a
month that most likely has no lump and is no longer pulled up by the last one.

The regular part's month level is its mean daily spend over the last LEVEL_DAYS (a long window: a
model's level and a 3-month mean move with every noisy month). When the last RECENT_DAYS depart from
that mean by more than SHIFT_Z standard errors of a RECENT_DAYS mean, the spending has moved and the
model's own level (which follows a trend) stands. Pure: stdlib only.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from finjobs.domain.forecasting import DailyPrediction, Point, quantile
from finjobs.domain.money import spend_minor

SPIKE_FENCE = 1.5  # Tukey's outlier fence: a day above Q3 + 1.5 IQR of its weekday's spending days is a lump
MIN_SPENDING_DAYS = 10  # a weekday with fewer spending days than this in the window is not capped
LEVEL_DAYS = 730  # the window the cap, the lumps and the regular level are read from
RECENT_DAYS = 91  # the recent stretch checked against the long level
SHIFT_Z = 2.0  # standard errors of a RECENT_DAYS mean that count as a shift (about 5% two-sided)
# (2.5: the same ratio on the tuning seeds; 2.0 catches more real drift. In 40 generated lumpy 730-day
# histories with a step 150 days before the end, a +20% step is caught 10% of the time, +30% 30%, +50%
# 62%: a smaller or younger step is left to the long mean, which lags it.)
BLOCK_DAYS = 28  # the paths' spread is checked on totals of this many days (four whole weeks)
# widen_to_history on the paths with the lumps in, against the non-bill series: coverage 0.72 -> 0.75 on
# the tuning seeds (against the capped series before the lumps: 0.72; not at all: 0.71)
# Tried and dropped: the level from a Kalman filter of a local-level model over the 4-week means, its
# drift and noise variances read from the differences at lag 1 and 6 (ratio 0.842 -> 0.864: on a steady
# history the drift estimate is noise, and the filter then follows noisy months).
# Chosen on scripts/eval_forecast.py's tuning seeds 1 2 4 5 (12 users, 3 cuts) in a harness with weekly
# block resampling for the regular noise (month-total MAE): level window 91 / 182 / 365 / 730 days:
# 791 / 775 / 759 / 751; an exponential weight (half-life 60-365 days) 779-754; the median of the path
# totals vs their mean: -1 to -2%. The cap: one quantile of all spending days, 0.90 / 0.95 / 0.98: 752 /
# 753 / 786; per weekday 0.90: 759; per weekday fence 1.0 / 1.5 / 3 IQR: 753 / 759 / 757, all within the
# noise; the 1.5 fence per weekday is kept because it leaves a smooth series (Gaussian noise, a weekly
# shape, a trend) untouched (0.35% of its days), which a quantile cap does not: it flattened the
# trend of tests/integration/test_prophet_model.py's weekly case by 3%.

# Result, eval_forecast.py --users 12 --cuts 3 (ratio_vs_best_baseline, coverage of the 80% range; the
# per-series level backtest this replaced in brackets): tuning seeds 1 2 4 5 0.842, 0.75 (0.911);
# seeds 11 12 13 0.705, 0.83 (0.886, 0.74); 21 22 23 0.776, 0.80 (0.889, 0.73); fresh 31 32 33 0.834,
# 0.75 (0.824 with SHIFT_Z 2.5: the 4 switches to the model there are false alarms on steady histories).
# The generator's non-bill month, simulated 20,000 times for one user (/tmp replica of its habits and
# lumpy cash), has MAE 697 at its true median against 832 for the mean of 3 months (0.84 for that part
# alone; the eval's baselines also carry bill changes): the tuning seeds' 754 is within ~8% of it.

LEVEL_LONG = "long_mean"  # the capped series' mean over LEVEL_DAYS
LEVEL_MODEL = "model"  # the model's own month sum (a shift, or no rate to scale)


@dataclass(frozen=True)
class Remainder:
    """The non-bill daily series split into its regular part and its lumps, per weekday (a weekend's
    big shop is that weekday's pattern, not a lump on any day).

    `capped` is the series with each day at most its weekday's cap `caps[weekday]` (math.inf: nothing
    capped); `spikes[weekday]` are the excesses over that cap of the last LEVEL_DAYS' days on that
    weekday, and `rates[weekday]` their number per such day.
    """

    capped: list[Point]
    caps: tuple[float, ...]  # Monday..Sunday, minor units
    spikes: tuple[tuple[float, ...], ...]
    rates: tuple[float, ...]

    def lump_days(self) -> int:
        return sum(len(s) for s in self.spikes)

    def mean_lump(self, weekday: int) -> float:
        """The lumps' mean spend on one day of that weekday: rate x mean excess."""
        s = self.spikes[weekday]
        return self.rates[weekday] * statistics.fmean(s) if s else 0.0


def split_spikes(
    series: Sequence[Point], *, fence: float = SPIKE_FENCE, window: int = LEVEL_DAYS
) -> Remainder:
    """Cap each day at its weekday's outlier fence, Q3 + `fence` x IQR of that weekday's spending days
    (value > 0) in the last `window` days; a weekday with fewer than MIN_SPENDING_DAYS of them is not
    capped."""
    caps, spikes, rates = [], [], []
    for weekday in range(7):
        recent = [float(v) for d, v in series[-window:] if d.weekday() == weekday]
        spending = sorted(v for v in recent if v > 0)
        cap = math.inf
        if len(spending) >= MIN_SPENDING_DAYS:
            q1, q3 = quantile(spending, 0.25), quantile(spending, 0.75)
            cap = math.floor(q3 + fence * (q3 - q1))
        caps.append(cap)
        spikes.append(tuple(v - cap for v in spending if v > cap))
        rates.append(len(spikes[-1]) / len(recent) if recent else 0.0)
    capped = [(d, int(caps[d.weekday()])) if v > caps[d.weekday()] else (d, v) for d, v in series]
    return Remainder(capped, tuple(caps), tuple(spikes), tuple(rates))


def regular_rate(capped: Sequence[Point]) -> tuple[str, float]:
    """(LEVEL_LONG, the capped series' mean daily spend over the last LEVEL_DAYS), or (LEVEL_MODEL,
    the last RECENT_DAYS' mean) when those days depart from the long mean by more than SHIFT_Z
    standard errors (from the spread of the window's weekly totals) or the window is not longer."""
    values = [float(v) for _, v in capped[-LEVEL_DAYS:]]
    recent = values[-RECENT_DAYS:]
    long_mean, recent_mean = statistics.fmean(values), statistics.fmean(recent)
    weeks = [sum(values[i : i + 7]) / 7 for i in range(len(values) % 7, len(values), 7)]
    if len(values) <= len(recent) or len(weeks) < 2:
        return LEVEL_MODEL, recent_mean
    se = statistics.stdev(weeks) * math.sqrt(7 / len(recent) + 7 / len(values))
    if abs(recent_mean - long_mean) > SHIFT_Z * se:
        return LEVEL_MODEL, recent_mean
    return LEVEL_LONG, long_mean


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


def widen_to_history(
    paths: Sequence[Sequence[float]], history: Sequence[Point], *, block: int = BLOCK_DAYS
) -> tuple[list[list[float]], float]:
    """(the paths with each day's spread around its mean widened by k, k): k >= 1 makes the spread of
    the paths' `block`-day totals as wide as that of the history's own consecutive `block`-day totals
    in its last LEVEL_DAYS. A model with independent daily noise (Prophet's) underrates how far a month
    of spending strays (a run of busy weeks, two lumps in one month); the history says by how much. Its
    spread is taken from the differences of neighbouring totals (sd / sqrt 2), so a trend, which the
    level follows, does not count as spread. k = 1 when the history has fewer than 4 blocks or the
    paths no spread."""
    values = [float(v) for _, v in history[-LEVEL_DAYS:]]
    totals = [sum(values[i : i + block]) for i in range(len(values) % block, len(values), block)]
    span = min(block, *(len(p) for p in paths))
    sums = [sum(p[:span]) * block / span for p in paths]
    spread = statistics.pstdev(sums) if len(sums) > 1 else 0.0
    k = 1.0
    if len(totals) >= 4 and spread > 0:
        k = statistics.stdev(b - a for a, b in itertools.pairwise(totals)) / math.sqrt(2) / spread
    if k <= 1:
        return [list(p) for p in paths], 1.0
    n = len(paths)
    means = [sum(p[i] for p in paths) / n for i in range(min(len(p) for p in paths))]
    return [[m + k * (v - m) for v, m in zip(p, means, strict=False)] for p in paths], k


def add_spikes(
    daily: Sequence[DailyPrediction], paths: Sequence[Sequence[float]], rem: Remainder, *, seed: int = 0
) -> tuple[list[DailyPrediction], list[list[float]]]:
    """The lumps put back: path day i (the date of daily[i]) gets, with probability `rem.rates` of its
    weekday, one of that weekday's `rem.spikes` (drawn with `seed`, so a forecast is repeatable); the
    daily curve's yhat and upper get the weekday's mean lump (a lump's day is unknown, so no lower
    bound rises)."""
    weekdays = [d.day.weekday() for d in daily]
    rng = random.Random(seed)
    out = []
    for p in paths:
        row = list(p)
        for i, wd in enumerate(weekdays[: len(row)]):
            if rem.spikes[wd] and rng.random() < rem.rates[wd]:
                row[i] += rng.choice(rem.spikes[wd])
        out.append(row)
    return [
        DailyPrediction(
            d.day,
            spend_minor(d.yhat + rem.mean_lump(d.day.weekday())),
            d.lower,
            spend_minor(d.upper + rem.mean_lump(d.day.weekday())),
        )
        for d in daily
    ], out
