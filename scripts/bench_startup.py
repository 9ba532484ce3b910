"""Start-up benchmark: wall time of `finjobs --help`, every COMMANDS entry's --help and light commands
against `python -c pass`, run interleaved in the same process (one round = every case once).

Prints the median of N rounds per case and its ratio to the bare interpreter, a ratio line (the slowest
case and the median case against `python -c pass`, and the goal), the load average before and after,
and the five slowest imports of the slowest case (from `python -X importtime`). Goal: every case <= 0.3 s.
Usage: .venv/bin/python scripts/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from finjobs.cli.app import COMMANDS

GOAL_S = 0.3
CLI = "from finjobs.cli import main; import sys; sys.argv = ['finjobs', *sys.argv[1:]]; main()"
BASELINE = ("python -c pass", ["-c", "pass"])
CASES: list[tuple[str, list[str]]] = [
    BASELINE,
    ("finjobs --help", ["-c", CLI, "--help"]),
    *((f"finjobs {name} --help", ["-c", CLI, name, "--help"]) for name in COMMANDS),
    ("finjobs schedule list --help", ["-c", CLI, "schedule", "list", "--help"]),
    ("finjobs import preset list --help", ["-c", CLI, "import", "preset", "list", "--help"]),
    ("finjobs version", ["-c", CLI, "version"]),
]


def wall(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def medians(runs: int) -> dict[str, float]:
    """Median wall time per case; the rounds interleave the cases so that a load change hits all alike."""
    times: dict[str, list[float]] = {label: [] for label, _ in CASES}
    for _ in range(runs):
        for label, args in CASES:
            times[label].append(wall(args))
    return {label: statistics.median(ts) for label, ts in times.items()}


def slowest_imports(args: list[str], top: int = 5) -> list[tuple[int, str]]:
    err = subprocess.run(
        [sys.executable, "-X", "importtime", *args], check=True, capture_output=True, text=True
    ).stderr
    rows = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:top]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    load_before = _load()
    med = medians(runs)
    base = med[BASELINE[0]]
    width = max(len(label) for label, _ in CASES)
    print(f"{'case':{width}} {'median s':>9} {'x python -c pass':>17}")
    for label, _ in CASES:
        flag = "  over goal" if med[label] > GOAL_S else ""
        print(f"{label:{width}} {med[label]:9.3f} {med[label] / base:17.1f}{flag}")
    cli = {label: t for label, t in med.items() if label != BASELINE[0]}
    slowest = max(cli, key=cli.__getitem__)
    middle = statistics.median(cli.values())
    over = sum(t > GOAL_S for t in cli.values())
    print(
        f"ratio: slowest {slowest} {cli[slowest]:.3f} s = {cli[slowest] / base:.1f} x python -c pass; "
        f"median case {middle:.3f} s = {middle / base:.1f} x; goal <= {GOAL_S} s: "
        + ("met by every case" if not over else f"{over} of {len(cli)} cases over")
    )
    print(f"load average (1/5/15 min): before {load_before}, after {_load()}")
    print(f"slowest imports of `{slowest}` (cumulative us):")
    for us, name in slowest_imports(dict(CASES)[slowest]):
        print(f"  {us:>9} {name}")


if __name__ == "__main__":
    main()
