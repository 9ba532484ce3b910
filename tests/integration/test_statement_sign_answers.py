"""The sign question answered at import time, on PostgreSQL and SQLite: an all-positive amount column the
file cannot decide is read as the account's previous import read it, else as the saved preset's account type
says, else as written (the stated default); the import status records the question and the answer, and
`import preview --user --account` shows the answer the import would use. Layouts reconstructed after
csv2ofx's creditunion.csv (a check register, every amount positive) and a bank file whose direction words a
running balance reads the other way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.db.models import Transaction
from finjobs.queue.worker import simple_worker
from finjobs.services.users import create_user
from tests.conftest import Stack

runner = CliRunner()
REGISTER = "Check Number,Date,Description,Amount,Category\nINV-1,2/8/15,Adolph Noya,500.00,Expenses\n"
REGISTER += "INV-2,2/24/15,Sadrick Mtel,700.00,Expenses\n"
LATER = "Check Number,Date,Description,Amount,Category\nINV-3,3/24/15,Tchenzema,450.00,Expenses\n"
QUESTION = "sign: {n} amounts are positive and the file does not say if they are money in or out"
DEFAULT = "sign: positive amounts are money in (as written) by the stated default"
FROM_VISA = (
    "sign: positive amounts are money out from the previous import of account 'visa' (account type credit)"
)
# after csv2ofx's capitalone.csv: a card export with a debit/credit pair
CARD_PAIR = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
CARD_PAIR += "2015-12-31,2016-01-02,1234,Airplanes R Us,Other Travel,1000.00,\n"
CARD_PAIR += "2015-12-31,2016-01-02,1234,CAPITAL ONE AUTOPAY PYMT,Payment/Credit,,1000.00\n"
SIGNED = "Date,Description,Amount\n2015-01-05,Shop,-5.00\n2015-01-06,Salary,10.00\n"
REVERSED = """Date,Description,Amount,Type,Balance
2024-05-01,ACME PAYROLL SALARY,2000.00,DEBIT,3000.00
2024-05-02,Coffee Corner,3.50,CREDIT,2996.50
2024-05-03,Rent May,950.00,CREDIT,2046.50
2024-05-04,Grocer,21.45,CREDIT,2025.05
"""
TIED = """Date,Description,Amount,Type,Balance
2024-06-01,ACME Ltd,2000.00,DEBIT,4025.05
2024-06-02,Baker,4.50,CREDIT,4020.55
2024-06-03,Rent June,950.00,CREDIT,3070.55
2024-06-04,Grocer,30.00,CREDIT,3040.55
"""


def run(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def files(stack: Stack, tmp_path: Path) -> dict[str, Path]:
    with stack.session() as s:
        create_user(s, "ana@example.com")
    out = {}
    texts = {"register": REGISTER, "later": LATER, "reversed": REVERSED, "tied": TIED}
    for name, text in {**texts, "card_pair": CARD_PAIR, "signed": SIGNED}.items():
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(text)
    return out


def import_file(stack: Stack, path: Path, *extra: str) -> dict:
    accepted = run("import", "enqueue", str(path), "--user", "ana@example.com", *extra)
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    return run("import", "status", str(accepted["id"]))


def amounts(stack: Stack, account: str) -> list[int]:
    with stack.session() as s:
        query = select(Transaction.amount_minor).where(Transaction.account == account)
        return sorted(s.scalars(query))


def test_positive_amounts_nothing_answers_import_as_written_and_the_status_says_so(
    stack: Stack, files: dict[str, Path]
) -> None:
    doc = import_file(stack, files["register"], "--account", "checks")
    assert doc["status"] == "completed" and doc["imported"] == 2
    assert doc["open_questions"] == [QUESTION.format(n="all 2")]
    assert doc["assumptions"] == [DEFAULT]
    assert amounts(stack, "checks") == [50000, 70000]


def test_the_accounts_previous_card_import_answers_the_sign(stack: Stack, files: dict[str, Path]) -> None:
    first = import_file(stack, files["register"], "--account", "visa", "--account-type", "credit")
    assert first["open_questions"] == [] and first["assumptions"] == []  # the user said: a card
    doc = import_file(stack, files["later"], "--account", "visa")
    assert doc["status"] == "completed"
    assert doc["open_questions"] == [QUESTION.format(n="all 1")]
    assert doc["assumptions"] == [FROM_VISA]
    assert amounts(stack, "visa") == [-70000, -50000, -45000]
    other = import_file(stack, files["later"], "--account", "giro")  # another account's history says nothing
    assert other["assumptions"] == [DEFAULT] and amounts(stack, "giro") == [45000]


def test_an_earlier_card_import_of_another_shape_or_a_signed_file_answers_too(
    stack: Stack, files: dict[str, Path]
) -> None:
    import_file(stack, files["card_pair"], "--account", "visa", "--account-type", "credit")
    assert import_file(stack, files["later"], "--account", "visa")["assumptions"] == [FROM_VISA]
    import_file(stack, files["signed"], "--account", "giro")  # a bank file that says positive is money in
    assert import_file(stack, files["later"], "--account", "giro")["assumptions"] == [
        "sign: positive amounts are money in (as written) from the previous import of account 'giro'"
    ]
    assert amounts(stack, "visa") == [-100000, -45000, 100000] and amounts(stack, "giro") == [
        -500,
        1000,
        45000,
    ]


def test_a_saved_preset_with_an_account_type_answers_before_the_history(
    stack: Stack, files: dict[str, Path]
) -> None:
    import_file(stack, files["register"], "--account", "visa", "--account-type", "credit")
    columns = "date=Date,amount=Amount,description=Description"
    run(
        "import",
        "preset",
        "save",
        "checks",
        "--user",
        "ana@example.com",
        "--map",
        columns,
        "--account-type",
        "savings",
    )
    doc = import_file(stack, files["later"], "--account", "visa", "--preset", "checks")
    assert doc["assumptions"] == [
        "sign: positive amounts are money in (as written) from preset 'checks' (account type savings)"
    ]
    assert amounts(stack, "visa") == [-70000, -50000, 45000]


def test_preview_shows_the_answer_the_import_would_use_and_where_it_came_from(
    stack: Stack, files: dict[str, Path]
) -> None:
    import_file(stack, files["register"], "--account", "visa", "--account-type", "credit")
    user = ("--user", "ana@example.com")
    doc = run("import", "preview", str(files["later"]), *user, "--account", "visa")
    assert doc["questions"] == [{"question": QUESTION.format(n="all 1"), "answer": FROM_VISA}]
    assert [r["amount"] for r in doc["rows"]] == ["-450.00"]
    assert run("import", "preview", str(files["later"]), *user)["questions"][0]["answer"] == DEFAULT
    printed = runner.invoke(app, ["import", "preview", str(files["later"]), *user, "--account", "visa"])
    assert printed.exit_code == 0, printed.output
    said = " ".join(printed.output.split())  # the console wraps long lines
    assert f"open question: {QUESTION.format(n='all 1')}" in said and f"assumed: {FROM_VISA}" in said
    with stack.session() as s:  # a preview writes nothing
        assert len(list(s.scalars(select(Transaction.id)))) == 2


def test_direction_words_the_balance_read_reversed_answer_the_next_tie(
    stack: Stack, files: dict[str, Path]
) -> None:
    first = import_file(stack, files["reversed"], "--account", "giro")
    assert first["open_questions"] == [] and amounts(stack, "giro") == [-95000, -2145, -350, 200000]
    doc = import_file(stack, files["tied"], "--account", "giro")
    assert doc["open_questions"] == [
        "sign: the direction words and the running balance disagree and weigh the same"
    ]
    assert doc["assumptions"] == [
        "sign: direction words read reversed from the previous import of account 'giro'"
    ]
    assert amounts(stack, "giro") == [-95000, -95000, -3000, -2145, -450, -350, 200000, 200000]
    fresh = import_file(stack, files["tied"], "--account", "other")
    assert fresh["assumptions"] == ["sign: direction words kept by the stated default"]
    assert amounts(stack, "other") == [-200000, 450, 3000, 95000]
