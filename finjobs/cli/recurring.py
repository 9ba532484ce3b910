"""`finjobs recurring list`: a user's subscriptions, bills and paydays (finjobs.services.recurring)."""

from __future__ import annotations

import typer

from finjobs.cli import context

app = typer.Typer(help="Subscriptions and bills.", no_args_is_help=True)


@app.command("list")
def list_series(
    user: str = typer.Option(..., "--user", "-u", help="User id or email."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Payee, cadence, typical amount, last and next expected date, price change, overdue."""
    from finjobs.db.models import utcnow
    from finjobs.services.recurring import recurring_list
    from finjobs.services.users import get_user

    with context.session() as s:
        user_id = get_user(s, user).id
        doc = recurring_list(s, user_id, today=utcnow().astimezone(context.settings().tz).date())
    if json_out:
        context.emit_json(doc)
        return
    for d in doc["series"]:
        change = f"  was {d['previous_amount']} until {d['changed_on']}" if d["price_changed"] else ""
        late = f"  OVERDUE {d['days_overdue']} d" if d["overdue"] else ""
        context.console.print(
            f"{d['next_expected_date']}  {d['direction']:3s} {d['cadence']:8s} {d['typical_amount']:>10s} "
            f"{d['currency']}  {d['payee']}  (last {d['last_date']}){change}{late}",
            highlight=False,
        )
    if not doc["series"]:
        context.console.print("no recurring payments found", highlight=False)
