"""Tesseract runs: one run reads one or more images (stacked bands or pages) via pytesseract, which
is imported without pandas/numpy. Runs the `tesseract` binary on temporary files; no other I/O.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from finjobs.adapters.ocr_images import stack_bands
from finjobs.domain.receipts import Word

if TYPE_CHECKING:
    from PIL.Image import Image

T = TypeVar("T")

# Single-threaded Tesseract is faster here (docs/receipts.md).
_TESS_ENV = {"OMP_THREAD_LIMIT": "1"}
# --psm 6 reads receipt columns in print order; no inverted-text retry (docs/receipts.md).
TESSERACT_CONFIG = "--psm 6 -c tessedit_do_invert=0"
# A Tesseract run that takes longer is killed and the scan fails with a clear error (a page takes ~0.5 s;
# a hung run would otherwise hold the worker until rq's job timeout).
TESSERACT_TIMEOUT_S = 60.0


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


def ocr_pages(
    images: list[Image], *, config: str = TESSERACT_CONFIG, timeout: float = TESSERACT_TIMEOUT_S
) -> list[dict[str, list[Any]]]:
    """Read one or more images in ONE Tesseract run; an image_to_data dict per image, in order.
    Engine failures propagate; a run over `timeout` seconds is killed (RuntimeError saying so).

    Every run costs ~0.07 s of start-up (model load) whatever it reads, so the readings that depend
    only on the first pass share a run: Tesseract takes a text file listing images and reads each as
    its own page, with the same result as separate runs. Images go to disk as uncompressed PGM, not
    pytesseract's default PNG, whose compression costs 20-50 ms on a full page. Not BMP: Pillow
    stamps it 96 dpi, which changes --psm 4 layout (PNG and PGM carry no resolution, so Tesseract
    estimates it, as the tuning runs did)."""
    key_ = _batch_key(images, config) if _readings is not None else ""
    if _readings is not None and key_ in _readings:
        if _runs is not None:
            _runs.append((config, [im.size for im in images], 0.0))  # kept reading: no time spent
        return _readings[key_]
    started = time.perf_counter()
    pages = _run_tesseract(images, config, timeout)
    if _runs is not None:
        _runs.append((config, [im.size for im in images], time.perf_counter() - started))
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


# Profiling (scripts/bench_ocr.py --runs, eval_receipts.py): when a log is set, every Tesseract run
# appends (config, image sizes, seconds) to it; a run answered from keep_readings' store logs 0 s.
_runs: list[tuple[str, list[tuple[int, int]], float]] | None = None


def trace_runs(log: list[tuple[str, list[tuple[int, int]], float]] | None) -> None:
    """Append (config, image sizes, seconds) of every Tesseract run to `log`; None stops."""
    global _runs
    _runs = log


def _batch_key(images: list[Image], config: str) -> str:
    digest = hashlib.sha1(config.encode())
    for im in images:
        digest.update(f"{im.mode}{im.size}".encode())
        digest.update(im.tobytes())
    return digest.hexdigest()


def _run_tesseract(images: list[Image], config: str, timeout: float) -> list[dict[str, list[Any]]]:
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
        try:
            data = pytesseract.image_to_data(
                target, config=config, output_type=pytesseract.Output.DICT, timeout=timeout
            )
        except RuntimeError as exc:  # pytesseract kills the process and raises on its timeout
            if "timeout" not in str(exc).lower():
                raise
            raise RuntimeError(f"Tesseract run killed after {timeout:g} s ({config})") from exc
    pages: list[dict[str, list[Any]]] = [{key: [] for key in data} for _ in images]
    for i, page_num in enumerate(data["page_num"]):
        row = pages[int(page_num) - 1]
        for key, column in data.items():
            row[key].append(column[i])
    return pages


def ocr_text(im: Image, *, config: str = TESSERACT_CONFIG) -> tuple[str, list[Word]]:
    """One Tesseract pass over a prepared image -> (text, words). Engine failures propagate."""
    return data_to_words(ocr_pages([im], config=config)[0])


# The --psm 4 reading (one column of variable-size lines): see TOTAL_RETRY_BELOW in adapters.ocr.
SECOND_CONFIG = "--psm 4 -c tessedit_do_invert=0"


class Deferred(Generic[T]):
    """A reading made once, when first asked for (`get`), or made ahead in a thread (`start`): the
    Tesseract process then runs beside the caller's work, on the other core. Its exception, if any,
    is raised by `get`."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._thread: threading.Thread | None = None
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = False

    def _run(self) -> None:
        try:
            self._value = self._make()
        except BaseException as exc:  # handed to get()'s caller
            self._error = exc
        self._done = True

    def start(self) -> None:
        if self._thread is None and not self._done:
            self._thread = threading.Thread(target=self._run, name="finjobs-ocr-ahead", daemon=True)
            self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread is not None or self._done

    def get(self) -> T:
        if self._thread is not None:
            self._thread.join()
        elif not self._done:
            self._run()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def wait(self) -> None:
        """Let a started reading finish (its result unused), so no Tesseract outlives the scan."""
        if self._thread is not None:
            self._thread.join()
