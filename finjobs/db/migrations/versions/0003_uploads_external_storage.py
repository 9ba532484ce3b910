"""Uploads' bytes stored uncompressed out of line on PostgreSQL, so imports read them in chunks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # EXTERNAL = TOAST without compression: substr() then reads only the chunks it needs
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE uploads ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE uploads ALTER COLUMN data SET STORAGE EXTENDED")
