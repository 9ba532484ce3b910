"""`finjobs jobs failed|show|replay`: inspect failed jobs and run them again."""

from __future__ import annotations

import typer

from finjobs.cli import context
from finjobs.errors import InputError

app = typer.Typer(help="Inspect and replay jobs.", no_args_is_help=True)


@app.command()
def failed(
    queue: str | None = typer.Option(None, "--queue", "-q", help="Only this queue."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """List failed jobs (kept 7 days)."""
    from finjobs.queue.registry import spec
    from finjobs.services.queues import failed_jobs

    if queue:
        spec(queue)
    jobs = failed_jobs(context.redis(), queue)
    if json_out:
        context.emit_json({"failed": jobs})
        return
    from rich.table import Table

    table = Table(title=f"failed jobs ({len(jobs)})", title_justify="left")
    for col in ("id", "queue", "func", "ended", "error"):
        table.add_column(col)
    for j in jobs:
        table.add_row(j["id"], j["queue"], j["func"], j["ended_at"] or "", j.get("error", ""))
    context.console.print(table)


@app.command()
def show(
    job_id: str, json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")
) -> None:
    """Everything about one job: args, status, timings, retries left, result or traceback."""
    from finjobs.services.queues import show_job

    doc = show_job(context.redis(), job_id)
    if json_out:
        context.emit_json(doc)
        return
    for key, value in doc.items():
        if key != "traceback":
            context.console.print(f"[bold]{key}[/bold]: {value}", highlight=False)
    if doc.get("traceback"):
        context.console.print(doc["traceback"], highlight=False, markup=False)


@app.command()
def replay(
    job_ids: list[str] | None = typer.Argument(None, help="Failed job ids."),
    queue: str | None = typer.Option(None, "--queue", "-q", help="With --all: the queue to replay."),
    all_: bool = typer.Option(False, "--all", help="Replay every failed job of --queue."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Put failed jobs back on their queue with their retries restored."""
    from finjobs.queue.registry import spec
    from finjobs.services.queues import replay as replay_ids
    from finjobs.services.queues import replay_queue

    if all_:
        if not queue or job_ids:
            raise InputError("use either job ids, or --queue Q --all")
        spec(queue)
        done = replay_queue(context.redis(), queue)
    elif job_ids:
        done = replay_ids(context.redis(), job_ids)
    else:
        raise InputError("give job ids to replay, or --queue Q --all")
    if json_out:
        context.emit_json({"replayed": done})
    else:
        context.console.print(f"replayed {len(done)} job(s): {' '.join(done)}")
