"""Images for the OCR passes: the header, line bands stacked on one page, dot-matrix blur and
flattened lighting. Pillow (and numpy) are imported inside functions; no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from finjobs.domain.receipts import Word

if TYPE_CHECKING:
    from PIL.Image import Image

HEADER_FRACTION = 0.25  # the header pass reads the top quarter ...
DOT_BLUR = 0.065  # of the text height: dot-matrix dots merge into strokes (docs/receipts.md)


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
    """Line images stacked on one white page, and each band's vertical span on it (for split_bands).
    Each band is contrast-stretched so its paper is white too: grey paper on the white page makes
    Tesseract's one global threshold fall between the two, and the band reads as noise."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    width = max(b.width for b in bands) + 2 * BAND_GAP
    height = sum(b.height for b in bands) + BAND_GAP * (len(bands) + 1)
    page = PILImage.new("L", (width, height), 255)
    spans, y = [], BAND_GAP
    for band in bands:
        page.paste(ImageOps.autocontrast(band, cutoff=1), (BAND_GAP, y))
        spans.append((y - BAND_GAP / 2, y + band.height + BAND_GAP / 2))
        y += band.height + BAND_GAP
    return page, spans


def dot_blurred(image: Image, text_height: float) -> Image:
    """The image blurred by DOT_BLUR of its text height, so dot-matrix dots merge into strokes, then
    contrast-stretched so its paper is white (grey paper stacked on a white page reads as nothing)."""
    from PIL import ImageFilter, ImageOps

    return ImageOps.autocontrast(image.filter(ImageFilter.GaussianBlur(DOT_BLUR * text_height)), cutoff=1)


# Page pass "flattened lighting": photos on a dark table or under uneven light (docs/receipts.md).
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
