#!/usr/bin/env python3
"""Benchmark the CSV import path against `psql \\copy` of the same file, in one run.

Starts a throwaway PostgreSQL and Redis (finjobs.devservers), generates N rows of a realistic bank
CSV, then times: psql \\copy into a bare table (the baseline), finjobs on PostgreSQL (accept ->
enqueue -> a real `finjobs worker csv-import` process -> committed) and the same on SQLite.
Prints rows/s, the worker's peak RSS, the database's own cost of inserting those rows into the indexed,
de-duplicating transactions table (INSERT ... SELECT of the imported rows as another user: the floor
under any import), the same with the rows' category_id (as imported: each categorised row pays the
categories foreign-key check, which the plain floor skips; `ratio_vs_indexed_insert_with_categories=`),
`ratio_vs_indexed_insert=`, `ratio_vs_psql_copy=X` (a bare table) and last
`ratio_vs_psql_copy_indexed=X`: psql \\copy of the imported rows into a copy of the indexed transactions
table without the fingerprint column (and so without its unique index).
The file carries a Category column (the bank fills it for some payees) and the user has --rules rules
(sample_data.SAMPLE_RULES, then never-matching ones up to the count); --rules 0 --no-categories is the
plain import; the starter rule table is off unless --starter-rules on.

    .venv/bin/python scripts/bench_import.py [--rows 1000000] [--rules 1000] [--no-categories]
        [--starter-rules on] [--rss-rows 100000,300000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import redis as redis_lib
from sqlalchemy import select, text

from finjobs.config import Settings
from finjobs.db.bulk_load import SQLITE_LOAD_CACHE_KIB
from finjobs.db.engine import session_scope
from finjobs.db.migrate import upgrade
from finjobs.db.models import CsvImportLog, User
from finjobs.devservers import PostgresServer, RedisServer
from finjobs.sample_data import write_csv
from finjobs.services.imports import accept_import, enqueue_import
from finjobs.services.users import create_user, set_user


class PeakRSS:
    """Samples a process tree every 50 ms; keeps the peak RSS of any single process and the peak of
    the whole tree's PSS (shared pages counted once: the import's parser is a forked child)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.tree_peak, self._stop = pid, 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                tree = 0
                for p in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                        self.peak = max(self.peak, p.memory_info().rss)
                        tree += p.memory_full_info().pss
                self.tree_peak = max(self.tree_peak, tree)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join(2)
        return self.peak, self.tree_peak


def memory(peaks: tuple[int, int]) -> str:
    return f"worker peak RSS {peaks[0] / 2**20:.0f} MB (all its processes: {peaks[1] / 2**20:.0f} MB PSS)"


def psql_copy(pg: PostgresServer, csv_path: Path, categories: bool) -> float:
    url = pg.url.replace("postgresql+psycopg", "postgresql")
    subprocess.run(
        [
            "psql",
            url,
            "-qc",
            "DROP TABLE IF EXISTS bare; CREATE TABLE bare "
            f"(date text, description text, amount numeric, balance numeric{', category text' * categories})",
        ],
        check=True,
    )
    t = time.perf_counter()
    subprocess.run(
        ["psql", url, "-qc", f"\\copy bare FROM '{csv_path}' WITH (FORMAT csv, HEADER true)"], check=True
    )
    return time.perf_counter() - t


def psql_copy_indexed(pg: PostgresServer, email: str, tmp: Path) -> float:
    """Seconds psql \\copy takes to load the rows finjobs imported into a copy of the indexed
    transactions table without the fingerprint column (the rows are first exported with \\copy TO)."""
    url = pg.url.replace("postgresql+psycopg", "postgresql")
    dump = tmp / "imported.csv"
    cols = (
        "user_id, account, date, amount_minor, currency, description, category_id, import_id, status, "
        "created_at"
    )
    subprocess.run(
        [
            "psql",
            url,
            "-qc",
            f"\\copy (SELECT {cols} FROM transactions WHERE user_id = (SELECT id FROM users WHERE email = "
            f"'{email}')) TO '{dump}' WITH (FORMAT csv)",
        ],
        check=True,
    )
    subprocess.run(
        [
            "psql",
            url,
            "-qc",
            "DROP TABLE IF EXISTS bare_indexed; CREATE TABLE bare_indexed (LIKE transactions INCLUDING ALL); "
            "ALTER TABLE bare_indexed DROP COLUMN fingerprint",
        ],
        check=True,
    )
    t = time.perf_counter()
    subprocess.run(
        ["psql", url, "-qc", f"\\copy bare_indexed ({cols}) FROM '{dump}' WITH (FORMAT csv)"], check=True
    )
    return time.perf_counter() - t


