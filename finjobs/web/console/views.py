"""The console's pages and actions (routes on finjobs.web.console.bp); each one service call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from finjobs.errors import InputError
from finjobs.queue.registry import QUEUES
from finjobs.web.auth import db, redis, settings
from finjobs.web.console import action, bp, operator, require_operator

CHART_MINUTES = 24 * 60


def _filter_from_form() -> Any:
    from finjobs.services.console import FailedFilter

    minutes = request.form.get("older_than_minutes", "").strip()
    try:
        older = timedelta(minutes=float(minutes)) if minutes else None
    except ValueError:
        raise InputError(f"age must be a number of minutes (got {minutes!r})") from None
    return FailedFilter(
        queue=request.form.get("queue") or None,
        function=request.form.get("function", "").strip(),
        error=request.form.get("error", "").strip(),
        older_than=older,
    )


def _back(default: str) -> Any:
    target = request.form.get("back", "")
    return redirect(target if target.startswith("/console") else default)


@bp.get("/")
@require_operator
def overview() -> Any:
    from finjobs.services.console import recent_imports, schedule_table, workers
    from finjobs.services.metrics import throughput
    from finjobs.services.operators import audit_log
    from finjobs.services.queues import queue_stats

    conn = redis()
    stats = queue_stats(conn)
    series = throughput(conn, [s.name for s in stats], minutes=CHART_MINUTES)
    with db() as s:
        imports = recent_imports(s, conn)
        audit = audit_log(s, limit=20)
    return render_template(
        "console/overview.html",
        stats=stats,
        series=series,
        workers=workers(conn),
        schedule=schedule_table(settings().database_url, settings().tz, datetime.now(UTC)),
        imports=imports,
        audit=audit,
    )


@bp.get("/queues/<name>")
@require_operator
def queue(name: str) -> Any:
    from finjobs.services.console import STATES, list_jobs
    from finjobs.services.queues import queue_stats

    state = request.args.get("state", "failed")
    page = request.args.get("page", "1")
    jobs = list_jobs(redis(), name, state, page=int(page) if page.isdigit() else 1)
    stats = queue_stats(redis(), [jobs.queue])[0]
    return render_template("console/queue.html", page=jobs, stats=stats, states=STATES)


@bp.get("/jobs/<job_id>")
@require_operator
def job(job_id: str) -> Any:
    from finjobs.services.console import job_page

    with db() as s:
        doc = job_page(s, redis(), job_id)
    return render_template("console/job.html", job=doc)


@bp.post("/jobs/<job_id>/replay")
@action
def replay_job(job_id: str) -> Any:
    from finjobs.services.console import replay_jobs

    with db() as s:
        replay_jobs(s, redis(), operator(), [job_id])
    flash(f"replayed {job_id}")
    return _back(url_for("console.job", job_id=job_id))


@bp.post("/failed/replay")
@action
def replay_failed() -> Any:
    from finjobs.services.console import replay_failed as replay_matching

    with db() as s:
        done = replay_matching(s, redis(), operator(), _filter_from_form())
    flash(f"replayed {len(done)} failed job(s)")
    return _back(url_for("console.overview"))


@bp.post("/failed/delete")
@action
def delete_failed() -> Any:
    from finjobs.services.console import delete_failed as delete_matching

    with db() as s:
        n = delete_matching(s, redis(), operator(), _filter_from_form())
    flash(f"deleted {n} failed job(s)")
    return _back(url_for("console.overview"))


@bp.post("/queues/<name>/<verb>")
@action
def pause(name: str, verb: str) -> Any:
    from finjobs.services.console import pause_queue

    if verb not in ("pause", "resume"):
        abort(404)
    if name not in QUEUES:
        abort(404)
    with db() as s:
        pause_queue(s, redis(), operator(), name, paused=verb == "pause")
    flash(f"{name} {'paused' if verb == 'pause' else 'resumed'}")
    return _back(url_for("console.overview"))


@bp.app_template_filter("age")
def _age(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


@bp.app_template_filter("spark")
def _spark(values: list[int], width: int = 288, height: int = 36) -> str:
    """An inline SVG line of per-minute counts (1,440 points for 24 h, drawn `width` pixels wide)."""
    top = max(values) if values and max(values) > 0 else 1
    points = " ".join(f"{i},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(values))
    return (
        f'<svg class="spark" viewBox="0 0 {max(len(values) - 1, 1)} {height}" preserveAspectRatio="none" '
        f'width="{width}" height="{height}"><title>jobs per minute, peak {top}</title>'
        f'<polyline points="{points}"/></svg>'
    )
