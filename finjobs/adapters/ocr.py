"""Receipt photo bytes -> ReceiptFields: Pillow preprocessing + Tesseract (via pytesseract).

Touches the image bytes it is given and runs the `tesseract` binary; PIL and pytesseract are imported
inside functions so the CLI starts fast (queue workers call preload() once in the parent process).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from finjobs.adapters.ocr_images import (
    dot_blurred,
    flatten_lighting,
    header_image,
    line_image,
    stack_bands,
)
from finjobs.domain.money import to_minor
from finjobs.domain.receipts import (
    ReceiptFields,
    Word,
    combine_totals,
    date_line,
    day_first_for,
    find_date,
    parse_receipt,
    total_scores,
    vote_date,
)
from finjobs.errors import InputError

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # phone photos are 1-5 MB
MAX_IMAGE_PIXELS = 40_000_000  # ~ a 50-megapixel photo; decoded size is what costs memory, not the file

# Single-threaded Tesseract is faster here (docs/receipts.md).
_TESS_ENV = {"OMP_THREAD_LIMIT": "1"}
# --psm 6 reads receipt columns in print order; no inverted-text retry (docs/receipts.md).
TESSERACT_CONFIG = "--psm 6 -c tessedit_do_invert=0"
# Grayscale only, photos wider than MAX_WIDTH shrunk (docs/receipts.md).
MAX_WIDTH = 1800
# The header pass: the top quarter at half size, when the merchant or date is unsure.
HEADER_RETRY_BELOW = 0.6
# The date line re-read from five crops, voted on with the page counting double (docs/receipts.md).
DATE_PAD = 0.25
DATE_REREADS = tuple((scale, DATE_PAD) for scale in (1.0, 1.25, 1.5, 1.75, 2.0))
PAGE_WEIGHT = 2.0
# Blurred date crops for dot-matrix print join the vote when the plain ones barely agree.
BLUR_RETRY_BELOW = 0.25


# pytesseract imports pandas and numpy when they are installed (only for DataFrame and ndarray
# input and output, which this adapter never uses): 0.35 s of the 1 s budget of `finjobs ocr scan`.
_OPTIONAL_OF_PYTESSERACT = ("pandas", "numpy")


def _pytesseract() -> Any:
    """pytesseract, imported without pandas and numpy unless something already imported them; they
    stay importable afterwards (flatten_lighting uses numpy)."""
    if "pytesseract" in sys.modules:
        return sys.modules["pytesseract"]
    blocked = [name for name in _OPTIONAL_OF_PYTESSERACT if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail fast
    try:
        import pytesseract
    finally:
        for name in blocked:
            if sys.modules.get(name) is None:
                del sys.modules[name]
    return pytesseract


def preload() -> str:
    """Import Pillow and pytesseract and check the tesseract binary once; return its version."""
    pytesseract = _pytesseract()
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


def split_bands(data: dict[str, list[Any]], spans: list[tuple[float, float]]) -> list[str]:
    """The text of each stacked band (by word centre), from the reading of a stack_bands page."""
    texts: list[list[str]] = [[] for _ in spans]
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


def ocr_bands(bands: list[Image]) -> list[str]:
    """Read several line images in ONE Tesseract run (stacked on a white page, --psm 6): each run
    costs ~0.08 s of start-up, more than reading a line. Returns one text per band."""
    if not bands:
        return []
    page, spans = stack_bands(bands)
    return split_bands(ocr_pages([page])[0], spans)


def date_crops(gray: Image, text: str, words: list[Word], *, day_first: bool, today: dt.date) -> list[Image]:
    """The DATE_REREADS crops of the line the date was (or seems garbled) on; [] when there is none.
    `gray` is the image `words` were read from."""
    line = date_line(text, day_first=day_first, latest_year=today.year + 1)
    if line is None:
        return []
    crops = [line_image(gray, words, line, scale=scale, pad=pad) for scale, pad in DATE_REREADS]
    return [c for c in crops if c is not None]


def date_vote(
    page_date: dt.date | None,
    band_texts: list[str],
    *,
    day_first: bool,
    today: dt.date,
    page_weight: float = PAGE_WEIGHT,
) -> tuple[dt.date | None, float]:
    """The date voted over the page reading (counting `page_weight`) and the re-read crops' texts,
    and the share of the vote weight behind it (0.0 when there is no date)."""
    latest = today.year + 1
    readings: list[tuple[float, dt.date | None]] = [(page_weight, page_date)]
    for text_ in band_texts:
        found = find_date(text_, day_first=day_first, latest_year=latest)
        readings.append((1.0, found[2] if found else None))
    voted = vote_date(readings, latest_year=latest)
    if voted is None:
        return None, 0.0
    return voted, sum(w for w, d in readings if d == voted) / sum(w for w, _ in readings)


def vote_on_date(
    fields: ReceiptFields,
    band_texts: list[str],
    *,
    day_first: bool,
    today: dt.date,
    page_weight: float = PAGE_WEIGHT,
) -> None:
    """Vote on the date over the page reading (fields.date, counting `page_weight`) and the re-read
    crops' texts; updates fields when the vote differs from the page."""
    if not band_texts:
        return
    page = fields.date
    voted, agree = date_vote(page, band_texts, day_first=day_first, today=today, page_weight=page_weight)
    if voted is not None and voted != page:
        fields.date = voted
        fields.confidence["date"] = round(agree, 2)


