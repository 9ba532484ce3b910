"""Receipt photo bytes -> ReceiptFields: Pillow preprocessing + Tesseract (via pytesseract).

Touches the image bytes it is given and runs the `tesseract` binary; PIL and pytesseract are imported
inside functions so the CLI starts fast (queue workers call preload() once in the parent process).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import warnings
from typing import TYPE_CHECKING, Any

from finjobs.domain.receipts import (
    ReceiptFields,
    Word,
    date_line,
    day_first_for,
    find_date,
    parse_receipt,
    vote_date,
)
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
# The date line is read again from five crops (scale, vertical padding as a share of the text height),
# stacked into one Tesseract run, and year, month and day are each voted on with the page reading
# counting double. Single re-reads are no better than the page (each misreads other digits); the
# majority fixes "19/03" vs "10/03" and "2048". Tuning receipts 000-039: date 0.88 -> 0.97 (3-crop sets
# tried: 0.93-0.95); held-out 040-079 0.78 -> 0.82, where the date line is often missing from the page
# text altogether. ~0.1 s CPU. The same vote on total and merchant lines made them worse: not used.
DATE_REREADS = ((1.0, 0.25), (1.25, 0.25), (1.5, 0.25), (1.75, 0.25), (2.0, 0.25))
PAGE_WEIGHT = 2.0


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


def line_image(gray: Image, words: list[Word], line: int, *, scale: float, pad: float) -> Image | None:
    """A band around one OCR line (its words' extent), scaled. Median word height and centre, so one
    tall smudge read as a "word" does not stretch the band over the neighbouring lines."""
    from PIL import Image as PILImage

    boxes = [w for w in words if w.line == line and w.height > 0]
    if not boxes:
        return None
    heights = sorted(w.height for w in boxes)
    centres = sorted(w.top + w.height / 2 for w in boxes)
    h, mid = heights[len(heights) // 2], centres[len(centres) // 2]
    top = max(0, int(mid - h / 2 - h * pad - 1))
    bottom = min(gray.height, int(mid + h / 2 + h * pad + 1))
    left = max(0, min(w.left for w in boxes) - h)
    right = min(gray.width, max(w.left + w.width for w in boxes) + h)
    if bottom <= top or right <= left:
        return None
    band = gray.crop((left, top, right, bottom))
    size = (max(1, round(band.width * scale)), max(1, round(band.height * scale)))
    return band.resize(size, PILImage.Resampling.LANCZOS) if scale != 1.0 else band


BAND_GAP = 24  # white pixels between stacked bands: wide enough that Tesseract never joins two


def ocr_bands(bands: list[Image]) -> list[str]:
    """Read several line images in ONE Tesseract run (stacked on a white page, --psm 6): each run
    costs ~0.08 s of start-up, more than reading a line. Returns one text per band."""
    import pytesseract
    from PIL import Image as PILImage

    if not bands:
        return []
    width = max(b.width for b in bands) + 2 * BAND_GAP
    height = sum(b.height for b in bands) + BAND_GAP * (len(bands) + 1)
    page = PILImage.new("L", (width, height), 255)
    spans, y = [], BAND_GAP
    for band in bands:
        page.paste(band, (BAND_GAP, y))
        spans.append((y - BAND_GAP / 2, y + band.height + BAND_GAP / 2))
        y += band.height + BAND_GAP
    for key, value in _TESS_ENV.items():
        os.environ.setdefault(key, value)
    data = pytesseract.image_to_data(page, config="--psm 6", output_type=pytesseract.Output.DICT)
    texts: list[list[str]] = [[] for _ in bands]
    for i, raw in enumerate(data["text"]):
        word = str(raw).strip()
        if not word:
            continue
        centre = int(data["top"][i]) + int(data["height"][i]) / 2
        for k, (a, b) in enumerate(spans):
            if a <= centre < b:
                texts[k].append(word)
                break
    return [" ".join(t) for t in texts]


def reread_date(
    gray: Image, text: str, words: list[Word], fields: ReceiptFields, *, day_first: bool, today: dt.date
) -> None:
    """Vote on the date over the page reading and DATE_REREADS crops of its line (updates fields)."""
    line = date_line(text, day_first=day_first)
    if line is None:
        return
    readings: list[tuple[float, dt.date | None]] = [(PAGE_WEIGHT, fields.date)]
    crops = [line_image(gray, words, line, scale=scale, pad=pad) for scale, pad in DATE_REREADS]
    for text_ in ocr_bands([c for c in crops if c is not None]):
        found = find_date(text_, day_first=day_first)
        readings.append((1.0, found[2] if found else None))
    voted = vote_date(readings, latest_year=today.year + 1)
    if voted is not None and voted != fields.date:
        agree = sum(w for w, d in readings if d == voted) / sum(w for w, _ in readings)
        fields.date = voted
        fields.confidence["date"] = round(agree, 2)


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
    today: dt.date | None = None,
) -> ReceiptFields:
    """Photo bytes -> parsed fields. InputError for bad images; Tesseract crashes propagate.
    `today` bounds plausible years (default: the local date)."""
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
    day_first = day_first_for(locale_hint, fields.currency)
    reread_date(gray, text, words, fields, day_first=day_first, today=today or dt.date.today())
    return fields
