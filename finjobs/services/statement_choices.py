"""Answers for what a bank file cannot decide, one mechanism for every question: the account's history
(its earlier imports, newest first) answers dates that fit both orders, a headerless file's equally good
money columns and whether an all-positive amount column is money in or out; the saved preset and the locale
(--locale, the user's setting, FINJOBS_LOCALE) answer where they can. Reads the database only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finjobs.config import Settings
from finjobs.db.models import CsvImportLog, User
from finjobs.domain.statement_roles import Previous, locale_date_order
from finjobs.domain.statement_signs import AS_WRITTEN, FLIPPED, SignAnswers
from finjobs.domain.statement_types import ColumnPreset

_HISTORY = 20  # earlier imports of the account looked at, newest first


@dataclass(frozen=True)
class Answers:
    """The answer (and where it came from) to each question a file may leave open; None: nothing says."""

    date_order: tuple[str, str] | None = None
    roles: Previous = ()
    sign: SignAnswers = ()

    def as_options(self) -> dict[str, Any]:
        """detect_format / preview keyword arguments."""
        return {
            "date_order_fallback": self.date_order,
            "role_fallback": self.roles,
            "sign_fallback": self.sign,
        }


def _earlier_imports(
    session: Session, user_id: int, account: str, exclude_id: int | None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(detected_format, options) of the account's imports (other than exclude_id), newest first."""
    query = select(CsvImportLog.detected_format, CsvImportLog.options).where(
        CsvImportLog.user_id == user_id,
        CsvImportLog.account == account,
        CsvImportLog.detected_format.is_not(None),
    )
    if exclude_id is not None:
        query = query.where(CsvImportLog.id != exclude_id)
    rows = session.execute(query.order_by(CsvImportLog.id.desc()).limit(_HISTORY))
    return [(fmt, opts or {}) for fmt, opts in rows]


def account_answers(
    session: Session,
    user_id: int,
    account: str,
    *,
    settings: Settings | None = None,
    locale: str | None = None,
    preset: ColumnPreset | None = None,
    exclude_id: int | None = None,
) -> Answers:
    """What an import of a file into this account would answer to each open question (`exclude_id`: the
    import being run, not its own history). Shared by the import and `finjobs import preview --user`."""
    history = _earlier_imports(session, user_id, account, exclude_id)
    earlier = [fmt for fmt, _ in history]
    where = f"the previous import of account {account!r}"
    return Answers(
        date_order=_date_order(session, user_id, earlier, where, locale, settings),
        roles=_roles(earlier, where),
        sign=[*preset_sign(preset), *_signs(history, where)],
    )


def answers_for(session: Session, log: CsvImportLog, settings: Settings | None) -> Answers:
    """The answers for an import being run: its account's other imports, its preset and its locale."""
    opts = log.options or {}
    definition = opts.get("preset_definition")
    return account_answers(
        session,
        log.user_id,
        log.account,
        settings=settings,
        locale=opts.get("locale"),
        preset=ColumnPreset.from_dict(definition) if definition else None,
        exclude_id=log.id,
    )


def _roles(earlier: list[dict[str, Any]], where: str) -> Previous:
    """(role -> column indexes, cells per record, where from) of the account's earlier headerless imports:
    detection takes the first of the file's width whose money columns are one of the tied choices."""
    found: list[tuple[dict[str, list[int]], int | None, str]] = []
    for fmt in earlier:
        columns = fmt.get("columns") if fmt.get("header_line") is None else None
        if isinstance(columns, dict) and all(isinstance(i, int) for ix in columns.values() for i in ix):
            width = fmt.get("width")
            found.append(({str(r): list(ix) for r, ix in columns.items()}, width, where))
    return found


def _date_order(
    session: Session,
    user_id: int,
    earlier: list[dict[str, Any]],
    where: str,
    locale: str | None,
    settings: Settings | None,
) -> tuple[str, str] | None:
    """(date order, where from): the previous import's, else the first locale given."""
    if earlier and earlier[0].get("date_order"):
        return str(earlier[0]["date_order"]), where
    user = session.get(User, user_id)
    candidates = (
        (locale, "--locale"),
        (user.locale if user else None, "the user's locale"),
        (settings.locale if settings else None, "FINJOBS_LOCALE"),
    )
    for name, said in candidates:
        if name and (order := locale_date_order(str(name))):
            return order, f"{said} {name}"
    return None


def _signs(history: list[tuple[dict[str, Any], dict[str, Any]]], where: str) -> SignAnswers:
    """What the account's earlier imports say, newest first: an import as a card (account type credit,
    given or by its preset) says charges are positive; each import's sign rule says how it read. The domain
    takes the first of the kind its question needs (one amount column: flipped or as written; direction
    words: kept or read reversed)."""
    out: list[tuple[str, str]] = []
    for fmt, opts in history:
        preset = opts.get("preset_definition") or {}
        if "credit" in (opts.get("account_type"), preset.get("account_type")):
            out.append((FLIPPED, f"{where} (account type credit)"))
        if fmt.get("sign_rule"):
            out.append((str(fmt["sign_rule"]), where))
    return out


def preset_sign(preset: ColumnPreset | None) -> SignAnswers:
    """A preset that names its account type answers the sign: a card ('credit') lists charges positive."""
    if preset is None or not preset.account_type:
        return []
    rule = FLIPPED if preset.account_type == "credit" else AS_WRITTEN
    return [(rule, f"preset {preset.name!r} (account type {preset.account_type})")]
