"""Insight jobs (insight-generation queue): run the rules for one user, then enqueue notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from finjobs.jobs import job_context


def generate(user_id: int, today: str | None = None) -> dict[str, Any]:
    """Run the insight rules for one user on `today` (ISO date; default: today in FINJOBS_TIMEZONE).
    Notifications for the new warning/critical insights are enqueued after the commit."""
    from finjobs.services.insights import run_insights_for_user
    from finjobs.services.notifications import enqueue_notifications

    with job_context() as (settings, session, redis):
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(settings.tz).date()
        new = run_insights_for_user(session, int(user_id), today=day)
    notified = enqueue_notifications(redis, settings, new)
    return {
        "user_id": int(user_id),
        "today": day.isoformat(),
        "inserted": len(new),
        "new_insights": [n.to_dict() for n in new],
        "notification_jobs": len(notified),
    }
