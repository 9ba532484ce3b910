"""Follow a job until it ends (`--wait`): a rich progress bar fed by the job's meta['progress']."""

from __future__ import annotations

import time
from typing import Any

import typer
from redis import Redis
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from finjobs.cli import context
from finjobs.queue.registry import fetch_job

FINAL = {"finished", "failed", "stopped", "canceled"}


def wait_for_job(redis: Redis, job_id: str, *, timeout: float = 3600, quiet: bool = False) -> dict[str, Any]:
    """Poll until the job ends; returns {"status", "result", "error"}. Exit 1 if it failed or timed out."""
    deadline = time.monotonic() + timeout
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=context.err_console, disable=quiet, transient=False) as bar:
        task = bar.add_task(job_id, total=None, extra="")
        while True:
            job = fetch_job(redis, job_id)
            if job is None:
                raise typer.Exit(_gone(job_id))
            status = str(job.get_status().value)
            progress = job.get_meta(refresh=False).get("progress") or {}
            if progress:
                extra = " ".join(f"{k}={v}" for k, v in progress.items() if k not in {"processed", "total"})
                bar.update(
                    task, completed=progress.get("processed", 0), total=progress.get("total"), extra=extra
                )
            bar.update(task, description=f"{job.origin} {status}")
            if status in FINAL:
                break
            if time.monotonic() > deadline:
                context.err_console.print(
                    f"[red]error:[/red] job {job_id} still {status} after {timeout:.0f} s"
                )
                raise typer.Exit(1)
            time.sleep(0.2)
    out: dict[str, Any] = {"job_id": job_id, "status": status}
    if status == "finished":
        out["result"] = job.return_value()
    else:
        result = job.latest_result()
        out["error"] = (result.exc_string or "").strip().splitlines()[-1:] if result else []
    return out


def _gone(job_id: str) -> int:
    context.err_console.print(f"[red]error:[/red] job {job_id} disappeared from Redis")
    return 1


def report_jobs(doc: dict[str, Any], *, wait: bool, timeout: float, json_out: bool) -> None:
    """Print what was enqueued (doc["job_ids"]); with wait, follow each job, add their outcomes and
    the insights they stored, and exit 1 unless all finished."""
    redis = context.redis()
    if wait:
        doc["jobs"] = [wait_for_job(redis, j, timeout=timeout, quiet=json_out) for j in doc["job_ids"]]
        doc["inserted"] = sum(int((j.get("result") or {}).get("inserted", 0)) for j in doc["jobs"])
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(doc, highlight=False)
    if wait and any(j.get("status") != "finished" for j in doc["jobs"]):
        raise typer.Exit(1)
