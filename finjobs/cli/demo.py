"""`finjobs demo`: the main jobs end to end on embedded defaults (SQLite file + private Redis),
through real worker processes, as production runs them."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import typer

from finjobs.cli import context

DEMO_EMAIL = "demo@finjobs.local"
DEMO_QUEUES = (
    "csv-import",
    "ocr-processing",
    "forecast-compute",
    "budget-evaluation",
    "insight-generation",
    "notification",
    "data-cleanup",
)


@contextlib.contextmanager
def workers(*queues: str) -> Iterator[None]:
    """Real `finjobs worker` processes for the demo's queues; SIGTERM (as Heroku would) at the end."""
    log_path = context.settings().state_dir / "demo-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FINJOBS_LOG_LEVEL": os.environ.get("FINJOBS_LOG_LEVEL", "WARNING")}
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "finjobs", "worker", *queues, "-c", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _ensure_user() -> int:
    from finjobs.errors import NotFound
    from finjobs.services.users import create_user, get_user

    with context.session() as s:
        try:
            return get_user(s, DEMO_EMAIL).id
        except NotFound:
            created = create_user(s, DEMO_EMAIL, name="Demo User")
            context.console.print(
                f"created demo user {created.id}; API token: {created.token}", highlight=False
            )
            return created.id


def _import(user_id: int, data: bytes, name: str) -> dict[str, Any]:
    from finjobs.cli.imports import _status, follow
    from finjobs.services.imports import accept_import, enqueue_import

    with context.session() as s:
        import_id = accept_import(
            s, user_id, name, data, settings=context.settings(), account="demo checking"
        ).id
    enqueue_import(context.redis(), import_id)
    follow(import_id, timeout=600, quiet=False)
    return _status(import_id)


def _demo_rules(user_id: int) -> None:
    """The sample's category rules, once: the import categorises what the bank's Category column left."""
    from finjobs.sample_data import SAMPLE_RULES
    from finjobs.services.categories import add_rule, list_rules

    with context.session() as s:
        if list_rules(s, user_id):
            return
        for match, category in SAMPLE_RULES.items():
            add_rule(s, user_id, match=match, category=category)
    context.console.print(f"{len(SAMPLE_RULES)} category rules, e.g. STARBUCKS* -> Coffee", highlight=False)


def demo_import(user_id: int) -> None:
    from finjobs.sample_data import csv_bytes

    con = context.console
    con.rule("bank CSV import through the csv-import queue")
    _demo_rules(user_id)
    today = dt.date.today()
    data = csv_bytes(700, seed=today.year, start=today - dt.timedelta(days=365), until=today, categories=True)
    path = context.settings().state_dir / "demo-bank.csv"
    path.write_bytes(data)
    con.print(f"generated a year of bank statement: {path} ({len(data):,} bytes)", highlight=False)
    first = _import(user_id, data, path.name)
    con.print(
        f"import {first['id']}: {first['status']}, imported {first['imported']}, skipped "
        f"{first['skipped']}, duplicates {first['duplicates']}",
        highlight=False,
    )
    if first["status"] != "completed":
        raise typer.Exit(1)
    again = _import(user_id, data, path.name)
    con.print(
        f"the same file again: import {again['id']} imported {again['imported']}, duplicates "
        f"{again['duplicates']} (nothing twice)",
        highlight=False,
    )
    if again["imported"] != 0:
        raise typer.Exit(1)


def _wait_all(job_ids: list[str], what: str) -> None:
    from finjobs.cli.follow import wait_for_job

    for job_id in job_ids:
        outcome = wait_for_job(context.redis(), job_id, timeout=600, quiet=True)
        if outcome["status"] != "finished":
            context.console.print(
                f"[red]{what} job {job_id} {outcome['status']}[/red]: {outcome.get('error')}"
            )
            raise typer.Exit(1)


