"""Header roles checked from content (issue 15): the running balance, the debit/credit pair, direction
words and ISO codes back each header-chosen role with evidence, and strong content evidence that
contradicts the header wins. Faithful reconstructions of each layout; pure domain plus `import preview`."""

from __future__ import annotations

import io
import json
from pathlib import Path

from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.domain.statements import StatementRow, detect_format, read_statement


def opener(text: str):
    data = text.encode()
    return lambda: io.BytesIO(data)


def amounts(text: str, **kw) -> list[int]:
    fmt = detect_format(opener(text), **kw)
    return [r.amount_minor for r in read_statement(opener(text), fmt) if isinstance(r, StatementRow)]


# A named running balance that follows the named amounts.
CONFIRMED = """Date,Description,Amount,Balance
2024-05-02,Coffee Corner,-3.50,996.50
2024-05-03,ACME Payroll,2000.00,2996.50
2024-05-04,Rent May,-950.00,2046.50
2024-05-06,Bookshop,-21.45,2025.05
2024-05-07,Refund Amazon,12.99,2038.04
"""

# The column headed 'Amount' is the running balance of the unnamed-looking 'Transaction' column.
AMOUNT_IS_BALANCE = CONFIRMED.replace(
    "Date,Description,Amount,Balance", "Date,Description,Transaction,Amount"
)

# Money out listed as positive (newest first): the balance holds only with the sign flipped.
OUT_POSITIVE = """Date,Description,Amount,Balance
2024-05-07,Refund Amazon,-12.99,2038.04
2024-05-06,Bookshop,21.45,2025.05
2024-05-04,Rent May,950.00,2046.50
2024-05-03,ACME Payroll,-2000.00,2996.50
2024-05-02,Coffee Corner,3.50,996.50
"""

# Debit/Credit named from the bank's side: the 'Debit' column is what came in.
PAIR_REVERSED = """Date,Description,Debit,Credit,Balance
2024-05-02,Coffee Corner,,3.50,996.50
2024-05-03,ACME Payroll,2000.00,,2996.50
2024-05-04,Rent May,,950.00,2046.50
2024-05-06,Bookshop,,21.45,2025.05
2024-05-07,Refund Amazon,12.99,,2038.04
"""

# Direction words and a currency column, both named by the header.
WORDS_AND_CODES = """Date,Description,Amount,Type,Currency
2024-05-02,Coffee Corner,3.50,DEBIT,EUR
2024-05-03,ACME Payroll,2000.00,CREDIT,EUR
2024-05-04,Rent May,950.00,DEBIT,EUR
"""


def test_a_confirmed_header_role_carries_the_content_proof() -> None:
    fmt = detect_format(opener(CONFIRMED))
    assert fmt.columns["amount"] == ["Amount"] and fmt.columns["balance"] == ["Balance"]
    assert fmt.evidence["balance"] == "header 'Balance'; running balance holds on 4/4 rows"
    assert fmt.evidence["amount"] == "header 'Amount'; running balance holds on 4/4 rows"
    assert fmt.sign_rule == "amount"
    assert amounts(CONFIRMED) == [-350, 200000, -95000, -2145, 1299]


def test_an_amount_header_over_a_running_balance_loses_to_content() -> None:
    fmt = detect_format(opener(AMOUNT_IS_BALANCE))
    assert fmt.columns["amount"] == ["Transaction"] and fmt.columns["balance"] == ["Amount"]
    assert fmt.evidence["amount"] == (
        "header says 'Amount' is the amount; content says 'Transaction': "
        "'Amount' is its running balance on 4/4 rows"
    )
    assert fmt.evidence["balance"].startswith("header says 'Amount' is the amount; content says it is")
    assert amounts(AMOUNT_IS_BALANCE) == [-350, 200000, -95000, -2145, 1299]


