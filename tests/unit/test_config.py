"""Settings.from_env: Heroku-style URLs, embedded defaults, and one clear line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from finjobs.config import Settings, normalize_database_url, normalize_redis_url
from finjobs.errors import ConfigError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example:5432/app", "postgresql+psycopg://u:p@db.example:5432/app"),
        ("postgresql://u:p@db.example/app", "postgresql+psycopg://u:p@db.example/app"),
        ("postgresql+psycopg://u@h/app", "postgresql+psycopg://u@h/app"),
        ("postgresql+psycopg2://u@h/app", "postgresql+psycopg://u@h/app"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_database_urls_become_psycopg3(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("not a url", "DATABASE_URL is not a URL"),
        ("mysql://u@h/db", "DATABASE_URL scheme 'mysql' is not supported"),
        ("postgres://u@h:notaport/db", "DATABASE_URL has an invalid port"),
        ("postgres:///db", "DATABASE_URL has no host"),
    ],
)
def test_bad_database_url_names_the_variable(given: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        normalize_database_url(given)


def test_rediss_gets_cert_reqs_from_setting_unless_url_has_it() -> None:
    assert normalize_redis_url("rediss://:pw@h:6380", "none") == "rediss://:pw@h:6380?ssl_cert_reqs=none"
    kept = normalize_redis_url("rediss://h:6380?ssl_cert_reqs=required", "none")
    assert kept == "rediss://h:6380?ssl_cert_reqs=required"
    assert normalize_redis_url("redis://h:6379/0", "none") == "redis://h:6379/0"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"REDIS_URL": "http://h"}, "REDIS_URL must start with"),
        ({"REDIS_URL": "redis://h:99999999"}, "REDIS_URL has an invalid port"),
        ({"REDIS_URL": "rediss://h?ssl_cert_reqs=maybe"}, "ssl_cert_reqs must be one of"),
        ({"FINJOBS_REDIS_SSL_CERT_REQS": "sometimes"}, "FINJOBS_REDIS_SSL_CERT_REQS must be one of"),
        ({"PORT": "eighty"}, "PORT must be an integer"),
        ({"PORT": "70000"}, "PORT must be between"),
        ({"FINJOBS_TIMEZONE": "Mars/Olympus"}, "FINJOBS_TIMEZONE is not a known time zone"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        Settings.from_env(env)
    assert "\n" not in str(info.value)


def test_embedded_defaults(tmp_path: Path) -> None:
    s = Settings.from_env({"FINJOBS_STATE_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'finjobs.sqlite3'}"
    assert s.redis_url is None
    assert s.port == 5000 and s.timezone == "UTC"


def test_heroku_environment() -> None:
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgres://u:p@ec2.example:5432/d1",
            "REDIS_URL": "rediss://:pw@ec2.example:6380",
            "FINJOBS_REDIS_SSL_CERT_REQS": "none",
            "PORT": "31337",
            "FINJOBS_TIMEZONE": "Europe/Amsterdam",
        }
    )
    assert s.database_url.startswith("postgresql+psycopg://")
    assert s.redis_url == "rediss://:pw@ec2.example:6380?ssl_cert_reqs=none"
    assert s.port == 31337
    assert s.tz.key == "Europe/Amsterdam"
