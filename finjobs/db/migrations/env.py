"""Alembic environment: runs migrations against the URL finjobs passes in (never alembic.ini)."""

from __future__ import annotations

from alembic import context

from finjobs.db.engine import get_engine
from finjobs.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "finjobs.db.migrate sets sqlalchemy.url"

with get_engine(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
