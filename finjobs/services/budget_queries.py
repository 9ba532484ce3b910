"""The budget service's database-specific SQL: the in-force budgets in scope and the one aggregate
expense query, as PostgreSQL (precompiled text, fetched straight from the driver) or SQLite statements.
The only place in the budget service that asks which database it is on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Date,
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from finjobs.db.models import Budget as BudgetRow
from finjobs.db.models import Transaction


def _in_force(b: Any, today: Any) -> ColumnElement[bool]:
    return and_(
        b.c.is_active.is_(True),
        b.c.deleted_at.is_(None),
        b.c.start_date <= today,
        b.c.end_date >= today,
    )


def _scope(
    today: dt.date,
    *,
    user_range: tuple[int, int] | None = None,
    user_ids: Sequence[int] | None = None,
    budget_ids: Sequence[int] | None = None,
    arrays: bool = False,
) -> list[ColumnElement[bool]]:
    """WHERE clauses picking the in-force budgets in scope, their values bound by the names
    _scope_params gives. `arrays` (PostgreSQL): each id list is one array parameter, so the SQL text
    is the same whatever its length."""
    b = BudgetRow.__table__
    scope: list[ColumnElement[bool]] = [_in_force(b, bindparam("today", today, type_=Date))]
    if user_range is not None:
        lo, hi = bindparam("lo", user_range[0], BigInteger), bindparam("hi", user_range[1], BigInteger)
        scope.append(b.c.user_id.between(lo, hi))
    for column, name, ids in ((b.c.user_id, "user_ids", user_ids), (b.c.id, "budget_ids", budget_ids)):
        if ids is None:
            continue
        if arrays:
            scope.append(column == any_(bindparam(name, list(ids), type_=ARRAY(BigInteger))))
        else:
            scope.append(column.in_(bindparam(name, list(ids), expanding=True)))
    return scope


def _scope_params(today: dt.date, **scope: Any) -> dict[str, Any]:
    """The values of _scope's bind parameters, by name."""
    params: dict[str, Any] = {"today": today}
    if scope.get("user_range") is not None:
        params["lo"], params["hi"] = scope["user_range"]
    for name in ("user_ids", "budget_ids"):
        if scope.get(name) is not None:
            params[name] = list(scope[name])
    return params


# Columns of a budget row as the queries below return it, in this order.
_ID, _USER, _CATEGORY, _AMOUNT, _CURRENCY, _START, _END, _PCT = range(8)


def _budgets_select(today: dt.date, **scope: Any) -> Select[Any]:
    b = BudgetRow.__table__
    return (
        select(
            b.c.id,
            b.c.user_id,
            b.c.category_id,
            b.c.amount_minor,
            b.c.currency,
            b.c.start_date,
            b.c.end_date,
            b.c.alert_threshold_pct,
        )
        .where(*_scope(today, **scope))
        .order_by(b.c.id)
    )


def budget_rows(session: Session, today: dt.date, **scope: Any) -> list[Any]:
    """The in-force budgets in scope as rows (id, user_id, category_id, amount_minor, currency,
    start_date, end_date, alert_threshold_pct), in id order."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return list(conn.execute(_budgets_select(today, **scope)).all())
    shape = ("budgets", *sorted(k for k, v in scope.items() if v is not None))
    sql = _pg_sql(conn, shape, lambda: _budgets_select(today, arrays=True, **scope))
    return _pg_fetch(conn, sql, _scope_params(today, **scope))


# PostgreSQL statements' SQL text by shape: each is a function of its shape alone, its values bound by
# name, so it is compiled once per process, not on every call (0.5-1 ms a statement).
_PG_SQL: dict[tuple[Any, ...], str] = {}


def _pg_sql(conn: Connection, shape: tuple[Any, ...], build: Callable[[], Select[Any]]) -> str:
    key = (conn.dialect.driver, *shape)
    sql = _PG_SQL.get(key)
    if sql is None:
        sql = _PG_SQL[key] = str(build().compile(dialect=conn.dialect))
    return sql


def _driver(conn: Connection) -> Any:
    """The psycopg connection under a PostgreSQL connection (in its transaction)."""
    return conn.connection.driver_connection


def _pg_fetch(conn: Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    """Every row, fetched at once straight from the driver as tuples: SQLAlchemy's Row wrapping costs
    more than the rows' transfer on these 10,000-row answers. (Elsewhere the queries go through
    SQLAlchemy, whose result processing SQLite's dates need.)"""
    with _driver(conn).cursor() as cur:
        cur.execute(sql, params)
        rows: list[Any] = cur.fetchall()
    return rows


