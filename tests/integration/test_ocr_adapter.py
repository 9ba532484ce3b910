"""The OCR adapter with the real Tesseract binary on real receipt photos and on bad uploads.

Reads photos from ../shared/data/receipts (skipped when absent); runs `tesseract` (~0.5 s a photo).
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from datetime import date

import pytest

from finjobs.adapters import ocr
from finjobs.domain.receipts import parse_receipt
from finjobs.errors import InputError
from tests.support.receipts import RECEIPTS, generated_receipt, label, photo, png_bomb

pytesseract = pytest.importorskip("pytesseract")
Image = pytest.importorskip("PIL.Image")

needs_data = pytest.mark.skipif(not (RECEIPTS / "img").is_dir(), reason="shared receipt photos not present")
pytestmark = pytest.mark.slow


def test_preload_finds_tesseract() -> None:
    assert ocr.preload().startswith("5.")


# Held-out receipts (040-079) that the scanner reads correctly; labels come from the SROIE key files.
@needs_data
@pytest.mark.parametrize(
    ("n", "when"),
    [("045", date(2018, 3, 27)), ("060", date(2018, 3, 12)), ("074", date(2018, 3, 20))],
)
def test_real_receipts_match_labels(n: str, when: date) -> None:
    fields = ocr.scan_image(photo(n), source=f"{n}.jpg")
    key = label(n)
    assert fields.to_dict()["total"] == key["total"].lstrip("$").removeprefix("RM").strip()
    assert fields.date == when
    assert fields.currency == "MYR"
    assert 0.0 < fields.confidence["total"] <= 1.0


@needs_data
def test_ocr_text_returns_lines_and_word_boxes() -> None:
    im = ocr.load_image(photo("045"), source="045.jpg")
    text, words = ocr.ocr_text(ocr.preprocess(im))
    lines = text.splitlines()
    assert any("UNIHAKKA" in ln for ln in lines)
    assert words and all(0 <= w.line < len(lines) for w in words)
    assert all(w.text in lines[w.line] for w in words)
    assert any(w.conf > 80 and w.width > 0 and w.height > 0 for w in words)


@needs_data
def test_exif_rotation_is_undone() -> None:
    """A photo stored sideways with EXIF orientation 6 must read like the upright one."""
    upright = Image.open(io.BytesIO(photo("045")))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a phone writes, plus "rotate 270 to view"
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=95, exif=exif)
    fields = ocr.scan_image(buf.getvalue(), source="rotated.jpg")
    assert fields.to_dict()["total"] == label("045")["total"].lstrip("$")


def test_not_an_image() -> None:
    with pytest.raises(InputError, match=r"upload\.txt: not an image") as exc:
        ocr.scan_image(b"Date,Amount\n2018-01-01,12.00\n", source="upload.txt")
    assert exc.value.source == "upload.txt"


def test_empty_file() -> None:
    with pytest.raises(InputError, match=r"empty\.jpg: empty file"):
        ocr.scan_image(b"", source="empty.jpg")


@needs_data
def test_truncated_jpeg() -> None:
    data = photo("060")
    with pytest.raises(InputError, match=r"cut\.jpg: corrupt or truncated image"):
        ocr.scan_image(data[: len(data) // 2], source="cut.jpg")


def test_decompression_bomb_over_our_limit() -> None:
    bomb = png_bomb(8_000, 8_000)  # 64 megapixels in ~70 bytes
    assert len(bomb) < 100
    with pytest.raises(InputError, match=r"bomb\.png: image is 8000x8000 pixels, over the 40000000"):
        ocr.scan_image(bomb, source="bomb.png")


@pytest.mark.parametrize("side", [10_000, 20_000])  # Pillow warns above 89 MP and refuses above 179 MP
def test_decompression_bomb_caught_by_pillow_too(side: int) -> None:
    """Even with our own limit raised, Pillow's DecompressionBomb warning/error becomes an InputError."""
    with pytest.raises(InputError, match=r"bomb\.png: image too large to decode safely"):
        ocr.scan_image(png_bomb(side, side), source="bomb.png", max_pixels=10**12)


