"""Every module under finjobs/ and scripts/ stays under 600 lines, except files being restructured."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 600
# Still over the limit, each with its reason; a waiver whose file shrank below the limit fails below.
WAIVED = {
    "scripts/make_receipts.py",  # a stand-alone synthetic receipt generator, kept apart from finjobs
}


def test_modules_stay_under_the_line_limit() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for top in ("finjobs", "scripts")
        for p in (ROOT / top).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) >= MAX_LINES
    }
    assert {path: n for path, n in long.items() if path not in WAIVED} == {}
    assert sorted(WAIVED - set(long)) == [], "these files are under the limit now: drop their waiver"
