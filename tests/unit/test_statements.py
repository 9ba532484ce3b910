"""Unit tests for the statement reader: cell parsing tables, detection, skipping, presets and errors.
Pure: every file is built in memory as bytes.
"""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal

import pytest

from finjobs.domain.statements import (
    PRESETS,
    ColumnPreset,
    SkippedRow,
    StatementFormat,
    StatementRow,
    detect_format,
    normalise_description,
    parse_column_map,
    preview,
    read_statement,
)
from finjobs.domain.statements_values import amount_shape, date_shape, parse_amount
from finjobs.errors import InputError


def opener_of(data: bytes | str, encoding: str = "utf-8"):
    raw = data.encode(encoding) if isinstance(data, str) else data
    return lambda: io.BytesIO(raw)


def read_all(data: bytes | str, encoding: str = "utf-8", **kw):
    op = opener_of(data, encoding)
    fmt = detect_format(op, source="t.csv", **kw)
    return fmt, list(read_statement(op, fmt, source="t.csv"))


def rows_of(items):
    return [(r.date.isoformat(), r.amount_minor, r.description) for r in items if isinstance(r, StatementRow)]


# ------------------------------------------------------------------ cells


@pytest.mark.parametrize(
    ("raw", "sep", "value", "currency"),
    [
        ("1,234.56", ".", "1234.56", None),
        ("1.234,56", ",", "1234.56", None),
        ("1 234,56", ",", "1234.56", None),
        ("1\u00a0234,56", ",", "1234.56", None),
        ("1\u202f234,56", ",", "1234.56", None),
        ("1'234.56", ".", "1234.56", None),
        ("11'373.94", ".", "11373.94", None),
        ("(12.34)", ".", "-12.34", None),
        ("12.34-", ".", "-12.34", None),
        ("+120,00", ",", "120.00", None),
        ("$1,036.47", ".", "1036.47", "USD"),
        ("-$5.00", ".", "-5.00", "USD"),
        ("EUR 12,00", ",", "12.00", "EUR"),
        ("12.00 €", ".", "12.00", "EUR"),
        ("\u221212.00", ".", "-12.00", None),
        ("12.00 DR", ".", "-12.00", None),
        ("1,234", ".", "1234", None),
        ("1,234", ",", "1.234", None),
        ("50000", ".", "50000", None),
    ],
)
def test_amounts(raw: str, sep: str, value: str, currency: str | None) -> None:
    assert parse_amount(raw, sep) == Decimal(value)
    shape = amount_shape(raw)
    assert shape is not None and shape.currency == currency


@pytest.mark.parametrize("raw", ["abc", "", "12.34.56x", "1,23,4.00", "VWZ1", "--", "1.234,56,7"])
def test_not_amounts(raw: str) -> None:
    assert parse_amount(raw, ".") is None or parse_amount(raw, ",") is None
    assert parse_amount(raw, ".") is None if raw in ("abc", "", "VWZ1", "--") else True


@pytest.mark.parametrize(
    ("raw", "order", "iso"),
    [
        ("25 Dec 2018", "DMY", "2018-12-25"),
        ("3. März 2024", "DMY", "2024-03-03"),
        ("12 janv. 2023", "DMY", "2023-01-12"),
        ("5 de enero de 2023", "DMY", "2023-01-05"),
        ("December 24, 2022", "MDY", "2022-12-24"),
        ("23-Jan-15", "DMY", "2015-01-23"),
        ("2023-01-05", "DMY", "2023-01-05"),
        ("20230105", "MDY", "2023-01-05"),
        ("2023-01-05 13:22:01", "YMD", "2023-01-05"),
        ("2023-01-05T13:22:01Z", "YMD", "2023-01-05"),
        ("01/10/2019 06:50 PM", "MDY", "2019-01-10"),
        ("05/03/2021", "MDY", "2021-05-03"),
        ("05/03/2021", "DMY", "2021-03-05"),
        ("25/12/18", "DMY", "2018-12-25"),
        ("10.10.2017", "DMY", "2017-10-10"),
    ],
)
def test_dates(raw: str, order: str, iso: str) -> None:
    shape = date_shape(raw)
    assert shape is not None
    got = shape.resolve(order)
    assert got is not None and got.isoformat() == iso


@pytest.mark.parametrize("raw", ["pending", "", "31/31/2020", "Total", "12.50", "2023-02-30"])
def test_not_dates(raw: str) -> None:
    shape = date_shape(raw)
    assert shape is None or (shape.resolve("DMY") is None and shape.resolve("MDY") is None)


