"""Receipt photo bytes -> ReceiptFields: Pillow preprocessing + Tesseract (via pytesseract).

Touches the image bytes it is given and runs the `tesseract` binary; PIL and pytesseract are imported
inside functions so the CLI starts fast (queue workers call preload() once in the parent process).
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from finjobs.adapters.ocr_engine import (
    SECOND_CONFIG,
    Deferred,
    data_to_words,
    ocr_bands,
    ocr_pages,
    ocr_text,
    split_bands,
)
from finjobs.adapters.ocr_engine import keep_readings as keep_readings  # re-exported for scripts
from finjobs.adapters.ocr_engine import preload as preload  # re-exported for workers
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


# The page re-read scaled to TARGET_TEXT_PX word height, for the total (docs/receipts.md).
TARGET_TEXT_PX = 24.0
RESCALE_OUTSIDE = (0.8, 1.2)
MAX_UPSCALE = 2.0
# The --psm 4 reading runs when the scaled reading's best total has no confirmation (< 11).
TOTAL_RETRY_BELOW = 11.0


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
    words, the fields parsed from them, and the readings of it the page passes made but dropped."""

    image: Image
    text: str
    words: list[Word]
    fields: ReceiptFields
    dropped: tuple[Reading, ...] = ()  # the page passes' readings that did not replace this one


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
    dropped: list[Reading] = []
    for page_pass in PAGE_PASSES:
        if page_pass.when(reading, locale_hint, latest_year):
            other = read(page_pass.build(gray, reading))
            kept = _better(reading, other, gain=page_pass.gain)
            dropped.append(reading if kept is other else other)
            reading = kept
    return replace(reading, dropped=tuple(dropped)) if dropped else reading


def _better(reading: Reading, other: Reading, *, gain: float) -> Reading:
    """`other` when it reads more words confidently than `reading`, and at least `gain` times as many."""
    before, after = confident_words(reading.words), confident_words(other.words)
    return other if after > before and after >= gain * before else reading


@dataclass
class Scan:
    """What one scan knows so far: the first reading, the page for the total, the date-line crops,
    the total's readings (text, words) and the crops' texts. The follow-up passes add to it."""

    first: Reading
    locale_hint: str | None
    today: dt.date
    day_first: bool
    scale: float
    page: Image
    crops: list[Image]
    second: Deferred[tuple[str, list[Word]]]  # the --psm 4 reading of `page`, made at most once
    readings: list[tuple[str, list[Word]]] = field(default_factory=list)
    band_texts: list[str] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)

    @property
    def fields(self) -> ReceiptFields:
        return self.first.fields


@dataclass(frozen=True)
class FollowUp:
    """A --psm 6 reading that depends only on the first: all that `build` an image (None: the pass
    does not run) share ONE Tesseract run; `keep` then takes what it read into the scan."""

    name: str
    build: Callable[[Scan], Image | None]
    keep: Callable[[Scan, dict[str, list[Any]]], None]


def _scaled_page(scan: Scan) -> Image | None:
    return scan.page if scan.scale != 1.0 else None


def _keep_scaled(scan: Scan, data: dict[str, list[Any]]) -> None:
    scan.readings[0] = data_to_words(data)  # the total is read from the scaled page, not the first


def _header(scan: Scan) -> Image | None:
    unsure = scan.fields.confidence.get("merchant", 0.0) < HEADER_RETRY_BELOW or scan.fields.date is None
    return header_image(scan.first.image) if unsure else None


def _keep_header(scan: Scan, data: dict[str, list[Any]]) -> None:
    """The header's merchant when more confident than the page's, its date when the page had none."""
    fields = scan.fields
    text, words = data_to_words(data)
    head = parse_receipt(text, words, locale_hint=scan.locale_hint, latest_year=scan.today.year + 1)
    if head.confidence.get("merchant", 0.0) > fields.confidence.get("merchant", 0.0):
        fields.merchant = head.merchant
        fields.confidence["merchant"] = head.confidence["merchant"]
    if fields.date is None and head.date is not None:
        fields.date = head.date
        fields.confidence["date"] = head.confidence["date"]


