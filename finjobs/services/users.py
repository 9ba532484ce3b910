"""Users and their API tokens (only a SHA-256 of each token is stored)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from finjobs.db.models import User
from finjobs.errors import InputError, NotFound

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedUser:
    id: int
    email: str
    token: str  # shown once; never stored


def create_user(session: Session, email: str, *, name: str = "", currency: str = "USD") -> CreatedUser:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InputError(f"not an email address: {email!r}", source="email")
    if not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise InputError(f"currency must be a 3-letter ISO code (got {currency!r})", source="currency")
    token = "fj_" + secrets.token_urlsafe(32)
    user = User(email=email, name=name, currency=currency.upper(), token_hash=hash_token(token))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise InputError(f"a user with email {email} already exists", source="email") from None
    return CreatedUser(user.id, user.email, token)


def get_user(session: Session, ref: str | int) -> User:
    """A user by id or email (what the CLI's --user accepts)."""
    text = str(ref).strip()
    user = (
        session.get(User, int(text))
        if text.isdigit()
        else session.scalar(select(User).where(User.email == text.lower()))
    )
    if user is None:
        raise NotFound(f"no user {text!r}")
    return user


def set_user(session: Session, ref: str | int, *, starter_rules: bool | None = None) -> dict[str, object]:
    """Change a user's settings (what is given); returns the settings."""
    user = get_user(session, ref)
    if starter_rules is not None:
        user.starter_rules = starter_rules
    session.flush()
    return {"id": user.id, "email": user.email, "starter_rules": user.starter_rules}


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    return session.scalar(select(User).where(User.token_hash == hash_token(token)))
