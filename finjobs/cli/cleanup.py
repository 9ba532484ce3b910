"""`finjobs cleanup run [--wait]`: enqueue the data cleanup job."""

from __future__ import annotations

import typer

from finjobs.cli import context

app = typer.Typer(help="Data cleanup.", no_args_is_help=True)


@app.command()
def run(
    wait: bool = typer.Option(False, "--wait", help="Follow the job and print what it removed."),
    timeout: float = typer.Option(600, help="Seconds to wait with --wait."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Purge dismissed/expired insights, failed voice logs and stale Redis keys (on data-cleanup)."""
    from finjobs.cli.follow import wait_for_job
    from finjobs.services.maintenance import enqueue_cleanup

    job = enqueue_cleanup(context.redis())
    doc: dict[str, object] = {"job_id": job.id, "queue": job.origin}
    if wait:
        doc.update(wait_for_job(context.redis(), job.id, timeout=timeout, quiet=json_out))
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(doc, highlight=False)
    if wait and doc.get("status") != "finished":
        raise typer.Exit(1)
