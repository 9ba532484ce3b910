"""Budgets: set-based evaluation (one aggregate query for every budget in scope), alert insights stored
once per (budget, type, period), the cached status read, creation, and the daily fan-out.

Touches the database session and Redis it is given; the alert rules live in finjobs.domain.budgets.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from operator import itemgetter
from typing import Any

from redis import Redis
from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from finjobs.db.models import Budget as BudgetRow
from finjobs.db.models import Category, utcnow
from finjobs.domain.budgets import Budget, active_budget, budget_status, evaluate_budget
from finjobs.domain.insights import InsightDraft
from finjobs.domain.money import to_minor
from finjobs.errors import InputError
from finjobs.queue import keys
from finjobs.services.budget_queries import (
    _AMOUNT,
    _CATEGORY,
    _CURRENCY,
    _PCT,
    _START,
    _USER,
    _in_force,
    budget_rows,
    expense_sums,
)
from finjobs.services.insights import NewInsight, store_insights

log = logging.getLogger(__name__)

# Users per budget-evaluation job; the fan-out never makes more jobs than MAX_CHUNKS.
USERS_PER_CHUNK = 2000
MAX_CHUNKS = 50


@cache
def threshold_fraction(pct: int) -> Decimal:
    """budgets.alert_threshold_pct is an integer percent; the domain takes a fraction."""
    return Decimal(pct) / 100


def spent_amounts(
    session: Session, today: dt.date, rows: Sequence[tuple[Any, ...]], **scope: Any
) -> list[int]:
    """What has been spent against each budget row (budget_rows(session, today, **scope)), in order.

    spent = the sum of the user's posted expenses (as a positive number) in the budget's currency,
    dated start_date..today (today <= end_date for a budget in force), in its category or in any
    category (uncategorised included) when category_id is NULL.

    One aggregate query reads each user's window once and sums it per (user, category, currency);
    every budget is then a dictionary lookup: a category budget its own sum, an all-spending budget
    its user's total. That is the whole join, done on ~11 sums a user rather than by the database
    on their transactions. When the budgets in scope start on different days, the sums are kept per
    day and each budget adds the days from its own start."""
    if not rows:
        return []
    starts = set(map(itemgetter(_START), rows))
    since, per_day = min(starts), len(starts) > 1
    currencies = sorted(set(map(itemgetter(_CURRENCY), rows)))
    multi = len(currencies) > 1
    sums = expense_sums(
        session, today, since=since, currencies=currencies, per_day=per_day, rows=rows, scope=scope
    )
    if not per_day:
        # Per owner, (user) or (user, currency) when several are in scope, its sums by category
        # (uncategorised under None, which no category budget has); their total is what an
        # all-spending budget has spent. With one currency the query filters on it and leaves it out.
        by_owner: dict[Any, dict[int | None, int]] = {}
        for owner, category, total in (((r[0], r[2]), r[1], r[3]) for r in sums) if multi else sums:
            categories = by_owner.get(owner)
            if categories is None:
                categories = by_owner[owner] = {}
            categories[category] = total
        totals = {owner: sum(categories.values()) for owner, categories in by_owner.items()}
        no_sums: dict[int | None, int] = {}
        if multi:
            return [
                -totals.get((r[1], r[4]), 0)
                if r[2] is None
                else -by_owner.get((r[1], r[4]), no_sums).get(r[2], 0)
                for r in rows
            ]
        return [
            -totals.get(r[1], 0) if r[2] is None else -by_owner.get(r[1], no_sums).get(r[2], 0) for r in rows
        ]
    # Budgets in scope start on different days: per-day sums, each budget adds those from its start.
    days: dict[Any, list[tuple[dt.date, int]]] = {}
    for row in sums:
        user, category, day, total = row[0], row[1], row[-2], row[-1]
        currency = row[2] if multi else None
        days.setdefault((user, category, currency), []).append((day, total))
        days.setdefault((user, currency), []).append((day, total))
    out = []
    for r in rows:
        currency = r[_CURRENCY] if multi else None
        key = (r[_USER], currency) if r[_CATEGORY] is None else (r[_USER], r[_CATEGORY], currency)
        start = r[_START]
        out.append(-sum(total for day, total in days.get(key, ()) if day >= start))
    return out


def _could_alert(row: Sequence[Any], spent: int) -> bool:
    """A necessary condition for any alert: over half the amount (a projection needs it, exceeded
    implies it) or at the warning threshold. The domain rules still decide."""
    amount: int = row[_AMOUNT]
    pct: int = row[_PCT]
    return 2 * spent > amount or 100 * spent >= amount * pct


def budgets_of_rows(rows: Iterable[tuple[Sequence[Any], int]]) -> list[tuple[Budget, int]]:
    """(domain Budget, spent) for each (budget row, spent): budget_rows' columns, in force. A row the
    domain rejects (threshold 0, end before start, negative amount) is logged and skipped."""
    out: list[tuple[Budget, int]] = []
    for row, spent in rows:
        id_, user, category, amount, currency, start, end, pct = row
        try:
            budget = active_budget(id_, user, category, amount, currency, start, end, threshold_fraction(pct))
        except InputError as exc:
            log.warning("budget %s skipped: %s", id_, exc)
            continue
        out.append((budget, spent))
    return out


@dataclass(frozen=True)
class Spent:
    """The aggregate query's answer: (budget, spent) pairs, how many budgets and which users were in scope."""

    pairs: list[tuple[Budget, int]]
    budgets: int
    user_ids: list[int]


