"""`finjobs insights run|list`: enqueue the insight rules and read their results."""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from finjobs.cli import context

app = typer.Typer(help="Insights: run the rules, list the results.", no_args_is_help=True)


@app.command()
def run(
    user: str | None = typer.Option(
        None, "--user", help="User id or email (default: every user active this week)."
    ),
    wait: bool = typer.Option(False, "--wait", help="Follow the jobs until they end."),
    timeout: float = typer.Option(600, help="Seconds to wait with --wait."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Enqueue insight generation (one insight-generation job per user)."""
    from finjobs.cli.follow import report_jobs
    from finjobs.services.insights import insight_job_ids
    from finjobs.services.users import get_user

    slot = dt.datetime.now(context.settings().tz)
    with context.session() as s:
        users = None if user is None else [get_user(s, user).id]
        ids = insight_job_ids(s, context.redis(), slot=slot, user_ids=users)
    doc: dict[str, Any] = {"today": slot.date().isoformat(), "job_ids": ids}
    report_jobs(doc, wait=wait, timeout=timeout, json_out=json_out)


@app.command("list")
def list_(
    user: str = typer.Option(..., "--user", help="User id or email."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """The user's insights that are neither dismissed nor expired, newest first."""
    from finjobs.db.models import utcnow
    from finjobs.services.insights import list_insights
    from finjobs.services.users import get_user

    with context.session() as s:
        uid = get_user(s, user).id
        rows = list_insights(s, uid, now=utcnow())
    if json_out:
        context.emit_json({"user_id": uid, "insights": rows})
        return
    colour = {"critical": "red", "warning": "yellow", "info": "cyan"}
    for r in rows:
        context.console.print(
            f"[{colour.get(r['severity'], 'white')}]{r['severity']:8}[/] #{r['id']} {r['title']}"
            f"\n    {r['message']}",
            highlight=False,
        )
    if not rows:
        context.console.print("no insights")
