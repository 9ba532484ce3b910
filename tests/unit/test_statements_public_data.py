"""The statement reader against real bank exports kept as test samples by other open-source importers
(tests/data/bank-csv-public, sources in its SOURCES.md), read as a new user would: default options.
"""

from __future__ import annotations

import datetime
import io
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from finjobs.domain import statement_vocab as vocab
from finjobs.domain.statement_roles import _holds, column_values, file_order
from finjobs.domain.statements import detect_format, preview
from finjobs.domain.statements_values import amount_shape, date_shape, direction_of

DATA = Path(__file__).parents[1] / "data" / "bank-csv-public"
EXPECTED = DATA / "expected"
CASES = sorted(p.name.removesuffix(".json") for p in EXPECTED.glob("*.json"))

# Files still missed, by name -> the open class (none now); strict, so a fix turns its entry into a failure
# to remove from the list.
OPEN: dict[str, str] = {}


def opener(name: str):
    path = DATA / name
    return lambda: path.open("rb")


def _rows(name: str) -> dict:
    return preview(opener(name), source=name, limit=None)


def test_the_set_is_the_one_sources_md_describes() -> None:
    files = sorted(p.name for p in DATA.glob("*.csv"))
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    assert len(files) >= 15
    assert files == CASES
    assert all(f"| {name} |" in sources for name in files)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=OPEN[n])) if n in OPEN else n
        for n in CASES
    ],
)
def test_every_public_file_previews_to_its_expected_rows(name: str) -> None:
    expected = json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))["rows"]
    got = _rows(name)
    assert Counter((r["date"], Decimal(r["amount"])) for r in got["rows"]) == Counter(
        (r["date"], Decimal(r["amount"])) for r in expected
    )


@pytest.mark.parametrize(("name", "amount_column"), [("easybank-creditcard.csv", 4), ("lbb-amazon.csv", 6)])
def test_a_headerless_account_or_card_number_column_is_not_the_amount(name: str, amount_column: int) -> None:
    fmt = detect_format(opener(name), source=name)
    assert fmt.header_line is None
    assert fmt.columns["amount"] == [amount_column]
    assert fmt.decimal_sep == ","


def test_ten_or_more_bare_digits_are_an_identifier_not_money() -> None:
    assert amount_shape("12345678901") is None  # easybank account number
    assert amount_shape("1111222233334444") is None  # a card number
    assert amount_shape("123456789") is not None  # nine digits can still be money
    for raw in ("-1234567890", "$1234567890", "1234567890.00", "EUR 1234567890"):
        assert amount_shape(raw) is not None, raw


def test_year_first_colon_dates_read_and_times_stay_times() -> None:
    shape = date_shape("2012:03:01")
    assert shape is not None
    assert shape.fixed == datetime.date(2012, 3, 1)
    assert date_shape("12:30:00") is None
    assert date_shape("2012:13:01") is None
    fmt = detect_format(opener("danske-lt.csv"), source="danske-lt.csv")
    assert fmt.columns["date"] == ["Date"]


@pytest.mark.parametrize(
    ("name", "rule"),
    [("knab.csv", "direction:CreditDebet"), ("swedbank-lt.csv", "direction:D/K")],
)
def test_a_direction_column_is_found_by_its_words_when_the_header_word_is_unknown(
    name: str, rule: str
) -> None:
    fmt = detect_format(opener(name), source=name)
    assert fmt.sign_rule == rule
    amounts = [Decimal(r["amount"]) for r in _rows(name)["rows"]]
    assert any(a < 0 for a in amounts)


def test_a_balance_before_the_row_in_date_order_proves_the_amounts_as_written() -> None:
    # asn-nl.csv: headerless, oldest row first, column 9 the balance BEFORE the row (130.44 then 354.21
    # after +223.77); read as a newest-first balance after the row, it holds with every sign flipped.
    fmt = detect_format(opener("asn-nl.csv"), source="asn-nl.csv")
    assert fmt.header_line is None
    assert (fmt.columns["amount"], fmt.columns["balance"]) == ([10], [8])
    assert fmt.sign_rule == "amount"
    rows = [
        [c.strip("'") for c in line.split(",")] for line in (DATA / "asn-nl.csv").read_text().splitlines()
    ]
    assert file_order(rows, {"date": [0]}) == 1
    assert file_order(rows[::-1], {"date": [0]}) == -1
    assert file_order(rows, {}) == 0
    balance, amount = column_values(rows, 8), column_values(rows, 10)
    checked, plus, minus = _holds(balance, amount, order=1)
    assert (plus, minus) == (checked, 0)
    assert _holds(balance[::-1], amount[::-1], order=-1) == (checked, checked, 0)
    # the order unknown, only the balance-after formula: the flipped sign is all it can see
    _, plus_unknown, minus_unknown = _holds(balance, amount)
    assert minus_unknown == checked > 2 * plus_unknown


def test_of_a_started_and_a_completed_date_the_completed_one_is_the_booking_date() -> None:
    # revolut-2021.csv: a card payment started 2021-09-03 is booked when completed, 2021-09-05
    fmt = detect_format(opener("revolut-2021.csv"), source="revolut-2021.csv")
    assert fmt.columns["date"] == ["Completed Date"]
    dates = [r["date"] for r in _rows("revolut-2021.csv")["rows"] if r["amount"] == "-9.50"]
    assert dates == ["2021-09-05"]
    for booked, started in (("completed date", "started date"), ("settlement date", "authorised date")):
        assert vocab.score("date", booked) > vocab.score("date", "date of x") > vocab.score("date", started)


