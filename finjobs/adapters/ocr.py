"""Receipt photo bytes -> ReceiptFields: Pillow preprocessing + Tesseract (via pytesseract).

Touches the image bytes it is given and runs the `tesseract` binary; PIL and pytesseract are imported
inside functions so the CLI starts fast (queue workers call preload() once in the parent process).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import tempfile
import warnings
from typing import TYPE_CHECKING, Any

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

# Tesseract's OpenMP threads cost more than they give on receipts (team measurement on this 2-core
# machine: 0.25 s per receipt single-threaded vs 1.1-1.5 s with OpenMP).
_TESS_ENV = {"OMP_THREAD_LIMIT": "1"}
# --psm 6 (one uniform block) reads receipt columns in print order better than the default page mode
# (receipts 000-039: total 0.67 vs 0.59 with an early version of the parser). Receipts print dark on
# light, so Tesseract's retry of every low-confidence word as inverted text is skipped (~10% faster).
TESSERACT_CONFIG = "--psm 6 -c tessedit_do_invert=0"
# Measured on receipts 000-039 (the tuning half): grayscale alone scored best for the FIRST pass.
# Upscaling to 1000/1200 px wide, autocontrast and Otsu thresholding each lowered accuracy (Tesseract
# binarises internally; these photos are already high contrast); deskew was not tried. Scaling to a
# fixed text height helps as an additional reading for the total (TARGET_TEXT_PX below).
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
DATE_PAD = 0.25
DATE_REREADS = tuple((scale, DATE_PAD) for scale in (1.0, 1.25, 1.5, 1.75, 2.0))
PAGE_WEIGHT = 2.0
# Dot-matrix print (dots with gaps between them) defeats Tesseract's line reader: on the synthetic
# dot-matrix receipts of seeds 1-3, about a quarter of the date crops read right, 80% once blurred by
# 0.065 of the text height so the dots merge into strokes (0.05: 77%, 0.08: 81%, 0.10: 64%). On photos
# of solid print the same blur costs (real photos: 84% -> 77% of crops right), so the blurred crops
# are read (one more Tesseract run, ~0.1 s) and join the vote only when the plain readings put under
# a quarter of the vote weight behind their result. Evaluation (date) when this was added: real photos
# unchanged (0.95), seed 3 0.88 -> 0.89; seeds 5 and 7, then untuned, 0.95 -> 0.97 and 0.90 -> 0.91;
# seeds 4 and 6 unchanged (0.93, 0.88).
DOT_BLUR = 0.065
BLUR_RETRY_BELOW = 0.25


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


def stack_bands(bands: list[Image]) -> tuple[Image, list[tuple[float, float]]]:
    """Line images stacked on one white page, and each band's vertical span on it (for split_bands)."""
    from PIL import Image as PILImage

    width = max(b.width for b in bands) + 2 * BAND_GAP
    height = sum(b.height for b in bands) + BAND_GAP * (len(bands) + 1)
    page = PILImage.new("L", (width, height), 255)
    spans, y = [], BAND_GAP
    for band in bands:
        page.paste(band, (BAND_GAP, y))
        spans.append((y - BAND_GAP / 2, y + band.height + BAND_GAP / 2))
        y += band.height + BAND_GAP
    return page, spans


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


def dot_blurred(image: Image, text_height: float) -> Image:
    """The image blurred by DOT_BLUR of its text height, so dot-matrix dots merge into strokes, then
    contrast-stretched so its paper is white (grey paper stacked on a white page reads as nothing)."""
    from PIL import ImageFilter, ImageOps

    return ImageOps.autocontrast(image.filter(ImageFilter.GaussianBlur(DOT_BLUR * text_height)), cutoff=1)


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
    import pytesseract
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


# Tesseract reads best at a certain text size. After the first pass, the page is read again scaled so
# its median word box is TARGET_TEXT_PX high (A4 scans of a till roll have ~11 px words, close-up photos
# ~30 px), unless it is already within RESCALE_OUTSIDE of that. Enlargement is capped: cost grows with
# the pixels. Tuning receipts 000-039: that reading plus a --psm 4 one (below) gave total 0.90 vs 0.85
# for the first pass alone, and 0.90 vs 0.85 for any single reading (psm 6 / psm 4, plain or scaled).
TARGET_TEXT_PX = 24.0
RESCALE_OUTSIDE = (0.8, 1.2)
MAX_UPSCALE = 2.0
# The --psm 4 reading (one column of variable-size lines) runs only when the scaled reading's best
# total is weakly supported: a GRAND TOTAL/NETT-style label scores 10-10.5 (see _score_totals), so
# below 11 means no confirmation at all (a repeat, the item sum, cash - change, subtotal + tax).
# Tuning receipts: thresholds 11-14 score the same (0.90), 10 loses two; 11 runs it on 45% of photos.
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


