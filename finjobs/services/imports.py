"""CSV import use cases: accept (store the bytes, then enqueue), run (one transaction, idempotent),
status, list, undo. Shared by `finjobs import ...`, the web API and the csv-import job.

Atomicity: every row of an import and its `completed` status commit in ONE transaction, or nothing
does. Idempotency: rows carry a per-user unique fingerprint (see domain/fingerprints.py) and are
inserted with ON CONFLICT DO NOTHING, so a retry, a replay or an overlapping export adds nothing twice.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import hashlib
import io
import multiprocessing
import pickle
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Generic, TypeVar

from redis import Redis
from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.orm import Session

from finjobs.adapters.statement_files import structured_reader
from finjobs.config import Settings
from finjobs.db.blobs import upload_opener
from finjobs.db.engine import get_engine, session_scope
from finjobs.db.models import CsvImportLog, ImportPreset, Transaction, Upload, utcnow
from finjobs.domain.category_rules import RuleSet
from finjobs.domain.fingerprints import Occurrences, base_keyer
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
from finjobs.services.statement_choices import date_order_fallback

FINAL = {"completed", "rejected", "failed", "undone"}
MAX_ERRORS_KEPT = 1000  # skipped-row reasons stored per import; the counts are always exact
PROGRESS_ROWS = 1000
PROGRESS_SECONDS = 1.0


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
        date_order_fallback=date_order_fallback(session, log, settings),
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
            keyed = _keyed(_counted(rows, counts, errors, progress), account, rules)
            parsed = _ParsedInChild(
                _prepared(_batches(keyed, CHUNK_ROWS), pg=conn.dialect.name == "postgresql"),
                summary=lambda: (counts.processed, counts.skipped, errors),
            )
            staged, counts.imported = _load(
                conn, parsed, user_id=user_id, account=account, import_id=import_id
            )
            # the counting ran in the parser's process: take its figures
            counts.processed, counts.skipped, errors[:] = parsed.summary
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


def _counted(
    rows: Iterable[StatementRow | SkippedRow],
    counts: Counts,
    errors: list[dict[str, Any]],
    progress: _Progress,
) -> Iterator[StatementRow]:
    for row in rows:
        counts.processed += 1
        if isinstance(row, SkippedRow):
            counts.skipped += 1
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append({"line": row.line, "reason": row.reason})
        else:
            yield row
        progress.tick()


class _Progress:
    """Reports progress every PROGRESS_ROWS rows and every PROGRESS_SECONDS: to the job's meta
    (always) and to csv_import_logs (PostgreSQL, in its own connection, so it shows while the import's
    transaction is open; SQLite has a single writer, which the import holds, so there the row is
    written at commit)."""

    def __init__(self, url: str, import_id: int, counts: Counts, report: Reporter | None) -> None:
        self.url, self.import_id, self.counts, self.report = url, import_id, counts, report
        self.db_progress = not url.startswith("sqlite")
        self.last_rows, self.last_time = 0, time.monotonic()

    def tick(self) -> None:
        c = self.counts
        if (
            c.processed - self.last_rows < PROGRESS_ROWS
            and time.monotonic() - self.last_time < PROGRESS_SECONDS
        ):
            return
        self.last_rows, self.last_time = c.processed, time.monotonic()
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


# loading: a parser process (_ParsedInChild) reads, normalises and keys the rows, numbers identical
# rows (Occurrences; the counts it drops go to a temporary file) and builds each chunk as the database
# takes it (PostgreSQL: COPY text; SQLite: parameter rows). This process only loads the chunks, with ON
# CONFLICT DO NOTHING (PostgreSQL: COPY into a staging table, then INSERT ... SELECT; SQLite: one
# executemany), all in the one transaction. The database works on chunk k while the parser prepares
# chunk k+1, so an import costs about max(parse, insert) rather than their sum, and the inserting
# side does no per-row Python.

CHUNK_ROWS = 20_000
SQLITE_LOAD_CACHE_KIB = 65_536
SQLITE_DEFAULT_CACHE = -2000  # SQLite's compiled-in default (2 MiB)
# date, base key, ISO date, amount, currency, description, category ('' for none)
Keyed = tuple[dt.date, str, str, int, str, str, str]
Chunk = tuple[int, Any]  # rows in it, and what the database takes: COPY text or parameter rows
T = TypeVar("T")


def _keyed(rows: Iterable[StatementRow], account: str, rules: RuleSet | None = None) -> Iterator[Keyed]:
    """Each row with its base fingerprint key and its category: the file's, else the rules'."""
    key = base_keyer(account)
    by_rule = rules.category if rules is not None else lambda description, amount: ""
    for r in rows:
        base = key(r.date, r.amount_minor, r.currency, r.description, r.ref)
        category = r.category or by_rule(r.description, r.amount_minor)
        yield (r.date, base, r.date.isoformat(), r.amount_minor, r.currency, r.description, category)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Spilled:
    """The counts Occurrences dropped, by date, in a private temporary SQLite database (on disk and
    deleted when closed, so memory stays bounded however big the file): one row per dropped date, read
    back only when an out-of-order file meets that date again."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = a private temporary database
        self.db.execute("CREATE TABLE spilled (date TEXT PRIMARY KEY, counts BLOB)")

    def put(self, dropped: dict[dt.date, Counter[str]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO spilled VALUES (?, ?)",
            [(d.isoformat(), pickle.dumps(dict(c), pickle.HIGHEST_PROTOCOL)) for d, c in dropped.items()],
        )

    def load_into(self, occurrences: Occurrences, dates: set[dt.date]) -> None:
        for date in dates:
            (blob,) = self.db.execute(
                "SELECT counts FROM spilled WHERE date = ?", (date.isoformat(),)
            ).fetchone()
            occurrences.load(date, pickle.loads(blob))

    def close(self) -> None:
        self.db.close()


def _prepared(chunks: Iterable[list[Keyed]], *, pg: bool) -> Iterator[Chunk]:
    """Each chunk numbered among the identical rows of the file and built for the database: for
    PostgreSQL the COPY text of (fingerprint, date, amount, currency, description), for SQLite the
    parameter rows (date, amount, currency, description, fingerprint) of the INSERT. Runs in the
    parser process."""
    occurrences = Occurrences()
    spilled = _Spilled()
    try:
        for chunk in chunks:
            if missing := occurrences.missing({r[0] for r in chunk}):
                spilled.load_into(occurrences, missing)
            number = occurrences.number
            if pg:
                buf = io.StringIO()  # COPY csv with every string quoted: '' stays '' and never NULL
                csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(
                    (f"{base}:{number(date, base)}", iso, amount, ccy, desc, cat)
                    for date, base, iso, amount, ccy, desc, cat in chunk
                )
                data: Any = buf.getvalue()
            else:
                data = [
                    (iso, amount, ccy, desc, f"{base}:{number(date, base)}", cat)
                    for date, base, iso, amount, ccy, desc, cat in chunk
                ]
            if dropped := occurrences.end_chunk():
                spilled.put(dropped)
            yield len(chunk), data
    finally:
        spilled.close()


class _ParsedInChild(Generic[T]):
    """The items of `items`, produced in a forked child process: parsing has its own interpreter lock
    there, so it runs truly alongside the inserts (a thread measured 1.4x slower on SQLite, where both
    sides are Python). The pipe holds little, so the child is at most about an item ahead and memory
    stays bounded. After the last item the child sends `summary()` (what the iteration counted), kept
    in `.summary`. An exception in the child (an InputError part-way through the file, a database
    error) is raised here. The child dies with its parent: its next send fails; leaving early ends it.
    The child touches only what it opens itself (engines are per process) and exits without cleanup,
    so the parent's open transaction is never disturbed."""

    def __init__(self, items: Iterator[T], *, summary: Callable[[], Any]) -> None:
        self.items, self.make_summary = items, summary
        self.summary: Any = None

    def _produce(self, receive: Any, send: Any) -> None:
        receive.close()  # only the parent reads: with the parent gone, a send then fails at once
        try:
            for item in self.items:
                send.send(("item", item))
            send.send(("end", self.make_summary()))
        except BaseException as exc:
            try:
                send.send(("error", exc))
            except Exception:  # unpicklable, or the parent is gone
                with contextlib.suppress(Exception):
                    send.send(("error", RuntimeError(f"import parser: {type(exc).__name__}: {exc}")))

    def __iter__(self) -> Iterator[T]:
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=self._produce, args=(receive, send), name="import-parser", daemon=True)
        gc.freeze()  # the child's collector then leaves the inherited heap alone: fewer pages copied
        try:
            child.start()
        finally:
            gc.unfreeze()
        send.close()
        try:
            while True:
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    raise RuntimeError(f"import parser died (exit code {child.exitcode})") from None
                if kind == "item":
                    yield payload
                elif kind == "end":
                    self.summary = payload
                    return
                else:
                    raise payload
        finally:
            receive.close()
            if child.is_alive():
                child.terminate()
            child.join()


