"""The architecture holds: domain/ imports nothing but the standard library and finjobs' pure parts."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "finjobs" / "domain"
ALLOWED_FINJOBS = ("finjobs.domain", "finjobs.errors")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_is_pure(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        if top == "finjobs":
            assert name.startswith(ALLOWED_FINJOBS), f"{path.name} imports {name}"
        elif top != "__future__":
            assert top in sys.stdlib_module_names, f"{path.name} imports third-party {name}"


def test_importing_the_cli_loads_no_heavy_library() -> None:
    import subprocess

    code = (
        "import sys, finjobs.cli.app; heavy = {'prophet', 'pytesseract', 'pandas', 'flask', 'PIL'} & "
        "set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
