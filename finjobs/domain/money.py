"""Money as integer minor units plus an ISO 4217 code; never float. Pure."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from finjobs.errors import InputError

# ISO 4217 exponents that are not 2. Everything else has 2 decimal places.
_EXPONENTS: dict[str, int] = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
}


def exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit."""
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(value: Decimal | str | int, currency: str = "USD") -> int:
    """Decimal amount -> integer minor units (banker's rounding past the currency's precision)."""
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InputError(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise InputError(f"not an amount: {value!r}")
    scaled = (d * (10 ** exponent(currency))).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(scaled)


def from_minor(minor: int, currency: str = "USD") -> Decimal:
    """Integer minor units -> Decimal with exactly the currency's number of places."""
    exp = exponent(currency)
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def format_minor(minor: int, currency: str = "USD") -> str:
    """Signed decimal string, e.g. -1234 USD -> '-12.34' (the JSON wire form of money)."""
    return str(from_minor(minor, currency))


def spend_minor(x: float) -> int:
    """A computed spend in float minor units -> int minor units, half-even, floored at 0 (a forecast
    spend cannot be negative). A NaN or infinity is an error, not a number to store."""
    if not math.isfinite(x):
        raise ValueError(f"not a finite amount: {x!r}")
    return max(0, round(x))
