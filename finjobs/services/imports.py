"""CSV import use cases: accept (store the bytes, then enqueue), run (one transaction, idempotent),
status, list, undo. Shared by `finjobs import ...`, the web API and the csv-import job.

Atomicity: every row of an import and its `completed` status commit in ONE transaction, or nothing
does. Idempotency: rows carry a per-user unique fingerprint (see domain/fingerprints.py) and are
inserted with ON CONFLICT DO NOTHING, so a retry, a replay or an overlapping export adds nothing twice.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from redis import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from finjobs.adapters.statement_files import structured_reader
from finjobs.config import Settings
from finjobs.db import bulk_load
from finjobs.db.blobs import upload_opener
from finjobs.db.bulk_load import CHUNK_ROWS, Keyed
from finjobs.db.engine import get_engine, session_scope
from finjobs.db.models import CsvImportLog, ImportPreset, Transaction, Upload, utcnow
from finjobs.domain.category_rules import RuleSet
from finjobs.domain.category_starter import rule_source
from finjobs.domain.fingerprints import base_keyer
from finjobs.domain.statements import (
    ACCOUNT_TYPES,
    PRESETS,
    ColumnPreset,
    SkippedRow,
    StatementFormat,
    StatementRow,
    detect_format,
    parse_column_map,
    read_statement,
)
from finjobs.errors import InputError, NotFound
from finjobs.queue import keys
from finjobs.queue.catalogue import IMPORT
from finjobs.queue.enqueue import enqueue_job
from finjobs.queue.registry import JsonJob, fetch_job
from finjobs.services.categories import rule_set
from finjobs.services.forked import ProducedInChild, batches
from finjobs.services.statement_choices import answers_for

FINAL = {"completed", "rejected", "failed", "undone"}
MAX_ERRORS_KEPT = 1000  # skipped-row reasons stored per import; the counts are always exact
PROGRESS_CHECK_ROWS = 100  # the clock is read every this many rows
PROGRESS_SECONDS = 0.25  # progress is written at most this often (a write per 1000 rows was 15% of
# the parser's time at 30k rows/s: a transaction and a Redis round trip each)
CATEGORISED_BY = (
    "rule",
    "file",
    "learnt",
    "starter",
)  # summary()["categorised"]: rows given a category, by source


def import_job_id(import_id: int) -> str:
    return IMPORT.job_id(import_id=import_id)


# ------------------------------------------------------------------------------------------ accept


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """Validate import options up front (a typo must not wait for a worker to be reported)."""
    out: dict[str, Any] = {}
    account_type = options.get("account_type") or "checking"
    if account_type not in ACCOUNT_TYPES:
        raise InputError(
            f"account type must be one of {', '.join(ACCOUNT_TYPES)} (got {account_type!r})",
            source="account_type",
        )
    out["account_type"] = account_type
    if options.get("preset"):
        out["preset"] = str(options["preset"])
    column_map = options.get("column_map")
    if isinstance(column_map, str):
        column_map = parse_column_map(column_map) if column_map.strip() else None
    if column_map:
        out["column_map"] = dict(column_map)
    if options.get("currency"):
        out["currency"] = str(options["currency"]).upper()
    if options.get("locale"):
        out["locale"] = str(options["locale"]).strip()
    return out


def accept_import(
    session: Session,
    user_id: int,
    filename: str,
    data: bytes,
    *,
    settings: Settings,
    account: str = "default",
    options: dict[str, Any] | None = None,
) -> CsvImportLog:
    """Store the file's bytes and an `accepted` import log. The caller commits, then enqueues:
    a worker on another host reads the bytes from the database, never from a local path."""
    if not data:
        raise InputError("the file is empty", source=filename)
    if len(data) > settings.max_upload_bytes:
        raise InputError(
            f"the file is {len(data):,} bytes; the limit is {settings.max_upload_bytes:,}", source=filename
        )
    account = (account or "default").strip()[:200] or "default"
    if any(ord(c) < 32 or c == "\x7f" for c in account):
        raise InputError("the account name must not contain control characters", source="account")
    checked = check_options(options or {})
    if checked.get("preset"):
        # the job gets the preset itself: a retry imports the same way even if the preset changes meanwhile
        checked["preset_definition"] = resolve_preset(session, user_id, checked["preset"]).to_dict()
    upload = Upload(
        user_id=user_id,
        filename=filename[:500],
        content_type="text/csv",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
    session.add(upload)
    session.flush()
    log = CsvImportLog(
        user_id=user_id,
        upload_id=upload.id,
        account=account,
        filename=filename[:500],
        options=checked,
        status="accepted",
    )
    session.add(log)
    session.flush()
    return log


def enqueue_import(redis: Redis, import_id: int) -> JsonJob:
    return enqueue_job(
        redis,
        IMPORT,
        import_id,
        job_id=import_job_id(import_id),
        description=f"csv import {import_id}",
    )


# ----------------------------------------------------------------------------------------- presets


def resolve_preset(session: Session, user_id: int | None, name: str) -> ColumnPreset:
    """The user's saved preset of that name, else the built-in one."""
    if user_id is not None:
        row = session.scalar(
            select(ImportPreset).where(ImportPreset.user_id == user_id, ImportPreset.name == name)
        )
        if row is not None:
            return ColumnPreset.from_dict(row.definition)
    if name in PRESETS:
        return PRESETS[name]
    known = sorted({*PRESETS, *(p["name"] for p in list_presets(session, user_id))} if user_id else PRESETS)
    raise InputError(f"unknown preset {name!r} (known: {', '.join(known)})", source="preset")


