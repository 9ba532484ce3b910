#!/usr/bin/env python3
"""Fault injection against real processes: workers, the scheduler, two gunicorn web processes, Redis
and PostgreSQL, all started here on free loopback ports. Prints a table, scenario by scenario, and
exits non-zero if any scenario loses, duplicates or half-writes data.

    .venv/bin/python scripts/chaos.py [--only 1,5,6] [--rows 200000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis as redis_lib
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text

from finjobs.config import Settings
from finjobs.db.engine import get_engine, session_scope
from finjobs.db.migrate import upgrade
from finjobs.db.models import CsvImportLog, Transaction
from finjobs.devservers import PostgresServer, RedisServer, free_port
from finjobs.sample_data import csv_bytes
from finjobs.services.imports import accept_import, enqueue_import
from finjobs.services.users import create_user

console = Console()
FINAL = {"completed", "rejected", "failed", "undone"}


@dataclass
class Result:
    scenario: str
    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass
class Stack:
    tmp: Path
    pg: PostgresServer = field(default_factory=PostgresServer)
    redis_server: RedisServer = field(default_factory=RedisServer)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    web_ports: list[int] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def start_servers(self) -> None:
        self.pg.start()
        self.redis_server.start()
        upgrade(self.pg.url)
        self.env = {
            **os.environ,
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": self.redis_server.url,
            "FINJOBS_STATE_DIR": str(self.tmp / "state"),
            "FINJOBS_LOG_LEVEL": "WARNING",
            "FINJOBS_RATE_LIMIT_READS": "30/minute",
            "FINJOBS_MAX_UPLOAD_BYTES": str(2**31),
        }

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    @property
    def redis(self) -> redis_lib.Redis:
        return redis_lib.Redis.from_url(self.redis_server.url)

    def spawn(self, name: str, *cmd: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            list(cmd), env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def start_processes(self, *, web: bool = True) -> None:
        py = sys.executable
        self.spawn("worker-imports", py, "-m", "finjobs", "worker", "csv-import", "-c", "2")
        self.spawn("worker-ocr", py, "-m", "finjobs", "worker", "ocr-processing", "-c", "1")
        self.spawn("scheduler", py, "-m", "finjobs", "scheduler")
        if web:
            self.web_ports = self.web_ports or [free_port(), free_port()]
            for i, port in enumerate(self.web_ports):
                self.spawn(
                    f"web-{i}",
                    str(Path(py).parent / "gunicorn"),
                    "-w",
                    "1",
                    "-b",
                    f"127.0.0.1:{port}",
                    "--graceful-timeout",
                    "25",
                    "finjobs.web:create_app()",
                )
            for port in self.web_ports:
                _wait_http(f"http://127.0.0.1:{port}/healthz", 30)

    def signal_all(self, sig: int) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)

    def stop_processes(self, grace: float = 30) -> None:
        self.signal_all(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        self.signal_all(signal.SIGKILL)
        for proc in self.procs.values():
            proc.wait()
        self.procs.clear()

    def destroy(self) -> None:
        self.stop_processes(grace=5)
        self.pg.destroy()
        self.redis_server.destroy()


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def reconcile(stack: Stack) -> None:
    subprocess.run(
        [sys.executable, "-m", "finjobs", "reconcile"], env=stack.env, check=True, stdout=subprocess.DEVNULL
    )


def new_user(stack: Stack, email: str) -> tuple[int, str]:
    with session_scope(stack.pg.url) as s:
        created = create_user(s, email)
        return created.id, created.token


def submit_import(stack: Stack, user_id: int, data: bytes, name: str) -> int:
    with session_scope(stack.pg.url) as s:
        import_id = accept_import(s, user_id, name, data, settings=stack.settings).id
    # accepted in the database: if Redis is down now, reconcile enqueues it once Redis is back
    with contextlib.suppress(redis_lib.ConnectionError):
        enqueue_import(stack.redis, import_id)
    return import_id


def wait_final(
    stack: Stack, import_ids: list[int], timeout: float, *, tick: Callable[[], None] | None = None
) -> dict[int, CsvImportLog]:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(stack.pg.url) as s:
            logs = {i: s.get(CsvImportLog, i) for i in import_ids}
        if (
            all(log is not None and log.status in FINAL for log in logs.values())
            or time.monotonic() > deadline
        ):
            return logs  # type: ignore[return-value]
        if tick:
            tick()
        time.sleep(0.5)


def distinct_file(rows: int, i: int) -> bytes:
    """File i of a scenario: its own 4-year stretch of dates, so no row of one file duplicates another's."""
    import datetime as dt

    return csv_bytes(rows, seed=i, start=dt.date(1990 + 4 * i, 1, 1))


