"""The `cityledger` command. Each concern registers its own commands from its own module,
so the command tree mirrors the package layout (chain, datasets, indexer, api)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from ..errors import CityLedgerError
from .numbers import RangedGroup

app = typer.Typer(
    name="cityledger",
    cls=RangedGroup,  # every numeric option of the tree range-checked before any command runs
    help="CityLedger: a city's datasets, consent, access, releases and rights requests on chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, even in a log

# Each module exposes register(app); the order is the order of `cityledger --help`.
from . import (  # noqa: E402
    catalog_cmds,
    chain_cmds,
    dataroom_cmds,
    dataset_cmds,
    index_cmds,
    ledger_cmds,
    query_cmds,
    release_cmds,
    serve_cmds,
    up_cmds,
)

for _module in (
    up_cmds,
    chain_cmds,
    dataset_cmds,
    catalog_cmds,
    index_cmds,
    query_cmds,
    ledger_cmds,
    release_cmds,
    dataroom_cmds,
    serve_cmds,
):
    _module.register(app)
from . import receipt_cmds  # noqa: E402  (consent receipts: get, verify)

receipt_cmds.register(app)


def main() -> None:
    """Entry point: a CityLedgerError is one line on stderr and exit code 1, never a traceback.

    Typer runs in standalone mode, so its own usage errors (a bad option value, a missing argument)
    print the usage and exit 2 as click does; ours pass through it and are caught here."""
    try:
        app()
    except CityLedgerError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
