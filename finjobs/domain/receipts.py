"""Receipt OCR text (+ optional word boxes) -> merchant, date, total, tax, items; and which bank
transaction a scanned receipt is. Pure: stdlib + decimal + dataclasses; OCR lives in adapters.ocr.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from typing import Any

from finjobs.domain.money import format_minor, to_minor


@dataclass(frozen=True)
class Word:
    """One OCR word. `line` is the 0-based index into `text.splitlines()`; conf is 0-100 (-1 unknown)."""

    text: str
    line: int
    conf: float = -1.0
    left: int = 0
    top: int = 0
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class LineItem:
    description: str
    quantity: Decimal | None
    price_minor: int | None


@dataclass
class ReceiptFields:
    merchant: str | None = None
    date: date | None = None
    total_minor: int | None = None
    currency: str = ""  # ISO 4217; "" when neither the text nor the locale hint says
    items: list[LineItem] = field(default_factory=list)
    tax_minor: int | None = None
    confidence: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON wire form: money as decimal strings, dates as ISO strings."""
        cur = self.currency or "XXX"
        return {
            "merchant": self.merchant,
            "date": self.date.isoformat() if self.date else None,
            "total": format_minor(self.total_minor, cur) if self.total_minor is not None else None,
            "currency": self.currency,
            "tax": format_minor(self.tax_minor, cur) if self.tax_minor is not None else None,
            "items": [
                {
                    "description": it.description,
                    "quantity": str(it.quantity) if it.quantity is not None else None,
                    "price": format_minor(it.price_minor, cur) if it.price_minor is not None else None,
                }
                for it in self.items
            ],
            "confidence": dict(self.confidence),
        }


# ---------------------------------------------------------------- OCR-tolerant keywords

# Letters Tesseract commonly swaps on thermal-printer receipts; used to build tolerant keyword patterns.
_CONFUSABLE = {
    "O": "O0QD",
    "A": "A4",
    "L": "L1I|",
    "I": "I1L|l",
    "S": "S5$",
    "T": "T7",
    "E": "EF",
    "N": "NH",
    "M": "MH",
    "H": "HN",
    "G": "G6",
    "B": "B8",
}


def _kw(word: str) -> str:
    parts = []
    for ch in word:
        if ch == " ":
            parts.append(r"[\s._-]*")
        elif ch.upper() in _CONFUSABLE:
            parts.append("[" + re.escape(_CONFUSABLE[ch.upper()]) + "]")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


def _rx(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(_kw(w) for w in words), re.IGNORECASE)


# Malay receipt words too: JUMLAH = total, TUNAI = cash, BAKI = change.
_TOTAL = _rx("TOTAL", "JUMLAH")
_STRONG_LABEL = _rx(
    "GRAND TOTAL",
    "ROUNDED TOTAL",
    "TOTAL ROUNDED",
    "ROUNDED",
    "NETT TOTAL",
    "NET TOTAL",
    "NETT",
    "AMOUNT DUE",
    "BALANCE DUE",
    "BAL DUE",
    "TOTAL DUE",
    "TOTAL AMOUNT",
    "TOTAL AMT",
    "TOTAL PAYABLE",
    "NET AMOUNT",
    "NET AMT",
    "JUMLAH BESAR",
    "AMOUNT PAYABLE",
    "TOTAL (RM)",
    "TOTAL RM",
    "TOTAL MYR",
)
# "Inclusive (of GST)" marks the amount due ("Total Sales (Inclusive of GST)", often garbled to
# "...clusivs"), unless the line only states the tax a total includes ("(Inclusive) GST 6% 33.57").
_INCLUSIVE = _rx("INCLUSIVE", "INCL", "CLUSIV")
_STRONG_TOTAL = re.compile(_STRONG_LABEL.pattern + "|" + _INCLUSIVE.pattern, re.IGNORECASE)
_RATE = re.compile(r"\d\s?%")
_WEAK_TOTAL = _rx("SUB TOTAL", "SUBTOTAL", "EXCL")
_COUNT_TOTAL = _rx("TOTAL QTY", "TOTAL ITEM", "QTY", "ITEMS", "TOTAL QUANTITY", "COUNT")
_NOT_TOTAL = _rx("TOTAL GST", "TOTAL TAX", "GST", "TAX", "DISCOUNT", "SAVING", "SERVICE", "POINT", "CHANGE")
_TENDER = _rx(
    "CASH", "TENDER", "PAID", "PAYMENT", "VISA", "MASTER", "AMEX", "DEBIT", "CARD", "RECEIVED", "TUNAI"
)
# "BALANCE" is the change on Malaysian slips, but "BALANCE DUE" is the amount due on British/US ones.
_CHANGE = _rx("CHANGE", "BALANCE", "CHNG", "BAKI")
_BALANCE_DUE = _rx("BALANCE DUE", "BAL DUE")
_ROUNDING = _rx("ROUNDING", "ROUND ADJ", "ADJUSTMENT", "ROUNDING ADJ", "ROUND")
_SUMMARY = _rx("SUMMARY")
_TAX_CODE = _rx("TAX CODE")
_TAX = _rx("GST", "TAX", "SST", "VAT")
_DATE_KW = _rx("DATE", "TARIKH")
# Dates that are not the sale's: promotions, vouchers and products run out on them.
_OTHER_DATE = _rx("VALID", "UNTIL", "EXPIR", "OFFER", "PROMO", "REDEEM", "BEST BEFORE", "USE BY")
_ITEM_HEADER = _rx("DESC", "ITEM", "QTY", "PRICE", "AMOUNT", "AMT")