def save_preset(session: Session, user_id: int, preset: ColumnPreset) -> dict[str, Any]:
    """Create or replace one of the user's presets (validated as a ColumnPreset first)."""
    checked = ColumnPreset.from_dict(preset.to_dict())
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", checked.name):
        raise InputError("a preset name is 1-100 letters, digits, '_', '-' or '.'", source="name")
    row = session.scalar(
        select(ImportPreset).where(ImportPreset.user_id == user_id, ImportPreset.name == checked.name)
    )
    if row is None:
        session.add(ImportPreset(user_id=user_id, name=checked.name, definition=checked.to_dict()))
    else:
        row.definition = checked.to_dict()
    return {**checked.to_dict(), "source": "saved"}


def list_presets(session: Session, user_id: int | None) -> list[dict[str, Any]]:
    """The user's saved presets, then the built-in ones (a saved one shadows a built-in of its name)."""
    saved = []
    if user_id is not None:
        rows = session.scalars(
            select(ImportPreset).where(ImportPreset.user_id == user_id).order_by(ImportPreset.name)
        )
        saved = [{**row.definition, "source": "saved"} for row in rows]
    names = {p["name"] for p in saved}
    builtin = [{**p.to_dict(), "source": "built-in"} for n, p in sorted(PRESETS.items()) if n not in names]
    return saved + builtin


def delete_preset(session: Session, user_id: int, name: str) -> None:
    result = session.execute(
        delete(ImportPreset).where(ImportPreset.user_id == user_id, ImportPreset.name == name)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"no saved preset {name!r}")


# --------------------------------------------------------------------------------------------- run


@dataclass
class Counts:
    processed: int = 0
    imported: int = 0
    skipped: int = 0
    duplicates: int = 0
    total: int | None = None

    def as_progress(self) -> dict[str, Any]:
        return {
            "processed": self.processed,
            "total": self.total,
            "imported": self.imported,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
        }


Reporter = Callable[[Counts], None]


Opener = Callable[[], IO[bytes]]


def _format_for(
    opener: Opener, log: CsvImportLog, session: Session, settings: Settings | None = None
) -> StatementFormat:
    """Detect the file's format and keep it (evidence, open questions, assumptions) on the log."""
    opts = log.options or {}
    definition = opts.get("preset_definition")
    fmt = detect_format(
        opener,
        source=log.filename or f"import {log.id}",
        preset=ColumnPreset.from_dict(definition) if definition else opts.get("preset"),
        column_map=opts.get("column_map"),
        account_type=opts.get("account_type", "checking"),
        default_currency=opts.get("currency", "USD"),
        **answers_for(session, log, settings).as_options(),
    )
    log.detected_format = fmt.to_dict()
    return fmt


def _csv_reader(
    opener: Opener, fmt: StatementFormat, source: str
) -> Callable[[], Iterable[StatementRow | SkippedRow]]:
    return lambda: read_statement(opener, fmt, source=source, balances=False)


