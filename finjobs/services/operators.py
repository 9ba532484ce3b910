"""Operators (people who run finjobs, not users of the app), their hashed tokens, and the audit log
of every console action. Touches the database only."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from finjobs.db.models import Operator, OperatorAudit
from finjobs.errors import InputError, NotFound
from finjobs.services.users import hash_token

TOKEN_PREFIX = "fjop_"  # never a user token ("fj_"): the two can be told apart at a glance
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")


@dataclass(frozen=True)
class OperatorInfo:
    id: int
    name: str
    read_only: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "read_only": self.read_only}


@dataclass(frozen=True)
class CreatedOperator:
    operator: OperatorInfo
    token: str  # shown once; only its SHA-256 is stored


def _info(op: Operator) -> OperatorInfo:
    return OperatorInfo(op.id, op.name, op.read_only)


def create_operator(session: Session, name: str, *, read_only: bool = False) -> CreatedOperator:
    if not _NAME.match(name):
        raise InputError(f"operator name must be 1-100 of A-Z a-z 0-9 _ . @ - (got {name!r})", source="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    op = Operator(name=name, token_hash=hash_token(token), read_only=read_only)
    session.add(op)
    try:
        session.flush()
    except IntegrityError:
        raise InputError(f"an operator named {name} already exists", source="name") from None
    record(session, name, "operator.create", name, {"read_only": read_only})
    return CreatedOperator(_info(op), token)


def operator_for_token(session: Session, token: str) -> OperatorInfo | None:
    """The operator this token belongs to; a user's API token never matches (different table)."""
    token = token.strip()
    if not token:
        return None
    op = session.scalar(select(Operator).where(Operator.token_hash == hash_token(token)))
    return _info(op) if op is not None else None


def get_operator(session: Session, operator_id: int) -> OperatorInfo | None:
    op = session.get(Operator, operator_id)
    return _info(op) if op is not None else None


def list_operators(session: Session) -> list[OperatorInfo]:
    return [_info(op) for op in session.scalars(select(Operator).order_by(Operator.name))]


def delete_operator(session: Session, name: str) -> None:
    op = session.scalar(select(Operator).where(Operator.name == name))
    if op is None:
        raise NotFound(f"no operator {name!r}")
    session.delete(op)
    record(session, name, "operator.delete", name)


def record(
    session: Session, who: str, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> None:
    """Append one line to the audit log (the caller's transaction commits it with the action)."""
    session.add(OperatorAudit(operator=who, action=action, target=target[:500], detail=detail or {}))


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    operator: str
    action: str
    target: str
    detail: dict[str, Any]


def audit_log(session: Session, *, limit: int = 50) -> list[AuditEntry]:
    rows = session.scalars(select(OperatorAudit).order_by(OperatorAudit.id.desc()).limit(limit))
    return [AuditEntry(r.at, r.operator, r.action, r.target, dict(r.detail)) for r in rows]
