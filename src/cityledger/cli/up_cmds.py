"""CLI commands: up: the whole stack in one command (owned by the lead)."""

import typer


def register(app: typer.Typer) -> None:
    pass
