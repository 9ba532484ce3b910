"""Insights: store drafts once (per-user dedup key, INSERT .. ON CONFLICT DO NOTHING), run the daily rules
for a user, list and dismiss them, and fan the daily run out over insight-generation.

Touches the database session and Redis (enqueue) it is given; decisions live in finjobs.domain.insights.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from finjobs.db.models import AiInsight, Category, Transaction, User
from finjobs.domain.insights import InsightDraft, generate_insights
from finjobs.domain.recurring import CADENCES, Txn
from finjobs.errors import NotFound
from finjobs.services.insight_queries import dialect_insert as dialect_insert  # notifications.py uses it
from finjobs.services.insight_queries import existing_keys, insert_new

# Transactions a daily run reads: the rules look back at most ~14 months (creep, yearly recurring).
HISTORY_DAYS = 400
# Users with a transaction dated within this many days get the daily run.
ACTIVE_WITHIN_DAYS = 7
# How long an insight stays visible. Each lifetime outlasts the window in which its rule can fire
# for the same dedup key, so cleanup (which deletes expired rows) never lets an insight be re-created.
LIFETIME_DAYS: dict[str, int] = {
    "spending_spike": 45,  # episode start walks back <= 30 days
    "category_creep": 45,  # fires during the month after the streak's last month
    "recurring_new": 45,  # third charge <= 31 days old
    "recurring_price_increase": 60,  # change <= 45 days old
    "large_expense": 30,  # transaction in the last 7 days
    "duplicate_charge": 30,  # pair in the last 14 days
}
DEFAULT_LIFETIME_DAYS = {"info": 30, "warning": 60, "critical": 90}
MAX_DEDUP_LEN = 300


@dataclass(frozen=True)
class NewInsight:
    """An insight row created by this run (not one that already existed)."""

    id: int
    user_id: int
    type: str
    severity: str
    dedup_key: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stored_dedup_key(user_id: int, draft_key: str) -> str:
    """ai_insights.dedup_key is unique across users, while rule keys (spending_spike:groceries:...) are
    per user: prefix the user. Keys too long for the column become a digest of themselves."""
    key = f"u{user_id}:{draft_key}"
    if len(key) <= MAX_DEDUP_LEN:
        return key
    return f"u{user_id}:sha256:{hashlib.sha256(draft_key.encode()).hexdigest()}"


def expires_at(draft: InsightDraft, now: dt.datetime) -> dt.datetime:
    """When the insight stops being shown (cleanup then deletes it); see LIFETIME_DAYS."""
    payload = draft.payload
    if draft.type.startswith("budget_") and "end_date" in payload:
        # A budget alert can only fire while its budget is in force: keep it one day past the end.
        end = dt.date.fromisoformat(payload["end_date"]) + dt.timedelta(days=2)
        return dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC)
    if draft.type == "recurring_missed":
        # Fires until the charge is one whole period overdue (a year for yearly bills).
        cadence = CADENCES.get(payload.get("cadence"))  # type: ignore[arg-type]
        period = cadence.period_days + cadence.tolerance_days if cadence else 30
        return now + dt.timedelta(days=max(60, period + 45))
    days = LIFETIME_DAYS.get(draft.type, DEFAULT_LIFETIME_DAYS.get(draft.severity, 30))
    return now + dt.timedelta(days=days)


def store_insights(session: Session, drafts: Sequence[InsightDraft], *, now: dt.datetime) -> list[NewInsight]:
    """Insert drafts that are not stored yet; returns only the rows this call created.

    Idempotent under concurrency: the unique dedup_key and ON CONFLICT DO NOTHING decide, not the
    read. The read only skips the common case cheaply: most of today's alerts were stored before.
    """
    rows: dict[str, dict[str, Any]] = {}
    for d in drafts:
        if d.user_id is None:
            raise ValueError(f"insight draft {d.dedup_key!r} has no user_id")
        key = stored_dedup_key(d.user_id, d.dedup_key)
        rows[key] = {
            "user_id": d.user_id,
            "type": d.type,
            "severity": d.severity,
            "title": d.title[:300],
            "message": d.message,
            "payload": d.payload,
            "dedup_key": key,
            "created_at": now,
            "expires_at": expires_at(d, now),
        }
    for key in existing_keys(session, list(rows)):
        del rows[key]
    if not rows:
        return []
    created = [NewInsight(*row) for row in insert_new(session, list(rows.values()))]
    created.sort(key=lambda n: n.id)
    return created


def load_txns(session: Session, user_id: int, *, today: dt.date, currency: str) -> list[Txn]:
    """The user's posted transactions in `currency` over the last HISTORY_DAYS, category by name."""
    since = today - dt.timedelta(days=HISTORY_DAYS)
    stmt = (
        select(
            Transaction.id,
            Transaction.date,
            Transaction.amount_minor,
            Transaction.description,
            Category.name,
        )
        .outerjoin(Category, Category.id == Transaction.category_id)
        .where(
            Transaction.user_id == user_id,
            Transaction.currency == currency,
            Transaction.status == "posted",
            Transaction.date >= since,
            Transaction.date <= today,
        )
        .order_by(Transaction.date, Transaction.id)
    )
    return [
        Txn(id=r[0], date=r[1], amount_minor=r[2], description=r[3] or "", category=r[4])
        for r in session.execute(stmt)
    ]


