"""The Flask app factory and /healthz on real servers."""

from __future__ import annotations

from finjobs.config import Settings
from finjobs.web import create_app
from tests.conftest import Stack


def test_healthz_reports_database_and_redis(stack: Stack) -> None:
    client = create_app(stack.settings).test_client()
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_is_503_when_redis_is_down(stack: Stack) -> None:
    broken = Settings.from_env({**stack.env, "REDIS_URL": "redis://127.0.0.1:1/0"})
    resp = create_app(broken).test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["redis"].startswith("error")
