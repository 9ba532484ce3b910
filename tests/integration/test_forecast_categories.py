"""The top-5 category forecast reads the categories that imports carry (a Category column and rules)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.queue.worker import simple_worker
from finjobs.services.forecasts import top_categories
from finjobs.services.users import create_user
from tests.conftest import Stack

runner = CliRunner()
EMAIL = "fc-cat@example.com"
TODAY = dt.date(2026, 11, 30)


def cli_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_top_categories_rank_imported_and_rule_categorised_spend(stack: Stack, tmp_path: Path) -> None:
    with stack.session() as s:
        uid = create_user(s, EMAIL).id
    cli_json("rules", "add", "--user", EMAIL, "--match", "SHELL*", "--category", "Fuel")
    rows = ["Date,Description,Amount,Category"]
    # per day over 60 days: groceries 30 (column), fuel 20 (rule), coffee 5 (column), an uncategorised 100
    for i in range(60):
        day = TODAY - dt.timedelta(days=1 + i)
        rows += [
            f"{day},TESCO STORES {i},-30.00,Groceries",
            f"{day},SHELL {i},-20.00,",
            f"{day},JOES CAFE {i},-5.00,Coffee",
            f"{day},MISC SHOP {i},-100.00,",
        ]
    rows.append(f"{TODAY - dt.timedelta(days=200)},OLD HOTEL,-9000.00,Travel")  # outside the window
    rows.append(f"{TODAY},TODAY SHOP,-9000.00,Today")  # today is not over: not ranked
    path = tmp_path / "cat.csv"
    path.write_text("\n".join(rows) + "\n")
    accepted = cli_json("import", "enqueue", str(path), "--user", EMAIL)
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    assert cli_json("import", "status", str(accepted["id"]))["status"] == "completed"
    with stack.session() as s:
        top = top_categories(s, [uid], today=TODAY)[uid]
    assert [name for _cid, name in top] == ["Groceries", "Fuel", "Coffee"]
