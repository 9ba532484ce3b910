"""`finjobs budgets create|status|evaluate`: budgets through the same services as the API and jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from finjobs.cli import context

app = typer.Typer(help="Budgets: create, read status, evaluate alerts.", no_args_is_help=True)


def _today() -> dt.date:
    return dt.datetime.now(context.settings().tz).date()


def _date(value: str, name: str) -> dt.date:
    from finjobs.errors import InputError

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {value!r}", source=name) from None


@app.command()
def create(
    user: str = typer.Option(..., "--user", help="User id or email."),
    amount: str = typer.Option(..., help="Limit in major units, e.g. 500.00."),
    start: str = typer.Option(..., help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., help="Last day (YYYY-MM-DD)."),
    category: str | None = typer.Option(
        None, help="Category name (created if missing); omit for all spending."
    ),
    threshold: int = typer.Option(80, help="Warn at this percent of the amount."),
    currency: str | None = typer.Option(None, help="ISO currency (default: the user's)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Create a budget for a category (by name) or for all spending."""
    from finjobs.services.budgets import create_budget
    from finjobs.services.users import get_user

    with context.session() as s:
        uid = get_user(s, user).id
        doc = create_budget(
            s,
            context.redis(),
            uid,
            amount=amount,
            start=_date(start, "start"),
            end=_date(end, "end"),
            category=category,
            threshold_pct=threshold,
            currency=currency,
        )
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(f"budget [bold]{doc['id']}[/bold] created", highlight=False)


@app.command()
def status(
    user: str = typer.Option(..., "--user", help="User id or email."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Spent, remaining and state of the user's budgets in force today (cached 15 minutes)."""
    from finjobs.services.budgets import budget_statuses
    from finjobs.services.users import get_user

    today = _today()
    with context.session() as s:
        uid = get_user(s, user).id
        rows = budget_statuses(s, context.redis(), uid, today=today)
    if json_out:
        context.emit_json({"user_id": uid, "today": today.isoformat(), "budgets": rows})
        return
    from rich.table import Table

    table = Table("id", "category", "spent", "amount", "%", "days left", "state")
    colour = {"ok": "green", "warning": "yellow", "exceeded": "red"}
    for r in rows:
        table.add_row(
            str(r["budget_id"]),
            r["category"] or "(all)",
            f"{r['spent']} {r['currency']}",
            r["amount"],
            r["percent"] or "-",
            str(r["days_left"]),
            f"[{colour[r['state']]}]{r['state']}[/]",
        )
    context.console.print(table)


@app.command()
def evaluate(
    wait: bool = typer.Option(False, "--wait", help="Follow the jobs until they end."),
    timeout: float = typer.Option(600, help="Seconds to wait with --wait."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Enqueue today's budget evaluation (one budget-evaluation job per range of users)."""
    from finjobs.cli.follow import report_jobs
    from finjobs.services.budgets import budget_job_ids

    slot = dt.datetime.now(context.settings().tz)
    with context.session() as s:
        ids, users = budget_job_ids(s, context.redis(), slot=slot)
    doc: dict[str, Any] = {"today": slot.date().isoformat(), "users": users, "job_ids": ids}
    report_jobs(doc, wait=wait, timeout=timeout, json_out=json_out)