def add_rules(db_url: str, email: str, n: int, starter: bool = False) -> None:
    """The user's rules: the sample's own (they match), then patterns that match nothing, up to n;
    the starter rule table on or off (off by default, so figures compare with the user's rules alone)."""
    from finjobs.sample_data import SAMPLE_RULES
    from finjobs.services.categories import add_rule

    with session_scope(db_url) as s:
        user_id = create_user(s, email).id
        set_user(s, user_id, starter_rules=starter)
        rules = list(SAMPLE_RULES.items())[:n]
        rules += [(f"NO SUCH PAYEE {i:04d}*", f"Unused {i % 50}") for i in range(n - len(rules))]
        for match, category in rules:
            add_rule(s, user_id, match=match, category=category)


def indexed_insert_floor(db_url: str, email: str, *, categories: bool = False) -> float:
    """Seconds the database alone takes to insert the imported rows again (as another user) into the
    real, indexed and de-duplicating transactions table: what any import must pay after parsing.
    categories=True inserts their category_id too, as the import did (each such row then pays the
    categories foreign-key check); that run is rolled back and comes second, on the larger index."""
    with session_scope(db_url) as s:
        source = s.scalar(select(User.id).where(User.email == email))
        target = create_user(s, f"floor{'-categories' * categories}-{email}").id
    category = ", category_id" * categories
    t = time.perf_counter()
    with session_scope(db_url) as s:
        if db_url.startswith("sqlite"):  # the page cache the import loads with
            s.execute(text(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}"))
        s.execute(
            text(
                "INSERT INTO transactions (user_id, account, date, amount_minor, currency, description, "
                f"fingerprint, import_id, status, created_at{category}) SELECT :target, account, date, "
                f"amount_minor, currency, description, fingerprint, import_id, status, created_at{category} "
                "FROM transactions WHERE user_id = :source ON CONFLICT (user_id, fingerprint) DO NOTHING"
            ),
            {"target": target, "source": source},
        )
        elapsed = time.perf_counter() - t
        if categories:
            s.rollback()
    return elapsed


def finjobs_run(
    db_url: str,
    redis_url: str,
    csv_path: Path,
    email: str,
    state: Path,
    rules: int = 0,
    starter: bool = False,
) -> tuple[float, tuple[int, int], int]:
    """Seconds from accept to committed through a real worker process; its memory peaks; rows."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "FINJOBS_STATE_DIR": str(state),
        "FINJOBS_LOG_LEVEL": "WARNING",
        "FINJOBS_MAX_UPLOAD_BYTES": str(2**31),
    }
    settings = Settings.from_env(env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "finjobs", "worker", "csv-import", "-c", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    rss = PeakRSS(worker.pid)
    conn = redis_lib.Redis.from_url(redis_url)
    while not conn.keys("rq:worker:*"):
        time.sleep(0.1)
    data = csv_path.read_bytes()
    add_rules(db_url, email, rules, starter)
    t = time.perf_counter()
    with session_scope(db_url) as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
        assert user_id is not None
        import_id = accept_import(s, user_id, csv_path.name, data, settings=settings).id
    enqueue_import(conn, import_id)
    while True:
        with session_scope(db_url) as s:
            log = s.get(CsvImportLog, import_id)
            assert log is not None
            if log.status in {"completed", "rejected", "failed"}:
                break
        time.sleep(0.05)
    elapsed = time.perf_counter() - t
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(30)
    peak = rss.stop()
    if log.status != "completed":
        raise SystemExit(f"import {log.status}: {log.error_message}")
    with session_scope(db_url) as s:
        categorised = s.scalar(
            text("SELECT count(*) FROM transactions WHERE user_id = :u AND category_id IS NOT NULL"),
            {"u": user_id},
        )
    print(f"  categorised {categorised:,} of {log.imported:,} rows ({rules} rules)")
    return elapsed, peak, log.imported


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rules", type=int, default=1000, help="category rules of the importing user")
    ap.add_argument("--no-categories", action="store_true", help="no Category column in the file")
    ap.add_argument("--starter-rules", choices=["on", "off"], default="off", help="the starter rule table")
    ap.add_argument("--rss-rows", default="", help="extra row counts to show RSS is flat, e.g. 100000,300000")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="finjobs-bench-"))
    pg, rds = PostgresServer().start(), RedisServer().start()
    try:
        upgrade(pg.url)
        csv_path = tmp / f"bank-{args.rows}.csv"
        with csv_path.open("w", newline="") as fh:
            write_csv(fh, args.rows, categories=not args.no_categories)
        mb = csv_path.stat().st_size / 1e6
        starter = args.starter_rules == "on"
        print(
            f"rows={args.rows:,} file={mb:.1f} MB rules={args.rules} categories={not args.no_categories}"
            f" starter_rules={args.starter_rules}"
        )
        base = psql_copy(pg, csv_path, not args.no_categories)
        print(f"psql \\copy (baseline)      {base:7.2f} s  {args.rows / base:10,.0f} rows/s")
        pg_s, pg_rss, n = finjobs_run(pg.url, rds.url, csv_path, "pg@bench", tmp / "s1", args.rules, starter)
        assert n == args.rows, n
        print(f"finjobs on PostgreSQL      {pg_s:7.2f} s  {args.rows / pg_s:10,.0f} rows/s  {memory(pg_rss)}")
        floor = indexed_insert_floor(pg.url, "pg@bench")
        print(
            f"  PostgreSQL alone: INSERT..SELECT of the same rows into transactions "
            f"{floor:7.2f} s  {args.rows / floor:10,.0f} rows/s (what any import pays after parsing)"
        )
        floor_categories = indexed_insert_floor(pg.url, "pg@bench", categories=True)
        print(f"  the same with their category_id (its foreign-key check per row) {floor_categories:7.2f} s")
        sqlite_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        upgrade(sqlite_url)
        lite_s, lite_rss, n = finjobs_run(
            sqlite_url, rds.url, csv_path, "lite@bench", tmp / "s2", args.rules, starter
        )
        assert n == args.rows, n
        print(
            f"finjobs on SQLite          {lite_s:7.2f} s  {args.rows / lite_s:10,.0f} rows/s  "
            f"{memory(lite_rss)}"
        )
        lite_floor = indexed_insert_floor(sqlite_url, "lite@bench")
        print(
            f"  SQLite alone: INSERT..SELECT of the same rows into transactions "
            f"{lite_floor:7.2f} s  {args.rows / lite_floor:10,.0f} rows/s"
        )
        for extra in [int(x) for x in args.rss_rows.split(",") if x.strip()]:
            path = tmp / f"bank-{extra}.csv"
            with path.open("w", newline="") as fh:
                write_csv(fh, extra, seed=extra)
            secs, peak, _ = finjobs_run(pg.url, rds.url, path, f"rss{extra}@bench", tmp / f"s{extra}")
            print(f"  rows={extra:>9,}  PostgreSQL {extra / secs:10,.0f} rows/s  {memory(peak)}")
        print(f"ratio_vs_indexed_insert_with_categories={floor_categories / pg_s:.2f}")
        print(f"ratio_vs_indexed_insert={floor / pg_s:.2f}")
        copy_indexed = psql_copy_indexed(pg, "pg@bench", tmp)
        print(f"psql \\copy into indexed transactions (no fingerprint) {copy_indexed:7.2f} s")
        print(f"ratio_vs_psql_copy={base / pg_s:.3f}")
        print(f"ratio_vs_psql_copy_indexed={copy_indexed / pg_s:.3f}")
    finally:
        pg.destroy()
        rds.destroy()


if __name__ == "__main__":
    main()
