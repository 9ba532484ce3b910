"""Categories end to end, on PostgreSQL and SQLite: a Category column creates or reuses the user's
categories; rules (pattern, amount range, account) and a learnt re-categorisation categorise a new
import; a category budget warns on imported spending."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.db.models import AiInsight, Category, Transaction
from finjobs.queue.worker import simple_worker
from finjobs.services.budgets import budget_statuses, create_budget, evaluate_budgets
from finjobs.services.users import create_user
from tests.conftest import Stack

runner = CliRunner()
EMAIL = "cat@example.com"


def cli_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def import_csv(stack: Stack, path: Path, body: str | bytes, *extra: str) -> dict:
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body)
    accepted = cli_json("import", "enqueue", str(path), "--user", EMAIL, *extra)
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    doc = cli_json("import", "status", str(accepted["id"]))
    assert doc["status"] == "completed", doc
    return doc


def starter_off() -> None:
    """These tests are about the file's column, a user's rules and learnt ones: no starter table."""
    assert cli_json("users", "set", EMAIL, "--starter-rules", "off")["starter_rules"] is False


def categories_by_description(stack: Stack) -> dict[str, str | None]:
    with stack.session() as s:
        rows = s.execute(
            select(Transaction.description, Category.name).outerjoin(
                Category, Category.id == Transaction.category_id
            )
        ).all()
    return {str(d): c for d, c in rows}


def test_a_category_column_creates_and_reuses_the_users_categories(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        uid = create_user(s, EMAIL).id
        existing = Category(user_id=uid, name="Groceries")
        s.add(existing)
        s.flush()
        existing_id = existing.id
    starter_off()
    import_csv(
        stack,
        tmp_path / "a.csv",
        "Date,Description,Amount,Category\n"
        "2026-11-02,TESCO STORES 123,-12.50,Groceries\n"
        "2026-11-03,SHELL 44,-40.00,Fuel\n"
        "2026-11-04,SALARY,2000.00,\n",
    )
    got = categories_by_description(stack)
    assert got == {"TESCO STORES 123": "Groceries", "SHELL 44": "Fuel", "SALARY": None}
    with stack.session() as s:
        names = s.execute(select(Category.name, Category.id).where(Category.user_id == uid)).all()
    assert sorted(n for n, _ in names) == ["Fuel", "Groceries"]  # reused, not duplicated
    assert dict(names)["Groceries"] == existing_id


def test_rules_and_a_learnt_recategorisation_categorise_a_new_import(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        create_user(s, EMAIL)
    starter_off()
    cli_json("rules", "add", "--user", EMAIL, "--match", "TESCO*", "--category", "Groceries")
    cli_json("rules", "add", "--user", EMAIL, "--match", "*amazon*", "--category", "Big", "--max", "-100")
    cli_json("rules", "add", "--user", EMAIL, "--match", "*amazon*", "--category", "Shopping")
    cli_json("rules", "add", "--user", EMAIL, "--match", "ATM*", "--category", "Cash", "--account", "cash")
    first = "Date,Description,Amount\n2026-11-01,Corner Cafe,-3.20\n2026-11-01,ATM 1,-20.00\n"
    assert import_csv(stack, tmp_path / "first.csv", first)["categorised"] == {
        "rule": 0,
        "file": 0,
        "learnt": 0,
        "starter": 0,
    }
    with stack.session() as s:
        cafe = s.scalar(select(Transaction.id).where(Transaction.description == "Corner Cafe"))
    assert categories_by_description(stack)["ATM 1"] is None  # the rule is for the account "cash"
    cli_json("transactions", "categorise", str(cafe), "Coffee")
    second = import_csv(
        stack,
        tmp_path / "second.csv",
        "Date,Description,Amount,Category\n"
        "2026-11-05,tesco metro,-5.00,\n"
        "2026-11-05,AMAZON MKTPLACE,-250.00,\n"
        "2026-11-05,Amazon Mktplace,-12.00,\n"
        "2026-11-06,CORNER CAFE,-3.40,\n"
        "2026-11-06,TESCO EXPRESS,-7.00,Treats\n"
        "2026-11-06,Unknown shop,-1.00,\n",
    )
    # tesco metro and both AMAZON rows by a rule, CORNER CAFE by the learnt payee, TESCO EXPRESS by the file
    assert second["categorised"] == {"rule": 3, "file": 1, "learnt": 1, "starter": 0}
    shown = runner.invoke(app, ["import", "status", str(second["id"])])
    assert "categorised by_rule=3 by_file=1 by_learnt=1" in " ".join(shown.stdout.split()), shown.output
    got = categories_by_description(stack)
    assert got["tesco metro"] == "Groceries"
    assert got["AMAZON MKTPLACE"] == "Big"  # the amount range
    assert got["Amazon Mktplace"] == "Shopping"
    assert got["CORNER CAFE"] == "Coffee"  # learnt from the re-categorisation, case-insensitively
    assert got["TESCO EXPRESS"] == "Treats"  # the file's own category wins over a rule
    assert got["Unknown shop"] is None
    import_csv(stack, tmp_path / "cash.csv", "Date,Description,Amount\n2026-11-07,ATM 9,-50.00\n",
               "--account", "cash")  # fmt: skip
    assert categories_by_description(stack)["ATM 9"] == "Cash"
    rules = cli_json("rules", "list", "--user", EMAIL)["rules"]
    assert [r["kind"] for r in rules].count("learnt") == 1


def test_rules_apply_on_demand_since_a_date(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        create_user(s, EMAIL)
    starter_off()
    import_csv(
        stack,
        tmp_path / "old.csv",
        "Date,Description,Amount\n2026-10-01,NETFLIX.COM,-9.99\n2026-11-01,NETFLIX.COM 2,-9.99\n",
    )
    cli_json("rules", "add", "--user", EMAIL, "--match", "netflix*", "--category", "Streaming")
    assert cli_json("rules", "apply", "--user", EMAIL, "--since", "2026-10-15")["categorised"] == 1
    got = categories_by_description(stack)
    assert (got["NETFLIX.COM"], got["NETFLIX.COM 2"]) == (None, "Streaming")
    assert cli_json("rules", "apply", "--user", EMAIL)["categorised"] == 1


def groceries_budget(stack: Stack, tmp_path: Path, rows: str, *rules: tuple[str, str]) -> tuple[str, ...]:
    """A new user with a 100.00 Groceries budget (alert at 80%) around today and `rules` (glob,
    category): imports `rows` (Description,Amount,Category lines) dated today; the budget's
    (category, spent, state)."""
    today = dt.date.today()
    with stack.session() as s:
        uid = create_user(s, EMAIL).id
        create_budget(s, None, uid, amount="100.00", start=today - dt.timedelta(days=3),
                      end=today + dt.timedelta(days=27), category="Groceries", threshold_pct=80)  # fmt: skip
    for match, category in rules:
        cli_json("rules", "add", "--user", EMAIL, "--match", match, "--category", category)
    body = "".join(f"{today.isoformat()},{line}\n" for line in rows.strip().splitlines())
    import_csv(stack, tmp_path / "spend.csv", "Date,Description,Amount,Category\n" + body)
    with stack.session() as s:
        (status,) = budget_statuses(s, None, uid, today=today)
    return status["category"], status["spent"], status["state"]


def test_a_category_budget_warns_on_imported_spending(stack: Stack, tmp_path: Path) -> None:
    rows = "ALDI 12,-50.00,\nFarm shop,-35.00,Groceries\nCinema,-60.00,Fun\n"
    got = groceries_budget(stack, tmp_path, rows, ("ALDI*", "Groceries"))
    assert got == ("Groceries", "85.00", "warning")
    with stack.session() as s:  # the daily check's alert names the category, not its id
        assert evaluate_budgets(s, None, today=dt.date.today()).alerts >= 1
        warning = s.scalars(select(AiInsight).where(AiInsight.type == "budget_warning")).one()
    assert warning.message.startswith("You have spent 85.00 of 100.00 USD on Groceries ("), warning.message


def test_the_api_recategorises_and_the_next_import_learns_it(stack: Stack, tmp_path: Path) -> None:
    from finjobs.web import create_app

    with stack.session() as s:
        created = create_user(s, EMAIL)
        other = create_user(s, "other@example.com")
    import_csv(stack, tmp_path / "a.csv", "Date,Description,Amount\n2026-11-01,Joe's Diner,-8.00\n")
    with stack.session() as s:
        txn = s.scalar(select(Transaction.id))
    client = create_app(stack.settings).test_client()
    url = f"/api/v1/transactions/{txn}/category"
    auth = {"Authorization": f"Bearer {created.token}"}
    assert client.put(url, json={"category": "Dining"}, headers=auth).status_code == 200
    foreign = client.put(url, json={"category": "X"}, headers={"Authorization": f"Bearer {other.token}"})
    assert foreign.status_code == 404
    assert client.put(url, json={}, headers=auth).status_code in {400, 422}
    doc = import_csv(stack, tmp_path / "b.csv", "Date,Description,Amount\n2026-11-09,JOE'S DINER,-9.50\n")
    shown = client.get(f"/api/v1/imports/{doc['id']}/status", headers=auth)
    assert shown.status_code == 200
    assert shown.get_json()["categorised"] == {"rule": 0, "file": 0, "learnt": 1, "starter": 0}
    assert categories_by_description(stack) == {"Joe's Diner": "Dining", "JOE'S DINER": "Dining"}


def test_a_learnt_payee_ignores_store_numbers_dates_and_card_prefixes(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        create_user(s, EMAIL)
    starter_off()
    import_csv(
        stack,
        tmp_path / "a.csv",
        "Date,Description,Amount\n2026-11-01,TESCO STORES 3297 LONDON 12/03,-9.10\n",
    )
    with stack.session() as s:
        tesco = s.scalar(select(Transaction.id).where(Transaction.description.like("TESCO STORES 3297%")))
    learnt = cli_json("transactions", "categorise", str(tesco), "Groceries")["learnt"]
    import_csv(
        stack,
        tmp_path / "b.csv",
        "Date,Description,Amount\n"
        "2026-11-08,TESCO STORES 1234,-4.00\n"
        "2026-11-08,CARD PURCHASE TESCO STORES ****5521 08/11,-6.00\n"
        "2026-11-08,SAINSBURYS 0031,-3.00\n",
    )
    got = categories_by_description(stack)
    assert got["TESCO STORES 1234"] == "Groceries"
    assert got["CARD PURCHASE TESCO STORES ****5521 08/11"] == "Groceries"
    assert got["SAINSBURYS 0031"] is None
    with stack.session() as s:
        other = s.scalar(select(Transaction.id).where(Transaction.description == "TESCO STORES 1234"))
    assert (
        cli_json("transactions", "categorise", str(other), "Food")["learnt"] == learnt
    )  # one payee, one rule
    rules = cli_json("rules", "list", "--user", EMAIL)["rules"]
    assert [(r["kind"], r["category"]) for r in rules] == [("learnt", "Food")]