def _sql_text(value: str) -> str:
    """A SQL string literal: quotes doubled (SQL has no backslash escapes); accept_import refuses
    control characters in account names, NUL included."""
    if "\x00" in value:
        raise ValueError("a SQL literal cannot hold NUL")
    return "'" + value.replace("'", "''") + "'"


def _load(
    conn: Connection, chunks: Iterable[Chunk], *, user_id: int, account: str, import_id: int
) -> tuple[int, int]:
    """Insert every prepared chunk (see _prepared); returns (rows read, rows inserted)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    read = inserted = 0
    if conn.dialect.name != "postgresql":
        cur = raw.cursor()
        # the default 2 MiB page cache makes every insert into the fingerprint index (random keys)
        # page out: 64 MiB measured 1.35x faster on 1M rows (scripts/bench_import.py); this connection
        # only, and only while it loads
        cur.execute(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
        # The import's constants are written into the statement, so each row binds 5 values, not 9:
        # binding is a tenth of a SQLite import's inserting side.
        stamp = utcnow().replace(tzinfo=None).isoformat(sep=" ")  # as SQLAlchemy stores a DateTime
        sql = (
            "INSERT INTO transactions (user_id, account, date, amount_minor, currency, description, "
            f"fingerprint, category_id, import_id, status, created_at) VALUES ({int(user_id)}, "
            f"{_sql_text(account)}, ?, ?, ?, ?, ?, (SELECT id FROM categories WHERE user_id = {int(user_id)} "
            f"AND name = ?), {int(import_id)}, 'posted', {_sql_text(stamp)}) "
            "ON CONFLICT (user_id, fingerprint) DO NOTHING"
        )
        new_category = (
            f"INSERT INTO categories (user_id, name) VALUES ({int(user_id)}, ?) "
            "ON CONFLICT (user_id, name) DO NOTHING"
        )
        try:
            for n, params in chunks:
                read += n
                if names := {p[5] for p in params if p[5]}:
                    cur.executemany(new_category, [(name,) for name in sorted(names)])
                cur.executemany(sql, params)
                inserted += max(cur.rowcount, 0)
        finally:
            with contextlib.suppress(Exception):
                cur.execute(f"PRAGMA cache_size = {SQLITE_DEFAULT_CACHE}")
        return read, inserted
    conn.execute(
        text(
            "CREATE TEMP TABLE import_staging (fingerprint text, date date, amount_minor bigint, "
            "currency text, description text, category text) ON COMMIT DROP"
        )
    )
    insert = text(
        "INSERT INTO transactions (user_id, account, date, amount_minor, currency, description, "
        "fingerprint, category_id, import_id, status, created_at) SELECT :user_id, :account, s.date, "
        "s.amount_minor, s.currency, s.description, s.fingerprint, c.id, :import_id, 'posted', :now "
        "FROM import_staging s LEFT JOIN categories c ON c.user_id = :user_id AND c.name = s.category "
        "AND s.category <> '' ON CONFLICT (user_id, fingerprint) DO NOTHING"
    )
    new_categories = text(
        "INSERT INTO categories (user_id, name) SELECT DISTINCT :user_id, category FROM import_staging "
        "WHERE category <> '' ON CONFLICT (user_id, name) DO NOTHING"
    )
    values = {
        "user_id": user_id,
        "account": account,
        "import_id": import_id,
        "now": utcnow().replace(tzinfo=None),
    }
    for n, copy_text in chunks:
        read += n
        copy_sql = (
            "COPY import_staging (fingerprint, date, amount_minor, currency, description, category) "
            "FROM STDIN (FORMAT csv)"
        )
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.write(copy_text)
        conn.execute(new_categories, {"user_id": user_id})
        inserted += int(conn.execute(insert, values).rowcount or 0)
        conn.execute(text("TRUNCATE import_staging"))
    return read, inserted


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
