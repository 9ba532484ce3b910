"""OFX/QFX and CAMT.053 readers on the crafted bank files in tests/data/: kind detection, every row's
date, signed amount, currency, description and ref, and the messages for bad files."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from finjobs.adapters.statement_files import file_kind, structured_preview, structured_reader
from finjobs.domain.fingerprints import base_key
from finjobs.domain.statements import SkippedRow, StatementRow
from finjobs.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
D = dt.date


def rows(name: str) -> list[StatementRow | SkippedRow]:
    path = DATA / name
    read = structured_reader(lambda: path.open("rb"), source=name)
    assert read is not None, name
    return list(read())


def read_bytes(data: bytes, source: str = "x") -> list[StatementRow | SkippedRow]:
    read = structured_reader(lambda: io.BytesIO(data), source=source)
    assert read is not None
    return list(read())


def brief(items: list[StatementRow | SkippedRow]) -> list[tuple]:
    return [
        ("skip", r.line, r.reason)
        if isinstance(r, SkippedRow)
        else (r.date, r.amount_minor, r.currency, r.ref)
        for r in items
    ]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("checking_ofx1_sgml.ofx", "ofx"),
        ("bank_and_card_ofx2.ofx", "ofx"),
        ("card_unsigned.qfx", "ofx"),
        ("camt053_v02_two_accounts.xml", "camt"),
        ("camt053_v08_card_and_fx.xml", "camt"),
    ],
)
def test_the_kind_is_told_by_content_not_by_name(name: str, kind: str, tmp_path: Path) -> None:
    renamed = tmp_path / "download.csv"
    renamed.write_bytes((DATA / name).read_bytes())
    assert file_kind(lambda: renamed.open("rb")) == kind


def test_a_csv_is_left_to_the_csv_reader() -> None:
    data = b"Date,Description,Amount\n2026-01-02,<OFX shop>,-1.00\n"
    assert structured_reader(lambda: io.BytesIO(data), source="a.csv") is None
    assert structured_preview(lambda: io.BytesIO(data), source="a.csv") is None


def test_ofx1_sgml_checking() -> None:
    got = rows("checking_ofx1_sgml.ofx")
    acct = "000123456789/"
    assert brief(got) == [
        (D(2026, 1, 2), -475, "USD", acct + "202601020"),
        (D(2026, 1, 2), -475, "USD", acct + "202601021"),  # the same coffee twice: two FITIDs, two rows
        (D(2026, 1, 15), 245000, "USD", acct + "202601150"),
        (D(2026, 1, 18), -120000, "USD", acct + "202601180"),
        (D(2026, 1, 31), -8640, "USD", acct + "202601310"),  # 23:30 EST stays on the 31st (UTC: Feb 1)
        (D(2026, 1, 31), -1200, "USD", acct + "202601311"),
    ]
    descriptions = [r.description for r in got if isinstance(r, StatementRow)]
    assert descriptions[0] == "STARBUCKS STORE 00512 DEBIT CARD PURCHASE"
    assert descriptions[3] == "Check 1043"
    assert descriptions[4] == "PROCTER & GAMBLE STORE"
    assert [r.line for r in got] == [1, 2, 3, 4, 5, 6]


def test_ofx2_xml_with_a_bank_and_a_card_statement() -> None:
    got = rows("bank_and_card_ofx2.ofx")
    sav, card = "30963412345678/", "4929000000006781/"
    assert brief(got) == [
        (D(2026, 2, 3), 50000, "GBP", sav + "SAV-20260203-0001"),
        (D(2026, 2, 28), 317, "GBP", sav + "SAV-20260228-0001"),
        (D(2026, 2, 6), -5420, "GBP", card + "2026020624492150000000001"),
        (D(2026, 2, 11), -8999, "EUR", card + "2026021124492150000000002"),  # <CURRENCY><CURSYM>EUR
        (D(2026, 2, 20), 25000, "GBP", card + "2026022024492150000000003"),
        (D(2026, 2, 22), 1250, "GBP", card + "2026022224492150000000004"),
    ]
    assert got[2].description == "TESCO STORES 2041 LONDON GB"  # type: ignore[union-attr]


def test_qfx_card_with_unsigned_debits_and_intuit_tags() -> None:
    got = rows("card_unsigned.qfx")
    assert [r.amount_minor for r in got if isinstance(r, StatementRow)] == [-2318, -11240, 30000, -1599]


def test_one_positive_debit_among_signed_ones_is_left_as_written() -> None:
    text = (DATA / "card_unsigned.qfx").read_bytes()
    signed = text.replace(b"<TRNAMT>23.18", b"<TRNAMT>-23.18").replace(b"<TRNAMT>112.40", b"<TRNAMT>-112.40")
    got = read_bytes(signed)
    assert [r.amount_minor for r in got if isinstance(r, StatementRow)] == [-2318, -11240, 30000, 1599]


def test_camt053_v02_two_accounts() -> None:
    got = rows("camt053_v02_two_accounts.xml")
    de, ch = "DE89370400440532013000/", "CH9300762011623852957/"
    assert brief(got) == [
        (D(2026, 2, 27), -85000, "EUR", de + "2026022700123456"),  # AcctSvcrRef
        (D(2026, 2, 27), 312055, "EUR", de + "000000042"),  # NtryRef only
        (D(2026, 2, 28), -4790, "EUR", None),  # no ref: content fingerprint; DtTm's own date
        (D(2026, 3, 1), -4790, "EUR", de + "2026030100007788"),  # a reversal, DBIT as written
        ("skip", 81, "entry status PDNG: not booked yet, not imported"),
        (D(2026, 3, 1), -25400, "EUR", de + "2026030100009911"),  # a batch of two is one entry
        (D(2026, 2, 28), 100000, "CHF", ch + "ZKB-2026-0228-77"),
    ]
    texts = [r.description for r in got if isinstance(r, StatementRow)]
    assert texts[0] == "Hausverwaltung Schmidt GmbH Miete Maerz 2026 Whg 3 links"  # payee of a debit
    assert texts[1] == "Beispiel AG LOHN/GEHALT 02/2026"  # payer of a credit
    assert texts[2] == "KARTENZAHLUNG REWE MARKT GMBH BERLIN"  # no details: AddtlNtryInf
    assert got[0].line == 26  # the line its <Ntry> starts on


def test_camt053_v08_party_names_and_notprovided_refs() -> None:
    got = rows("camt053_v08_card_and_fx.xml")
    nl = "NL91INGB0002445588/"
    assert brief(got) == [
        (D(2026, 4, 2), -6345, "EUR", nl + "4412"),  # AcctSvcrRef NOTPROVIDED: NtryRef
        (D(2026, 4, 3), 185000, "EUR", nl + "4413"),
        (D(2026, 4, 4), -2210, "EUR", None),  # the account's amount, not the instructed USD 24.00
        ("skip", 49, "entry status PDNG: not booked yet, not imported"),
    ]
    assert got[0].description == "Albert Heijn 1403 Pasvolgnr:012 02.04.2026/18:22"  # type: ignore[union-attr]


def test_a_ref_keys_the_row_whatever_its_text_and_date_say() -> None:
    day = D(2026, 1, 2)
    a = base_key("main", day, -475, "USD", "STARBUCKS", "000123456789/202601020")
    assert a == base_key(
        " Main", day + dt.timedelta(days=1), -500, "USD", "Starbucks #512", "000123456789/202601020"
    )
    assert a != base_key("main", day, -475, "USD", "STARBUCKS", "000123456789/202601021")
    assert a != base_key("savings", day, -475, "USD", "STARBUCKS", "000123456789/202601020")
    assert base_key("main", day, -475, "USD", "STARBUCKS") != a


def test_preview_shows_rows_refs_and_skipped_entries() -> None:
    path = DATA / "camt053_v02_two_accounts.xml"
    doc = structured_preview(lambda: path.open("rb"), source=path.name, limit=2)
    assert doc is not None
    assert doc["format"]["kind"] == "camt" and doc["format"]["rows"] == 6
    assert "entry id on 5 of 6 rows" in doc["format"]["fingerprint"]
    assert doc["rows"][0] == {
        "date": "2026-02-27",
        "amount": "-850.00",
        "currency": "EUR",
        "description": "Hausverwaltung Schmidt GmbH Miete Maerz 2026 Whg 3 links",
        "ref": "DE89370400440532013000/2026022700123456",
    }
    assert len(doc["rows"]) == 2 and doc["skipped"] == [{"line": 81, "reason": doc["skipped"][0]["reason"]}]


# ------------------------------------------------------------------------------- bad files


def test_a_broken_ofx_header_names_the_file() -> None:
    with pytest.raises(InputError, match=r"^bad\.ofx: not a readable OFX file"):
        read_bytes(b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BANKMSGSRSV1></BAR>", "bad.ofx")


def test_a_bad_ofx_amount_names_the_statement_transaction_and_element() -> None:
    text = (DATA / "checking_ofx1_sgml.ofx").read_bytes().replace(b"<TRNAMT>2450.00", b"<TRNAMT>2,450.00")
    with pytest.raises(InputError) as caught:
        read_bytes(text, "chk.ofx")
    assert (
        str(caught.value)
        == "chk.ofx: STMTRS 1 STMTTRN 3 (FITID 202601150) TRNAMT: '2,450.00' is not an amount"
    )


def test_an_ofx_without_a_bank_statement_is_refused() -> None:
    text = b"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
    text += b"CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n<OFX></OFX>\r\n"
    with pytest.raises(InputError, match="no bank or credit card statement"):
        read_bytes(text, "empty.ofx")


def test_malformed_camt_xml_names_the_line() -> None:
    text = (DATA / "camt053_v08_card_and_fx.xml").read_bytes().replace(b"</Sts>", b"</Status>", 2)
    with pytest.raises(InputError) as caught:
        read_bytes(text, "ing.xml")
    assert str(caught.value).startswith("ing.xml line 15: not well-formed XML: mismatched tag")


def test_a_bad_camt_amount_names_the_entry_and_element() -> None:
    text = (DATA / "camt053_v02_two_accounts.xml").read_bytes().replace(b">3120.55<", b">3.120,55<")
    with pytest.raises(InputError) as caught:
        read_bytes(text, "de.xml")
    assert (
        str(caught.value) == "de.xml: Stmt 1 Ntry (line 45, ref 000000042) Amt: '3.120,55' is not an amount"
    )


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_camt_with_a_dtd_is_refused_before_any_entity_is_expanded(prolog: bytes) -> None:
    text = (DATA / "camt053_v08_card_and_fx.xml").read_bytes()
    text = text.replace(b"?>\n", b"?>\n" + prolog + b"\n", 1).replace(b"<Nm>GITHUB INC", b"<Nm>&b;&x;")
    with pytest.raises(InputError, match="declares a DTD or entities: refused"):
        read_bytes(text, "evil.xml")


def test_another_iso20022_message_is_not_read_as_a_statement() -> None:
    text = (DATA / "camt053_v08_card_and_fx.xml").read_bytes().replace(b"camt.053.001.08", b"camt.054.001.08")
    assert structured_reader(lambda: io.BytesIO(text), source="n.xml") is None
