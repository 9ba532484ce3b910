"""PUT /api/v1/transactions/<id>/category: re-categorise one of the caller's transactions; learnt, so
the next import of the same payee gets that category (services/categories.py, as the CLI)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from finjobs.errors import InputError
from finjobs.web.auth import db, redis, require_user, user_id
from finjobs.web.openapi import error_responses

bp = Blueprint("transactions", __name__)


@bp.put("/api/v1/transactions/<int:transaction_id>/category")
@require_user
def set_category(transaction_id: int) -> Any:
    from finjobs.services.categories import categorise
    from finjobs.services.imports import invalidate_user_caches

    body = request.get_json(silent=True) or {}
    category = body.get("category") if isinstance(body, dict) else None
    if not isinstance(category, str):
        raise InputError('send {"category": "<name>"}', source="category")
    with db() as s:
        doc = categorise(s, user_id(), transaction_id, category)
    invalidate_user_caches(redis(), user_id())
    return jsonify(doc)


OPENAPI = {
    "paths": {
        "/api/v1/transactions/{transaction_id}/category": {
            "put": {
                "summary": "Re-categorise a transaction (learnt for the next import of that payee)",
                "parameters": [
                    {"name": "transaction_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["category"],
                                "properties": {"category": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "The transaction's new category and the learnt pattern"},
                    **error_responses(400, 401, 404),
                },
            }
        }
    },
    "schemas": {},
}
