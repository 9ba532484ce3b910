"""GET /api/v1/insights and POST /api/v1/insights/<id>/dismiss: the caller's insights only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from finjobs.web.auth import db, require_user, user_id
from finjobs.web.openapi import error_responses, json_response

bp = Blueprint("insights", __name__)


@bp.get("/api/v1/insights")
@require_user
def insights_list() -> Any:
    from finjobs.db.models import utcnow
    from finjobs.services.insights import list_insights

    with db() as s:
        rows = list_insights(s, user_id(), now=utcnow())
    return jsonify(insights=rows)


@bp.post("/api/v1/insights/<int:insight_id>/dismiss")
@require_user
def insights_dismiss(insight_id: int) -> Any:
    from finjobs.db.models import utcnow
    from finjobs.services.insights import dismiss_insight

    with db() as s:
        row = dismiss_insight(s, user_id(), insight_id, now=utcnow())
    return jsonify(row)


OPENAPI = {
    "paths": {
        "/api/v1/insights": {
            "get": {
                "summary": "The caller's insights, newest first (not dismissed, not expired; at most 100)",
                "responses": {
                    "200": json_response("Insights", "InsightList"),
                    **error_responses(401),
                },
            }
        },
        "/api/v1/insights/{insight_id}/dismiss": {
            "post": {
                "summary": "Hide one of the caller's insights (idempotent)",
                "parameters": [
                    {"name": "insight_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": json_response("The dismissed insight", "Insight"),
                    **error_responses(401, 404),
                },
            }
        },
    },
    "schemas": {
        "InsightList": {
            "type": "object",
            "required": ["insights"],
            "properties": {"insights": {"type": "array", "items": {"$ref": "#/components/schemas/Insight"}}},
        },
        "Insight": {
            "type": "object",
            "required": ["id", "type", "severity", "title", "message", "payload", "created_at"],
            "properties": {
                "id": {"type": "integer"},
                "type": {"type": "string"},
                "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                "title": {"type": "string"},
                "message": {"type": "string"},
                "payload": {"type": "object"},
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": ["string", "null"], "format": "date-time"},
                "dismissed_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
    },
}
