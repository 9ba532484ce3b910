"""`finjobs ocr scan IMAGE` (local OCR, no database) and `finjobs ocr enqueue IMAGE --user U [--wait]`
(store the photo and scan it on the ocr-processing queue). Reads the image file; calls services only.
Imports sit inside the commands: `scan` loads Pillow and the parser, not Redis, SQLAlchemy or rich."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

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
    from finjobs.adapters.ocr import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, scan_image
    from finjobs.errors import InputError

    try:
        data = image.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(image)) from None
    fields = scan_image(
        data, source=image.name, max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS, locale_hint=locale
    ).to_dict()
    doc = {key: fields[key] for key in SCAN_KEYS}
    if json_out:
        sys.stdout.write(json.dumps(doc, default=str) + "\n")
        return
    conf = doc["confidence"]
    for key in ("merchant", "date", "total", "currency"):
        value = doc[key] if doc[key] not in (None, "") else "-"
        extra = f"  (confidence {conf[key]:.2f})" if key in conf else ""
        typer.echo(f"{key:>9}: {value}{extra}")
    for item in doc["items"]:
        qty = f"{item['quantity']} x " if item["quantity"] else ""
        typer.echo(f"     item: {qty}{item['description']}  {item['price'] or ''}")


@app.command()
def enqueue(
    image: Path = typer.Argument(..., help="A receipt photo."),
    user: str = typer.Option(..., "--user", "-u", help="User id or email."),
    wait: bool = typer.Option(False, "--wait", help="Follow the job and print the scanned receipt."),
    timeout: float = typer.Option(300, help="Seconds to wait with --wait."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Store the photo as the user's receipt and scan it on the ocr-processing queue."""
    import mimetypes

    from finjobs.cli import context
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