def test_a_balance_that_holds_only_with_the_opposite_sign_flips_the_amounts() -> None:
    fmt = detect_format(opener(OUT_POSITIVE))
    assert fmt.sign_rule == "amount_flipped(credit)"
    assert fmt.evidence["amount"] == (
        "header 'Amount' lists money in as positive; content says money out is positive: "
        "running balance holds with the opposite sign on 4/4 rows"
    )
    assert amounts(OUT_POSITIVE) == [1299, -2145, -95000, 200000, -350]


def test_a_reversed_debit_credit_pair_is_swapped_by_the_balance() -> None:
    fmt = detect_format(opener(PAIR_REVERSED))
    assert fmt.columns["debit"] == ["Credit"] and fmt.columns["credit"] == ["Debit"]
    assert fmt.evidence["debit"] == (
        "header says 'Debit' is money out and 'Credit' money in; content says the reverse: "
        "running balance holds with the opposite sign on 4/4 rows"
    )
    assert amounts(PAIR_REVERSED) == [-350, 200000, -95000, -2145, 1299]


def test_weak_content_evidence_leaves_the_header_choice() -> None:
    two_rows = "\n".join(OUT_POSITIVE.splitlines()[:3]) + "\n"  # one row pair: too few to overrule
    fmt = detect_format(opener(two_rows))
    assert fmt.sign_rule == "amount" and fmt.columns["amount"] == ["Amount"]
    assert fmt.evidence["balance"] == (
        "header 'Balance'; running balance holds on 1/1 rows only with the sign flipped"
    )
    assert amounts(two_rows) == [-1299, 2145]


def test_a_preset_or_map_is_never_overruled() -> None:
    fmt = detect_format(opener(AMOUNT_IS_BALANCE), column_map={"amount": "Amount"})
    assert fmt.columns["amount"] == ["Amount"] and "balance" not in fmt.columns
    assert fmt.evidence["amount"] == "given by the preset or column map"


def test_direction_words_and_iso_codes_back_their_header_roles() -> None:
    fmt = detect_format(opener(WORDS_AND_CODES))
    assert (
        fmt.evidence["direction"] == "header 'Type'; direction words CREDIT/DEBIT on 3/3 rows (2 out, 1 in)"
    )
    assert fmt.evidence["currency"] == "header 'Currency'; ISO currency codes on 3/3 rows (EUR)"
    assert amounts(WORDS_AND_CODES) == [-350, 200000, -95000]


def test_import_preview_says_why_content_overruled_the_header(tmp_path: Path) -> None:
    path = tmp_path / "amount-is-balance.csv"
    path.write_text(AMOUNT_IS_BALANCE)
    result = CliRunner().invoke(app, ["import", "preview", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format"]["columns"]["amount"] == ["Transaction"]
    assert "content says 'Transaction'" in doc["format"]["evidence"]["amount"]
    assert [r["amount"] for r in doc["rows"]] == ["-3.50", "2000.00", "-950.00", "-21.45", "12.99"]


# A subscription's statement: the same amount every month beside a fee column of zeros (unchecked, the
# 'Amount' column would pass as the running balance of the zeros), and a balance column that never moves.
ZERO_FEE = """Date,Description,Amount,Fee
2024-01-05,Spotify AB,-9.99,0.00
2024-02-05,Spotify AB,-9.99,0.00
2024-03-05,Spotify AB,-9.99,0.00
2024-04-05,Spotify AB,-9.99,0.00
"""
STILL_BALANCE = ZERO_FEE.replace("Fee", "Balance").replace(",0.00", ",500.00")


def test_a_zero_or_constant_column_proves_nothing() -> None:
    fmt = detect_format(opener(ZERO_FEE))
    assert fmt.columns["amount"] == ["Amount"] and "balance" not in fmt.columns
    assert amounts(ZERO_FEE) == [-999] * 4
    fmt = detect_format(opener(STILL_BALANCE))
    assert fmt.columns["amount"] == ["Amount"] and fmt.columns["balance"] == ["Balance"]
    assert fmt.evidence["balance"] == "header 'Balance'" and fmt.sign_rule == "amount"
