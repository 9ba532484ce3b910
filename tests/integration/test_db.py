"""Schema on both backends: migrations, money as integers, UTC times, the dedup constraints."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from finjobs.db.engine import get_engine, session_scope
from finjobs.db.migrate import current, head
from finjobs.db.models import AiInsight, Base, Transaction, User


def test_migrations_create_every_model_table(db_url: str) -> None:
    assert current(db_url) == head()
    tables = set(inspect(get_engine(db_url)).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_money_and_times_round_trip(db_url: str) -> None:
    when = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with session_scope(db_url) as s:
        user = User(email="a@example.com", created_at=when)
        s.add(user)
        s.flush()
        s.add(
            Transaction(
                user_id=user.id,
                date=dt.date(2026, 3, 1),
                amount_minor=-(2**40) - 7,
                description="big",
                fingerprint="f1",
            )
        )
    with session_scope(db_url) as s:
        txn = s.scalar(select(Transaction))
        assert txn is not None and txn.amount_minor == -(2**40) - 7
        assert isinstance(txn.amount_minor, int)
        got = s.scalar(select(User.created_at))
        assert got == when and got.tzinfo == dt.UTC


def test_fingerprint_is_unique_per_user(db_url: str) -> None:
    with session_scope(db_url) as s:
        a, b = User(email="a@example.com"), User(email="b@example.com")
        s.add_all([a, b])
        s.flush()
        for user in (a, b):  # the same fingerprint for two users is fine
            s.add(Transaction(user_id=user.id, date=dt.date(2026, 1, 1), amount_minor=-1, fingerprint="same"))
    with pytest.raises(IntegrityError), session_scope(db_url) as s:
        s.add(Transaction(user_id=a.id, date=dt.date(2026, 1, 1), amount_minor=-1, fingerprint="same"))


def test_insight_dedup_key_is_unique(db_url: str) -> None:
    with session_scope(db_url) as s:
        user = User(email="a@example.com")
        s.add(user)
        s.flush()
        s.add(AiInsight(user_id=user.id, type="t", severity="info", dedup_key="k"))
    with pytest.raises(IntegrityError), session_scope(db_url) as s:
        s.add(AiInsight(user_id=user.id, type="t", severity="info", dedup_key="k"))


def test_migrations_match_the_models(db_url: str) -> None:
    """Autogenerate against a migrated database finds nothing to do: no model change without a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []
