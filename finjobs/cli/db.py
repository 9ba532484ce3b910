"""`finjobs db upgrade|current`: Alembic migrations (also the Procfile's release phase)."""

from __future__ import annotations

import typer

from finjobs.cli import context

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Create or migrate the schema to the newest revision."""
    from finjobs.db.migrate import current
    from finjobs.db.migrate import upgrade as run_upgrade

    url = context.settings().database_url
    run_upgrade(url)
    rev = current(url)
    if json_out:
        context.emit_json({"revision": rev})
    else:
        context.console.print(f"database at revision [bold]{rev}[/bold]")


def release() -> None:
    """Release phase: migrate the database, then exit on Heroku or stay idle under honcho."""
    # honcho/foreman stop every process as soon as one exits, so outside a Heroku release dyno
    # ($DYNO unset) the release process waits for SIGTERM instead of exiting.
    import os
    import signal

    from finjobs.db.migrate import current
    from finjobs.db.migrate import upgrade as run_upgrade

    url = context.settings().database_url
    run_upgrade(url)
    context.console.print(f"database at revision {current(url)}", highlight=False)
    if os.environ.get("DYNO"):
        return

    def stop(*_: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    context.console.print("release done; idle until stopped (set DYNO to exit instead)", highlight=False)
    while True:
        signal.pause()
