"""Receipt images for tests: a printed-looking synthetic receipt (Pillow draws it, Tesseract reads it),
bad uploads (truncated JPEG, decompression-bomb PNG header), the labelled SROIE photos when present,
and receipt photos from scripts/make_receipts.py (seeded, so the same photo every run)."""

from __future__ import annotations

import importlib.util
import io
import json
import random
import struct
import sys
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

from finjobs.sample_data import receipt_image

RECEIPTS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "receipts"
MAKE_RECEIPTS = Path(__file__).resolve().parents[2] / "scripts" / "make_receipts.py"

SYNTHETIC_LINES = (
    "ACME HARDWARE SDN BHD",
    "12 JALAN BESAR",
    "DATE: 14/03/2018 10:22",
    "NAILS 2 4.50 9.00",
    "GLUE 1 3.34 3.34",
    "TOTAL RM 12.34",
    "CASH RM 20.00",
    "CHANGE RM 7.66",
)


def synthetic_receipt(lines: tuple[str, ...] = SYNTHETIC_LINES, fmt: str = "PNG") -> bytes:
    """A clean receipt image: merchant ACME HARDWARE SDN BHD, 2018-03-14, total 12.34 MYR."""
    return receipt_image(lines, fmt)


def truncated_jpeg() -> bytes:
    """The first half of a real JPEG: a valid header, then the data stops."""
    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((800, 1000), 60).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    return data[: len(data) // 2]


def png_bomb(width: int = 8_000, height: int = 8_000) -> bytes:
    """A valid PNG header claiming width x height with one tiny IDAT: ~70 bytes that decode to 64 MP."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def have_photos() -> bool:
    return (RECEIPTS / "img").is_dir() and (RECEIPTS / "key").is_dir()


def photo(n: str) -> bytes:
    return (RECEIPTS / "img" / f"{n}.jpg").read_bytes()


def label(n: str) -> dict[str, str]:
    doc: dict[str, str] = json.loads((RECEIPTS / "key" / f"{n}.json").read_text())
    return doc


def make_receipts() -> ModuleType:
    """scripts/make_receipts.py loaded as a module (it is a script, not part of the package)."""
    if "make_receipts" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_receipts", MAKE_RECEIPTS)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_receipts"] = module  # its dataclasses look their module up by name
        spec.loader.exec_module(module)
    return sys.modules["make_receipts"]


def generated_receipt(seed: int, index: int) -> tuple[bytes, Any, Any]:
    """(JPEG bytes, Receipt, Look) of receipt `index` of `make_receipts.py --seed seed`: the same
    photo as img/NNN.jpg of a generated folder."""
    mr = make_receipts()
    receipt, look, img = mr.make_one(random.Random(f"receipts-{seed}-{index}"))
    return mr.jpeg_bytes(img, look.quality), receipt, look
