"""The lock files (requirements/*.txt, made by ./scripts/lock) pin every package pyproject.toml asks for,
and ensure_venv's check names a package that pyproject.toml gained but the lock did not."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = f"source {ROOT / 'scripts/_setup.sh'} && lock_covers_pyproject"


def _check(cwd: Path, lock: Path, extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'{CHECK} "$0" "$1"', str(lock), extra], cwd=cwd, capture_output=True, text=True
    )


@pytest.mark.parametrize(("lock", "extra"), [("main.txt", ""), ("dev.txt", "dev")])
def test_lock_covers_pyproject(lock: str, extra: str) -> None:
    result = _check(ROOT, ROOT / "requirements" / lock, extra)
    assert result.returncode == 0, result.stderr


def test_a_dependency_missing_from_the_lock_is_named(tmp_path: Path) -> None:
    text = (ROOT / "pyproject.toml").read_text()
    changed = re.sub(r"dependencies = \[\n", 'dependencies = [\n    "not-in-the-lock>=1",\n', text, count=1)
    assert changed != text
    (tmp_path / "pyproject.toml").write_text(changed)
    shutil.copy(ROOT / "requirements/main.txt", tmp_path / "main.txt")
    result = _check(tmp_path, tmp_path / "main.txt", "")
    assert result.returncode == 1
    assert "not-in-the-lock" in result.stderr and "./scripts/lock" in result.stderr


def test_no_torch_in_the_lock() -> None:
    for lock in (ROOT / "requirements").glob("*.txt"):
        assert not re.search(r"^torch==", lock.read_text(), re.M), lock