def spent_in_scope(session: Session, today: dt.date, *, alerting_only: bool = False, **scope: Any) -> Spent:
    """Spent for every in-force budget in scope (user_range, user_ids or budget_ids; all when none):
    one query lists the budgets, one aggregate query sums the expenses (see spent_amounts).

    `alerting_only` builds a domain Budget only for budgets the rules could alert on, sparing the
    quiet majority."""
    rows = budget_rows(session, today, **scope)
    if not rows:
        return Spent([], 0, [])
    spent = spent_amounts(session, today, rows, **scope)
    if alerting_only:
        pairs = budgets_of_rows((r, v) for r, v in zip(rows, spent, strict=True) if _could_alert(r, v))
    else:
        pairs = budgets_of_rows(zip(rows, spent, strict=True))
    return Spent(pairs, len(rows), sorted(set(map(itemgetter(_USER), rows))))


def spent_by_budget(session: Session, today: dt.date, **scope: Any) -> list[tuple[Budget, int]]:
    """(budget, spent_minor) for every in-force budget in scope, from the one aggregate query."""
    return spent_in_scope(session, today, **scope).pairs


@dataclass
class BudgetRun:
    """What one evaluation did."""

    today: dt.date
    budgets: int = 0
    users: int = 0
    alerts: int = 0  # alerts the rules raised today (most were stored on an earlier day)
    new_insights: list[NewInsight] = field(default_factory=list)
    cache_keys_deleted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "budgets": self.budgets,
            "users": self.users,
            "alerts": self.alerts,
            "inserted": len(self.new_insights),
            "new_insight_ids": [n.id for n in self.new_insights[:100]],  # job results stay small
            "cache_keys_deleted": self.cache_keys_deleted,
        }


def category_names(session: Session, ids: set[int]) -> dict[int, str]:
    """The names of these categories (budgets' categories, for alerts and statuses): one range query
    over their ids (no list of bind parameters), the ids not asked for dropped."""
    if not ids:
        return {}
    rows = session.execute(select(Category.id, Category.name).where(Category.id.between(min(ids), max(ids))))
    return {cid: name for cid, name in rows if cid in ids}


def evaluate_budgets(
    session: Session,
    redis: Redis | None,
    *,
    today: dt.date,
    user_range: tuple[int, int] | None = None,
    user_ids: Sequence[int] | None = None,
    now: dt.datetime | None = None,
) -> BudgetRun:
    """Evaluate every in-force budget in scope (all, a user-id range, or given users) set-based:
    one aggregate query, the pure rules, one batched INSERT .. ON CONFLICT DO NOTHING; then drop the
    evaluated users' cached status so the next read shows today's figures."""
    run = BudgetRun(today=today)
    spent = spent_in_scope(session, today, alerting_only=True, user_range=user_range, user_ids=user_ids)
    run.budgets, run.users = spent.budgets, len(spent.user_ids)
    names = category_names(session, {b.category_id for b, _ in spent.pairs if b.category_id is not None})
    drafts: list[InsightDraft] = []
    for budget, amount in spent.pairs:
        category = names.get(budget.category_id) if budget.category_id is not None else None
        drafts.extend(evaluate_budget(budget, amount, today, category))
    run.alerts = len(drafts)
    run.new_insights = store_insights(session, drafts, now=now or utcnow())
    if redis is not None and spent.user_ids:
        run.cache_keys_deleted = invalidate_status(redis, spent.user_ids)
    return run


def invalidate_status(redis: Redis, user_ids: Sequence[int] | set[int]) -> int:
    names = [keys.budget_status(u) for u in sorted(user_ids)]
    deleted = 0
    for start in range(0, len(names), 1000):
        deleted += int(redis.delete(*names[start : start + 1000]))
    return deleted


# --- status read ---------------------------------------------------------------------------------


