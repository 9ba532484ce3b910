"""`finjobs worker QUEUE... [--concurrency N] [--burst] [--all]`: worker processes for queues."""

from __future__ import annotations

import logging

import typer

from finjobs.cli import context
from finjobs.errors import InputError


def worker(
    queues: list[str] | None = typer.Argument(None, help="Queue names (see `finjobs status`)."),
    concurrency: int | None = typer.Option(
        None, "--concurrency", "-c", min=1, help="Processes per queue (default: the registry's)."
    ),
    burst: bool = typer.Option(False, "--burst", help="Exit when the queues are empty."),
    all_queues: bool = typer.Option(False, "--all", help="Every queue."),
) -> None:
    """Run worker processes: per queue, its registry concurrency (or --concurrency) forked workers."""
    from finjobs.queue.registry import QUEUES, spec
    from finjobs.queue.worker import run_pool

    names = list(QUEUES) if all_queues else list(queues or [])
    if not names:
        raise InputError("name at least one queue, or use --all")
    slots = {spec(n).name: concurrency or spec(n).concurrency for n in names}
    settings = context.settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_pool(context.redis(), slots, burst=burst, logging_level=settings.log_level)
