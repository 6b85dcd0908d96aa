"""CLI commands: devnet start|stop|status, compile, deploy, up (owned by chain/)."""

import typer


def register(app: typer.Typer) -> None:
    pass
