"""Settings from the environment (12-factor). Only entrypoints call Settings.from_env().

Pure apart from reading the mapping it is given; no connections are made here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from finjobs.errors import ConfigError

_SSL_CERT_REQS = {"none", "optional", "required"}


def default_state_dir(environ: Mapping[str, str]) -> Path:
    """Where the embedded defaults live: $FINJOBS_STATE_DIR, else ./.finjobs (per project checkout)."""
    raw = environ.get("FINJOBS_STATE_DIR")
    return Path(raw).expanduser() if raw else Path.cwd() / ".finjobs"


def normalize_database_url(url: str) -> str:
    """Heroku-style URLs -> SQLAlchemy URLs using psycopg 3. Raises ConfigError naming DATABASE_URL."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or not rest:
        raise ConfigError(f"DATABASE_URL is not a URL: {url!r} (expected postgres://... or sqlite:///...)")
    scheme = scheme.lower()
    if scheme in {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}:
        parts = urlsplit("postgresql+psycopg://" + rest)
        if not parts.hostname and "host=" not in (parts.query or ""):
            raise ConfigError(f"DATABASE_URL has no host: {url!r}")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ConfigError(f"DATABASE_URL has an invalid port: {url!r}") from exc
        return "postgresql+psycopg://" + rest
    if scheme == "sqlite":
        return url
    raise ConfigError(
        f"DATABASE_URL scheme {scheme!r} is not supported (use postgres://, postgresql:// or sqlite:///)"
    )


def normalize_redis_url(url: str, ssl_cert_reqs: str | None = None) -> str:
    """Validate REDIS_URL; for rediss:// apply FINJOBS_REDIS_SSL_CERT_REQS unless the URL sets it."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix:// (got {url!r})")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL has an invalid port: {url!r}") from exc
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(f"REDIS_URL has no host: {url!r}")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "ssl_cert_reqs" in query and query["ssl_cert_reqs"] not in _SSL_CERT_REQS:
        raise ConfigError(f"REDIS_URL ssl_cert_reqs must be one of none, optional, required (got {url!r})")
    if parts.scheme == "rediss" and ssl_cert_reqs and "ssl_cert_reqs" not in query:
        query["ssl_cert_reqs"] = ssl_cert_reqs
        return urlunsplit(parts._replace(query=urlencode(query)))
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None  # None: the private embedded server in state_dir
    state_dir: Path
    port: int = 5000
    timezone: str = "UTC"
    max_upload_bytes: int = 50 * 1024 * 1024
    log_level: str = "INFO"
    # notifications: SMTP server (smtp://[user:pass@]host:port, smtps:// for TLS) and a signed webhook
    smtp_url: str | None = None
    mail_from: str = "finjobs@localhost"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # API rate limits per token and endpoint class, shared by every web process through Redis
    rate_limit_reads: str = "300/minute"
    rate_limit_uploads: str = "20/minute"
    chat_session_ttl: int = 30 * 60  # seconds; sliding: every read or write renews it
    shutdown_grace: int = 25  # seconds a running job gets after SIGTERM (Heroku sends SIGKILL at 30)
    locale: str = ""  # FINJOBS_LOCALE, e.g. en_GB: date order for CSVs whose dates fit both orders

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        state_dir = default_state_dir(env)
        db_raw = env.get("DATABASE_URL", "").strip()
        database_url = (
            normalize_database_url(db_raw) if db_raw else f"sqlite:///{state_dir / 'finjobs.sqlite3'}"
        )
        cert_reqs = env.get("FINJOBS_REDIS_SSL_CERT_REQS", "").strip().lower() or None
        if cert_reqs and cert_reqs not in _SSL_CERT_REQS:
            raise ConfigError(
                f"FINJOBS_REDIS_SSL_CERT_REQS must be one of none, optional, required (got {cert_reqs!r})"
            )
        redis_raw = env.get("REDIS_URL", "").strip()
        redis_url = normalize_redis_url(redis_raw, cert_reqs) if redis_raw else None
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            state_dir=state_dir,
            port=_int(env, "PORT", 5000, 1, 65535),
            timezone=_zone(env.get("FINJOBS_TIMEZONE", "UTC")),
            max_upload_bytes=_int(env, "FINJOBS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, 1, 2**40),
            log_level=_level(env.get("FINJOBS_LOG_LEVEL", "INFO")),
            smtp_url=_url(env, "FINJOBS_SMTP_URL", {"smtp", "smtps"}),
            mail_from=env.get("FINJOBS_MAIL_FROM", "").strip() or "finjobs@localhost",
            webhook_url=_url(env, "FINJOBS_WEBHOOK_URL", {"http", "https"}),
            webhook_secret=env.get("FINJOBS_WEBHOOK_SECRET", "").strip() or None,
            rate_limit_reads=_rate(env, "FINJOBS_RATE_LIMIT_READS", "300/minute"),
            rate_limit_uploads=_rate(env, "FINJOBS_RATE_LIMIT_UPLOADS", "20/minute"),
            chat_session_ttl=_int(env, "FINJOBS_CHAT_SESSION_TTL", 30 * 60, 10, 30 * 24 * 3600),
            shutdown_grace=_int(env, "FINJOBS_SHUTDOWN_GRACE", 25, 0, 3600),
            locale=env.get("FINJOBS_LOCALE", "").strip(),
        )


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer (got {raw!r})") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi} (got {value})")
    return value


def _url(env: Mapping[str, str], name: str, schemes: set[str]) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(f"{name} must be a {' or '.join(sorted(schemes))} URL with a host (got {raw!r})")
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError(f"{name} has an invalid port: {raw!r}") from None
    return raw


_RATE = re.compile(r"^\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day)s?$")


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not _RATE.match(raw.lower()):
        raise ConfigError(f"{name} must look like '300/minute' or '20 per 10 seconds' (got {raw!r})")
    return raw


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"FINJOBS_TIMEZONE is not a known time zone: {name!r}") from None
    return name


def _level(name: str) -> str:
    level = name.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"FINJOBS_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got {name!r})")
    return level
