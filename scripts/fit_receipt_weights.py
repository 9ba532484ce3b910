"""Fit the total.* weights of receipt_candidates.WEIGHTS by conditional logistic regression (numpy),
cross-validated, and print them beside the hand-set ones with how often each picks the right total.

A receipt's candidates are the amounts of the scanner's total vote (receipt_totals.vote_features over
the readings `ocr.scan_loaded` made: the scaled page and, when made, the --psm 4 one), each with its
features summed over the readings, so a weight vector scores them exactly as combine_totals does
(ties: the larger amount). A softmax over each receipt's candidates, L2-pulled towards the hand-set
weights (`--pull`) so that features the data cannot tell apart keep them. Receipts are split into
`--folds` folds (fixed shuffle); each pull is fitted on all folds but one and scored on that one.

Reads OCR caches written by `eval_receipts.py --ocr-cache` (photos are read again where a cache
lacks them) and the labelled photos; writes nothing. The readings a scan makes depend on the
hand-set weights (the --psm 4 reading runs when the best score is below TOTAL_RETRY_BELOW), so a
fitted table must still be checked through the whole scanner with eval_receipts.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_receipts import DEFAULT_FOLDER, norm_total, parse_range

from finjobs.adapters import ocr
from finjobs.domain.receipt_candidates import WEIGHTS
from finjobs.domain.receipt_totals import vote_features

SCALE = 0.3  # score -> logit: the hand-set scores run to ~20
Group = tuple[np.ndarray, np.ndarray]  # candidates x features, which candidates are right


def groups_for(folder: Path, ranges: list[tuple[int, int]], names: list[str]) -> tuple[list[Group], int]:
    """The receipts with a right candidate in the vote, and how many receipts were read in all."""
    out, seen = [], 0
    for path in sorted((folder / "img").glob("*.jpg")):
        if not any(a <= int(path.stem) <= b for a, b in ranges):
            continue
        truth = norm_total(json.loads((folder / "key" / f"{path.stem}.json").read_text()).get("total"))
        if truth is None:
            continue
        seen += 1
        scan = ocr.scan_loaded(ocr.load_image(path.read_bytes()), locale_hint="MY", today=date.today())
        feats = vote_features([text for text, _ in scan.readings])
        values = sorted(feats, reverse=True)  # argmax takes the first of equals: the larger amount
        right = np.array([v == truth for v in values], dtype=bool)
        if right.any():
            out.append((np.array([[feats[v].get(f, 0.0) for f in names] for v in values]), right))
    return out, seen


def picks_right(groups: list[Group], w: np.ndarray) -> float:
    return float(np.mean([right[np.argmax(x @ w)] for x, right in groups])) if groups else 0.0


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


def cross_validate(groups: list[Group], w0: np.ndarray, pull: float, folds: int, steps: int) -> float:
    order = np.random.default_rng(0).permutation(len(groups))
    right = 0.0
    for k in range(folds):
        test = [groups[i] for i in order[k::folds]]
        train = [groups[i] for j, i in enumerate(order) if j % folds != k]
        right += picks_right(test, fit(train, w0, pull=pull, steps=steps, rate=0.5)) * len(test)
    return right / len(groups)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", action="append", default=[], help="number range, repeatable (000-079)")
    ap.add_argument("--ocr-cache", action="append", default=[], help="eval_receipts.py cache, repeatable")
    ap.add_argument(
        "--pull", type=float, action="append", default=[], help="repeatable; default 0.003 0.01 0.1"
    )
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=1500)
    args = ap.parse_args(argv)
    store: dict[str, object] = {}
    for cache in args.ocr_cache:
        store.update(json.loads(Path(cache).read_text()))
    ocr.keep_readings(store)  # type: ignore[arg-type]
    names = [f for f in WEIGHTS if f.startswith("total.")]
    ranges = [r for r in map(parse_range, args.only or ["000-079"]) if r]
    groups, seen = groups_for(DEFAULT_FOLDER, ranges, names)
    w0 = np.array([WEIGHTS[f] for f in names])
    print(f"{seen} labelled receipts, {len(groups)} with the right total among the vote's candidates")
    print(f"right pick (of those): hand-set {picks_right(groups, w0):.3f}")
    pulls = args.pull or [0.003, 0.01, 0.1]
    cv = {pull: cross_validate(groups, w0, pull, args.folds, args.steps) for pull in pulls}
    for pull, acc in cv.items():
        print(f"  pull {pull:<6}: {args.folds}-fold cross-validated right pick {acc:.3f}")
    pull = max(cv, key=lambda p: cv[p])
    w = fit(groups, w0, pull=pull, steps=args.steps, rate=0.5)
    print(f"fitted on all with pull {pull}: right pick {picks_right(groups, w):.3f} (in-sample)")
    for f, a, b in zip(names, w0, w, strict=True):
        print(f"  {f:36s} {a:6.2f} -> {b:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
