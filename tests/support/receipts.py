"""Receipt images for tests: a printed-looking synthetic receipt (Pillow draws it, Tesseract reads it),
bad uploads (truncated JPEG, decompression-bomb PNG header), and the labelled SROIE photos when present."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

from finjobs.sample_data import receipt_image

RECEIPTS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "receipts"

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