# ---------------------------------------------------------------- amounts

# Digit look-alikes inside a number: "1O.5O" -> "10.50", "§5.10" -> "55.10".
_DIGITISH = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "§": "5", "l": "1", "I": "1", "|": "1"})
_NUMERIC_RUN = re.compile(
    r"(?<![A-Za-z])[0-9OoQD§lI|]*\d[0-9OoQD§lI|]*(?:\s?[.,]\s?[0-9OoQ]{2})?(?![A-Za-z])"
)
_AMOUNT = re.compile(
    r"(?<![\d.,:-])(?P<neg>-\s?)?(?P<int>\d{1,3}(?:,\d{3})+|\d{1,6})\s?[.,]\s?(?P<dec>\d{2})(?![\d])(?!\s?[.,/:-]\s?\d)"
)


def _fix_run(run: str) -> str:
    # Trailing "|", "l", "I" are table rules and letters far more often than a final digit 1.
    core = run.rstrip("|lI")
    return core.translate(_DIGITISH) + run[len(core) :]


# A zero glued to its currency prefix ("-RMO.01", "$O.50") is no numeric run of its own: the prefix's
# letters hide it from _NUMERIC_RUN.
_ZERO_AFTER_PREFIX = re.compile(r"(?:(?<=RM)|(?<=[$£]))[OoQD](?=\s?[.,]\s?[0-9OoQ]{2}(?![0-9]))")


def _fix_digits(line: str) -> str:
    return _NUMERIC_RUN.sub(lambda m: _fix_run(m.group(0)), _ZERO_AFTER_PREFIX.sub("0", line))


def _amounts(line: str) -> list[Decimal]:
    """Every money-looking number on a line, OCR-tolerant ("RM 37. 55", "60,30", "$8.20")."""
    out = []
    for m in _AMOUNT.finditer(_fix_digits(line)):
        whole = m.group("int").replace(",", "")
        try:
            value = Decimal(f"{whole}.{m.group('dec')}")
        except InvalidOperation:  # pragma: no cover - the regex only admits digits
            continue
        out.append(-value if m.group("neg") else value)
    return out


# ---------------------------------------------------------------- currency


_HINT_CURRENCY = {"MY": "MYR", "SG": "SGD", "US": "USD", "GB": "GBP", "UK": "GBP", "IE": "EUR", "DE": "EUR"}

# Where no symbol says, the shop's address does: "Springfield, IL 62704" or a "(707) 517-7942" phone
# number is American (so its dates are month-first), "York YO1 7HH" British.
_US_ADDRESS = re.compile(
    r",\s*(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|"
    r"NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\s+\d{5}(?:-\d{4})?\b"
    r"|\(\d{3}\)\s?\d{3}-\d{4}\b"
)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b")


def _currency(text: str, locale_hint: str | None) -> str:
    """ISO code from printed symbols, then from the locale hint, then from the address; "" when
    nothing says."""
    up = text.upper()
    if re.search(r"\bMYR\b|\bRM[ \t]?\d|\bRM\b|\(RM\)", up):
        return "MYR"
    # A symbol counts only in front of a number on its own line: a lone "S$" is often a GST code next
    # to a price, and a stray "€" read at a line's end ("$13.56€") is no price's sign.
    if re.search(r"\bSGD\b|(?<![A-Z])S\$[ \t]?\d", up):
        return "SGD"
    if re.search(r"\bUSD\b|\bUS\$[ \t]?\d", up):
        return "USD"
    if re.search(r"€[ \t]?\d|\bEUR\b", up):
        return "EUR"
    if re.search(r"£[ \t]?\d|\bGBP\b", up):
        return "GBP"
    hint = (locale_hint or "").upper().replace("-", "_").rsplit("_", 1)[-1]
    if hint in _HINT_CURRENCY:
        return _HINT_CURRENCY[hint]
    if re.search(r"SDN\.?\s*BHD|MALAYSIA", up):
        return "MYR"
    if re.search(r"\$[ \t]?\d", text) or _US_ADDRESS.search(up):
        return "USD"
    if _UK_POSTCODE.search(up):
        return "GBP"
    return ""


# ---------------------------------------------------------------- total


@dataclass
class _Amt:
    value: Decimal
    line: int
    kind: str  # strong / total / weak / tender / change / rounding / tax / none
    included: bool = False  # a tax the prices already include ("GST @6% incl. 3.13"): not added on


def _classify(line: str) -> str:
    if _CHANGE.search(line) and not _BALANCE_DUE.search(line):
        return "change"
    strong = bool(_STRONG_TOTAL.search(line))
    if (
        strong
        and not _STRONG_LABEL.search(line)
        and not _TOTAL.search(line)
        and _TAX.search(line)
        and _RATE.search(line)
    ):
        return "tax"
    if _ROUNDING.search(line) and not strong:
        return "rounding"
    if _COUNT_TOTAL.search(line):
        return "none"  # "TOTAL QTY 2": a count, not money
    has_total = bool(_TOTAL.search(line))
    if _WEAK_TOTAL.search(line):
        return "weak"  # subtotal / excluding tax, even when written "Sub Total (RM)"
    if _NOT_TOTAL.search(line) and not strong:
        return "tax" if _TAX.search(line) else "none"
    if strong:
        return "strong"
    if has_total:
        return "total"
    if _TENDER.search(line):
        return "tender"
    return "none"


