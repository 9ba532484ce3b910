"""GET /healthz: the only unauthenticated endpoint; checks the database and Redis."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    from finjobs.db.engine import get_engine
    from finjobs.queue.connection import connect_redis

    settings = current_app.config["FINJOBS_SETTINGS"]
    checks: dict[str, str] = {}
    try:
        with get_engine(settings.database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports, it does not crash
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        connect_redis(settings)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks), 200 if ok else 503


OPENAPI = {
    "paths": {
        "/healthz": {
            "get": {
                "summary": "Database and Redis reachability (no auth)",
                "security": [],
                "responses": {
                    code: {
                        "description": text,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                    }
                    for code, text in (("200", "All dependencies reachable"), ("503", "A dependency is down"))
                },
            }
        }
    },
    "schemas": {
        "Health": {
            "type": "object",
            "required": ["status", "checks"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "degraded"]},
                "checks": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
