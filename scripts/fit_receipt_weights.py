"""Fit the total.* weights of receipt_candidates.WEIGHTS by conditional logistic regression (numpy)
and print them beside the hand-set ones, with how often each picks a right first-pass candidate.

Reads OCR caches written by `eval_receipts.py --ocr-cache` (the photos are read again only where a
cache lacks them) and the labelled photos; writes nothing. A softmax over each receipt's candidates,
L2-pulled towards the hand-set weights so that features the data cannot tell apart keep them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_receipts import DEFAULT_FOLDER, norm_total, parse_range

from finjobs.adapters import ocr
from finjobs.domain.receipt_candidates import WEIGHTS
from finjobs.domain.receipt_items import item_sum, parse_items
from finjobs.domain.receipt_lines import collect_amounts
from finjobs.domain.receipt_totals import total_candidates

SCALE = 0.3  # score -> logit: the hand-set scores run to ~20
Group = tuple[np.ndarray, np.ndarray]  # candidates x features, which candidates are right


def groups_for(folder: Path, ranges: list[tuple[int, int]], names: list[str]) -> list[Group]:
    out = []
    for path in sorted((folder / "img").glob("*.jpg")):
        if not any(a <= int(path.stem) <= b for a, b in ranges):
            continue
        truth = norm_total(json.loads((folder / "key" / f"{path.stem}.json").read_text()).get("total"))
        reading = ocr.first_pass(
            ocr.preprocess(ocr.load_image(path.read_bytes())), locale_hint="MY", latest_year=2027
        )
        lines = reading.text.splitlines()
        amts = collect_amounts(lines)
        cands = total_candidates(amts, item_sum(parse_items(lines, amts)))
        right = np.array([c.value == truth for c in cands], dtype=bool)
        if right.any():
            out.append((np.array([[c.features.get(f, 0.0) for f in names] for c in cands]), right))
    return out


def picks_right(groups: list[Group], w: np.ndarray) -> float:
    return float(np.mean([right[np.argmax(x @ w)] for x, right in groups]))


def fit(groups: list[Group], w0: np.ndarray, *, pull: float, steps: int, rate: float) -> np.ndarray:
    w = w0.copy()
    for _ in range(steps):
        grad = 2 * pull * (w - w0)
        for x, right in groups:
            s = x @ w * SCALE
            p = np.exp(s - s.max())
            p /= p.sum()
            q = np.where(right, p / p[right].sum(), 0.0)
            grad -= SCALE * (x.T @ (q - p)) / len(groups)
        w -= rate * grad
    return w


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", action="append", default=[], help="number range, repeatable (000-079)")
    ap.add_argument("--ocr-cache", action="append", default=[], help="eval_receipts.py cache, repeatable")
    ap.add_argument("--pull", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=3000)
    args = ap.parse_args(argv)
    store: dict[str, object] = {}
    for cache in args.ocr_cache:
        store.update(json.loads(Path(cache).read_text()))
    ocr.keep_readings(store)  # type: ignore[arg-type]
    names = [f for f in WEIGHTS if f.startswith("total.")]
    ranges = [r for r in map(parse_range, args.only or ["000-079"]) if r]
    groups = groups_for(DEFAULT_FOLDER, ranges, names)
    w0 = np.array([WEIGHTS[f] for f in names])
    w = fit(groups, w0, pull=args.pull, steps=args.steps, rate=0.5)
    print(f"{len(groups)} receipts with a right first-pass candidate")
    print(f"right pick: hand-set {picks_right(groups, w0):.3f}, fitted {picks_right(groups, w):.3f}")
    for f, a, b in zip(names, w0, w, strict=True):
        print(f"  {f:36s} {a:6.2f} -> {b:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