# ------------------------------------------------------------------ detection


def test_semicolon_file_with_decimal_commas_is_not_read_as_comma_separated() -> None:
    text = "Datum;Text;Betrag\n01.02.2024;Miete;-1.234,56\n02.02.2024;Lohn;2.000,10\n03.02.2024;Brot;-3,5\n"
    fmt, items = read_all(text)
    assert (fmt.delimiter, fmt.decimal_sep, fmt.date_order) == (";", ",", "DMY")
    assert rows_of(items) == [
        ("2024-02-01", -123456, "Miete"),
        ("2024-02-02", 200010, "Lohn"),
        ("2024-02-03", -350, "Brot"),
    ]


def test_one_day_past_twelve_settles_the_whole_column_even_on_the_last_row() -> None:
    text = "Date,Description,Amount\n" + "".join(f"0{m}/02/2024,x{m},1.00\n" for m in range(1, 9))
    fmt, items = read_all(text + "24/03/2024,last,1.00\n")
    assert fmt.date_order == "DMY"
    assert rows_of(items)[0][0] == "2024-02-01"
    fmt, _ = read_all(text + "03/24/2024,last,1.00\n")
    assert fmt.date_order == "MDY"


def test_decimal_separator_is_decided_per_column_when_one_value_is_ambiguous() -> None:
    # "1.234" alone could be 1234 or 1.234; the column's "12,50" says the comma is decimal.
    fmt, items = read_all("Date;Payee;Amount\n2024-01-02;a;1.234\n2024-01-03;b;12,50\n")
    assert fmt.decimal_sep == ","
    assert [r[1] for r in rows_of(items)] == [123400, 1250]
    fmt, items = read_all('Date,Payee,Amount\n2024-01-02,a,"1,234"\n2024-01-03,b,12.50\n')
    assert fmt.decimal_sep == "."
    assert [r[1] for r in rows_of(items)] == [123400, 1250]
    # Three decimals in a two-decimal currency are not rounded away silently.
    _, items = read_all("Date;Payee;Amount\n2024-01-02;a;1,234\n2024-01-03;b;12,50\n")
    assert items[0] == SkippedRow(2, "amount 1.234 has more decimals than USD allows")


def test_preamble_header_trailer_and_balance_lines() -> None:
    text = (
        "Kontoauszug Girokonto\n"
        "IBAN;DE00 1234\n"
        "\n"
        "Buchungstag;Verwendungszweck;Betrag;Saldo\n"
        "01.03.2024;Saldo Anterior;;100,00\n"
        "02.03.2024;REWE Markt;-12,34;87,66\n"
        "03.03.2024;Gehalt;1.000,00;1.087,66\n"
        ";Total;987,66;\n"
        "Opening balance;;;100,00\n"
    )
    fmt, items = read_all(text)
    assert (fmt.header_line, fmt.data_start_line) == (4, 5)
    assert rows_of(items) == [("2024-03-02", -1234, "REWE Markt"), ("2024-03-03", 100000, "Gehalt")]
    assert [(s.line, s.reason) for s in items if isinstance(s, SkippedRow)] == [
        (5, "balance line ('Saldo Anterior')"),
        (8, "totals line ('Total')"),
        (9, "balance line ('Opening balance')"),
    ]
    balances = [r.balance_minor for r in items if isinstance(r, StatementRow)]
    assert balances == [8766, 108766]


def test_row_errors_become_skipped_rows_with_the_line() -> None:
    text = "Date,Description,Amount\n2024-01-02,ok,1.00\n2024-01-03,bad,abc\npending,later,2.00\n,none,1.00\n"
    _, items = read_all(text)
    assert [(s.line, s.reason) for s in items if isinstance(s, SkippedRow)] == [
        (3, "amount 'abc' is not a number"),
        (4, "date 'pending' is not a date"),
        (5, "no date"),
    ]
    assert len(items) == 4  # every data record once


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8-sig", b""), ("utf-16", b""), ("utf-16-le", b""), ("utf-16-be", b""), ("cp1252", b"")],
)
def test_encodings(encoding: str, prefix: bytes) -> None:
    text = (
        "Date\tDescription\tAmount\r\n"
        "2024-05-01\tCafé Müller\t-3,50 €\r\n"
        "2024-05-02\tLoyer été\t+700,00 €\r\n"
    )
    fmt, items = read_all(prefix + text.encode(encoding))
    assert fmt.delimiter == "\t"
    assert rows_of(items) == [("2024-05-01", -350, "Café Müller"), ("2024-05-02", 70000, "Loyer été")]
    assert {r.currency for r in items if isinstance(r, StatementRow)} == {"EUR"}


