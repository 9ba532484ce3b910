"""GET /metrics: the Prometheus exposition (finjobs.services.metrics.render), for an operator token or
FINJOBS_METRICS_TOKEN as a bearer token, or a signed-in console session. User tokens are refused."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from finjobs.web.auth import db, redis, settings

bp = Blueprint("metrics", __name__)


def _allowed() -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        expected = current_app.config.get("FINJOBS_METRICS_TOKEN")
        if expected and hmac.compare_digest(token.encode(), str(expected).encode()):
            return True
        from finjobs.services.operators import operator_for_token

        with db() as s:
            return operator_for_token(s, token) is not None
    from finjobs.web.console import _signed_in

    return _signed_in() is not None


@bp.get("/metrics")
def metrics() -> Any:
    from finjobs.services.metrics import render

    if not _allowed():
        resp = jsonify(error="unauthorized", message="an operator token or FINJOBS_METRICS_TOKEN is required")
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="finjobs-metrics"'
        return resp
    body, content_type = render(redis(), settings().database_url)
    return Response(body, content_type=content_type)


OPENAPI: dict[str, Any] = {}  # Prometheus text, not part of the JSON API