def test_small_real_image_over_a_pixel_limit() -> None:
    buf = io.BytesIO()
    Image.new("L", (400, 300), 255).save(buf, "PNG")
    with pytest.raises(InputError, match=r"400x300 pixels"):
        ocr.scan_image(buf.getvalue(), source="wide.png", max_pixels=100_000)


@needs_data
def test_oversized_upload() -> None:
    data = photo("045")
    with pytest.raises(
        InputError, match=rf"big\.jpg: image is {len(data)} bytes, over the 100000-byte limit"
    ):
        ocr.scan_image(data, source="big.jpg", max_bytes=100_000)


def test_blank_image_reads_nothing() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (600, 900), "white").save(buf, "JPEG")
    d = ocr.scan_image(buf.getvalue(), source="blank.jpg").to_dict()
    assert (d["merchant"], d["date"], d["total"], d["items"]) == (None, None, None, [])


def test_missing_tesseract_is_not_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Infrastructure, not the user's data: it must propagate for the job to retry."""
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    buf = io.BytesIO()
    Image.new("L", (200, 200), 255).save(buf, "PNG")
    with pytest.raises(pytesseract.TesseractNotFoundError) as exc:
        ocr.scan_image(buf.getvalue(), source="ok.png")
    assert not isinstance(exc.value, InputError)
    with pytest.raises(RuntimeError, match="tesseract binary not found"):
        ocr.preload()


def test_ocr_bands_reads_stacked_lines_in_order() -> None:
    from PIL import ImageDraw, ImageFont

    font = ImageFont.load_default(size=32)
    bands = []
    for text in ("DATE 14/03/2018", "TOTAL 12.34", "THANK YOU"):
        im = Image.new("L", (420, 48), 255)
        ImageDraw.Draw(im).text((8, 6), text, fill=0, font=font)
        bands.append(im)
    assert ocr.ocr_bands(bands) == ["DATE 14/03/2018", "TOTAL 12.34", "THANK YOU"]
    assert ocr.ocr_bands([]) == []


# Tuning receipts whose full-page reading gets the date wrong ("19/03/2018", "O6/C2/2016") and the
# vote over re-read crops of the date line gets right.
@needs_data
@pytest.mark.parametrize(("n", "when"), [("037", date(2018, 3, 10)), ("031", date(2018, 3, 6))])
def test_date_line_reread_vote_fixes_misread_digits(n: str, when: date) -> None:
    im = ocr.preprocess(ocr.load_image(photo(n)))
    text, _ = ocr.ocr_text(im)
    assert when.strftime("%d/%m/%Y") not in text  # the page alone misreads it
    assert ocr.scan_image(photo(n), source=f"{n}.jpg", locale_hint="MY").date == when


# Receipts whose first pass finds no date at all: 070 (dot-matrix "05-02-18" read "$5 92-18", below a
# slash-separated invoice number) and 075 (an underlined date line the first pass garbles; the --psm 4
# retry reads "30/05/2018" and its re-read crops outvote the month).
@needs_data
@pytest.mark.parametrize(("n", "when"), [("070", date(2018, 2, 5)), ("075", date(2018, 3, 30))])
def test_a_date_the_first_pass_misses_comes_from_rereads(n: str, when: date) -> None:
    im = ocr.preprocess(ocr.load_image(photo(n)))
    text, _ = ocr.ocr_text(im)
    assert parse_receipt(text, locale_hint="MY", latest_year=2027).date is None
    assert ocr.scan_image(photo(n), source=f"{n}.jpg", locale_hint="MY").date == when


def test_a_retry_reading_counts_once_in_the_date_vote() -> None:
    """Receipt 075's --psm 4 retry and two of its re-read crops (real Tesseract output): counted
    twice, the retry's misread month would win the tie."""
    crops = ["30032018 No. 68-2082", "_.. 30/03/2018. No. CS-20322", "scone POMS/2018 a. NO CS- 20922"]
    today = date(2026, 11, 29)
    for weight, month in ((ocr.PAGE_WEIGHT, 5), (1.0, 3)):
        fields = parse_receipt("_ 30/05/2018 NO. . CS-20322", locale_hint="MY")
        ocr.vote_on_date(fields, crops, day_first=True, today=today, page_weight=weight)
        assert fields.date == date(2018, month, 30)


