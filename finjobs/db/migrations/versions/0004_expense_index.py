"""A partial index of posted expenses by (user_id, date) for budget evaluation's aggregate query;
on PostgreSQL it also carries category, amount and currency, so the query never reads the table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPENSES = "amount_minor < 0 AND status = 'posted'"  # as in finjobs.db.models.Transaction


def upgrade() -> None:
    op.create_index(
        "ix_transactions_expenses",
        "transactions",
        ["user_id", "date"],
        postgresql_include=["category_id", "amount_minor", "currency"],
        postgresql_where=sa.text(EXPENSES),
        sqlite_where=sa.text(EXPENSES),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_expenses", table_name="transactions")