def run_insights_for_user(
    session: Session, user_id: int, *, today: dt.date, now: dt.datetime | None = None
) -> list[NewInsight]:
    """Run every insight rule over one user's history; store and return the new insights."""
    from finjobs.db.models import utcnow

    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    from finjobs.services.recurring import user_series

    txns = load_txns(session, user_id, today=today, currency=user.currency)
    series, _currency = user_series(session, user_id, today=today, txns=txns)
    drafts = generate_insights(txns, today, currency=user.currency, user_id=user_id, series=series)
    return store_insights(session, drafts, now=now or utcnow())


def insight_dict(row: AiInsight) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "severity": row.severity,
        "title": row.title,
        "message": row.message,
        "payload": row.payload,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "dismissed_at": row.dismissed_at.isoformat() if row.dismissed_at else None,
    }


def list_insights(
    session: Session, user_id: int, *, now: dt.datetime, limit: int = 100
) -> list[dict[str, Any]]:
    """The user's visible insights: not dismissed, not expired; newest first."""
    stmt = (
        select(AiInsight)
        .where(
            AiInsight.user_id == user_id,
            AiInsight.dismissed_at.is_(None),
            or_(AiInsight.expires_at.is_(None), AiInsight.expires_at > now),
        )
        .order_by(AiInsight.created_at.desc(), AiInsight.id.desc())
        .limit(limit)
    )
    return [insight_dict(r) for r in session.scalars(stmt)]


def dismiss_insight(session: Session, user_id: int, insight_id: int, *, now: dt.datetime) -> dict[str, Any]:
    """Hide an insight. Someone else's insight is NotFound, exactly like a missing one."""
    row = session.scalar(
        select(AiInsight).where(and_(AiInsight.id == insight_id, AiInsight.user_id == user_id))
    )
    if row is None:
        raise NotFound(f"no insight {insight_id}")
    if row.dismissed_at is None:
        row.dismissed_at = now
        session.flush()
    return insight_dict(row)


def active_user_ids(session: Session, *, today: dt.date) -> list[int]:
    """Users with a transaction dated within the last ACTIVE_WITHIN_DAYS days (today included)."""
    since = today - dt.timedelta(days=ACTIVE_WITHIN_DAYS - 1)
    stmt = (
        select(Transaction.user_id)
        .where(Transaction.date >= since, Transaction.date <= today)
        .distinct()
        .order_by(Transaction.user_id)
    )
    return list(session.scalars(stmt))


def insight_job_ids(
    session: Session, redis: Redis, *, slot: dt.datetime, user_ids: Sequence[int] | None = None
) -> list[str]:
    """Enqueue one insight-generation job per user (all active users by default); returns the job ids."""
    from finjobs.queue.catalogue import INSIGHTS
    from finjobs.queue.enqueue import enqueue_job

    today = slot.date()
    users = active_user_ids(session, today=today) if user_ids is None else list(user_ids)
    ids = []
    for uid in users:
        job = enqueue_job(
            redis,
            INSIGHTS,
            int(uid),
            today.isoformat(),
            job_id=INSIGHTS.job_id(slot=slot, user_id=uid),
            description=f"insights for user {uid} on {today.isoformat()}",
        )
        ids.append(job.id)
    return ids


def enqueue_daily_insights(session: Session, redis: Redis, *, slot: dt.datetime) -> dict[str, int]:
    """Scheduler fan-out: one job per user with transactions in the last 7 days (ids per user and day)."""
    ids = insight_job_ids(session, redis, slot=slot)
    return {"users": len(ids), "jobs": len(ids)}
