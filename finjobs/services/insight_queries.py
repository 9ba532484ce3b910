"""The insight service's database-specific SQL: which dedup keys are stored already, and the
INSERT .. ON CONFLICT DO NOTHING of new rows, as PostgreSQL (one array / one json parameter) or
SQLite (chunked IN lists, batched inserts) statements. The only place in the insight service that
asks which database it is on."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import String, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from finjobs.db.models import AiInsight

# SQLite: keys per IN list and rows per INSERT statement (its bound-parameter limit).
SQLITE_KEY_CHUNK = 500
SQLITE_INSERT_BATCH = 1000
# PostgreSQL: rows per json parameter.
PG_INSERT_BATCH = 5000

# Columns returned for each created row, in NewInsight's field order.
RETURNED = (AiInsight.id, AiInsight.user_id, AiInsight.type, AiInsight.severity, AiInsight.dedup_key)
_COLS = "user_id, type, severity, title, message, payload, dedup_key, created_at, expires_at"


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session: Session, table: Any) -> Any:
    """INSERT with .on_conflict_do_nothing() for the session's backend (PostgreSQL or SQLite)."""
    return pg_insert(table) if _is_postgres(session) else sqlite_insert(table)


def existing_keys(session: Session, keys: list[str]) -> list[str]:
    """The dedup keys among `keys` that ai_insights holds already."""
    if not keys:
        return []
    if _is_postgres(session):
        # One array parameter, not one placeholder per key (psycopg parses each placeholder).
        keys_param = bindparam("keys", keys, type_=ARRAY(String))
        return list(
            session.scalars(select(AiInsight.dedup_key).where(AiInsight.dedup_key == any_(keys_param)))
        )
    found: list[str] = []
    for start in range(0, len(keys), SQLITE_KEY_CHUNK):
        chunk = keys[start : start + SQLITE_KEY_CHUNK]
        found.extend(session.scalars(select(AiInsight.dedup_key).where(AiInsight.dedup_key.in_(chunk))))
    return found


def insert_new(session: Session, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """INSERT rows ON CONFLICT (dedup_key) DO NOTHING; returns (id, user_id, type, severity,
    dedup_key) of the rows this call created."""
    if _is_postgres(session):
        return _insert_pg(session, rows)
    created: list[tuple[Any, ...]] = []
    stmt = sqlite_insert(AiInsight).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(*RETURNED)
    for start in range(0, len(rows), SQLITE_INSERT_BATCH):
        result = session.execute(stmt, rows[start : start + SQLITE_INSERT_BATCH])
        created.extend(tuple(row) for row in result.all())
    return created


def _naive_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat()


def _insert_pg(session: Session, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """PostgreSQL: the rows travel as ONE json parameter expanded by json_populate_recordset, which
    is ~20x faster than a multi-row VALUES list with ten placeholders a row."""
    docs = [
        r | {"created_at": _naive_utc(r["created_at"]), "expires_at": _naive_utc(r["expires_at"])}
        for r in rows
    ]
    stmt = text(
        f"INSERT INTO ai_insights ({_COLS}) SELECT {_COLS} "
        "FROM json_populate_recordset(NULL::ai_insights, CAST(:rows AS json)) "
        "ON CONFLICT (dedup_key) DO NOTHING RETURNING id, user_id, type, severity, dedup_key"
    )
    created: list[tuple[Any, ...]] = []
    for start in range(0, len(docs), PG_INSERT_BATCH):
        result = session.execute(stmt, {"rows": json.dumps(docs[start : start + PG_INSERT_BATCH])})
        created.extend(tuple(row) for row in result.all())
    return created
