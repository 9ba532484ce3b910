"""`finjobs rules add|list|apply`: category rules through services/categories.py."""

from __future__ import annotations

import datetime as dt

import typer

from finjobs.cli import context

app = typer.Typer(help="Category rules: add, list, apply.", no_args_is_help=True)


@app.command()
def add(
    user: str = typer.Option(..., "--user", help="User id or email."),
    match: str = typer.Option(..., "--match", help="Description glob, case-insensitive: 'TESCO*'."),
    category: str = typer.Option(..., "--category", help="Category name (created if missing)."),
    min_amount: str | None = typer.Option(None, "--min", help="Lowest signed amount, e.g. -100.00."),
    max_amount: str | None = typer.Option(None, "--max", help="Highest signed amount, e.g. -5.00."),
    account: str | None = typer.Option(None, "--account", help="Only on this account."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Add a rule: uncategorised rows that match get the category (at import and on `rules apply`)."""
    from finjobs.services.categories import add_rule
    from finjobs.services.users import get_user

    with context.session() as s:
        uid = get_user(s, user).id
        doc = add_rule(
            s, uid, match=match, category=category, min_amount=min_amount, max_amount=max_amount,
            account=account,
        )  # fmt: skip
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(f"rule {doc['id']}: {doc['pattern']} -> {doc['category']}", highlight=False)


@app.command("list")
def list_(
    user: str = typer.Option(..., "--user", help="User id or email."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """The user's rules and learnt re-categorisations (learnt ones win), and whether starter rules are on."""
    from finjobs.services.categories import list_rules, starter_status
    from finjobs.services.users import get_user

    with context.session() as s:
        uid = get_user(s, user).id
        rules, starter = list_rules(s, uid), starter_status(s, uid)
    if json_out:
        context.emit_json({"rules": rules, "starter_rules": starter})
        return
    for r in rules:
        context.console.print(
            f"{r['id']:>6} {r['kind']:<7} {r['pattern']} -> {r['category']}", highlight=False
        )
    state = "on" if starter["on"] else "off"
    context.console.print(
        f"starter rules {state}: {starter['rules']} payee words -> {', '.join(starter['categories'])} "
        f"(lowest priority; `finjobs users set {user} --starter-rules on|off`)",
        highlight=False,
    )


@app.command()
def apply(
    user: str = typer.Option(..., "--user", help="User id or email."),
    since: str | None = typer.Option(None, "--since", help="Only rows dated on or after (YYYY-MM-DD)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Categorise the user's uncategorised transactions by the rules now."""
    from finjobs.db.engine import get_engine
    from finjobs.errors import InputError
    from finjobs.services.categories import apply_rules
    from finjobs.services.imports import invalidate_user_caches
    from finjobs.services.users import get_user

    try:
        start = dt.date.fromisoformat(since) if since else None
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {since!r}", source="since") from None
    with context.session() as s:
        uid = get_user(s, user).id
    with get_engine(context.settings().database_url).begin() as conn:
        n = apply_rules(conn, uid, since=start)
    invalidate_user_caches(context.redis(), uid)
    if json_out:
        context.emit_json({"user_id": uid, "categorised": n})
    else:
        context.console.print(f"{n} transactions categorised", highlight=False)
