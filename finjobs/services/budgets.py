"""Budgets: set-based evaluation (one aggregate query for every budget in scope), alert insights stored
once per (budget, type, period), the cached status read, creation, and the daily fan-out.

Touches the database session and Redis it is given; the alert rules live in finjobs.domain.budgets.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from redis import Redis
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, text, union_all
from sqlalchemy.orm import Session

from finjobs.db.models import Budget as BudgetRow
from finjobs.db.models import Category, Transaction, utcnow
from finjobs.domain.budgets import Budget, budget_status, evaluate_budget
from finjobs.domain.insights import InsightDraft
from finjobs.domain.money import to_minor
from finjobs.errors import InputError
from finjobs.queue import keys
from finjobs.services.insights import NewInsight, store_insights

log = logging.getLogger(__name__)

# Users per budget-evaluation job; the fan-out never makes more jobs than MAX_CHUNKS.
USERS_PER_CHUNK = 2000
MAX_CHUNKS = 50


@cache
def threshold_fraction(pct: int) -> Decimal:
    """budgets.alert_threshold_pct is an integer percent; the domain takes a fraction."""
    return Decimal(pct) / 100


def _in_force(b: Any, today: dt.date) -> ColumnElement[bool]:
    return and_(
        b.c.is_active.is_(True),
        b.c.deleted_at.is_(None),
        b.c.start_date <= today,
        b.c.end_date >= today,
    )


def _scope(
    today: dt.date,
    *,
    user_range: tuple[int, int] | None = None,
    user_ids: Sequence[int] | None = None,
    budget_ids: Sequence[int] | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE clauses picking the in-force budgets in scope."""
    b = BudgetRow.__table__
    scope: list[ColumnElement[bool]] = [_in_force(b, today)]
    if user_range is not None:
        scope.append(b.c.user_id.between(*user_range))
    if user_ids is not None:
        scope.append(b.c.user_id.in_(list(user_ids)))
    if budget_ids is not None:
        scope.append(b.c.id.in_(list(budget_ids)))
    return scope


def spent_select(
    today: dt.date,
    *,
    user_range: tuple[int, int] | None = None,
    user_ids: Sequence[int] | None = None,
    budget_ids: Sequence[int] | None = None,
    since: dt.date | None = None,
    txn_users: Sequence[int] | None = None,
    alerting_only: bool = False,
    same_start: bool = False,
    users_as_array: bool = False,
) -> Select[Any]:
    """One query: every in-force budget in scope with what has been spent against it so far.

    spent = the sum of the user's posted expenses (amount_minor < 0, as a positive number) in the
    budget's currency, dated start_date..today (today <= end_date for a budget in force), in its
    category or in any category when category_id is NULL.

    `alerting_only` keeps only budgets the rules could alert on: spent > half the amount (needed
    for a projection, implied by exceeded) or spent >= the alert threshold (warning). The domain
    rules still decide; this necessary condition just spares building the quiet majority.

    Category budgets and all-spending budgets are two joins on equality keys, (user, category) and
    (user), glued by UNION ALL, so the database hash-joins instead of re-reading a user's
    transactions for each of their budgets. `since` (the earliest start_date in scope) and
    `txn_users` (the users in scope) bound that read with literals the planner can use: PostgreSQL
    then probes ix_transactions_user_date once per user and day range. Without them a scalar
    subquery gives the same date bound (correct, but PostgreSQL cannot estimate it).
    `same_start` says every budget in scope starts on `since` (monthly budgets usually do): the
    date bound then does the whole date test, and no per-day rows are needed.
    `users_as_array` (PostgreSQL only) passes `txn_users` as one array parameter.
    """
    b = BudgetRow.__table__
    t = Transaction.__table__
    scope = _scope(today, user_range=user_range, user_ids=user_ids, budget_ids=budget_ids)
    # Transactions older than the earliest budget in scope can never count.
    first_day: Any = (
        since if since is not None else select(func.min(b.c.start_date)).where(*scope).scalar_subquery()
    )
    txn_where = [t.c.amount_minor < 0, t.c.status == "posted", t.c.date >= first_day, t.c.date <= today]
    if txn_users is not None and users_as_array:
        from sqlalchemy import BigInteger, any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        # One array parameter instead of a placeholder per user (psycopg parses every placeholder).
        txn_where.append(
            t.c.user_id == any_(bindparam("txn_users", list(txn_users), type_=ARRAY(BigInteger)))
        )
    elif txn_users is not None:
        txn_where.append(t.c.user_id.in_(list(txn_users)))
    cols = [t.c.user_id, t.c.category_id, t.c.currency]
    if not same_start:
        cols.append(t.c.date)  # budgets start on different days: keep the day to compare with each start
    daily: Any = select(*cols, t.c.amount_minor).where(*txn_where)
    if txn_users is None:
        # The whole table: PostgreSQL scans it (in parallel) and hash-joins; nothing to pre-aggregate.
        daily = daily.subquery("expense")
    else:
        # Some users: read their window once through the index, sum it per (user, category[, day]),
        # and join budgets to that. Without the CTE, PostgreSQL misjudges the join size and merges
        # on user_id alone, re-reading each user's rows for every one of their budgets.
        daily = (
            select(*cols, func.sum(t.c.amount_minor).label("amount_minor"))
            .where(*txn_where)
            .group_by(*cols)
            .cte("daily")
        )
    same_user = and_(daily.c.user_id == b.c.user_id, daily.c.currency == b.c.currency)
    if not same_start:
        same_user = and_(same_user, daily.c.date >= b.c.start_date)
    by_category = (
        select(b.c.id.label("budget_id"), func.sum(-daily.c.amount_minor).label("spent"))
        .select_from(b.join(daily, and_(same_user, daily.c.category_id == b.c.category_id)))
        .where(*scope, b.c.category_id.is_not(None))
        .group_by(b.c.id)
    )
    everything = (
        select(b.c.id.label("budget_id"), func.sum(-daily.c.amount_minor).label("spent"))
        .select_from(b.join(daily, same_user))
        .where(*scope, b.c.category_id.is_(None))
        .group_by(b.c.id)
    )
    spend = union_all(by_category, everything).subquery("spend")
    spent = func.coalesce(spend.c.spent, 0)
    where = list(scope)
    if alerting_only:
        where.append(
            or_(2 * spent > b.c.amount_minor, 100 * spent >= b.c.amount_minor * b.c.alert_threshold_pct)
        )
    return (
        select(
            b.c.id,
            b.c.user_id,
            b.c.category_id,
            b.c.amount_minor,
            b.c.currency,
            b.c.start_date,
            b.c.end_date,
            b.c.alert_threshold_pct,
            spent.label("spent"),
        )
        .select_from(b.outerjoin(spend, spend.c.budget_id == b.c.id))
        .where(*where)
        .order_by(b.c.id)
    )


