"""CLI commands: publish, verify, prove, verify-row (owned by fingerprint/)."""

import typer


def register(app: typer.Typer) -> None:
    pass
