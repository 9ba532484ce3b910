"""The starter rule table end to end, on PostgreSQL and SQLite: a real csv2ofx export with no Category
column and a user with no rules gets categories; the user's rules and learnt ones beat it; turned off,
nothing; `rules apply` uses it set-based; a category budget warns on starter-categorised spending."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.db.models import Category, Transaction
from finjobs.domain.category_starter import STARTER
from finjobs.services.users import create_user
from tests.conftest import SHARED_DATA, Stack
from tests.integration.test_categories import (
    EMAIL,
    categories_by_description,
    cli_json,
    groceries_budget,
    import_csv,
)

runner = CliRunner()
CSV2OFX = SHARED_DATA / "bank-csv" / "csv2ofx" / "input"


def import_file(stack: Stack, source: Path, tmp_path: Path) -> dict:
    """Import a byte-exact copy of a real file."""
    return import_csv(stack, tmp_path / source.name, source.read_bytes())


def user_categories(stack: Stack) -> set[str]:
    with stack.session() as s:
        return set(s.scalars(select(Category.name)))


def test_a_real_export_with_no_category_column_gets_starter_categories(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        create_user(s, EMAIL)
    source = CSV2OFX / "schwab-checking.csv"
    assert "category" not in source.read_bytes().splitlines()[0].lower().decode()
    doc = import_file(stack, source, tmp_path)
    got = categories_by_description(stack)
    assert doc["imported"] == len(got) >= 4
    assert got["Deposit Mobile Banking"] == "Income"  # a positive deposit
    paypal = next(d for d in got if d.startswith("PAYPAL INST XFER"))
    assert got[paypal] == "Transfers"
    assert got["BMO HARRIS BANK"] is None  # no well-known word: left for the user
    # the import's status counts those rows under the starter table, not under the user's rules
    assert doc["categorised"] == {
        "rule": 0,
        "file": 0,
        "learnt": 0,
        "starter": sum(1 for c in got.values() if c),
    }
    # only the categories a row got were created for the user
    assert user_categories(stack) == {c for c in got.values() if c}
    listed = cli_json("rules", "list", "--user", EMAIL)
    assert listed["rules"] == [] and listed["starter_rules"]["on"] is True
    shown = runner.invoke(app, ["rules", "list", "--user", EMAIL])
    assert "starter rules on" in shown.stdout, shown.output


def test_a_users_rule_and_a_learnt_rule_beat_the_starter_table(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        create_user(s, EMAIL)
    cli_json("rules", "add", "--user", EMAIL, "--match", "LIDL*", "--category", "Discounters")
    first = import_csv(
        stack,
        tmp_path / "a.csv",
        "Date,Description,Amount\n2026-11-01,TESCO STORES 3297,-9.10\n2026-11-01,LIDL 12,-4.00\n"
        "2026-11-01,SHELL 55,-40.00\n",
    )
    assert first["categorised"] == {"rule": 1, "file": 0, "learnt": 0, "starter": 2}
    got = categories_by_description(stack)
    assert got == {"TESCO STORES 3297": "Groceries", "LIDL 12": "Discounters", "SHELL 55": "Fuel"}
    with stack.session() as s:  # the user moves Tesco from the starter category elsewhere
        tid = s.scalar(select(Transaction.id).where(Transaction.description == "TESCO STORES 3297"))
    cli_json("transactions", "categorise", str(tid), "Treats")
    import_csv(
        stack,
        tmp_path / "b.csv",
        "Date,Description,Amount\n2026-11-08,TESCO STORES 1234,-4.00\n2026-11-08,LIDL 99,-2.00\n"
        "2026-11-08,ALDI 7,-3.00\n",
    )
    got = categories_by_description(stack)
    assert got["TESCO STORES 1234"] == "Treats"  # learnt beats starter
    assert got["LIDL 99"] == "Discounters"  # the user's rule beats starter
    assert got["ALDI 7"] == "Groceries"  # nothing else: starter


def test_turned_off_the_starter_table_categorises_nothing(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        create_user(s, EMAIL)
    shown = runner.invoke(app, ["users", "set", EMAIL, "--starter-rules", "off"])
    assert shown.exit_code == 0 and "starter rules off" in shown.stdout, shown.output
    bad = runner.invoke(app, ["users", "set", EMAIL, "--starter-rules", "maybe"])
    assert bad.exit_code == 1
    body = "Date,Description,Amount\n2026-11-01,TESCO STORES 1,-9.10\n2026-11-02,ACME PAYROLL,100.00\n"
    import_csv(stack, tmp_path / "a.csv", body)
    assert set(categories_by_description(stack).values()) == {None}
    assert user_categories(stack) == set()
    assert cli_json("rules", "apply", "--user", EMAIL)["categorised"] == 0
    assert cli_json("rules", "list", "--user", EMAIL)["starter_rules"]["on"] is False
    # back on: `rules apply` categorises the rows already there, set-based, by sign
    assert cli_json("users", "set", EMAIL, "--starter-rules", "on")["starter_rules"] is True
    assert cli_json("rules", "apply", "--user", EMAIL)["categorised"] == 2
    assert categories_by_description(stack) == {"TESCO STORES 1": "Groceries", "ACME PAYROLL": "Income"}
    assert user_categories(stack) == {"Groceries", "Income"}


def test_rules_apply_puts_a_users_rule_before_the_starter_table(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        create_user(s, EMAIL)
    cli_json("users", "set", EMAIL, "--starter-rules", "off")
    body = "Date,Description,Amount\n2026-11-01,NETFLIX.COM,-9.99\n2026-11-01,SPOTIFY USA,-9.99\n"
    body += "2026-11-02,ACME REFUND,5.00\n2026-11-02,ACME REFUND,-5.00\n"
    import_csv(stack, tmp_path / "a.csv", body)
    cli_json("rules", "add", "--user", EMAIL, "--match", "netflix*", "--category", "Streaming")
    cli_json("users", "set", EMAIL, "--starter-rules", "on")
    assert cli_json("rules", "apply", "--user", EMAIL)["categorised"] == 3
    with stack.session() as s:
        rows = s.execute(
            select(Transaction.description, Transaction.amount_minor, Category.name)
            .outerjoin(Category, Category.id == Transaction.category_id)
            .order_by(Transaction.description, Transaction.amount_minor)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("ACME REFUND", -500, None),  # 'refund' is income-only: not for a negative amount
        ("ACME REFUND", 500, "Income"),
        ("NETFLIX.COM", -999, "Streaming"),
        ("SPOTIFY USA", -999, "Subscriptions"),
    ]


def test_a_category_budget_warns_on_starter_categorised_spending(stack: Stack, tmp_path: Path) -> None:
    rows = "WHOLE FOODS MARKET #12,-50.00,\nPOS 4411 LIDL,-35.00,\nNETFLIX.COM,-60.00,\n"
    assert groceries_budget(stack, tmp_path, rows) == ("Groceries", "85.00", "warning")


def test_every_csv2ofx_file_imports_with_starter_rules_on(stack: Stack, tmp_path: Path) -> None:
    """The starter table never makes an import fail, and only ever adds categories it names."""
    with stack.session() as s:
        create_user(s, EMAIL)
    for name in ("amazon.csv", "mint_headerless.csv", "ingesp.csv"):
        import_file(stack, CSV2OFX / name, tmp_path)
    got = categories_by_description(stack)
    assert {c for c in got.values() if c} <= {c.name for c in STARTER}
    assert sum(c is not None for c in got.values()) >= 3