def demo_receipt(user_id: int) -> None:
    """A receipt for one of the imported purchases: scanned, then matched to that bank transaction."""
    from sqlalchemy import select

    from finjobs.db.models import Transaction
    from finjobs.domain.money import format_minor
    from finjobs.sample_data import receipt_image
    from finjobs.services.receipts import accept_receipt, get_receipt

    con = context.console
    con.rule("receipt OCR through the ocr-processing queue")
    with context.session() as s:
        txn = s.scalars(
            select(Transaction)
            .where(Transaction.user_id == user_id, Transaction.amount_minor < -1000)
            .order_by(Transaction.date.desc(), Transaction.id.desc())
        ).first()
        assert txn is not None, "the import gave the demo user purchases"
        merchant, when, total = txn.description, txn.date, format_minor(-txn.amount_minor)
    lines = (
        merchant,
        "123 MAIN STREET",
        f"DATE {when.isoformat()} 18:42",
        "ITEMS 1",
        f"TOTAL $ {total}",
        "VISA ****1234",
    )
    with context.session() as s:
        receipt_id = accept_receipt(
            s,
            context.redis(),
            user_id,
            "demo-receipt.png",
            receipt_image(lines),
            "image/png",
            settings=context.settings(),
        ).id
    _wait_all([f"receipt-{receipt_id}"], "receipt")
    with context.session() as s:
        view = get_receipt(s, user_id, receipt_id)
    con.print(f"printed: {merchant} / {when} / {total}", highlight=False)
    con.print(
        f"read:    {view['merchant']} / {view['date']} / {view['total']} -> "
        + (
            f"matched bank transaction {view['transaction_id']}"
            if view["matched"]
            else "a pending transaction"
        ),
        highlight=False,
    )


def demo_forecast(user_id: int) -> None:
    from finjobs.adapters.forecast_plot import render_plot
    from finjobs.services.forecasts import (
        enqueue_user_forecasts,
        expense_points,
        read_forecasts,
        result_from_payload,
    )

    con = context.console
    con.rule("spending forecast through the forecast-compute queue")
    today = dt.datetime.now(context.settings().tz).date()
    with context.session() as s:
        queued = enqueue_user_forecasts(
            s, context.redis(), user_id, today=today, tag=f"demo{int(time.time())}"
        )
    _wait_all([q.job_id for q in queued], "forecast")
    with context.session() as s:
        doc = read_forecasts(s, context.redis(), user_id)
        history = expense_points(s, user_id)[0]
    spending = doc["spending"]
    if spending is None:
        con.print("[red]no forecast was stored[/red]")
        raise typer.Exit(1)
    path = context.settings().state_dir / "demo-forecast.png"
    render_plot(history, result_from_payload(spending), path, title="Demo user: daily spending")
    con.print(f"model: {spending['model']} {spending.get('reason') or ''}", highlight=False)
    for month in spending.get("months", []):
        con.print(
            f"  {month['month']}: expected {month['expected']}"
            f" ({round(100 * month.get('coverage', 0.8))}% range"
            f" {month['lower']} - {month['upper']}; known bills {month.get('scheduled', '0')})",
            highlight=False,
        )
    for bill in spending.get("scheduled", [])[:8]:
        status = bill.get("status") or "due"
        note = {"paid": "paid today", "overdue": f"overdue {bill.get('days_late', 0)} days"}.get(
            status, "due"
        )
        con.print(
            f"  bill {bill['date']}: {bill['payee']} {bill['amount']} ({bill['cadence']}, {note})",
            highlight=False,
        )
    con.print(f"plot: {path}", highlight=False)