def test_cp1252_is_chosen_when_a_late_byte_is_not_utf8() -> None:
    head = "Date,Description,Amount\n" + "2024-01-01,plain,1.00\n" * 5000
    data = (head + "2024-01-02,Bäcker,2.00\n").encode("cp1252")
    fmt, items = read_all(data)
    assert fmt.encoding == "cp1252"
    assert rows_of(items)[-1] == ("2024-01-02", 200, "Bäcker")


def test_cr_only_multiline_quoted_field_keeps_physical_line_numbers() -> None:
    text = 'Date,Description,Amount\r2024-01-01,"two\rlines",1.00\r2024-01-02,next,2.00\r'
    _, items = read_all(text)
    assert [(r.line, r.description) for r in items] == [(2, "two lines"), (4, "next")]


def test_separate_debit_credit_columns_in_several_languages() -> None:
    for out_name, in_name in [
        ("Withdrawal", "Deposit"),
        ("Soll", "Haben"),
        ("Débit", "Crédit"),
        ("Paid out", "Paid in"),
    ]:
        text = f"Date,Description,{out_name},{in_name}\n2024-01-01,a,12.00,\n2024-01-02,b,,5.00\n"
        fmt, items = read_all(text)
        assert fmt.sign_rule == "debit_credit"
        assert [r[1] for r in rows_of(items)] == [-1200, 500]


@pytest.mark.parametrize(
    ("out_word", "in_word"), [("D", "C"), ("Af", "Bij"), ("DR", "CR"), ("debit", "credit")]
)
def test_direction_column(out_word: str, in_word: str) -> None:
    text = f'Datum,Naam,Bedrag,Af Bij\n20240101,a,"12,00",{out_word}\n20240102,b,"5,00",{in_word}\n'
    fmt, items = read_all(text)
    assert fmt.sign_rule == "direction:Af Bij"
    assert [r[1] for r in rows_of(items)] == [-1200, 500]


def test_credit_account_flips_a_single_amount_column() -> None:
    text = "Date,Description,Amount\n01/10/2019,Mobil,36.33\n01/11/2019,Payment,-100.00\n"
    fmt, items = read_all(text, account_type="credit")
    assert fmt.sign_rule == "amount_flipped(credit)"
    assert [r[1] for r in rows_of(items)] == [-3633, 10000]


def test_headerless_roles_come_from_values() -> None:
    text = "2024-01-01,Coffee shop,-3.50,996.50\n2024-01-02,Salary,1000.00,1996.50\n"
    fmt, items = read_all(text)
    assert fmt.header_line is None
    assert fmt.columns == {"date": [0], "description": [1], "amount": [2], "balance": [3]}
    assert [r.balance_minor for r in items] == [99650, 199650]


def test_payee_and_memo_are_combined() -> None:
    text = "Date,Payee,Memo,Amount\n2024-01-01,ACME,Invoice 7,-1.00\n"
    fmt, items = read_all(text)
    assert fmt.columns["description"] == ["Payee", "Memo"]
    assert rows_of(items) == [("2024-01-01", -100, "ACME Invoice 7")]


def test_column_map_and_presets_override_detection() -> None:
    text = "Buchungstag;Wertstellung;Verwendungszweck;Betrag;Extra\n01.02.2024;03.02.2024;Miete;-5,00;9,99\n"
    mapping = parse_column_map("date=Wertstellung,amount=Extra,description=Verwendungszweck")
    fmt, items = read_all(text, column_map=mapping)
    assert fmt.columns["date"] == ["Wertstellung"]
    assert rows_of(items) == [("2024-02-03", 999, "Miete")]
    preset = ColumnPreset("mine", {"date": ["Buchungstag"], "amount": ["Betrag"]}, account_type="credit")
    fmt, items = read_all(text, preset=preset)
    assert rows_of(items)[0][:2] == ("2024-02-01", 500)


def test_parse_column_map() -> None:
    assert parse_column_map("date=Buchungstag, amount=Betrag") == {"date": "Buchungstag", "amount": "Betrag"}
    assert parse_column_map("description=Name,description=Memo") == {"description": "Name|Memo"}
    for bad in ("", "date", "colour=Red", "=x"):
        with pytest.raises(InputError):
            parse_column_map(bad)


