"""Receipt totals: every amount that could be the amount due becomes a Candidate with features from
its line's label and from arithmetic cross-checks (cash - change, subtotal + tax, rounding), weighed
by receipt_candidates.WEIGHTS; several OCR readings are combined by one vote. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from finjobs.domain.receipt_candidates import Candidate, vote
from finjobs.domain.receipt_items import item_sum, parse_items
from finjobs.domain.receipt_lines import Amt, collect_amounts

_MAX_TAX_RATE = Decimal("0.3")  # tax is a fraction of the subtotal: a bigger "tax" is a misfiled total
_LABELLED = ("strong", "total")
FULL_SCORE = 16.0  # the score a total with label and one cross-check reaches: confidence 1.0


def _one_digit_apart(a: Decimal, b: Decimal) -> bool:
    """'27.55' vs '7.55' or '27.56': one digit lost or misread by OCR."""
    x, y = f"{a:.2f}", f"{b:.2f}"
    if x == y:
        return False
    if len(x) == len(y):
        return sum(p != q for p, q in zip(x, y, strict=True)) == 1
    if abs(len(x) - len(y)) == 1:
        longer, shorter = (x, y) if len(x) > len(y) else (y, x)
        return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
    return False


@dataclass(frozen=True)
class _Checks:
    """The arithmetic a receipt's amounts allow: each set holds the values that check out."""

    printed: frozenset[Decimal]  # printed on a line other than the tender/change ones
    labelled: frozenset[Decimal]
    cash_minus_change: frozenset[Decimal]
    exact_tender: frozenset[Decimal]  # a tender with "CHANGE 0.00"
    rounded: frozenset[Decimal]
    final_rounded: frozenset[Decimal]
    with_tax: frozenset[Decimal]


def _of(amts: list[Amt], kind: str) -> list[Amt]:
    return [a for a in amts if a.kind == kind]


def _final_rounded(amts: list[Amt], roundings: list[Decimal]) -> frozenset[Decimal]:
    """'TOTAL 23.26 / ROUNDING ADJ -0.01 / TOTAL 23.25': both totals are one rounding apart, but the
    amount due is the one printed after the rounding line."""
    rounding_lines = [a.line for a in _of(amts, "rounding") if 0 < abs(a.value) < 1]
    labelled_at = [a for a in amts if a.kind in _LABELLED]
    return frozenset(
        b.value
        for b in labelled_at
        for a in labelled_at
        if abs(b.value - a.value) in roundings
        and any(a.line < r < b.line for r in rounding_lines)
        and b.value != a.value
    )


def _checks(amts: list[Amt]) -> _Checks:
    tenders = [a.value for a in _of(amts, "tender")]
    changes = [a.value for a in _of(amts, "change")]
    roundings = [abs(a.value) for a in _of(amts, "rounding") if abs(a.value) < 1]
    taxes = [a.value for a in _of(amts, "tax") if not a.included]
    labelled = frozenset(a.value for a in amts if a.kind in _LABELLED)
    weak = {a.value for a in _of(amts, "weak")}
    adjust = [Decimal(0), *roundings, *(-r for r in roundings)]
    return _Checks(
        printed=frozenset(a.value for a in amts if a.kind not in ("tender", "change")),
        labelled=labelled,
        cash_minus_change=frozenset(t - c for t in tenders for c in changes if 0 < c < t),
        exact_tender=frozenset(t for t in tenders for c in changes if c == 0),
        rounded=frozenset(v + r for v in labelled for r in adjust if r),
        final_rounded=_final_rounded(amts, roundings),
        with_tax=frozenset(
            w + t + r for w in weak for t in taxes if 0 < t <= w * _MAX_TAX_RATE for r in adjust
        ),
    )


def _label_features(amts: list[Amt]) -> dict[Decimal, dict[str, float]]:
    """Per positive value, the label features of its best-scored printing."""
    last_line = max(a.line for a in amts) or 1
    out: dict[Decimal, dict[str, float]] = {}
    for a in amts:
        if a.value <= 0:
            continue
        features = {f"total.label_{a.kind}": 1.0}
        if a.kind in _LABELLED:
            features["total.late_label"] = a.line / last_line
        if a.value not in out or Candidate(a.value, features).score > Candidate(a.value, out[a.value]).score:
            out[a.value] = features
    return out


