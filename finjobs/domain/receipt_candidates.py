"""Scored candidates for receipt fields: every possible total, date and merchant is a Candidate whose
features are weighed by ONE table (WEIGHTS), and a field's readings are combined by one vote. Pure.

The weights are hand-set (their history is in docs/receipts.md); `scripts/eval_receipts.py --ablate`
prints what each is worth on the labelled photos (accuracy with that weight set to 0).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")
K = TypeVar("K", bound=Hashable)

# feature -> weight. A feature is 1.0 when present unless its candidate gives another strength
# (total.late_label is the line's position from 0 at the top to 1 at the bottom; total.repeated the
# number of extra printings, at most 3). Features missing from the table weigh nothing.
WEIGHTS: dict[str, float] = {
    # total: the label of the line it is printed on (see receipt_lines.LINE_LABELS)
    "total.label_strong": 10.0,  # GRAND TOTAL, NETT, AMOUNT DUE, ... (Inclusive of GST)
    "total.label_total": 8.0,  # TOTAL / JUMLAH
    "total.label_weak": 3.0,  # SUB TOTAL, EXCL.
    "total.label_tender": 2.0,  # CASH, VISA, ... (the tender is often the exact total)
    "total.label_none": 0.5,  # any other money line
    "total.late_label": 0.5,  # later labelled lines win: the rounded total follows the unrounded one
    # total: arithmetic cross-checks
    "total.cash_minus_change_printed": 11.0,  # printed AND equal to cash - change
    "total.cash_minus_change": 6.0,  # only the arithmetic says so (its own line garbled)
    "total.exact_tender_printed": 11.0,  # printed, and a tender with CHANGE 0.00
    "total.exact_tender": 3.0,
    "total.rounded": 4.0,  # a labelled total plus or minus a printed rounding adjustment
    "total.final_rounded": 3.0,  # ... printed below that rounding line
    "total.with_tax_printed": 8.0,  # printed AND equal to subtotal + tax (+ rounding)
    "total.with_tax": 5.0,
    "total.item_sum": 1.0,  # equal to the sum of the item lines
    "total.repeated": 0.7,  # per extra printing of the same amount (at most 3)
    "total.lost_digit": 4.0,  # arithmetic one digit away from a labelled total's reading
    # date
    "date.found": 2.0,  # any date pattern
    "date.labelled": 3.0,  # on a line saying DATE / TARIKH
    "date.four_digit_year": 1.0,
    "date.month_name": 1.5,  # 25 DEC 2018, Dec 25, 2018
    "date.year_first": 1.0,  # 2018-12-25
    "date.compact": -1.5,  # 20181225
    "date.lost_separator": -2.0,  # 25122018, 2512/2018, "25 12-18"
    "date.order_swapped": -0.5,  # only the other day/month order makes a date
    "date.year_repaired": -1.0,  # 2078 read for 2018 (see repair_year)
    "date.day_repaired": -1.0,  # 92/02 read for 02/02 (see receipt_dates._repaired_day)
    "date.glued": -1.5,  # glued to a product or document code
    "date.time_on_line": 1.0,  # printed dates sit next to the time of sale
    # merchant (candidates are the first 8 non-empty lines)
    "merchant.company_word": 10.0,  # SDN BHD, ENTERPRISE, TRADING, RESTORAN, LTD, ...
    "merchant.plain_line": 5.0,  # a clean line of capitals and no address or money words
    "merchant.line_index": -0.1,  # per line from the top: the name is printed first
}


def weight(feature: str) -> float:
    return WEIGHTS.get(feature, 0.0)


@dataclass(frozen=True)
class Candidate(Generic[V]):
    """One possible value of a field and the evidence for it (feature -> strength)."""

    value: V
    features: Mapping[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(weight(name) * strength for name, strength in self.features.items())


def best(candidates: Iterable[Candidate[V]]) -> Candidate[V] | None:
    """The highest-scored candidate; the earliest on ties."""
    top: Candidate[V] | None = None
    for c in candidates:
        if top is None or c.score > top.score:
            top = c
    return top


def vote(
    ballots: Iterable[tuple[K, float]], *, tie: Callable[[K], object] | None = None
) -> tuple[K, float] | None:
    """Weighted vote over (value, weight) ballots: the value with the most weight and the share of all
    positive weight behind it. Ties go to the largest `tie(value)`, else to the value seen first."""
    tally: dict[K, float] = {}
    for value, w in ballots:
        tally[value] = tally.get(value, 0.0) + w
    if not tally:
        return None
    order = {v: -i for i, v in enumerate(tally)}
    winner = max(tally, key=lambda v: (tally[v], tie(v) if tie else order[v]))
    total = sum(w for w in tally.values() if w > 0)
    return winner, (tally[winner] / total if total > 0 else 0.0)