def budget_statuses(
    session: Session, redis: Redis | None, user_id: int, *, today: dt.date
) -> list[dict[str, Any]]:
    """The user's in-force budgets with spent/remaining/percent/state, cached for BUDGET_STATUS_TTL.

    The cached document names its day, so a value computed before midnight is not served after it.
    """
    key = keys.budget_status(user_id)
    if redis is not None:
        raw = redis.get(key)
        if raw is not None:
            doc = json.loads(raw)
            if doc.get("today") == today.isoformat():
                return list(doc["budgets"])
    pairs = spent_by_budget(session, today, user_ids=[user_id])
    names = category_names(session, {b.category_id for b, _ in pairs if b.category_id is not None})
    out = []
    for budget, spent in pairs:
        status = budget_status(budget, spent, today)
        status["category"] = names.get(budget.category_id) if budget.category_id is not None else None
        status["alert_threshold_pct"] = int(budget.alert_threshold * 100)
        out.append(status)
    if redis is not None:
        redis.set(key, json.dumps({"today": today.isoformat(), "budgets": out}), ex=keys.BUDGET_STATUS_TTL)
    return out


# --- creation ------------------------------------------------------------------------------------


def create_budget(
    session: Session,
    redis: Redis | None,
    user_id: int,
    *,
    amount: str,
    start: dt.date,
    end: dt.date,
    category: str | None = None,
    threshold_pct: int = 80,
    currency: str | None = None,
) -> dict[str, Any]:
    """A budget of `amount` (decimal string, major units) for a category by name (created if missing)
    or for all spending; returns its id and the stored values."""
    from finjobs.db.models import User

    user = session.get(User, user_id)
    if user is None:
        from finjobs.errors import NotFound

        raise NotFound(f"no user {user_id}")
    cur = (currency or user.currency).upper()
    try:
        amount_minor = to_minor(Decimal(amount.strip()), cur)
    except (InvalidOperation, ValueError) as exc:
        raise InputError(f"not an amount: {amount!r} ({exc})", source="amount") from None
    if not 1 <= threshold_pct <= 100:
        raise InputError("threshold is a percent between 1 and 100", source="threshold")
    # Validates amount >= 0 and end >= start with the domain's own messages.
    Budget(0, user_id, None, amount_minor, cur, start, end, threshold_fraction(threshold_pct))
    category_id = None
    if category is not None and category.strip():
        name = category.strip()
        category_id = session.scalar(
            select(Category.id).where(Category.user_id == user_id, Category.name == name)
        )
        if category_id is None:
            cat = Category(user_id=user_id, name=name)
            session.add(cat)
            session.flush()
            category_id = cat.id
    row = BudgetRow(
        user_id=user_id,
        category_id=category_id,
        amount_minor=amount_minor,
        currency=cur,
        start_date=start,
        end_date=end,
        alert_threshold_pct=threshold_pct,
    )
    session.add(row)
    session.flush()
    if redis is not None:
        redis.delete(keys.budget_status(user_id))
    return {
        "id": row.id,
        "user_id": user_id,
        "category": category.strip() if category_id is not None and category else None,
        "category_id": category_id,
        "amount_minor": amount_minor,
        "currency": cur,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "alert_threshold_pct": threshold_pct,
    }


# --- daily fan-out -------------------------------------------------------------------------------


def user_chunks(
    session: Session, *, today: dt.date, size: int = USERS_PER_CHUNK
) -> tuple[list[tuple[int, int]], int]:
    """Contiguous inclusive user-id ranges covering every user with an in-force budget, each holding
    about `size` users (at most MAX_CHUNKS ranges); and how many users that is."""
    b = BudgetRow.__table__
    users = list(
        session.scalars(select(b.c.user_id).where(_in_force(b, today)).distinct().order_by(b.c.user_id))
    )
    if not users:
        return [], 0
    n = min(MAX_CHUNKS, -(-len(users) // size))
    per = -(-len(users) // n)
    chunks = [(users[i], users[min(i + per, len(users)) - 1]) for i in range(0, len(users), per)]
    return chunks, len(users)


def budget_job_ids(session: Session, redis: Redis, *, slot: dt.datetime) -> tuple[list[str], int]:
    """Enqueue one budget-evaluation job per user chunk; returns the job ids and the user count."""
    from finjobs.queue.catalogue import BUDGETS
    from finjobs.queue.enqueue import enqueue_job

    today = slot.date()
    chunks, users = user_chunks(session, today=today)
    ids = []
    for k, (lo, hi) in enumerate(chunks, start=1):
        job = enqueue_job(
            redis,
            BUDGETS,
            today.isoformat(),
            lo=lo,
            hi=hi,
            job_id=BUDGETS.job_id(slot=slot, k=k, n=len(chunks)),
            description=f"budgets of users {lo}..{hi} on {today.isoformat()}",
        )
        ids.append(job.id)
    return ids, users


def enqueue_daily_budget_checks(session: Session, redis: Redis, *, slot: dt.datetime) -> dict[str, int]:
    """Scheduler fan-out: users with in-force budgets on the slot's date, split into id ranges, one
    budget-evaluation job per range (ids budgets-YYYYMMDD-k-of-n)."""
    ids, users = budget_job_ids(session, redis, slot=slot)
    return {"users": users, "jobs": len(ids)}
