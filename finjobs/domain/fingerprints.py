"""Row fingerprints for de-duplication: the same bank row imported twice (the same file, or a later
export that overlaps it) gets the same fingerprint. Pure.

fingerprint = base_key(account, date, amount, currency, normalised description) + ":" + occurrence,
where occurrence numbers identical rows within one file (0, 1, 2, ...) in file order, as YNAB does: two
identical coffees on one day in one export are two transactions, and re-importing that export adds none.
The occurrence index is assigned by the database (row_number() over the file's rows) at load time.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from finjobs.domain.statements import normalise_description

BASE_KEY_CHARS = 48  # 192 bits of SHA-256; leaves room for ":<occurrence>" in 64 characters


def base_key(account: str, date: dt.date, amount_minor: int, currency: str, description: str) -> str:
    material = "\x1f".join(
        (
            account.strip().casefold(),
            date.isoformat(),
            str(amount_minor),
            currency.upper(),
            normalise_description(description),
        )
    )
    return hashlib.sha256(material.encode()).hexdigest()[:BASE_KEY_CHARS]


def fingerprint(base: str, occurrence: int) -> str:
    return f"{base}:{occurrence}"
