"""Rate limits shared through Redis by separate app instances (as separate web processes would be),
and the chat-session context store with its sliding TTL and single owner."""

from __future__ import annotations

import time

import pytest

from finjobs.config import Settings
from finjobs.services.users import create_user
from finjobs.web import create_app
from tests.conftest import Stack


@pytest.fixture
def tokens(stack: Stack) -> tuple[str, str]:
    with stack.session() as s:
        return create_user(s, "ana@example.com").token, create_user(s, "eve@example.com").token


def test_the_limit_is_shared_by_two_app_instances(stack: Stack, tokens: tuple[str, str]) -> None:
    settings = Settings.from_env({**stack.env, "FINJOBS_RATE_LIMIT_READS": "10/minute"})
    a, b = create_app(settings).test_client(), create_app(settings).test_client()
    auth = {"Authorization": f"Bearer {tokens[0]}"}
    codes = [(a if i % 2 else b).get("/api/v1/imports", headers=auth).status_code for i in range(30)]
    assert codes.count(200) == 10 and codes.count(429) == 20
    limited = a.get("/api/v1/imports", headers=auth)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["error"] == "too_many_requests"
    other = {"Authorization": f"Bearer {tokens[1]}"}
    assert a.get("/api/v1/imports", headers=other).status_code == 200  # per token
    assert a.get("/healthz").status_code == 200  # exempt


def test_uploads_have_their_own_stricter_budget(stack: Stack, tokens: tuple[str, str]) -> None:
    import io

    settings = Settings.from_env({**stack.env, "FINJOBS_RATE_LIMIT_UPLOADS": "2/minute"})
    client = create_app(settings).test_client()
    auth = {"Authorization": f"Bearer {tokens[0]}"}

    def upload() -> int:
        data = {"file": (io.BytesIO(b"Date,Description,Amount\n01/02/2026,x,-1.00\n"), "a.csv")}
        return client.post(
            "/api/v1/imports", headers=auth, data=data, content_type="multipart/form-data"
        ).status_code

    assert [upload() for _ in range(3)] == [202, 202, 429]
    assert client.get("/api/v1/imports", headers=auth).status_code == 200  # reads unaffected


def test_bad_rate_limit_setting_names_the_variable(stack: Stack) -> None:
    from finjobs.errors import ConfigError

    with pytest.raises(ConfigError, match="FINJOBS_RATE_LIMIT_READS"):
        Settings.from_env({**stack.env, "FINJOBS_RATE_LIMIT_READS": "lots"})


def test_chat_context_is_owned_and_slides(stack: Stack, tokens: tuple[str, str]) -> None:
    settings = Settings.from_env({**stack.env, "FINJOBS_CHAT_SESSION_TTL": "10"})
    client = create_app(settings).test_client()
    ana, eve = ({"Authorization": f"Bearer {t}"} for t in tokens)
    url = "/api/v1/chat-sessions/s-1/context"
    put = client.put(url, headers=ana, json={"topic": "groceries", "last_question": "how much in May?"})
    assert put.status_code == 200 and put.get_json()["context"]["topic"] == "groceries"
    assert client.get(url, headers=ana).get_json()["context"] == {
        "topic": "groceries",
        "last_question": "how much in May?",
    }
    for method in ("get", "delete"):
        assert getattr(client, method)(url, headers=eve).status_code == 404
    assert client.put(url, headers=eve, json={"x": "y"}).status_code == 404  # cannot take it over
    assert client.get(url).status_code == 401
    assert 0 < stack.redis.ttl("finjobs:chat:s-1") <= 10
    stack.redis.expire("finjobs:chat:s-1", 3)
    client.get(url, headers=ana)  # a read renews the TTL
    assert stack.redis.ttl("finjobs:chat:s-1") > 3
    stack.redis.expire("finjobs:chat:s-1", 1)
    time.sleep(1.5)
    assert client.get(url, headers=ana).status_code == 404  # expired sessions are gone
    assert client.put(url, headers=ana, json={"n": 1}).status_code == 422
    assert client.put("/api/v1/chat-sessions/bad:id/context", headers=ana, json={}).status_code in (404, 422)
    client.put(url, headers=ana, json={"a": "b"})
    assert client.delete(url, headers=ana).status_code == 204
    assert client.get(url, headers=ana).status_code == 404


def test_openapi_document_lists_every_route(stack: Stack) -> None:
    app = create_app(stack.settings)
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.rule.startswith(("/api/", "/healthz")):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    routes.discard(("/api/v1/openapi.json", "get"))
    assert routes <= documented, routes - documented
