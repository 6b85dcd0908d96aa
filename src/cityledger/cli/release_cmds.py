"""CLI commands: release: the consent-filtered release and its on-chain log (owned by api/ and release/)."""

import typer


def register(app: typer.Typer) -> None:
    pass
