"""Maintenance jobs (data-cleanup queue)."""

from __future__ import annotations

from typing import Any

from finjobs.db.models import utcnow
from finjobs.jobs import job_context


def cleanup() -> dict[str, Any]:
    """Weekly data cleanup; returns what it removed."""
    from finjobs.services.cleanup import run_cleanup

    with job_context() as (_settings, session, redis):
        return run_cleanup(session, redis, now=utcnow()).to_dict()
