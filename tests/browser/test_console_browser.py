"""The console in a real headless Chromium (Debian's package, driven by Playwright) against a live
finjobs web server and a real `finjobs worker` process: sign in, see a failed job, replay it and
watch it finish, pause a queue and see a new job wait, resume it; a read-only operator's replay and a
user's token are refused. Screenshots of the main pages go to .finjobs/screenshots/ (printed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from finjobs.queue.enqueue import enqueue
from finjobs.services.queues import show_job
from finjobs.web import create_app
from tests.conftest import ROOT, Stack, wait_until

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SHOTS = ROOT / ".finjobs" / "screenshots"

pytestmark = pytest.mark.slow


@pytest.fixture
def live_server(pg_stack: Stack) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, create_app(pg_stack.settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser() -> Iterator[Any]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: ./scripts/test installs it"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield b
        b.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def sign_in(browser: Any, base: str, token: str) -> Any:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{base}/console/login")
    page.fill("input[name=token]", token)
    page.click("#sign-in")
    return page


def test_console_in_chromium(
    pg_stack: Stack,
    live_server: str,
    browser: Any,
    start_worker: Callable[..., Any],
    tmp_path: Path,
) -> None:
    from finjobs.services.operators import create_operator
    from finjobs.services.users import create_user

    with pg_stack.session() as s:
        ops = create_operator(s, "alice").token
        viewer = create_operator(s, "victor", read_only=True).token
        user = create_user(s, "ana@example.com").token
    redis = pg_stack.redis
    start_worker("csv-import")
    flaky = enqueue(redis, "csv-import", "tests.support.jobs.fails_until", str(tmp_path / "flaky"), 2,
                    job_id="flaky-1", retry_intervals=())  # fmt: skip
    stuck = enqueue(redis, "csv-import", "tests.support.jobs.always_fails", str(tmp_path / "stuck"),
                    job_id="stuck-1", retry_intervals=())  # fmt: skip
    for job in (flaky, stuck):
        wait_until(lambda j=job: show_job(redis, j.id)["status"] == "failed", 30, f"{job.id} to fail")

    # sign in and see the failed jobs
    page = sign_in(browser, live_server, ops)
    page.wait_for_selector("table#queues")
    row = page.locator('tr[data-queue="csv-import"]')
    assert row.locator(".failed-count").inner_text() == "2"
    shot(page, "01-overview")
    row.locator("a").first.click()
    page.wait_for_selector('tr[data-job="flaky-1"]')
    assert "not yet" in page.locator('tr[data-job="flaky-1"]').inner_text()
    shot(page, "02-queue-failed")

    # replay through the UI and watch it finish (the page refreshes itself)
    page.click('tr[data-job="flaky-1"] a')
    assert "RuntimeError: not yet" in page.locator("pre").inner_text()
    shot(page, "03-job-failed")
    page.click("#replay")
    page.wait_for_function("document.getElementById('job-status').textContent === 'finished'", timeout=30_000)
    shot(page, "04-job-finished")

    # pause: a new job waits; resume: it runs
    page.goto(f"{live_server}/console/")
    page.click('tr[data-queue="csv-import"] button.pause')
    page.wait_for_selector('tr[data-queue="csv-import"] .paused')
    held = enqueue(redis, "csv-import", "tests.support.jobs.echo", "held", retry_intervals=())
    time.sleep(7)  # longer than a worker's blocking dequeue (5 s): it would have taken the job by now
    assert show_job(redis, held.id)["status"] == "queued"
    page.wait_for_function(
        "document.querySelector('tr[data-queue=\"csv-import\"] .waiting-count').textContent === '1'"
    )
    shot(page, "05-paused-job-waits")
    page.click('tr[data-queue="csv-import"] button.resume')
    wait_until(lambda: show_job(redis, held.id)["status"] == "finished", 30, "the held job to run")
    page.wait_for_function(
        "document.querySelector('tr[data-queue=\"csv-import\"] .waiting-count').textContent === '0'"
    )
    audit = page.locator("table#audit").inner_text()
    assert "queue.pause" in audit and "queue.resume" in audit and "job.replay" in audit
    shot(page, "06-resumed-audit")

    # a read-only operator sees the failed job but its replay is refused
    ro = sign_in(browser, live_server, viewer)
    ro.goto(f"{live_server}/console/jobs/stuck-1")
    ro.click("#replay")
    assert "403" in ro.locator("#error").inner_text()
    shot(ro, "07-read-only-refused")
    assert show_job(redis, "stuck-1")["status"] == "failed"

    # a user's API token never opens the console
    refused = sign_in(browser, live_server, user)
    assert "not an operator token" in refused.content()
    refused.goto(f"{live_server}/console/")
    assert refused.url.startswith(f"{live_server}/console/login")
    shot(refused, "08-user-token-refused")
