"""finjobs' own Redis keys (beside RQ's `rq:*`): one place names them, their TTLs and their owners."""

from __future__ import annotations

BUDGET_STATUS_TTL = 15 * 60
FORECAST_TTL = 7 * 24 * 3600

# prefix -> what the part after the prefix is; cleanup uses this to find stale keys
USER_KEY_PREFIXES = ("budget_status:", "forecast:")
ALL_PREFIXES = (*USER_KEY_PREFIXES, "finjobs:")


def budget_status(user_id: int) -> str:
    return f"budget_status:{user_id}"


def forecast(user_id: int) -> str:
    return f"forecast:{user_id}"
