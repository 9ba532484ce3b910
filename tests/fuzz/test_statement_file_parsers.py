"""Hypothesis over the OFX/QFX and CAMT readers: any corruption of the bank files in tests/data/ (bytes
cut, replaced or inserted) gives rows or an InputError naming the file, never another exception (which
the import job would take for an infrastructure failure and retry)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finjobs.adapters.statement_files import structured_reader
from finjobs.domain.statements import SkippedRow, StatementRow
from finjobs.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = ["checking_ofx1_sgml.ofx", "bank_and_card_ofx2.ofx", "card_unsigned.qfx"]
FILES += ["camt053_v02_two_accounts.xml", "camt053_v08_card_and_fx.xml"]
PIECES = [
    b"<",
    b">",
    b"</",
    b"&",
    b"&amp;",
    b"-",
    b".",
    b",",
    b"\r\n",
    b"\x00",
    b"\xff",
    b"<STMTTRN>",
    b"<Ntry>",
]
edits = st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 12), st.one_of(st.sampled_from(PIECES), st.binary(max_size=6))),
    min_size=1,
    max_size=4,
)


@pytest.mark.parametrize("name", FILES)
@given(edits=edits)
@settings(max_examples=150, deadline=None)
def test_a_corrupted_statement_file_reads_or_is_refused_by_name(name: str, edits: list) -> None:
    data = (DATA / name).read_bytes()
    for where, cut, piece in edits:
        at = int(where * len(data))
        data = data[:at] + piece + data[at + cut :]
    read = structured_reader(lambda: io.BytesIO(data), source=name)
    if read is None:  # the corruption hit the bytes that tell the kind: it is a CSV's business now
        return
    try:
        items = list(read())
    except InputError as exc:
        assert str(exc).startswith(name)
        return
    assert all(isinstance(i, StatementRow | SkippedRow) for i in items)
