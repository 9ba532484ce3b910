"""Structured bank statements (OFX/QFX, CAMT.053/052): tell the file's kind from its first bytes and
hand back the reader that streams it as StatementRow / SkippedRow, the same rows the CSV reader gives.
Reads bytes from an opener only; the parsers themselves are imported when a file of their kind comes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from finjobs.domain.money import format_minor, from_minor, to_minor
from finjobs.domain.statements import SkippedRow, StatementRow
from finjobs.errors import InputError

Opener = Callable[[], IO[bytes]]
Rows = Iterator[StatementRow | SkippedRow]
Reader = Callable[[], Rows]
HEAD_BYTES = 4096


def file_kind(opener: Opener) -> str | None:
    """'ofx' (OFX 1.x SGML, OFX 2.x XML, QFX), 'camt' (a camt.053 or camt.052 document) or None (CSV)."""
    with opener() as stream:
        head = stream.read(HEAD_BYTES)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if text.startswith(b"OFXHEADER") or b"<?OFX " in text or b"<OFX>" in text:
        return "ofx"
    if text.startswith(b"<") and (b"XSD:CAMT.053." in text or b"XSD:CAMT.052." in text):
        return "camt"
    return None


def structured_reader(opener: Opener, *, source: str) -> Reader | None:
    """The reader of an OFX or CAMT file (called once per pass over the file), or None for a CSV."""
    kind = file_kind(opener)
    if kind == "ofx":
        from finjobs.adapters.ofx import read_ofx

        return lambda: read_ofx(opener, source=source)
    if kind == "camt":
        from finjobs.adapters.camt import read_camt

        return lambda: read_camt(opener, source=source)
    return None


def structured_preview(opener: Opener, *, source: str, limit: int | None = 50) -> dict[str, Any] | None:
    """`import preview` for an OFX or CAMT file, in the CSV preview's shape; None for a CSV."""
    read = structured_reader(opener, source=source)
    if read is None:
        return None
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    total = with_ref = 0
    for item in read():
        if isinstance(item, SkippedRow):
            if limit is None or len(skipped) < limit:
                skipped.append({"line": item.line, "reason": item.reason})
            continue
        total += 1
        with_ref += item.ref is not None
        if limit is None or len(rows) < limit:
            rows.append(
                {
                    "date": item.date.isoformat(),
                    "amount": format_minor(item.amount_minor, item.currency),
                    "currency": item.currency,
                    "description": item.description,
                    "ref": item.ref,
                }
            )
    fmt = {
        "kind": file_kind(opener),
        "rows": total,
        "fingerprint": f"the bank's entry id on {with_ref} of {total} rows, the row's content on the rest",
    }
    return {"format": fmt, "rows": rows, "skipped": skipped}


def minor_units(raw: str | None, currency: str, *, where: str, source: str) -> int:
    """An exact decimal amount in integer minor units, else InputError naming the element."""
    text = (raw or "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise InputError(f"{where}: {text!r} is not an amount", source=source)
    minor = to_minor(value, currency)
    if from_minor(minor, currency) != value:
        raise InputError(f"{where}: {text!r} has more decimals than {currency} has", source=source)
    return minor


def currency_code(raw: str | None, *, where: str, source: str) -> str:
    code = (raw or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise InputError(f"{where}: {raw!r} is not an ISO 4217 currency code", source=source)
    return code
