"""OCR benchmark: wall time of `finjobs ocr scan IMAGE` (start-up included) per receipt against plain
one-pass `tesseract IMAGE stdout --psm 6` on the same photos, in the same run.

Prints seconds per receipt for both, their ratio, and the five slowest photos for `finjobs ocr scan`.
The machine is shared, so compare the ratio; repeat when `uptime` shows a high load.
Goal: `finjobs ocr scan` <= 1 s per receipt including start-up.
Usage: .venv/bin/python scripts/bench_ocr.py [--images 000-019] [--data ../shared/data/receipts] [--runs]
    [--against DIR]
--runs: instead, scan in this process and print every Tesseract run of each scan (psm, image sizes,
seconds) and the mean seconds of the 1st, 2nd, ... run: which passes a receipt costs.
--against DIR: also time `finjobs ocr scan` from another copy of the package (DIR holds a finjobs/
folder, e.g. `git archive HEAD finjobs | tar -x -C DIR`), interleaved, and print new / other.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from eval_receipts import parse_range  # the same --only/--images range syntax

CLI = "from finjobs.cli import main; import sys; sys.argv = ['finjobs', *sys.argv[1:]]; main()"
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "receipts"


def wall(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    return time.perf_counter() - t0


def print_runs(images: list[Path]) -> None:
    """Scan each photo in this process and print its Tesseract runs (see --runs)."""
    from finjobs.adapters.ocr import preload, scan_image
    from finjobs.adapters.ocr_engine import trace_runs

    preload()
    log: list[tuple[str, list[tuple[int, int]], float]] = []
    trace_runs(log)
    by_position: dict[int, list[float]] = {}
    for path in images:
        log.clear()
        t0 = time.perf_counter()
        scan_image(path.read_bytes(), source=path.name, locale_hint="MY")
        runs = " | ".join(f"{cfg.split()[1]} {len(sizes)} img {sizes[0]} {s:.2f}s" for cfg, sizes, s in log)
        print(f"{path.stem} {time.perf_counter() - t0:.2f}s: psm {runs}")
        for k, (_, _, seconds) in enumerate(log):
            by_position.setdefault(k + 1, []).append(seconds)
    trace_runs(None)
    for k, times in sorted(by_position.items()):
        print(f"run {k}: on {len(times)} of {len(images)} receipts, mean {statistics.mean(times):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", default="000-019", help="receipt numbers, e.g. 000-019")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", action="store_true", help="print each scan's Tesseract runs instead")
    parser.add_argument("--against", type=Path, help="a folder holding another finjobs/ to time as well")
    args = parser.parse_args()
    first, last = parse_range(args.images) or (0, 19)
    images = [args.data.resolve() / "img" / f"{n:03d}.jpg" for n in range(first, last + 1)]
    images = [p for p in images if p.exists()]
    if not images:
        sys.exit(f"no images found under {args.data / 'img'}")
    print(f"uptime load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.runs:
        print_runs(images)
        return
    # The baseline runs with the same single-threaded setting the adapter uses.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    if args.against:
        args.against = args.against.resolve()
    other_env = {**env, "PYTHONPATH": str(args.against)} if args.against else None
    scan_times: dict[str, float] = {}
    plain_times: list[float] = []
    other_times: list[float] = []
    for path in images:
        # Interleaved so load changes hit both the same way.
        plain_times.append(wall(["tesseract", str(path), "stdout", "--psm", "6"], env))
        scan_times[path.name] = wall([sys.executable, "-c", CLI, "ocr", "scan", str(path)], env)
        if other_env is not None:
            # Run from DIR: `python -c` puts the working directory first on sys.path, so a run from
            # this checkout would import its own finjobs/ whatever PYTHONPATH says.
            other = [sys.executable, "-c", CLI, "ocr", "scan", str(path)]
            other_times.append(wall(other, other_env, cwd=args.against))
    scan_mean = statistics.mean(scan_times.values())
    plain_mean = statistics.mean(plain_times)
    print(f"load average: {os.getloadavg()[0]:.2f}  receipts: {len(images)}")
    print(f"{'command':36} {'mean s':>8} {'median s':>9} {'max s':>7}")
    for label, times in (
        ("finjobs ocr scan (incl. start-up)", list(scan_times.values())),
        ("tesseract --psm 6 (one pass)", plain_times),
    ):
        print(f"{label:36} {statistics.mean(times):8.3f} {statistics.median(times):9.3f} {max(times):7.3f}")
    print(f"ratio scan / one-pass tesseract: {scan_mean / plain_mean:.2f}")
    if other_times:
        other_mean = statistics.mean(other_times)
        print(f"--against {args.against}: mean {other_mean:.3f} s, ratio {other_mean / plain_mean:.2f}")
        print(f"ratio scan / --against scan: {scan_mean / other_mean:.3f}")
    print("slowest scans:")
    for name, t in sorted(scan_times.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {name} {t:.3f} s")


if __name__ == "__main__":
    main()
