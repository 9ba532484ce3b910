"""Subscriptions and bills: one user's detected recurring series (domain.recurring) as a list with next
dates, price changes and overdue flags. The CLI (`finjobs recurring list`), GET /api/v1/recurring and
the insight rules all read it from here. Touches the database (transactions, categories, users).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from finjobs.db.models import User
from finjobs.domain import recurring as rc
from finjobs.domain.money import format_minor
from finjobs.errors import NotFound


def user_series(
    session: Session, user_id: int, *, today: dt.date, txns: Sequence[rc.Txn] | None = None
) -> tuple[list[rc.RecurringSeries], str]:
    """(the user's recurring series detected over their recent posted history, their currency).

    `txns`: that history when the caller already loaded it (services.insights.load_txns), to read it once.
    """
    from finjobs.services.insights import load_txns

    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if txns is None:
        txns = load_txns(session, user_id, today=today, currency=user.currency)
    return rc.detect_recurring(t for t in txns if t.date <= today), user.currency


def series_dict(s: rc.RecurringSeries, *, today: dt.date, currency: str) -> dict[str, Any]:
    """One series as JSON: money as decimal strings in `currency`, dates ISO."""
    late = rc.days_overdue(s, today)
    return {
        "payee": s.payee,
        "direction": "in" if s.is_income else "out",
        "cadence": s.cadence,
        "typical_amount": format_minor(s.typical_amount_minor, currency),
        "currency": currency,
        "first_date": s.first_date.isoformat() if s.first_date else None,
        "last_date": s.last_date.isoformat(),
        "next_expected_date": s.next_expected_date.isoformat(),
        "occurrences": len(s.occurrences),
        "price_changed": s.amount_changed,
        "previous_amount": (
            format_minor(s.previous_amount_minor, currency) if s.previous_amount_minor is not None else None
        ),
        "changed_on": s.changed_on.isoformat() if s.changed_on else None,
        "overdue": late > 0,
        "days_overdue": max(0, late),
    }


def recurring_list(session: Session, user_id: int, *, today: dt.date) -> dict[str, Any]:
    """The user's subscriptions and bills (and paydays), next expected first."""
    series, currency = user_series(session, user_id, today=today)
    items = [series_dict(s, today=today, currency=currency) for s in series]
    items.sort(key=lambda d: (d["next_expected_date"], d["payee"]))
    return {"user_id": user_id, "today": today.isoformat(), "currency": currency, "series": items}
