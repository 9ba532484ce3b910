"""Operators (console sign-in, hashed tokens) and their audit log.

Revision ID: 0006_console
Revises: 0005
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_console"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("name", name="uq_operators_name"),
        sa.UniqueConstraint("token_hash", name="uq_operators_token_hash"),
    )
    op.create_table(
        "operator_audit",
        sa.Column("id", BigId, nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operator_audit"),
    )
    op.create_index("ix_operator_audit_at", "operator_audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_operator_audit_at", table_name="operator_audit")
    op.drop_table("operator_audit")
    op.drop_table("operators")
