"""The bulk loader of an import: chunks of keyed rows numbered among the file's identical rows and
built for the database (`prepared`, run in the parser's process), then inserted with ON CONFLICT DO
NOTHING inside the caller's transaction (`load`). One loader per database: PostgreSQL COPYs each chunk
into a staging table, then INSERT ... SELECT; SQLite takes one executemany per chunk. The database
works on chunk k while the parser prepares chunk k+1, so an import costs about max(parse, insert)
rather than their sum, and the inserting side does no per-row Python."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, text

from finjobs.db.models import utcnow
from finjobs.domain.fingerprints import Occurrences

CHUNK_ROWS = 20_000
SQLITE_LOAD_CACHE_KIB = 65_536
SQLITE_DEFAULT_CACHE = -2000  # SQLite's compiled-in default (2 MiB)
# date, base key, ISO date, amount, currency, description, category ('' for none)
Keyed = tuple[dt.date, str, str, int, str, str, str]
Chunk = tuple[int, Any]  # rows in it, and what the database takes: COPY text or parameter rows
Numberer = Callable[[dt.date, str], int]


class Spilled:
    """The counts Occurrences dropped, by date, in a private temporary SQLite database (on disk and
    deleted when closed, so memory stays bounded however big the file): one row per dropped date, its
    counts as a JSON object, read back only when an out-of-order file meets that date again."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = a private temporary database
        self.db.execute("CREATE TABLE spilled (date TEXT PRIMARY KEY, counts TEXT)")

    def put(self, dropped: dict[dt.date, Counter[str]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO spilled VALUES (?, ?)",
            [(d.isoformat(), json.dumps(c, separators=(",", ":"))) for d, c in dropped.items()],
        )

    def load_into(self, occurrences: Occurrences, dates: set[dt.date]) -> None:
        """The dropped counts of `dates` back into `occurrences`, in one query."""
        wanted = json.dumps([d.isoformat() for d in dates])
        rows = self.db.execute(
            "SELECT date, counts FROM spilled WHERE date IN (SELECT value FROM json_each(?))", (wanted,)
        )
        loaded = 0
        for iso, counts in rows:
            occurrences.load(dt.date.fromisoformat(iso), json.loads(counts))
            loaded += 1
        if loaded != len(dates):  # a lost count would number a repeated row as new: never guess
            raise RuntimeError(f"import spill: {len(dates) - loaded} of {len(dates)} dates missing")

    def close(self) -> None:
        self.db.close()


Q, QQ = '"', '""'  # a CSV quote, and how one is written inside a quoted field


def _copy_text(chunk: list[Keyed], number: Numberer) -> bytes:
    """PostgreSQL: COPY csv of (fingerprint, date, amount, currency, description, category), encoded
    once. Every text field is quoted (its quotes doubled), so '' stays '' and never NULL; the key, the
    ISO date and the integer need no quoting."""
    return "".join(
        [
            f'{base}:{number(date, base)},{iso},{amount},"{ccy.replace(Q, QQ)}",'
            f'"{desc.replace(Q, QQ)}","{cat.replace(Q, QQ)}"\n'
            for date, base, iso, amount, ccy, desc, cat in chunk
        ]
    ).encode()


def _param_rows(chunk: list[Keyed], number: Numberer) -> list[tuple[Any, ...]]:
    """SQLite: the INSERT's parameter rows (date, amount, currency, description, fingerprint, category)."""
    return [
        (iso, amount, ccy, desc, f"{base}:{number(date, base)}", cat)
        for date, base, iso, amount, ccy, desc, cat in chunk
    ]


def prepared(chunks: Iterable[list[Keyed]], *, dialect: str) -> Iterator[Chunk]:
    """Each chunk numbered among the identical rows of the file and built for `dialect`'s loader."""
    build = _copy_text if dialect == "postgresql" else _param_rows
    occurrences = Occurrences()
    spilled = Spilled()
    try:
        for chunk in chunks:
            if missing := occurrences.missing({r[0] for r in chunk}):
                spilled.load_into(occurrences, missing)
            data = build(chunk, occurrences.number)
            if dropped := occurrences.end_chunk():
                spilled.put(dropped)
            yield len(chunk), data
    finally:
        spilled.close()


def load(
    conn: Connection, chunks: Iterable[Chunk], *, user_id: int, account: str, import_id: int
) -> tuple[int, int]:
    """Insert every prepared chunk in `conn`'s transaction; returns (rows read, rows inserted)."""
    loader = _load_postgres if conn.dialect.name == "postgresql" else _load_sqlite
    return loader(conn, chunks, user_id=user_id, account=account, import_id=import_id)


def _sql_text(value: str) -> str:
    """A SQL string literal: quotes doubled (SQL has no backslash escapes); accept_import refuses
    control characters in account names, NUL included."""
    if "\x00" in value:
        raise ValueError("a SQL literal cannot hold NUL")
    return "'" + value.replace("'", "''") + "'"


def _load_sqlite(
    conn: Connection, chunks: Iterable[Chunk], *, user_id: int, account: str, import_id: int
) -> tuple[int, int]:
    raw = conn.connection.driver_connection
    assert raw is not None
    read = inserted = 0
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


_STAGING = (
    "CREATE TEMP TABLE import_staging (fingerprint text, date date, amount_minor bigint, "
    "currency text, description text, category text) ON COMMIT DROP"
)
_COPY = (
    "COPY import_staging (fingerprint, date, amount_minor, currency, description, category) "
    "FROM STDIN (FORMAT csv)"
)
_INSERT = text(
    "INSERT INTO transactions (user_id, account, date, amount_minor, currency, description, "
    "fingerprint, category_id, import_id, status, created_at) SELECT :user_id, :account, s.date, "
    "s.amount_minor, s.currency, s.description, s.fingerprint, c.id, :import_id, 'posted', :now "
    "FROM import_staging s LEFT JOIN categories c ON c.user_id = :user_id AND c.name = s.category "
    "AND s.category <> '' ON CONFLICT (user_id, fingerprint) DO NOTHING"
)
_NEW_CATEGORIES = text(
    "INSERT INTO categories (user_id, name) SELECT DISTINCT :user_id, category FROM import_staging "
    "WHERE category <> '' ON CONFLICT (user_id, name) DO NOTHING"
)


def _load_postgres(
    conn: Connection, chunks: Iterable[Chunk], *, user_id: int, account: str, import_id: int
) -> tuple[int, int]:
    raw = conn.connection.driver_connection
    assert raw is not None
    read = inserted = 0
    conn.execute(text(_STAGING))
    values = {
        "user_id": user_id,
        "account": account,
        "import_id": import_id,
        "now": utcnow().replace(tzinfo=None),
    }
    for n, copy_text in chunks:
        read += n
        with raw.cursor() as cur, cur.copy(_COPY) as copy:
            copy.write(copy_text)
        conn.execute(_NEW_CATEGORIES, {"user_id": user_id})
        inserted += int(conn.execute(_INSERT, values).rowcount or 0)
        conn.execute(text("TRUNCATE import_staging"))
    return read, inserted
