"""`finjobs users create`: a user and its API token (printed once)."""

from __future__ import annotations

import typer

from finjobs.cli import context

app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)


@app.command()
def create(
    email: str,
    name: str = typer.Option("", help="Display name."),
    currency: str = typer.Option("USD", help="Default ISO currency."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Create a user and print its API token (only a hash is stored: keep it)."""
    from finjobs.services.users import create_user

    with context.session() as s:
        created = create_user(s, email, name=name, currency=currency)
    if json_out:
        context.emit_json({"id": created.id, "email": created.email, "token": created.token})
    else:
        context.console.print(f"user [bold]{created.id}[/bold] {created.email}")
        context.console.print(f"token: {created.token}", highlight=False)