_MAX_TAX_RATE = Decimal("0.3")
_KIND_SCORE = {"strong": 10.0, "total": 8.0, "weak": 3.0, "tender": 2.0, "none": 0.5, "tax": 0.0}


def _collect_amounts(lines: list[str]) -> list[_Amt]:
    out: list[_Amt] = []
    pending: str | None = None  # a keyword line with no number: its amount is often on the next line
    in_summary = paid = False
    for i, line in enumerate(lines):
        # A GST/tax summary table repeats subtotal and tax under "TOTAL"; it never holds the amount due.
        # "Tax Code" heads that table, but also a column of the item table ("Price Tax Tax Code"):
        # it opens the summary only below a total or payment line.
        in_summary = in_summary or bool(_SUMMARY.search(line) or (paid and _TAX_CODE.search(line)))
        kind = "tax" if in_summary else _classify(line)
        values = _amounts(line)
        if not values:
            pending = kind if kind in ("strong", "total", "tender", "change") else None
            continue
        if kind == "none" and pending:
            kind = pending
        pending = None
        paid = paid or kind in ("strong", "total", "tender", "change")
        # The rightmost number is the amount column; others on the line are qty/unit price.
        out.append(_Amt(values[-1], i, kind, kind == "tax" and bool(_INCLUSIVE.search(line))))
        out.extend(_Amt(v, i, "none" if kind != "tax" else "tax") for v in values[:-1])
    return out


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


def _score_totals(amts: list[_Amt], item_sum: Decimal | None) -> dict[Decimal, float]:
    """Score every amount by its label and by arithmetic cross-checks (higher = more likely the total)."""
    if not amts:
        return {}
    by_kind: dict[str, list[_Amt]] = {}
    for a in amts:
        by_kind.setdefault(a.kind, []).append(a)
    tenders = [a.value for a in by_kind.get("tender", [])]
    changes = [a.value for a in by_kind.get("change", [])]
    roundings = [abs(a.value) for a in by_kind.get("rounding", []) if abs(a.value) < 1]
    taxes = [a.value for a in by_kind.get("tax", []) if not a.included]
    labelled = {a.value for a in amts if a.kind in ("strong", "total")}
    weak = {a.value for a in amts if a.kind == "weak"}
    cash_minus_change = {t - c for t in tenders for c in changes if 0 < c < t}
    # "CHANGE 0.00" only says the tender was exact; on its own it is weak evidence for the tender value.
    exact_tender = {t for t in tenders for c in changes if c == 0}
    adjust = [Decimal(0), *roundings, *(-r for r in roundings)]
    rounded = {v + r for v in labelled for r in adjust if r}
    # "TOTAL 23.26 / ROUNDING ADJ -0.01 / TOTAL 23.25": both totals are one rounding apart, but the
    # amount due is the one printed after the rounding line.
    rounding_lines = [a.line for a in by_kind.get("rounding", []) if 0 < abs(a.value) < 1]
    labelled_at = [a for a in amts if a.kind in ("strong", "total")]
    final_rounded = {
        b.value
        for b in labelled_at
        for a in labelled_at
        if abs(b.value - a.value) in roundings
        and any(a.line < r < b.line for r in rounding_lines)
        and b.value != a.value
    }
    # Tax is a fraction of the subtotal (rates run to ~25%): a bigger "tax" is a misfiled total line.
    with_tax = {w + t + r for w in weak for t in taxes if 0 < t <= w * _MAX_TAX_RATE for r in adjust}

    last_line = max(a.line for a in amts) or 1
    scores: dict[Decimal, float] = {}
    for a in amts:
        v = a.value
        if v <= 0:
            continue
        s = _KIND_SCORE.get(a.kind, 0.0)
        # Later labelled lines win ties: the rounded/final total follows the pre-rounding one.
        s += 0.5 * a.line / last_line if a.kind in ("strong", "total") else 0.0
        scores[v] = max(scores.get(v, 0.0), s)
    # Printed on a line other than the tender/change ones: the cash line itself is no confirmation.
    printed = {a.value for a in amts if a.kind not in ("tender", "change")}
    # Arithmetic can recover a total whose own line Tesseract garbled.
    for v in cash_minus_change | exact_tender | with_tax:
        if v > 0:
            scores.setdefault(v, 0.0)
    for v in list(scores):
        bonus = 0.0
        if v in cash_minus_change:
            # Printed somewhere AND equal to cash - change: two independent readings agree.
            bonus += 11.0 if v in printed else 6.0
        elif v in exact_tender:
            bonus += 11.0 if v in printed else 3.0
        if v in rounded:
            bonus += 4.0
        if v in final_rounded:
            bonus += 3.0
        if v in with_tax:
            bonus += 8.0 if v in printed else 5.0
        if item_sum is not None and v == item_sum:
            bonus += 1.0
        count = sum(1 for a in amts if a.value == v)
        bonus += min(max(count - 1, 0), 3) * 0.7
        if v not in printed and any(_one_digit_apart(v, w) for w in labelled):
            bonus += 4.0  # arithmetic says 27.55 where the TOTAL line reads 7.55: a lost digit
        scores[v] += bonus
    return scores


