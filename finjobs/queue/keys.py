"""finjobs' own Redis keys (beside RQ's `rq:*`): one place names them, their TTLs and their owners."""

from __future__ import annotations

BUDGET_STATUS_TTL = 15 * 60
FORECAST_TTL = 7 * 24 * 3600

# prefix -> what the part after the prefix is; cleanup uses this to find stale keys
USER_KEY_PREFIXES = ("budget_status:", "forecast:")
ALL_PREFIXES = (*USER_KEY_PREFIXES, "finjobs:")
# Durable state that must never expire and that cleanup must not sweep as a TTL-less cache key:
# job metrics counters, paused queues, the console's session secret (finjobs.services.metrics,
# finjobs.queue.pause, finjobs.web.console). Outside every prefix above on purpose.
STATE_PREFIX = "finjobs-state:"


def budget_status(user_id: int) -> str:
    return f"budget_status:{user_id}"


def forecast(user_id: int) -> str:
    return f"forecast:{user_id}"
