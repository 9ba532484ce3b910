"""Recurring-payment detection (subscriptions, bills, paydays) from one user's transactions.

Pure: stdlib only (dates, statistics, re); values in, values out. No clock: nothing here reads "today".
"""

from __future__ import annotations

import calendar
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal

Cadence = Literal["weekly", "biweekly", "monthly", "yearly"]

MIN_OCCURRENCES = 3
# Amounts of one series stay within this fraction of their median (Actual Budget / Plaid use ~5-10%).
AMOUNT_TOLERANCE = 0.075
# A price change larger than this factor is more likely a different purchase than a new price.
MAX_PRICE_CHANGE = 1.5


@dataclass(frozen=True)
class Txn:
    """One posted transaction. amount_minor < 0 is money out, > 0 money in."""

    id: int | str
    date: date
    amount_minor: int
    description: str
    category: str | None = None


@dataclass(frozen=True)
class CadenceRule:
    """How a cadence is fitted: `tolerance_days` is the allowed distance from the fitted schedule."""

    name: Cadence
    period_days: int  # nominal, for gap pre-filters and "how overdue" arithmetic
    tolerance_days: int
    gap_range: tuple[int, int]  # plausible median gap; cheap rejection before fitting


CADENCES: dict[Cadence, CadenceRule] = {
    "weekly": CadenceRule("weekly", 7, 1, (5, 9)),
    "biweekly": CadenceRule("biweekly", 14, 2, (11, 17)),
    "monthly": CadenceRule("monthly", 30, 3, (25, 36)),
    "yearly": CadenceRule("yearly", 365, 7, (340, 390)),
}


@dataclass(frozen=True)
class RecurringSeries:
    """A detected recurring series.

    Amounts are positive magnitudes; `is_income` tells the direction. `typical_amount_minor` is the
    median of the current price regime; when the price changed (`amount_changed`),
    `previous_amount_minor` is the median of the regime before and `changed_on` the first date
    charged at the new price. `occurrences` are txn ids in date order.
    """

    payee: str
    cadence: Cadence
    typical_amount_minor: int
    last_date: date
    next_expected_date: date
    occurrences: list[int | str]
    amount_changed: bool
    previous_amount_minor: int | None
    is_income: bool = False
    first_date: date | None = None
    changed_on: date | None = None
    tolerance_days: int = 0

    @property
    def key(self) -> str:
        """Stable identity of the series (payee + cadence + direction), for dedup keys."""
        return f"{'in' if self.is_income else 'out'}:{self.payee}:{self.cadence}"


# --- payee normalisation -------------------------------------------------------------------------

