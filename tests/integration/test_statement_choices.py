"""Imports of files the content cannot decide, on PostgreSQL and SQLite: dates that fit both orders (the
saved preset, the account's previous import, then the locale answer) and a headerless file with two
equally good money columns (the account's earlier headerless import, else the detector's rule); the
import log records the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.db.models import Transaction, User
from finjobs.queue.worker import simple_worker
from finjobs.services.users import create_user
from tests.conftest import Stack

runner = CliRunner()
AMBIGUOUS = "Date,Description,Amount\n02/12/2009,Shop A,-10.00\n03/11/2009,Shop B,-20.00\n"
DECIDED = "Date,Description,Amount\n25/12/2009,Shop C,-30.00\n"
# reconstructed after csv2ofx's mint_headerless.csv (date, payee, category, amount, type, accounts) with
# a second money column as card exports add for foreign spending (the amount in the original currency):
# both columns fill every row, neither is a running balance of the other
TWO_MONEY = (
    "6/13/15,Cafe Lisboa,Coffee Shops,4.50,4.89,debit,Visa\r\n"
    "6/14/15,Hotel Avenida,Hotels,212.00,230.35,debit,Visa\r\n"
    "6/15/15,Refund Hotel Avenida,Hotels,20.00,21.73,credit,Visa\r\n"
    "6/16/15,Farmacia Central,Pharmacy,12.30,13.36,debit,Visa\r\n"
)
NEXT_MONTH = (
    "7/13/15,Padaria Real,Bakeries,3.20,3.48,debit,Visa\r\n"
    "7/14/15,Museu do Azulejo,Museums,15.00,16.30,debit,Visa\r\n"
)
TIE = "two equally good amount columns: amount column 4 or amount column 5"


def run(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def path(stack: Stack, tmp_path: Path) -> Path:
    with stack.session() as s:
        create_user(s, "ana@example.com")
    p = tmp_path / "bank.csv"
    p.write_text(AMBIGUOUS)
    return p


def import_file(stack: Stack, path: Path, *extra: str) -> dict:
    accepted = run("import", "enqueue", str(path), "--user", "ana@example.com", *extra)
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    return run("import", "status", str(accepted["id"]))


def dates(stack: Stack) -> list[str]:
    with stack.session() as s:
        return sorted(d.isoformat() for d in s.scalars(select(Transaction.date)))


def test_locale_option_answers_ambiguous_dates_and_the_status_says_so(stack: Stack, path: Path) -> None:
    doc = import_file(stack, path, "--locale", "en_GB")
    assert doc["status"] == "completed"
    assert doc["open_questions"] == ["every date fits both day-first and month-first"]
    assert doc["assumptions"] == ["date order DMY from --locale en_GB"]
    assert dates(stack) == ["2009-11-03", "2009-12-02"]


def test_the_users_locale_answers_when_no_option_does(stack: Stack, path: Path) -> None:
    with stack.session() as s:
        user = s.scalars(select(User)).one()
        user.locale = "de_DE"
    doc = import_file(stack, path)
    assert doc["assumptions"] == ["date order DMY from the user's locale de_DE"]


def test_the_accounts_previous_import_answers_before_the_locale(
    stack: Stack, path: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text(DECIDED)
    assert import_file(stack, first, "--account", "giro")["assumptions"] == []
    doc = import_file(stack, path, "--account", "giro", "--locale", "en_US")
    assert doc["assumptions"] == ["date order DMY from the previous import of account 'giro'"]
    assert "2009-12-02" in dates(stack)


def test_without_any_answer_the_guess_is_recorded(stack: Stack, path: Path) -> None:
    doc = import_file(stack, path)
    assert doc["assumptions"] == ["date order MDY guessed from the separators and decimal mark"]


def test_preview_prints_evidence_and_the_open_question(stack: Stack, path: Path) -> None:
    result = runner.invoke(app, ["import", "preview", str(path), "--locale", "en_GB"])
    assert result.exit_code == 0, result.output
    assert "header 'Amount'" in result.output
    assert "open question: every date fits both day-first and month-first" in result.output
    assert "assumed: date order DMY from locale en_GB" in result.output


def amounts(stack: Stack) -> list[int]:
    with stack.session() as s:
        return sorted(s.scalars(select(Transaction.amount_minor)))


@pytest.fixture
def two_money(tmp_path: Path) -> Path:
    p = tmp_path / "card.csv"
    p.write_text(TWO_MONEY, newline="")
    return p


@pytest.fixture
def next_month(tmp_path: Path) -> Path:
    p = tmp_path / "card-july.csv"
    p.write_text(NEXT_MONTH, newline="")
    return p


def test_two_money_columns_without_history_follow_the_rule_and_say_so(
    stack: Stack, path: Path, two_money: Path
) -> None:
    doc = import_file(stack, two_money, "--account", "visa")
    assert doc["status"] == "completed"
    assert doc["open_questions"] == [TIE]
    assert doc["assumptions"] == ["amount column 4 by the detector's rule (the first of the tied columns)"]
    assert amounts(stack) == [-21200, -1230, -450, 2000]


def test_the_accounts_previous_headerless_import_answers_which_money_column(
    stack: Stack, path: Path, two_money: Path, next_month: Path
) -> None:
    first = import_file(stack, two_money, "--account", "visa", "--map", "date=0,amount=4")
    assert first["status"] == "completed" and first["open_questions"] == []
    doc = import_file(stack, next_month, "--account", "visa")
    assert doc["status"] == "completed"
    assert doc["open_questions"] == [TIE]
    assert doc["assumptions"] == ["amount column 5 from the previous import of account 'visa'"]
    assert amounts(stack) == [-23035, -1630, -1336, -489, -348, 2173]


def test_another_accounts_choice_or_another_shape_does_not_answer(
    stack: Stack, path: Path, two_money: Path, tmp_path: Path
) -> None:
    import_file(stack, two_money, "--account", "other", "--map", "date=0,amount=4")
    narrow = tmp_path / "narrow.csv"  # one money column only: its choice is not one of the tied columns
    narrow.write_text("6/20/15,Shop,Misc,7.00,debit,Visa\n6/21/15,Shop B,Misc,8.00,debit,Visa\n")
    assert import_file(stack, narrow, "--account", "visa")["open_questions"] == []
    doc = import_file(stack, two_money, "--account", "visa")
    assert doc["assumptions"] == ["amount column 4 by the detector's rule (the first of the tied columns)"]
    with stack.session() as s:
        visa = s.scalars(select(Transaction.amount_minor).where(Transaction.account == "visa"))
        assert sorted(visa) == [-21200, -1230, -800, -700, -450, 2000]


def test_preview_names_the_open_money_question_and_the_rule(two_money: Path) -> None:
    result = runner.invoke(app, ["import", "preview", str(two_money)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert f"open question: {TIE}" in said
    assert "assumed: amount column 4 by the detector's rule" in said
