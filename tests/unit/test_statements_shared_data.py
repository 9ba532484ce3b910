"""The statement reader against real bank exports in ../shared/data (csv2ofx's test files).
Reads files only; skips cleanly when the shared data folder is absent.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from finjobs.domain.statements import StatementRow, detect_format, preview, read_statement

DATA = Path(__file__).parents[2].parent / "shared" / "data" / "bank-csv" / "csv2ofx"
INPUT = DATA / "input"
EXPECTED = DATA / "expected"

pytestmark = pytest.mark.skipif(not EXPECTED.is_dir(), reason="../shared/data is not present")

# Files whose expected signs follow a card convention in csv2ofx's per-bank mapping: the export lists
# purchases as positive numbers, and csv2ofx's mapping negates them. The honest equivalent here is to
# say what kind of account the file is, exactly as a user would when importing it.
OPTIONS: dict[str, dict[str, str]] = {
    "amazon.csv": {"preset": "amazon"},  # order totals are purchases: money out
    "pcmastercard.csv": {"account_type": "credit"},  # card charges are positive in the export
}

# Rows we read that csv2ofx's expected output leaves out, and why (they are real transactions):
EXTRA: dict[str, list[tuple[str, str]]] = {
    # csv2ofx's test run sets AMAZON_EXCLUDE_CARDS=9876, which drops the order paid with that card.
    "amazon.csv": [("2022-10-11", "-34.12")],
    # csv2ofx's mint_extra mapping splits output by account and its QIF lacks the 6/14 row; the row is a
    # well-formed debit of 2,500.00 in the file (line 8), before the repeated footer header.
    "mint_extra.csv": [("2015-06-14", "-2500.00")],
}

# Files whose description column holds csv2ofx's payee text (other mappings build payees elsewhere).
PAYEE_IN_DESCRIPTION = {
    "creditunion.csv",
    "default.csv",
    "gls.csv",
    "ingesp.csv",
    "mint.csv",
    "mint_extra.csv",
    "mint_headerless.csv",
    "schwab-checking.csv",
    *(f"schwab-checking-baltest-case{i}.csv" for i in range(1, 8)),
}

CASES = sorted(p.name.removesuffix(".json") for p in EXPECTED.glob("*.json")) if EXPECTED.is_dir() else []


def opener(name: str):
    path = INPUT / name
    return lambda: path.open("rb")


@pytest.mark.parametrize("name", CASES)
def test_every_expected_file_previews_to_its_expected_rows(name: str) -> None:
    expected = json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))["rows"]
    got = preview(opener(name), source=name, limit=None, **OPTIONS.get(name, {}))
    ours = Counter((r["date"], Decimal(r["amount"])) for r in got["rows"])
    theirs = Counter((r["date"], Decimal(r["amount"])) for r in expected)
    theirs.update((d, Decimal(a)) for d, a in EXTRA.get(name, []))
    assert ours == theirs
    # Amount strings carry exactly the currency's two places, like the expected files.
    assert all(len(r["amount"].rpartition(".")[2]) == 2 for r in got["rows"])
    if name in PAYEE_IN_DESCRIPTION:
        descriptions = [r["description"] for r in got["rows"]]
        for row in expected:
            if row["payee"]:
                assert any(row["payee"] in d for d in descriptions), row["payee"]


def test_amazon_pending_cancelled_and_footer_rows_are_skipped_with_reasons() -> None:
    got = preview(opener("amazon.csv"), source="amazon.csv", preset="amazon", limit=None)
    assert got["skipped"] == [
        {"line": 5, "reason": "date 'pending' is not a date"},
        {"line": 6, "reason": "date 'pending' is not a date"},
        {"line": 7, "reason": "no amount"},
        {"line": 8, "reason": "repeated header"},
    ]
    assert len(got["rows"]) == 3  # every data record counted once: 3 rows + 4 skipped = 7 records


def test_gls_is_cp1252_semicolon_decimal_comma_and_combines_payee_with_memo() -> None:
    fmt = detect_format(opener("gls.csv"), source="gls.csv")
    assert (fmt.encoding, fmt.delimiter, fmt.decimal_sep, fmt.date_order) == ("cp1252", ";", ",", "DMY")
    assert fmt.columns["amount"] == ["Betrag"]
    assert fmt.columns["balance"] == ["Kontostand"]
    (row,) = list(read_statement(opener("gls.csv"), fmt, source="gls.csv"))
    assert isinstance(row, StatementRow)
    assert (row.amount_minor, row.balance_minor, row.currency) == (-9876, 123456, "EUR")
    assert row.description.startswith("Drillisch Online AG SEPA-Basislastschrift B4658645")


def test_cr_only_files_report_physical_line_numbers() -> None:
    rows = list(read_statement(opener("mint_extra.csv"), detect_format(opener("mint_extra.csv"))))
    # Three empty CR lines, the header on line 4, data on lines 5-8, the repeated header on line 9.
    assert [r.line for r in rows] == [5, 6, 7, 8, 9]
    fmt = detect_format(opener("mint_headerless.csv"))
    assert fmt.header_line is None and fmt.columns["date"] == [0] and fmt.sign_rule == "direction:4"


def test_day_first_and_month_first_columns_are_decided_from_all_values() -> None:
    assert detect_format(opener("ingesp.csv")).date_order == "DMY"  # 24/03/2022 settles it
    assert detect_format(opener("creditunion.csv")).date_order == "MDY"  # 2/24/15 settles it
    # 05/03/2021 fits both; with a decimal point and slashes the reader keeps month-first.
    assert detect_format(opener("payoneer.csv")).date_order == "MDY"


@pytest.mark.parametrize(
    ("name", "first"),
    [
        # Values read by eye from the files, which have no expected output.
        ("ubs-ch-fr_trimmed.csv", ("2019-03-31", "-10.00", "CHF")),
        ("outbank.csv", ("2019-02-20", "100.00", "EUR")),
        ("capitalone.csv", ("2015-12-31", "-1000.00", "USD")),
        ("xero.csv", ("2015-01-23", "-36000.00", "USD")),
    ],
)
def test_files_without_expected_output(name: str, first: tuple[str, str, str]) -> None:
    fmt = detect_format(opener(name), source=name)
    rows = [r for r in read_statement(opener(name), fmt, source=name) if isinstance(r, StatementRow)]
    row = rows[0]
    assert (row.date.isoformat(), str(Decimal(row.amount_minor).scaleb(-2)), row.currency) == first


def test_ubs_apostrophe_thousands_in_balance() -> None:
    fmt = detect_format(opener("ubs-ch-fr_trimmed.csv"))
    assert fmt.sign_rule == "debit_credit"
    rows = list(read_statement(opener("ubs-ch-fr_trimmed.csv"), fmt))
    assert [r.balance_minor for r in rows if isinstance(r, StatementRow)] == [1137394, 1161394, 1141394]
