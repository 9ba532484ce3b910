"""The trigger job rq-scheduler enqueues for a schedule entry: claims the due slot(s) in the
schedule_runs ledger and runs the fan-out. Touches the database and Redis via the services."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from finjobs.config import Settings
from finjobs.db.models import utcnow
from finjobs.queue.connection import connect_redis


def fire(name: str, *, table: str = "finjobs.schedule.SCHEDULES") -> list[dict[str, Any]]:
    """Run schedule `name` for every unclaimed slot due now; a slot someone else claimed is a no-op.
    `table`: dotted path of the schedule table (another table only in tests)."""
    import importlib

    from finjobs.services.scheduling import fire_schedule

    module, _, attr = table.rpartition(".")
    schedules = getattr(importlib.import_module(module), attr)

    settings = Settings.from_env()
    job = get_current_job()
    redis = job.connection if job is not None else connect_redis(settings)
    owner = f"job:{job.id}:{job.worker_name}" if job is not None else "job"
    runs = fire_schedule(
        settings.database_url, redis, name, utcnow(), tz=settings.tz, table=schedules, owner=owner
    )
    return [r.to_dict() for r in runs]
