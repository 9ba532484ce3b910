"""No tokens, bank descriptions or receipt text in logs at INFO: a real worker process imports a file
with a recognisable payee, and the web app serves an authenticated upload, both logging at INFO."""

from __future__ import annotations

import io
import logging
import subprocess
from pathlib import Path

import pytest

from finjobs.services.users import create_user
from finjobs.web import create_app
from tests.conftest import Stack, finjobs_cmd

PAYEE = "ZZQX SECRET PHARMACY"


def test_worker_logs_carry_no_bank_descriptions(pg_stack: Stack, tmp_path: Path) -> None:
    with pg_stack.session() as s:
        create_user(s, "log@example.com")
    path = tmp_path / "statement.csv"
    path.write_text(f"Date,Description,Amount\n01/02/2026,{PAYEE},-12.00\n01/03/2026,{PAYEE} 2,bad\n")
    subprocess.run(
        finjobs_cmd("import", "enqueue", str(path), "--user", "log@example.com"),
        env=pg_stack.env,
        check=True,
        capture_output=True,
    )
    env = {**pg_stack.env, "FINJOBS_LOG_LEVEL": "INFO"}
    out = subprocess.run(
        finjobs_cmd("worker", "csv-import", "--burst"), env=env, capture_output=True, text=True, timeout=120
    )
    logs = out.stdout + out.stderr
    assert "Job OK" in logs  # the worker did log at INFO, and the import ran
    assert PAYEE not in logs and "SECRET" not in logs


def test_web_logs_carry_no_tokens_or_descriptions(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    with stack.session() as s:
        token = create_user(s, "web@example.com").token
    client = create_app(stack.settings).test_client()
    caplog.set_level(logging.INFO)
    data = {"file": (io.BytesIO(f"Date,Description,Amount\n01/02/2026,{PAYEE},-1.00\n".encode()), "s.csv")}
    resp = client.post(
        "/api/v1/imports",
        headers={"Authorization": f"Bearer {token}"},
        data=data,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 202
    client.get("/api/v1/imports", headers={"Authorization": "Bearer fj_wrong-token"})
    text = caplog.text
    assert token not in text and "fj_wrong-token" not in text and PAYEE not in text
