"""The Flask status API: create_app(settings=None) and its blueprints, over finjobs.services."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from finjobs.config import Settings
from finjobs.errors import FinjobsError


class Int64Converter(IntegerConverter):
    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


# modules of finjobs.web, each with a Blueprint `bp` and an OPENAPI fragment describing its routes
BLUEPRINTS = [
    "health",
    "imports",
    "receipts",
    "forecasts",
    "budgets",
    "insights",
    "chat",
    "console",
    "metrics",
    "transactions",
    "recurring",
]


def create_app(settings: Settings | None = None) -> Flask:
    app = Flask(__name__)
    # ids are 64-bit: a larger number in a URL is simply not found (not an overflow deep in a driver)
    app.url_map.converters["int"] = Int64Converter
    app.config["FINJOBS_SETTINGS"] = settings or Settings.from_env()
    app.config["MAX_CONTENT_LENGTH"] = app.config["FINJOBS_SETTINGS"].max_upload_bytes
    # a scrape-only secret for Prometheus (operator tokens work too); create_app is an entrypoint
    app.config["FINJOBS_METRICS_TOKEN"] = os.environ.get("FINJOBS_METRICS_TOKEN", "").strip() or None

    import importlib

    from finjobs.web import openapi

    modules = [importlib.import_module(f"finjobs.web.{name}") for name in BLUEPRINTS]
    for module in modules:
        app.register_blueprint(module.bp)
    app.register_blueprint(openapi.blueprint(modules))

    from finjobs.web.limits import install

    install(app, app.config["FINJOBS_SETTINGS"])

    @app.errorhandler(FinjobsError)
    def _finjobs_error(exc: FinjobsError) -> Any:
        if request.path.startswith("/console"):
            from flask import render_template

            return render_template(
                "console/error.html", code=exc.http_status, message=str(exc)
            ), exc.http_status
        return jsonify(error=exc.code, message=str(exc)), exc.http_status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        if request.path.startswith("/console") and code >= 400:
            from flask import render_template

            return render_template("console/error.html", code=code, message=exc.description), code
        name = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error=name, message=exc.description or name), code

    return app
