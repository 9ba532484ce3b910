"""Imports of files whose dates fit both orders, on PostgreSQL and SQLite: the saved preset, the
account's previous import, then the locale answer the question, and the import log records it."""

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
