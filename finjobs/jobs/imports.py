"""csv-import jobs."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from finjobs.config import Settings
from finjobs.queue.connection import connect_redis


def run_import(import_id: int) -> dict[str, Any]:
    """Import one accepted CSV (its bytes are in the database). Bad input is recorded as `rejected`
    and returns; an infrastructure error propagates so the job retries, and on its last attempt the
    import is marked `failed` with the reason (none of its rows were kept)."""
    from finjobs.services.imports import Counts, mark_failed
    from finjobs.services.imports import run_import as run

    settings = Settings.from_env()
    job = get_current_job()
    redis = job.connection if job is not None else connect_redis(settings)

    def report(counts: Counts) -> None:
        if job is not None:
            job.meta["progress"] = counts.as_progress()
            job.save_meta()

    try:
        return run(settings, redis, import_id, report=report)
    except Exception as exc:
        if job is None or not job.retries_left:
            mark_failed(settings, import_id, f"{type(exc).__name__}: {exc}")
        raise