def _pick_total(amts: list[_Amt], item_sum: Decimal | None) -> tuple[Decimal | None, float, Decimal | None]:
    """The best-scored amount (see _score_totals) with a 0..1 confidence, and the tax printed below it."""
    scores = _score_totals(amts, item_sum)
    if not scores:
        return None, 0.0, None
    best = max(scores, key=lambda v: (scores[v], v))
    tax = None
    tax_lines = [a for a in amts if a.kind == "tax" and 0 < a.value < best]
    if tax_lines:
        tax = tax_lines[0].value
    return best, min(1.0, scores[best] / 16.0), tax


def total_scores(text: str) -> dict[Decimal, float]:
    """Every candidate total of one OCR reading with its evidence score (see parse_receipt)."""
    lines = text.splitlines()
    amts = _collect_amounts(lines)
    items = _parse_items(lines, amts)
    item_sum = sum((Decimal(it.price_minor) / 100 for it in items if it.price_minor is not None), Decimal(0))
    return _score_totals(amts, item_sum if items else None)


def combine_totals(readings: Sequence[str]) -> tuple[Decimal | None, float]:
    """The total over several OCR readings of one receipt: each amount's evidence scores are summed
    across readings, so an amount that two readings support beats one reading's misread digit.
    Confidence 0..1 scales with the evidence per reading."""
    tally: dict[Decimal, float] = {}
    for text in readings:
        for value, score in total_scores(text).items():
            tally[value] = tally.get(value, 0.0) + score
    if not tally:
        return None, 0.0
    best = max(tally, key=lambda v: (tally[v], v))
    return best, round(min(1.0, tally[best] / (16.0 * len(readings))), 2)


# ---------------------------------------------------------------- date

_MONTHS = {
    m: i + 1
    for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())  # noqa: SIM905
}
_MON = r"(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"
_SEP = r"\s?[/.-]\s?"
# A two-digit year with letters glued on is a four-digit one garbled or cut off at the photo's edge
# ("20/03/20ii" for 20/03/2018): no year at all rather than 2020.
_YEAR = r"(?P<y>\d{4}|\d{2}(?![A-Za-z%]))(?!\d)"
_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "ymd",
        re.compile(
            r"(?<!\d)(?P<y>(?:19|20)\d{2})" + _SEP + r"(?P<m>\d{1,2})" + _SEP + r"(?P<d>\d{1,2})(?!\d)"
        ),
    ),
    ("dmy", re.compile(r"(?<!\d)(?P<a>\d{1,2})" + _SEP + r"(?P<b>\d{1,2})" + _SEP + _YEAR)),
    ("dmony", re.compile(r"(?<!\d)(?P<d>\d{1,2})\s?[-/. ]?\s?" + _MON + r"\s?[-/., ]?\s?" + _YEAR, re.I)),
    ("mondy", re.compile(_MON + r"\s?(?P<d>\d{1,2})[,.]?\s(?P<y>\d{4})(?!\d)", re.I)),  # "." a misread ","
    ("ymd8", re.compile(r"(?<!\d)(?P<y>20\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?!\d)")),
    # A separator OCR lost: "1202/2018", "12/022018", "12022018" (two-digit day and month only).
    ("dmyg", re.compile(r"(?<![\d/.-])(?P<a>[0-3]\d)(?P<b>[01]\d)[/.-](?P<y>20\d{2})(?!\d)")),
    ("dmyg", re.compile(r"(?<!\d)(?P<a>[0-3]\d)[/.-](?P<b>[01]\d)(?P<y>20\d{2})(?![\d/.-])")),
    ("dmyg", re.compile(r"(?<![\d/.-])(?P<a>[0-3]\d)(?P<b>[01]\d)(?P<y>20[0-3]\d)(?![\d/.-])")),
    # A faint first separator read as a space: dot-matrix "05 02-18" (two-digit day and month only;
    # not before ":", so "12/03 18:20" is no year; a "." only before four digits, so the quantity and
    # price "10 15.26" are no date).
    (
        "dmyg",
        re.compile(
            r"(?<![\d/.-])(?P<a>[0-3]\d) (?P<b>[01]\d)(?:[/-]|\.(?=\d{4}))(?P<y>\d{4}|\d{2})(?![\d:])"
        ),
    ),
]


_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")


def _year(y: str) -> int:
    n = int(y)
    return 2000 + n if len(y) == 2 else n


def _mk(y: int, m: int, d: int) -> date | None:
    if not 1990 <= y <= 2099:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def day_first_for(locale_hint: str | None, currency: str) -> bool:
    """Day-first unless the locale is a month-first one (US and a few neighbours)."""
    hint = (locale_hint or "").upper().replace("-", "_")
    if hint in ("US", "EN_US", "PH", "EN_PH", "FM", "CA") or hint.endswith("_US"):
        return False
    return not (not hint and currency == "USD")


