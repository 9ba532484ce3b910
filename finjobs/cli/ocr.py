"""`finjobs ocr scan IMAGE` (local OCR, no database) and `finjobs ocr enqueue IMAGE --user U [--wait]`
(store the photo and scan it on the ocr-processing queue). Reads the image file; calls services only."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import typer

from finjobs.cli import context

app = typer.Typer(help="Receipt OCR.", no_args_is_help=True)

SCAN_KEYS = ("merchant", "date", "total", "currency", "items", "confidence")


@app.command()
def scan(
    image: Path = typer.Argument(..., help="A receipt photo (JPEG, PNG, WebP, TIFF, ...)."),
    locale: str | None = typer.Option(
        None, "--locale", help="Locale hint, e.g. MY or en_US (dates, currency)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Read a receipt photo here and now (no database, no queue) and print what was found."""
    from finjobs.adapters.ocr import scan_image
    from finjobs.services.receipts import RECEIPT_MAX_BYTES, RECEIPT_MAX_PIXELS

    fields = scan_image(
        context.read_input(image),
        source=image.name,
        max_bytes=RECEIPT_MAX_BYTES,
        max_pixels=RECEIPT_MAX_PIXELS,
        locale_hint=locale,
    ).to_dict()
    doc = {key: fields[key] for key in SCAN_KEYS}
    if json_out:
        context.emit_json(doc)
        return
    conf = doc["confidence"]
    for key in ("merchant", "date", "total", "currency"):
        value = doc[key] if doc[key] not in (None, "") else "[dim]-[/dim]"
        extra = f"  [dim](confidence {conf[key]:.2f})[/dim]" if key in conf else ""
        context.console.print(f"{key:>9}: {value}{extra}", highlight=False)
    for item in doc["items"]:
        qty = f"{item['quantity']} x " if item["quantity"] else ""
        context.console.print(
            f"     item: {qty}{item['description']}  {item['price'] or ''}", highlight=False
        )


@app.command()
def enqueue(
    image: Path = typer.Argument(..., help="A receipt photo."),
    user: str = typer.Option(..., "--user", "-u", help="User id or email."),
    wait: bool = typer.Option(False, "--wait", help="Follow the job and print the scanned receipt."),
    timeout: float = typer.Option(300, help="Seconds to wait with --wait."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Store the photo as the user's receipt and scan it on the ocr-processing queue."""
    from finjobs.services.receipts import accept_receipt, get_receipt, receipt_job_id
    from finjobs.services.users import get_user

    data = context.read_input(image)
    with context.session() as s:
        user_id = get_user(s, user).id
        # accept_receipt commits this session's transaction itself, before it enqueues.
        receipt = accept_receipt(
            s,
            context.redis(),
            user_id,
            image.name,
            data,
            mimetypes.guess_type(image.name)[0],
            settings=context.settings(),
        )
    job_id = receipt_job_id(receipt.id)
    doc: dict[str, Any] = {"id": receipt.id, "status": receipt.status, "job_id": job_id}
    if wait:
        from finjobs.cli.follow import wait_for_job

        job = wait_for_job(context.redis(), job_id, timeout=timeout, quiet=json_out)
        with context.session() as s:
            doc = {**get_receipt(s, user_id, receipt.id), "job_id": job_id, "job_status": job["status"]}
        if job.get("error"):
            doc["job_error"] = job["error"]
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(doc, highlight=False)
    if wait and (doc.get("job_status") != "finished" or doc.get("status") != "completed"):
        raise typer.Exit(1)
