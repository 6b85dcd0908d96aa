"""CLI commands: serve (owned by api/)."""

import typer


def register(app: typer.Typer) -> None:
    pass
