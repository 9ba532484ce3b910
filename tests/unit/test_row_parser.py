"""The hot row parser (statements._row_parser) builds StatementRow positionally and caches cell
decisions per file: its rows must be whole StatementRows, equal to the constructor's, whatever a
row's width."""

from __future__ import annotations

import datetime as dt
import io

from finjobs.domain.statements import SkippedRow, StatementRow, detect_format, read_statement


def read(text: str) -> list[StatementRow | SkippedRow]:
    data = text.encode()
    opener = lambda: io.BytesIO(data)  # noqa: E731
    return list(read_statement(opener, detect_format(opener), balances=False))


def test_rows_are_whole_statement_rows_for_usual_short_and_long_records() -> None:
    rows = read(
        "Date,Description,Amount,Category\n"
        "2026-01-02,  Coffee   shop ,-3.50,Eating out\n"
        "2026-01-02,Coffee shop,-3.50\n"  # short: the category is missing
        "2026-01-03,Salary,100.00,,extra\n"  # long: the extra cell is still looked at
        "2026-01-03,Total,96.50,\n"
        "2026-01-04,Tea,-1.234,\n"
    )
    day = dt.date(2026, 1, 2)
    assert rows[:3] == [
        StatementRow(2, day, -350, "USD", "Coffee shop", None, "Eating out"),
        StatementRow(3, day, -350, "USD", "Coffee shop", None, None),
        StatementRow(4, dt.date(2026, 1, 3), 10000, "USD", "Salary", None, None),
    ]
    for row in rows[:3]:
        assert type(row) is StatementRow and len(row) == len(StatementRow._fields) and row.ref is None
    assert rows[3:] == [
        SkippedRow(5, "totals line ('Total')"),
        SkippedRow(6, "amount -1.234 has more decimals than USD allows"),
    ]
