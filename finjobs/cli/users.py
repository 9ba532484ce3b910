"""`finjobs users create|set`: a user and its API token (printed once); a user's settings."""

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


@app.command("set")
def set_(
    user: str = typer.Argument(..., help="User id or email."),
    starter_rules: str | None = typer.Option(
        None, "--starter-rules", help="on|off: the starter rule table categorises what no rule does."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Change a user's settings."""
    from finjobs.errors import InputError
    from finjobs.services.users import set_user

    switch = {"on": True, "off": False, None: None}
    if starter_rules not in switch:
        raise InputError(f"--starter-rules is on or off (got {starter_rules!r})", source="starter-rules")
    with context.session() as s:
        doc = set_user(s, user, starter_rules=switch[starter_rules])
    if json_out:
        context.emit_json(doc)
    else:
        on = "on" if doc["starter_rules"] else "off"
        context.console.print(f"user {doc['id']} {doc['email']}: starter rules {on}", highlight=False)