def _overlapping(rx: re.Pattern[str], line: str) -> list[re.Match[str]]:
    # "#19- 18/01/2018" must still yield 18/01/2018 after the false start at "19-18/01".
    out, pos = [], 0
    while (m := rx.search(line, pos)) is not None:
        out.append(m)
        pos = m.start() + 1
    return out


def parse_date(
    text: str, *, day_first: bool = True, latest_year: int | None = None
) -> tuple[date | None, float]:
    """The most plausible printed date, with a confidence (a line labelled DATE scores highest)."""
    found = find_date(text, day_first=day_first, latest_year=latest_year)
    return (None, 0.0) if found is None else (found[2], min(1.0, found[0] / 7.0))


def repair_year(year: int, latest_year: int) -> int | None:
    """A printed year after `latest_year` is an OCR slip of one digit ("2078", "2048", "7018" for 2018:
    a thin 1 read as 7 or 4, a 2 as 7). Returns the latest plausible year (1990..latest_year) one digit
    away, or None when there is none."""
    if year <= latest_year:
        return year
    text = f"{year:04d}"
    candidates = {int(text[:i] + digit + text[i + 1 :]) for i in range(len(text)) for digit in "0123456789"}
    plausible = [y for y in candidates if 1990 <= y <= latest_year]
    return max(plausible) if plausible else None


def find_date(
    text: str, *, day_first: bool = True, latest_year: int | None = None
) -> tuple[float, int, date] | None:
    """(score, line index, date) of the most plausible printed date, or None. With `latest_year`,
    later years are repaired (repair_year) at a lower score, or dropped."""
    best: tuple[float, int, date] | None = None
    for i, raw in enumerate(text.splitlines()):
        line = _fix_digits(raw)
        if _OTHER_DATE.search(raw):
            continue  # never the sale's date: none (and a re-read of a garbled line) beats a wrong one
        labelled = bool(_DATE_KW.search(raw))
        for kind, rx in _DATE_PATTERNS:
            for m in _overlapping(rx, line):
                g = m.groupdict()
                score = 2.0 + (3.0 if labelled else 0.0)
                y = _year(g["y"])
                if latest_year is not None and y > latest_year:
                    fixed = repair_year(y, latest_year)
                    if fixed is None:
                        continue
                    y, score = fixed, score - 1.0
                if kind in ("dmy", "dmyg"):
                    a, b = int(g["a"]), int(g["b"])
                    first = (y, b, a) if day_first else (y, a, b)
                    second = (y, a, b) if day_first else (y, b, a)
                    found = _mk(*first)
                    if found is None:
                        found, score = _mk(*second), score - 0.5
                    score += 1.0 if len(g["y"]) == 4 else 0.0
                    score -= 2.0 if kind == "dmyg" else 0.0
                elif kind in ("dmony", "mondy"):
                    found = _mk(y, _MONTHS[g["mon"][:3].upper()], int(g["d"]))
                    score += 1.5
                else:
                    found = _mk(y, int(g["m"]), int(g["d"]))
                    score += 1.0 if kind == "ymd" else -1.5
                if found is None:
                    continue
                before = line[m.start() - 1] if m.start() else " "
                if before.isalnum() or before == "-":
                    score -= 1.5  # glued to a product/document code, e.g. "SX-575-1 1.5L"
                if _TIME.search(line):
                    score += 1.0  # printed dates sit next to the time of sale
                # Earlier lines win ties: the issue date sits in the header, unlabelled later dates below.
                if best is None or score > best[0]:
                    best = (score, i, found)
    return best


# A line that looks like it holds a date even when OCR garbled a digit into a letter ("O6/C2/2016").
# One or two digits first and two or four last, so document numbers ("18299/182/76230") are not dates;
# the first separator may be a lost faint one ("05 02-18"), but then the second is no decimal point
# ("4 489.36" is a quantity and a price).
_DATE_LIKE = re.compile(
    r"(?<!\d)\d{1,2}\s?[/.-]\s?[\dA-Za-z]{1,3}\s?[/.-]\s?\d{2}(?:\d{2})?(?!\d)"
    r"|(?<!\d)\d{1,2} [\dA-Za-z]{2}[/-]\d{2}(?:\d{2})?(?!\d)"
    r"|\b(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
    r"[A-Z]*\.?\s*\d{2}",
    re.IGNORECASE,
)


def date_line(text: str, *, day_first: bool = True, latest_year: int | None = None) -> int | None:
    """The line worth a second look for the date: the one the best date came from, else the first
    line that looks like a garbled date."""
    found = find_date(text, day_first=day_first, latest_year=latest_year)
    if found is not None:
        return found[1]
    # A promotion's date is never the sale's (find_date skips it), so its line is no garbled sale date.
    # A line labelled DATE/TARIKH with four digits or more is one, however garbled ("2818-66-12").
    return next(
        (
            i
            for i, ln in enumerate(text.splitlines())
            if not _OTHER_DATE.search(ln)
            and (_DATE_LIKE.search(ln) or (_DATE_KW.search(ln) and len(re.findall(r"\d", ln)) >= 4))
        ),
        None,
    )


