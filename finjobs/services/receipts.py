"""Receipt use cases: accept an upload (check, store, enqueue), scan it in a job (OCR -> fields ->
match a bank transaction or add a pending one), report status. Touches the DB, Redis, Tesseract (run_scan).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis import Redis, RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from finjobs.adapters.ocr import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS
from finjobs.config import Settings
from finjobs.db.engine import session_scope
from finjobs.db.models import Receipt, Transaction, Upload, User, utcnow
from finjobs.domain.money import format_minor, from_minor, to_minor
from finjobs.domain.receipts import MATCH_WINDOW_DAYS, TxnCandidate, match_transaction
from finjobs.errors import InputError, NotFound
from finjobs.queue.catalogue import RECEIPT_SCAN
from finjobs.queue.enqueue import enqueue
from finjobs.queue.registry import JsonJob

if TYPE_CHECKING:
    from finjobs.domain.receipts import ReceiptFields

log = logging.getLogger(__name__)

OCR_QUEUE = RECEIPT_SCAN.queue
SCAN_JOB = RECEIPT_SCAN.path  # a contract: `reconcile` enqueues accepted receipts with it
RECEIPT_MAX_BYTES = MAX_IMAGE_BYTES  # FINJOBS_MAX_UPLOAD_BYTES may lower it
RECEIPT_MAX_PIXELS = MAX_IMAGE_PIXELS
RECENT_LIMIT = 20


class UploadTooLarge(InputError):
    code = "upload_too_large"
    http_status = 413


class UnsupportedUpload(InputError):
    code = "unsupported_media_type"
    http_status = 415


def receipt_job_id(receipt_id: int) -> str:
    return RECEIPT_SCAN.job_id(receipt_id=receipt_id)


def upload_limit(settings: Settings) -> int:
    return min(settings.max_upload_bytes, RECEIPT_MAX_BYTES)


# Magic numbers of the formats Pillow decodes here. The bytes decide, never the name or the client's
# Content-Type. HEIC (iPhone) would need the pillow-heif plugin, which is not installed: say so.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"BM", "image/bmp"),
)


def sniff_image(data: bytes, *, source: str = "file") -> str:
    """The image's MIME type from its first bytes; UnsupportedUpload (415) for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for offset, magic, mime in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return mime
    if data[4:8] == b"ftyp" and data[8:12] in {b"heic", b"heix", b"mif1", b"msf1", b"hevc"}:
        raise UnsupportedUpload("HEIC photos are not supported yet: export as JPEG", source=source)
    if data[:5] == b"%PDF-":
        raise UnsupportedUpload("PDF receipts are not supported: upload a photo (JPEG, PNG)", source=source)
    raise UnsupportedUpload("not an image (expected JPEG, PNG, WebP, TIFF, GIF or BMP)", source=source)


def check_upload(filename: str, data: bytes, settings: Settings) -> str:
    """Size then type, before anything is stored; returns the sniffed MIME type."""
    limit = upload_limit(settings)
    if len(data) > limit:
        raise UploadTooLarge(f"{len(data)} bytes, over the {limit}-byte limit for receipts", source=filename)
    if not data:
        raise UnsupportedUpload("empty file, not an image", source=filename)
    return sniff_image(data, source=filename)