def crop_text_height(crop: Image) -> float:
    """The text height of a date crop: the crop is the text plus DATE_PAD of it above and below."""
    return crop.height / (1 + 2 * DATE_PAD)


def settle_date(
    fields: ReceiptFields,
    crops: list[Image],
    band_texts: list[str],
    *,
    day_first: bool,
    today: dt.date,
    page_weight: float = PAGE_WEIGHT,
) -> None:
    """vote_on_date over the crops' readings, adding readings of the crops blurred (dot_blurred)
    when the plain ones barely agree (BLUR_RETRY_BELOW)."""
    _, agree = date_vote(fields.date, band_texts, day_first=day_first, today=today, page_weight=page_weight)
    if crops and agree < BLUR_RETRY_BELOW:
        band_texts = band_texts + ocr_bands([dot_blurred(c, crop_text_height(c)) for c in crops])
    vote_on_date(fields, band_texts, day_first=day_first, today=today, page_weight=page_weight)


def reread_date(
    gray: Image,
    text: str,
    words: list[Word],
    fields: ReceiptFields,
    *,
    day_first: bool,
    today: dt.date,
) -> None:
    """Vote on the date over a retry reading and DATE_REREADS crops of its line (updates fields).
    `gray` is the image `words` were read from. The retry reading counts once, not PAGE_WEIGHT: it
    comes from a page whose first pass missed this line, so it earns no more trust than a crop."""
    crops = date_crops(gray, text, words, day_first=day_first, today=today)
    settle_date(fields, crops, ocr_bands(crops), day_first=day_first, today=today, page_weight=1.0)


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


def ocr_pages(images: list[Image], *, config: str = TESSERACT_CONFIG) -> list[dict[str, list[Any]]]:
    """Read one or more images in ONE Tesseract run; an image_to_data dict per image, in order.
    Engine failures propagate.

    Every run costs ~0.07 s of start-up (model load) whatever it reads, so the readings that depend
    only on the first pass share a run: Tesseract takes a text file listing images and reads each as
    its own page, with the same result as separate runs. Images go to disk as uncompressed PGM, not
    pytesseract's default PNG, whose compression costs 20-50 ms on a full page. Not BMP: Pillow
    stamps it 96 dpi, which changes --psm 4 layout (PNG and PGM carry no resolution, so Tesseract
    estimates it, as the tuning runs did)."""
    key_ = _batch_key(images, config) if _readings is not None else ""
    if _readings is not None and key_ in _readings:
        return _readings[key_]
    pages = _run_tesseract(images, config)
    if _readings is not None:
        _readings[key_] = pages
    return pages


# Evaluation re-runs (scripts/eval_receipts.py --ablate) read the same images again and again: when a
# store is set, every Tesseract result is kept in it, keyed by the images' pixels and the config.
_readings: dict[str, list[dict[str, list[Any]]]] | None = None


def keep_readings(store: dict[str, list[dict[str, list[Any]]]] | None) -> None:
    """Keep (and reuse) every Tesseract reading in `store`; None stops. For evaluation scripts."""
    global _readings
    _readings = store


def _batch_key(images: list[Image], config: str) -> str:
    digest = hashlib.sha1(config.encode())
    for im in images:
        digest.update(f"{im.mode}{im.size}".encode())
        digest.update(im.tobytes())
    return digest.hexdigest()