def _budget(row: Any) -> Budget:
    return Budget(
        id=row.id,
        user_id=row.user_id,
        category_id=row.category_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        start_date=row.start_date,
        end_date=row.end_date,
        alert_threshold=threshold_fraction(row.alert_threshold_pct),
    )


@dataclass(frozen=True)
class Spent:
    """The aggregate query's answer: (budget, spent) pairs, how many budgets and which users were in scope."""

    pairs: list[tuple[Budget, int]]
    budgets: int
    user_ids: list[int]


def spent_in_scope(session: Session, today: dt.date, *, alerting_only: bool = False, **scope: Any) -> Spent:
    """Run the aggregate query over the in-force budgets in scope (see spent_select).

    A first, small query over budgets alone reads the date bound and the users in scope; both go
    into the aggregate query as literals. On PostgreSQL JIT is turned off for the transaction: its
    compile time (~50 ms) exceeds what it saves on a query this size."""
    b = BudgetRow.__table__
    where = _scope(today, **scope)
    bounds = session.execute(
        select(b.c.user_id, func.min(b.c.start_date), func.max(b.c.start_date), func.count())
        .where(*where)
        .group_by(b.c.user_id)
    ).all()
    if not bounds:
        return Spent([], 0, [])
    since = min(row[1] for row in bounds)
    same_start = max(row[2] for row in bounds) == since
    # A partial scope names its users, so PostgreSQL probes the (user_id, date) index per user;
    # the whole table is cheaper to scan than to probe.
    in_scope = [row[0] for row in bounds]
    users = in_scope if any(v is not None for v in scope.values()) else None
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '32MB'"))  # the sorts of a 2,000-user chunk fit in memory
    stmt = spent_select(
        today,
        since=since,
        txn_users=users,
        alerting_only=alerting_only,
        same_start=same_start,
        users_as_array=pg,
        **scope,
    )
    pairs = []
    for r in session.execute(stmt).all():  # one fetch, not a fetchone per row
        try:
            pairs.append((_budget(r), int(r.spent)))
        except InputError as exc:  # a row the domain rejects (threshold 0, end before start)
            log.warning("budget %s skipped: %s", r.id, exc)

    return Spent(pairs, sum(row[3] for row in bounds), in_scope)


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
    drafts: list[InsightDraft] = []
    for budget, amount in spent.pairs:
        drafts.extend(evaluate_budget(budget, amount, today))
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
    names: dict[int, str] = dict(
        session.execute(select(Category.id, Category.name).where(Category.user_id == user_id)).all()
    )
    out = []
    for budget, spent in spent_by_budget(session, today, user_ids=[user_id]):
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
    from finjobs.queue.enqueue import enqueue

    today = slot.date()
    chunks, users = user_chunks(session, today=today)
    ids = []
    for k, (lo, hi) in enumerate(chunks, start=1):
        job = enqueue(
            redis,
            "budget-evaluation",
            "finjobs.jobs.budgets.evaluate",
            today.isoformat(),
            lo=lo,
            hi=hi,
            job_id=f"budgets-{slot:%Y%m%d}-{k}-of-{len(chunks)}",
            description=f"budgets of users {lo}..{hi} on {today.isoformat()}",
        )
        ids.append(job.id)
    return ids, users


def enqueue_daily_budget_checks(session: Session, redis: Redis, *, slot: dt.datetime) -> dict[str, int]:
    """Scheduler fan-out: users with in-force budgets on the slot's date, split into id ranges, one
    budget-evaluation job per range (ids budgets-YYYYMMDD-k-of-n)."""
    ids, users = budget_job_ids(session, redis, slot=slot)
    return {"users": users, "jobs": len(ids)}
