"""csv_import_logs.detected_format (the format an import used, its evidence and assumptions) and
users.locale (answers date orders a file leaves open).

Revision ID: 0007_statements
Revises: 0006_console
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_statements"
down_revision: str | Sequence[str] | None = "0006_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("csv_import_logs") as batch_op:
        batch_op.add_column(sa.Column("detected_format", sa.JSON(), nullable=True))
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("csv_import_logs") as batch_op:
        batch_op.drop_column("detected_format")
