"""Column roles from content on headerless layouts: faithful reconstructions of each class of failure
(issue 15) and the real headerless export in ../shared/data. Pure domain; no I/O beyond bytes in memory.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from finjobs.domain import statement_vocab as vocab
from finjobs.domain.statement_roles import infer_roles, locale_date_order
from finjobs.domain.statements import StatementFormat, StatementRow, detect_format, preview, read_statement


def opener(text: str):
    data = text.encode()
    return lambda: io.BytesIO(data)


def amounts(text: str, **kw) -> list[tuple[str, int, str]]:
    fmt = detect_format(opener(text), **kw)
    return [
        (r.date.isoformat(), r.amount_minor, r.description)
        for r in read_statement(opener(text), fmt)
        if isinstance(r, StatementRow)
    ]


# Debit,Credit pair without a header, the empty side written as 0.00, running balance last.
PAIR_ZEROS = """01/15/2024,CHECK 1234,100.00,0.00,1900.00
01/16/2024,PAYROLL DEPOSIT ACME,0.00,500.00,2400.00
01/18/2024,GROCERY OUTLET 55,42.17,0.00,2357.83
01/20/2024,ATM WITHDRAWAL MAIN ST,60.00,0.00,2297.83
01/22/2024,REFUND AMAZON,0.00,12.99,2310.82
"""

# Debit/credit pair whose deposits are whole numbers: the second money column must not be dropped.
PAIR_INTEGERS = """2024-03-01,Rent March,950.00,
2024-03-02,Salary,,2000
2024-03-04,Coffee Corner,3.80,
2024-03-05,Bookshop,21.45,
2024-03-09,Gift from Anna,,50
"""

# DEBIT/CREDIT word column, the merchant two columns to its right, unsigned amounts.
DIRECTION_WORDS = """12/01/2023,DEBIT,POS,AMAZON MKTPLACE PMTS,23.99
12/02/2023,CREDIT,ACH,PAYROLL ACME CORP,1500.00
12/03/2023,DEBIT,POS,SHELL OIL 5543,41.20
12/05/2023,DEBIT,POS,TRADER JOES 112,67.05
12/06/2023,DEBIT,CHK,CHECK 1045,120.00
"""

# A currency-code column before the amount; the merchant text after it.
CURRENCY_CODES = """2024-02-01;EUR;-12,50;REWE Markt Berlin
2024-02-02;EUR;-3,20;Baeckerei Schmidt
2024-02-03;EUR;2.100,00;Gehalt Februar
2024-02-05;EUR;-45,99;Deutsche Bahn
2024-02-07;EUR;-9,99;Spotify AB
"""

# A running balance beside (and before) the amount: the balance proves which column is the amount.
BALANCE_FIRST = """03/01/2024,Opening transfer,1000.00,1000.00
03/02/2024,Supermarket,957.50,-42.50
03/03/2024,Cinema,933.50,-24.00
03/04/2024,Refund,953.50,20.00
03/06/2024,Pharmacy,941.25,-12.25
"""

# Money out listed positive, the available balance going down by it: only the balance shows the sign.
BALANCE_SIGN = """2024-04-01,Netflix,15.99,984.01
2024-04-02,Top up thank you,-100.00,1084.01
2024-04-03,Uber trip,23.10,1060.91
2024-04-05,Bakery,4.50,1056.41
"""

# Every date fits both day-first and month-first.
AMBIGUOUS_DATES = """02/12/2009,Shop A,-10.00
03/11/2009,Shop B,-20.00
04/10/2009,Shop C,-30.00
"""


def test_debit_credit_pair_with_zeros_reads_each_row_once_with_its_sign() -> None:
    rows = amounts(PAIR_ZEROS)
    assert [a for _, a, _ in rows] == [-10000, 50000, -4217, -6000, 1299]
    fmt = detect_format(opener(PAIR_ZEROS))
    assert fmt.columns["debit"] == [2] and fmt.columns["credit"] == [3] and fmt.columns["balance"] == [4]
    assert fmt.evidence["balance"] == "running balance holds on 4/4 rows"


def test_money_in_the_second_of_two_columns_is_kept() -> None:
    rows = amounts(PAIR_INTEGERS)
    assert [a for _, a, _ in rows] == [-95000, 200000, -380, -2145, 5000]
    assert detect_format(opener(PAIR_INTEGERS)).sign_rule == "debit_credit"


def test_direction_word_column_signs_and_the_merchant_is_the_description() -> None:
    rows = amounts(DIRECTION_WORDS)
    assert [a for _, a, _ in rows] == [-2399, 150000, -4120, -6705, -12000]
    assert rows[0][2] == "AMAZON MKTPLACE PMTS"
    fmt = detect_format(opener(DIRECTION_WORDS))
    assert fmt.sign_rule == "direction:1"
    assert fmt.evidence["direction"].startswith("direction words CREDIT/DEBIT on 5/5 rows (4 out, 1 in)")


def test_currency_code_column_is_the_currency_not_the_description() -> None:
    fmt = detect_format(opener(CURRENCY_CODES))
    assert fmt.columns["currency"] == [1] and fmt.columns["description"] == [3]
    rows = amounts(CURRENCY_CODES)
    assert rows[0] == ("2024-02-01", -1250, "REWE Markt Berlin")
    assert rows[2][1] == 210000
    assert "ISO currency codes on 5/5 rows (EUR)" in fmt.evidence["currency"]


def test_running_balance_beside_the_amount_picks_the_amount() -> None:
    fmt = detect_format(opener(BALANCE_FIRST))
    assert fmt.columns["amount"] == [3] and fmt.columns["balance"] == [2]
    assert [a for _, a, _ in amounts(BALANCE_FIRST)] == [100000, -4250, -2400, 2000, -1225]


def test_running_balance_proves_the_sign_of_a_card_export() -> None:
    fmt = detect_format(opener(BALANCE_SIGN))
    assert fmt.sign_rule == "amount_flipped(credit)"
    assert [a for _, a, _ in amounts(BALANCE_SIGN)] == [-1599, 10000, -2310, -450]


def test_preview_shows_evidence_per_role() -> None:
    got = preview(opener(PAIR_ZEROS))
    assert got["format"]["evidence"]["description"] == "free text with 5 distinct values in 5 rows"
    assert got["format"]["evidence"]["date"] == "dates on 5/5 filled cells"


def test_two_equally_good_amount_columns_is_an_open_question() -> None:
    text = "2024-01-01,A shop,-1.00,-2.00\n2024-01-02,B shop,-3.00,-5.00\n2024-01-03,C shop,-4.00,-1.00\n"
    fmt = detect_format(opener(text))
    assert any(q.startswith("two equally good amount columns") for q in fmt.open_questions)


def test_infer_roles_leaves_fixed_roles_alone() -> None:
    rows = [r.split(",") for r in BALANCE_FIRST.splitlines()]
    choice = infer_roles(rows, 4, {"date": [0], "amount": [2]})
    assert choice.roles["amount"] == [2] and "balance" not in choice.roles


MINT_HEADERLESS = Path(__file__).parents[2].parent / "shared/data/bank-csv/csv2ofx/input/mint_headerless.csv"


@pytest.mark.skipif(not MINT_HEADERLESS.exists(), reason="../shared/data is not present")
def test_real_headerless_mint_export_signs_from_its_debit_credit_words() -> None:
    fmt = detect_format(lambda: MINT_HEADERLESS.open("rb"))
    assert fmt.sign_rule == "direction:4"
    assert fmt.evidence["direction"].startswith("direction words credit/debit on 4/4 rows (3 out, 1 in)")
    assert fmt.evidence["amount"] == "amounts on 4/4 rows"


def test_all_ambiguous_dates_are_an_open_question_answered_by_the_fallback() -> None:
    fmt = detect_format(opener(AMBIGUOUS_DATES), date_order_fallback=("DMY", "locale en_GB"))
    assert fmt.date_order == "DMY"
    assert fmt.open_questions == ["every date fits both day-first and month-first"]
    assert fmt.assumptions == ["date order DMY from locale en_GB"]
    assert amounts(AMBIGUOUS_DATES, date_order_fallback=("DMY", "x"))[0][0] == "2009-12-02"


def test_all_ambiguous_dates_without_a_fallback_say_they_guessed() -> None:
    fmt = detect_format(opener(AMBIGUOUS_DATES))
    assert fmt.date_order == "MDY"
    assert fmt.assumptions == ["date order MDY guessed from the separators and decimal mark"]


def test_a_file_that_decides_its_dates_ignores_the_fallback() -> None:
    text = AMBIGUOUS_DATES + "04/25/2009,Shop D,-5.00\n"
    fmt = detect_format(opener(text), date_order_fallback=("DMY", "locale en_GB"))
    assert (fmt.date_order, fmt.open_questions, fmt.assumptions) == ("MDY", [], [])


def test_old_format_dicts_still_load() -> None:
    old = detect_format(opener(AMBIGUOUS_DATES)).to_dict()
    for key in ("evidence", "open_questions", "assumptions"):
        old.pop(key)
    fmt = StatementFormat.from_dict(old)
    assert (fmt.evidence, fmt.open_questions, fmt.assumptions) == ({}, [], [])


@pytest.mark.parametrize(
    ("locale", "order"),
    [("en_US", "MDY"), ("en-GB", "DMY"), ("de_DE.UTF-8", "DMY"), ("ja_JP", "YMD"), ("fr", "DMY"), ("", None)],
)
def test_locale_date_order(locale: str, order: str | None) -> None:
    assert locale_date_order(locale) == order


@pytest.mark.parametrize(
    ("role", "name", "expected"),
    [
        ("date", "buchungstag", 10),
        ("date", "valutadatum", 4),
        ("date", "value date", 4),
        ("date", "posted", 0),
        ("amount", "amount eur", 10),
        ("amount", "total", 7),
        ("amount", "original amount", 0),
        ("debit", "debit eur", 10),
        ("credit", "haben eur", 10),
        ("balance", "saldo anterior", 0),
        ("currency", "original currency", 0),
        ("currency", "account currency", 10),
        ("category", "subcategory", 4),
        ("description", "vwz1", 10),
        ("description", "shop name", 5),
        ("description", "amount", 0),
    ],
)
def test_the_vocabulary_table_scores_header_names(role: str, name: str, expected: int) -> None:
    assert vocab.score(role, name) == expected


SCHWAB = MINT_HEADERLESS.parent / "schwab-checking.csv"


@pytest.mark.skipif(not SCHWAB.exists(), reason="../shared/data is not present")
def test_a_named_running_balance_is_checked_against_the_named_amounts() -> None:
    fmt = detect_format(lambda: SCHWAB.open("rb"))
    assert fmt.columns["balance"] == ["RunningBalance"]
    assert fmt.evidence["balance"] == "header 'RunningBalance'; running balance holds on 3/3 rows"
    assert fmt.evidence["debit"] == (
        "header 'Withdrawal'; each row fills one of the two on 4/4 rows; running balance holds on 3/3 rows"
    )


def test_a_tie_is_answered_by_an_earlier_choice_on_a_file_of_the_same_width() -> None:
    text = "2024-01-01,A shop,-1.00,-2.00\n2024-01-02,B shop,-3.00,-5.00\n2024-01-03,C shop,-4.00,-1.00\n"
    rule = detect_format(opener(text))
    assert rule.columns["amount"] == [2] and rule.width == 4
    assert rule.assumptions == ["amount column 3 by the detector's rule (the first of the tied columns)"]
    earlier = detect_format(opener(text), role_fallback=[({"date": [0], "amount": [3]}, 4, "import 7")])
    assert earlier.columns["amount"] == [3]
    assert earlier.assumptions == ["amount column 4 from import 7"]
    assert [a for _, a, _ in amounts(text, role_fallback=[({"amount": [3]}, 4, "x")])] == [-200, -500, -100]
    other_width = detect_format(opener(text), role_fallback=[({"amount": [3]}, 5, "import 8")])
    assert other_width.columns["amount"] == [2] and "rule" in other_width.assumptions[0]
