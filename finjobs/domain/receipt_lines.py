"""Receipt lines: OCR words, OCR-tolerant keywords, money amounts on a line, and each line's label
from ONE first-match table (LINE_LABELS). Pure: stdlib + decimal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


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
# "TOTAL INCLUDES 6% GST 1.66" states the tax a total includes, whatever its TOTAL says (at 0% there
# is no tax to state: "Total Includes GST 0% 8.20" is the total).
_INCLUDES = _rx("INCLUDES", "INCLUDED")
_NONZERO_RATE = re.compile(r"(?<![\d.])(?:[1-9]\d?(?:\.\d+)?|0\.\d*[1-9])\s?%")
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
    r"(?!\s?%)"  # "6.00 %" is a tax rate, not money
)


def _fix_run(run: str) -> str:
    # Trailing "|", "l", "I" are table rules and letters far more often than a final digit 1.
    core = run.rstrip("|lI")
    return core.translate(_DIGITISH) + run[len(core) :]


# A zero glued to its currency prefix ("-RMO.01", "$O.50") is no numeric run of its own: the prefix's
# letters hide it from _NUMERIC_RUN.
_ZERO_AFTER_PREFIX = re.compile(r"(?:(?<=RM)|(?<=[$£]))[OoQD](?=\s?[.,]\s?[0-9OoQ]{2}(?![0-9]))")


def fix_digits(line: str) -> str:
    return _NUMERIC_RUN.sub(lambda m: _fix_run(m.group(0)), _ZERO_AFTER_PREFIX.sub("0", line))


def amounts(line: str) -> list[Decimal]:
    """Every money-looking number on a line, OCR-tolerant ("RM 37. 55", "60,30", "$8.20")."""
    out = []
    for m in _AMOUNT.finditer(fix_digits(line)):
        whole = m.group("int").replace(",", "")
        try:
            value = Decimal(f"{whole}.{m.group('dec')}")
        except InvalidOperation:  # pragma: no cover - the regex only admits digits
            continue
        out.append(-value if m.group("neg") else value)
    return out


# ---------------------------------------------------------------- line labels


def _has(rx: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda line: rx.search(line) is not None


def _all(*tests: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda line: all(t(line) for t in tests)


def _not(test: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda line: not test(line)


_strong = _has(_STRONG_TOTAL)
# What a line says its amount is; the FIRST row whose test holds labels the line. Order matters:
# "BALANCE" is change unless "BALANCE DUE"; an "(Inclusive) GST 6%" line states tax, not the total;
# "TOTAL QTY" counts items; "Sub Total (RM)" is a subtotal whatever else it says.
LINE_LABELS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("change", _all(_has(_CHANGE), _not(_has(_BALANCE_DUE)))),
    (
        "tax",
        _all(_has(_INCLUSIVE), _not(_has(_STRONG_LABEL)), _not(_has(_TOTAL)), _has(_TAX), _has(_RATE)),
    ),
    ("tax", _all(_has(_INCLUDES), _has(_TAX), _has(_NONZERO_RATE))),
    ("rounding", _all(_has(_ROUNDING), _not(_strong))),
    ("none", _has(_COUNT_TOTAL)),
    ("weak", _has(_WEAK_TOTAL)),
    ("tax", _all(_has(_NOT_TOTAL), _not(_strong), _has(_TAX))),
    ("none", _all(_has(_NOT_TOTAL), _not(_strong))),
    ("strong", _strong),
    ("total", _has(_TOTAL)),
    ("tender", _has(_TENDER)),
)


def label_line(line: str) -> str:
    """The label of a receipt line: strong / total / weak / tender / change / rounding / tax / none."""
    return next((label for label, test in LINE_LABELS if test(line)), "none")


@dataclass
class Amt:
    """An amount printed on a receipt line, with that line's label."""

    value: Decimal
    line: int
    kind: str  # strong / total / weak / tender / change / rounding / tax / none
    included: bool = False  # a tax the prices already include ("GST @6% incl. 3.13"): not added on


# ... but a line that names the adjustment itself holds one, whatever OCR made of its digits
# ("Rounding Adjustment: 9.00" for 0.00).
_ADJUSTMENT = re.compile(r"\bADJ", re.IGNORECASE)


def collect_amounts(lines: list[str]) -> list[Amt]:
    """Every amount on every line, labelled by its line (a label line with no number lends its label
    to the next line's amounts)."""
    out: list[Amt] = []
    pending: str | None = None  # a keyword line with no number: its amount is often on the next line
    in_summary = paid = False
    for i, line in enumerate(lines):
        # A GST/tax summary table repeats subtotal and tax under "TOTAL"; it never holds the amount due.
        # "Tax Code" heads that table, but also a column of the item table ("Price Tax Tax Code"):
        # it opens the summary only below a total or payment line.
        in_summary = in_summary or bool(_SUMMARY.search(line) or (paid and _TAX_CODE.search(line)))
        kind = "tax" if in_summary else label_line(line)
        values = amounts(line)
        if not values:
            pending = kind if kind in ("strong", "total", "tender", "change") else None
            continue
        if kind == "none" and pending:
            kind = pending
        pending = None
        paid = paid or kind in ("strong", "total", "tender", "change")
        if kind == "rounding" and abs(values[-1]) >= 1 and not _ADJUSTMENT.search(line):
            kind = "strong"  # "Total After Rounding 48.95": an adjustment is never a whole unit
        # The rightmost number is the amount column; others on the line are qty/unit price.
        out.append(Amt(values[-1], i, kind, kind == "tax" and bool(_INCLUSIVE.search(line))))
        out.extend(Amt(v, i, "none" if kind != "tax" else "tax") for v in values[:-1])
    return out
