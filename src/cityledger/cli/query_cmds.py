"""CLI commands: datasets, consents, access, releases, rights, used-my-data ... (owned by api/)."""

import typer


def register(app: typer.Typer) -> None:
    pass
