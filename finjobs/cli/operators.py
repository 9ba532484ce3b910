"""`finjobs operators create|list|delete`: the people who may open /console and scrape /metrics."""

from __future__ import annotations

import typer

from finjobs.cli import context

app = typer.Typer(help="Operators of the web console (not app users).", no_args_is_help=True)


@app.command()
def create(
    name: str,
    read_only: bool = typer.Option(False, "--read-only", help="Sees everything, changes nothing."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Create an operator and print its token (shown once; only a hash is stored)."""
    from finjobs.services.operators import create_operator

    with context.session() as s:
        created = create_operator(s, name, read_only=read_only)
    if json_out:
        context.emit_json({**created.operator.to_dict(), "token": created.token})
        return
    mode = "read-only " if read_only else ""
    context.console.print(f"{mode}operator {name} created; token (shown once):", highlight=False)
    context.console.print(created.token, highlight=False, soft_wrap=True)


@app.command("list")
def list_() -> None:
    """Operators and whether each is read-only."""
    from rich.table import Table

    from finjobs.services.operators import list_operators

    with context.session() as s:
        ops = list_operators(s)
    table = Table(title=f"operators ({len(ops)})", title_justify="left")
    for col in ("id", "name", "access"):
        table.add_column(col)
    for op in ops:
        table.add_row(str(op.id), op.name, "read-only" if op.read_only else "full")
    context.console.print(table)


@app.command()
def delete(name: str) -> None:
    """Remove an operator: its token and console sessions stop working at once."""
    from finjobs.services.operators import delete_operator

    with context.session() as s:
        delete_operator(s, name)
    context.console.print(f"operator {name} deleted")
