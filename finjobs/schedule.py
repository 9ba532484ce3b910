"""THE schedule table: which fan-out runs when (cron in settings.timezone), declared once.

Pure data. The machinery (rq-scheduler registration, the per-slot ledger, the run loop) lives in
finjobs.services.scheduling; fan-outs are dotted paths resolved only when a slot runs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    """One periodic fan-out. `fanout` is "module.function" with the signature
    `fn(session, redis, *, slot: datetime) -> dict[str, int]` (slot: the aware UTC slot time)."""

    name: str  # stable: the ledger key and the rq-scheduler job id (schedule-<name>)
    cron: str  # five fields, read in settings.timezone
    fanout: str
    queue: str = "data-cleanup"  # where the trigger job (finjobs.jobs.schedule.fire) runs
    description: str = ""

    @property
    def job_id(self) -> str:
        return f"schedule-{self.name}"


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "weekly-forecast",
        "0 2 * * 0",
        "finjobs.services.forecasts.enqueue_weekly_forecasts",
        description="spending forecasts for every user",
    ),
    Schedule(
        "daily-budget-check",
        "0 6 * * *",
        "finjobs.services.budgets.enqueue_daily_budget_checks",
        description="budget status and alerts for every user",
    ),
    Schedule(
        "daily-insights",
        "0 3 * * *",
        "finjobs.services.insights.enqueue_daily_insights",
        description="insight rules for every user",
    ),
    Schedule(
        "weekly-cleanup",
        "0 4 * * 0",
        "finjobs.services.scheduling.cleanup_fanout",
        description="purge expired insights, failed voice logs and stale cache keys",
    ),
)


def by_name(table: tuple[Schedule, ...] = SCHEDULES) -> dict[str, Schedule]:
    return {s.name: s for s in table}
