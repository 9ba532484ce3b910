"""`honcho start` with no environment: every Procfile process comes up on the embedded defaults,
the web answers /healthz on its $PORT, and SIGTERM stops them all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from finjobs.devservers import free_port
from finjobs.queue.embedded import stop_embedded

ROOT = Path(__file__).resolve().parents[2]


def test_honcho_start_runs_every_process_with_no_environment(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Procfile", tmp_path / "Procfile")
    bindir = str(Path(sys.executable).parent)
    keep = {"HOME", "LANG", "LC_ALL", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(PATH=f"{bindir}:/usr/bin:/bin", FINJOBS_STATE_DIR=str(tmp_path / "state"))
    base = free_port()
    honcho = subprocess.Popen(
        [f"{bindir}/honcho", "start", "-p", str(base)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        web_port = base + 100  # honcho gives each process type its own port: release=base, web=base+100
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and honcho.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/healthz", timeout=2) as resp:
                    health = json.load(resp)
                    break
            except OSError:
                time.sleep(0.5)
        assert health == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
        time.sleep(2)
        assert honcho.poll() is None, "a Procfile process exited and honcho stopped the rest"
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        out, _ = honcho.communicate(timeout=60)
        stop_embedded(tmp_path / "state")
    log = out.decode(errors="replace")
    for name in ("release.1", "web.1", "imports.1", "ocr.1", "batch.1", "scheduler.1"):
        assert f"{name} started" in log, log[-3000:]
    assert "database at revision" in log
    assert "Traceback" not in log, log[-3000:]
