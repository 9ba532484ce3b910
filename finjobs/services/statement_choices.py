"""Answers for what a bank file cannot decide (dates that fit both orders): the account's previous
import, else the locale (--locale, the user's setting, FINJOBS_LOCALE). Reads the database only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from finjobs.config import Settings
from finjobs.db.models import CsvImportLog, User
from finjobs.domain.statement_roles import locale_date_order


def date_order_fallback(
    session: Session, log: CsvImportLog, settings: Settings | None
) -> tuple[str, str] | None:
    """(date order, where it came from) for dates the file leaves open, or None when nothing says."""
    previous = session.scalars(
        select(CsvImportLog.detected_format)
        .where(
            CsvImportLog.user_id == log.user_id,
            CsvImportLog.account == log.account,
            CsvImportLog.id != log.id,
            CsvImportLog.detected_format.is_not(None),
        )
        .order_by(CsvImportLog.id.desc())
        .limit(1)
    ).first()
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