def test_a_dot_matrix_date_is_read_from_blurred_crops() -> None:
    """Synthetic receipt 048 of seed 3 (make_receipts.py), dot-matrix print: the first pass reads its
    date line "ete: G@9/81/3018", the plain crops of that line agree on no date, and crops blurred so
    the dots merge read 09/01/2018."""
    data, receipt, look = generated_receipt(3, 48)
    assert look.dot_matrix and receipt.date_iso == "2018-01-09"
    today = date(2026, 11, 29)
    gray = ocr.preprocess(ocr.load_image(data))
    text, words = ocr.ocr_text(gray)
    fields = parse_receipt(text, words, locale_hint="MY", latest_year=2027)
    assert fields.date is None
    crops = ocr.date_crops(gray, text, words, day_first=True, today=today)
    _, agree = ocr.date_vote(None, ocr.ocr_bands(crops), day_first=True, today=today)
    assert agree < ocr.BLUR_RETRY_BELOW
    blurred = ocr.ocr_bands([ocr.dot_blurred(c, ocr.crop_text_height(c)) for c in crops])
    voted, _ = ocr.date_vote(None, blurred, day_first=True, today=today)
    assert voted == date(2018, 1, 9)
    assert ocr.scan_image(data, locale_hint="MY", today=today).date == date(2018, 1, 9)


