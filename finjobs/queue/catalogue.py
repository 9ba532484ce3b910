"""THE job catalogue, beside the queue registry: every job finjobs enqueues, its dotted path, its queue
and the format of its deterministic id. Pure data; `finjobs.queue.enqueue.enqueue_job` enqueues from it.

A path here is a wire contract (jobs already in Redis name it): rename only with a forwarding alias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobKind:
    """One kind of job. `id_format` is a str.format template over keyword fields (None: RQ picks the id)."""

    path: str
    queue: str
    id_format: str | None

    def job_id(self, **fields: Any) -> str:
        if self.id_format is None:
            raise ValueError(f"{self.path} has no deterministic id")
        return self.id_format.format(**fields)


IMPORT = JobKind("finjobs.jobs.imports.run_import", "csv-import", "import-{import_id}")
RECEIPT_SCAN = JobKind("finjobs.jobs.receipts.scan_receipt", "ocr-processing", "receipt-{receipt_id}")
FORECAST_SPENDING = JobKind(
    "finjobs.jobs.forecasts.forecast_spending", "forecast-compute", "forecast-{user_id}-{tag}"
)
FORECAST_CATEGORY = JobKind(
    "finjobs.jobs.forecasts.forecast_category", "forecast-compute", "forecast-{user_id}-{tag}-c{category_id}"
)
BUDGETS = JobKind("finjobs.jobs.budgets.evaluate", "budget-evaluation", "budgets-{slot:%Y%m%d}-{k}-of-{n}")
INSIGHTS = JobKind("finjobs.jobs.insights.generate", "insight-generation", "insights-{slot:%Y%m%d}-{user_id}")
NOTIFY = JobKind("finjobs.jobs.notifications.deliver", "notification", "notify-{insight_id}-{channel}")
CLEANUP = JobKind("finjobs.jobs.maintenance.cleanup", "data-cleanup", "cleanup-{day:%Y%m%d}")
# The schedule trigger: rq-scheduler enqueues it (services/scheduling.py) on the Schedule's own queue.
SCHEDULE_FIRE = JobKind("finjobs.jobs.schedule.fire", "data-cleanup", "schedule-{name}")

JOBS: tuple[JobKind, ...] = (
    IMPORT,
    RECEIPT_SCAN,
    FORECAST_SPENDING,
    FORECAST_CATEGORY,
    BUDGETS,
    INSIGHTS,
    NOTIFY,
    CLEANUP,
    SCHEDULE_FIRE,
)
