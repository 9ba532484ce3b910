"""CLI start-up: no --help (root, every COMMANDS entry, every sub-command) and no light command imports a
heavy library, the lazy command table matches the commands, and the plain help keeps every option and
help text. Subprocesses read sys.modules; nothing is timed (scripts/bench_startup.py prints figures)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from finjobs.cli.app import COMMANDS, app, load_command

# Top-level packages, or a dotted module (rich.markdown: Typer's Rich help layout pulls it and
# markdown_it; pydantic: Typer coerces every value that is not a bool through a TypeAdapter).
HEAVY = (
    "sqlalchemy",
    "redis",
    "rq",
    "prophet",
    "pandas",
    "numpy",
    "PIL",
    "pytesseract",
    "pydantic",
    "flask",
    "rich.markdown",
)

PROBE = """
import json, sys
from finjobs.cli import main
sys.argv = ["finjobs", *json.loads(sys.argv[1])]
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def heavy_in(modules: list[str]) -> list[str]:
    """The HEAVY entries among imported module names (a package counts when any of its modules is in)."""
    return [h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules)]


def _probe(args: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    return {"code": doc["code"], "heavy": heavy_in(doc["modules"]), "stdout": out.stdout}


def _paths() -> Iterator[list[str]]:
    """Every command path below the root: each COMMANDS entry and, inside groups, each sub-command."""
    for name in COMMANDS:
        stack = [([name], load_command(name))]
        while stack:
            path, command = stack.pop()
            yield path
            stack.extend(([*path, n], c) for n, c in getattr(command, "commands", {}).items())


PATHS = list(_paths())
SUB_PATHS = [p for p in PATHS if len(p) > 1]


def test_heavy_in_matches_packages_and_dotted_modules() -> None:
    assert heavy_in(["rich", "rich.console", "sqlalchemy.orm", "redisx"]) == ["sqlalchemy"]
    assert heavy_in(["rich.markdown", "pydantic"]) == ["pydantic", "rich.markdown"]


def test_root_help_imports_no_heavy_library() -> None:
    result = _probe(["--help"])
    assert result["code"] == 0
    assert result["heavy"] == []
    for name in COMMANDS:
        assert f" {name} " in str(result["stdout"])


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_help_imports_no_heavy_library(name: str) -> None:
    # `finjobs NAME --help` loads only NAME's module: its database, queue, OCR and forecast libraries
    # are imported inside the functions that use them, and Typer neither draws Rich panels nor
    # builds a pydantic adapter for the unused --help flags.
    result = _probe([name, "--help"])
    assert result["code"] == 0
    assert result["heavy"] == []
    assert "Usage:" in str(result["stdout"])


@pytest.mark.parametrize("path", SUB_PATHS, ids=" ".join)
def test_each_sub_command_help_imports_no_heavy_library(path: list[str]) -> None:
    result = _probe([*path, "--help"])
    assert result["code"] == 0
    assert result["heavy"] == []
    assert f"Usage: finjobs {' '.join(path)} " in str(result["stdout"])


def test_version_runs_light_and_matches_the_package() -> None:
    result = _probe(["version"])
    assert result["code"] == 0
    assert result["heavy"] == []
    assert f"finjobs {importlib.metadata.version('finjobs')}\n" in str(result["stdout"])


def test_the_probe_sees_a_command_load_its_libraries(tmp_path: Path) -> None:
    # The probe itself is sound: running a database command does load SQLAlchemy.
    result = _probe(["db", "upgrade"], {"DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}"})
    assert result["code"] == 0
    assert "sqlalchemy" in result["heavy"]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_table_summary_matches_the_loaded_command(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert " ".join((command.help or "").split()).startswith(" ".join(COMMANDS[name].help.split()))


def _squash(text: str) -> str:
    return "".join(text.split())  # the layout wraps (also at hyphens); the words must all be there


@pytest.mark.parametrize("path", [[], *PATHS], ids=lambda p: " ".join(p) or "root")
def test_help_shows_every_option_and_whole_help_texts(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    shown = _squash(result.stdout)
    command = load_command(path[0]) if path else None
    for name in path[1:]:
        command = command.commands[name]  # type: ignore[union-attr]
    if command is None:
        listed = {n: e.help for n, e in COMMANDS.items()}
    else:
        assert _squash(command.help or "") in shown
        for param in command.params:
            assert all(opt in shown for opt in param.opts)
            assert _squash(getattr(param, "help", None) or "") in shown
        listed = {n: c.help or "" for n, c in getattr(command, "commands", {}).items()}
    for help_text in listed.values():  # each listed command's first paragraph, not cut at ~45 characters
        assert _squash(help_text.split("\n\n")[0]) in shown
