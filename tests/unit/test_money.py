"""Money: integer minor units, exact round trips, banker's rounding, no floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finjobs.domain.money import format_minor, from_minor, spend_minor, to_minor
from finjobs.errors import InputError


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["USD", "EUR", "JPY", "KWD"]))
def test_minor_round_trips(minor: int, currency: str) -> None:
    assert to_minor(from_minor(minor, currency), currency) == minor
    assert to_minor(format_minor(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("12.34", "USD", 1234),
        ("-0.01", "EUR", -1),
        ("1234", "JPY", 1234),
        ("1.2345", "KWD", 1234),
        ("0.005", "USD", 0),
        ("0.015", "USD", 2),
        (Decimal("-12.3"), "USD", -1230),
    ],
)
def test_to_minor(value: str, currency: str, minor: int) -> None:
    assert to_minor(value, currency) == minor


def test_format() -> None:
    assert format_minor(-1234) == "-12.34"
    assert format_minor(5) == "0.05"
    assert format_minor(1234, "JPY") == "1234"


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity"])
def test_not_an_amount(bad: str) -> None:
    with pytest.raises(InputError):
        to_minor(bad)


def test_spend_minor_rounds_half_even_floors_at_zero_and_refuses_non_finite() -> None:
    assert [spend_minor(x) for x in (2.5, 3.5, 1234.49, -0.4, -50.0)] == [2, 4, 1234, 0, 0]
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError, match="not a finite amount"):
            spend_minor(bad)