def _run_tesseract(images: list[Image], config: str) -> list[dict[str, list[Any]]]:
    pytesseract = _pytesseract()
    from PIL import Image as PILImage

    for key, value in _TESS_ENV.items():
        # pytesseract runs tesseract with os.environ and has no env argument.
        os.environ.setdefault(key, value)
    with tempfile.TemporaryDirectory(prefix="finjobs-ocr-") as tmp:
        paths = []
        for k, im in enumerate(images):
            if im.mode not in ("1", "L", "RGB"):
                # PNM has no alpha or palette: flatten onto white, as pytesseract does.
                flat = PILImage.new("L", im.size, 255)
                flat.paste(im.convert("L"), mask=im.getchannel("A") if "A" in im.getbands() else None)
                im = flat
            path = os.path.join(tmp, f"{k}.pnm")
            im.save(path, "PPM")
            paths.append(path)
        target = paths[0]
        if len(paths) > 1:
            target = os.path.join(tmp, "pages.txt")
            with open(target, "w", encoding="utf-8") as fh:
                fh.write("\n".join(paths) + "\n")
        data = pytesseract.image_to_data(target, config=config, output_type=pytesseract.Output.DICT)
    pages: list[dict[str, list[Any]]] = [{key: [] for key in data} for _ in images]
    for i, page_num in enumerate(data["page_num"]):
        row = pages[int(page_num) - 1]
        for key, column in data.items():
            row[key].append(column[i])
    return pages


def ocr_text(im: Image, *, config: str = TESSERACT_CONFIG) -> tuple[str, list[Word]]:
    """One Tesseract pass over a prepared image -> (text, words). Engine failures propagate."""
    return data_to_words(ocr_pages([im], config=config)[0])


# The page re-read scaled to TARGET_TEXT_PX word height, for the total (docs/receipts.md).
TARGET_TEXT_PX = 24.0
RESCALE_OUTSIDE = (0.8, 1.2)
MAX_UPSCALE = 2.0
# The --psm 4 reading runs when the scaled reading's best total has no confirmation (< 11).
TOTAL_RETRY_BELOW = 11.0
SECOND_CONFIG = "--psm 4 -c tessedit_do_invert=0"


def confident(word: Word) -> bool:
    """A word of 3+ characters that Tesseract read with confidence over 50."""
    return len(word.text) >= 3 and word.conf > 50