# Photos on a dark table or under uneven light: Tesseract binarises a page with one global threshold,
# which then falls between the table and the paper, and light-grey print comes out as paper (synthetic
# seed 6, receipt 002: 5 words read of a whole receipt). When the first pass finds no date and no line
# that looks like one, the page is read again with its lighting flattened, and that reading replaces
# the first if it has more confidently read words. Flattening every photo instead cost the real photos
# total 0.90 -> 0.82; gated so, it never runs on them (0 of 80). Synthetic seeds 3, 6, 7: date
# 0.89 -> 0.91, 0.88 -> 0.93, 0.91 -> 0.94; seed 6 total 0.84 -> 0.89.
LIGHT_CELL = 8  # the paper's brightness is taken on a grid this many times coarser than the page
LIGHT_WINDOW = 5  # cells: the brightest level within 5 x 8 = 40 px is paper, wider than any stroke


def flatten_lighting(gray: Image) -> Image:
    """The page divided by its local paper brightness (the brightest level nearby, smoothed), so the
    paper is white everywhere and print keeps its contrast against it."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageFilter

    cells = (max(1, gray.width // LIGHT_CELL), max(1, gray.height // LIGHT_CELL))
    small = gray.resize(cells, PILImage.Resampling.BOX).filter(ImageFilter.MaxFilter(LIGHT_WINDOW))
    paper = small.filter(ImageFilter.GaussianBlur(2)).resize(gray.size, PILImage.Resampling.BILINEAR)
    ratio = np.asarray(gray, dtype=np.float32) / np.maximum(np.asarray(paper, dtype=np.float32), 1.0)
    return PILImage.fromarray(np.clip(ratio * 255.0, 0, 255).astype(np.uint8))


def confident_words(words: list[Word]) -> int:
    """How many words Tesseract read confidently (see confident)."""
    return sum(1 for w in words if confident(w))


# A garbled date line and no date is also what dot-matrix print looks like to Tesseract; blurred by
# DOT_BLUR of the text height, such a page reads more words. Solid print blurred reads about as many
# (real photos with a garbled date line: at most 1.13 times as many), so the blurred page replaces the
# first reading only when it reads DOT_PAGE_GAIN times as many words confidently. Evaluation: real
# photos unchanged (it never runs on them); synthetic seeds 1, 3, 7: date 0.96/0.91/0.94 ->
# 0.97/0.93/0.95, total 0.86/0.91/0.86 -> 0.88/0.94/0.89; seeds 2 and 6 total or merchant up, none
# down. Tried after the flattened page too when that still shows no date: seeds 2, 3, 6 date +0.01.
DOT_PAGE_GAIN = 1.2


Reading = tuple["Image", str, list[Word], ReceiptFields]  # image read, text, words, parsed fields


def first_pass(gray: Image, *, locale_hint: str | None, latest_year: int) -> Reading:
    """The first --psm 6 reading and its fields. When the page shows no date, it is read again: with
    its lighting flattened when no line even looks like a date, then blurred (dot-matrix print) if
    there is still no date; a re-reading is used if it reads enough more words (see above). Returns
    the image the reading came from: later crops are cut from it."""

    def read(image: Image) -> Reading:
        text, words = ocr_text(image)
        return (
            image,
            text,
            words,
            parse_receipt(text, words, locale_hint=locale_hint, latest_year=latest_year),
        )

    reading = read(gray)
    if reading[3].date is not None:
        return reading
    day_first = day_first_for(locale_hint, reading[3].currency)
    if date_line(reading[1], day_first=day_first, latest_year=latest_year) is None:
        reading = _better(reading, read(flatten_lighting(gray)), gain=1.0)
        if reading[3].date is not None:
            return reading
    blurred = dot_blurred(reading[0], word_height(reading[2]) or TARGET_TEXT_PX)
    return _better(reading, read(blurred), gain=DOT_PAGE_GAIN)


def _better(reading: Reading, other: Reading, *, gain: float) -> Reading:
    """`other` when it reads more words confidently than `reading`, and at least `gain` times as many."""
    before, after = confident_words(reading[2]), confident_words(other[2])
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
    gray, text, words, fields = first_pass(preprocess(im), locale_hint=locale_hint, latest_year=latest)
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