def vote_date(readings: Sequence[tuple[float, date | None]], *, latest_year: int) -> date | None:
    """Combine several OCR readings of one date line, each (weight, date parsed from it): year, month
    and day are each decided by weighted majority, so one misread digit in one reading is outvoted.
    Years after `latest_year` are OCR errors ("2048"), not votes; ties go to the earlier reading."""
    parts: list[int] = []
    for attr in ("year", "month", "day"):
        tally: dict[int, float] = {}
        order: list[int] = []
        for weight, d in readings:
            # An impossible year ("2048") costs that reading its year vote only: its day still counts.
            if d is None or (attr == "year" and not 1990 <= d.year <= latest_year):
                continue
            value = getattr(d, attr)
            if value not in tally:
                order.append(value)
            tally[value] = tally.get(value, 0.0) + weight
        if not tally:
            return None
        top = max(tally.values())
        parts.append(next(v for v in order if tally[v] == top))
    try:
        return date(parts[0], parts[1], parts[2])
    except ValueError:
        return None


# ---------------------------------------------------------------- merchant

_COMPANY = re.compile(
    r"\b(S[DO0]N\.?,?\s*BHD|SDE|S/B|BHD|BERHAD|ENTERPRISES?|TRADING|RESTAURANTS?|RESTORAN|STORES?|MART|"
    r"SUPERMARKET|HARDWARE|STATIONERY|BOOKS?|BAKERY|CAFE|KEDAI|PERNIAGAAN|PHARMACY|MARKETING|"
    r"HOLDINGS?|INDUSTRIES|CORPORATION|LTD|LIMITED|PLT|INC|LLC|GMBH|CO\.)\b",
    re.IGNORECASE,
)
_NOT_MERCHANT = re.compile(
    r"\b(TAX\s*INVOICE|INVOICE|RECEIPT|CASH\s*BILL|WELCOME|TEL|FAX|GST|REG|CO\.?\s*NO|JALAN|JLN|LOT|"
    r"NO\.?\s*\d|DATE|CASHIER|TABLE|FORMERLY|LICENSEE|SIMPLIFIED|ORDER|CUSTOMER\s*COPY)\b"
    # Street words mark an address only beside a number: "9401 Oak Street", not "Maple Street Hardware".
    r"|(?=.*\d).*\b(ROAD|RD|STREET|ST|AVENUE|AVE|BLVD|DRIVE|LANE)\b",
    re.IGNORECASE,
)
_REGNO = re.compile(r"\(?\b[A-Z]{0,3}\d{4,}[-\s]?[A-Z]?\)?")


def _line_conf(words: Sequence[Word] | None) -> dict[int, float]:
    if not words:
        return {}
    acc: dict[int, list[float]] = {}
    for w in words:
        if w.conf >= 0 and w.text.strip():
            acc.setdefault(w.line, []).append(w.conf)
    return {k: sum(v) / len(v) for k, v in acc.items()}


_SDN = re.compile(r"\bS[A-Z0]{1,2}\b[.,]?\s*(?=BHD\b)|\bSDE\b", re.IGNORECASE)


def _clean_name(line: str) -> str:
    line = _SDN.sub("SDN ", line)
    line = _REGNO.sub(" ", line)
    line = re.sub(r"[^\w&.,'()/@+ -]", " ", line)
    tokens = line.split()
    # Stray marks Tesseract reads at the ends of a header line: "7 AEON CO. (M) BHD h)".
    # A two-digit number is not a mark but part of the name ("99 SPEED MART", "32 PUB & BISTRO").
    while tokens and len(tokens[0]) <= 2 and not any(c.isupper() for c in tokens[0]):
        if re.fullmatch(r"\d\d", tokens[0]) and len(tokens) > 1 and re.match(r"[A-Z]{2}", tokens[1]):
            break
        tokens.pop(0)
    while tokens and len(tokens[-1]) <= 2 and tokens[-1] != "&" and not any(c.isupper() for c in tokens[-1]):
        tokens.pop()
    return " ".join(tokens).strip(" .,-_|:;'")


def _plausible_name(line: str, conf: float | None) -> bool:
    letters = sum(c.isalpha() for c in line)
    if letters < 3 or letters < 0.6 * len(line.replace(" ", "")):
        return False
    # Handwritten notes (names pencilled on the slip) come out all lower-case; printed headers do not.
    if not any(c.isupper() for c in line):
        return False
    # Garbage lines from logos: mostly 1-2 letter fragments.
    tokens = [t for t in re.split(r"\s+", line) if t]
    if tokens and sum(len(t) <= 2 for t in tokens) > len(tokens) / 2:
        return False
    return not (conf is not None and conf < 45)


