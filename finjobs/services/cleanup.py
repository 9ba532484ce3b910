"""Data cleanup (weekly): dismissed insights > 30 days (once their dedup window is over), expired
insights, failed voice logs > 90 days, and finjobs' own stale Redis keys (cache keys with no TTL or
whose user no longer exists)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis
from sqlalchemy import Delete, delete, or_, select
from sqlalchemy.orm import Session

from finjobs.db.models import AiInsight, User, VoiceLog
from finjobs.queue.keys import ALL_PREFIXES, USER_KEY_PREFIXES

DISMISSED_INSIGHT_AGE = dt.timedelta(days=30)
FAILED_VOICE_LOG_AGE = dt.timedelta(days=90)


@dataclass(frozen=True)
class CleanupReport:
    dismissed_insights: int
    expired_insights: int
    failed_voice_logs: int
    redis_keys: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def run_cleanup(session: Session, redis: Redis, *, now: dt.datetime) -> CleanupReport:
    # A dismissed insight's row is also its dedup key: deleting it while its rule still holds (a yearly
    # budget, a yearly bill overdue) would let the daily run create it again, so it waits for expiry.
    dismissed = _deleted(
        session,
        delete(AiInsight).where(
            AiInsight.dismissed_at < now - DISMISSED_INSIGHT_AGE,
            or_(AiInsight.expires_at.is_(None), AiInsight.expires_at < now),
        ),
    )
    expired = _deleted(session, delete(AiInsight).where(AiInsight.expires_at < now))
    voice = _deleted(
        session,
        delete(VoiceLog).where(VoiceLog.status == "failed", VoiceLog.created_at < now - FAILED_VOICE_LOG_AGE),
    )
    session.flush()
    keys = purge_stale_keys(session, redis)
    return CleanupReport(dismissed, expired, voice, keys)


def purge_stale_keys(session: Session, redis: Redis) -> int:
    """A finjobs cache key is stale when it has no TTL (every cache key must expire) or names a user
    that no longer exists. RQ's keys are RQ's business: its own maintenance cleans them."""
    user_ids = set(session.scalars(select(User.id)))
    stale: list[bytes] = []
    for prefix in ALL_PREFIXES:
        for key in redis.scan_iter(match=prefix + "*", count=500):
            name = key.decode()
            if redis.ttl(key) == -1:
                stale.append(key)
                continue
            if name.startswith(USER_KEY_PREFIXES):
                owner = name.split(":", 1)[1]
                if not owner.isdigit() or int(owner) not in user_ids:
                    stale.append(key)
    if stale:
        redis.delete(*stale)
    return len(stale)