def expense_sums_select(
    today: dt.date,
    *,
    since: dt.date,
    currencies: Sequence[str],
    per_day: bool,
    user_ids: Sequence[int] | None = None,
    user_scope: Any = None,
) -> Select[Any]:
    """The one aggregate query: posted expenses (amount_minor < 0) dated since..today, summed per
    (user, category[, currency when several are in scope][, day when `per_day`]), for the users in
    scope. Its values are bound by name: since, today, currency (one in scope) or currencies, users.

    The expense test is written with literals, not parameters, so PostgreSQL can prove it implies
    ix_transactions_expenses' WHERE and read that partial index alone: it carries category, amount
    and currency (INCLUDE), so the scan never visits the table. SQLite (no INCLUDE, no statistics
    without ANALYZE) may rank ix_transactions_user_date level with it; either way it probes by
    (user_id, date).
    `user_ids` (PostgreSQL) become one array parameter the planner sees: one index descent per
    user into their (user_id, date) window; several currencies are an array too. Otherwise
    `user_scope`, a subquery of user ids."""
    t = Transaction.__table__
    where: list[ColumnElement[bool]] = [
        t.c.amount_minor < literal_column("0"),
        t.c.status == literal_column("'posted'"),
        t.c.date >= bindparam("since", since, type_=Date),
        t.c.date <= bindparam("today", today, type_=Date),
    ]
    keys: list[Any] = [t.c.user_id, t.c.category_id]
    if len(currencies) == 1:
        where.append(t.c.currency == bindparam("currency", currencies[0], type_=String))
    elif user_ids is not None:
        where.append(t.c.currency == any_(bindparam("currencies", list(currencies), type_=ARRAY(String))))
        keys.append(t.c.currency)
    else:
        where.append(t.c.currency.in_(bindparam("currencies", list(currencies), expanding=True)))
        keys.append(t.c.currency)
    if user_ids is not None:
        # One array parameter instead of a placeholder per user (psycopg parses every placeholder).
        where.append(t.c.user_id == any_(bindparam("users", list(user_ids), type_=ARRAY(BigInteger))))
    elif user_scope is not None:
        where.append(t.c.user_id.in_(user_scope))
    if per_day:
        keys.append(t.c.date)
    # bigint, not numeric: Python then adds ints, not Decimals
    return select(*keys, cast(func.sum(t.c.amount_minor), BigInteger)).where(*where).group_by(*keys)


def expense_sums(
    session: Session,
    today: dt.date,
    *,
    since: dt.date,
    currencies: Sequence[str],
    per_day: bool,
    rows: Sequence[Sequence[Any]],
    scope: dict[str, Any],
    user_col: int = _USER,
) -> list[Any]:
    """expense_sums_select's rows for the users of `rows` (budget_rows, user id at `user_col`):
    on PostgreSQL the users as one array, on SQLite as a subquery over the budgets in scope."""
    multi = len(currencies) > 1
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # JIT compiles for longer (~50 ms) than it saves here; a whole-table run's hash fits in 32 MB.
        with _driver(conn).cursor() as cur:
            cur.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true)")
        users = list(set(map(itemgetter(user_col), rows)))
        sql = _pg_sql(
            conn,
            ("sums", multi, per_day),
            lambda: expense_sums_select(
                today, since=since, currencies=currencies, per_day=per_day, user_ids=users
            ),
        )
        params: dict[str, Any] = {"since": since, "today": today, "users": users}
        if multi:
            params["currencies"] = currencies
        else:
            params["currency"] = currencies[0]
        sums = _pg_fetch(conn, sql, params)
    else:
        # SQLite: the users in scope as a subquery (no variable limit, and it probes the index per user)
        user_scope = select(BudgetRow.__table__.c.user_id).where(*_scope(today, **scope))
        stmt = expense_sums_select(
            today, since=since, currencies=currencies, per_day=per_day, user_scope=user_scope
        )
        sums = list(conn.execute(stmt).all())
    return sums