def test_presets_round_trip_through_json() -> None:
    assert {"amazon", "mint", "schwab_checking", "pcmastercard", "gls"} <= set(PRESETS)
    for preset in PRESETS.values():
        assert ColumnPreset.from_dict(json.loads(json.dumps(preset.to_dict()))) == preset
    with pytest.raises(InputError, match="unknown column role"):
        ColumnPreset.from_dict({"name": "x", "columns": {"colour": ["Red"]}})
    with pytest.raises(InputError, match="account_type"):
        ColumnPreset.from_dict({"name": "x", "columns": {"date": "D"}, "account_type": "gold"})


def test_format_round_trips_through_json_and_reads_the_same() -> None:
    op = opener_of("Date,Description,Amount\n2024-01-01,a,1.00\n")
    fmt = detect_format(op)
    again = StatementFormat.from_dict(json.loads(json.dumps(fmt.to_dict())))
    assert again == fmt
    assert list(read_statement(op, again)) == list(read_statement(op, fmt))
    with pytest.raises(InputError):
        StatementFormat.from_dict({"encoding": "utf-8"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (b"just one column\nof words\n", "no delimiter found"),
        (b"Name,Amount\nfoo,1.00\nbar,2.00\n", "no date column found"),
        (b"Date,Name\n2024-01-01,foo\n2024-01-02,bar\n", "no amount column found"),
    ],
)
def test_unreadable_files_raise_input_error_naming_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        detect_format(opener_of(data), source="bank.csv")
    assert info.value.source == "bank.csv"


def test_missing_mapped_column_and_unknown_preset() -> None:
    op = opener_of("Date,Description,Amount\n2024-01-01,a,1.00\n")
    with pytest.raises(InputError, match="'Betrag'"):
        detect_format(op, column_map={"date": "Date", "amount": "Betrag"})
    with pytest.raises(InputError, match="unknown preset"):
        detect_format(op, preset="nope")
    with pytest.raises(InputError, match="account_type"):
        detect_format(op, account_type="gold")


def test_runaway_quote_is_an_input_error_with_a_line() -> None:
    good = "".join(f"2024-01-01,row,{i}.00\n" for i in range(3000))  # past the detection sample
    data = "Date,Description,Amount\n" + good + '2024-01-02,"open,1.00\n' + "x" * 200_000 + "\n"
    op = opener_of(data)
    # Detection's pass over the whole file meets it first; reading with a saved format meets it too.
    with pytest.raises(InputError, match="unreadable CSV") as info:
        detect_format(op, source="q.csv")
    assert info.value.line == 3002
    fmt = detect_format(opener_of(data[: data.index('2024-01-02,"open')]), source="q.csv")
    with pytest.raises(InputError) as info:
        list(read_statement(op, fmt, source="q.csv"))
    assert info.value.line == 3002


