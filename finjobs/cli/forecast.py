"""`finjobs forecast run|show`: queue a user's forecasts now, or show (and plot) the latest ones.
Calls finjobs.services.forecasts only; --plot also touches the output file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from finjobs.cli import context

app = typer.Typer(help="Spending forecasts.", no_args_is_help=True)


@app.command()
def run(
    user: str = typer.Option(..., "--user", "-u", help="User id or email."),
    wait: bool = typer.Option(False, "--wait", help="Follow the jobs until they end."),
    timeout: float = typer.Option(600, help="Seconds to wait for each job with --wait."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Queue the user's spending forecast and top-5 category forecasts at high priority, ahead of the
    weekly run (spending first, so it is ready first)."""
    from finjobs.cli.follow import wait_for_job
    from finjobs.db.models import utcnow
    from finjobs.services.forecasts import enqueue_user_forecasts
    from finjobs.services.users import get_user

    redis = context.redis()
    now = utcnow()
    with context.session() as s:
        user_id = get_user(s, user).id
        queued = enqueue_user_forecasts(
            s, redis, user_id, today=now.astimezone(context.settings().tz).date(), tag="run"
        )
    jobs: list[dict[str, Any]] = [q.to_dict() for q in queued]
    doc: dict[str, Any] = {"user_id": user_id, "jobs": jobs}
    if wait:
        for job in jobs:
            outcome = wait_for_job(redis, job["job_id"], timeout=timeout, quiet=json_out)
            job["status"] = outcome["status"]
            job["result"] = outcome.get("result")
        doc["status"] = "finished" if all(j["status"] == "finished" for j in jobs) else "failed"
    if json_out:
        context.emit_json(doc)
    else:
        for job in jobs:
            what = job["category"] or "total spending"
            context.console.print(
                f"{job['job_id']}  {job['rq_queue']}  {what}  {job.get('status', 'queued')}", highlight=False
            )


@app.command()
def show(
    user: str = typer.Option(..., "--user", "-u", help="User id or email."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    plot: Path | None = typer.Option(None, "--plot", help="Also draw the spending forecast as a PNG file."),
) -> None:
    """The latest spending and category forecasts (the cache, else the database)."""
    from finjobs.errors import NotFound
    from finjobs.services.forecasts import expense_points, read_forecasts, result_from_payload
    from finjobs.services.users import get_user

    with context.session() as s:
        found = get_user(s, user)
        user_id, email, currency = found.id, found.email, found.currency
        doc = read_forecasts(s, context.redis(), user_id)
        spending = doc["spending"]
        if spending is None:
            raise NotFound(f"no forecast for user {user_id} yet: run `finjobs forecast run --user {user_id}`")
        history = expense_points(s, user_id, preferred_currency=currency)[0] if plot else []
    if plot is not None:
        from finjobs.adapters.forecast_plot import render_plot

        render_plot(history, result_from_payload(spending), plot, title=f"Spending forecast: {email}")
    if json_out:
        context.emit_json(
            {**spending, "user_id": user_id, "source": doc["source"], "categories": doc["categories"]}
        )
        return
    _print(doc, plot)


def _print(doc: dict[str, Any], plot: Path | None) -> None:
    from rich.table import Table

    console = context.console
    for entry in [doc["spending"], *doc["categories"]]:
        name = entry["category"] or "Total spending"
        stale = "  [yellow](stale)[/yellow]" if entry["stale"] else ""
        console.print(f"[bold]{name}[/bold]  model={entry['model']}  until {entry['valid_until']}{stale}")
        if entry["model"] == "none" or not entry["months"]:
            console.print(f"  {entry['reason']}", highlight=False)
            continue
        table = Table(show_edge=False, pad_edge=False)
        for col in ("month", "expected", "80% range", "already spent"):
            table.add_column(col, justify="left" if col == "month" else "right")
        for m in entry["months"]:
            table.add_row(m["month"], m["expected"], f"{m['lower']} – {m['upper']}", m["actual_to_date"])
        console.print(table)
        metrics = entry.get("metrics")
        if metrics:
            console.print(
                f"  backtest MAE {metrics['mae']} vs baseline {metrics['baseline_mae']} {entry['currency']}",
                highlight=False,
            )
    console.print(f"[dim]source: {doc['source']}[/dim]")
    if plot is not None:
        console.print(f"plot written to {plot}", highlight=False)
