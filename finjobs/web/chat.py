"""Chat-session context API: PUT/GET/DELETE /api/v1/chat-sessions/<id>/context (sliding TTL)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from finjobs.web.auth import redis, require_user, settings, user_id
from finjobs.web.openapi import error_responses

bp = Blueprint("chat", __name__)
PATH = "/api/v1/chat-sessions/<session_id>/context"


@bp.put(PATH)
@require_user
def put(session_id: str) -> Any:
    from finjobs.services.chat import put_context

    body = request.get_json(silent=True)
    context = put_context(redis(), session_id, user_id(), body, ttl=settings().chat_session_ttl)
    return jsonify(session_id=session_id, context=context, ttl=settings().chat_session_ttl)


@bp.get(PATH)
@require_user
def get(session_id: str) -> Any:
    from finjobs.services.chat import get_context

    context = get_context(redis(), session_id, user_id(), ttl=settings().chat_session_ttl)
    return jsonify(session_id=session_id, context=context, ttl=settings().chat_session_ttl)


@bp.delete(PATH)
@require_user
def delete(session_id: str) -> Any:
    from finjobs.services.chat import delete_context

    delete_context(redis(), session_id, user_id())
    return "", 204


_PARAM = [
    {
        "name": "session_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    }
]
_BODY = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatContext"}}}}
OPENAPI = {
    "paths": {
        "/api/v1/chat-sessions/{session_id}/context": {
            "put": {
                "summary": "Replace the session's context (creates it; renews its TTL)",
                "parameters": _PARAM,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "maxProperties": 100,
                                "propertyNames": {
                                    "minLength": 1,
                                    "maxLength": 200,
                                    "not": {"const": "__owner"},
                                },
                                "additionalProperties": {"type": "string", "maxLength": 8192},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "Stored", **_BODY},
                    **error_responses(401, 404, 422, 429),
                },
            },
            "get": {
                "summary": "The session's context (renews its TTL)",
                "parameters": _PARAM,
                "responses": {
                    "200": {"description": "Context", **_BODY},
                    **error_responses(401, 404, 422, 429),
                },
            },
            "delete": {
                "summary": "End the session",
                "parameters": _PARAM,
                "responses": {"204": {"description": "Deleted"}, **error_responses(401, 404, 422, 429)},
            },
        }
    },
    "schemas": {
        "ChatContext": {
            "type": "object",
            "required": ["session_id", "context", "ttl"],
            "properties": {
                "session_id": {"type": "string"},
                "ttl": {"type": "integer"},
                "context": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    },
}