def test_flattened_lighting_keeps_paper_white_and_print_dark() -> None:
    """A light-grey receipt (paper 225, print 120) on a dark table (40) lit from one side: one global
    threshold cannot split table, paper and print, but after flattening the paper is near white
    everywhere and the print stays dark against it."""
    page = Image.new("L", (400, 300), 40)
    page.paste(Image.linear_gradient("L").resize((200, 260)).point(lambda v: 170 + v * 60 // 255), (100, 20))
    for y in range(60, 260, 40):
        page.paste(120, (120, y, 280, y + 4))  # strokes of print
    flat = ocr.flatten_lighting(page)
    paper = [flat.getpixel((x, y)) for x in (110, 200, 290) for y in (30, 150, 250)]
    ink = [flat.getpixel((x, y + 2)) for x in (130, 270) for y in range(60, 260, 40)]
    assert min(paper) >= 230, paper
    assert max(ink) <= 185, ink
    assert max(ink) < min(paper) - 50


def test_a_page_read_with_no_date_is_read_again_with_its_lighting_flattened() -> None:
    """Synthetic receipt 002 of seed 6 (make_receipts.py): light-grey print on grey paper on a dark
    table. The plain page reads a handful of words; the flattened one reads the receipt."""
    data, receipt, look = generated_receipt(6, 2)
    assert look.background == "dark" and receipt.date_iso == "2019-01-26"
    gray = ocr.preprocess(ocr.load_image(data))
    text, words = ocr.ocr_text(gray)
    assert parse_receipt(text, words, latest_year=2027).date is None
    assert ocr.confident_words(words) < 10
    reading = ocr.first_pass(gray, locale_hint=None, latest_year=2027)
    assert reading.image is not gray and ocr.confident_words(reading.words) > 40
    assert reading.fields.date == date(2019, 1, 26)
    scanned = ocr.scan_image(data, locale_hint="", today=date(2026, 11, 29))
    assert (scanned.date, scanned.to_dict()["total"], scanned.currency) == (date(2019, 1, 26), "54.77", "USD")


def test_a_dot_matrix_page_with_a_garbled_date_is_read_blurred() -> None:
    """Synthetic receipt 012 of seed 1, dot-matrix: the plain page garbles the date line; blurred, the
    page reads over a fifth more words, and its date and total."""
    data, receipt, look = generated_receipt(1, 12)
    assert look.dot_matrix and (receipt.date_iso, receipt.total_minor) == ("2018-02-04", 6573)
    gray = ocr.preprocess(ocr.load_image(data))
    text, words = ocr.ocr_text(gray)
    assert parse_receipt(text, words, latest_year=2027).date is None
    reading = ocr.first_pass(gray, locale_hint="", latest_year=2027)
    assert reading.image is not gray
    assert ocr.confident_words(reading.words) >= ocr.DOT_PAGE_GAIN * ocr.confident_words(words)
    assert (reading.fields.date, reading.fields.total_minor) == (date(2018, 2, 4), 6573)


@needs_data
@pytest.mark.parametrize("n", ["000", "070"])
def test_real_photos_keep_their_first_reading(n: str) -> None:
    """Photo 000: the first pass finds the date. Photo 070, real dot-matrix print: the first pass
    garbles the date line ("$5 92-18"), but the blurred page reads too few more words to replace it
    (its date comes from the re-read crops instead)."""
    gray = ocr.preprocess(ocr.load_image(photo(n)))
    assert ocr.first_pass(gray, locale_hint="MY", latest_year=2027).image is gray


# --- the scaled re-read for the total ------------------------------------------------------------


@needs_data
def test_small_print_is_enlarged_and_blank_margins_cropped() -> None:
    """Tuning scan 030: a till roll on an A4 page, words ~11 px high."""
    gray = ocr.preprocess(ocr.load_image(photo("030")))
    _, words = ocr.ocr_text(gray)
    height = ocr.word_height(words)
    assert height is not None and height < 14
    scale = ocr.rescale_factor(words)
    assert scale == ocr.MAX_UPSCALE  # 24 / 11 would be 2.2: capped
    page = ocr.scaled(gray, scale, words)
    assert page.height == round(gray.height * scale)
    assert page.width < gray.width * scale * 0.8  # the blank columns beside the roll are dropped
    _, big_words = ocr.ocr_text(page)
    big = ocr.word_height(big_words)
    assert big is not None and 18 <= big <= 30


@needs_data
def test_large_print_is_shrunk_and_print_near_the_target_left_alone() -> None:
    gray = ocr.preprocess(ocr.load_image(photo("028")))  # a close-up photo, words ~33 px high
    _, words = ocr.ocr_text(gray)
    scale = ocr.rescale_factor(words)
    assert 0.6 < scale < ocr.RESCALE_OUTSIDE[0]
    page = ocr.scaled(gray, scale, words)
    assert (page.width, page.height) == (round(gray.width * scale), round(gray.height * scale))
    near = [ocr.Word("TOTAL", 0, conf=90, height=23), ocr.Word("CASH", 1, conf=90, height=25)]
    assert ocr.rescale_factor(near) == 1.0
    assert ocr.scaled(gray, 1.0, near) is gray
    assert ocr.rescale_factor([]) == 1.0  # nothing read: nothing to go by


# Tuning receipts whose first pass misreads a digit of the total (34.00, 64.50, 78.00) and whose
# scaled readings, their evidence summed, give the amount on the label.
@needs_data
@pytest.mark.parametrize(("n", "first_pass"), [("005", "34.00"), ("020", "64.50"), ("031", "78.00")])
def test_scaled_readings_fix_a_total_the_first_pass_misreads(n: str, first_pass: str) -> None:
    text, words = ocr.ocr_text(ocr.preprocess(ocr.load_image(photo(n))))
    assert parse_receipt(text, words, locale_hint="MY").to_dict()["total"] == first_pass
    fields = ocr.scan_image(photo(n), source=f"{n}.jpg", locale_hint="MY", today=date(2019, 6, 1))
    assert fields.to_dict()["total"] == label(n)["total"]
    assert 0.0 < fields.confidence["total"] <= 1.0


# --- one Tesseract run for several images ------------------------------------------------------------


def _drawn(text: str) -> Image.Image:
    from PIL import ImageDraw, ImageFont

    im = Image.new("L", (460, 60), 255)
    ImageDraw.Draw(im).text((10, 10), text, fill=0, font=ImageFont.load_default(size=32))
    return im


def test_ocr_pages_reads_each_image_as_separate_runs_do() -> None:
    images = [_drawn("TOTAL RM 12.34"), _drawn("DATE 14/03/2018"), _drawn("THANK YOU")]
    together = ocr.ocr_pages(images)
    alone = [ocr.ocr_pages([im])[0] for im in images]
    assert len(together) == 3
    for joint, single in zip(together, alone, strict=True):
        assert [t for t in joint["text"] if t.strip()] == [t for t in single["text"] if t.strip()]
        assert joint["left"] == single["left"] and joint["top"] == single["top"]
    assert [ocr.data_to_words(d)[0] for d in together] == ["TOTAL RM 12.34", "DATE 14/03/2018", "THANK YOU"]
    # PNM holds no alpha: a transparent PNG-style image is flattened onto white first.
    clear = Image.new("RGBA", (460, 60), (0, 0, 0, 0))
    clear.paste(images[0].convert("RGBA"), mask=images[0].point(lambda v: 255 - v))
    assert ocr.ocr_text(clear)[0] == "TOTAL RM 12.34"


@needs_data
def test_page_files_carry_no_resolution_like_pytesseracts_png() -> None:
    """The --psm 4 layout depends on the image resolution: a BMP (stamped 96 dpi by Pillow) read
    held-out receipt 046 differently from pytesseract's own PNG route, which the tuning used."""
    gray = ocr.preprocess(ocr.load_image(photo("046")))
    _, words = ocr.ocr_text(gray)
    page = ocr.scaled(gray, ocr.rescale_factor(words), words)
    ours = ocr.ocr_pages([page], config=ocr.SECOND_CONFIG)[0]
    theirs = pytesseract.image_to_data(page, config=ocr.SECOND_CONFIG, output_type=pytesseract.Output.DICT)
    assert ours["text"] == theirs["text"]


def test_pytesseract_is_imported_without_pandas_and_numpy_stays_importable() -> None:
    """`finjobs ocr scan` must not pay for pandas (pytesseract imports it when it is installed)."""
    code = (
        "import sys; from finjobs.adapters import ocr; ocr.preload(); "
        "print('pandas' in sys.modules, 'numpy' in sys.modules); import numpy; print(numpy.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "numpy"]


class _FailAfterAhead(list[tuple[str, list[tuple[int, int]], float]]):
    """A trace_runs log that holds the ahead --psm 4 thread alive for a while once its run is done,
    and fails the scan's next main-thread run while that thread is alive (an engine error, or
    rq's JobTimeoutException, raised between Deferred.start and the end of the scan)."""

    def append(self, run: tuple[str, list[tuple[int, int]], float]) -> None:
        me = threading.current_thread()
        if me.name == "finjobs-ocr-ahead":
            time.sleep(2.0)
        elif any(t.name == "finjobs-ocr-ahead" and t.is_alive() for t in threading.enumerate()):
            raise RuntimeError("engine failed during the follow-up run")
        super().append(run)


@needs_data
def test_a_scan_that_fails_after_reading_ahead_leaves_no_reading_running() -> None:
    """000's first reading has no confirmed total, so its --psm 4 reading starts in a thread; when the
    scan then fails, that thread (and its Tesseract) must be joined before the error leaves."""
    from finjobs.adapters import ocr_engine

    log = _FailAfterAhead()
    ocr_engine.trace_runs(log)
    try:
        with pytest.raises(RuntimeError, match="follow-up run"):
            ocr.scan_loaded(
                ocr.load_image(photo("000"), source="000.jpg"), locale_hint=None, today=date(2026, 1, 1)
            )
    finally:
        ocr_engine.trace_runs(None)
    assert [t for t in threading.enumerate() if t.name == "finjobs-ocr-ahead"] == []
    assert [config for config, _, _ in log] == [ocr_engine.TESSERACT_CONFIG, ocr_engine.SECOND_CONFIG]


def test_a_tesseract_run_over_its_timeout_is_killed_with_a_clear_error() -> None:
    from finjobs.adapters import ocr_engine

    page = ocr.preprocess(ocr.load_image(photo("045"), source="045.jpg"))
    with pytest.raises(RuntimeError, match=r"Tesseract run killed after 0\.01 s \(--psm 6"):
        ocr_engine.ocr_pages([page], timeout=0.01)
    assert ocr_engine.ocr_pages([page])[0]["text"]  # the default timeout leaves a real run alone
