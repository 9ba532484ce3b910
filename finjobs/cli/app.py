"""The root Typer app: sub-apps per command group, and the one place errors become exit codes."""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup

from finjobs.errors import FinjobsError


class FinjobsGroup(TyperGroup):
    """Maps FinjobsError (and unreachable servers) to one red line on stderr and exit 1.
    Anything else is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        import redis
        import sqlalchemy.exc

        from finjobs.cli.context import err_console

        try:
            return super().invoke(ctx)
        except FinjobsError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except redis.ConnectionError as exc:
            err_console.print(f"[red]error:[/red] REDIS_URL: cannot connect: {exc}", highlight=False)
            raise typer.Exit(1) from None
        except sqlalchemy.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            if "no such table" in reason or "does not exist" in reason:
                reason += " (run `finjobs db upgrade`)"
            err_console.print(f"[red]error:[/red] DATABASE_URL: {reason}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=FinjobsGroup,
    help="finjobs: background jobs for a personal-finance app (RQ on Redis).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def _register() -> None:
    from finjobs.cli import (
        budgets,
        cleanup,
        db,
        demo,
        forecast,
        imports,
        insights,
        jobs,
        ocr,
        operators,
        queues,
        recurring,
        rules,
        schedule,
        status,
        transactions,
        users,
        web,
        worker,
    )

    app.add_typer(db.app, name="db")
    app.add_typer(users.app, name="users")
    app.add_typer(jobs.app, name="jobs")
    app.add_typer(cleanup.app, name="cleanup")
    app.add_typer(imports.app, name="import")
    app.add_typer(schedule.app, name="schedule")
    app.add_typer(ocr.app, name="ocr")
    app.add_typer(budgets.app, name="budgets")
    app.add_typer(insights.app, name="insights")
    app.add_typer(forecast.app, name="forecast")
    app.add_typer(operators.app, name="operators")
    app.add_typer(queues.app, name="queues")
    app.add_typer(rules.app, name="rules")
    app.add_typer(transactions.app, name="transactions")
    app.add_typer(recurring.app, name="recurring")
    app.command("release")(db.release)
    app.command("status")(status.status)
    app.command("scheduler")(schedule.scheduler)
    app.command("reconcile")(schedule.reconcile)
    app.command("worker")(worker.worker)
    app.command("demo")(demo.demo)
    app.command("web")(web.web)


_register()
