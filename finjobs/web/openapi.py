"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, assembled from each blueprint module's OPENAPI
fragment ({"paths": {...}, "schemas": {...}}) so a route and its description live side by side."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from flask import Blueprint, jsonify

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def json_response(description: str, schema: str) -> dict[str, Any]:
    """An OpenAPI response whose JSON body is the named component schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def error_responses(*codes: int) -> dict[str, Any]:
    text = {400: "Bad request", 401: "Missing or invalid token", 404: "Not found (or not yours)",
            413: "Upload too large", 415: "Unsupported upload type", 422: "Invalid input",
            429: "Rate limited"}  # fmt: skip
    return {
        str(c): {"description": text.get(c, "Error"),
                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for c in codes
    }  # fmt: skip


def build_document(modules: list[ModuleType]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for module in modules:
        fragment = getattr(module, "OPENAPI", None) or {}
        paths.update(fragment.get("paths", {}))
        schemas.update(fragment.get("schemas", {}))
    # Every authenticated operation can answer 401 (no/bad token) and 429 (rate limited): say so once.
    for operations in paths.values():
        for operation in operations.values():
            if operation.get("security") != []:
                for code, response in error_responses(401, 429).items():
                    operation["responses"].setdefault(code, response)
    return {
        "openapi": "3.1.0",
        "info": {"title": "finjobs status API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def blueprint(modules: list[ModuleType]) -> Blueprint:
    bp = Blueprint("openapi", __name__)
    document = build_document(modules)

    @bp.get("/api/v1/openapi.json")
    def openapi() -> Any:
        return jsonify(document)

    return bp
