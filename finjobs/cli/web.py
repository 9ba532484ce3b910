"""`finjobs web`: the Flask development server (production runs gunicorn on $PORT: see Procfile)."""

from __future__ import annotations

import typer

from finjobs.cli import context


def web(
    port: int | None = typer.Option(None, help="Port (default $PORT or 5000)."),
    host: str = typer.Option("127.0.0.1", help="Bind address."),
) -> None:
    """Serve the status API for development."""
    from finjobs.web import create_app

    settings = context.settings()
    create_app(settings).run(host=host, port=port or settings.port)