def parse_merchant(lines: list[str], words: Sequence[Word] | None = None) -> tuple[str | None, float]:
    """Top-of-receipt heuristics: a line with a company suffix wins, else the first clean text line."""
    confs = _line_conf(words)
    head = [(i, ln.strip()) for i, ln in enumerate(lines) if ln.strip()][:12]
    for pos, (i, ln) in enumerate(head):
        if pos >= 8:
            break
        if _COMPANY.search(ln) and not _NOT_MERCHANT.search(ln) and not (confs.get(i, 100.0) < 45):
            name = _clean_name(ln)
            # A bare "SDN BHD" line is the tail of the name printed above (or, misordered, below) it.
            if _COMPANY.fullmatch(name.strip(". ")):
                near = [head[p][1] for p in (pos - 1, pos + 1) if 0 <= p < len(head)]
                near = [n for n in near if _plausible_name(n, None) and not _NOT_MERCHANT.search(n)]
                if near:
                    name = _clean_name(near[0]) + " " + name
            elif pos > 0 and re.match(r"^[\W]*[a-z(]|^\S+\)", name):
                # Starts mid-name ("ALAM) SDN BHD"): the name began on the line above.
                name = _clean_name(head[pos - 1][1]) + " " + name
            elif pos > 0 and not re.search(r"[A-Za-z]{2}", _COMPANY.sub(" ", name)):
                # "RESTAURANT SDN BHD" alone is a name's tail: a clean line above holds the rest.
                above_i, above = head[pos - 1]
                if (
                    _plausible_name(above, confs.get(above_i))
                    and not _NOT_MERCHANT.search(above)
                    and not any(ch.isdigit() for ch in above)
                ):
                    name = _clean_name(above) + " " + name
            if re.search(r"(&|\bAND)$", name, re.IGNORECASE) and pos + 1 < len(head):
                name = name + " " + _clean_name(head[pos + 1][1])
            if len(re.sub(r"[^A-Za-z]", "", name)) >= 3:
                return name, 0.8 * (confs.get(i, 90.0) / 100 if confs else 0.9)
    for pos, (i, ln) in enumerate(head):
        if pos >= 8:
            break
        if _NOT_MERCHANT.search(ln) or not _plausible_name(ln, confs.get(i)):
            continue
        if _amounts(ln) or _classify(ln) != "none":
            continue  # a money line ("CHANGE RM 5.00") on a receipt whose header OCR lost
        name = _clean_name(ln)
        if len(re.sub(r"[^A-Za-z]", "", name)) >= 3:
            return name, 0.5 * (confs.get(i, 80.0) / 100 if confs else 0.8)
    return None, 0.0


# ---------------------------------------------------------------- items

_QTY = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3})?)\s*(?:X|\*|@|PCS?|UNITS?|EA)?\s*$", re.IGNORECASE)


_LEAD_QTY = re.compile(r"^(\d{1,2})\s+(?=[A-Za-z]{2})")
# A line of its own with quantity x unit price ("@5 X RM 15.80", "2 @ 3.50"; RM often read RH or RN):
# it gives its quantity to the item whose amount is their product, on the line above or below.
_QTY_TIMES = re.compile(
    r"^\W*@?\s*(?P<q>\d{1,3}(?:\.\d{1,3})?)\s*(?:X|@|\*)\s*(?:R[A-Z]|\$)?\s*(?P<p>\d{1,6}\.\d{2,4})\W*$",
    re.IGNORECASE,
)


def _qty_times(line: str) -> tuple[Decimal, int] | None:
    """(quantity, their product in minor units) of a quantity x unit price line, else None."""
    m = _QTY_TIMES.match(line)
    if m is None:
        return None
    qty = Decimal(m.group("q"))
    return qty, int((qty * Decimal(m.group("p")) * 100).quantize(Decimal(1)))


def _parse_items(lines: list[str], amts: list[_Amt]) -> list[LineItem]:
    """Lines between the item header (or the date) and the first total line that end with an amount."""
    first_total = min((a.line for a in amts if a.kind in ("strong", "total", "weak")), default=len(lines))
    start = 0
    for i, ln in enumerate(lines[:first_total]):
        if len(_ITEM_HEADER.findall(ln)) >= 2 or _DATE_KW.search(ln):
            start = i + 1
    items: list[LineItem] = []
    item_line = -1  # the line the last item came from
    pending: tuple[int, Decimal] | None = None  # (line, quantity) printed just above that line's item
    for i in range(start, first_total):
        line = _fix_digits(lines[i])
        times = _qty_times(line)
        if times is not None:
            count, product = times
            if items and item_line == i - 1 and items[-1].price_minor == product:
                items[-1] = LineItem(items[-1].description, count, product)
                continue
            below = _amounts(lines[i + 1]) if i + 1 < first_total else []
            if below and int(below[-1] * 100) == product:
                pending = (i + 1, count)
            continue  # never an item of its own, even when a misread digit breaks the product
        values = _amounts(line)
        if not values or _classify(lines[i]) not in ("none",):
            continue
        first_num = _AMOUNT.search(line)
        raw = (line[: first_num.start()] if first_num else line).rstrip()
        qty: Decimal | None = None
        m = _QTY.search(raw)
        lead = _LEAD_QTY.match(raw.lstrip())
        if m and len(values) >= 2:  # "desc 2 18.50 37.00": qty, unit price, amount
            qty = Decimal(m.group(1))
            raw = raw[: m.start()]
        elif lead:  # "3 SABA SHIO YAKI SET $3.70"
            qty = Decimal(lead.group(1))
            raw = raw.lstrip()[lead.end() :]
        desc = _clean_name(raw)
        if not re.search(r"[A-Za-z]{2}", desc) and i > start:
            desc = _clean_name(lines[i - 1])  # the description often sits on the line above
        if qty is None and pending is not None and pending[0] == i:
            qty = pending[1]
        items.append(LineItem(desc, qty, int(values[-1] * 100)))
        item_line = i
    return items


