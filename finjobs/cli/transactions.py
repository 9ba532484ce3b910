"""`finjobs transactions categorise`: re-categorise one transaction (learnt for the next import)."""

from __future__ import annotations

import typer

from finjobs.cli import context

app = typer.Typer(help="Transactions: re-categorise.", no_args_is_help=True)


@app.command()
def categorise(
    transaction_id: int = typer.Argument(..., help="Transaction id."),
    category: str = typer.Argument(..., help="Category name (created if missing)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Set the category; the next import of the same payee gets it too."""
    from finjobs.db.models import Transaction
    from finjobs.errors import NotFound
    from finjobs.services.categories import categorise as set_category
    from finjobs.services.imports import invalidate_user_caches

    with context.session() as s:
        txn = s.get(Transaction, transaction_id)
        if txn is None:
            raise NotFound(f"no transaction {transaction_id}")
        uid = txn.user_id
        doc = set_category(s, uid, transaction_id, category)
    invalidate_user_caches(context.redis(), uid)
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(f"transaction {doc['id']} -> {doc['category']}", highlight=False)