class NoWholeReads(io.BytesIO):
    """A stream that refuses read() of everything: readers must pull bounded chunks."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size >= 0, "whole-file read"
        return super().read(size)

    def read1(self, size: int = -1) -> bytes:
        assert size >= 0, "whole-file read1"
        return super().read1(size)


def test_reading_is_streaming_and_lazy() -> None:
    body = "Date,Description,Amount\n" + "".join(
        f"2024-01-{d % 28 + 1:02d},row {d},{d}.25\n" for d in range(20000)
    )
    data = body.encode()
    opened: list[NoWholeReads] = []

    def op() -> NoWholeReads:
        opened.append(NoWholeReads(data))
        return opened[-1]

    fmt = detect_format(op)
    items = read_statement(op, fmt)
    first = next(items)
    assert isinstance(first, StatementRow) and first.amount_minor == 25
    # After one row only a bounded prefix of the 500 KB file has been pulled from the stream.
    assert opened[-1].tell() < len(data) // 4
    assert sum(1 for _ in items) == 19999
    assert opened[-1].closed


def test_preview_shape_and_limit() -> None:
    text = "Date,Description,Amount\n" + "".join(f"2024-01-0{d},r{d},-{d}.00\n" for d in range(1, 10))
    got = preview(opener_of(text + "pending,x,1.00\n"), source="p.csv", limit=3)
    assert set(got) == {"format", "rows", "skipped"}
    assert got["rows"] == [
        {"date": "2024-01-01", "amount": "-1.00", "description": "r1"},
        {"date": "2024-01-02", "amount": "-2.00", "description": "r2"},
        {"date": "2024-01-03", "amount": "-3.00", "description": "r3"},
    ]
    assert got["format"]["delimiter"] == "," and got["format"]["columns"]["amount"] == ["Amount"]
    full = preview(opener_of(text + "pending,x,1.00\n"), limit=None)
    assert len(full["rows"]) == 9 and full["skipped"] == [
        {"line": 11, "reason": "date 'pending' is not a date"}
    ]


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("CARD PURCHASE 4111********1234 STARBUCKS 03/14", "card purchase starbucks"),
        ("  Amazon.com   Mktp  US*AB12CD34E ", "amazon.com mktp us"),
        ("PAYPAL INST XFER 220803~ Tran: ACHDW", "paypal inst xfer tran achdw"),
        ("Drillisch Online AG B4658645 U123456789", "drillisch online ag"),
        ("Café MÜLLER 12:30", "café müller"),
        ("Check Paid #558", "check paid"),
    ],
)
def test_normalise_description(raw: str, normal: str) -> None:
    assert normalise_description(raw) == normal


def test_two_digit_years_and_written_months_in_a_file() -> None:
    fmt, items = read_all("Date,Description,Amount\n25 Dec 2018,a,1.00\n3 Jan 2019,b,2.00\n")
    assert [r.date for r in items] == [datetime.date(2018, 12, 25), datetime.date(2019, 1, 3)]
    fmt, items = read_all("Date,Description,Amount\n25/12/18,a,1.00\n")
    assert fmt.date_order == "DMY" and items[0].date == datetime.date(2018, 12, 25)


@pytest.mark.parametrize(
    ("text", "sign_rule", "currency", "rows", "skipped"),
    [
        (  # ING (nl): compact dates, direction column Af/Bij, amount header names the currency
            '"Datum","Naam / Omschrijving","Rekening","Af Bij","Bedrag (EUR)",'
            '"Mutatiesoort","Mededelingen"\r\n'
            '"20240102","Albert Heijn 1234","NL01","Af","12,34","Betaalautomaat","Pasvolgnr:001"\r\n'
            '"20240103","Werkgever BV","NL01","Bij","2500,00","Overschrijving","Salaris"\r\n',
            "direction:Af Bij",
            "EUR",
            [
                ("2024-01-02", -1234, "Albert Heijn 1234 Pasvolgnr:001"),
                ("2024-01-03", 250000, "Werkgever BV Salaris"),
            ],
            [],
        ),
        (  # French bank: preamble, Débit/Crédit euros, space thousands, closing balance line
            "Relevé de compte\nDate;Libellé;Débit euros;Crédit euros\n03/01/2024;CB CARREFOUR;45,10;\n"
            "15/01/2024;VIR SALAIRE;;2 150,00\n;Solde au 31/01/2024;;1 234,56\n",
            "debit_credit",
            "EUR",
            [("2024-01-03", -4510, "CB CARREFOUR"), ("2024-01-15", 215000, "VIR SALAIRE")],
            [(5, "balance line ('Solde au 31/01/2024')")],
        ),
        (  # Spanish bank: 'Saldo Anterior' row in the middle
            "Fecha Operación;Concepto;Importe;Saldo\n24/03/2022;Compra Mercadona;-23,45;1.000,00\n"
            "25/03/2022;Saldo Anterior;;1.023,45\n26/03/2022;Nómina;1.500,00;2.500,00\n",
            "amount",
            "USD",
            [("2022-03-24", -2345, "Compra Mercadona"), ("2022-03-26", 150000, "Nómina")],
            [(3, "balance line ('Saldo Anterior')")],
        ),
        (  # German bank: Soll/Haben columns, currency column
            "Buchungstag;Valuta;Auftraggeber/Empfänger;Verwendungszweck;Soll;Haben;Währung\n"
            "03.01.2024;03.01.2024;REWE;Karte 1234;12,50;;EUR\n"
            "04.01.2024;04.01.2024;Arbeitgeber;Lohn;;3.000,00;EUR\n",
            "debit_credit",
            "EUR",
            [("2024-01-03", -1250, "REWE Karte 1234"), ("2024-01-04", 300000, "Arbeitgeber Lohn")],
            [],
        ),
    ],
)
def test_bank_exports_in_several_languages(text, sign_rule, currency, rows, skipped) -> None:
    fmt, items = read_all(text)
    assert fmt.sign_rule == sign_rule
    assert fmt.currency == currency
    assert rows_of(items) == rows
    assert [(s.line, s.reason) for s in items if isinstance(s, SkippedRow)] == skipped