def run_import(
    settings: Settings, redis: Redis, import_id: int, *, report: Reporter | None = None
) -> dict[str, Any]:
    """The csv-import job's work. Returns the import's summary. A completed (or rejected, undone)
    import is returned as it is: replaying its job changes nothing."""
    url = settings.database_url
    with session_scope(url) as s:
        log = s.get(CsvImportLog, import_id)
        if log is None:
            raise NotFound(f"no import {import_id}")
        if log.status in FINAL:
            return summary(log)
        upload = s.get(Upload, log.upload_id) if log.upload_id else None
        if upload is None:
            raise NotFound(f"import {import_id} has no stored file")
        # streamed from the database in chunks: memory stays flat however big the file
        opener = upload_opener(url, upload.id, upload.size)
        log.status, log.started_at, log.attempts = "running", utcnow(), log.attempts + 1
        log.error_message = None
        user_id, account = log.user_id, log.account
        rules = rule_set(s, user_id, account)  # categorise the rows the file leaves uncategorised
        source = log.filename or f"import {import_id}"
        try:  # OFX/QFX and CAMT files have their own reader; anything else is read as a CSV
            read = structured_reader(opener, source=source) or _csv_reader(
                opener, _format_for(opener, log, s, settings), source
            )
        except InputError as exc:
            _reject(log, exc)
            return summary(log)

    counts = Counts()
    errors: list[dict[str, Any]] = []
    progress = _Progress(url, import_id, counts, report)
    try:
        with get_engine(url).begin() as conn:
            rows = read()
            categorised: Counter[str] = Counter()
            keyed = _keyed(rows, account, rules, categorised, _Counting(counts, errors, progress))
            parsed = ProducedInChild(
                bulk_load.prepared(batches(keyed, CHUNK_ROWS), dialect=conn.dialect.name),
                summary=lambda: (counts.processed, counts.skipped, errors, dict(categorised)),
            )
            staged, counts.imported = bulk_load.load(
                conn, parsed, user_id=user_id, account=account, import_id=import_id
            )
            # the counting ran in the parser's process: take its figures
            counts.processed, counts.skipped, errors[:], by_source = parsed.summary
            counts.duplicates = staged - counts.imported
            counts.total = counts.processed
            conn.execute(
                update(CsvImportLog)
                .where(CsvImportLog.id == import_id)
                .values(
                    status="completed",
                    total_rows=counts.processed,
                    processed=counts.processed,
                    imported=counts.imported,
                    skipped=counts.skipped,
                    duplicates=counts.duplicates,
                    errors=errors,
                    categorised={k: by_source.get(k, 0) for k in CATEGORISED_BY},
                    finished_at=utcnow(),
                    error_message=None,
                )
            )
    except InputError as exc:  # the file turned out unreadable part-way: nothing was kept
        with session_scope(url) as s:
            log = s.get(CsvImportLog, import_id)
            assert log is not None
            _reject(log, exc)
            return summary(log)
    progress.final()
    invalidate_user_caches(redis, user_id)
    with session_scope(url) as s:
        log = s.get(CsvImportLog, import_id)
        assert log is not None
        return summary(log)


def _reject(log: CsvImportLog, exc: InputError) -> None:
    log.status = "rejected"
    log.error_message = str(exc)
    log.errors = [{"line": exc.line, "reason": exc.detail}]
    log.finished_at = utcnow()


def mark_failed(settings: Settings, import_id: int, message: str) -> None:
    """The job gave up (retries exhausted): record why; nothing of the import was kept."""
    with session_scope(settings.database_url) as s:
        log = s.get(CsvImportLog, import_id)
        if log is not None and log.status not in FINAL:
            log.status, log.error_message, log.finished_at = "failed", message[:2000], utcnow()


def invalidate_user_caches(redis: Redis, user_id: int) -> None:
    redis.delete(keys.budget_status(user_id), keys.forecast(user_id))


class _Progress:
    """Reports progress every PROGRESS_SECONDS (checked every PROGRESS_CHECK_ROWS rows): to the job's meta
    (always) and to csv_import_logs (PostgreSQL, in its own connection, so it shows while the import's
    transaction is open; SQLite has a single writer, which the import holds, so there the row is
    written at commit)."""

    def __init__(self, url: str, import_id: int, counts: Counts, report: Reporter | None) -> None:
        self.url, self.import_id, self.counts, self.report = url, import_id, counts, report
        self.db_progress = not url.startswith("sqlite")
        self.last_time = time.monotonic()

    def tick(self) -> None:
        """Called every PROGRESS_CHECK_ROWS rows (the caller counts): writes when it is time."""
        c, now = self.counts, time.monotonic()
        if now - self.last_time < PROGRESS_SECONDS:
            return
        self.last_time = now
        if self.report:
            self.report(c)
        if self.db_progress:
            with get_engine(self.url).begin() as conn:
                conn.execute(
                    update(CsvImportLog)
                    .where(CsvImportLog.id == self.import_id)
                    .values(processed=c.processed, skipped=c.skipped)
                )

    def final(self) -> None:
        if self.report:
            self.report(self.counts)


# loading: a forked parser (services/forked.py) reads, normalises, keys and categorises the rows and
# db/bulk_load.py numbers identical rows and builds each chunk as the database takes it; this process
# only loads the chunks (db/bulk_load.load), all in the one transaction.


@dataclass
class _Counting:
    """Where the parser's loop counts: rows read and skipped, the first skipped rows' reasons, progress."""

    counts: Counts
    errors: list[dict[str, Any]]
    progress: _Progress

    def skipped(self, row: SkippedRow) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append({"line": row.line, "reason": row.reason})

    def update(self, processed: int, skipped: int) -> None:
        self.counts.processed, self.counts.skipped = processed, skipped


