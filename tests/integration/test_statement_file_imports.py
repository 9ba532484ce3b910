"""OFX/QFX and CAMT.053 files through `finjobs import enqueue` and the csv-import job, on PostgreSQL and
SQLite: atomic, re-imported as all duplicates, a failure part-way keeps nothing, bad files rejected."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from finjobs.db.bulk_load import CHUNK_ROWS
from finjobs.db.models import Transaction
from finjobs.queue.registry import fetch_job
from finjobs.queue.worker import simple_worker
from finjobs.services.users import create_user
from tests.conftest import Stack
from tests.integration.test_imports import cli_json, count, import_file

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(autouse=True)
def ana(stack: Stack) -> str:
    with stack.session() as s:
        return create_user(s, "ana@example.com").token


FILES = [  # file, rows imported, entries skipped (pending)
    ("checking_ofx1_sgml.ofx", 6, 0),
    ("bank_and_card_ofx2.ofx", 6, 0),
    ("card_unsigned.qfx", 4, 0),
    ("camt053_v02_two_accounts.xml", 6, 1),
    ("camt053_v08_card_and_fx.xml", 3, 1),
]


@pytest.mark.parametrize(("name", "rows", "pending"), FILES)
def test_a_statement_file_imports_once_and_again_as_all_duplicates(
    stack: Stack, tmp_path: Path, name: str, rows: int, pending: int
) -> None:
    path = tmp_path / name
    path.write_bytes((DATA / name).read_bytes())
    first = import_file(stack, path)
    assert first["status"] == "completed", first
    assert (first["processed"], first["imported"], first["skipped"], first["duplicates"]) == (
        rows + pending,
        rows,
        pending,
        0,
    )
    assert count(stack) == rows
    second = import_file(stack, path)
    assert (second["status"], second["imported"], second["duplicates"]) == ("completed", 0, rows)
    assert count(stack) == rows


def test_ofx_and_camt_amounts_and_currencies_are_stored_as_read(stack: Stack) -> None:
    import_file(stack, DATA / "bank_and_card_ofx2.ofx")
    import_file(stack, DATA / "camt053_v02_two_accounts.xml", "--account", "giro")
    with stack.session() as s:
        got = {
            (t.account, t.date.isoformat(), t.amount_minor, t.currency)
            for t in s.scalars(select(Transaction)).all()
        }
    assert ("default", "2026-02-11", -8999, "EUR") in got  # a EUR charge on a GBP card
    assert ("giro", "2026-02-28", 100000, "CHF") in got  # the second account of the CAMT file
    assert ("giro", "2026-02-27", -85000, "EUR") in got


def test_a_later_export_whose_text_changed_adds_only_new_fitids(stack: Stack, tmp_path: Path) -> None:
    text = (DATA / "checking_ofx1_sgml.ofx").read_bytes()
    assert import_file(stack, DATA / "checking_ofx1_sgml.ofx")["imported"] == 6
    # the bank re-words its memo and posts one more transaction: the FITIDs decide, not the text
    later = text.replace(b"DEBIT CARD PURCHASE", b"POS PURCHASE - VISA").replace(
        b"</BANKTRANLIST>",
        b"<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>20260201\r\n<TRNAMT>-9.99\r\n<FITID>202602010\r\n"
        b"<NAME>SPOTIFY USA\r\n</STMTTRN>\r\n</BANKTRANLIST>",
    )
    path = tmp_path / "feb.ofx"
    path.write_bytes(later)
    doc = import_file(stack, path)
    assert (doc["imported"], doc["duplicates"], doc["processed"]) == (1, 6, 7)
    assert count(stack) == 7


def _big_ofx(n: int, last_amount: str) -> bytes:
    head = (DATA / "checking_ofx1_sgml.ofx").read_bytes().split(b"<STMTTRN>", 1)[0]
    body = b"".join(
        b"<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>202601%02d\r\n<TRNAMT>-%d.25\r\n<FITID>F%07d\r\n"
        b"<NAME>SHOP %d\r\n</STMTTRN>\r\n" % (1 + i % 28, i % 90 + 1, i, i)
        for i in range(n)
    )
    last = b"<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>20260131\r\n<TRNAMT>%s\r\n<FITID>LAST\r\n" % (
        last_amount.encode()
    )
    tail = b"<NAME>OVERFLOW\r\n</STMTTRN>\r\n</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n"
    return head + body + last + tail


def test_an_ofx_that_fails_part_way_keeps_nothing_then_the_job_retries(stack: Stack, tmp_path: Path) -> None:
    # a first loading chunk of good rows goes into the database, then the next chunk carries an amount
    # that no 64-bit integer holds and the database refuses it: the transaction keeps nothing
    path = tmp_path / "overflow.ofx"
    path.write_bytes(_big_ofx(CHUNK_ROWS + 2000, "-99999999999999999999.00"))
    accepted = cli_json("import", "enqueue", str(path), "--user", "ana@example.com")
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    assert count(stack) == 0
    doc = cli_json("import", "status", str(accepted["id"]))
    assert doc["status"] == "running" and doc["attempts"] == 1
    assert fetch_job(stack.redis, accepted["job_id"]).get_status() == "scheduled"  # retry with backoff


def test_a_big_ofx_imports_every_row_once(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "big.ofx"
    path.write_bytes(_big_ofx(3000, "-1.00"))
    doc = import_file(stack, path)
    assert (doc["status"], doc["imported"]) == ("completed", 3001)
    with stack.session() as s:
        assert s.scalar(select(func.count(func.distinct(Transaction.fingerprint)))) == 3001
    assert import_file(stack, path)["duplicates"] == 3001


@pytest.mark.parametrize(
    ("name", "broken", "message"),
    [
        ("ing.xml", (b"</Sts>", b"</Status>"), "ing.xml line 15: not well-formed XML"),
        ("ing.xml", (b">63.45<", b">sixty<"), "ing.xml: Stmt 1 Ntry (line 11, ref 4412) Amt: 'sixty'"),
    ],
)
def test_a_bad_camt_file_is_rejected_naming_the_file_and_place_and_keeps_nothing(
    stack: Stack, tmp_path: Path, name: str, broken: tuple[bytes, bytes], message: str
) -> None:
    path = tmp_path / name
    path.write_bytes((DATA / "camt053_v08_card_and_fx.xml").read_bytes().replace(*broken, 1))
    doc = import_file(stack, path)
    assert doc["status"] == "rejected" and doc["job_status"] == "finished"  # bad input: no retry
    assert doc["error_message"].startswith(message), doc["error_message"]
    assert count(stack) == 0


def test_preview_json_shows_the_rows_of_an_ofx_file(stack: Stack) -> None:
    doc = cli_json("import", "preview", str(DATA / "card_unsigned.qfx"), "--limit", "0")
    assert doc["format"]["kind"] == "ofx" and doc["format"]["rows"] == 4
    assert [r["amount"] for r in doc["rows"]] == ["-23.18", "-112.40", "300.00", "-15.99"]
    assert doc["rows"][3]["ref"] == "5415XXXXXXXX2218/75421056052000044"
    assert count(stack) == 0


def test_api_upload_of_a_camt_file_imports_it_and_again_as_duplicates(stack: Stack, ana: str) -> None:
    from finjobs.web import create_app

    client = create_app(stack.settings).test_client()
    auth = {"Authorization": f"Bearer {ana}"}
    data = (DATA / "camt053_v02_two_accounts.xml").read_bytes()
    got = []
    for _ in range(2):
        resp = client.post(
            "/api/v1/imports",
            headers=auth,
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(data), "kontoauszug.xml"), "account": "giro"},
        )
        assert resp.status_code == 202, resp.get_json()
        simple_worker(stack.redis, ["csv-import"]).work(burst=True)
        got.append(client.get(resp.get_json()["status_url"], headers=auth).get_json())
    assert [(d["status"], d["imported"], d["skipped"], d["duplicates"]) for d in got] == [
        ("completed", 6, 1, 0),
        ("completed", 0, 1, 6),
    ]
    assert count(stack) == 6
