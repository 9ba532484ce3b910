"""CSV imports end to end on PostgreSQL and SQLite: stored bytes, one transaction, fingerprints,
re-imports, undo, rejection, the status API, and a work horse SIGKILLed mid-import."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.db.bulk_load import CHUNK_ROWS
from finjobs.db.engine import get_engine
from finjobs.db.models import Category, CsvImportLog, Transaction, Upload
from finjobs.errors import InputError
from finjobs.queue.registry import fetch_job
from finjobs.queue.worker import simple_worker
from finjobs.sample_data import csv_bytes
from finjobs.services.forked import ProducedInChild, batches
from finjobs.services.users import create_user
from tests.conftest import Stack, finjobs_cmd

runner = CliRunner()


def cli_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def user(stack: Stack) -> dict:
    with stack.session() as s:
        created = create_user(s, "ana@example.com")
    return {"id": created.id, "token": created.token}


def import_file(stack: Stack, path: Path, *extra: str) -> dict:
    accepted = cli_json("import", "enqueue", str(path), "--user", "ana@example.com", *extra)
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    return cli_json("import", "status", str(accepted["id"]))


def count(stack: Stack) -> int:
    with stack.session() as s:
        return s.scalar(select(func.count()).select_from(Transaction)) or 0


def test_import_then_reimport_adds_nothing(stack: Stack, user: dict, tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_bytes(csv_bytes(500))
    first = import_file(stack, path)
    assert first["status"] == "completed"
    assert (first["processed"], first["imported"], first["skipped"], first["duplicates"]) == (500, 500, 0, 0)
    assert count(stack) == 500
    second = import_file(stack, path)
    assert (second["imported"], second["duplicates"]) == (0, 500)
    assert count(stack) == 500
    with stack.session() as s:  # the job read the bytes from the database, not the path
        assert s.scalar(select(func.count()).select_from(Upload)) == 2


def test_an_overlapping_later_export_adds_only_the_new_rows(stack: Stack, user: dict, tmp_path: Path) -> None:
    lines = csv_bytes(300).decode().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    (tmp_path / "jan.csv").write_text(header + "".join(rows[:200]))
    (tmp_path / "feb.csv").write_text(header + "".join(rows[150:]))
    assert import_file(stack, tmp_path / "jan.csv")["imported"] == 200
    feb = import_file(stack, tmp_path / "feb.csv")
    assert (feb["imported"], feb["duplicates"], feb["processed"]) == (100, 50, 150)
    assert count(stack) == 300


def test_identical_rows_in_one_file_are_separate_transactions(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    path = tmp_path / "coffee.csv"
    path.write_text(
        "Date,Description,Amount\n03/02/2026,Coffee,-3.50\n03/02/2026,Coffee,-3.50\n"
        "03/02/2026,COFFEE ,-3.50\nTotal,,-10.50\n"
    )
    first = import_file(stack, path)
    assert (first["imported"], first["skipped"], first["duplicates"]) == (3, 1, 0)
    assert first["errors"][0]["line"] == 5 and "total" in first["errors"][0]["reason"].lower()
    assert import_file(stack, path)["imported"] == 0
    assert count(stack) == 3


def test_identical_rows_in_different_chunks_get_successive_occurrences(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    # The loader works in chunks of CHUNK_ROWS and keeps counts only for recent dates: the coffee's date
    # is absent from the whole second chunk, so its counts are dropped and must come back from the
    # rows already loaded when the third chunk meets that date again.
    lines = [f"03/{i % 28 + 1:02d}/2026,Shop {i},-{i % 50 + 1}.00\n" for i in range(2 * CHUNK_ROWS + 100)]
    for at in (5, 6, CHUNK_ROWS * 2 + 5):
        lines[at] = "02/14/2026,Coffee,-3.50\n"
    lines[CHUNK_ROWS * 2 + 6] = "03/03/2026,Shop 2,-3.00\n"  # the same as row 2 (another date's count)
    path = tmp_path / "big.csv"
    path.write_text("Date,Description,Amount\n" + "".join(lines))
    first = import_file(stack, path)
    assert (first["imported"], first["duplicates"], first["skipped"]) == (len(lines), 0, 0)
    with stack.session() as s:
        coffee = s.scalars(
            select(Transaction.fingerprint)
            .where(Transaction.description == "Coffee")
            .order_by(Transaction.id)
        ).all()
        shop2 = s.scalars(
            select(Transaction.fingerprint)
            .where(Transaction.description == "Shop 2")
            .order_by(Transaction.id)
        ).all()
    assert [p.rsplit(":", 1)[1] for p in coffee] == ["0", "1", "2"]
    assert len({p.rsplit(":", 1)[0] for p in coffee}) == 1
    assert [p.rsplit(":", 1)[1] for p in shop2] == ["0", "1"]
    again = import_file(stack, path)
    assert (again["imported"], again["duplicates"]) == (0, len(lines))
    assert count(stack) == len(lines)


def test_a_shuffled_file_numbers_identical_rows_exactly_whatever_their_order(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    # In random order nearly every chunk meets dates whose counts were dropped (spilled to disk) and
    # must be loaded back; identical rows are interchangeable, so another order of the same rows
    # carries the same fingerprints and adds nothing.
    rng = random.Random(5)
    shops = [f"Shop {a}{b}" for a in "abcdefgh" for b in "wxyz"]
    lines = [
        f"03/{rng.randrange(1, 29):02d}/2026,{rng.choice(shops)},-{rng.randrange(1, 6)}.00\n"
        for _ in range(2 * CHUNK_ROWS + 500)
    ]
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    rng.shuffle(lines)
    first.write_text("Date,Description,Amount\n" + "".join(lines))
    rng.shuffle(lines)
    second.write_text("Date,Description,Amount\n" + "".join(lines))
    assert import_file(stack, first)["imported"] == len(lines)
    with stack.session() as s:
        prints = s.scalars(select(Transaction.fingerprint)).all()
    by_base: dict[str, list[int]] = {}
    for p in prints:
        base, n = p.rsplit(":", 1)
        by_base.setdefault(base, []).append(int(n))
    assert sorted(len(v) for v in by_base.values()) == sorted(Counter(lines).values())
    assert all(sorted(v) == list(range(len(v))) for v in by_base.values())
    again = import_file(stack, second)
    assert (again["imported"], again["duplicates"]) == (0, len(lines))


def test_accounting_identity_and_skipped_lines(stack: Stack, user: dict, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "Date,Description,Amount\n01/05/2026,Rent,-1200.00\npending,Shop,-5.00\n"
        "01/06/2026,Shop,abc\n01/07/2026,Pay,2500.00\n"
    )
    doc = import_file(stack, path)
    assert doc["imported"] + doc["skipped"] + doc["duplicates"] == doc["processed"] == 4
    assert [e["line"] for e in doc["errors"]] == [3, 4]


def test_a_bad_file_is_rejected_with_its_name_and_leaves_nothing(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\nthis,is\nnot,a statement\n")
    doc = import_file(stack, path)
    assert doc["status"] == "rejected"
    assert "notes.csv" in doc["error_message"]
    assert count(stack) == 0
    assert doc["job_status"] == "finished"  # bad input is not retried


def _items_then(error: BaseException, n: int):
    yield from range(n)
    raise error


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("no pickling")


@pytest.mark.parametrize(
    ("error", "raised", "text"),
    [
        (InputError("amount missing", source="a.csv", line=7), InputError, "a.csv line 7: amount missing"),
        (_Unpicklable("socket closed"), RuntimeError, "import parser: _Unpicklable: socket closed"),
    ],
)
def test_the_parser_process_hands_over_chunks_then_its_error(error, raised, text) -> None:
    parsed = ProducedInChild(batches(_items_then(error, 25), 10), summary=lambda: "unused")
    got: list[list[int]] = []
    with pytest.raises(raised) as caught:
        got.extend(parsed)
    assert str(caught.value) == text
    assert got == [list(range(10)), list(range(10, 20))] and parsed.summary is None


def test_the_parser_process_sends_what_it_counted_after_the_last_chunk() -> None:
    seen = []

    def counted():
        for i in range(25):
            seen.append(i)  # in the child's memory only: the summary carries it back
            yield i

    parsed = ProducedInChild(batches(counted(), 10), summary=lambda: len(seen))
    assert [len(c) for c in parsed] == [10, 10, 5]
    assert parsed.summary == 25 and seen == []


def test_a_line_too_long_for_a_statement_is_rejected_with_its_number_and_keeps_nothing(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    lines = csv_bytes(CHUNK_ROWS + 5000).decode().splitlines(keepends=True)
    bad_line = CHUNK_ROWS + 2000
    lines.insert(bad_line - 1, "01/05/2025,Shop," + "9" * (2 << 20) + "\r\n")
    path = tmp_path / "broken.csv"
    path.write_text("".join(lines))
    doc = import_file(stack, path)
    assert doc["status"] == "rejected"
    assert f"broken.csv line {bad_line}" in doc["error_message"] and "1 MiB" in doc["error_message"]
    assert doc["job_status"] == "finished"  # bad input: no retry
    assert count(stack) == 0


def test_a_failure_part_way_keeps_nothing_then_the_job_retries(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    rows = csv_bytes(2000).decode()
    # the last row's amount does not fit a 64-bit integer: the database refuses it after 2,000 good rows
    path = tmp_path / "overflow.csv"
    path.write_text(rows + "12/30/2025,Overflow,99999999999999999999.00,0\n")
    accepted = cli_json("import", "enqueue", str(path), "--user", "ana@example.com")
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    assert count(stack) == 0
    doc = cli_json("import", "status", str(accepted["id"]))
    assert doc["status"] == "running" and doc["attempts"] == 1
    assert fetch_job(stack.redis, accepted["job_id"]).get_status() == "scheduled"  # retry in 5 s


def test_undo_removes_exactly_that_imports_rows(stack: Stack, user: dict, tmp_path: Path) -> None:
    lines = csv_bytes(100).decode().splitlines(keepends=True)
    (tmp_path / "a.csv").write_text(lines[0] + "".join(lines[1:61]))
    (tmp_path / "b.csv").write_text(lines[0] + "".join(lines[41:]))
    a = import_file(stack, tmp_path / "a.csv")
    b = import_file(stack, tmp_path / "b.csv")
    assert (a["imported"], b["imported"], b["duplicates"]) == (60, 40, 20)
    assert cli_json("import", "undo", str(b["id"]))["removed"] == 40
    assert count(stack) == 60
    again = runner.invoke(app, ["import", "undo", str(b["id"])])
    assert again.exit_code == 1 and "undone" in again.stderr


def test_import_invalidates_the_users_caches(stack: Stack, user: dict, tmp_path: Path) -> None:
    stack.redis.set(f"budget_status:{user['id']}", "{}", ex=600)
    stack.redis.set(f"forecast:{user['id']}", "{}", ex=600)
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes(10))
    import_file(stack, path)
    assert not stack.redis.exists(f"budget_status:{user['id']}", f"forecast:{user['id']}")


def test_preview_json_writes_nothing(stack: Stack, user: dict, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes(5))
    doc = cli_json("import", "preview", str(path))
    assert doc["format"]["date_order"] == "MDY" and len(doc["rows"]) == 5
    assert doc["rows"][0] == {"date": "2025-01-01", "amount": "5200.00", "description": "ACME CORP PAYROLL"}
    assert count(stack) == 0


def test_unknown_options_are_refused_before_anything_is_stored(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes(5))
    result = runner.invoke(app, ["import", "enqueue", str(path), "--user", "1", "--account-type", "gold"])
    assert result.exit_code == 1 and "account type must be one of" in result.stderr
    with stack.session() as s:
        assert s.scalar(select(func.count()).select_from(CsvImportLog)) == 0


def test_an_account_name_with_quotes_is_stored_as_given_and_control_characters_are_refused(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(csv_bytes(30))
    name = "Joe's card'); DROP TABLE transactions; --"
    assert import_file(stack, path, "--account", name)["imported"] == 30
    with stack.session() as s:
        assert set(s.scalars(select(Transaction.account))) == {name}
    result = runner.invoke(app, ["import", "enqueue", str(path), "--user", "1", "--account", "a\x00b"])
    assert result.exit_code == 1 and "control characters" in result.stderr
    with stack.session() as s:
        assert s.scalar(select(func.count()).select_from(CsvImportLog)) == 1


def test_text_that_csv_and_copy_treat_specially_is_stored_exactly_as_read(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    awkward = ['say "hi", then go', "back\\slash \\N", "\\.", "two\nlines", "comma, and 'quote'", "tab\there"]
    path = tmp_path / "awkward.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Date", "Description", "Amount", "Category"])
        for i, text_ in enumerate(awkward):
            writer.writerow([f"2026-01-{i + 1:02d}", text_, f"-{i + 1}.00", text_ if i % 2 else ""])
    assert import_file(stack, path)["imported"] == len(awkward)
    with stack.session() as s:
        got = s.execute(
            select(Transaction.description, Category.name)
            .outerjoin(Category, Category.id == Transaction.category_id)
            .order_by(Transaction.date)
        ).all()
    want = [(" ".join(t.split()), t if i % 2 else None) for i, t in enumerate(awkward)]
    assert [tuple(row) for row in got] == want


# ------------------------------------------------------------------------------------------- API


def test_api_upload_202_then_status_completed(stack: Stack, user: dict) -> None:
    from finjobs.web import create_app

    client = create_app(stack.settings).test_client()
    auth = {"Authorization": f"Bearer {user['token']}"}
    import io

    resp = client.post(
        "/api/v1/imports",
        headers=auth,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(csv_bytes(120)), "statement.csv"), "account": "checking"},
    )
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "accepted" and resp.headers["Location"] == body["status_url"]
    simple_worker(stack.redis, ["csv-import"]).work(burst=True)
    status = client.get(body["status_url"], headers=auth).get_json()
    assert (status["status"], status["imported"], status["processed"]) == ("completed", 120, 120)
    listed = client.get("/api/v1/imports", headers=auth).get_json()["imports"]
    assert [i["id"] for i in listed] == [body["id"]]

    with stack.session() as s:
        other = create_user(s, "eve@example.com")
    eve = {"Authorization": f"Bearer {other.token}"}
    assert client.get(body["status_url"], headers=eve).status_code == 404
    assert client.get("/api/v1/imports", headers=eve).get_json() == {"imports": []}
    assert client.get(body["status_url"]).status_code == 401
    assert client.get(body["status_url"], headers={"Authorization": "Bearer nope"}).status_code == 401
    missing = client.post("/api/v1/imports", headers=auth, data={})
    assert missing.status_code == 422 and missing.get_json()["error"] == "invalid_input"


def test_api_refuses_an_oversized_upload(stack: Stack, user: dict) -> None:
    import io

    from finjobs.config import Settings
    from finjobs.web import create_app

    small = Settings.from_env({**stack.env, "FINJOBS_MAX_UPLOAD_BYTES": "1000"})
    client = create_app(small).test_client()
    resp = client.post(
        "/api/v1/imports",
        headers={"Authorization": f"Bearer {user['token']}"},
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(csv_bytes(200)), "big.csv")},
    )
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "request_entity_too_large"


# ------------------------------------------------------------------------ a killed work horse


def test_sigkill_mid_import_shows_no_partial_rows_and_the_retry_is_exact(
    pg_stack: Stack, start_worker, tmp_path: Path
) -> None:
    n = 200_000
    with pg_stack.session() as s:
        create_user(s, "big@example.com")
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(n))
    accepted = subprocess.run(
        finjobs_cmd("import", "enqueue", str(path), "--user", "big@example.com", "--json"),
        env=pg_stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    import_id = json.loads(accepted.stdout)["id"]

    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:  # a reader polling the table the whole time
        with get_engine(pg_stack.db_url).connect() as conn:
            while not stop.is_set():
                seen.append(conn.execute(text("SELECT count(*) FROM transactions")).scalar_one())
                conn.commit()
                time.sleep(0.05)

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    worker = start_worker("csv-import")  # SIGKILLed by the fixture at the end
    try:
        deadline = time.monotonic() + 120
        killed = False
        progress: list[tuple[int, int]] = []  # (csv_import_logs.processed, the job meta's) while running
        while time.monotonic() < deadline:
            with pg_stack.session() as s:
                row = s.get(CsvImportLog, import_id)
                assert row is not None
                status, processed = row.status, row.processed
            job = fetch_job(pg_stack.redis, f"import-{import_id}")
            live = (job.get_meta(refresh=True).get("progress") or {}) if job is not None else {}
            progress.append((processed, live.get("processed") or 0))
            if not killed and status == "running" and processed >= n // 3:
                # the work horse is the descendant that leads its own process group (RQ calls setsid
                # in it); the worker and its scheduler process stay in the pool's group
                horses = [
                    p
                    for p in psutil.Process(worker.pid).children(recursive=True)
                    if os.getpgid(p.pid) == p.pid
                ]
                assert horses, "no work horse found"
                for horse in horses:
                    os.kill(horse.pid, signal.SIGKILL)
                killed = True
            if status == "completed":
                break
            time.sleep(0.1)
        assert killed, "the import finished before it could be killed"
        # live progress, from the parser process, in both places while the transaction was still open
        assert any(0 < db < n for db, _ in progress) and any(0 < meta < n for _, meta in progress)
    finally:
        stop.set()
        reader.join(5)
    with pg_stack.session() as s:
        row = s.get(CsvImportLog, import_id)
        assert row is not None and row.status == "completed", (row.status, row.error_message)
        assert (row.imported, row.duplicates, row.attempts) == (n, 0, 2)
        total = s.scalar(select(func.count()).select_from(Transaction))
        distinct = s.scalar(select(func.count(func.distinct(Transaction.fingerprint))))
    assert total == distinct == n
    assert set(seen) <= {0, n}, sorted(set(seen))[:10]
    assert seen[0] == 0  # the reader saw the table before the import, then only 0 or all n


def test_a_saved_preset_imports_a_file_detection_alone_cannot(
    stack: Stack, user: dict, tmp_path: Path
) -> None:
    path = tmp_path / "sparkasse.csv"
    # headers detection does not know, and day-first dates that all fit month-first too
    path.write_text(
        "Tag;Text;Wert\n01.02.2026;Miete;-1.200,00\n03.02.2026;Gehalt;2.500,00\n", encoding="utf-8"
    )
    saved = cli_json(
        "import",
        "preset",
        "save",
        "sparkasse",
        "--user",
        "ana@example.com",
        "--map",
        "date=Tag,description=Text,amount=Wert",
        "--date-order",
        "DMY",
        "--decimal-sep",
        ",",
    )
    assert saved["source"] == "saved" and saved["columns"]["date"] == ["Tag"]
    listed = cli_json("import", "preset", "list", "--user", "ana@example.com")["presets"]
    assert listed[0]["name"] == "sparkasse" and any(p["source"] == "built-in" for p in listed)
    preview = cli_json("import", "preview", str(path), "--preset", "sparkasse", "--user", "ana@example.com")
    assert [(r["date"], r["amount"]) for r in preview["rows"]] == [
        ("2026-02-01", "-1200.00"),
        ("2026-02-03", "2500.00"),
    ]
    doc = import_file(stack, path, "--preset", "sparkasse")
    assert (doc["status"], doc["imported"]) == ("completed", 2)
    unknown = runner.invoke(
        app, ["import", "enqueue", str(path), "--user", "ana@example.com", "--preset", "nope"]
    )
    assert (
        unknown.exit_code == 1 and "unknown preset 'nope'" in unknown.stderr and "sparkasse" in unknown.stderr
    )
    assert cli_json("import", "preset", "delete", "sparkasse", "--user", "ana@example.com") == {
        "deleted": "sparkasse"
    }
    gone = runner.invoke(app, ["import", "preset", "delete", "sparkasse", "--user", "ana@example.com"])
    assert gone.exit_code == 1 and "no saved preset" in gone.stderr