def _clean_filename(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (base or "receipt")[:500]


def accept_receipt(
    session: Session,
    redis: Redis,
    user_id: int,
    filename: str,
    data: bytes,
    content_type: str | None,
    *,
    settings: Settings,
) -> Receipt:
    """Check the upload, store bytes + an `accepted` receipt, COMMIT, then enqueue the scan.

    The commit comes first so the job always finds its row. If the enqueue then fails (Redis down),
    the receipt stays `accepted` and `finjobs reconcile` enqueues it later: nothing is rolled back.
    The session's transaction is committed here, so callers must not use the session afterwards.
    `content_type` (the client's claim) is ignored: the stored type is sniffed from the bytes.
    """
    name = _clean_filename(filename)
    mime = check_upload(name, data, settings)
    upload = Upload(
        user_id=user_id,
        filename=name,
        content_type=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
    session.add(upload)
    session.flush()
    receipt = Receipt(user_id=user_id, upload_id=upload.id, status="accepted", payload={})
    session.add(receipt)
    session.flush()
    receipt.job_id = receipt_job_id(receipt.id)
    session.commit()
    try:
        enqueue_scan(redis, receipt.id)
    except RedisError as exc:
        log.warning("receipt %s stored but not enqueued (reconcile will): %s", receipt.id, exc)
    return receipt


def enqueue_scan(redis: Redis, receipt_id: int) -> JsonJob:
    """Idempotent while the receipt's job is live (deterministic id)."""
    return enqueue(
        redis,
        OCR_QUEUE,
        SCAN_JOB,
        receipt_id,
        job_id=receipt_job_id(receipt_id),
        description=f"scan receipt {receipt_id}",
    )


# ------------------------------------------------------------------------------------------ the job


@dataclass(frozen=True)
class ScanOutcome:
    receipt_id: int
    status: str  # completed | failed | missing
    transaction_id: int | None = None
    matched: bool = False  # linked to a transaction that was already there
    created_transaction: bool = False  # a new pending transaction for the user to confirm
    similarity: float | None = None  # merchant vs description of the matched transaction
    error: str | None = None
    already_done: bool = False  # a replay: the receipt had been finished before; nothing changed

    def to_dict(self) -> dict[str, Any]:
        return {
            "receipt_id": self.receipt_id,
            "status": self.status,
            "transaction_id": self.transaction_id,
            "matched": self.matched,
            "created_transaction": self.created_transaction,
            "similarity": self.similarity,
            "error": self.error,
            "already_done": self.already_done,
        }


@dataclass(frozen=True)
class ScanInput:
    receipt_id: int
    filename: str
    data: bytes


def _finished(session: Session, receipt: Receipt) -> ScanOutcome:
    return ScanOutcome(
        receipt.id,
        receipt.status,
        transaction_id=receipt.transaction_id,
        matched=_matched(session, [receipt]).get(receipt.id, False),
        error=receipt.error_message,
        already_done=True,
    )


def begin_scan(session: Session, receipt_id: int) -> ScanInput | ScanOutcome:
    """Mark the receipt running and hand back its bytes, or the outcome when there is nothing to do
    (already completed/failed: a replay; or the receipt was deleted)."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        return ScanOutcome(receipt_id, "missing", error="no such receipt (deleted?)")
    if receipt.status in ("completed", "failed"):
        return _finished(session, receipt)
    upload = session.get(Upload, receipt.upload_id) if receipt.upload_id is not None else None
    if upload is None:
        return fail_scan(session, receipt_id, "the uploaded image is gone")
    receipt.status = "running"
    return ScanInput(receipt.id, upload.filename, upload.data)


def fail_scan(session: Session, receipt_id: int, message: str) -> ScanOutcome:
    """Bad input: record why; the job returns normally (a retry would read the same bytes)."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        return ScanOutcome(receipt_id, "missing", error="no such receipt (deleted?)")
    if receipt.status in ("completed", "failed"):
        return _finished(session, receipt)
    receipt.status = "failed"
    receipt.error_message = message
    receipt.finished_at = utcnow()
    return ScanOutcome(receipt_id, "failed", error=message)


def complete_scan(session: Session, receipt_id: int, fields: ReceiptFields, *, today: dt.date) -> ScanOutcome:
    """Store the fields, then link the matching transaction or add a pending one: all in the caller's
    one transaction, and a no-op when the receipt is already finished (replays, racing retries)."""
    # Row lock on PostgreSQL (SQLite serialises writers anyway): two runs cannot both finish it.
    receipt = session.scalar(select(Receipt).where(Receipt.id == receipt_id).with_for_update())
    if receipt is None:
        return ScanOutcome(receipt_id, "missing", error="no such receipt (deleted?)")
    if receipt.status in ("completed", "failed"):
        return _finished(session, receipt)
    user = session.get(User, receipt.user_id)
    user_currency = user.currency if user is not None else "USD"
    currency = fields.currency or user_currency
    total = fields.total_minor
    if total is not None and not fields.currency:
        # The parser counted hundredths for an unknown currency; rescale to the user's.
        total = to_minor(from_minor(total, "XXX"), currency)
    receipt.merchant = (fields.merchant or "")[:300] or None
    receipt.date = fields.date
    receipt.total_minor = total
    receipt.currency = currency
    receipt.payload = fields.to_dict()
    receipt.status = "completed"
    receipt.error_message = None
    receipt.finished_at = utcnow()

    if total is None or total <= 0:
        return ScanOutcome(receipt.id, "completed")  # no amount read: nothing to match or to add

    found = _match(session, receipt, total, currency)
    if found is not None:
        txn_id, similarity = found
        receipt.transaction_id = txn_id
        return ScanOutcome(receipt.id, "completed", txn_id, matched=True, similarity=similarity)

    fingerprint = f"receipt:{receipt.id}"
    txn = session.scalar(
        select(Transaction).where(
            Transaction.user_id == receipt.user_id, Transaction.fingerprint == fingerprint
        )
    )
    created = txn is None
    if txn is None:
        txn = Transaction(
            user_id=receipt.user_id,
            date=fields.date or today,
            amount_minor=-total,
            currency=currency,
            description=receipt.merchant or "receipt",
            fingerprint=fingerprint,
            status="pending",
        )
        session.add(txn)
        session.flush()
    receipt.transaction_id = txn.id
    return ScanOutcome(receipt.id, "completed", txn.id, created_transaction=created)


def _match(session: Session, receipt: Receipt, total: int, currency: str) -> tuple[int, float] | None:
    if receipt.date is None:
        return None
    window = dt.timedelta(days=MATCH_WINDOW_DAYS)
    # A transaction another receipt already explains is not a candidate (two photos, one payment).
    taken = select(Receipt.transaction_id).where(
        Receipt.transaction_id.is_not(None), Receipt.id != receipt.id, Receipt.user_id == receipt.user_id
    )
    rows = session.scalars(
        select(Transaction).where(
            Transaction.user_id == receipt.user_id,
            Transaction.amount_minor == -total,
            Transaction.date >= receipt.date - window,
            Transaction.date <= receipt.date + window,
            Transaction.id.not_in(taken),
        )
    ).all()
    candidates = [TxnCandidate(t.id, t.date, t.amount_minor, t.currency, t.description) for t in rows]
    best = match_transaction(total, currency, receipt.date, receipt.merchant, candidates)
    return None if best is None else (best[0].id, best[1])


def run_scan(receipt_id: int, *, settings: Settings, today: dt.date | None = None) -> ScanOutcome:
    """The whole job: mark running (committed, so status shows it), OCR outside any transaction, then
    one transaction for the result. Bad input -> `failed` + reason, returned; Tesseract or DB errors
    propagate so RQ retries (the receipt stays `running` until a retry finishes it)."""
    from finjobs.adapters.ocr import scan_image

    with session_scope(settings.database_url) as session:
        started = begin_scan(session, receipt_id)
    if isinstance(started, ScanOutcome):
        return started
    day = today or dt.datetime.now(settings.tz).date()
    try:
        fields = scan_image(
            started.data,
            source=started.filename,
            max_bytes=upload_limit(settings),
            max_pixels=RECEIPT_MAX_PIXELS,
            today=day,
        )
    except InputError as exc:
        with session_scope(settings.database_url) as session:
            return fail_scan(session, receipt_id, str(exc))
    with session_scope(settings.database_url) as session:
        return complete_scan(session, receipt_id, fields, today=day)


# ------------------------------------------------------------------------------------------ status


def _matched(session: Session, receipts: list[Receipt]) -> dict[int, bool]:
    """receipt id -> linked to a transaction that existed (not the pending one the scan added)."""
    linked = {r.transaction_id: r.id for r in receipts if r.transaction_id is not None}
    out = {r.id: False for r in receipts}
    if linked:
        rows = session.execute(
            select(Transaction.id, Transaction.fingerprint).where(Transaction.id.in_(list(linked)))
        ).all()
        for txn_id, fingerprint in rows:
            out[linked[txn_id]] = fingerprint != f"receipt:{linked[txn_id]}"
    return out


def receipt_view(receipt: Receipt, matched: bool) -> dict[str, Any]:
    """The wire form shared by the API and the CLI."""
    total = None
    if receipt.total_minor is not None:
        total = format_minor(receipt.total_minor, receipt.currency or "XXX")
    return {
        "id": receipt.id,
        "status": receipt.status,
        "merchant": receipt.merchant,
        "date": receipt.date.isoformat() if receipt.date else None,
        "total": total,
        "currency": receipt.currency,
        "transaction_id": receipt.transaction_id,
        "matched": matched,
        "error": receipt.error_message,
    }


def get_receipt(session: Session, user_id: int, receipt_id: int) -> dict[str, Any]:
    """One of the user's receipts; another user's answers NotFound, like a missing one."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.user_id != user_id:
        raise NotFound(f"no receipt {receipt_id}")
    return receipt_view(receipt, _matched(session, [receipt])[receipt.id])


def list_receipts(session: Session, user_id: int, *, limit: int = RECENT_LIMIT) -> list[dict[str, Any]]:
    """The user's most recent receipts, newest first."""
    if not 1 <= limit <= 100:
        raise InputError(f"limit must be between 1 and 100 (got {limit})", source="limit")
    receipts = list(
        session.scalars(
            select(Receipt)
            .where(Receipt.user_id == user_id)
            .order_by(Receipt.created_at.desc(), Receipt.id.desc())
            .limit(limit)
        )
    )
    matched = _matched(session, receipts)
    return [receipt_view(r, matched[r.id]) for r in receipts]
