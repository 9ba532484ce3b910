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
from collections.abc import Callable

from finjobs.domain.statements import normalise_description

BASE_KEY_CHARS = 48  # 192 bits of SHA-256; leaves room for ":<occurrence>" in 64 characters


def base_key(account: str, date: dt.date, amount_minor: int, currency: str, description: str) -> str:
    return base_keyer(account)(date, amount_minor, currency, description)


def base_keyer(account: str) -> Callable[[dt.date, int, str, str], str]:
    """base_key with the account bound: the importer calls it once per row of a file."""
    prefix = account.strip().casefold() + "\x1f"
    sha256 = hashlib.sha256

    def key(date: dt.date, amount_minor: int, currency: str, description: str) -> str:
        material = f"{prefix}{date.isoformat()}\x1f{amount_minor}\x1f{currency.upper()}\x1f" + (
            normalise_description(description)
        )
        return sha256(material.encode()).hexdigest()[:BASE_KEY_CHARS]

    return key


def fingerprint(base: str, occurrence: int) -> str:
    return f"{base}:{occurrence}"
