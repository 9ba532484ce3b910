"""Job functions used only by tests: importable by forked and subprocess workers (PYTHONPATH=root)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def always_fails(marker: str) -> None:
    """Records each attempt's time in `marker`, then raises (infrastructure-style failure)."""
    with Path(marker).open("a") as fh:
        fh.write(f"{time.time()}\n")
    raise RuntimeError("deliberate failure")


def fails_until(marker: str, attempts: int) -> str:
    """Fails until it has been attempted `attempts` times (counted in `marker`)."""
    with Path(marker).open("a") as fh:
        fh.write(f"{time.time()}\n")
    if len(Path(marker).read_text().splitlines()) < attempts:
        raise RuntimeError("not yet")
    return "ok"


def echo(value: str) -> str:
    return value


def sleep_then_mark(seconds: float, marker: str) -> int:
    """Writes its pid to marker, sleeps, then appends 'done'."""
    with Path(marker).open("a") as fh:
        fh.write(f"start {os.getpid()}\n")
    time.sleep(seconds)
    with Path(marker).open("a") as fh:
        fh.write("done\n")
    return os.getpid()
