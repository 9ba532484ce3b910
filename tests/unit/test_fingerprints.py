"""Occurrence numbering in bounded memory: equal to the plain count of earlier identical rows, for any
file order and chunking, with dropped dates' counts handed out and loaded back."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finjobs.domain.fingerprints import Occurrences, base_key, base_keyer
from finjobs.domain.statements import normalise_description

DAY = dt.date(2026, 3, 1)


def number_in_chunks(rows: list[tuple[dt.date, str]], chunk: int, keep: int) -> tuple[list[int], int, int]:
    """Drives Occurrences the way the importer does; the dropped counts go to a plain dict (the
    importer's is on disk). Returns the numbers, the most counts held after a chunk, and how many
    dates were reloaded."""
    occ = Occurrences(keep_dates=keep)
    spilled: dict[dt.date, Counter[str]] = {}
    got: list[int] = []
    most_kept = reloads = 0
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        for date in occ.missing(d for d, _ in part):
            reloads += 1
            occ.load(date, spilled.pop(date))
        got.extend(occ.number(d, b) for d, b in part)
        spilled.update(occ.end_chunk())
        most_kept = max(most_kept, occ.kept)
    return got, most_kept, reloads


def plain(rows: list[tuple[dt.date, str]]) -> list[int]:
    seen: Counter[tuple[dt.date, str]] = Counter()
    out = []
    for row in rows:
        out.append(seen[row])
        seen[row] += 1
    return out


rows_strategy = st.lists(
    st.tuples(st.integers(0, 12).map(lambda n: DAY + dt.timedelta(days=n)), st.sampled_from("abcd")),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(rows=rows_strategy, chunk=st.integers(1, 30), keep=st.integers(1, 4))
def test_numbering_equals_the_plain_count_for_any_order_and_chunking(rows, chunk, keep) -> None:
    assert number_in_chunks(rows, chunk, keep)[0] == plain(rows)


def test_a_date_ordered_file_keeps_only_recent_dates() -> None:
    rows = [(DAY + dt.timedelta(days=i // 50), f"payee {i % 50}") for i in range(5000)]  # 100 days
    got, most_kept, reloads = number_in_chunks(rows, chunk=230, keep=2)  # chunks end mid-date
    assert got == [0] * 5000
    assert most_kept <= 2 * 50  # two kept dates' counts, not the whole file
    assert reloads == 0  # the date a chunk ended on was kept for the next one


def test_identical_rows_across_a_chunk_boundary_count_on() -> None:
    rows = [(DAY, "coffee")] * 5
    assert number_in_chunks(rows, chunk=2, keep=1)[0] == [0, 1, 2, 3, 4]


def test_numbering_a_dropped_date_without_loading_it_is_refused() -> None:
    occ = Occurrences(keep_dates=1)
    occ.number(DAY, "a")
    occ.number(DAY, "a")
    assert occ.end_chunk() == {}
    occ.number(DAY + dt.timedelta(days=1), "b")
    assert occ.end_chunk() == {DAY: Counter(a=2)}  # DAY is the older date: dropped, counts handed out
    assert occ.missing([DAY]) == {DAY}
    with pytest.raises(RuntimeError, match="dropped"):
        occ.number(DAY, "a")


def test_base_key_ignores_case_card_numbers_and_spacing_but_not_amount_or_date() -> None:
    key = base_key("Main", DAY, -350, "usd", "Coffee  CARD 1234 5678 9012 3456")
    assert key == base_key(" main ", DAY, -350, "USD", "coffee card")
    assert key != base_key("main", DAY, -351, "USD", "coffee card")
    assert key != base_key("main", DAY + dt.timedelta(days=1), -350, "USD", "coffee card")


# Stored fingerprints: a changed value would import every row of a re-imported file again.
GOLDEN = [
    (
        ("default", dt.date(2025, 1, 2), -545, "USD", "STARBUCKS STORE #123", None),
        "d519d893ef35da988e0a2f3723aec11ec815ed1538f5f3cb",
    ),
    (
        (" Main ", dt.date(2026, 3, 1), 520000, "usd", "ACME CORP PAYROLL", None),
        "ebec88743e756de86e13789cd7d667ff3ecedfdbf43567e5",
    ),
    (
        ("Girokonto", dt.date(1999, 12, 31), -1, "EUR", "Überweisung  CARD 1234 5678 9012 3456 ß µ", None),
        "442a682dbd220e5f66dfc654c3336bce57d937427809a5d4",
    ),
    (
        ("default", dt.date(2025, 1, 2), 0, "GBP", "", None),
        "514c1eb86bd012b1b009063af5258cd56687d9304ccf3e72",
    ),
    (
        ("ofx", dt.date(2025, 1, 2), -100, "USD", "ignored", "FITID-0001"),
        "134ed83b70b9a0e0c558c515c7a19cbd661dedbf7487e7e2",
    ),
]


@pytest.mark.parametrize(("args", "want"), GOLDEN)
def test_base_keys_are_the_ones_already_stored(args, want) -> None:
    assert base_key(*args) == want
    account, date, *rest = args
    assert base_keyer(account)(date.isoformat(), *rest) == want


def reference_key(account: str, date: dt.date, amount: int, currency: str, description: str) -> str:
    """The documented formula, spelt out (see the module docstring)."""
    fields = [account.strip().casefold(), date.isoformat(), str(amount), currency.upper()]
    material = "\x1f".join([*fields, normalise_description(description)])
    return hashlib.sha256(material.encode()).hexdigest()[:48]


@settings(max_examples=300, deadline=None)
@given(
    account=st.text(max_size=8),
    date=st.dates(),
    amount=st.integers(-(10**12), 10**12),
    currency=st.text(alphabet="abcUSDEÜ", min_size=3, max_size=3),
    description=st.text(max_size=30),
)
def test_the_keyer_is_the_documented_formula(account, date, amount, currency, description) -> None:
    assert base_keyer(account)(date.isoformat(), amount, currency, description, None) == reference_key(
        account, date, amount, currency, description
    )
