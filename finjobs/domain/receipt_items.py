"""Receipt item lines: the lines between the item header and the first total that end with an
amount, with quantities. Pure: stdlib + decimal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from finjobs.domain.receipt_lines import _AMOUNT, _DATE_KW, _ITEM_HEADER, Amt, amounts, fix_digits, label_line
from finjobs.domain.receipt_merchant import clean_name


@dataclass(frozen=True)
class LineItem:
    description: str
    quantity: Decimal | None
    price_minor: int | None


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


def parse_items(lines: list[str], amts: list[Amt]) -> list[LineItem]:
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
        line = fix_digits(lines[i])
        times = _qty_times(line)
        if times is not None:
            count, product = times
            if items and item_line == i - 1 and items[-1].price_minor == product:
                items[-1] = LineItem(items[-1].description, count, product)
                continue
            below = amounts(lines[i + 1]) if i + 1 < first_total else []
            if below and int(below[-1] * 100) == product:
                pending = (i + 1, count)
            continue  # never an item of its own, even when a misread digit breaks the product
        values = amounts(line)
        if not values or label_line(lines[i]) not in ("none",):
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
        desc = clean_name(raw)
        if not re.search(r"[A-Za-z]{2}", desc) and i > start:
            desc = clean_name(lines[i - 1])  # the description often sits on the line above
        if qty is None and pending is not None and pending[0] == i:
            qty = pending[1]
        items.append(LineItem(desc, qty, int(values[-1] * 100)))
        item_line = i
    return items


def item_sum(items: list[LineItem]) -> Decimal | None:
    """The items' prices added up (None when there are no items)."""
    if not items:
        return None
    return sum((Decimal(it.price_minor) / 100 for it in items if it.price_minor is not None), Decimal(0))
