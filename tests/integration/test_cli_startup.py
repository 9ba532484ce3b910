"""CLI start-up: the root --help imports no heavy library, and its lazy command table matches the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finjobs.cli.app import COMMANDS, load_command

HEAVY = ("sqlalchemy", "prophet", "pytesseract", "rq", "redis", "flask", "numpy", "pandas")

PROBE = """
import json, sys
from finjobs.cli import main
sys.argv = ["finjobs", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
print("\\n" + json.dumps({"code": code, "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(%r))}))
"""


def _probe(args: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    result["stdout"] = out.stdout
    return result


def test_root_help_imports_no_heavy_library() -> None:
    result = _probe(["--help"])
    assert result["code"] == 0
    assert result["heavy"] == []
    for name in COMMANDS:
        assert f" {name} " in str(result["stdout"])


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_help_imports_no_heavy_library(name: str) -> None:
    # `finjobs NAME --help` loads only NAME's module: its database, queue, OCR and forecast
    # libraries are imported inside the functions that use them.
    result = _probe([name, "--help"])
    assert result["code"] == 0
    assert result["heavy"] == []
    assert "Usage:" in str(result["stdout"])


def test_a_command_still_loads_its_libraries(tmp_path: Path) -> None:
    # The probe itself is sound: running a database command does load SQLAlchemy.
    result = _probe(["db", "upgrade"], {"DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}"})
    assert result["code"] == 0
    assert "sqlalchemy" in result["heavy"]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_table_summary_matches_the_loaded_command(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert " ".join((command.help or "").split()).startswith(" ".join(COMMANDS[name].help.split()))
