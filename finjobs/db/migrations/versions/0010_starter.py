"""users.starter_rules: whether the starter rule table categorises the user's rows that nothing else
does (on by default; `finjobs users set U --starter-rules off`).

Revision ID: 0010_starter
Revises: 0009_loader
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_starter"
down_revision: str | Sequence[str] | None = "0009_loader"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("starter_rules", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("starter_rules")