# Words that bank feeds wrap around a merchant name; they say how it was paid, not who was paid.
_NOISE_WORDS = frozenset(
    (
        "pos",
        "debit",
        "credit",
        "card",
        "purchase",
        "visa",
        "mastercard",
        "mc",
        "contactless",
        "ach",
        "dd",
        "direct",
        "recurring",
        "ref",
        "reference",
        "txn",
        "trans",
        "transaction",
        "payment",
        "pmt",
        "online",
        "www",
        "com",
        "co",
        "inc",
        "ltd",
        "llc",
        "store",
        "authorized",
        "auth",
        "on",
        "at",
        "to",
        "from",
        "for",
        "the",
        "of",
        "no",
        "nr",
        "id",
    )
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_MASK = re.compile(r"^x{2,}$")


def normalise_payee(description: str) -> str:
    """Merchant key: casefolded words without numbers, dates, card masks, store numbers or noise.

    Any token containing a digit goes (dates, references, store numbers, 'P0123ABC' codes), so
    'POS 4411 NETFLIX.COM #0042 12/03' and 'Netflix.com ref 99812' both give 'netflix'.
    """
    words: list[str] = []
    for tok in _TOKEN.findall(description.casefold()):
        if any(ch.isdigit() for ch in tok) or _MASK.match(tok) or tok in _NOISE_WORDS:
            continue
        if len(tok) == 1 and not words:  # stray initials before the name ('x', 'p')
            continue
        words.append(tok)
    return " ".join(words) or description.strip().casefold()


# --- schedule fitting ----------------------------------------------------------------------------


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_slot(index: int, day: int) -> date:
    """Scheduled date of month number `index` (year*12 + month-1) on `day`, clamped to month end."""
    return _clamped(index // 12, index % 12 + 1, day)


def _year_slot(year: int, month: int, day: int) -> date:
    return _clamped(year, month, day)


@dataclass(frozen=True)
class _Fit:
    slots: list[int]  # schedule index of each occurrence
    residuals: list[int]  # days between each occurrence and its scheduled date
    next_date: Callable[[int], date]  # schedule index -> scheduled date

    @property
    def cost(self) -> int:
        return sum(abs(r) for r in self.residuals)


def _fit_fixed(dates: Sequence[date], period: int) -> list[_Fit]:
    """Fixed-period schedules (weekly, biweekly): one per phase around the first date."""
    base = dates[0].toordinal()
    fits: list[_Fit] = []
    for anchor in range(base - period // 2, base + period // 2 + 1):
        slots = [(d.toordinal() - anchor + period // 2) // period for d in dates]
        residuals = [d.toordinal() - (anchor + period * k) for d, k in zip(dates, slots, strict=True)]

        def nxt(k: int, a: int = anchor) -> date:
            return date.fromordinal(a + period * k)

        fits.append(_Fit(slots, residuals, nxt))
    return fits


def _fit_monthly(dates: Sequence[date]) -> list[_Fit]:
    """Same day of month (clamped at month end); tries every anchor day and keeps the closest.

    Every day, not only the observed ones: charges due on the 1st that land on the 3rd, 3rd and
    29th of the previous month are best explained by an anchor none of them sits on.
    """
    candidates = range(1, 32)
    fits: list[_Fit] = []
    for day in sorted(candidates):
        slots, residuals = [], []
        for d in dates:
            m = d.year * 12 + d.month - 1
            k = min((m - 1, m, m + 1), key=lambda i: abs((d - _month_slot(i, day)).days))
            slots.append(k)
            residuals.append((d - _month_slot(k, day)).days)

        def nxt(k: int, day: int = day) -> date:
            return _month_slot(k, day)

        fit = _Fit(slots, residuals, nxt)
        fits.append(fit)
    return fits


def _fit_yearly(dates: Sequence[date]) -> list[_Fit]:
    fits: list[_Fit] = []
    anchors = {(x.month, x.day) for d in dates for x in (d + timedelta(days=j) for j in range(-7, 8))}
    for month, day in sorted(anchors):
        slots, residuals = [], []
        for d in dates:
            k = min((d.year - 1, d.year, d.year + 1), key=lambda y: abs((d - _year_slot(y, month, day)).days))
            slots.append(k)
            residuals.append((d - _year_slot(k, month, day)).days)

        def nxt(k: int, month: int = month, day: int = day) -> date:
            return _year_slot(k, month, day)

        fit = _Fit(slots, residuals, nxt)
        fits.append(fit)
    return fits


def _fits(dates: Sequence[date], rule: CadenceRule) -> list[_Fit]:
    """Candidate schedules (one per anchor); the caller keeps the closest one that is regular."""
    if rule.name == "monthly":
        return _fit_monthly(dates)
    if rule.name == "yearly":
        return _fit_yearly(dates)
    return _fit_fixed(dates, rule.period_days)


def _regular(fit: _Fit, rule: CadenceRule, *, strict: bool = False) -> bool:
    """Regular, not merely repeated: one occurrence per slot, few skipped slots, tight residuals.

    A habit (coffee most mornings, groceries 1-2x a week, fuel every 5-12 days) puts two
    purchases in one slot or drifts off any fixed schedule, so it fails here. `strict`: no
    skipped slot and every occurrence within tolerance.
    """
    steps = [b - a for a, b in pairwise(fit.slots)]
    if any(s < 1 or s > 2 for s in steps):
        return False
    if sum(s == 2 for s in steps) > (0 if strict else len(steps) // 5):  # <= one skip in five
        return False
    tol = rule.tolerance_days
    if strict and any(abs(r) > tol for r in fit.residuals):
        return False
    if any(abs(r) > 2 * tol for r in fit.residuals):
        return False
    within = sum(abs(r) <= tol for r in fit.residuals)
    return within >= 0.8 * len(fit.residuals)


def _cadence_of(dates: Sequence[date], *, strict: bool = False) -> tuple[CadenceRule, _Fit] | None:
    if len(dates) < MIN_OCCURRENCES:
        return None
    gaps = [(b - a).days for a, b in pairwise(dates)]
    median_gap = statistics.median(gaps)
    found: tuple[CadenceRule, _Fit] | None = None
    for rule in CADENCES.values():
        lo, hi = rule.gap_range
        if not lo <= median_gap <= hi:
            continue
        for fit in _fits(dates, rule):
            if _regular(fit, rule, strict=strict) and (found is None or fit.cost < found[1].cost):
                found = (rule, fit)
    return found


# --- amount clustering ---------------------------------------------------------------------------


def _amount_clusters(txns: Sequence[Txn]) -> list[list[Txn]]:
    """Split one payee's txns into runs of similar amounts (gap between sorted amounts > tolerance).

    Clusters that are not tight (see `_tight`) are dropped: the payee's amounts are too spread
    (groceries, fuel) for a fixed-price series or a steady bill.
    """
    ordered = sorted(txns, key=lambda t: (abs(t.amount_minor), t.date, str(t.id)))
    clusters: list[list[Txn]] = []
    for t in ordered:
        prev = clusters[-1][-1] if clusters else None
        if prev is not None and abs(t.amount_minor) <= abs(prev.amount_minor) * (1 + AMOUNT_TOLERANCE):
            clusters[-1].append(t)
        else:
            clusters.append([t])
    return [sorted(c, key=lambda t: (t.date, str(t.id))) for c in clusters if _tight(c)]


def _tight(txns: Iterable[Txn]) -> bool:
    """Most amounts (80%) within AMOUNT_TOLERANCE of the median, and none beyond twice that.

    A metered bill that wanders +-7% has a few months just past 7.5% of its median; demanding
    all of them would lose the bill, while spread-out habits (fuel, groceries) still fail.
    """
    amounts = [abs(t.amount_minor) for t in txns]
    med = statistics.median(amounts)
    if any(abs(a - med) > 2 * AMOUNT_TOLERANCE * med for a in amounts):
        return False
    return sum(abs(a - med) <= AMOUNT_TOLERANCE * med for a in amounts) >= 0.8 * len(amounts)


def _fixed_price(txns: Sequence[Txn]) -> bool:
    """Amounts within 1% of each other: a price, as opposed to a metered bill."""
    amounts = [abs(t.amount_minor) for t in txns]
    return max(amounts) - min(amounts) <= 0.01 * min(amounts)


def _median_minor(txns: Sequence[Txn]) -> int:
    return int(statistics.median_low(abs(t.amount_minor) for t in txns))


def _price_regimes(txns: Sequence[Txn]) -> list[list[Txn]]:
    """Chronological runs of identical amounts; used to spot a fixed price that changed."""
    runs: list[list[Txn]] = []
    for t in txns:
        if runs and runs[-1][-1].amount_minor == t.amount_minor:
            runs[-1].append(t)
        else:
            runs.append([t])
    return runs


def _build(payee: str, members: Sequence[Txn], rule: CadenceRule, fit: _Fit) -> RecurringSeries:
    members = list(members)
    last_slot = fit.slots[-1]
    # Price regime: either a merged cluster change (amounts jump > tolerance, chronologically
    # ordered) or, inside one cluster, a fixed price followed by another fixed price.
    current = members
    previous: list[Txn] = []
    clusters = _amount_clusters(members) if not _tight(members) else [members]
    if len(clusters) > 1:
        by_start = sorted(clusters, key=lambda c: c[0].date)
        current, previous = by_start[-1], by_start[-2]
    else:
        runs = _price_regimes(members)
        if len(runs) == 2 and len(runs[0]) >= 2:
            # 9.99 x n then 10.49 x m: a price change; a bill whose every amount differs is not.
            current, previous = runs[1], runs[0]
    typical = _median_minor(current)
    prev_amount = _median_minor(previous) if previous else None
    changed = prev_amount is not None and prev_amount != typical
    return RecurringSeries(
        payee=payee,
        cadence=rule.name,
        typical_amount_minor=typical,
        last_date=members[-1].date,
        next_expected_date=fit.next_date(last_slot + 1),
        occurrences=[t.id for t in members],
        amount_changed=changed,
        previous_amount_minor=prev_amount if changed else None,
        is_income=members[0].amount_minor > 0,
        first_date=members[0].date,
        changed_on=current[0].date if changed else None,
        tolerance_days=rule.tolerance_days,
    )


def _detect_group(payee: str, txns: Sequence[Txn]) -> list[RecurringSeries]:
    found: list[RecurringSeries] = []
    used: set[int | str] = set()

    def try_members(members: list[Txn]) -> bool:
        members = sorted(members, key=lambda t: (t.date, str(t.id)))
        if len(members) < MIN_OCCURRENCES or any(t.id in used for t in members):
            return False
        if len({t.date for t in members}) != len(members):
            return False  # two in one day is a duplicate or a habit, not one slot of a schedule
        # A subset of a busy payee (a few similar grocery bills among many) can line up by
        # chance; ask such a series for one more occurrence and a clean schedule.
        lo, hi = members[0].date, members[-1].date
        crowded = sum(lo <= t.date <= hi and t.id not in used for t in txns) > len(members)
        if crowded and len(members) < MIN_OCCURRENCES + 1:
            return False
        hit = _cadence_of([t.date for t in members], strict=crowded)
        if hit is None:
            return False
        found.append(_build(payee, members, *hit))
        used.update(t.id for t in members)
        return True

    clusters = sorted(_amount_clusters(txns), key=lambda c: c[0].date)
    # A price change splits one series into time-disjoint clusters. Merge up to three consecutive
    # ones, but only when every regime before the last was charged at least twice and the payee
    # has nothing else in between: random shop purchases must not chain into a "series".
    dates_of_group = sorted(t.date for t in txns)
    for i in range(len(clusters)):
        chain = [clusters[i]]
        for c in clusters[i + 1 :]:
            ratio = _median_minor(c) / max(1, _median_minor(chain[-1]))
            if (
                c[0].date > chain[-1][-1].date
                and len(chain[-1]) >= 2
                and _fixed_price(chain[-1])
                and len(chain) < 3
                and 1 / MAX_PRICE_CHANGE <= ratio <= MAX_PRICE_CHANGE
            ):
                chain.append(c)
        while len(chain) > 1:
            members = [t for c in chain for t in c]
            lo, hi = members[0].date, members[-1].date
            if sum(lo <= d <= hi for d in dates_of_group) == len(members) and try_members(members):
                break
            chain.pop()
    # Bigger series first, so that their txns do not count as crowding a smaller one.
    for c in sorted(clusters, key=lambda c: (-len(c), c[0].date)):
        # A metered bill's odd month can sit just past the clustering gap; offer it back, and
        # keep it only if the series stays tight and regular with it.
        med = _median_minor(c)
        ids = {t.id for t in c}
        near = [
            t
            for t in txns
            if t.id not in ids and abs(abs(t.amount_minor) - med) <= 2 * AMOUNT_TOLERANCE * med
        ]
        if near and _tight([*c, *near]) and try_members([*c, *near]):
            continue
        try_members(c)
    return found


def detect_recurring(txns: Iterable[Txn]) -> list[RecurringSeries]:
    """All recurring series in a user's history (outflows and incomes), sorted by payee.

    A series: >= 3 txns with the same normalised payee and direction, amounts within 7.5% of
    their median (or one fixed price that changed once), on a weekly / biweekly / monthly /
    yearly schedule with at most a few days' jitter (monthly: same day of month +-3, clamped
    at month end). Repetition alone is not enough: see `_regular`.
    """
    groups: dict[tuple[str, bool], list[Txn]] = defaultdict(list)
    for t in txns:
        if t.amount_minor != 0:
            groups[(normalise_payee(t.description), t.amount_minor > 0)].append(t)
    series: list[RecurringSeries] = []
    for (payee, _income), group in sorted(groups.items()):
        series.extend(_detect_group(payee, group))
    return sorted(series, key=lambda s: (s.payee, s.is_income, s.cadence, s.first_date or s.last_date))


def days_overdue(series: RecurringSeries, today: date) -> int:
    """Days past the expected date plus tolerance (<= 0: not missed yet)."""
    return (today - (series.next_expected_date + timedelta(days=series.tolerance_days))).days


def upcoming_dates(series: RecurringSeries, start: date, end: date) -> list[date]:
    """The series' expected dates from `start` to `end` (inclusive), at its cadence from next_expected_date.

    A payment that is late but not yet missed (days_overdue <= one period) is expected on `start`; a
    series overdue by more than a whole period is taken as ended and yields nothing. Monthly dates keep
    the day of month (clamped at month end), yearly dates the day of year.
    """
    rule = CADENCES[series.cadence]
    if days_overdue(series, start) > rule.period_days:
        return []
    nxt = series.next_expected_date
    day = (
        max(nxt.day, series.last_date.day)
        if nxt.day == calendar.monthrange(nxt.year, nxt.month)[1]
        else nxt.day
    )
    out: list[date] = []
    k = 0
    while True:
        if series.cadence in ("weekly", "biweekly"):
            d = nxt + timedelta(days=rule.period_days * k)
        elif series.cadence == "monthly":
            d = _month_slot(nxt.year * 12 + nxt.month - 1 + k, day)
        else:
            d = _year_slot(nxt.year + k, nxt.month, nxt.day)
        if d > end:
            return out
        if d >= start:
            out.append(d)
        elif not out:
            out.append(start)  # late, not missed: it should post any day now
        k += 1
