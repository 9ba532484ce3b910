"""`finjobs queues pause|resume Q`: stop a queue's workers taking new jobs (jobs still enqueue)."""

from __future__ import annotations

import typer

from finjobs.cli import context

app = typer.Typer(help="Pause and resume single queues.", no_args_is_help=True)

CLI_OPERATOR = "cli"


def _set(queue: str, paused: bool) -> None:
    import getpass

    from finjobs.services.console import pause_queue
    from finjobs.services.operators import OperatorInfo

    who = OperatorInfo(0, f"{CLI_OPERATOR}:{getpass.getuser()}", read_only=False)
    with context.session() as s:
        changed = pause_queue(s, context.redis(), who, queue, paused=paused)
    verb = "paused" if paused else "resumed"
    context.console.print(f"{queue} {verb}" + ("" if changed else f" (it was already {verb})"))


@app.command()
def pause(queue: str) -> None:
    """Workers of QUEUE finish their running job and take no new one until `resume`."""
    _set(queue, True)


@app.command()
def resume(queue: str) -> None:
    """Let QUEUE's workers take jobs again."""
    _set(queue, False)