def _check_features(
    v: Decimal, ck: _Checks, amts: list[Amt], items_total: Decimal | None
) -> dict[str, float]:
    printed = v in ck.printed
    f: dict[str, float] = {}
    if v in ck.cash_minus_change:
        f["total.cash_minus_change_printed" if printed else "total.cash_minus_change"] = 1.0
    elif v in ck.exact_tender:
        f["total.exact_tender_printed" if printed else "total.exact_tender"] = 1.0
    if v in ck.rounded:
        f["total.rounded"] = 1.0
    if v in ck.final_rounded:
        f["total.final_rounded"] = 1.0
    if v in ck.with_tax:
        f["total.with_tax_printed" if printed else "total.with_tax"] = 1.0
    if items_total is not None and v == items_total:
        f["total.item_sum"] = 1.0
    extra = min(max(sum(1 for a in amts if a.value == v) - 1, 0), 3)
    if extra:
        f["total.repeated"] = float(extra)
    if not printed and any(_one_digit_apart(v, w) for w in ck.labelled):
        f["total.lost_digit"] = 1.0  # arithmetic says 27.55 where the TOTAL line reads 7.55
    return f


def total_candidates(amts: list[Amt], items_total: Decimal | None) -> list[Candidate[Decimal]]:
    """Every positive printed amount, and every value the arithmetic recovers, with its features."""
    if not amts:
        return []
    ck = _checks(amts)
    labels = _label_features(amts)
    # Arithmetic can recover a total whose own line Tesseract garbled.
    for v in ck.cash_minus_change | ck.exact_tender | ck.with_tax:
        if v > 0:
            labels.setdefault(v, {})
    return [Candidate(v, {**f, **_check_features(v, ck, amts, items_total)}) for v, f in labels.items()]


def _scores(candidates: list[Candidate[Decimal]]) -> dict[Decimal, float]:
    return {c.value: c.score for c in candidates}


def pick_total(amts: list[Amt], items_total: Decimal | None) -> tuple[Decimal | None, float, Decimal | None]:
    """The best-scored total with a 0..1 confidence, and the first tax amount below it."""
    scores = _scores(total_candidates(amts, items_total))
    if not scores:
        return None, 0.0, None
    top = max(scores, key=lambda v: (scores[v], v))
    taxes = [a for a in amts if a.kind == "tax" and 0 < a.value < top]
    return top, min(1.0, scores[top] / FULL_SCORE), taxes[0].value if taxes else None


def total_scores(text: str) -> dict[Decimal, float]:
    """Every candidate total of one OCR reading with its score."""
    lines = text.splitlines()
    amts = collect_amounts(lines)
    return _scores(total_candidates(amts, item_sum(parse_items(lines, amts))))


# Tesseract reads a printed leading "1" as "4" or "7" on till print ("409.70" for "109.70").
_LEADING_LOOKALIKES = "47"


def _lookalike_of(v: Decimal, seen: set[Decimal]) -> Decimal:
    """The amount `v` is a misreading of: the same digits with a leading 4 or 7 read for 1, when
    that amount is itself a candidate of some reading; else `v`."""
    text = f"{v:.2f}"
    if text[0] in _LEADING_LOOKALIKES and text.index(".") >= 2:  # "4.00" may well be 4.00
        other = Decimal("1" + text[1:])
        if other in seen:
            return other
    return v


def _reading_features(text: str) -> dict[Decimal, dict[str, float]]:
    lines = text.splitlines()
    amts = collect_amounts(lines)
    return {c.value: dict(c.features) for c in total_candidates(amts, item_sum(parse_items(lines, amts)))}


def vote_features(readings: Sequence[str]) -> dict[Decimal, dict[str, float]]:
    """Per amount, its features summed over the readings (an amount with a leading 4 or 7 counted
    for the same amount with a leading 1 when some reading has that one, _lookalike_of): scored by
    WEIGHTS this is the vote of combine_totals, the sum of the readings' scores."""
    per = [_reading_features(text) for text in readings]
    seen = {v for features in per for v in features}
    out: dict[Decimal, dict[str, float]] = {}
    for features in per:
        for v, f in features.items():
            summed = out.setdefault(_lookalike_of(v, seen), {})
            for name, strength in f.items():
                summed[name] = summed.get(name, 0.0) + strength
    return out


def combine_totals(readings: Sequence[str]) -> tuple[Decimal | None, float]:
    """The total over several OCR readings of one receipt: one vote in which every candidate casts
    its score, so an amount two readings support beats one reading's misread digit (ties: the larger
    amount); an amount with a leading 4 or 7 votes for the same amount with a leading 1 when some
    reading has that one (_lookalike_of). Confidence 0..1 scales with the evidence per reading."""
    ballots = [(v, Candidate(v, f).score) for v, f in vote_features(readings).items()]
    voted = vote(ballots, tie=lambda v: v)
    if voted is None:
        return None, 0.0
    top = voted[0]
    support = sum(s for v, s in ballots if v == top)
    return top, round(min(1.0, support / (FULL_SCORE * len(readings))), 2)
