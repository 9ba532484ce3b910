"""Imports API: POST /api/v1/imports (multipart upload -> 202), GET /api/v1/imports[/<id>/status]."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for

from finjobs.errors import InputError
from finjobs.web.auth import db, redis, require_user, settings, user_id
from finjobs.web.limits import uploads
from finjobs.web.openapi import error_responses, json_response

bp = Blueprint("imports", __name__)


@bp.post("/api/v1/imports")
@uploads
@require_user
def create_import() -> Any:
    from finjobs.services.imports import accept_import, enqueue_import

    upload = request.files.get("file")
    if upload is None:
        raise InputError("send the CSV as a multipart form field named 'file'", source="file")
    data = upload.read(settings().max_upload_bytes + 1)
    options = {k: request.form.get(k) for k in ("preset", "account_type", "column_map", "currency", "locale")}
    with db() as s:
        log = accept_import(
            s,
            user_id(),
            upload.filename or "upload.csv",
            data,
            settings=settings(),
            account=request.form.get("account") or "default",
            options=options,
        )
        import_id = log.id
    # Committed before enqueueing: if Redis is down now, `finjobs reconcile` enqueues it later.
    enqueue_import(redis(), import_id)
    status_url = url_for("imports.import_status", import_id=import_id)
    body = {"id": import_id, "status": "accepted", "status_url": status_url}
    return jsonify(body), 202, {"Location": status_url}


@bp.get("/api/v1/imports/<int:import_id>/status")
@require_user
def import_status(import_id: int) -> Any:
    from finjobs.services.imports import import_status as read

    with db() as s:
        return jsonify(read(s, redis(), import_id, user_id=user_id()))


@bp.get("/api/v1/imports")
@require_user
def list_imports() -> Any:
    from finjobs.services.imports import list_imports as read

    limit = min(max(request.args.get("limit", 20, type=int) or 20, 1), 100)
    with db() as s:
        return jsonify(imports=read(s, user_id(), limit=limit))


_IMPORT = {
    "type": "object",
    "required": [
        "id",
        "status",
        "filename",
        "account",
        "processed",
        "imported",
        "skipped",
        "duplicates",
        "errors",
        "attempts",
        "job_id",
        "created_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "status": {
            "type": "string",
            "enum": ["accepted", "running", "completed", "rejected", "failed", "undone"],
        },
        "filename": {"type": "string"},
        "account": {"type": "string"},
        "total": {"type": ["integer", "null"]},
        "processed": {"type": "integer"},
        "imported": {"type": "integer"},
        "skipped": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"line": {"type": ["integer", "null"]}, "reason": {"type": "string"}},
            },
        },
        "categorised": {
            "type": ["object", "null"],
            "description": "rows categorised by a rule, by the file's Category column, by a learnt payee",
            "properties": {k: {"type": "integer"} for k in ("rule", "file", "learnt", "starter")},
        },
        "error_message": {"type": ["string", "null"]},
        "attempts": {"type": "integer"},
        "job_id": {"type": "string"},
        "job_status": {"type": ["string", "null"]},
        "created_at": {"type": "string"},
        "started_at": {"type": ["string", "null"]},
        "finished_at": {"type": ["string", "null"]},
    },
}


OPENAPI = {
    "paths": {
        "/api/v1/imports": {
            "post": {
                "summary": "Upload a bank CSV; it is stored, then imported in the background",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "account": {"type": "string"},
                                    "preset": {"type": "string"},
                                    "account_type": {
                                        "type": "string",
                                        "enum": ["checking", "savings", "credit"],
                                    },
                                    "column_map": {
                                        "type": "string",
                                        "description": "e.g. date=Buchungstag,amount=Betrag",
                                    },
                                    "currency": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": json_response("Accepted", "ImportAccepted"),
                    **error_responses(400, 401, 413, 422, 429),
                },
            },
            "get": {
                "summary": "The caller's recent imports, newest first",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    }
                ],
                "responses": {
                    "200": json_response("Imports", "ImportList"),
                    **error_responses(401, 429),
                },
            },
        },
        "/api/v1/imports/{import_id}/status": {
            "get": {
                "summary": "An import's status and counts (live while it runs)",
                "parameters": [
                    {"name": "import_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": json_response("Status", "Import"),
                    **error_responses(401, 404, 429),
                },
            }
        },
    },
    "schemas": {
        "Import": _IMPORT,
        "ImportList": {
            "type": "object",
            "required": ["imports"],
            "properties": {"imports": {"type": "array", "items": {"$ref": "#/components/schemas/Import"}}},
        },
        "ImportAccepted": {
            "type": "object",
            "required": ["id", "status", "status_url"],
            "properties": {
                "id": {"type": "integer"},
                "status": {"type": "string"},
                "status_url": {"type": "string"},
            },
        },
    },
}
