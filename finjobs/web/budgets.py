"""GET /api/v1/budgets/status: the caller's budgets in force today (the service CLI `budgets status` uses)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, jsonify

from finjobs.web.auth import db, redis, require_user, settings, user_id
from finjobs.web.openapi import error_responses

bp = Blueprint("budgets", __name__)


@bp.get("/api/v1/budgets/status")
@require_user
def budgets_status() -> Any:
    from finjobs.services.budgets import budget_statuses

    today = dt.datetime.now(settings().tz).date()
    with db() as s:
        rows = budget_statuses(s, redis(), user_id(), today=today)
    return jsonify(today=today.isoformat(), budgets=rows)


_MONEY = {"type": "string", "description": "decimal string in major units, e.g. '412.50'"}

OPENAPI = {
    "paths": {
        "/api/v1/budgets/status": {
            "get": {
                "summary": "The caller's budgets in force today: spent, remaining, state (cached 15 min)",
                "responses": {
                    "200": {
                        "description": "Budget status",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/BudgetStatusList"}}
                        },
                    },
                    **error_responses(401),
                },
            }
        }
    },
    "schemas": {
        "BudgetStatusList": {
            "type": "object",
            "required": ["today", "budgets"],
            "properties": {
                "today": {"type": "string", "format": "date"},
                "budgets": {"type": "array", "items": {"$ref": "#/components/schemas/BudgetStatus"}},
            },
        },
        "BudgetStatus": {
            "type": "object",
            "required": ["budget_id", "currency", "amount", "spent", "remaining", "state", "days_left"],
            "properties": {
                "budget_id": {"type": "integer"},
                "category_id": {"type": ["integer", "null"]},
                "category": {"type": ["string", "null"], "description": "null: all spending"},
                "currency": {"type": "string"},
                "amount": _MONEY,
                "spent": _MONEY,
                "remaining": _MONEY,
                "percent": {"type": ["string", "null"], "description": "spent/amount x 100, one decimal"},
                "start_date": {"type": "string", "format": "date"},
                "end_date": {"type": "string", "format": "date"},
                "days_elapsed": {"type": "integer"},
                "days_left": {"type": "integer"},
                "total_days": {"type": "integer"},
                "in_force": {"type": "boolean"},
                "state": {"type": "string", "enum": ["ok", "warning", "exceeded"]},
                "alert_threshold_pct": {"type": "integer"},
            },
        },
    },
}