def test_a_sparse_cr_flag_signs_a_card_export_its_blank_rows_are_charges() -> None:
    # jl-partnership-card.csv: amounts never negative, an unnamed last column with CR on 1 of 8 rows
    fmt = detect_format(opener("jl-partnership-card.csv"), source="jl-partnership-card.csv")
    assert fmt.sign_rule == "flag_credit:"
    amounts = sorted(Decimal(r["amount"]) for r in _rows("jl-partnership-card.csv")["rows"])
    assert amounts[-1] == Decimal("1234.56")
    assert len(amounts) == 8
    assert all(a < 0 for a in amounts[:-1])


def test_a_direction_word_on_most_rows_is_no_flag_and_a_blank_direction_cell_is_skipped() -> None:
    text = "Datum;Bedrag;Soort\n01-02-2020;5,00;D\n02-02-2020;6,00;C\n03-02-2020;7,00;\n04-02-2020;8,00;D\n"
    fmt = detect_format(lambda: io.BytesIO(text.encode()), source="words.csv")
    assert fmt.sign_rule == "direction:Soort"
    got = preview(lambda: io.BytesIO(text.encode()), source="words.csv", limit=None)
    assert [r["amount"] for r in got["rows"]] == ["-5.00", "6.00", "-8.00"]
    assert [s["reason"] for s in got["skipped"]] == ["direction '' is neither debit nor credit"]


def test_k_is_kredit() -> None:
    assert direction_of("K") == 1
    assert direction_of("D") == -1


def test_a_word_column_with_one_direction_only_is_not_taken_as_direction() -> None:
    text = "Datum;Bedrag;Soort\n01-02-2020;5,00;D\n02-02-2020;6,00;D\n03-02-2020;7,00;D\n"
    fmt = detect_format(lambda: io.BytesIO(text.encode()), source="one-way.csv")
    assert "direction" not in fmt.columns


@pytest.mark.parametrize(("name", "zeros"), [("livebank.csv", 3), ("ing-nl.csv", 1)])
def test_zero_amount_notices_are_skipped_with_a_reason(name: str, zeros: int) -> None:
    got = _rows(name)
    assert [s["reason"] for s in got["skipped"]].count("amount is zero") == zeros
    assert all(Decimal(r["amount"]) != 0 for r in got["rows"])


def test_baltic_balance_and_turnover_lines_are_not_transactions() -> None:
    got = _rows("swedbank-lt.csv")
    reasons = [s["reason"] for s in got["skipped"]]
    assert "balance line ('Likutis pradžiai')" in reasons
    assert "balance line ('Likutis pabaigai')" in reasons
    assert reasons.count("totals line ('Apyvarta')") == 2
    assert len(got["rows"]) == 3


@pytest.mark.parametrize(
    ("name", "column", "payee"),
    [
        (
            "beangulp-csvbank.csv",
            "Description",
            "EMPLOYER INC",
        ),  # not 'Details' (DEBIT/CREDIT words)
        (
            "dkb-creditcard.csv",
            "Umsatzbeschreibung",
            "MY BANK FIL",
        ),  # not 'Umsatz abgerechnet' (Ja/Nein)
        (
            "swedbank-lt.csv",
            "Gavėjas",
            "KRISTIANA",
        ),  # not 'Sąskaitos Nr.' (the one account number)
    ],
)
def test_the_description_is_a_column_of_free_text(name: str, column: str, payee: str) -> None:
    fmt = detect_format(opener(name), source=name)
    assert fmt.columns["description"][0] == column
    assert any(payee in r["description"] for r in _rows(name)["rows"])


@pytest.mark.parametrize(
    ("name", "payee_column"),
    [
        ("dkb-giro.csv", "Auftraggeber / Begünstigter"),
        ("knab.csv", "Tegenrekeninghouder"),
        ("livebank.csv", "Umsatztext"),
        ("seb-ee.csv", "Beneficiary's name"),
    ],
)
def test_the_payee_column_named_in_the_banks_language_is_read_into_the_description(
    name: str, payee_column: str
) -> None:
    fmt = detect_format(opener(name), source=name)
    assert payee_column in fmt.columns["description"]
    expected = json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))["rows"]
    wanted = Counter(" ".join(r["payee"].split()).casefold() for r in expected if r.get("payee"))
    got = [r["description"].casefold() for r in _rows(name)["rows"]]
    assert wanted
    missing = [p for p in wanted if not any(p in d for d in got)]
    assert missing == []


def test_a_description_named_by_its_header_stays_when_every_row_has_the_same_payee() -> None:
    text = "Date,Description,Amount\n" + "".join(f"2024-01-0{d},TESCO,-{d}.00\n" for d in range(1, 6))
    fmt = detect_format(lambda: io.BytesIO(text.encode()), source="same-payee.csv")
    assert fmt.columns["description"] == ["Description"]


def test_a_preamble_table_with_its_own_header_is_not_the_statement_header() -> None:
    # spardabank.csv: 'Umsätze ab;Enddatum;Kontonummer;Saldo;Währung' over one row, then the statement
    fmt = detect_format(opener("spardabank.csv"), source="spardabank.csv")
    assert fmt.header_line == 11
    assert (fmt.columns["date"], fmt.columns["amount"]) == (["Buchungstag"], ["Umsatz"])
    assert len(_rows("spardabank.csv")["rows"]) == 7


def test_a_footer_that_repeats_the_header_leaves_the_first_header() -> None:
    head = "Date,Description,Amount\n"
    text = (
        head
        + "".join(f"2024-01-0{d},SHOP {d},-{d}.00\n" for d in range(1, 5))
        + head
        + "2024-01-09,X,-1.00\n"
    )
    fmt = detect_format(lambda: io.BytesIO(text.encode()), source="repeated-header.csv")
    assert fmt.header_line == 1
