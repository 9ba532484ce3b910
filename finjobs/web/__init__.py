"""The Flask status API: create_app(settings=None) and its blueprints, over finjobs.services."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from finjobs.config import Settings
from finjobs.errors import FinjobsError


def create_app(settings: Settings | None = None) -> Flask:
    app = Flask(__name__)
    app.config["FINJOBS_SETTINGS"] = settings or Settings.from_env()
    app.config["MAX_CONTENT_LENGTH"] = app.config["FINJOBS_SETTINGS"].max_upload_bytes

    from finjobs.web.health import bp as health_bp

    app.register_blueprint(health_bp)

    @app.errorhandler(FinjobsError)
    def _finjobs_error(exc: FinjobsError) -> Any:
        return jsonify(error=exc.code, message=str(exc)), exc.http_status

    return app
