"""`finjobs recurring list --json` and GET /api/v1/recurring: one service, the caller's series only.
Real PostgreSQL/SQLite via the stack fixture."""

from __future__ import annotations

import json
import random

from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.db.models import utcnow
from finjobs.services.users import create_user
from finjobs.web import create_app
from tests.conftest import Stack
from tests.support.forecast_data import insert_history, spending_history

runner = CliRunner()


def test_cli_and_api_list_the_same_rent_with_its_next_date(stack: Stack) -> None:
    today = utcnow().date()
    txns = spending_history(random.Random(2), end=today, days=200)
    rent = next(t for t in txns if t.description == "RENT")
    with stack.session() as s:
        alice = create_user(s, "alice@example.com")
        bob = create_user(s, "bob@example.com")
        insert_history(s, alice.id, txns)

    result = runner.invoke(app, ["recurring", "list", "--user", "alice@example.com", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    rents = [d for d in doc["series"] if d["payee"] == "rent"]
    assert len(rents) == 1
    r = rents[0]
    assert (r["cadence"], r["direction"], r["overdue"]) == ("monthly", "out", False)
    assert r["typical_amount"] == f"{-rent.amount_minor / 100:.2f}"
    nxt = today.replace(day=1)
    nxt = nxt.replace(year=nxt.year + nxt.month // 12, month=nxt.month % 12 + 1)
    assert r["next_expected_date"] == nxt.isoformat()
    assert any(d["payee"] == "salary" and d["direction"] == "in" for d in doc["series"])

    client = create_app(stack.settings).test_client()
    api = client.get("/api/v1/recurring", headers={"Authorization": f"Bearer {alice.token}"}).get_json()
    assert api["series"] == doc["series"]
    other = client.get("/api/v1/recurring", headers={"Authorization": f"Bearer {bob.token}"}).get_json()
    assert other["series"] == [] and other["user_id"] == bob.id
    assert client.get("/api/v1/recurring").status_code == 401

    text = runner.invoke(app, ["recurring", "list", "--user", "alice@example.com"])
    assert "rent" in text.output and nxt.isoformat() in text.output
