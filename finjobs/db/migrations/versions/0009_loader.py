"""How many of an import's rows were categorised by a rule, by the file's Category column, by a learnt
payee (csv_import_logs.categorised).

Revision ID: 0009_loader
Revises: 0008_categories
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_loader"
down_revision: str | Sequence[str] | None = "0008_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("csv_import_logs") as batch:
        batch.add_column(sa.Column("categorised", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("csv_import_logs") as batch:
        batch.drop_column("categorised")
