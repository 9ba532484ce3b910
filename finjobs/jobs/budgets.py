"""Budget jobs (budget-evaluation queue): evaluate one range of users, then enqueue notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from finjobs.jobs import job_context


def evaluate(today: str | None = None, *, lo: int | None = None, hi: int | None = None) -> dict[str, Any]:
    """Evaluate the in-force budgets of users lo..hi (all users when both are None) on `today` (ISO
    date; default: today in FINJOBS_TIMEZONE). Notifications are enqueued after the commit."""
    from finjobs.services.budgets import evaluate_budgets
    from finjobs.services.notifications import enqueue_notifications

    with job_context() as (settings, session, redis):
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(settings.tz).date()
        user_range = None if lo is None and hi is None else (lo or 0, hi if hi is not None else 2**62)
        run = evaluate_budgets(session, redis, today=day, user_range=user_range)
    notified = enqueue_notifications(redis, settings, run.new_insights)
    return run.to_dict() | {"notification_jobs": len(notified)}
