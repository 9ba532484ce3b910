"""`finjobs version`: the installed finjobs version. Imports nothing past the root CLI."""

from __future__ import annotations

import typer


def version() -> None:
    """Print the finjobs version."""
    from finjobs import __version__

    typer.echo(f"finjobs {__version__}")
