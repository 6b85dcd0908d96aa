"""CLI commands: index, index-status (owned by indexer/)."""

from __future__ import annotations

import logging
import signal
import time
from typing import Annotated

import typer
from rich.console import Console

from ..config import config
from ..errors import CityLedgerError
from ..indexer.limits import TARGET_LOGS

out = Console(highlight=False, stderr=True)


def _indexer(network: str | None, db: str | None, **kw):
    from ..chain.deployments import load_deployment
    from ..indexer.sync import Indexer

    cfg = config()
    net = cfg.network(network)
    deployment = load_deployment(net.chain_id, cfg)
    url = db or cfg.db_url
    return Indexer.from_deployment(url, net.rpc_url, deployment, confirmations=cfg.confirmations, **kw), net, url


def _enricher(ix):
    """DCAT and organisation-profile summaries, and the audit of release claims, after every committed
    batch (docs/INDEXER.md, "DCAT metadata" and "Release audits"); then the datasets' quality scores
    (beside the indexer: indexer/quality.py)."""
    from ..indexer.metadata import Enricher, store_dir
    from ..indexer.quality import QualityScorer
    from ..indexer.sync import StepResult
    from ..release.audit import Auditor

    cfg = config()
    enricher = Enricher(ix.engine, store_dir(cfg.data_dir), cfg.root)
    enricher.followers.append(Auditor(ix.engine, cfg.data_dir, timestamp=lambda n: _block_time(ix, n)).run)
    scorer = QualityScorer(ix.engine, store_dir(cfg.data_dir))

    def after_commit(result: StepResult) -> None:
        enricher(result)
        scorer(result)  # after the summaries: it scores the documents they verified

    ix.after_commit = after_commit
    return enricher, scorer


def _block_time(ix, number: int) -> int:
    """A block's timestamp from the indexer's node (the audit's snapshot blocks may be old)."""
    header = ix.rpc.header(number)
    if header is None:
        raise CityLedgerError(f"the node has no block {number}")
    return int(header["timestamp"], 16)


def index_cmd(
    once: Annotated[bool, typer.Option("--once", help="Catch up to the head and exit")] = False,
    network: Annotated[
        str | None, typer.Option("--network", "-n", help="A network of cityledger.toml (default: devnet)")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: [store] url of cityledger.toml)")] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Forget the store's indexed data and re-index from the deployment block")
    ] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between head polls while following")] = 0.1,
    batch_logs: Annotated[
        int,
        typer.Option(
            "--batch-logs",
            help="Logs aimed at per block range (catch-up commits about that many events per transaction; "
            "memory grows with it)",
        ),
    ] = TARGET_LOGS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
    log_json: Annotated[
        bool,
        typer.Option("--log-json", help="Log one JSON object per line on stderr (no progress bar); default key=value"),
    ] = False,
) -> None:
    """Index the deployed contracts' events into the store: catch up from the deployment block, then follow."""
    from ..indexer.logs import configure

    undo_logging = configure(json_lines=log_json)
    try:
        _index_cmd(once, network, db, reset, poll, batch_logs, quiet, log_json)
    finally:
        undo_logging()


def _index_cmd(
    once: bool,
    network: str | None,
    db: str | None,
    reset: bool,
    poll: float,
    batch_logs: int,
    quiet: bool,
    log_json: bool,
) -> None:
    from sqlalchemy.exc import DBAPIError

    from ..indexer.lease import LeaseLost

    if poll <= 0:
        raise CityLedgerError("--poll must be positive")
    if batch_logs < 1:
        raise CityLedgerError("--batch-logs must be at least 1")
    say = _Say(log_json)
    ix, net, url = _indexer(network, db, poll_interval=poll, target_logs=batch_logs)
    # SIGTERM (e.g. `cityledger up` stopping us) ends the loop after the current transaction.
    signal.signal(signal.SIGTERM, lambda *_: ix.stop_event.set())
    try:
        # Of several indexers on one store only the lease holder writes; the others stand by and the
        # first to notice a dead (or cut off) holder takes over from the checkpoint.
        while _lead(ix, once):
            try:
                if reset:
                    ix.reset()
                    reset = False
                _index(ix, net.rpc_url, url, say, once=once, poll=poll, quiet=quiet or log_json)
                break
            except LeaseLost as exc:
                say("standing by", "[yellow]{error}: standing by[/]", error=str(exc))
            except DBAPIError as exc:  # the store went away (or killed our session): stand by, retry
                if once:
                    raise
                say("standing by", "[yellow]the store failed ({error}): standing by[/]", error=str(exc.orig)[:200])
                ix.lease.release()
                ix.stop_event.wait(1.0)
        else:
            say("stopped", "stopped while standing by")
    except KeyboardInterrupt:
        say("stopped", "stopped")
    finally:
        ix.close()


def _lead(ix, once: bool) -> bool:
    """Wait for the writer lease: for ever while following, two lease lifetimes with --once (a dead
    holder's lease runs out; a live one keeps the store current, so --once has nothing to do). --once
    asks the node first: with no node it stops with that error and leaves the store as it was."""
    if once:
        ix.rpc.block_number()
    if once and not ix.lead(wait=2 * ix.lease.ttl + 1):
        holder = ix.lease.current()
        raise CityLedgerError(
            f"another indexer ({holder[0] if holder else '?'}) writes this store and keeps it current"
        )
    return ix.lead()