def _date_bands(scan: Scan) -> Image | None:
    if not scan.crops:
        return None
    band_page, scan.spans = stack_bands(scan.crops)
    return band_page


def _keep_bands(scan: Scan, data: dict[str, list[Any]]) -> None:
    scan.band_texts = split_bands(data, scan.spans)


# In order: the page scaled to TARGET_TEXT_PX (for the total), the header (when the merchant or date
# is unsure) and the stacked crops of the date line.
FOLLOW_UPS: tuple[FollowUp, ...] = (
    FollowUp("scaled page", _scaled_page, _keep_scaled),
    FollowUp("header", _header, _keep_header),
    FollowUp("date-line crops", _date_bands, _keep_bands),
)


def _follow_up(scan: Scan) -> None:
    planned = [(p, image) for p in FOLLOW_UPS if (image := p.build(scan)) is not None]
    pages = ocr_pages([image for _, image in planned]) if planned else []
    for (follow_up, _), data in zip(planned, pages, strict=True):
        follow_up.keep(scan, data)


def _unconfirmed(text: str) -> bool:
    """The reading's best total has no confirmation (TOTAL_RETRY_BELOW): a --psm 4 reading joins."""
    return max(total_scores(text).values(), default=0.0) < TOTAL_RETRY_BELOW


def _settle_total(scan: Scan) -> None:
    """The total voted over the page's reading(s), adding a --psm 4 one when the evidence is weak."""
    fields = scan.fields
    if _unconfirmed(scan.readings[0][0]):
        scan.readings.append(scan.second.get())
    total, total_conf = combine_totals([t for t, _ in scan.readings])
    if total is not None:
        fields.total_minor = to_minor(total, fields.currency or "XXX")
        fields.confidence["total"] = total_conf


def _date_from_other_readings(scan: Scan) -> None:
    """No date on the first pass, its garbled date line or the header: take it from another reading
    (a --psm 4 one if none was made yet, then the page passes' dropped readings) and vote over
    re-reads of that reading's date line."""
    if len(scan.readings) == 1:
        scan.readings.append(scan.second.get())
    others = [(scan.page, text, words) for text, words in scan.readings]
    others += [(r.image, r.text, r.words) for r in scan.first.dropped]  # the page passes' dropped ones
    for image, other_text, other_words in others:
        found = find_date(other_text, day_first=scan.day_first, latest_year=scan.today.year + 1)
        if found is not None:
            scan.fields.date = found[2]
            scan.fields.confidence["date"] = round(min(1.0, found[0] / 7.0), 2)
            reread_date(
                image, other_text, other_words, scan.fields, day_first=scan.day_first, today=scan.today
            )
            return


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
    return scan_loaded(im, locale_hint=locale_hint, today=today or dt.date.today()).fields


def scan_loaded(im: Image, *, locale_hint: str | None, today: dt.date) -> Scan:
    """scan_image of a loaded image, returning the whole Scan (its readings too, for
    scripts/fit_receipt_weights.py)."""
    first = first_pass(preprocess(im), locale_hint=locale_hint, latest_year=today.year + 1)
    day_first = day_first_for(locale_hint, first.fields.currency)
    scale = rescale_factor(first.words)
    page = scaled(first.image, scale, first.words)
    scan = Scan(
        first,
        locale_hint,
        today,
        day_first,
        scale,
        page,
        date_crops(first.image, first.text, first.words, day_first=day_first, today=today),
        Deferred(lambda: ocr_text(page, config=SECOND_CONFIG)),
        readings=[(first.text, first.words)],
    )
    if _unconfirmed(first.text):
        # The scaled reading decides (_settle_total), but an unconfirmed first one mostly predicts it:
        # read --psm 4 beside the follow-up run instead of after it.
        scan.second.start()
    _follow_up(scan)
    _settle_total(scan)
    settle_date(scan.fields, scan.crops, scan.band_texts, day_first=day_first, today=today)
    if scan.fields.date is None:
        _date_from_other_readings(scan)
    scan.second.wait()
    return scan
