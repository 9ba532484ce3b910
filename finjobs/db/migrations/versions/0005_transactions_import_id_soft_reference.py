"""transactions.import_id without a foreign key to csv_import_logs.

An import writes its progress to its csv_import_logs row every 1,000 rows, from a second connection,
while the import's own transaction is open and inserting rows. Each insert's foreign-key check then
had to walk every version of that log row (none can be pruned while the import runs): 1,000 versions
for a million rows, and most of an import's time. Import logs are never deleted on their own (only
with their user, whose transactions go too), so the key guarded nothing in practice; the index stays.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_transactions_import_id_csv_import_logs"


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")


def downgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE transactions SET import_id = NULL WHERE import_id IS NOT NULL "
            "AND import_id NOT IN (SELECT id FROM csv_import_logs)"
        )
    )
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.create_foreign_key(FK, "csv_import_logs", ["import_id"], ["id"], ondelete="SET NULL")
