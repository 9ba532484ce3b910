"""Categories use cases: a user's categories (created or reused by name), rules that categorise
uncategorised transactions (by description pattern, amount range, account), and learnt
re-categorisations (the user moved a payee to a category: the next import of that payee gets it).

At import, the rules are read in the import's session and matched in its parser process once per
distinct description (domain/category_rules.py): each row carries its category name and the one
INSERT ... SELECT of the load sets category_id, so categorising costs no UPDATE and no query per row.
On demand (`rules apply`), they run set-based in SQL: matched once per DISTINCT description of the
rows in scope, then one UPDATE, on PostgreSQL and SQLite alike. Both apply the same order: a learnt
rule wins over a user's rule; among rules of a kind, the oldest wins; the starter rule table
(domain/category_starter.py, unless the user turned it off) categorises what none of them does, and
its categories are created for the user only when a row first gets one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from finjobs.db.models import Category, CategoryRule, Transaction, User
from finjobs.domain.category_rules import Rule, RuleSet, learnt_pattern
from finjobs.domain.category_starter import STARTER, StarterTable, WithStarter
from finjobs.domain.money import to_minor
from finjobs.errors import InputError, NotFound


def like_pattern(match: str) -> str:
    """A user's glob (`TESCO*`, `*coffee?`) as a lower-cased SQL LIKE pattern, escaped with `\\`."""
    out = []
    for ch in match.strip().lower():
        if ch in "%_\\":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)


def category_id(session: Session, user_id: int, name: str) -> int:
    """The id of the user's category of that name, created if missing."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("a category name is 1-200 characters", source="category")
    found = session.scalar(select(Category.id).where(Category.user_id == user_id, Category.name == name))
    if found is not None:
        return int(found)
    cat = Category(user_id=user_id, name=name)
    session.add(cat)
    session.flush()
    return cat.id


def _minor(value: str | None, currency: str, source: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return to_minor(Decimal(value.strip()), currency)
    except (InvalidOperation, ValueError):
        raise InputError(f"not an amount: {value!r}", source=source) from None


def add_rule(
    session: Session,
    user_id: int,
    *,
    match: str,
    category: str,
    min_amount: str | None = None,
    max_amount: str | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """A rule: descriptions matching the glob `match` (case-insensitive), optionally with a signed
    amount in [min, max] (major units) and on one account, get `category`."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if not match.strip():
        raise InputError("a rule needs a --match pattern", source="match")
    lo = _minor(min_amount, user.currency, "min")
    hi = _minor(max_amount, user.currency, "max")
    if lo is not None and hi is not None and lo > hi:
        raise InputError("min is above max", source="min")
    rule = CategoryRule(
        user_id=user_id,
        kind="rule",
        pattern=like_pattern(match),
        category_id=category_id(session, user_id, category),
        min_minor=lo,
        max_minor=hi,
        account=(account or "").strip() or None,
    )
    session.add(rule)
    session.flush()
    return _rule_doc(rule, category.strip())


def _rule_doc(rule: CategoryRule, category: str) -> dict[str, Any]:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "pattern": rule.pattern,
        "category": category,
        "min_minor": rule.min_minor,
        "max_minor": rule.max_minor,
        "account": rule.account,
    }


def list_rules(session: Session, user_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CategoryRule, Category.name)
        .join(Category, Category.id == CategoryRule.category_id)
        .where(CategoryRule.user_id == user_id)
        .order_by(CategoryRule.kind, CategoryRule.id)
    )
    return [_rule_doc(rule, name) for rule, name in rows]


def starter_status(session: Session, user_id: int) -> dict[str, Any]:
    """Whether the starter rule table categorises the user's rows, and the categories it gives."""
    return {
        "on": starter_rules_on(session, user_id),
        "categories": [c.name for c in STARTER],
        "rules": sum(len(c.words) for c in STARTER),
    }


def starter_rules_on(session: Session, user_id: int) -> bool:
    return bool(session.scalar(select(User.starter_rules).where(User.id == user_id)))


def categorise(session: Session, user_id: int, transaction_id: int, category: str) -> dict[str, Any]:
    """Set one transaction's category and learn it: the next import of the same normalised payee gets
    that category (a learnt rule, replacing an earlier one for that payee; the payee is
    domain/category_rules.payee_key, so store numbers, card masks and dates do not split it)."""
    txn = session.get(Transaction, transaction_id)
    if txn is None or txn.user_id != user_id:
        raise NotFound(f"no transaction {transaction_id}")
    cid = category_id(session, user_id, category)
    txn.category_id = cid
    pattern = learnt_pattern(txn.description)
    learnt = session.scalar(
        select(CategoryRule).where(
            CategoryRule.user_id == user_id, CategoryRule.kind == "learnt", CategoryRule.pattern == pattern
        )
    )
    if learnt is None:
        session.add(CategoryRule(user_id=user_id, kind="learnt", pattern=pattern, category_id=cid))
    else:
        learnt.category_id = cid
    session.flush()
    return {"id": txn.id, "category": category.strip(), "category_id": cid, "learnt": pattern}


def rule_set(session: Session, user_id: int, account: str) -> RuleSet | None:
    """The user's rules for an import into `account`, in the order they apply (learnt first, then
    oldest first) and then the starter table unless the user turned it off, for the import's parser;
    None when there is no rule at all."""
    rows = session.execute(
        select(
            CategoryRule.pattern,
            Category.name,
            CategoryRule.min_minor,
            CategoryRule.max_minor,
            CategoryRule.kind == "learnt",
        )
        .join(Category, Category.id == CategoryRule.category_id)
        .where(
            CategoryRule.user_id == user_id,
            (CategoryRule.account.is_(None)) | (CategoryRule.account == account),
        )
        .order_by((CategoryRule.kind != "learnt"), CategoryRule.id)
    ).all()
    rules = tuple(Rule(p, c, lo, hi, bool(learnt)) for p, c, lo, hi, learnt in rows)
    if starter_rules_on(session, user_id):
        return WithStarter(rules)
    return RuleSet(rules) if rules else None


