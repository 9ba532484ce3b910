"""The operator's console at /console: server-rendered pages over finjobs.services.console, signed in
with an operator token (never a user's), a session cookie, CSRF on every action, read-only operators
refused (403), and every action in the audit log."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, abort, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from finjobs.queue.keys import STATE_PREFIX
from finjobs.services.operators import OperatorInfo
from finjobs.web.auth import db, redis

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)
F = TypeVar("F", bound=Callable[..., Any])
SECRET_KEY = STATE_PREFIX + "console:session-secret"


class RedisSecretSessions(SecureCookieSessionInterface):
    """Session cookies signed with a secret kept in Redis: every web process and host shares it and it
    survives restarts without a new setting. Created once (SET NX) by whichever process needs it first."""

    def get_signing_serializer(self, app: Flask) -> Any:
        secret = app.extensions.get("finjobs_console_secret")
        if secret is None:
            try:
                conn = redis()  # opened inside the request's app context
                conn.set(SECRET_KEY, secrets.token_urlsafe(48), nx=True)
                raw = conn.get(SECRET_KEY)
            except Exception:  # Redis down: no session (every console page then asks to sign in)
                return None
            secret = app.extensions["finjobs_console_secret"] = (
                raw.decode() if isinstance(raw, bytes) else raw
            )
        app.secret_key = secret
        return super().get_signing_serializer(app)


@bp.record_once
def _install(state: Any) -> None:
    app = state.app
    app.session_interface = RedisSecretSessions()
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=12))


def operator() -> OperatorInfo:
    return cast(OperatorInfo, g.operator)


def _signed_in() -> OperatorInfo | None:
    from finjobs.services.operators import get_operator

    op_id = session.get("operator_id")
    if not isinstance(op_id, int):
        return None
    with db() as s:
        return get_operator(s, op_id)  # a deleted operator's cookie stops working at once


def require_operator(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        op = _signed_in()
        if op is None:
            return redirect(url_for("console.login", next=request.path))
        g.operator = op
        return view(*args, **kwargs)

    return cast(F, wrapper)


def action(view: F) -> F:
    """A POST that changes something: signed in, a valid CSRF token, and not read-only."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        op = _signed_in()
        if op is None:
            abort(401, "sign in to the console first")
        g.operator = op
        sent = request.form.get("csrf", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, "missing or stale CSRF token: reload the page")
        if op.read_only:
            abort(403, f"operator {op.name} is read-only")
        return view(*args, **kwargs)

    return cast(F, wrapper)


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": _csrf_token, "current_operator": lambda: g.get("operator")}


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return cast(str, session["csrf"])


@bp.get("/login")
def login() -> Any:
    return render_template("console/login.html", error=None, next=request.args.get("next", ""))


@bp.post("/login")
def login_post() -> Any:
    from finjobs.services.operators import operator_for_token, record

    token = request.form.get("token", "").strip()
    with db() as s:
        op = operator_for_token(s, token)
        if op is None:
            # a user's API token is no operator token: same answer as a wrong one
            return render_template("console/login.html", error="not an operator token", next=""), 403
        record(s, op.name, "console.sign-in", request.remote_addr or "")
    session.clear()
    session["operator_id"] = op.id
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/console") else url_for("console.overview"))


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("console.login"))


from finjobs.web.console import views as _views  # noqa: E402,F401  (routes register on bp)

OPENAPI: dict[str, Any] = {}  # HTML pages, not part of the JSON API
