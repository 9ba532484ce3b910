"""GET /api/v1/forecasts: the caller's spending forecast and top-category forecasts, from the Redis cache
or else the forecast_results table (finjobs.services.forecasts.read_forecasts)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from finjobs.domain.recurring import CADENCES
from finjobs.web.auth import db, redis, require_user, user_id
from finjobs.web.openapi import error_responses

bp = Blueprint("forecasts", __name__)


@bp.get("/api/v1/forecasts")
@require_user
def forecasts() -> Any:
    from finjobs.services.forecasts import read_forecasts

    with db() as s:
        doc = read_forecasts(s, redis(), user_id())
    return jsonify(doc)


_MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "decimal amount in `currency`"}

OPENAPI = {
    "paths": {
        "/api/v1/forecasts": {
            "get": {
                "summary": "The caller's latest spending forecast and top-5 category forecasts",
                "description": (
                    "Always 200 for an authenticated caller: before the first forecast run `spending` is "
                    "null and `categories` empty. Each series is its latest stored run; `stale` is true "
                    "once its `valid_until` has passed (it is returned anyway). `source` says whether the "
                    "answer came from the cache or the database (the cache is dropped after an import). "
                    "A user with fewer than 60 distinct spending dates gets model `none`, `skip_reason` "
                    "`insufficient_history` and the reason in `reason`."
                ),
                "responses": {
                    "200": {
                        "description": "The caller's forecasts",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Forecasts"}}
                        },
                    },
                    **error_responses(401),
                },
            }
        }
    },
    "schemas": {
        "Forecasts": {
            "type": "object",
            "required": ["user_id", "source", "spending", "categories"],
            "properties": {
                "user_id": {"type": "integer"},
                "source": {"type": "string", "enum": ["cache", "table"]},
                "spending": {"oneOf": [{"$ref": "#/components/schemas/Forecast"}, {"type": "null"}]},
                "categories": {
                    "type": "array",
                    "description": "biggest predicted spend first",
                    "items": {"$ref": "#/components/schemas/Forecast"},
                },
            },
        },
        "Forecast": {
            "type": "object",
            "required": [
                "kind",
                "category",
                "model",
                "today",
                "currency",
                "skip_reason",
                "reason",
                "metrics",
                "daily",
                "months",
                "history_days",
                "distinct_dates",
                "computed_at",
                "valid_until",
                "stale",
            ],
            "properties": {
                "kind": {"type": "string", "enum": ["spending", "category"]},
                "category": {"type": ["string", "null"], "description": "null for total spending"},
                "model": {"type": "string", "enum": ["prophet", "seasonal_naive", "none"]},
                "today": {"type": "string", "format": "date", "description": "first forecast day"},
                "currency": {"type": "string"},
                "skip_reason": {"type": ["string", "null"], "enum": ["insufficient_history", None]},
                "reason": {"type": "string", "description": "why this model, or why no forecast"},
                "metrics": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["mae", "mase", "baseline_mae", "baseline_mase", "backtest_days"],
                            "properties": {
                                "mae": _MONEY,
                                "mase": {"type": ["number", "null"]},
                                "baseline_mae": _MONEY,
                                "baseline_mase": {"type": ["number", "null"]},
                                "backtest_days": {"type": "integer"},
                            },
                        },
                        {"type": "null"},
                    ]
                },
                "daily": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["date", "yhat", "lower", "upper"],
                        "properties": {
                            "date": {"type": "string", "format": "date"},
                            "yhat": _MONEY,
                            "lower": _MONEY,
                            "upper": _MONEY,
                        },
                    },
                },
                "months": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "month",
                            "expected",
                            "lower",
                            "upper",
                            "actual_to_date",
                            "predicted_days",
                        ],
                        "properties": {
                            "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                            "expected": _MONEY,
                            "lower": _MONEY,
                            "upper": _MONEY,
                            "actual_to_date": _MONEY,
                            "predicted_days": {"type": "integer"},
                            "scheduled": {**_MONEY, "description": "known bills due in the month (included)"},
                            "coverage": {
                                "type": "number",
                                "description": "lower..upper holds this share of simulated month totals",
                            },
                        },
                    },
                },
                "range_method": {"type": "string", "description": "how the month ranges are computed"},
                "scheduled": {
                    "type": "array",
                    "description": "known bills (detected recurring payments) on their expected dates",
                    "items": {
                        "type": "object",
                        "required": ["payee", "date", "amount", "cadence"],
                        "properties": {
                            "payee": {"type": "string"},
                            "date": {"type": "string", "format": "date"},
                            "amount": _MONEY,
                            "cadence": {"type": "string", "enum": list(CADENCES)},
                            "status": {
                                "type": "string",
                                "enum": ["due", "overdue", "paid"],
                                "description": "paid: posted today, not due again; overdue: past its date",
                            },
                            "days_late": {"type": "integer", "description": "days past the expected date"},
                        },
                    },
                },
                "history_days": {"type": "integer"},
                "distinct_dates": {"type": "integer"},
                "computed_at": {"type": "string", "format": "date-time"},
                "valid_until": {"type": "string", "format": "date-time"},
                "stale": {"type": "boolean"},
            },
        },
    },
}