_MATCHES = (
    "CREATE TEMP TABLE rule_matches AS "
    "SELECT d.description AS description, r.id AS rule_id, "
    "CASE r.kind WHEN 'learnt' THEN 0 ELSE 1 END AS rank, r.category_id AS category_id, "
    "r.min_minor AS min_minor, r.max_minor AS max_minor, r.account AS account "
    "FROM (SELECT DISTINCT description FROM transactions WHERE {scope}) d "
    "JOIN category_rules r ON r.user_id = :user_id "
    "AND lower(d.description) LIKE r.pattern ESCAPE '\\'"
)
_FITS = (
    "m.description = transactions.description "
    "AND (m.min_minor IS NULL OR transactions.amount_minor >= m.min_minor) "
    "AND (m.max_minor IS NULL OR transactions.amount_minor <= m.max_minor) "
    "AND (m.account IS NULL OR m.account = transactions.account)"
)
_UPDATE = (
    f"UPDATE transactions SET category_id = (SELECT m.category_id FROM rule_matches m WHERE {_FITS} "
    "ORDER BY m.rank, m.rule_id LIMIT 1) "
    f"WHERE {{scope}} AND EXISTS (SELECT 1 FROM rule_matches m WHERE {_FITS})"
)


def apply_rules(
    conn: Connection, user_id: int, *, import_id: int | None = None, since: dt.date | None = None
) -> int:
    """Categorise the user's uncategorised transactions (of one import, or dated `since` on, or all)
    by their rules, then the starter table (unless turned off), set-based in `conn`'s transaction.
    Returns how many rows got a category."""
    has_rules = conn.execute(
        text("SELECT 1 FROM category_rules WHERE user_id = :user_id LIMIT 1"), {"user_id": user_id}
    ).first()
    starter_on = conn.execute(
        text("SELECT starter_rules FROM users WHERE id = :user_id"), {"user_id": user_id}
    ).scalar()
    if not has_rules and not starter_on:
        return 0
    scope = "user_id = :user_id AND category_id IS NULL"
    params: dict[str, Any] = {"user_id": user_id}
    if import_id is not None:
        scope += " AND import_id = :import_id"
        params["import_id"] = import_id
    if since is not None:
        scope += " AND date >= :since"
        params["since"] = since
    done = 0
    if has_rules:
        conn.execute(text("DROP TABLE IF EXISTS rule_matches"))
        conn.execute(text(_MATCHES.format(scope=scope)), params)
        conn.execute(text("CREATE INDEX rule_matches_description ON rule_matches (description)"))
        done = int(conn.execute(text(_UPDATE.format(scope=scope)), params).rowcount or 0)
        conn.execute(text("DROP TABLE rule_matches"))
    if starter_on:
        done += _apply_starter(conn, scope, params)
    return done


_SIGN = "CASE WHEN {t}amount_minor > 0 THEN 1 WHEN {t}amount_minor < 0 THEN -1 ELSE 0 END"
_STARTER_FITS = "m.description = transactions.description AND m.sign = " + _SIGN.format(t="transactions.")


def _apply_starter(conn: Connection, scope: str, params: dict[str, Any]) -> int:
    """The starter table on the rows in scope: matched once per distinct (description, sign), the
    categories it names created if missing, then one UPDATE through a temporary match table."""
    table = StarterTable()
    distinct = conn.execute(
        text(f"SELECT DISTINCT description, {_SIGN.format(t='')} FROM transactions WHERE {scope}"), params
    )
    found = ((str(d), int(sign), table.category(str(d), int(sign))) for d, sign in distinct)
    matches = [(d, sign, name) for d, sign, name in found if name]
    if not matches:
        return 0
    user = {"user_id": params["user_id"]}
    conn.execute(
        text(
            "INSERT INTO categories (user_id, name) VALUES (:user_id, :name) "
            "ON CONFLICT (user_id, name) DO NOTHING"
        ),
        [{**user, "name": name} for name in sorted({name for *_, name in matches})],
    )
    rows = conn.execute(text("SELECT name, id FROM categories WHERE user_id = :user_id"), user)
    ids: dict[str, int] = {str(name): int(cid) for name, cid in rows}
    conn.execute(text("DROP TABLE IF EXISTS starter_matches"))
    conn.execute(
        text("CREATE TEMP TABLE starter_matches (description TEXT, sign INTEGER, category_id BIGINT)")
    )
    conn.execute(
        text("INSERT INTO starter_matches (description, sign, category_id) VALUES (:d, :s, :c)"),
        [{"d": d, "s": sign, "c": ids[name]} for d, sign, name in matches],
    )
    conn.execute(text("CREATE INDEX starter_matches_description ON starter_matches (description)"))
    result = conn.execute(
        text(
            f"UPDATE transactions SET category_id = (SELECT m.category_id FROM starter_matches m "
            f"WHERE {_STARTER_FITS}) WHERE {scope} "
            f"AND EXISTS (SELECT 1 FROM starter_matches m WHERE {_STARTER_FITS})"
        ),
        params,
    )
    conn.execute(text("DROP TABLE starter_matches"))
    return int(result.rowcount or 0)
