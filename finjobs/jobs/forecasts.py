"""Forecast jobs (forecast-compute queue): one service call each. The worker's parent preloads Prophet
(registry preload finjobs.adapters.prophet_model) and, when the registry also names this module, the
service and the ORM mappers (preload() below), so a forked work horse starts fitting at once."""

from __future__ import annotations

from typing import Any

from finjobs.jobs import job_context


def preload() -> None:
    """Once in the worker's parent, after the adapter's preload: import the forecast service, configure
    the ORM mappers, collect, and move every object alive so far into the GC's permanent generation, so a
    forked work horse neither re-imports finjobs.db.models (~60 ms) nor walks (and so copy-on-write
    copies) the parent's Prophet/pandas heap in its first full collection. Measured, one fork per spending
    job on 730 days, runs alternated: ~0.25 s CPU per job with the adapter preload alone, ~0.11 s with
    this too. Takes effect when the registry's forecast-compute preload names this module."""
    import gc

    from sqlalchemy.orm import configure_mappers

    import finjobs.services.forecasts  # noqa: F401

    configure_mappers()
    gc.collect()
    gc.freeze()


def forecast_spending(user_id: int) -> dict[str, Any]:
    """Forecast the user's total daily spend; store it and refresh the forecast cache."""
    from finjobs.services.forecasts import KIND_SPENDING, run_forecast_job

    with job_context() as (settings, session, redis):
        return run_forecast_job(session, redis, int(user_id), tz=settings.tz, kind=KIND_SPENDING)


def forecast_category(user_id: int, category: str) -> dict[str, Any]:
    """Forecast the user's daily spend in one category (by name); store it and refresh the cache."""
    from finjobs.services.forecasts import KIND_CATEGORY, run_forecast_job

    with job_context() as (settings, session, redis):
        return run_forecast_job(
            session, redis, int(user_id), tz=settings.tz, kind=KIND_CATEGORY, category=str(category)
        )
