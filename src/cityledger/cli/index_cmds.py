"""CLI commands: index (owned by indexer/)."""

import typer


def register(app: typer.Typer) -> None:
    pass
