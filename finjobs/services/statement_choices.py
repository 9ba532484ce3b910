"""Answers for what a bank file cannot decide: dates that fit both orders (the account's previous
import, else the locale: --locale, the user's setting, FINJOBS_LOCALE) and a headerless file's equally
good money columns (the columns the account's earlier headerless imports used). Reads the database only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finjobs.config import Settings
from finjobs.db.models import CsvImportLog, User
from finjobs.domain.statement_roles import Previous, locale_date_order

_ROLE_HISTORY = 20  # earlier headerless imports of the account looked at, newest first


def _earlier_formats(session: Session, log: CsvImportLog, limit: int) -> list[dict[str, Any]]:
    """detected_format of the account's other imports, newest first."""
    return list(
        session.scalars(
            select(CsvImportLog.detected_format)
            .where(
                CsvImportLog.user_id == log.user_id,
                CsvImportLog.account == log.account,
                CsvImportLog.id != log.id,
                CsvImportLog.detected_format.is_not(None),
            )
            .order_by(CsvImportLog.id.desc())
            .limit(limit)
        )
    )


def role_fallback(session: Session, log: CsvImportLog) -> Previous:
    """(role -> column indexes, cells per record, where from) of the account's earlier headerless imports,
    newest first: detection takes the first of the file's width whose money columns are one of the tied
    choices."""
    where = f"the previous import of account {log.account!r}"
    found: list[tuple[dict[str, list[int]], int | None, str]] = []
    for fmt in _earlier_formats(session, log, _ROLE_HISTORY):
        columns = fmt.get("columns") if fmt.get("header_line") is None else None
        if isinstance(columns, dict) and all(isinstance(i, int) for ix in columns.values() for i in ix):
            width = fmt.get("width")
            found.append(({str(r): list(ix) for r, ix in columns.items()}, width, where))
    return found


def date_order_fallback(
    session: Session, log: CsvImportLog, settings: Settings | None
) -> tuple[str, str] | None:
    """(date order, where it came from) for dates the file leaves open, or None when nothing says."""
    previous = next(iter(_earlier_formats(session, log, 1)), None)
    if previous and previous.get("date_order"):
        return str(previous["date_order"]), f"the previous import of account {log.account!r}"
    user = session.get(User, log.user_id)
    candidates = (
        ((log.options or {}).get("locale"), "--locale"),
        (user.locale if user else None, "the user's locale"),
        (settings.locale if settings else None, "FINJOBS_LOCALE"),
    )
    for locale, where in candidates:
        if locale and (order := locale_date_order(str(locale))):
            return order, f"{where} {locale}"
    return None
