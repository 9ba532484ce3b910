"""Heroku-style `rediss://` with a self-signed certificate: a real TLS redis-server, the CLI, and a
forked worker pool all connect with ssl_cert_reqs=none (rq issues 1468/1495), and verification is
still on by default."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib

from finjobs.devservers import free_port, redis_binary
from tests.conftest import Stack, finjobs_cmd


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[int]:
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a self-signed certificate")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--tls-cert-file",
            "cert.pem",
            "--tls-key-file",
            "key.pem",
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=none"
    for _ in range(100):
        try:
            redis_lib.Redis.from_url(url).ping()
            break
        except redis_lib.ConnectionError:
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


def test_rediss_with_a_self_signed_certificate(pg_stack: Stack, tls_redis: int) -> None:
    env = {
        **pg_stack.env,
        "REDIS_URL": f"rediss://127.0.0.1:{tls_redis}/0",
        "FINJOBS_REDIS_SSL_CERT_REQS": "none",
    }
    run = subprocess.run(
        finjobs_cmd("cleanup", "run", "--json"), env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    job_id = json.loads(run.stdout)["job_id"]
    worker = subprocess.run(
        finjobs_cmd("worker", "data-cleanup", "--burst"), env=env, capture_output=True, text=True, timeout=120
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    shown = subprocess.run(
        finjobs_cmd("jobs", "show", job_id, "--json"), env=env, capture_output=True, text=True, timeout=60
    )
    assert json.loads(shown.stdout)["status"] == "finished"

    strict = {**pg_stack.env, "REDIS_URL": f"rediss://127.0.0.1:{tls_redis}/0"}
    refused = subprocess.run(finjobs_cmd("status"), env=strict, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "REDIS_URL: cannot connect" in refused.stderr and "Traceback" not in refused.stderr
