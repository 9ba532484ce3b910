"""Property tests for the statement reader: generated exports round-trip; random bytes only raise InputError.
Pure: builds files in memory with csv.writer and reads them back through detect_format/read_statement.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finjobs.domain.statements import SkippedRow, StatementRow, detect_format, read_statement
from finjobs.errors import InputError

MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_DE = ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sep.", "Okt.", "Nov.", "Dez."]
MONTHS_FR = [
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
]

# Words that cannot be read as a date, an amount, a direction, a total or a balance line.
WORDS = [
    "coffee",
    "Shop",
    "rent",
    "Café",
    "Müller",
    "paiement",
    "tienda",
    "ÜBERWEISUNG",
    "loyer",
    "Bäckerei",
    "groceries",
    "Façade",
    "niño",
    "fuel",
    "book",
    "TRANSFER",
    "o'brien",
    "a,b",
    'say "hi"',
    "x|y",
    "semi;colon",
    "tab\tbed",
    "line\nbreak",
    "#42",
    "ACME-Co.",
]

DATE_NAMES = ["Date", "Datum", "Buchungstag", "Fecha", "Date opération", "Boekdatum", "Transaction Date"]
AMOUNT_NAMES = ["Amount", "Betrag", "Montant", "Importe", "Bedrag", "Amount (EUR)"]
DEBIT_CREDIT_NAMES = [
    ("Withdrawal", "Deposit"),
    ("Paid out", "Paid in"),
    ("Soll", "Haben"),
    ("Débit", "Crédit"),
    ("Debe", "Haber"),
    ("Debit", "Credit"),
]
DIRECTION_NAMES = ["Debit/Credit", "Af Bij", "CR/DR", "Type", "Soll/Haben"]
DIRECTION_WORDS = [("D", "C"), ("debit", "credit"), ("Af", "Bij"), ("DR", "CR"), ("S", "H")]
DESC_NAMES = ["Description", "Beschreibung", "Libellé", "Concepto", "Omschrijving", "Details"]


@dataclass
class Export:
    data: bytes
    expected: list[tuple[datetime.date, int, str]]
    about: str


def fmt_date(d: datetime.date, style: str, order: str, sep: str, short_year: bool) -> str:
    year = f"{d.year % 100:02d}" if short_year else str(d.year)
    if style == "iso":
        return d.isoformat()
    if style == "compact":
        return d.strftime("%Y%m%d")
    if style == "datetime":
        return f"{d.isoformat()} 13:22:01"
    if style == "datetime_z":
        return f"{d.isoformat()}T13:22:01Z"
    if style == "en":
        return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    if style == "de":
        return f"{d.day}. {MONTHS_DE[d.month - 1]} {d.year}"
    if style == "fr":
        return f"{d.day} {MONTHS_FR[d.month - 1]} {d.year}"
    day, month = f"{d.day:02d}", f"{d.month:02d}"
    if order == "DMY":
        return sep.join([day, month, year])
    if order == "MDY":
        return sep.join([month, day, year])
    return sep.join([str(d.year), month, day])


def fmt_amount(minor: int, dec: str, group: str, neg: str, symbol: str, unsigned: bool) -> str:
    value = abs(minor)
    units, cents = divmod(value, 100)
    digits = f"{units:,}".replace(",", group)
    text = f"{digits}{dec}{cents:02d}"
    if symbol:
        text = f"{symbol}{text}" if symbol in "$£" else f"{text} {symbol}"
    if unsigned or minor >= 0:
        return ("+" + text) if (neg == "plus" and minor > 0 and not unsigned) else text
    return {
        "minus": f"-{text}",
        "parens": f"({text})",
        "trailing": f"{text}-",
        "unicode": f"\u2212{text}",
        "plus": f"-{text}",
    }[neg]


@st.composite
def exports(draw: st.DrawFn) -> Export:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    has_header = draw(st.booleans())
    style = draw(
        st.sampled_from(["numeric", "numeric", "iso", "compact", "datetime", "datetime_z", "en", "de", "fr"])
    )
    order = draw(st.sampled_from(["DMY", "MDY", "YMD"]))
    date_sep = draw(st.sampled_from(["/", ".", "-"]))
    short_year = order != "YMD" and draw(st.booleans())
    dec = draw(st.sampled_from([".", ","]))
    group = draw(st.sampled_from(["", ",", ".", " ", "\u00a0", "\u202f", "'"]).filter(lambda g: g != dec))
    neg = draw(st.sampled_from(["minus", "parens", "trailing", "unicode", "plus"]))
    symbol = draw(st.sampled_from(["", "", "$", "€", "EUR"]))
    money = draw(st.sampled_from(["signed", "debit_credit", "direction"]))
    memo = has_header and draw(st.booleans())

    # A headerless debit/credit file needs one of each to show which column is which.
    n = draw(st.integers(2 if money == "debit_credit" and not has_header else 1, 12))
    lo = datetime.date(1971, 1, 1) if short_year else datetime.date(1990, 1, 1)
    hi = datetime.date(2068, 12, 31) if short_year else datetime.date(2035, 12, 31)
    dates = draw(st.lists(st.dates(lo, hi), min_size=n, max_size=n))
    if style == "numeric" and order in ("DMY", "MDY"):
        # Real columns hold a day past the 12th somewhere; that one value settles the order.
        dates[draw(st.integers(0, n - 1))] = dates[0].replace(day=draw(st.integers(13, 28)))
    amounts = draw(st.lists(st.integers(-(10**9), 10**9).filter(bool), min_size=n, max_size=n))
    if money == "debit_credit" and not has_header and n >= 2:
        amounts[0], amounts[1] = -abs(amounts[0]), abs(amounts[1])  # headerless pairs need both sides
    descs = draw(
        st.lists(
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join), min_size=n, max_size=n
        )
    )
    # csv.writer quotes only the line terminator's own characters, as exporters do: a CR-only file
    # carries its in-field line breaks as CR.
    descs = [d.replace("\n", newline[0]) for d in descs]
    memos = [
        m.replace("\n", newline[0]) for m in draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n))
    ]

    # Columns as (header, cell function); headerless files keep debit before credit, as banks do.
    cols: list[tuple[str, object]] = [
        (draw(st.sampled_from(DATE_NAMES)), lambda i: fmt_date(dates[i], style, order, date_sep, short_year)),
        ("Payee" if memo else draw(st.sampled_from(DESC_NAMES)), lambda i: descs[i]),
    ]
    if memo:
        cols.append(("Memo", lambda i: memos[i]))
    if money == "signed":
        cols.append(
            (
                draw(st.sampled_from(AMOUNT_NAMES)),
                lambda i: fmt_amount(amounts[i], dec, group, neg, symbol, False),
            )
        )
    elif money == "debit_credit":
        out_name, in_name = draw(st.sampled_from(DEBIT_CREDIT_NAMES))
        cols.append(
            (
                out_name,
                lambda i: fmt_amount(amounts[i], dec, group, neg, symbol, True) if amounts[i] < 0 else "",
            )
        )
        cols.append(
            (
                in_name,
                lambda i: fmt_amount(amounts[i], dec, group, neg, symbol, True) if amounts[i] > 0 else "",
            )
        )
    else:
        words = draw(st.sampled_from(DIRECTION_WORDS))
        cols.append(
            (
                draw(st.sampled_from(AMOUNT_NAMES)),
                lambda i: fmt_amount(amounts[i], dec, group, neg, symbol, True),
            )
        )
        cols.append(
            (draw(st.sampled_from(DIRECTION_NAMES)), lambda i: words[0] if amounts[i] < 0 else words[1])
        )
    if has_header:
        cols = draw(st.permutations(cols))

    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    preamble = draw(
        st.sampled_from([[], ["Kontoauszug"], ["Account statement", ""], ["Statement", "Account 12345678"]])
    )
    for line in preamble:
        text.write(line + newline)
    if has_header:
        writer.writerow([name for name, _ in cols])
    for i in range(n):
        writer.writerow([cell(i) for _, cell in cols])  # type: ignore[operator]
    if encoding == "cp1252":
        # cp1252 has no narrow NBSP and no U+2212 minus; a real cp1252 export would not either.
        body = text.getvalue().replace("\u202f", "\u00a0").replace("\u2212", "-").encode("cp1252")
    else:
        body = text.getvalue().encode(encoding)
    expected = []
    for i in range(n):
        desc = f"{descs[i]} {memos[i]}" if memo else descs[i]
        expected.append((dates[i], amounts[i], " ".join(desc.split())))
    about = (
        f"{encoding} {delimiter!r} {newline!r} header={has_header} {style}/{order} {money} {dec!r}{group!r}"
    )
    return Export(body, expected, about)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_generated_exports_round_trip(export: Export) -> None:
    def opener() -> io.BytesIO:
        return io.BytesIO(export.data)

    fmt = detect_format(opener, source="fuzz.csv")
    items = list(read_statement(opener, fmt, source="fuzz.csv"))
    skipped = [s for s in items if isinstance(s, SkippedRow)]
    assert not skipped, (export.about, fmt, skipped)
    got = [(r.date, r.amount_minor, r.description) for r in items if isinstance(r, StatementRow)]
    assert got == export.expected, (export.about, fmt)


VALID = ("Date;Description;Amount\r\n24.03.2022;Bäckerei;-1.234,56\r\n08.04.2022;Lohn;2.000,00\r\n").encode(
    "cp1252"
)


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=3000), mangled()))
def test_random_bytes_raise_nothing_but_input_error(data: bytes) -> None:
    def opener() -> io.BytesIO:
        return io.BytesIO(data)

    try:
        fmt = detect_format(opener, source="noise.bin")
        for item in read_statement(opener, fmt, source="noise.bin"):
            assert isinstance(item, StatementRow | SkippedRow)
    except InputError as exc:
        assert exc.source == "noise.bin"