def _keyed(
    rows: Iterable[StatementRow | SkippedRow],
    account: str,
    rules: RuleSet | None,
    categorised: Counter[str],
    counting: _Counting,
) -> Iterator[Keyed]:
    """Each parsed row with its base fingerprint key and its category: the file's, else the rules'.
    Counts the rows read and skipped (`counting`, progress every PROGRESS_CHECK_ROWS rows) and in
    `categorised` the rows categorised by the file ("file"), a rule ("rule"), a learnt payee ("learnt"),
    the starter table ("starter")."""
    key = base_keyer(account)
    match = rules.match if rules is not None else None
    processed = skipped = by_file = 0
    by_rule: Counter[str] = Counter()
    next_tick = PROGRESS_CHECK_ROWS
    day, iso = None, ""
    for row in rows:
        if processed >= next_tick:
            counting.update(processed, skipped)
            counting.progress.tick()
            next_tick += PROGRESS_CHECK_ROWS
        processed += 1
        if isinstance(row, SkippedRow):
            skipped += 1
            counting.skipped(row)
            continue
        _line, date, amount, currency, description, _balance, category, ref = row
        if date is not day:  # rows come by date: each day's ISO text is made once (usually)
            day, iso = date, date.isoformat()
        if category:
            by_file += 1
        elif match is not None and (rule := match(description, amount)) is not None:
            category = rule.category
            by_rule[rule_source(rule)] += 1
        yield (
            date,
            key(iso, amount, currency, description, ref),
            iso,
            amount,
            currency,
            description,
            category or "",
        )
    counting.update(processed, skipped)
    categorised.update(by_rule)
    if by_file:
        categorised["file"] += by_file


# ------------------------------------------------------------------------------- status, list, undo


def summary(log: CsvImportLog) -> dict[str, Any]:
    return {
        "id": log.id,
        "status": log.status,
        "filename": log.filename,
        "account": log.account,
        "total": log.total_rows,
        "processed": log.processed,
        "imported": log.imported,
        "skipped": log.skipped,
        "duplicates": log.duplicates,
        "errors": (log.errors or [])[:50],
        "categorised": dict(log.categorised) if log.categorised is not None else None,
        "error_message": log.error_message,
        "attempts": log.attempts,
        "job_id": import_job_id(log.id),
        "created_at": log.created_at.isoformat(),
        "started_at": log.started_at.isoformat() if log.started_at else None,
        "finished_at": log.finished_at.isoformat() if log.finished_at else None,
        "open_questions": (log.detected_format or {}).get("open_questions", []),
        "assumptions": (log.detected_format or {}).get("assumptions", []),
    }


def _own_import(session: Session, user_id: int | None, import_id: int) -> CsvImportLog:
    log = session.get(CsvImportLog, import_id)
    if log is None or (user_id is not None and log.user_id != user_id):
        raise NotFound(f"no import {import_id}")
    return log


def import_status(
    session: Session, redis: Redis, import_id: int, *, user_id: int | None = None
) -> dict[str, Any]:
    """The one status read: the database row, with live progress from the job while it runs.
    `user_id` given: someone else's import is NotFound (the API's 404)."""
    doc = summary(_own_import(session, user_id, import_id))
    job = fetch_job(redis, import_job_id(import_id))
    doc["job_status"] = str(job.get_status().value) if job is not None else None
    if doc["status"] not in FINAL and job is not None:
        live = job.get_meta(refresh=False).get("progress") or {}
        for key in ("processed", "imported", "skipped", "duplicates", "total"):
            if live.get(key) is not None:
                doc[key] = live[key]
    return doc


def list_imports(session: Session, user_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    logs = session.scalars(
        select(CsvImportLog)
        .where(CsvImportLog.user_id == user_id)
        .order_by(CsvImportLog.created_at.desc(), CsvImportLog.id.desc())
        .limit(limit)
    )
    return [summary(log) for log in logs]


def undo_import(
    session: Session, redis: Redis, import_id: int, *, user_id: int | None = None
) -> dict[str, Any]:
    """Remove exactly the rows this import created (duplicates it skipped belong to earlier imports)."""
    log = _own_import(session, user_id, import_id)
    if log.status != "completed":
        raise InputError(f"import {import_id} is {log.status}; only a completed import can be undone")
    result = session.execute(
        delete(Transaction).where(Transaction.import_id == import_id, Transaction.user_id == log.user_id)
    )
    removed = getattr(result, "rowcount", 0)
    log.status = "undone"
    invalidate_user_caches(redis, log.user_id)
    return {"id": import_id, "status": "undone", "removed": int(removed or 0)}
