"""Receipt jobs (ocr-processing queue). `scan_receipt(receipt_id)` is a wire contract: the API, the CLI
and `finjobs reconcile` enqueue it by this path with job id receipt-<id>."""

from __future__ import annotations

from typing import Any

from finjobs.config import Settings


def scan_receipt(receipt_id: int) -> dict[str, Any]:
    """OCR a stored receipt, then match it to a bank transaction or add a pending one.
    Bad images are recorded on the receipt (status failed) and return normally; engine errors retry."""
    from finjobs.services.receipts import run_scan

    return run_scan(int(receipt_id), settings=Settings.from_env()).to_dict()
