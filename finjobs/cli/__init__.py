"""The `finjobs` command line (Typer + rich): a shell over finjobs.services."""

from __future__ import annotations


def main() -> None:
    from finjobs.cli.app import app

    app()