# ---------------------------------------------------------------- entry point


def parse_receipt(
    text: str,
    words: Sequence[Word] | None = None,
    *,
    locale_hint: str | None = None,
    latest_year: int | None = None,
) -> ReceiptFields:
    """OCR text of one receipt -> fields with a 0..1 confidence each (0 when not found). Printed years
    after `latest_year` (when given) are taken for OCR slips and repaired or ignored."""
    lines = text.splitlines()
    currency = _currency(text, locale_hint)
    amts = _collect_amounts(lines)
    items = _parse_items(lines, amts)
    item_sum = sum((Decimal(it.price_minor) / 100 for it in items if it.price_minor is not None), Decimal(0))
    total, total_conf, tax = _pick_total(amts, item_sum if items else None)
    day_first = day_first_for(locale_hint, currency)
    when, date_conf = parse_date(text, day_first=day_first, latest_year=latest_year)
    merchant, merchant_conf = parse_merchant(lines, words)
    minor_cur = currency or "XXX"
    if items:
        # Items were read in hundredths; rescale for currencies with another exponent.
        items = [
            LineItem(
                it.description,
                it.quantity,
                None if it.price_minor is None else to_minor(Decimal(it.price_minor) / 100, minor_cur),
            )
            for it in items
        ]
    return ReceiptFields(
        merchant=merchant,
        date=when,
        total_minor=to_minor(total, minor_cur) if total is not None else None,
        currency=currency,
        items=items,
        tax_minor=to_minor(tax, minor_cur) if tax is not None else None,
        confidence={
            "merchant": round(merchant_conf, 2),
            "date": round(date_conf, 2),
            "total": round(total_conf, 2),
        },
    )


# ---------------------------------------------------------------- matching a receipt to a bank transaction

MATCH_WINDOW_DAYS = 3  # card payments post up to a few days after the purchase (and back-dated ones before)
MATCH_MIN_SIMILARITY = 0.5

# Words that say nothing about who was paid: legal suffixes on receipts, card-network noise in bank text.
_MATCH_NOISE = {
    *("SDN BHD BERHAD SB CO COMPANY LTD LIMITED PLT INC LLC GMBH THE AND OF".split()),  # noqa: SIM905
    *("POS PURCHASE DEBIT CREDIT CARD VISA MASTERCARD PAYMENT SALE TXN TRANSACTION REF".split()),  # noqa: SIM905
}


@dataclass(frozen=True)
class TxnCandidate:
    """A bank transaction as the matcher sees it (amount negative = money leaving the account)."""

    id: int
    date: date
    amount_minor: int
    currency: str
    description: str


def _match_tokens(text: str) -> list[str]:
    words = re.split(r"[^A-Z0-9]+", text.upper().replace("&", " AND "))
    return [w for w in words if len(w) >= 2 and w not in _MATCH_NOISE and not w.isdigit()]


def merchant_similarity(merchant: str | None, description: str) -> float:
    """0..1: how alike a receipt's merchant and a bank description are, after dropping legal suffixes
    and card noise. The larger of the share of tokens in common (a token within one OCR slip counts)
    and difflib's ratio of the two texts without spaces (OCR and banks split and join words freely)."""
    a, b = _match_tokens(merchant or ""), _match_tokens(description)
    if not a or not b:
        return 0.0

    def near(t: str, u: str) -> bool:
        return t == u or (min(len(t), len(u)) >= 4 and SequenceMatcher(None, t, u).ratio() >= 0.8)

    hits = sum(1 for t in a if any(near(t, u) for u in b))
    overlap = min(1.0, hits / min(len(a), len(b)))
    joined = SequenceMatcher(None, "".join(a), "".join(b)).ratio()
    return round(max(overlap, joined), 3)


def match_transaction(
    total_minor: int | None,
    currency: str,
    when: date | None,
    merchant: str | None,
    candidates: Iterable[TxnCandidate],
    *,
    window_days: int = MATCH_WINDOW_DAYS,
    min_similarity: float = MATCH_MIN_SIMILARITY,
) -> tuple[TxnCandidate, float] | None:
    """The bank transaction this receipt is, or None.

    Required: the exact amount as an expense (amount == -total), the same currency (when the receipt
    shows one) and a date within `window_days`. Among those, the most similar description wins (ties:
    the nearest date, then the lowest id). It is accepted when its similarity reaches `min_similarity`,
    or when it is the only candidate: an amount exact to the cent within a few days is strong evidence
    on its own, and OCR often garbles the shop name. Several candidates none alike: no match (ask).
    """
    if total_minor is None or total_minor <= 0 or when is None:
        return None
    eligible = [
        c
        for c in candidates
        if c.amount_minor == -total_minor
        and (not currency or c.currency.upper() == currency.upper())
        and abs((c.date - when).days) <= window_days
    ]
    if not eligible:
        return None
    scored = sorted(
        ((merchant_similarity(merchant, c.description), c) for c in eligible),
        key=lambda sc: (-sc[0], abs((sc[1].date - when).days), sc[1].id),
    )
    similarity, best = scored[0]
    if similarity >= min_similarity or len(eligible) == 1:
        return best, similarity
    return None
