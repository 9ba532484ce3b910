"""Receipt API: POST /api/v1/receipts (multipart `file`, 202 + status URL), GET /api/v1/receipts/<id>
and GET /api/v1/receipts (the caller's recent ones). Calls finjobs.services.receipts only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for

from finjobs.errors import InputError
from finjobs.web import auth
from finjobs.web.limits import uploads
from finjobs.web.openapi import error_responses, json_response

bp = Blueprint("receipts", __name__)


@bp.post("/api/v1/receipts")
@uploads
@auth.require_user
def upload_receipt() -> Any:
    from finjobs.services.receipts import accept_receipt

    file = request.files.get("file")
    if file is None:
        raise InputError("send the photo as multipart/form-data field 'file'", source="file")
    # Read one byte past the limit at most: the service reports the size error, nothing big is buffered.
    from finjobs.services.receipts import upload_limit

    data = file.stream.read(upload_limit(auth.settings()) + 1)
    with auth.db() as s:
        receipt = accept_receipt(
            s,
            auth.redis(),
            auth.user_id(),
            file.filename or "receipt",
            data,
            file.mimetype,
            settings=auth.settings(),
        )
    status_url = url_for("receipts.receipt_status", receipt_id=receipt.id)
    resp = jsonify(id=receipt.id, status=receipt.status, status_url=status_url)
    resp.status_code = 202
    resp.headers["Location"] = status_url
    return resp


@bp.get("/api/v1/receipts/<int:receipt_id>")
@auth.require_user
def receipt_status(receipt_id: int) -> Any:
    from finjobs.services.receipts import get_receipt

    with auth.db() as s:
        return jsonify(get_receipt(s, auth.user_id(), receipt_id))


@bp.get("/api/v1/receipts")
@auth.require_user
def recent_receipts() -> Any:
    from finjobs.services.receipts import RECENT_LIMIT, list_receipts

    raw = request.args.get("limit", str(RECENT_LIMIT))
    if not raw.isdigit():
        raise InputError(f"limit must be a whole number (got {raw!r})", source="limit")
    with auth.db() as s:
        return jsonify(receipts=list_receipts(s, auth.user_id(), limit=int(raw)))


OPENAPI = {
    "paths": {
        "/api/v1/receipts": {
            "post": {
                "summary": "Upload a receipt photo; it is scanned on the ocr-processing queue",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "202": {
                        **json_response("Stored and queued for scanning", "ReceiptAccepted"),
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **error_responses(401, 413, 415, 422),
                },
            },
            "get": {
                "summary": "The caller's most recent receipts, newest first",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    }
                ],
                "responses": {
                    "200": json_response("Recent receipts", "ReceiptList"),
                    **error_responses(401, 422),
                },
            },
        },
        "/api/v1/receipts/{receipt_id}": {
            "get": {
                "summary": "A receipt's scan status and fields (another user's receipt answers 404)",
                "parameters": [
                    {"name": "receipt_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": json_response("The receipt", "Receipt"),
                    **error_responses(401, 404),
                },
            }
        },
    },
    "schemas": {
        "ReceiptAccepted": {
            "type": "object",
            "required": ["id", "status", "status_url"],
            "properties": {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": ["accepted"]},
                "status_url": {"type": "string"},
            },
        },
        "Receipt": {
            "type": "object",
            "required": [
                "id",
                "status",
                "merchant",
                "date",
                "total",
                "currency",
                "transaction_id",
                "matched",
                "error",
            ],
            "properties": {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": ["accepted", "running", "completed", "failed"]},
                "merchant": {"type": ["string", "null"]},
                "date": {"type": ["string", "null"], "format": "date"},
                "total": {"type": ["string", "null"], "description": "decimal string, e.g. '12.34'"},
                "currency": {"type": ["string", "null"]},
                "transaction_id": {
                    "type": ["integer", "null"],
                    "description": "the matched transaction, or the pending one the scan added",
                },
                "matched": {
                    "type": "boolean",
                    "description": "true: linked to a transaction that already existed",
                },
                "error": {"type": ["string", "null"], "description": "why a failed scan failed"},
            },
        },
        "ReceiptList": {
            "type": "object",
            "required": ["receipts"],
            "properties": {
                "receipts": {"type": "array", "items": {"$ref": "#/components/schemas/Receipt"}},
            },
        },
    },
}
