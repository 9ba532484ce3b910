"""Receipt OCR as a job on real PostgreSQL/SQLite, real Redis and real Tesseract: accept -> scan ->
match a bank transaction or add one pending; replays; bad images; the API and the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
import redis as redis_lib
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from finjobs.cli import ocr as ocr_cli
from finjobs.cli.app import FinjobsGroup
from finjobs.db.engine import session_scope
from finjobs.db.models import Receipt, Transaction, Upload
from finjobs.queue.registry import QUEUES, fetch_job
from finjobs.queue.worker import preload, simple_worker
from finjobs.services import receipts as svc
from finjobs.services.users import create_user
from tests.conftest import Stack, wait_until
from tests.support.receipts import (
    RECEIPTS,
    have_photos,
    label,
    photo,
    png_bomb,
    synthetic_receipt,
    truncated_jpeg,
)

pytest.importorskip("pytesseract")
pytestmark = pytest.mark.slow
needs_photos = pytest.mark.skipif(not have_photos(), reason="shared receipt photos not present")

SYNTH_DATE = dt.date(2018, 3, 14)


def make_user(stack: Stack, email: str = "ana@example.com", currency: str = "MYR") -> tuple[int, str]:
    with stack.session() as s:
        created = create_user(s, email, currency=currency)
        return created.id, created.token


def accept(stack: Stack, user_id: int, data: bytes, filename: str = "r.png") -> int:
    with stack.session() as s:
        receipt = svc.accept_receipt(
            s, stack.redis, user_id, filename, data, "image/png", settings=stack.settings
        )
        return receipt.id


def work(stack: Stack) -> None:
    simple_worker(stack.redis, ["ocr-processing"]).work(burst=True)


def add_txn(stack: Stack, user_id: int, *, day: dt.date, minor: int, desc: str, cur: str = "MYR") -> int:
    with stack.session() as s:
        txn = Transaction(
            user_id=user_id,
            date=day,
            amount_minor=minor,
            currency=cur,
            description=desc,
            fingerprint=f"bank-{desc}-{day}-{minor}",
        )
        s.add(txn)
        s.flush()
        return txn.id


def txn_count(stack: Stack) -> int:
    with stack.session() as s:
        return int(s.scalar(select(func.count()).select_from(Transaction)) or 0)


def receipt_row(stack: Stack, receipt_id: int) -> Receipt:
    with stack.session() as s:
        row = s.get(Receipt, receipt_id)
        assert row is not None
        return row


def test_the_ocr_queue_preloads_the_ocr_adapter() -> None:
    assert QUEUES["ocr-processing"].preload == ("finjobs.adapters.ocr",)
    assert preload(["ocr-processing"]) == ["finjobs.adapters.ocr"]


@needs_photos
def test_scan_matches_the_existing_bank_transaction_instead_of_adding_one(stack: Stack) -> None:
    user_id, _ = make_user(stack)
    key = label("045")  # UNIHAKKA INTERNATIONAL SDN BHD, 27 MAR 2018, $6.90
    when = dt.date(2018, 3, 27)
    minor = -690
    assert key["total"] == "$6.90"
    bank = add_txn(stack, user_id, day=when + dt.timedelta(days=2), minor=minor, desc="POS UNIHAKKA INTL JB")
    # same amount and window, unrelated shop: the description decides between the two
    add_txn(stack, user_id, day=when + dt.timedelta(days=1), minor=minor, desc="PETRONAS TAMPOI")
    add_txn(
        stack, user_id, day=when + dt.timedelta(days=9), minor=minor, desc="UNIHAKKA late"
    )  # out of window
    add_txn(stack, user_id, day=when, minor=-691, desc="UNIHAKKA other amount")
    before = txn_count(stack)

    receipt_id = accept(stack, user_id, photo("045"), "045.jpg")
    assert receipt_row(stack, receipt_id).status == "accepted"
    work(stack)

    job = fetch_job(stack.redis, f"receipt-{receipt_id}")
    assert job is not None and job.get_status() == "finished"
    result = job.return_value()
    assert result["matched"] is True and result["transaction_id"] == bank
    assert result["similarity"] >= 0.5
    row = receipt_row(stack, receipt_id)
    assert (row.status, row.transaction_id, row.total_minor, row.currency) == ("completed", bank, 690, "MYR")
    assert row.date == when
    assert row.payload["total"] == "6.90"
    assert txn_count(stack) == before  # matched, not duplicated
    with stack.session() as s:
        view = svc.get_receipt(s, user_id, receipt_id)
    assert view["matched"] is True and view["transaction_id"] == bank


def test_scan_adds_one_pending_transaction_and_a_replay_changes_nothing(stack: Stack) -> None:
    user_id, _ = make_user(stack)
    # a transaction of another user with the same amount and date is never a candidate
    other_id, _ = make_user(stack, "bob@example.com")
    add_txn(stack, other_id, day=SYNTH_DATE, minor=-1234, desc="ACME HARDWARE")
    receipt_id = accept(stack, user_id, synthetic_receipt())
    work(stack)

    row = receipt_row(stack, receipt_id)
    assert row.status == "completed" and row.error_message is None
    assert (row.merchant, row.date, row.total_minor, row.currency) == (
        "ACME HARDWARE SDN BHD",
        SYNTH_DATE,
        1234,
        "MYR",
    )
    with stack.session() as s:
        txn = s.get(Transaction, row.transaction_id)
        assert txn is not None
        assert (txn.user_id, txn.status, txn.amount_minor, txn.date) == (
            user_id,
            "pending",
            -1234,
            SYNTH_DATE,
        )
        assert (txn.description, txn.fingerprint) == ("ACME HARDWARE SDN BHD", f"receipt:{receipt_id}")
        assert svc.get_receipt(s, user_id, receipt_id)["matched"] is False
    count, finished_at, payload = txn_count(stack), row.finished_at, row.payload

    # replay: the same job id again, once the first run has finished
    svc.enqueue_scan(stack.redis, receipt_id)
    work(stack)
    job = fetch_job(stack.redis, f"receipt-{receipt_id}")
    assert job is not None and job.return_value()["already_done"] is True
    again = receipt_row(stack, receipt_id)
    assert txn_count(stack) == count
    assert (again.transaction_id, again.finished_at, again.payload) == (
        row.transaction_id,
        finished_at,
        payload,
    )


def test_a_crash_while_finishing_leaves_nothing_half_done(stack: Stack) -> None:
    from finjobs.adapters.ocr import scan_image

    user_id, _ = make_user(stack)
    data = synthetic_receipt()
    with stack.session() as s:
        receipt = svc.accept_receipt(
            s, redis_lib.Redis.from_url("redis://127.0.0.1:1/0"), user_id, "r.png", data, None,
            settings=stack.settings,
        )  # fmt: skip
    receipt_id = receipt.id
    with stack.session() as s:
        started = svc.begin_scan(s, receipt_id)
    assert isinstance(started, svc.ScanInput) and started.data == data
    fields = scan_image(started.data)
    with pytest.raises(RuntimeError, match="power cut"), session_scope(stack.db_url) as s:
        outcome = svc.complete_scan(s, receipt_id, fields, today=SYNTH_DATE)
        assert outcome.created_transaction
        raise RuntimeError("power cut")  # after the pending transaction was written, before commit
    row = receipt_row(stack, receipt_id)
    assert (row.status, row.transaction_id, row.total_minor) == ("running", None, None)
    assert txn_count(stack) == 0
    # the retry (here: the job enqueued anew) finishes the work exactly once
    svc.enqueue_scan(stack.redis, receipt_id)
    work(stack)
    assert receipt_row(stack, receipt_id).status == "completed"
    assert txn_count(stack) == 1


def test_accept_checks_size_and_type_before_storing_anything(stack: Stack) -> None:
    user_id, _ = make_user(stack)
    small = type(stack.settings)(**{**stack.settings.__dict__, "max_upload_bytes": 1000})
    cases: list[tuple[bytes, type[Exception], str]] = [
        (b"Date,Amount\n2018-01-01,12.00\n", svc.UnsupportedUpload, "not an image"),
        (b"%PDF-1.7\n...", svc.UnsupportedUpload, "PDF receipts are not supported"),
        (b"\0\0\0\x18ftypheic\0\0\0\0", svc.UnsupportedUpload, "HEIC"),
        (b"", svc.UnsupportedUpload, "empty file"),
    ]
    for data, error, message in cases:
        with pytest.raises(error, match=message), stack.session() as s:
            svc.accept_receipt(s, stack.redis, user_id, "x", data, "image/jpeg", settings=stack.settings)
    with pytest.raises(svc.UploadTooLarge, match=r"over the 1000-byte limit"), stack.session() as s:
        svc.accept_receipt(s, stack.redis, user_id, "big.png", synthetic_receipt(), None, settings=small)
    with stack.session() as s:
        assert s.scalar(select(func.count()).select_from(Upload)) == 0
        assert s.scalar(select(func.count()).select_from(Receipt)) == 0
    assert svc.sniff_image(synthetic_receipt(fmt="WEBP")) == "image/webp"
    assert svc.sniff_image(synthetic_receipt(fmt="TIFF")) == "image/tiff"
    assert svc.sniff_image(synthetic_receipt(fmt="JPEG")) == "image/jpeg"


def test_when_the_enqueue_fails_the_receipt_stays_accepted_for_reconcile(stack: Stack) -> None:
    user_id, _ = make_user(stack)
    down = redis_lib.Redis.from_url("redis://127.0.0.1:1/0")
    with stack.session() as s:
        receipt = svc.accept_receipt(
            s, down, user_id, "r.png", synthetic_receipt(), None, settings=stack.settings
        )
    row = receipt_row(stack, receipt.id)
    assert (row.status, row.job_id) == ("accepted", f"receipt-{receipt.id}")
    with stack.session() as s:
        upload = s.get(Upload, row.upload_id)
        assert upload is not None and upload.content_type == "image/png" and upload.size == len(upload.data)
    assert fetch_job(stack.redis, f"receipt-{receipt.id}") is None
    # what reconcile does later
    svc.enqueue_scan(stack.redis, receipt.id)
    work(stack)
    assert receipt_row(stack, receipt.id).status == "completed"


def test_a_tesseract_crash_is_retried_not_recorded_as_bad_input(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pytesseract

    user_id, _ = make_user(stack)
    receipt_id = accept(stack, user_id, synthetic_receipt())
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    work(stack)
    job = fetch_job(stack.redis, f"receipt-{receipt_id}")
    assert job is not None and job.get_status() == "scheduled"  # retry with backoff
    row = receipt_row(stack, receipt_id)
    assert (row.status, row.error_message, row.transaction_id) == ("running", None, None)
    assert txn_count(stack) == 0


def test_api_upload_status_list_and_other_users(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from finjobs import web

    client = web.create_app(stack.settings).test_client()
    _, token = make_user(stack)
    _, other_token = make_user(stack, "bob@example.com")
    auth = {"Authorization": f"Bearer {token}"}

    def post(data: bytes, name: str, headers: dict[str, str] = auth) -> object:
        return client.post(
            "/api/v1/receipts", data={"file": (io.BytesIO(data), name)}, headers=headers,
            content_type="multipart/form-data",
        )  # fmt: skip

    resp = post(synthetic_receipt(), "r.png")
    assert resp.status_code == 202, resp.get_json()
    doc = resp.get_json()
    rid = doc["id"]
    assert doc == {"id": rid, "status": "accepted", "status_url": f"/api/v1/receipts/{rid}"}
    assert resp.headers["Location"] == doc["status_url"]
    assert client.get(doc["status_url"], headers=auth).get_json()["status"] == "accepted"
    work(stack)
    status = client.get(doc["status_url"], headers=auth)
    assert status.status_code == 200
    body = status.get_json()
    assert body == {
        "id": rid,
        "status": "completed",
        "merchant": "ACME HARDWARE SDN BHD",
        "date": "2018-03-14",
        "total": "12.34",
        "currency": "MYR",
        "transaction_id": body["transaction_id"],
        "matched": False,
        "error": None,
    }
    assert isinstance(body["transaction_id"], int)
    second = post(synthetic_receipt(fmt="JPEG"), "r2.jpg").get_json()["id"]
    listed = client.get("/api/v1/receipts", headers=auth).get_json()["receipts"]
    assert [r["id"] for r in listed] == [second, rid]
    assert listed[1] == body

    other = {"Authorization": f"Bearer {other_token}"}
    missing = client.get(doc["status_url"], headers=other)
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "not_found", "message": f"no receipt {rid}"}
    assert client.get("/api/v1/receipts", headers=other).get_json() == {"receipts": []}
    assert client.get(doc["status_url"]).status_code == 401

    text = post(b"not an image at all", "notes.txt")
    assert text.status_code == 415
    assert text.get_json()["error"] == "unsupported_media_type"
    assert set(text.get_json()) == {"error", "message"}
    no_file = client.post("/api/v1/receipts", data={}, headers=auth, content_type="multipart/form-data")
    assert no_file.status_code == 422

    small = type(stack.settings)(**{**stack.settings.__dict__, "max_upload_bytes": 2000})
    small_client = web.create_app(small).test_client()
    big = small_client.post(
        "/api/v1/receipts", data={"file": (io.BytesIO(synthetic_receipt()), "big.png")}, headers=auth,
        content_type="multipart/form-data",
    )  # fmt: skip
    assert big.status_code == 413
    assert set(big.get_json()) == {"error", "message"}
    with stack.session() as s:
        assert s.scalar(select(func.count()).select_from(Receipt)) == 2

    spec = client.get("/api/v1/openapi.json").get_json()
    post_spec = spec["paths"]["/api/v1/receipts"]["post"]["responses"]
    assert set(post_spec) == {"202", "401", "413", "415", "422", "429"}
    receipt_schema = spec["components"]["schemas"]["Receipt"]
    assert set(receipt_schema["required"]) == set(body)
    assert set(spec["components"]["schemas"]["ReceiptAccepted"]["required"]) == set(doc)


def _cli() -> typer.Typer:
    root = typer.Typer(cls=FinjobsGroup)
    root.add_typer(ocr_cli.app, name="ocr")
    return root


@needs_photos
def test_cli_scan_json_shape_on_a_real_photo() -> None:
    out = CliRunner().invoke(_cli(), ["ocr", "scan", str(RECEIPTS / "img" / "045.jpg"), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert list(doc) == ["merchant", "date", "total", "currency", "items", "confidence"]
    assert (doc["date"], doc["total"], doc["currency"]) == ("2018-03-27", "6.90", "MYR")
    assert set(doc["confidence"]) == {"merchant", "date", "total"}
    assert all(set(it) == {"description", "quantity", "price"} for it in doc["items"])


def test_cli_scan_bad_file_is_one_red_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("hello")
    out = CliRunner().invoke(_cli(), ["ocr", "scan", str(bad), "--json"])
    assert out.exit_code == 1
    assert "error: notes.jpg: not an image" in out.stderr
    assert out.stdout == ""


def test_cli_enqueue_then_worker(stack: Stack, tmp_path: Path) -> None:
    user_id, _ = make_user(stack)
    image = tmp_path / "receipt.png"
    image.write_bytes(synthetic_receipt())
    out = CliRunner().invoke(_cli(), ["ocr", "enqueue", str(image), "--user", "ana@example.com", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc == {"id": doc["id"], "status": "accepted", "job_id": f"receipt-{doc['id']}"}
    work(stack)
    row = receipt_row(stack, doc["id"])
    assert (row.user_id, row.status, row.total_minor) == (user_id, "completed", 1234)


# ----------------------------------------------------------------------- a real forked worker process


def _store_raw(stack: Stack, user_id: int, data: bytes, name: str) -> int:
    """Bytes that skipped the upload checks (an older client, a restored backup): the job must cope."""
    with stack.session() as s:
        upload = Upload(user_id=user_id, filename=name, size=len(data), sha256="-", data=data)
        s.add(upload)
        s.flush()
        receipt = Receipt(user_id=user_id, upload_id=upload.id, payload={})
        s.add(receipt)
        s.flush()
        return receipt.id


def test_forked_worker_records_bad_images_and_keeps_working(
    pg_stack: Stack, start_worker, tmp_path: Path
) -> None:
    user_id, _ = make_user(pg_stack)
    bad = {
        "notes.txt": (b"Date,Amount\n2018-01-01,12.00\n", "notes.txt: not an image"),
        "cut.jpg": (truncated_jpeg(), "cut.jpg: corrupt or truncated image"),
        "bomb.png": (png_bomb(), "bomb.png: image is 8000x8000 pixels"),
    }
    ids = {name: _store_raw(pg_stack, user_id, data, name) for name, (data, _) in bad.items()}
    for rid in ids.values():
        svc.enqueue_scan(pg_stack.redis, rid)

    # SIGKILLed by the fixture at the end: graceful shutdown is not the point here
    worker = start_worker("ocr-processing")
    for name, rid in ids.items():
        wait_until(lambda rid=rid: receipt_row(pg_stack, rid).status == "failed", 60, f"{name} to fail")
        row = receipt_row(pg_stack, rid)
        assert bad[name][1] in (row.error_message or ""), row.error_message
        job = fetch_job(pg_stack.redis, f"receipt-{rid}")
        assert job is not None
        # the row commits inside the job; the worker marks the job finished just after it returns
        wait_until(lambda job=job: job.get_status(refresh=True) != "started", 30, f"{name}'s job to end")
        assert job.get_status() == "finished"  # returned normally: no retry
        assert job.return_value()["status"] == "failed"
    assert worker.poll() is None

    # the same worker still scans a good receipt, and `ocr enqueue --wait` follows it to the end
    image = tmp_path / "good.png"
    image.write_bytes(synthetic_receipt())
    out = CliRunner().invoke(
        _cli(),
        ["ocr", "enqueue", str(image), "--user", str(user_id), "--wait", "--json", "--timeout", "60"],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert (doc["status"], doc["job_status"], doc["total"], doc["matched"]) == (
        "completed",
        "finished",
        "12.34",
        False,
    )
    assert worker.poll() is None
    assert txn_count(pg_stack) == 1  # only the good receipt added a (pending) transaction
