"""GET /api/v1/recurring: the caller's subscriptions, bills and paydays (finjobs.services.recurring)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from finjobs.domain.recurring import CADENCES
from finjobs.web.auth import db, require_user, user_id
from finjobs.web.openapi import error_responses

bp = Blueprint("recurring", __name__)


@bp.get("/api/v1/recurring")
@require_user
def recurring() -> Any:
    from finjobs.db.models import utcnow
    from finjobs.services.recurring import recurring_list

    with db() as s:
        doc = recurring_list(s, user_id(), today=utcnow().date())
    return jsonify(doc)


_MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "decimal amount in `currency`"}
_DATE = {"type": "string", "format": "date"}

OPENAPI = {
    "paths": {
        "/api/v1/recurring": {
            "get": {
                "summary": "The caller's subscriptions, bills and paydays",
                "responses": {
                    "200": {
                        "description": "detected recurring series, next expected first",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Recurring"}}
                        },
                    },
                    **error_responses(401),
                },
            }
        }
    },
    "schemas": {
        "Recurring": {
            "type": "object",
            "required": ["user_id", "today", "currency", "series"],
            "properties": {
                "user_id": {"type": "integer"},
                "today": _DATE,
                "currency": {"type": "string"},
                "series": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "payee",
                            "direction",
                            "cadence",
                            "typical_amount",
                            "last_date",
                            "next_expected_date",
                            "price_changed",
                            "overdue",
                        ],
                        "properties": {
                            "payee": {"type": "string"},
                            "direction": {"type": "string", "enum": ["in", "out"]},
                            "cadence": {"type": "string", "enum": list(CADENCES)},
                            "typical_amount": _MONEY,
                            "currency": {"type": "string"},
                            "first_date": {"type": ["string", "null"], "format": "date"},
                            "last_date": _DATE,
                            "next_expected_date": _DATE,
                            "occurrences": {"type": "integer"},
                            "price_changed": {"type": "boolean"},
                            "previous_amount": {"oneOf": [_MONEY, {"type": "null"}]},
                            "changed_on": {"type": ["string", "null"], "format": "date"},
                            "overdue": {"type": "boolean"},
                            "days_overdue": {"type": "integer"},
                        },
                    },
                },
            },
        }
    },
}