def word_height(words: list[Word]) -> float | None:
    """Median height of the confidently read words of 3+ characters (None when there are none)."""
    hs = sorted(w.height for w in words if confident(w) and w.height > 0)
    return float(hs[len(hs) // 2]) if hs else None


def rescale_factor(words: list[Word]) -> float:
    """How much to scale the page so its words are about TARGET_TEXT_PX high (1.0 when near it)."""
    h = word_height(words)
    if h is None:
        return 1.0
    scale = min(MAX_UPSCALE, TARGET_TEXT_PX / h)
    return 1.0 if RESCALE_OUTSIDE[0] <= scale <= RESCALE_OUTSIDE[1] else scale


def scaled(gray: Image, scale: float, words: list[Word]) -> Image:
    """The image resized by `scale` (the same object when scale is 1). An enlarged page keeps only
    the columns that hold text, with a wide margin for words the first pass missed: A4 scans of a
    narrow till roll are mostly blank, and OCR time grows with the pixels."""
    from PIL import Image as PILImage

    if scale == 1.0:
        return gray
    boxes = [w for w in words if w.conf > 30 and w.width > 0]
    if scale > 1.0 and boxes:
        margin = 8 * int(word_height(words) or 10)
        left = max(0, min(w.left for w in boxes) - margin)
        right = min(gray.width, max(w.left + w.width for w in boxes) + margin)
        gray = gray.crop((left, 0, right, gray.height))
    size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
    return gray.resize(size, PILImage.Resampling.LANCZOS)


def confident_words(words: list[Word]) -> int:
    """How many words Tesseract read confidently (see confident)."""
    return sum(1 for w in words if confident(w))


# Page pass "dot-matrix blur": kept only with DOT_PAGE_GAIN times the confident words.
DOT_PAGE_GAIN = 1.2


@dataclass(frozen=True)
class Reading:
    """One Tesseract reading of a page: the image read (later crops are cut from it), its text and
    words, and the fields parsed from them."""

    image: Image
    text: str
    words: list[Word]
    fields: ReceiptFields


@dataclass(frozen=True)
class PagePass:
    """A re-reading of the whole page after the first: `when` it runs, how it `build`s its image
    (from the grey page and the reading so far), and `gain`: its reading replaces the one so far
    when it reads more words confidently, and at least `gain` times as many."""

    name: str
    when: Callable[[Reading, str | None, int], bool]  # (reading so far, locale hint, latest year)
    build: Callable[[Image, Reading], Image]
    gain: float


def _no_date_nor_date_line(reading: Reading, locale_hint: str | None, latest_year: int) -> bool:
    day_first = day_first_for(locale_hint, reading.fields.currency)
    return (
        reading.fields.date is None
        and date_line(reading.text, day_first=day_first, latest_year=latest_year) is None
    )


# In order; each sees the reading its predecessors kept. The evidence for each is in docs/receipts.md.
PAGE_PASSES: tuple[PagePass, ...] = (
    PagePass("flattened lighting", _no_date_nor_date_line, lambda gray, _r: flatten_lighting(gray), 1.0),
    PagePass(
        "dot-matrix blur",
        lambda reading, _hint, _year: reading.fields.date is None,
        lambda _gray, r: dot_blurred(r.image, word_height(r.words) or TARGET_TEXT_PX),
        DOT_PAGE_GAIN,
    ),
)


def first_pass(gray: Image, *, locale_hint: str | None, latest_year: int) -> Reading:
    """The first --psm 6 reading and its fields, then the PAGE_PASSES that apply, each kept when it
    reads enough more words."""

    def read(image: Image) -> Reading:
        text, words = ocr_text(image)
        return Reading(
            image, text, words, parse_receipt(text, words, locale_hint=locale_hint, latest_year=latest_year)
        )

    reading = read(gray)
    for page_pass in PAGE_PASSES:
        if page_pass.when(reading, locale_hint, latest_year):
            reading = _better(reading, read(page_pass.build(gray, reading)), gain=page_pass.gain)
    return reading


def _better(reading: Reading, other: Reading, *, gain: float) -> Reading:
    """`other` when it reads more words confidently than `reading`, and at least `gain` times as many."""
    before, after = confident_words(reading.words), confident_words(other.words)
    return other if after > before and after >= gain * before else reading


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
    today = today or dt.date.today()
    latest = today.year + 1
    im = load_image(data, source=source, max_bytes=max_bytes, max_pixels=max_pixels)
    first = first_pass(preprocess(im), locale_hint=locale_hint, latest_year=latest)
    gray, text, words, fields = first.image, first.text, first.words, first.fields
    day_first = day_first_for(locale_hint, fields.currency)

    # The other --psm 6 readings depend only on the first one, so they share one Tesseract run:
    # the page scaled to TARGET_TEXT_PX (for the total), the header (when the merchant or date is
    # unsure) and the stacked crops of the date line.
    scale = rescale_factor(words)
    page = scaled(gray, scale, words)
    want_header = fields.confidence.get("merchant", 0.0) < HEADER_RETRY_BELOW or fields.date is None
    crops = date_crops(gray, text, words, day_first=day_first, today=today)
    batch: list[Image] = []
    if scale != 1.0:
        batch.append(page)
    if want_header:
        batch.append(header_image(gray))
    spans: list[tuple[float, float]] = []
    if crops:
        band_page, spans = stack_bands(crops)
        batch.append(band_page)
    results = iter(ocr_pages(batch)) if batch else iter(())

    readings = [(text, words) if scale == 1.0 else data_to_words(next(results))]
    if want_header:
        head_text, head_words = data_to_words(next(results))
        head = parse_receipt(head_text, head_words, locale_hint=locale_hint, latest_year=latest)
        if head.confidence.get("merchant", 0.0) > fields.confidence.get("merchant", 0.0):
            fields.merchant = head.merchant
            fields.confidence["merchant"] = head.confidence["merchant"]
        if fields.date is None and head.date is not None:
            fields.date = head.date
            fields.confidence["date"] = head.confidence["date"]
    band_texts = split_bands(next(results), spans) if crops else []

    # A --psm 4 reading for the total when the (scaled) reading's evidence is weak.
    if max(total_scores(readings[0][0]).values(), default=0.0) < TOTAL_RETRY_BELOW:
        readings.append(ocr_text(page, config=SECOND_CONFIG))
    total, total_conf = combine_totals([t for t, _ in readings])
    if total is not None:
        fields.total_minor = to_minor(total, fields.currency or "XXX")
        fields.confidence["total"] = total_conf

    settle_date(fields, crops, band_texts, day_first=day_first, today=today)
    if fields.date is not None:
        return fields
    # No date on the first pass, its garbled date line or the header: take it from another reading
    # (a --psm 4 one if none was made yet) and vote over re-reads of that reading's date line.
    if len(readings) == 1:
        readings.append(ocr_text(page, config=SECOND_CONFIG))
    for other_text, other_words in readings:
        found = find_date(other_text, day_first=day_first, latest_year=latest)
        if found is not None:
            fields.date = found[2]
            fields.confidence["date"] = round(min(1.0, found[0] / 7.0), 2)
            reread_date(page, other_text, other_words, fields, day_first=day_first, today=today)
            break
    return fields
