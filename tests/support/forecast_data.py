"""Realistic spending histories for forecast tests and scripts/bench_forecast.py: rent and bills on fixed
days, groceries and dining with weekly rhythm, a December shopping bump, refunds, pending rows, salary.
Pure generation plus one ORM insert helper (touches only the session it is given)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

# name -> (chance per day by weekday Mon..Sun, typical amount in minor units, spread as a fraction)
DAILY_CATEGORIES: dict[str, tuple[tuple[float, ...], int, float]] = {
    "Groceries": ((0.25, 0.2, 0.3, 0.25, 0.35, 0.6, 0.45), 5500, 0.45),
    "Dining": ((0.15, 0.15, 0.2, 0.25, 0.55, 0.6, 0.35), 3200, 0.5),
    "Transport": ((0.8, 0.8, 0.8, 0.8, 0.8, 0.15, 0.1), 450, 0.3),
    "Entertainment": ((0.03, 0.03, 0.05, 0.05, 0.2, 0.3, 0.2), 2800, 0.6),
    "Shopping": ((0.06, 0.06, 0.06, 0.06, 0.1, 0.2, 0.12), 6500, 0.8),
    "Health": ((0.04, 0.04, 0.04, 0.04, 0.04, 0.02, 0.0), 4000, 0.7),
}
# name -> (day of month, amount in minor units)
MONTHLY_BILLS: dict[str, tuple[int, int]] = {"Rent": (1, 140000), "Utilities": (6, 11000)}
CATEGORY_NAMES = (*MONTHLY_BILLS, *DAILY_CATEGORIES)


@dataclass(frozen=True)
class Txn:
    date: date
    amount_minor: int  # negative = spend
    category: str | None
    description: str
    status: str = "posted"


def spending_history(rng: random.Random, *, end: date, days: int) -> list[Txn]:
    """`days` days of one person's transactions up to `end` (exclusive), in minor units."""
    scale = rng.uniform(0.6, 1.8)
    out: list[Txn] = []
    for i in range(days):
        day = end - timedelta(days=days - i)
        if day.day == 25:
            out.append(Txn(day, round(420000 * scale), None, "SALARY"))
        for name, (dom, amount) in MONTHLY_BILLS.items():
            if day.day == dom:
                jitter = 1.0 if name == "Rent" else rng.uniform(0.8, 1.25)
                out.append(Txn(day, -round(amount * scale * jitter), name, name.upper()))
        december = 1.8 if day.month == 12 else 1.0
        for name, (chance, typical, spread) in DAILY_CATEGORIES.items():
            boost = december if name in {"Shopping", "Dining"} else 1.0
            if rng.random() < min(0.95, chance[day.weekday()] * boost):
                amount = max(50, round(rng.lognormvariate(0, spread) * typical * scale))
                status = "pending" if i >= days - 3 and rng.random() < 0.5 else "posted"
                out.append(Txn(day, -amount, name, f"{name.upper()} {rng.randint(1, 40)}", status))
                if name == "Shopping" and rng.random() < 0.08:
                    out.append(Txn(day + timedelta(days=3), amount, name, "REFUND"))
    return [t for t in out if t.date < end]


def sparse_history(rng: random.Random, *, end: date, dates: int) -> list[Txn]:
    """Spend on exactly `dates` distinct days spread over the months before `end`."""
    days = sorted(rng.sample(range(1, dates * 3 + 1), dates))
    return [Txn(end - timedelta(days=d), -rng.randint(500, 9000), "Groceries", "SHOP") for d in days]


def insert_history(
    session: Any, user_id: int, txns: list[Txn], *, created_at: datetime | None = None
) -> dict[str, int]:
    """Insert the transactions (and their categories) for a user; returns category name -> id."""
    from sqlalchemy import insert, select

    from finjobs.db.models import Category, Transaction

    created_at = created_at or datetime.now(UTC)
    have = dict(session.execute(select(Category.name, Category.id).where(Category.user_id == user_id)).all())
    for name in sorted({t.category for t in txns if t.category} - set(have)):
        cat = Category(user_id=user_id, name=name)
        session.add(cat)
        session.flush()
        have[name] = cat.id
    rows = [
        {
            "user_id": user_id,
            "date": t.date,
            "amount_minor": t.amount_minor,
            "currency": "USD",
            "description": t.description,
            "category_id": have[t.category] if t.category else None,
            "fingerprint": f"{user_id}-{n}-{t.date}",
            "status": t.status,
            "created_at": created_at,
        }
        for n, t in enumerate(txns)
    ]
    if rows:
        session.execute(insert(Transaction), rows)
    return have


def expected_top_categories(txns: list[Txn], *, today: date, n: int = 5) -> list[str]:
    """The top-n categories by posted spend in the 90 days before `today`, computed without SQL."""
    spend: dict[str, int] = {}
    for t in txns:
        spent = t.category and t.amount_minor < 0 and t.status == "posted"
        if spent and today - timedelta(days=90) <= t.date < today:
            spend[t.category] = spend.get(t.category, 0) - t.amount_minor
    return [name for name, _ in sorted(spend.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def copy_rows(
    user_id: int, txns: list[Txn], category_ids: dict[str, int], created_at: datetime
) -> Iterator[tuple[Any, ...]]:
    """Rows for COPY transactions (user_id, date, amount_minor, currency, description, category_id,
    fingerprint, status, created_at, account)."""
    naive = created_at.astimezone(UTC).replace(tzinfo=None)
    for n, t in enumerate(txns):
        yield (
            user_id,
            t.date,
            t.amount_minor,
            "USD",
            t.description,
            category_ids[t.category] if t.category else None,
            f"{user_id}-{n}",
            t.status,
            naive,
            "default",
        )
