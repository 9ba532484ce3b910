"""Notification jobs (notification queue): deliver one insight on one channel, at most once."""

from __future__ import annotations

from typing import Any

from finjobs.jobs import job_context


def deliver(insight_id: int, channel: str) -> dict[str, Any]:
    """Send insight `insight_id` by `channel` (email | webhook) unless already delivered. A failed
    send is recorded, committed, then raised, so RQ retries it (5/15/45 s) and it can be replayed."""
    from finjobs.services.notifications import DeliveryFailed, deliver_notification

    with job_context() as (settings, session, _redis):
        outcome = deliver_notification(session, settings, int(insight_id), channel)
    if outcome.status == "failed":
        raise DeliveryFailed(f"{channel} for insight {insight_id}: {outcome.error}")
    return outcome.to_dict()
