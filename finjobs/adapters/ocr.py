"""Receipt photo bytes -> ReceiptFields: Pillow preprocessing + Tesseract (via pytesseract).

Touches the image bytes it is given and runs the `tesseract` binary; PIL and pytesseract are imported
inside functions so the CLI starts fast (queue workers call preload() once in the parent process).
"""

from __future__ import annotations

import io
import os
import shutil
import warnings
from typing import TYPE_CHECKING, Any

from finjobs.domain.receipts import ReceiptFields, Word, parse_receipt
from finjobs.errors import InputError

if TYPE_CHECKING:
    from PIL.Image import Image

# Tesseract's OpenMP threads cost more than they give on receipts (team measurement on this 2-core
# machine: 0.25 s per receipt single-threaded vs 1.1-1.5 s with OpenMP).
_TESS_ENV = {"OMP_THREAD_LIMIT": "1"}
# --psm 6 (one uniform block) reads receipt columns in print order better than the default page mode
# (receipts 000-039: total 0.67 vs 0.59 with an early version of the parser).
TESSERACT_CONFIG = "--psm 6"
# Measured on receipts 000-039 (the tuning half): grayscale alone scored best. Upscaling to 1000/1200 px
# wide, scaling to a fixed text height, autocontrast and Otsu thresholding each lowered accuracy
# (Tesseract binarises internally; these photos are already high contrast). Deskew was not tried.
# Photos wider than this are shrunk: same fields on the 2481-px scans, 0.55 s instead of 0.95 s.
MAX_WIDTH = 1800
# Shop names are often printed in a large font that --psm 6 misses on the full page; a second pass
# over the top quarter at half size reads them, so it runs when the merchant or date is unsure.
HEADER_FRACTION = 0.25
HEADER_RETRY_BELOW = 0.6


def preload() -> str:
    """Import Pillow and pytesseract and check the tesseract binary once; return its version."""
    import pytesseract
    from PIL import Image  # noqa: F401

    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise RuntimeError(f"tesseract binary not found: {pytesseract.pytesseract.tesseract_cmd!r}")
    return str(pytesseract.get_tesseract_version())


def load_image(
    data: bytes, *, source: str = "<image>", max_bytes: int = 10_000_000, max_pixels: int = 40_000_000
) -> Image:
    """Decode and fully load an image, turning every user-data problem into an InputError."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise InputError(f"image is {len(data)} bytes, over the {max_bytes}-byte limit", source=source)
    if not data:
        raise InputError("empty file, not an image", source=source)
    # Check dimensions from the header before decoding anything: a 50000x50000 PNG is tiny on disk.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            if w * h > max_pixels:
                raise InputError(
                    f"image is {w}x{h} pixels, over the {max_pixels}-pixel limit (decompression bomb?)",
                    source=source,
                )
            im.load()
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"image too large to decode safely: {exc}", source=source) from exc
    except UnidentifiedImageError as exc:
        raise InputError("not an image Pillow can read (JPEG, PNG, ...)", source=source) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        # Truncated or corrupt data surfaces as OSError ("image file is truncated") or SyntaxError.
        raise InputError(f"corrupt or truncated image: {exc}", source=source) from exc
    return im


def preprocess(im: Image) -> Image:
    """EXIF orientation, grayscale, shrink very large scans: the steps that helped on tuning receipts."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    gray = ImageOps.exif_transpose(im).convert("L")
    if gray.width > MAX_WIDTH:
        height = max(1, round(gray.height * MAX_WIDTH / gray.width))
        gray = gray.resize((MAX_WIDTH, height), PILImage.Resampling.LANCZOS)
    return gray


def header_image(gray: Image) -> Image:
    """The top of the receipt at half size, so large-font shop names look like ordinary text."""
    from PIL import Image as PILImage

    top = gray.crop((0, 0, gray.width, max(1, int(gray.height * HEADER_FRACTION))))
    return top.resize((max(1, top.width // 2), max(1, top.height // 2)), PILImage.Resampling.LANCZOS)


def data_to_words(data: dict[str, list[Any]]) -> tuple[str, list[Word]]:
    """pytesseract image_to_data dict -> (text with one line per Tesseract line, words indexed by line)."""
    lines: list[list[str]] = []
    words: list[Word] = []
    index: dict[tuple[int, int, int], int] = {}
    for i, raw in enumerate(data["text"]):
        txt = str(raw).strip()
        if not txt:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        if key not in index:
            index[key] = len(lines)
            lines.append([])
        n = index[key]
        lines[n].append(txt)
        words.append(
            Word(
                text=txt,
                line=n,
                conf=float(data["conf"][i]),
                left=int(data["left"][i]),
                top=int(data["top"][i]),
                width=int(data["width"][i]),
                height=int(data["height"][i]),
            )
        )
    return "\n".join(" ".join(ws) for ws in lines), words


def ocr_text(im: Image, *, config: str = TESSERACT_CONFIG) -> tuple[str, list[Word]]:
    """One Tesseract pass over a prepared image -> (text, words). Engine failures propagate."""
    import pytesseract

    for key, value in _TESS_ENV.items():
        # pytesseract runs tesseract with os.environ and has no env argument.
        os.environ.setdefault(key, value)
    data = pytesseract.image_to_data(im, config=config, output_type=pytesseract.Output.DICT)
    return data_to_words(data)


def scan_image(
    data: bytes,
    *,
    source: str = "<image>",
    max_bytes: int = 10_000_000,
    max_pixels: int = 40_000_000,
    locale_hint: str | None = None,
) -> ReceiptFields:
    """Photo bytes -> parsed fields. InputError for bad images; Tesseract crashes propagate."""
    im = load_image(data, source=source, max_bytes=max_bytes, max_pixels=max_pixels)
    gray = preprocess(im)
    text, words = ocr_text(gray)
    fields = parse_receipt(text, words, locale_hint=locale_hint)
    if fields.confidence.get("merchant", 0.0) < HEADER_RETRY_BELOW or fields.date is None:
        head_text, head_words = ocr_text(header_image(gray))
        head = parse_receipt(head_text, head_words, locale_hint=locale_hint)
        if head.confidence.get("merchant", 0.0) > fields.confidence.get("merchant", 0.0):
            fields.merchant = head.merchant
            fields.confidence["merchant"] = head.confidence["merchant"]
        if fields.date is None and head.date is not None:
            fields.date = head.date
            fields.confidence["date"] = head.confidence["date"]
    return fields
