"""Start-up benchmark: wall time of `finjobs --help` and light commands against `python -c pass`, same run.

Prints the median of N runs per command, its ratio to the bare interpreter, and the five slowest
imports of `finjobs --help` (from `python -X importtime`). Goal: `finjobs --help` <= 0.3 s.
Usage: .venv/bin/python scripts/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CLI = "from finjobs.cli import main; import sys; sys.argv = ['finjobs', *sys.argv[1:]]; main()"
CASES: list[tuple[str, list[str]]] = [
    ("python -c pass", ["-c", "pass"]),
    ("finjobs --help", ["-c", CLI, "--help"]),
    ("finjobs schedule --help", ["-c", CLI, "schedule", "--help"]),
    ("finjobs import --help", ["-c", CLI, "import", "--help"]),
    ("finjobs queues --help", ["-c", CLI, "queues", "--help"]),
    ("finjobs db --help", ["-c", CLI, "db", "--help"]),
    ("finjobs budgets --help", ["-c", CLI, "budgets", "--help"]),
    ("finjobs insights --help", ["-c", CLI, "insights", "--help"]),
    ("finjobs jobs --help", ["-c", CLI, "jobs", "--help"]),
    ("finjobs schedule list --help", ["-c", CLI, "schedule", "list", "--help"]),
]


def wall(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    base = wall(CASES[0][1], runs)
    print(f"{'command':28} {'median s':>9} {'x python -c pass':>17}")
    for label, args in CASES:
        t = base if args is CASES[0][1] else wall(args, runs)
        print(f"{label:28} {t:9.3f} {t / base:17.1f}")
    print("slowest imports of `finjobs --help` (cumulative us):")
    for us, name in slowest_imports(CASES[1][1]):
        print(f"  {us:>9} {name}")


if __name__ == "__main__":
    main()