def _warning_category_budget(s: Any, user_id: int, start: dt.date, today: dt.date) -> None:
    """A Groceries budget over the last 30 days of about 110% of what the imported rows that the import
    categorised as Groceries spent in them: it warns."""
    from sqlalchemy import func, select

    from finjobs.db.models import Category, Transaction
    from finjobs.domain.money import format_minor
    from finjobs.services.budgets import create_budget

    spent = -(
        s.scalar(
            select(func.coalesce(func.sum(Transaction.amount_minor), 0))
            .join(Category, Category.id == Transaction.category_id)
            .where(
                Transaction.user_id == user_id,
                Category.name == "Groceries",
                Transaction.amount_minor < 0,
                Transaction.date >= start,
                Transaction.date <= today,
            )
        )
        or 0
    )
    if spent > 0:
        amount = format_minor(spent * 10 // 9 + 1)
        create_budget(
            s, context.redis(), user_id, amount=amount, start=start, end=today, category="Groceries"
        )


def demo_budgets_and_insights(user_id: int) -> None:
    from finjobs.db.models import utcnow
    from finjobs.services.budgets import budget_job_ids, budget_statuses, create_budget
    from finjobs.services.insights import insight_job_ids, list_insights

    con = context.console
    con.rule("budgets and insights through budget-evaluation and insight-generation")
    tz = context.settings().tz
    today = dt.datetime.now(tz).date()
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    with context.session() as s:
        if not budget_statuses(s, context.redis(), user_id, today=today):
            create_budget(s, context.redis(), user_id, amount="2500.00", start=start, end=end)
            _warning_category_budget(s, user_id, today - dt.timedelta(days=29), today)
    slot = dt.datetime.now(tz)
    with context.session() as s:
        ids, _ = budget_job_ids(s, context.redis(), slot=slot)
        ids += insight_job_ids(s, context.redis(), slot=slot, user_ids=[user_id])
    _wait_all(ids, "budget/insight")
    with context.session() as s:
        statuses = budget_statuses(s, context.redis(), user_id, today=today)
        insights = list_insights(s, user_id, now=utcnow())
    for b in statuses:
        con.print(
            f"budget {b.get('category') or 'all spending'}: spent {b['spent']} of {b['amount']} "
            f"({b['percent']}%), {b['days_left']} days left: {b['state']}",
            highlight=False,
        )
    con.print(f"{len(insights)} insight(s):", highlight=False)
    for ins in insights[:8]:
        con.print(f"  [{ins['severity']}] {ins['title']}: {ins['message']}", highlight=False, markup=False)


def _seed_cleanup_work(user_id: int) -> None:
    """Old dismissed insights, expired ones and failed voice logs, so the cleanup has work to show."""
    from finjobs.db.models import AiInsight, VoiceLog, utcnow

    now = utcnow()
    with context.session() as s:
        for i in range(3):
            s.add(
                AiInsight(
                    user_id=user_id,
                    type="spending_spike",
                    severity="info",
                    title="old",
                    dedup_key=f"demo:dismissed:{now.timestamp()}:{i}",
                    dismissed_at=now - dt.timedelta(days=40),
                )
            )
        s.add(
            AiInsight(
                user_id=user_id,
                type="budget_warning",
                severity="warning",
                title="expired",
                dedup_key=f"demo:expired:{now.timestamp()}",
                expires_at=now - dt.timedelta(days=1),
            )
        )
        for _ in range(2):
            s.add(VoiceLog(user_id=user_id, status="failed", created_at=now - dt.timedelta(days=100)))
    context.redis().set("budget_status:999999999", "{}")  # a cache key of a user that does not exist


def demo_cleanup(user_id: int) -> None:
    from finjobs.cli.follow import wait_for_job
    from finjobs.services.maintenance import enqueue_cleanup

    con = context.console
    con.rule("data cleanup through the data-cleanup queue")
    _seed_cleanup_work(user_id)
    job = enqueue_cleanup(context.redis())
    outcome = wait_for_job(context.redis(), job.id, timeout=120)
    if outcome["status"] != "finished":
        con.print(f"[red]cleanup job {outcome['status']}[/red]: {outcome.get('error')}")
        raise typer.Exit(1)
    con.print("cleanup removed:", outcome["result"], highlight=False)


def _operator_token() -> str:
    """A fresh token for the demo operator (tokens are stored hashed, so each run issues a new one)."""
    from finjobs.errors import NotFound
    from finjobs.services.operators import create_operator, delete_operator

    with context.session() as s:
        with contextlib.suppress(NotFound):
            delete_operator(s, "demo")
            s.flush()
        return create_operator(s, "demo").token


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _console_hint(serve: bool) -> None:
    settings = context.settings()
    con = context.console
    con.rule("operator's console")
    con.print(f"console:        http://127.0.0.1:{settings.port}/console/", highlight=False)
    con.print(f"operator token: {_operator_token()}", highlight=False, soft_wrap=True)
    if not serve:
        con.print(
            "open it with `./scripts/demo --serve` (or `finjobs web` while workers run)", highlight=False
        )


def demo(
    serve: bool = typer.Option(
        False, "--serve", help="Then keep the web server (and the workers) running until Ctrl-C."
    ),
) -> None:
    """Database, a demo user, a bank CSV import (and its re-import), a receipt, a forecast, budgets and
    insights, the cleanup job and the status view, through real worker processes; then the console's
    address and an operator token."""
    from finjobs.cli.status import render
    from finjobs.db.migrate import upgrade
    from finjobs.services.queues import queue_stats

    settings = context.settings()
    con = context.console
    con.rule("finjobs demo")
    con.print(f"database: {settings.database_url}", highlight=False)
    redis_where = settings.redis_url or f"embedded server in {settings.state_dir / 'redis'}"
    con.print(f"redis:    {redis_where}", highlight=False)
    upgrade(settings.database_url)
    user_id = _ensure_user()
    started = time.monotonic()
    with workers(*DEMO_QUEUES):
        demo_import(user_id)
        demo_receipt(user_id)
        demo_forecast(user_id)
        demo_budgets_and_insights(user_id)
        demo_cleanup(user_id)
        con.print(render(queue_stats(context.redis())))
        con.print(f"demo finished in {time.monotonic() - started:.1f} s", highlight=False)
        _console_hint(serve)
        if serve:
            from finjobs.web import create_app

            signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: the workers are stopped too
            with contextlib.suppress(KeyboardInterrupt):
                create_app(settings).run(host="127.0.0.1", port=settings.port)
