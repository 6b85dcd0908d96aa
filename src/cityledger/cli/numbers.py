"""One range check for every numeric option and argument of the `cityledger` command.

Typer reads an `int` option as any integer: `verify-row --dataset -5` (or `2**256` written out) went
on to eth_abi's encoder and printed an 82-line ValueOutOfBounds traceback. `RangedGroup`, the root
command's class, gives every int and float parameter of the whole tree the range of its kind
(chosen by the parameter's name: dataset ids, block numbers, page sizes, ports, ...) each time
Typer builds the tree, so a value out of range, not a number, NaN or infinite is a usage error
naming the option and its range before any command code runs: nothing touches the chain or the
store. A numeric parameter with a name not listed here gets DEFAULT_INT / DEFAULT_FLOAT, and
tests/reliability/test_cli_errors.py fails until it is given a kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from typer.core import TyperGroup

# SQLite INTEGER and PostgreSQL BIGINT: every id, block number and count the store holds fits.
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Kind:
    """The values a kind of number may take (inclusive)."""

    low: int | float
    high: int | float


ID = Kind(1, INT64_MAX)  # dataset and access ids count from 1
KINDS: dict[str, Kind] = {
    "dataset_id": ID,
    "dataset": ID,
    "access_id": ID,
    "release_id": ID,
    "release": ID,
    "access": ID,  # deliveries --access
    "request_id": ID,
    "supersedes": Kind(0, INT64_MAX),  # 0: a first version, supersedes nothing
    "row": Kind(1, INT64_MAX),  # data rows count from 1
    "tree_size": Kind(1, INT64_MAX),
    "from_account": Kind(0, 2**31 - 1),  # a BIP-32 non-hardened index, as in m/44'/60'/0'/0/i
    "block": Kind(0, INT64_MAX),
    "page": Kind(1, 2**31 - 1),
    "page_size": Kind(1, 100),  # the API's page-size limit
    "port": Kind(1, 65535),
    "batch_logs": Kind(1, 1_000_000),  # logs per fetched range; memory grows with it
    "poll": Kind(0.01, 3600.0),  # seconds
    "interval": Kind(0.5, 3600.0),  # dataroom serve-obligations: seconds between passes
    "relay_per_minute": Kind(0.1, 10_000.0),
    "timeout": Kind(1.0, 600.0),  # seconds for one network step (harvest, quality)
    "max_mb": Kind(1, 1 << 20),  # MiB, the largest file a harvest downloads
    "header_timeout": Kind(0.1, 3600.0),  # serve: seconds for a request's headers
    "body_timeout": Kind(0.1, 3600.0),  # serve: seconds for a request body
    "max_connections": Kind(1, 1_000_000),  # serve: open connections
    "max_body_bytes": Kind(1, 1 << 30),  # serve: request body bytes
    "max_snapshot_age": Kind(1, INT64_MAX),  # deploy: blocks (AccessRegistry refuses 0)
}
DEFAULT_INT = Kind(0, INT64_MAX)
DEFAULT_FLOAT = Kind(0.0, 1e9)


def numeric_kind(name: str, annotation: Any) -> Kind:
    return KINDS.get(name) or (DEFAULT_INT if annotation is int else DEFAULT_FLOAT)


def range_numbers(command: Any) -> None:
    """Give every int/float parameter of `command` and its subcommands the range of its kind.

    A range the parameter already declares (typer.Option(min=.., max=..)) is kept where it is narrower."""
    for sub in getattr(command, "commands", {}).values():
        range_numbers(sub)
    for param in command.params:
        desc = getattr(param, "type_descriptor", None)
        if desc is None or desc.annotation not in (int, float):
            continue
        kind = numeric_kind(param.name, desc.annotation)
        # The descriptor's ParameterInfo is Typer's per-build copy: setting it changes only this tree.
        info = desc.parameter_info
        info.min = kind.low if info.min is None else max(info.min, kind.low)
        info.max = kind.high if info.max is None else min(info.max, kind.high)
        param.min, param.max = info.min, info.max  # shown in --help
        param._runtime_param = None  # rebuilt from the ranged descriptor on first use


class RangedGroup(TyperGroup):
    """The root command: Typer builds the subcommands first, so the whole tree is ranged here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        range_numbers(self)
