"""`finjobs schedule register|list|clear|run NAME`, and the top-level `finjobs scheduler` (the Procfile
process) and `finjobs reconcile` commands. Thin shells over finjobs.services.scheduling/recovery."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import typer

from finjobs.cli import context

app = typer.Typer(help="Periodic jobs (cron table, run once per slot).", no_args_is_help=True)


def _emit(doc: Any, json_out: bool) -> None:
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(doc, highlight=False)


@app.command()
def register(json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Make rq-scheduler hold exactly the schedule table (idempotent: run it as often as you like)."""
    from finjobs.services.scheduling import register as do_register

    report = do_register(context.redis(), tz=context.settings().tz)
    _emit(report.to_dict(), json_out)


@app.command("list")
def list_(
    count: int = typer.Option(3, "--next", min=1, max=50, help="How many next run times to show."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Each schedule: its cron in words, the next run times (local zone), registration, last run."""
    from rich.table import Table

    from finjobs.schedule import SCHEDULES
    from finjobs.services.scheduling import describe, last_runs, next_slots, registered

    settings = context.settings()
    tz = settings.tz
    now = datetime.now(UTC)
    entries = registered(context.redis())
    last = last_runs(settings.database_url, [s.name for s in SCHEDULES])
    rows: list[dict[str, Any]] = []
    for s in SCHEDULES:
        reg = entries.get(s.job_id)
        rows.append(
            {
                "name": s.name,
                "cron": s.cron,
                "when": describe(s.cron),
                "timezone": settings.timezone,
                "fanout": s.fanout,
                "queue": s.queue,
                "next": [t.astimezone(tz).isoformat() for t in next_slots(s.cron, tz, now, count)],
                "registered": reg is not None,
                "registered_next": reg[1].astimezone(tz).isoformat() if reg else None,
                "last": last.get(s.name),
            }
        )
    if json_out:
        context.emit_json({"timezone": settings.timezone, "schedules": rows})
        return
    table = Table(title=f"schedules ({settings.timezone})", title_justify="left")
    for col in ("name", "cron", "when", "next", "registered", "last run"):
        table.add_column(col)
    for r in rows:
        lr = r["last"]
        table.add_row(
            r["name"],
            r["cron"],
            r["when"],
            "\n".join(datetime.fromisoformat(t).strftime("%a %d %b %H:%M") for t in r["next"]),
            "yes" if r["registered"] else "[red]no[/red]",
            f"{datetime.fromisoformat(lr['slot']).astimezone(tz):%a %d %b %H:%M} {lr['status']}"
            if lr
            else "",
        )
    context.console.print(table)


@app.command()
def clear(json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Remove finjobs' entries from rq-scheduler (the run ledger is kept)."""
    from finjobs.services.scheduling import clear as do_clear

    _emit({"removed": do_clear(context.redis())}, json_out)


@app.command()
def run(
    name: str = typer.Argument(..., help="Schedule name (see `finjobs schedule list`)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Run one schedule's fan-out now, here. Its slot is the current instant (its own ledger row)."""
    from finjobs.errors import NotFound
    from finjobs.schedule import by_name
    from finjobs.services.scheduling import run_manual

    sched = by_name().get(name)
    if sched is None:
        raise NotFound(f"no schedule named {name!r} (known: {', '.join(by_name())})")
    result = run_manual(context.settings().database_url, context.redis(), sched, datetime.now(UTC))
    _emit(result.to_dict(), json_out)
    if result.status != "done":
        raise typer.Exit(1)


def scheduler(
    interval: float = typer.Option(5.0, "--interval", min=0.5, help="Seconds between passes."),
    name: str | None = typer.Option(None, "--name", help="Instance name (default host-pid)."),
    once: bool = typer.Option(False, "--once", help="Register, catch up, one pass, then exit."),
) -> None:
    """The scheduler process: registers the table, fires due entries, re-queues jobs of dead workers
    (every pass), catches up missed slots and reconciles accepted imports/receipts (every minute)."""
    import signal
    import threading

    from finjobs.db.migrate import wait_for_schema
    from finjobs.services.scheduling import SchedulerLoop

    settings = context.settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    wait_for_schema(settings.database_url)
    loop = SchedulerLoop(settings.database_url, context.redis(), tz=settings.tz, name=name, interval=interval)
    if once:
        import time

        report = loop.start(datetime.now(UTC))
        loop.step(datetime.now(UTC), time.monotonic())
        context.emit_json(report)
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    loop.run(stop)


def reconcile(json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Re-enqueue accepted/running imports and receipts that have no live job (after a Redis restart
    or flush), and re-queue jobs whose worker died."""
    from finjobs.services.recovery import reconcile_accepted, requeue_abandoned

    redis = context.redis()
    with context.session() as session:
        report = reconcile_accepted(session, redis).to_dict()
    report["abandoned"] = requeue_abandoned(redis)
    _emit(report, json_out)
