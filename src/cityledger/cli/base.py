"""What the commands share: modules imported on first use, a command's answer (`View`: a table,
lines or --json, and an exit code), and `reads_index`, which gives a command the index store it
declares, as ape's ConnectedProviderCommand gives a command the provider it names.

A command over the index checks its input and returns `ask(conn) -> View`; `reads_index` adds
`--db` and `--json`, opens the store only then (bad input never touches it), asks, closes it, and
prints the view."""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..errors import CityLedgerError

out = Console(highlight=False, soft_wrap=True)

DB = typer.Option("--db", help="Store URL (default: [store] url of cityledger.toml / CITYLEDGER_DB_URL)")
JSON = typer.Option("--json", help="Print JSON instead of a table")


class lazy:  # noqa: N801 (used as a module name)
    """A module imported on first use: `cityledger --help` or `fingerprint` need not load web3 and
    SQLAlchemy (seconds on a busy machine) for commands that are not run."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        module = importlib.import_module(self._name)
        self.__dict__.update(vars(module))  # later lookups are plain attribute reads
        return getattr(module, attr)


@contextmanager
def store(db: str | None) -> Iterator[Any]:
    """A read connection to the index; a clear error when there is none yet."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from ..config import config
    from ..indexer.store import is_sqlite, make_engine

    url = db or config().db_url
    if is_sqlite(url):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:" and not Path(path).is_file():
            raise CityLedgerError(f"no index at {path}: run `cityledger index --once` first (or give --db)")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    except (OperationalError, ProgrammingError) as exc:
        raise CityLedgerError(f"cannot read the index {engine.url!r}: {str(exc.orig).splitlines()[0]}") from None
    finally:
        engine.dispose()


Column = tuple[str, Callable[[dict], object]]


@dataclass
class View:
    """A command's answer: `data` for --json; for people a table (title, columns, rows, footer) or,
    when `lines` is given, those lines. A non-zero `exit_code` is the answer too (README "Exit codes")."""

    data: Any
    title: str = ""
    columns: list[Column] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    footer: str = ""
    lines: list[str] | None = None
    exit_code: int = 0

    def show(self, as_json: bool) -> None:
        if as_json:
            out.print_json(json.dumps(self.data, default=str))
        elif self.lines is not None:
            for line in self.lines:
                out.print(line)
        else:
            table = Table(title=self.title, title_justify="left", header_style="bold")
            for name, _ in self.columns:
                table.add_column(name)
            for row in self.rows:
                table.add_row(*[str(fn(row)) for _, fn in self.columns])
            out.print(table)
            if self.footer:
                out.print(self.footer)
        if self.exit_code:
            raise typer.Exit(self.exit_code)


Ask = Callable[[Any], View]


def reads_index(command: Callable[..., Ask]) -> Callable[..., None]:
    """A command over the index: `command(**options)` checks its input and returns `ask(conn)`; the
    command line also gets `--db` and `--json`."""
    sig = inspect.signature(command, eval_str=True)  # typer reads the real annotations from it
    extra = [
        inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[str | None, DB]),
        inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, JSON]),
    ]

    @functools.wraps(command)
    def run(*args, db: str | None = None, as_json: bool = False, **kwargs) -> None:
        ask = command(*args, **kwargs)
        with store(db) as conn:
            view = ask(conn)
        view.show(as_json)

    params = [*sig.parameters.values(), *extra]
    run.__signature__ = sig.replace(parameters=params, return_annotation=None)
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run