def user_counts(stack: Stack, user_id: int) -> tuple[int, int]:
    with session_scope(stack.pg.url) as s:
        total = s.scalar(select(func.count()).select_from(Transaction).where(Transaction.user_id == user_id))
        distinct = s.scalar(
            select(func.count(func.distinct(Transaction.fingerprint))).where(Transaction.user_id == user_id)
        )
    return int(total or 0), int(distinct or 0)


def horse_of(worker_pid: int) -> psutil.Process | None:
    """RQ's work horse is the worker's descendant that leads its own process group."""
    try:
        kids = psutil.Process(worker_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return None
    horses = [p for p in kids if _pgid(p.pid) == p.pid]
    return horses[0] if horses else None


def _pgid(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return -1


# ------------------------------------------------------------------------------------------ scenarios


def scenario_kill_import(stack: Stack, rows: int, trials: int = 10) -> Result:
    """SIGKILL the csv-import work horse at random points of a big import, once per trial."""
    data = csv_bytes(rows)
    rng = random.Random(1)
    problems: list[str] = []
    for trial in range(trials):
        user_id, _ = new_user(stack, f"kill{trial}@chaos")
        seen: list[int] = []
        stop = threading.Event()

        def watch(uid: int = user_id, out: list[int] = seen, stop: threading.Event = stop) -> None:
            with get_engine(stack.pg.url).connect() as conn:
                while not stop.is_set():
                    out.append(
                        conn.execute(
                            text("SELECT count(*) FROM transactions WHERE user_id = :u"), {"u": uid}
                        ).scalar_one()
                    )
                    conn.commit()
                    time.sleep(0.05)

        reader = threading.Thread(target=watch, daemon=True)
        reader.start()
        import_id = submit_import(stack, user_id, data, f"kill{trial}.csv")
        point = rng.uniform(0.05, 0.9)
        killed = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            with session_scope(stack.pg.url) as s:
                log = s.get(CsvImportLog, import_id)
                assert log is not None
                status, processed = log.status, log.processed
            if status in FINAL:
                break
            if status == "running" and processed >= point * rows:
                for proc in (stack.procs["worker-imports"],):
                    horse = horse_of(proc.pid)
                    if horse is not None:
                        horse.kill()
                        killed = True
            time.sleep(0.05)
        logs = wait_final(stack, [import_id], 180)
        stop.set()
        reader.join(5)
        log = logs[import_id]
        total, distinct = user_counts(stack, user_id)
        partial = sorted({c for c in seen if c not in (0, rows)})
        if not killed:
            problems.append(f"trial {trial}: finished before the kill point")
        if log.status != "completed" or total != rows or distinct != rows or log.imported != rows:
            problems.append(f"trial {trial}: status={log.status} rows={total} distinct={distinct}")
        if partial:
            problems.append(f"trial {trial}: a reader saw partial counts {partial[:3]}")
    ok = not problems
    detail = (
        "; ".join(problems) if problems else f"{trials} kills, {rows:,} rows each: exact, no partial view"
    )
    return Result("1 SIGKILL import worker", ok, detail)


def receipt_image(total: str) -> bytes:
    from finjobs.sample_data import receipt_image as draw

    return draw(("CHAOS HARDWARE SDN BHD", "DATE: 14/03/2018 10:22", f"TOTAL RM {total}", "CASH RM 100.00"))


def submit_receipt(stack: Stack, user_id: int, data: bytes) -> int:
    from finjobs.services.receipts import accept_receipt

    with session_scope(stack.pg.url) as s:
        return accept_receipt(s, stack.redis, user_id, "r.png", data, "image/png", settings=stack.settings).id


def receipts_done(stack: Stack, ids: list[int]) -> tuple[list[str], int]:
    from finjobs.db.models import Receipt

    with session_scope(stack.pg.url) as s:
        statuses = sorted(s.get(Receipt, i).status for i in ids)  # type: ignore[union-attr]
        made = s.scalar(
            select(func.count())
            .select_from(Transaction)
            .where(Transaction.fingerprint.in_([f"receipt:{i}" for i in ids]))
        )
    return statuses, int(made or 0)


def scenario_redis_restart(stack: Stack) -> Result:
    """Restart Redis with no persistence while imports and receipts are queued and running."""
    user_id, _ = new_user(stack, "redis@chaos")
    ids = [submit_import(stack, user_id, distinct_file(20000, i), f"r{i}.csv") for i in range(6)]
    receipts = [submit_receipt(stack, user_id, receipt_image(f"{10 + i}.{i}5")) for i in range(3)]
    time.sleep(1.0)
    port = stack.redis_server.port
    stack.redis_server.stop()
    time.sleep(2)
    stack.redis_server = RedisServer(port=port, root=stack.redis_server.root).start()
    reconcile(stack)
    logs = wait_final(stack, ids, 240, tick=lambda: reconcile(stack))
    deadline = time.monotonic() + 120
    while (done := receipts_done(stack, receipts))[0] != ["completed"] * 3 and time.monotonic() < deadline:
        reconcile(stack)
        time.sleep(1)
    total, distinct = user_counts(stack, user_id)
    imported = sum(log.imported for log in logs.values())
    statuses = sorted({log.status for log in logs.values()})
    receipt_statuses, receipt_rows = done
    ok = (
        statuses == ["completed"]
        and imported == 6 * 20000
        and total == distinct == imported + receipt_rows
        and receipt_statuses == ["completed"] * 3
        and receipt_rows == 3
    )
    return Result(
        "2 Redis restart, no persistence",
        ok,
        f"imports {statuses}, rows {imported:,} of {6 * 20000:,}, distinct {distinct - receipt_rows:,}; "
        f"receipts {receipt_statuses}, {receipt_rows} pending transaction(s), one each",
    )


def scenario_postgres_outage(stack: Stack) -> Result:
    """Stop PostgreSQL for 20 s during imports: jobs fail, retry on the 5/15/45 s schedule, all complete."""
    user_id, _ = new_user(stack, "pg@chaos")
    ids = [submit_import(stack, user_id, distinct_file(50000, i), f"p{i}.csv") for i in range(3)]
    time.sleep(1.5)
    stack.pg.stop(mode="fast")
    time.sleep(20)
    stack.pg.restart()
    logs = wait_final(stack, ids, 240)
    total, distinct = user_counts(stack, user_id)
    statuses = sorted({log.status for log in logs.values()})
    attempts = sorted(log.attempts for log in logs.values())
    ok = statuses == ["completed"] and total == distinct == 150000
    return Result(
        "3 PostgreSQL down 20 s", ok, f"imports {statuses}, attempts {attempts}, rows {total:,} of 150,000"
    )


def scenario_heroku_restart(stack: Stack, rows: int) -> Result:
    """SIGTERM every process mid-work, SIGKILL 30 s later, start again: nothing half-done, all once."""
    user_id, _ = new_user(stack, "restart@chaos")
    ids = [submit_import(stack, user_id, distinct_file(rows, i), f"h{i}.csv") for i in range(3)]
    time.sleep(3)
    stack.stop_processes(grace=30)
    with session_scope(stack.pg.url) as s:
        between = {i: s.get(CsvImportLog, i).status for i in ids}  # type: ignore[union-attr]
    total_between, _ = user_counts(stack, user_id)
    complete_rows = sum(rows for i in ids if between[i] == "completed")
    stack.start_processes()
    reconcile(stack)
    logs = wait_final(stack, ids, 300, tick=lambda: reconcile(stack))
    total, distinct = user_counts(stack, user_id)
    statuses = sorted({log.status for log in logs.values()})
    ok = total_between == complete_rows and statuses == ["completed"] and total == distinct == 3 * rows
    return Result(
        "4 SIGTERM all, SIGKILL 30 s later",
        ok,
        f"after stop: {sorted(between.values())} with {total_between:,} rows (whole imports only); "
        f"after restart: {statuses}, rows {total:,} of {3 * rows:,}",
    )


def scenario_rate_limit(stack: Stack) -> Result:
    """Two web processes, one token, 3x the limit spread across both: accepted = the limit (+-1)."""
    _, token = new_user(stack, "limit@chaos")
    limit = 30
    codes = []
    for i in range(3 * limit):
        port = stack.web_ports[i % 2]
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/imports", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                codes.append(resp.status)
        except urllib.error.HTTPError as exc:
            codes.append(exc.code)
    accepted = codes.count(200)
    ok = abs(accepted - limit) <= 1 and codes.count(429) == len(codes) - accepted
    return Result(
        "5 shared rate limit", ok, f"{accepted} accepted of {len(codes)} across 2 processes (limit {limit})"
    )


def scenario_other_users(stack: Stack) -> Result:
    """Another user's token on every resource URL: all 404."""
    owner_id, owner_token = new_user(stack, "owner@chaos")
    _, intruder = new_user(stack, "intruder@chaos")
    import_id = submit_import(stack, owner_id, csv_bytes(50, seed=9), "own.csv")
    wait_final(stack, [import_id], 60)
    base = f"http://127.0.0.1:{stack.web_ports[0]}"
    put = urllib.request.Request(
        f"{base}/api/v1/chat-sessions/own-1/context",
        method="PUT",
        data=json.dumps({"k": "v"}).encode(),
        headers={"Authorization": f"Bearer {owner_token}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(put, timeout=5).close()
    urls = [
        ("GET", f"/api/v1/imports/{import_id}/status"),
        ("GET", "/api/v1/chat-sessions/own-1/context"),
        ("DELETE", "/api/v1/chat-sessions/own-1/context"),
        ("PUT", "/api/v1/chat-sessions/own-1/context"),
    ]
    for method, path in _more_resource_urls(stack, owner_id):
        urls.append((method, path))
    codes = {}
    for method, path in urls:
        req = urllib.request.Request(
            base + path,
            method=method,
            headers={"Authorization": f"Bearer {intruder}", "Content-Type": "application/json"},
            data=b"{}" if method in ("PUT", "POST") else None,
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                codes[f"{method} {path}"] = resp.status
        except urllib.error.HTTPError as exc:
            codes[f"{method} {path}"] = exc.code
    bad = {k: v for k, v in codes.items() if v != 404}
    return Result(
        "6 another user's token", not bad, f"{len(codes)} URLs, all 404" if not bad else f"not 404: {bad}"
    )


def _more_resource_urls(stack: Stack, owner_id: int) -> list[tuple[str, str]]:
    """Receipt and insight URLs of the owner, where those features exist."""
    urls: list[tuple[str, str]] = []
    with session_scope(stack.pg.url) as s:
        from finjobs.db.models import AiInsight, Receipt

        receipt = Receipt(user_id=owner_id, status="failed", error_message="chaos")
        insight = AiInsight(user_id=owner_id, type="t", severity="info", dedup_key=f"chaos-{owner_id}")
        s.add_all([receipt, insight])
        s.flush()
        urls += [
            ("GET", f"/api/v1/receipts/{receipt.id}"),
            ("POST", f"/api/v1/insights/{insight.id}/dismiss"),
        ]
    return urls


SCENARIOS = {1, 2, 3, 4, 5, 6}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated scenario numbers")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--trials", type=int, default=10)
    args = ap.parse_args()
    only = {int(x) for x in args.only.split(",") if x.strip()} or SCENARIOS
    tmp = Path(tempfile.mkdtemp(prefix="finjobs-chaos-"))
    stack = Stack(tmp)
    results: list[Result] = []
    started = time.monotonic()
    try:
        stack.start_servers()
        stack.start_processes()
        runs: list[tuple[int, Callable[[], Result]]] = [
            (5, lambda: scenario_rate_limit(stack)),
            (6, lambda: scenario_other_users(stack)),
            (1, lambda: scenario_kill_import(stack, args.rows, args.trials)),
            (3, lambda: scenario_postgres_outage(stack)),
            (2, lambda: scenario_redis_restart(stack)),
            (4, lambda: scenario_heroku_restart(stack, max(args.rows * 3, 600_000))),
        ]
        for number, run in runs:
            if number not in only:
                continue
            t = time.monotonic()
            try:
                result = run()
            except Exception as exc:  # a crashed scenario is a failed one; keep going and report it
                result = Result(f"{number} (crashed)", False, f"{type(exc).__name__}: {exc}")
            result.seconds = time.monotonic() - t
            results.append(result)
            verdict = "PASS" if result.ok else "FAIL"
            console.print(
                f"{verdict} {result.scenario}: {result.detail} ({result.seconds:.0f} s)", highlight=False
            )
    finally:
        stack.destroy()
    table = Table(
        title=f"finjobs chaos ({time.monotonic() - started:.0f} s; logs in {tmp})", title_justify="left"
    )
    for col in ("scenario", "result", "seconds", "detail"):
        table.add_column(col)
    for r in results:
        table.add_row(
            r.scenario, "[green]pass[/green]" if r.ok else "[red]FAIL[/red]", f"{r.seconds:.0f}", r.detail
        )
    console.print(table)
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
