"""Score the receipt scanner against labelled photos (img/NNN.jpg + key/NNN.json); print figures.

Reads the folder it is given and runs Tesseract; writes nothing. Also runs a plain-Tesseract +
three-regex baseline in the same run for context. Last line: total_acc=T date_acc=D merchant_acc=M
merchant_close_acc=C (C: normalised names at least MERCHANT_CLOSE similar, beside the exact M).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import resource
import statistics
import sys
import time
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / ".." / "shared" / "data" / "receipts"

# Merchant normaliser (applied to label and prediction alike): upper-case, "&" -> AND, drop punctuation,
# drop legal/company-type words, then drop spaces (OCR splits and joins words freely).
_SUFFIXES = {
    "SDN",
    "BHD",
    "SB",
    "BERHAD",
    "ENTERPRISE",
    "ENTERPRISES",
    "TRADING",
    "CO",
    "COMPANY",
    "LTD",
    "LIMITED",
    "PLT",
    "M",
    "INC",
    "LLC",
}


def norm_merchant(s: str | None) -> str:
    if not s:
        return ""
    s = s.upper().replace("&", " AND ").replace("S/B", " SB ")
    s = re.sub(r"[^A-Z0-9 ]+", " ", s)
    return "".join(w for w in s.split() if w not in _SUFFIXES)


def norm_total(s: str | None) -> Decimal | None:
    if not s:
        return None
    s = re.sub(r"^(RM|MYR|\$|USD|SGD)\s*", "", s.strip().upper()).replace(",", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


_MON = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}  # noqa: SIM905


def norm_date(s: str | None) -> date | None:
    """Label dates are raw print: day-first, falling back to month-first when day-first is impossible."""
    if not s:
        return None
    s = s.strip().upper()
    if re.fullmatch(r"\d{8}", s):
        return datetime.strptime(s, "%Y%m%d").date()
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})\s*([A-Z]{3})[A-Z]*\s*(\d{2,4})", s)
    if m:
        y = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return date(y, _MON[m[2]], int(m[1]))
    m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})", s)
    if m:
        a, b, y = int(m[1]), int(m[2]), int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        try:
            return date(y, b, a)
        except ValueError:
            return date(y, a, b)
    return None


# ------------------------------------------------------------ baseline: plain Tesseract + 3 regexes

_B_TOTAL = re.compile(r"TOTAL[^\d\n]*(\d+[.,]\d{2})", re.I)
_B_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})")
_B_MERCHANT = re.compile(r"^.*(SDN\.? BHD|ENTERPRISE|TRADING).*$", re.I | re.M)


def baseline(path: Path) -> dict[str, object]:
    import pytesseract
    from PIL import Image

    text = pytesseract.image_to_string(Image.open(path))
    t = _B_TOTAL.search(text)
    d = _B_DATE.search(text)
    m = _B_MERCHANT.search(text)
    when = None
    if d:
        y = int(d[3]) + (2000 if len(d[3]) == 2 else 0)
        try:
            when = date(y, int(d[2]), int(d[1]))
        except ValueError:
            when = None
    return {
        "total": t[1].replace(",", ".") if t else None,
        "date": when,
        "merchant": m[0].strip() if m else None,
    }


# ------------------------------------------------------------ scoring


def score(
    pred: dict[str, object], key: dict[str, str], true_date: date | None = None
) -> dict[str, bool | None]:
    """Per field: True/False, or None when the label is empty (left out of that field's accuracy).
    `true_date` (when known) replaces the reading of the label's printed date string."""
    label_total = norm_total(key.get("total"))
    label_date = true_date or norm_date(key.get("date"))
    label_merchant = norm_merchant(key.get("company"))
    pm = pred.get("merchant")
    pm = pm if isinstance(pm, str) else None
    pd = pred.get("date")
    if isinstance(pd, str):
        pd = date.fromisoformat(pd)
    return {
        "total": None if label_total is None else norm_total(pred.get("total")) == label_total,  # type: ignore[arg-type]
        "date": None if label_date is None else pd == label_date,
        "merchant": None if not label_merchant else norm_merchant(pred.get("merchant")) == label_merchant,  # type: ignore[arg-type]
        "merchant_close": None if not label_merchant else merchant_close(pm, label_merchant),
    }


# The lenient merchant figure: the normalised names agree to within OCR noise (one wrong or missing
# character in ten), printed beside the exact one so the two can be compared.
MERCHANT_CLOSE = 0.9


def merchant_close(pred: str | None, label_norm: str) -> bool:
    """True when the normalised prediction is within MERCHANT_CLOSE similarity of the normalised label."""
    got = norm_merchant(pred)
    return bool(got) and difflib.SequenceMatcher(None, got, label_norm).ratio() >= MERCHANT_CLOSE


def accuracy(results: list[dict[str, bool | None]], field: str) -> float:
    vals = [r[field] for r in results if r[field] is not None]
    return sum(bool(v) for v in vals) / len(vals) if vals else 0.0


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (tesseract runs): load on a shared machine
    stretches wall time, not this."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def parse_range(spec: str | None) -> tuple[int, int] | None:
    if not spec:
        return None
    a, _, b = spec.partition("-")
    return int(a), int(b or a)


def _load_cache(path: str | None) -> dict[str, object] | None:
    if not path:
        return None
    p = Path(path)
    return json.loads(p.read_text()) if p.is_file() else {}


def _readings_store() -> dict[str, object]:
    from finjobs.adapters import ocr_engine

    return dict(ocr_engine._readings or {})


def _scan_all(
    images: list[Path], folder: Path, true_dates: dict[str, date], locale: str
) -> list[dict[str, bool | None]]:
    from finjobs.adapters.ocr import scan_image

    out = []
    for path in images:
        key = json.loads((folder / "key" / f"{path.stem}.json").read_text())
        fields = scan_image(path.read_bytes(), source=path.name, locale_hint=locale).to_dict()
        out.append(score(fields, key, true_dates.get(path.stem)))
    return out


def print_ablation(
    images: list[Path],
    folder: Path,
    ours: list[dict[str, bool | None]],
    true_dates: dict[str, date],
    locale: str,
) -> None:
    """Each feature of the weights table set to 0 in turn, the receipts scanned again (Tesseract's
    readings reused), and the accuracy change printed: what that feature is worth."""
    from finjobs.domain.receipt_candidates import WEIGHTS

    field_of = {"total": "total", "date": "date", "merchant": "merchant"}
    print("feature worth (accuracy with the feature's weight set to 0, change in brackets):")
    for feature, w in list(WEIGHTS.items()):
        WEIGHTS[feature] = 0.0
        try:
            results = _scan_all(images, folder, true_dates, locale)
        finally:
            WEIGHTS[feature] = w
        name = field_of[feature.split(".")[0]]
        before, after = accuracy(ours, name), accuracy(results, name)
        print(f"  {feature:38s} weight {w:6.2f}: {name} {after:.2f} ({after - before:+.2f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("folder", nargs="?", default=str(DEFAULT_FOLDER))
    ap.add_argument("--only", help="inclusive number range, e.g. 040-079 (all 80 real photos are tuned on)")
    ap.add_argument(
        "--locale",
        default="MY",
        help="locale hint passed to the scanner (SROIE is Malaysian); '' lets each receipt's currency decide",
    )
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    ap.add_argument(
        "--ablate",
        action="store_true",
        help="also print each scoring feature's worth: the accuracy with its weight set to 0",
    )
    ap.add_argument(
        "--ocr-cache",
        help="JSON file keeping Tesseract's readings between runs (read if present, then written)",
    )
    args = ap.parse_args(argv)

    from finjobs.adapters.ocr import keep_readings, preload, scan_image
    from finjobs.adapters.ocr_engine import trace_runs

    folder = Path(args.folder)
    rng = parse_range(args.only)
    images = sorted((folder / "img").glob("*.jpg"))
    if rng:
        images = [p for p in images if p.stem.isdigit() and rng[0] <= int(p.stem) <= rng[1]]
    if not images:
        print(f"no images under {folder / 'img'}", file=sys.stderr)
        return 1
    print(f"tesseract {preload()}; {len(images)} receipts from {folder.resolve()}")
    # SROIE keys hold the date as printed, which this script reads day-first; a folder made by
    # scripts/make_receipts.py also lists each receipt's true date (month-first US prints included).
    manifest = folder / "manifest.jsonl"
    true_dates: dict[str, date] = {}
    if manifest.is_file():
        for row in map(json.loads, manifest.read_text().splitlines()):
            true_dates[row["id"]] = date.fromisoformat(row["date_iso"])

    store = _load_cache(args.ocr_cache)
    if store is not None or args.ablate:
        keep_readings(store if store is not None else {})
    ours: list[dict[str, bool | None]] = []
    base: list[dict[str, bool | None]] = []
    seconds: list[float] = []
    cpu: list[float] = []
    base_seconds: list[float] = []
    runs: list[tuple[str, list[tuple[int, int]], float]] = []
    trace_runs(runs)  # every Tesseract run of the scans (kept readings too): the passes they cost
    for path in images:
        key = json.loads((folder / "key" / f"{path.stem}.json").read_text())
        t0, c0 = time.perf_counter(), cpu_seconds()
        fields = scan_image(path.read_bytes(), source=path.name, locale_hint=args.locale).to_dict()
        seconds.append(time.perf_counter() - t0)
        cpu.append(cpu_seconds() - c0)
        r = score(fields, key, true_dates.get(path.stem))
        ours.append(r)
        if args.verbose and not all(v in (True, None) for v in r.values()):
            print(
                f"  {path.stem}: total {fields['total']} vs {key.get('total')!r}; date {fields['date']} vs "
                f"{key.get('date')!r}; merchant {fields['merchant']!r} vs {key.get('company')!r}"
            )
        if not args.no_baseline:
            t0 = time.perf_counter()
            b = baseline(path)
            base_seconds.append(time.perf_counter() - t0)
            base.append(score(b, key, true_dates.get(path.stem)))
    trace_runs(None)
    if args.ocr_cache:
        Path(args.ocr_cache).write_text(json.dumps(_readings_store()))
    if args.ablate:
        print_ablation(images, folder, ours, true_dates, args.locale)

    fields_ = ("total", "date", "merchant", "merchant_close")
    if base:
        accs = " ".join(f"{f}={accuracy(base, f):.2f}" for f in fields_)
        print(
            f"baseline (plain tesseract + 3 regexes): {accs} median_s={statistics.median(base_seconds):.2f}"
        )
    print("scanner: " + " ".join(f"{f}={accuracy(ours, f):.2f}" for f in fields_))
    print(f"median seconds per receipt: {statistics.median(seconds):.2f} (max {max(seconds):.2f})")
    psm4 = sum(1 for cfg, _, _ in runs if cfg.startswith("--psm 4"))
    print(f"Tesseract runs per receipt: {len(runs) / len(images):.2f} (--psm 4 readings: {psm4})")
    print(
        f"median CPU seconds per receipt (incl. tesseract): {statistics.median(cpu):.2f} (max {max(cpu):.2f})"
    )
    if base:
        ratios = []
        for f in fields_:
            b = accuracy(base, f)
            ratios.append(f"{f}={accuracy(ours, f) / b:.1f}x" if b else f"{f}=inf")
        print("ratio scanner/baseline: " + " ".join(ratios))
    print(
        f"total_acc={accuracy(ours, 'total'):.2f} date_acc={accuracy(ours, 'date'):.2f} "
        f"merchant_acc={accuracy(ours, 'merchant'):.2f} "
        f"merchant_close_acc={accuracy(ours, 'merchant_close'):.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
