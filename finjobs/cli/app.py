"""The root Typer app: sub-apps per command group, and the one place errors become exit codes.

Command modules are imported only when their command runs (or its own --help is asked for): the root
`--help` is drawn from COMMANDS below, so `finjobs --help` imports neither SQLAlchemy, RQ nor Prophet.
Help is Click's plain layout (`rich_markup_mode=None`): Typer's Rich panels import rich.markdown and
rich.traceback (~35 ms) on every --help."""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup, TyperOption

from finjobs.errors import FinjobsError

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter

# Typer's help layout for every command: None is Click's plain text (same usage, options and help text).
MARKUP_MODE = None


class Entry(NamedTuple):
    """Where a root command lives: module finjobs.cli.<module>, attribute (a Typer app or a function)."""

    module: str
    attr: str
    help: str


# The root commands in --help order. `help` is the command's one-line summary; a test checks that it
# matches the loaded command, so a changed docstring shows up there rather than drifting.
COMMANDS: dict[str, Entry] = {
    "release": Entry(
        "db", "release", "Release phase: migrate the database, then exit on Heroku or stay idle under honcho."
    ),
    "status": Entry(
        "status",
        "status",
        "Show every queue: jobs waiting, running, delayed (retry backoff), failed, finished; workers.",
    ),
    "scheduler": Entry(
        "schedule",
        "scheduler",
        "The scheduler process: registers the table, fires due "
        "entries, re-queues jobs of dead workers (every pass), catches up missed slots and "
        "reconciles accepted imports/receipts (every minute).",
    ),
    "reconcile": Entry(
        "schedule",
        "reconcile",
        "Re-enqueue accepted/running imports and receipts that have "
        "no live job (after a Redis restart or flush), and re-queue jobs whose worker died.",
    ),
    "worker": Entry(
        "worker",
        "worker",
        "Run worker processes: per queue, its registry concurrency (or --concurrency) forked workers.",
    ),
    "demo": Entry(
        "demo",
        "demo",
        "Database, a demo user, a bank CSV import (and its re-import), a receipt, a "
        "forecast, budgets and insights, the cleanup job and the status view, through real worker "
        "processes; then the console's address and an operator token.",
    ),
    "web": Entry("web", "web", "Serve the status API for development."),
    "db": Entry("db", "app", "Database schema."),
    "users": Entry("users", "app", "Users and API tokens."),
    "jobs": Entry("jobs", "app", "Inspect and replay jobs."),
    "cleanup": Entry("cleanup", "app", "Data cleanup."),
    "import": Entry("imports", "app", "Bank CSV imports."),
    "schedule": Entry("schedule", "app", "Periodic jobs (cron table, run once per slot)."),
    "ocr": Entry("ocr", "app", "Receipt OCR."),
    "budgets": Entry("budgets", "app", "Budgets: create, read status, evaluate alerts."),
    "insights": Entry("insights", "app", "Insights: run the rules, list the results."),
    "forecast": Entry("forecast", "app", "Spending forecasts."),
    "recurring": Entry("recurring", "app", "Subscriptions and bills."),
    "rules": Entry("rules", "app", "Category rules: add, list, apply."),
    "transactions": Entry("transactions", "app", "Transactions: re-categorise."),
    "operators": Entry("operators", "app", "Operators of the web console (not app users)."),
    "queues": Entry("queues", "app", "Pause and resume single queues."),
    "version": Entry("version", "version", "Print the finjobs version."),
}


def _help_flag_false(option: TyperOption | None) -> TyperOption | None:
    """A --help flag that was not given reads False, not None: Typer coerces a None through a pydantic
    TypeAdapter (importing pydantic, ~50 ms on every command) and passes a bool through as it is."""
    if option is not None and option.default is None:
        option.default = False
    return option


def _summary(help_text: str) -> str:
    """A command's line in its group's listing: the first paragraph of its help, whole (as Typer's Rich
    layout shows it; Click's plain one cuts the help at ~45 characters unless short_help is set)."""
    return " ".join(inspect.cleandoc(help_text).partition("\n\n")[0].split())


def _prepare(command: Command, parent: Context | None = None) -> Command:
    """For every command of a loaded tree: the False --help default (the option is made, and cached by
    the command, for a context built as make_context would, so it has the names a real run uses) and
    the whole summary line for its group's listing."""
    ctx = typer.Context(command, parent=parent, **command.context_settings)
    _help_flag_false(command.get_help_option(ctx))
    if command.help and not command.short_help:
        command.short_help = _summary(command.help)
    for sub in getattr(command, "commands", {}).values():
        _prepare(sub, ctx)
    return command


def load_command(name: str, parent: Context | None = None) -> Command:
    """Import the module behind root command `name` and build its click command (`parent`: the root's
    context when the command is about to run)."""
    entry = COMMANDS[name]
    target = getattr(importlib.import_module(f"finjobs.cli.{entry.module}"), entry.attr)
    # Built exactly as add_typer/command on the root would (a one-command sub-app stays a group).
    holder = typer.Typer(add_completion=False, rich_markup_mode=MARKUP_MODE)
    holder.callback()(lambda: None)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return _prepare(group.commands[name], parent)


class FinjobsGroup(TyperGroup):
    """Maps FinjobsError (and unreachable servers) to one red line on stderr and exit 1.
    Anything else is a bug and keeps its traceback. Root commands load lazily from COMMANDS."""

    _listing = False

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _help_flag_false(super().get_help_option(ctx))

    def list_commands(self, ctx: Context) -> list[str]:
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # drawing the root --help: the summary is enough
            return TyperCommand(cmd_name, short_help=COMMANDS[cmd_name].help)
        if cmd_name not in self.commands:
            self.add_command(load_command(cmd_name, ctx), cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except FinjobsError as exc:
            _fail(str(exc))
        except Exception as exc:
            message = _server_error(exc)
            if message is None:
                raise
            _fail(message)


def _fail(message: str) -> None:
    from finjobs.cli.context import err_console

    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1) from None


def _server_error(exc: Exception) -> str | None:
    """The one line for an unreachable Redis or database, else None. Redis and SQLAlchemy are looked up in
    sys.modules, not imported: a command that did not import them cannot have raised their errors (and
    importing them here cost every command's --help ~0.15 s)."""
    redis = sys.modules.get("redis")
    if redis is not None and isinstance(exc, redis.ConnectionError):
        return f"REDIS_URL: cannot connect: {exc}"
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "no such table" in reason or "does not exist" in reason:
            reason += " (run `finjobs db upgrade`)"
        return f"DATABASE_URL: {reason}"
    return None


app = typer.Typer(
    cls=FinjobsGroup,
    help="finjobs: background jobs for a personal-finance app (RQ on Redis).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=MARKUP_MODE,
)


@app.callback()
def _root() -> None:
    """finjobs: background jobs for a personal-finance app (RQ on Redis)."""
