"""Test data for budgets, insights and notifications: users, categories, budgets and transactions
written through the real models, plus real local SMTP and HTTP receivers on free ports."""

from __future__ import annotations

import datetime as dt
import http.server
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finjobs.db.models import Budget, Category, Transaction, User

_seq = itertools.count(1)


def add_user(session: Session, email: str | None = None, *, currency: str = "USD") -> int:
    from finjobs.services.users import create_user

    return create_user(session, email or f"user{next(_seq)}@example.com", currency=currency).id


def add_category(session: Session, user_id: int, name: str) -> int:
    found = session.scalar(select(Category.id).where(Category.user_id == user_id, Category.name == name))
    if found is not None:
        return found
    cat = Category(user_id=user_id, name=name)
    session.add(cat)
    session.flush()
    return cat.id


def add_budget(
    session: Session,
    user_id: int,
    amount_minor: int,
    start: dt.date,
    end: dt.date,
    *,
    category_id: int | None = None,
    threshold_pct: int = 80,
    is_active: bool = True,
    deleted: bool = False,
    currency: str = "USD",
) -> int:
    row = Budget(
        user_id=user_id,
        category_id=category_id,
        amount_minor=amount_minor,
        currency=currency,
        start_date=start,
        end_date=end,
        alert_threshold_pct=threshold_pct,
        is_active=is_active,
        deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) if deleted else None,
    )
    session.add(row)
    session.flush()
    return row.id


def add_txn(
    session: Session,
    user_id: int,
    day: dt.date,
    amount_minor: int,
    *,
    category_id: int | None = None,
    description: str = "shop",
    currency: str = "USD",
    status: str = "posted",
) -> int:
    row = Transaction(
        user_id=user_id,
        date=day,
        amount_minor=amount_minor,
        currency=currency,
        description=description,
        category_id=category_id,
        fingerprint=f"fp-{next(_seq)}",
        status=status,
    )
    session.add(row)
    session.flush()
    return row.id


def user_email(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    assert user is not None
    return user.email


# --- receivers -----------------------------------------------------------------------------------


@dataclass
class WebhookReceiver:
    """A real HTTP server in a thread: records every POST; answers `status` (settable)."""

    url: str = ""
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def webhook_server() -> Iterator[WebhookReceiver]:
    rec = WebhookReceiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec.requests.append({"headers": dict(self.headers.items()), "body": body, "answered": rec.status})
            self.send_response(rec.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    url: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free port; every accepted message lands in `messages`."""
    from aiosmtpd.controller import Controller

    from finjobs.devservers import free_port

    box = Mailbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(
                {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.content}
            )
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    box.url = f"smtp://127.0.0.1:{port}"
    try:
        yield box
    finally:
        controller.stop()
