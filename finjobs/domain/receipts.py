"""Receipt OCR text (+ optional word boxes) -> merchant, date, total, tax, items; and which bank
transaction a scanned receipt is. Pure: stdlib + decimal + dataclasses; OCR lives in adapters.ocr.

The fields come from scored candidates (receipt_candidates: one weights table, one vote); lines,
totals, dates, merchants and items each have their own receipt_* module, re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from typing import Any

from finjobs.domain.money import format_minor, to_minor
from finjobs.domain.receipt_candidates import WEIGHTS, Candidate, best, vote
from finjobs.domain.receipt_dates import (
    date_candidates,
    date_line,
    day_first_for,
    find_date,
    parse_date,
    repair_year,
    vote_date,
)
from finjobs.domain.receipt_items import LineItem, item_sum, parse_items
from finjobs.domain.receipt_lines import LINE_LABELS, Word, collect_amounts, label_line
from finjobs.domain.receipt_merchant import merchant_candidates, parse_merchant
from finjobs.domain.receipt_totals import combine_totals, pick_total, total_candidates, total_scores

__all__ = [
    "LINE_LABELS",
    "WEIGHTS",
    "Candidate",
    "LineItem",
    "ReceiptFields",
    "TxnCandidate",
    "Word",
    "best",
    "combine_totals",
    "date_candidates",
    "date_line",
    "day_first_for",
    "find_date",
    "label_line",
    "match_transaction",
    "merchant_candidates",
    "merchant_similarity",
    "parse_date",
    "parse_merchant",
    "parse_receipt",
    "repair_year",
    "total_candidates",
    "total_scores",
    "vote",
    "vote_date",
]


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
    amts = collect_amounts(lines)
    items = parse_items(lines, amts)
    total, total_conf, tax = pick_total(amts, item_sum(items))
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