def _index(ix, rpc_url: str, url: str, say: _Say, *, once: bool, poll: float, quiet: bool) -> None:
    """Catch up (with a progress bar unless quiet), then follow unless once; as the lease holder."""
    from ..indexer.rpc import RpcUnavailable

    enricher, scorer = _enricher(ix)
    enricher.run()  # backfill: datasets indexed before, documents copied into the store since
    start = ix.checkpoint()[0]
    t0 = time.monotonic()
    try:
        _catch_up(ix, start, t0, quiet=quiet)
    except RpcUnavailable as exc:
        if once:
            raise
        say(
            "rpc unavailable", "[yellow]RPC unavailable during catch-up, will keep retrying:[/] {error}", error=str(exc)
        )
    cp = ix.checkpoint()[0]
    say(
        "caught up",
        "indexed {events:,} events, blocks {first}..{last} in {seconds:.1f}s (head {head}, finalized "
        "{finalized}) into {store}; {summaries} DCAT summaries added",
        events=ix.events_total, first=start + 1, last=cp, seconds=time.monotonic() - t0, head=ix.head,
        finalized=ix.finalized(), store=_safe(url), summaries=enricher.added,
    )  # fmt: skip
    if once:
        scorer.run()
        return
    scorer.start()  # the lease holder scores what it indexes (it alone writes the store)
    try:
        say("following", "following {rpc} (poll {poll}s); Ctrl-C to stop", rpc=rpc_url, poll=poll)
        ix.follow()
    finally:
        scorer.stop()


class _Say:
    """What `index` tells its user: a console line, or with --log-json a log record of the same
    facts as fields (so that stderr holds JSON lines only)."""

    def __init__(self, log_json: bool):
        self.log_json = log_json

    def __call__(self, event: str, template: str, **values: object) -> None:
        if self.log_json:
            from ..indexer.logs import fields

            logging.getLogger("cityledger.indexer").info(event, extra=fields(**values))
        else:
            out.print(template.format(**values))


def _catch_up(ix, start: int, t0: float, *, quiet: bool) -> None:
    """ix.catch_up() with a progress bar (blocks, events, rate) unless quiet."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]indexing[/] block"), MofNCompleteColumn(), BarColumn(),
        TextColumn("{task.fields[events]:,} events  {task.fields[rate]:,.0f}/s"), TimeRemainingColumn(),
        console=out, disable=quiet, transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task("catch-up", total=None, events=0, rate=0.0)

        def report(r) -> None:
            dt = max(time.monotonic() - t0, 1e-6)
            progress.update(
                task,
                completed=r.to_block - start,
                total=max(r.head - start, 1),
                events=ix.events_total,
                rate=ix.events_total / dt,
            )

        ix.catch_up(progress=report)


def status_cmd(
    network: Annotated[
        str | None, typer.Option("--network", "-n", help="A network of cityledger.toml (default: devnet)")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: [store] url of cityledger.toml)")] = None,
) -> None:
    """Show the indexer's checkpoint: last indexed, head and finalized block, row counts, last RPC error."""
    from sqlalchemy import func, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from ..indexer.compare import row_counts
    from ..indexer.models import Checkpoint, DatasetMetadata
    from ..indexer.store import make_engine

    cfg = config()
    url = db or cfg.db_url
    _require_existing_sqlite(url)  # read-only: a mistyped --db must not leave a new store behind
    engine = make_engine(url)
    try:
        try:
            with engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                row = None
                if "checkpoint" in tables:
                    # Only the columns this store has: index-status reads a store an older indexer wrote.
                    have = {c["name"] for c in inspect(conn).get_columns("checkpoint")}
                    cols = [c for c in Checkpoint.__table__.c if c.name in have]
                    row = conn.execute(select(*cols)).mappings().first()
                summaries = (
                    conn.execute(select(func.count()).select_from(DatasetMetadata)).scalar_one()
                    if "dataset_metadata" in tables
                    else None
                )
        except SQLAlchemyError as exc:
            raise CityLedgerError(f"cannot read the store {_safe(url)}: {getattr(exc, 'orig', None) or exc}") from None
        if row is None:
            raise CityLedgerError(f"{_safe(url)} has not indexed anything yet: run `cityledger index`")
        _status_table(url, row, row_counts(engine), summaries)
    finally:
        engine.dispose()


def _require_existing_sqlite(url: str) -> None:
    from sqlalchemy.engine import make_url

    from ..indexer.store import normalise_url

    try:
        parsed = make_url(normalise_url(url))
    except Exception:
        return  # make_engine words the error
    db = parsed.database
    if parsed.get_backend_name() == "sqlite" and db and db != ":memory:" and not db.startswith("file:"):
        from pathlib import Path

        if not Path(db).is_file():
            raise CityLedgerError(f"no index store at {db}: run `cityledger index` first, or check --db")


def _status_table(url: str, row, counts: dict, summaries: int | None) -> None:
    from rich.table import Table

    table = Table(title=f"index {_safe(url)}", title_justify="left", show_header=False)
    keys = ("chain_id", "block_number", "head_block", "finalized_block", "confirmations", "reorgs", "rpc_error")
    for key in (*keys, "node_inconsistent"):
        table.add_row(key, str(row.get(key)))  # .get: a store not yet migrated has no node_inconsistent
    lag = (row["head_block"] - row["block_number"]) if row["head_block"] is not None else None
    table.add_row("lag (blocks)", str(lag))
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    table.add_row(
        "dataset_metadata", "(store not migrated: run `cityledger index`)" if summaries is None else f"{summaries:,}"
    )
    Console(highlight=False).print(table)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<store>"


def register(app: typer.Typer) -> None:
    app.command("index")(index_cmd)
    app.command("index-status")(status_cmd)
