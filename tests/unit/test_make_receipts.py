"""scripts/make_receipts.py: seeded synthetic receipts are deterministic, labelled and add up.

Loads the script as a module and writes only to pytest's tmp_path; no Tesseract.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.support.receipts import MAKE_RECEIPTS as SCRIPT
from tests.support.receipts import make_receipts

mr = make_receipts()


def _amount(text: str) -> int:
    """'RM1,234.50' / '$7.60' / '-RM0.02' -> minor units (the test's own parser, not the script's)."""
    m = re.fullmatch(r"(-?)(?:RM ?|\$|£)?(-?)([\d,]+)\.(\d\d)", text.strip())
    assert m, text
    minor = int(m[3].replace(",", "")) * 100 + int(m[4])
    return -minor if (m[1] or m[2]) else minor


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    mr.generate(a, count=3, seed=7)
    mr.generate(b, count=3, seed=7)
    mr.generate(c, count=3, seed=8)
    files_a = _files(a)
    assert sorted(files_a) == [
        "img/000.jpg", "img/001.jpg", "img/002.jpg",
        "key/000.json", "key/001.json", "key/002.json",
        "manifest.jsonl",
    ]  # fmt: skip
    assert files_a == _files(b)
    assert files_a["img/000.jpg"] != _files(c)["img/000.jpg"]


def test_receipt_i_does_not_depend_on_count(tmp_path: Path) -> None:
    mr.generate(tmp_path / "two", count=2, seed=3)
    mr.generate(tmp_path / "one", count=1, seed=3)
    assert (tmp_path / "two/img/000.jpg").read_bytes() == (tmp_path / "one/img/000.jpg").read_bytes()


def test_cli_writes_keys_and_bounded_images(tmp_path: Path) -> None:
    out = tmp_path / "set"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), "--count", "4", "--seed", "11"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "fonts used:" in proc.stdout
    assert "wrote 4 receipts" in proc.stdout
    for i in range(4):
        key = json.loads((out / "key" / f"{i:03d}.json").read_text())
        assert set(key) == {"company", "date", "address", "total"}
        assert all(isinstance(v, str) and v.strip() == v and v for v in key.values())
        assert _amount(key["total"]) > 0
        with Image.open(out / "img" / f"{i:03d}.jpg") as im:
            assert im.format == "JPEG"
            im.load()
            w, h = im.size
        assert mr.MIN_HEIGHT <= h <= mr.MAX_HEIGHT
        assert w >= mr.MIN_WIDTH
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["000", "001", "002", "003"]


def _check_receipt(r) -> None:
    # Items add up and each item's amount is qty x unit price.
    assert all(it.amount_minor == it.qty * it.unit_minor for it in r.items)
    assert sum(it.amount_minor for it in r.items) == r.subtotal_minor
    tax_added = 0 if r.tax_inclusive else r.tax_minor
    assert r.subtotal_minor + r.service_minor + tax_added + r.rounding_minor == r.total_minor
    assert r.tendered_minor - r.change_minor == r.total_minor
    assert r.change_minor >= 0
    if r.currency == "MYR" and r.rounding_minor:
        assert r.total_minor % 5 == 0 and abs(r.rounding_minor) <= 2
    # The key's total is the amount printed on the line the receipt says is the total.
    total_line = r.lines[r.total_line]
    printed = total_line.parts[-1][0]
    assert re.search(r"TOTAL|DUE|PAYABLE|TO PAY", total_line.parts[0][0].upper())
    assert r.total_printed == printed.replace(" ", "").replace("£", "")
    assert _amount(printed) == r.total_minor
    # Change and cash lines print the ground truth.
    for ln in r.lines:
        label = ln.parts[0][0].upper()
        if len(ln.parts) == 2 and label.startswith(("CHANGE", "BAKI")):
            assert _amount(ln.parts[1][0]) == r.change_minor
        if len(ln.parts) == 2 and label in ("CASH", "TENDERED", "CASH TENDERED", "TUNAI"):
            assert _amount(ln.parts[1][0]) == r.tendered_minor
        if len(ln.parts) == 2 and label.replace("-", "").replace(" ", "") == "SUBTOTAL":
            assert _amount(ln.parts[1][0]) == r.subtotal_minor
        if len(ln.parts) == 2 and re.fullmatch(r"(GST|SST|TAX|SALES TAX|VAT) [\d.]+%", label):
            assert _amount(ln.parts[1][0]) == r.tax_minor
    # A GST summary table repeats amounts that reconcile with the total.
    summary = [ln for ln in r.lines if ln.parts[0][0].startswith(("SR @", "ZR @"))]
    if summary:
        net = sum(_amount(ln.parts[1][0]) for ln in summary)
        tax = sum(_amount(ln.parts[2][0]) for ln in summary)
        assert tax == r.tax_minor
        assert net + tax == r.total_minor - r.rounding_minor
    # Key fields are printed verbatim; the address is consecutive printed lines joined by spaces.
    text = "\n".join(ln.text for ln in r.lines)
    assert r.company in [ln.parts[0][0] for ln in r.lines]
    assert r.date_printed in text
    assert mr.format_date(date.fromisoformat(r.date_iso), r.date_style) == r.date_printed
    single = " ".join(ln.parts[0][0] for ln in r.lines if len(ln.parts) == 1)
    assert r.address in single


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_built_receipts_add_up(seed: int) -> None:
    _check_receipt(mr.build_receipt(random.Random(seed)))


@pytest.mark.parametrize(
    ("raw", "rounded"),
    [(1000, 1000), (1001, 1000), (1002, 1000), (1003, 1005), (1004, 1005), (1006, 1005), (1007, 1005),
     (1008, 1010), (1009, 1010)],
)  # fmt: skip
def test_malaysian_rounding_to_5_sen(raw: int, rounded: int) -> None:
    assert mr.round_to_5_sen(raw) == rounded


@pytest.mark.parametrize(
    ("style", "printed"),
    [("dd/mm/yyyy", "05/03/2018"), ("dd-mm-yy", "05-03-18"), ("dd.mm.yyyy", "05.03.2018"),
     ("d/m/yyyy", "5/3/2018"), ("dd MON yyyy", "05 MAR 2018"), ("MON dd, yyyy", "MAR 05, 2018"),
     ("yyyy-mm-dd", "2018-03-05"), ("mm/dd/yyyy", "03/05/2018"), ("d Mon yyyy", "5 Mar 2018")],
)  # fmt: skip
def test_date_styles(style: str, printed: str) -> None:
    assert mr.format_date(date(2018, 3, 5), style) == printed


def test_tax_helpers_are_exact() -> None:
    assert mr.pct(10000, 60) == 600  # 6% of 100.00
    assert mr.pct(9983, 60) == 599  # 598.98 rounds half up
    assert mr.pct_inclusive(10600, 60) == 600  # the 6% GST inside 106.00
    assert mr.pct_inclusive(12000, 200) == 2000  # the 20% VAT inside 120.00


def test_falls_back_to_pillow_default_font_without_dejavu(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(mr, "FONT_DIR", tmp_path / "no-fonts")
    monkeypatch.setattr(mr, "_FONT_CACHE", {})
    rows = mr.generate(tmp_path / "out", count=1, seed=5)
    assert rows[0]["font"].startswith("load_default")
    with Image.open(tmp_path / "out" / "img" / "000.jpg") as im:
        assert mr.MIN_HEIGHT <= im.size[1] <= mr.MAX_HEIGHT
