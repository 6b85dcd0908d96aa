"""CLI commands over the index (owned by api/): datasets, dataset, consents, consent-check, access,
releases, rights, used-my-data, status. They read the store directly with the same query
functions as the HTTP API; tables by default, --json for scripts."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..errors import CityLedgerError
from . import exits

out = Console(highlight=False, soft_wrap=True)

DB = typer.Option("--db", help="Store URL (default: [store] url of cityledger.toml / CITYLEDGER_DB_URL)")
JSON = typer.Option("--json", help="Print JSON instead of a table")
NETWORK = typer.Option("--network", "-n", help="A network of cityledger.toml (default: devnet)")
PAGE = typer.Option("--page", min=1, help="Page number")
PAGE_SIZE = typer.Option("--page-size", min=1, max=100, help="Rows per page (max 100)")


@contextmanager
def store(db: str | None):
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


def short(value: str | None, keep: int = 6) -> str:
    if not value:
        return ""
    return value if len(value) <= 2 + 2 * keep else f"{value[: 2 + keep]}…{value[-keep:]}"


def when(ts: int | None) -> str:
    if not ts:
        return ""
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):  # "forever" expiries (2^63-1)
        return "never"


def emit(
    as_json: bool, data, title: str, columns: list[tuple[str, callable]], rows: list[dict], footer: str = ""
) -> None:
    if as_json:
        out.print_json(json.dumps(data, default=str))
        return
    table = Table(title=title, title_justify="left", header_style="bold")
    for name, _ in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*[str(fn(row)) for _, fn in columns])
    out.print(table)
    if footer:
        out.print(footer)


def page_footer(res: dict) -> str:
    last = max(1, -(-res["total"] // res["page_size"]))
    return f"{res['total']} in all; page {res['page']} of {last}"


DATASET_COLUMNS = [
    ("id", lambda d: d["dataset_id"]),
    ("title", lambda d: (d.get("title") or "")[:40]),
    ("v", lambda d: d["version"]),
    ("domain", lambda d: d["domain"]),
    ("publisher", lambda d: short(d["publisher"], 4)),
    ("status", lambda d: d["status"]),
    ("personal", lambda d: "yes" if d["personal_data"] else ""),
    ("content hash", lambda d: short(d["content_hash"])),
    ("registered", lambda d: when(d["registered_at"])),
    ("metadata", lambda d: d["metadata_uri"][:50]),
]
CONSENT_COLUMNS = [
    ("state", lambda c: c["state"]),
    ("purpose", lambda c: c["purpose_name"] or short(c["purpose"])),
    ("scope", lambda c: f"{c['scope_kind']} {short(c['scope_id'], 4)}"),
    ("grantee", lambda c: "any researcher" if c["any_researcher"] else short(c["grantee"], 4)),
    ("expiry", lambda c: when(c["expiry"]) if c["state"] != "revoked" else ""),
    ("block", lambda c: c["block_number"]),
    ("key", lambda c: short(c["key"])),
]
RELEASE_COLUMNS = [
    ("release", lambda r: r["release_id"]),
    ("access", lambda r: r["access_id"]),
    ("dataset", lambda r: r["dataset_id"]),
    ("grantee", lambda r: short(r["grantee"], 4)),
    ("purpose", lambda r: r["purpose_name"] or short(r["purpose"])),
    ("subjects", lambda r: r["subject_count"]),
    ("snapshot block", lambda r: r["snapshot_block"]),
    ("consent root", lambda r: short(r["consent_root"])),
]


def datasets_cmd(
    q: Annotated[
        str | None,
        typer.Option(
            "--q", help="Words of the title, description or keywords (or the metadata URI), or a 0x content-hash prefix"
        ),
    ] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="health, education, ... or 1..12")] = None,
    publisher: Annotated[str | None, typer.Option("--publisher", help="Publisher address")] = None,
    status: Annotated[str | None, typer.Option("--status", help="active | superseded | withdrawn | all")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Registered at/after (unix time or ISO date)")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Registered before (unix time or ISO date)")] = None,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Search the registered datasets (newest first)."""
    from ..api import queries
    from ..api import validate as v

    st = v.choice(status, ("active", "superseded", "withdrawn", "all"), "--status")
    args = dict(
        q=q,
        domain=v.domain(domain, "--domain"),
        publisher=v.address(publisher, "--publisher") if publisher else None,
        status=None if st == "all" else st,
        since=queries.parse_time(since, "--since"),
        until=queries.parse_time(until, "--until"),
        page=page,
        page_size=page_size,
    )
    with store(db) as conn:
        res = queries.list_datasets(conn, **args)
    emit(as_json, res, "datasets", DATASET_COLUMNS, res["items"], page_footer(res))


def dataset_cmd(
    ref: Annotated[str, typer.Argument(help="Dataset id or 0x content hash")],
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """One dataset version with its lineage, attestations and active consent counts."""
    from ..api import queries
    from ..api import validate as v
    from ..api.metadata import MetadataLoader
    from ..config import config

    key = v.positive_id(ref, "dataset id") if ref.strip().isdigit() else v.hash32(ref, "content hash")
    with store(db) as conn:
        d = queries.dataset(conn, key, MetadataLoader(config().data_dir, config().root))
        lineage = queries.versions(conn, key)
        counts = queries.dataset_consent_counts(conn, key, None)
    if as_json:
        out.print_json(json.dumps({**d, "versions": lineage, "consent_counts": counts}, default=str))
        return
    for label, value in (
        ("dataset", f"{d['dataset_id']} (version {d['version']}, {d['status']})"),
        ("title", d["title"] or "(no verified DCAT document in the local store)"),
        ("publisher", d["publisher"]),
        ("domain", d["domain"]),
        ("personal data", "yes" if d["personal_data"] else "no"),
        ("content hash", d["content_hash"]),
        ("metadata", f"{d['metadata_uri']} ({d['metadata_hash']})"),
        ("registered", f"block {d['registered_block']}, {when(d['registered_at'])}"),
        ("lineage", " -> ".join(str(x["dataset_id"]) for x in lineage)),
        (
            "attestations",
            ", ".join(
                f"{a['kind']} by {short(a['auditor'], 4)}" + ("" if a["active"] else " (revoked)")
                for a in d["attestations"]
            )
            or "none",
        ),
        (
            "active consent",
            ", ".join(f"{c['purpose_name'] or short(c['purpose'])}: {c['active']}" for c in counts["counts"]) or "none",
        ),
    ):
        out.print(f"[bold]{label:>15}[/]  {value}")


def consents_cmd(
    address: Annotated[str, typer.Argument(help="The citizen's address")],
    state: Annotated[str | None, typer.Option("--state", help="active | expired | revoked | all")] = None,
    block: Annotated[
        int | None, typer.Option("--block", min=0, help="As of this block (default: last indexed)")
    ] = None,
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """A citizen's consents and their state, now or as of a block."""
    from ..api import queries
    from ..api import validate as v

    citizen = v.address(address, "address")
    st = v.choice(state, ("active", "expired", "revoked", "all"), "--state")
    with store(db) as conn:
        res = queries.citizen_consents(conn, citizen, state=st, block=block, page_size=10**6)
    emit(
        as_json,
        res,
        f"consents of {citizen} as of block {res['as_of_block']}",
        CONSENT_COLUMNS,
        res["items"],
        f"{res['total']} consent(s)",
    )


def consent_check_cmd(
    citizen: Annotated[str, typer.Option("--citizen", help="Citizen address")],
    purpose: Annotated[str, typer.Option("--purpose", help="DPV purpose name or 0x hash")],
    scope_kind: Annotated[str, typer.Option("--scope-kind", help="dataset | publisher | domain")],
    scope_id: Annotated[str, typer.Option("--scope-id", help="Dataset id, publisher address, domain, or 0x bytes32")],
    grantee: Annotated[str, typer.Option("--grantee", help="Grantee address (default: any researcher)")] = "0x"
    + "0" * 40,
    block: Annotated[int | None, typer.Option("--block", min=0, help="As of this block")] = None,
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Is one consent active (as of a block)? The contract's is_active, from the index."""
    from ..api import queries
    from ..api import validate as v
    from ..api.relayer import consent_key_hex

    kind = v.scope_kind(scope_kind, "--scope-kind")
    key = consent_key_hex(
        v.address(citizen, "--citizen"),
        v.purpose(purpose, "--purpose"),
        kind,
        v.scope_id(kind, scope_id, "--scope-id"),
        v.address(grantee, "--grantee"),
    )
    with store(db) as conn:
        res = queries.consent_check(conn, key=key, block=block)
    if as_json:
        out.print_json(json.dumps(res))
    else:
        colour = "green" if res["active"] else "red"
        out.print(f"[{colour}]{res['state']}[/] as of block {res['as_of_block']} (key {res['key']})")


def access_cmd(
    dataset: Annotated[int | None, typer.Option("--dataset", min=1, help="Dataset id")] = None,
    grantee: Annotated[str | None, typer.Option("--grantee", help="Requester / grantee address")] = None,
    status: Annotated[str | None, typer.Option("--status", help="requested | granted | refused | ended")] = None,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Access requests and grants."""
    from ..api import queries
    from ..api import validate as v
    from ..codes import ACCESS_STATUS_NAMES

    args = dict(
        dataset_id=dataset,
        grantee=v.address(grantee, "--grantee") if grantee else None,
        status=v.choice(status, tuple(ACCESS_STATUS_NAMES.values()), "--status"),
        page=page,
        page_size=page_size,
    )
    with store(db) as conn:
        res = queries.list_access(conn, **args)
    cols = [
        ("access", lambda a: a["access_id"]),
        ("dataset", lambda a: a["dataset_id"]),
        ("requester", lambda a: short(a["requester"], 4)),
        ("purpose", lambda a: a["purpose_name"] or short(a["purpose"])),
        ("status", lambda a: a["status"] + (" (live)" if a["live"] else "")),
        ("expiry", lambda a: when(a["expiry"])),
    ]
    emit(as_json, res, "access", cols, res["items"], page_footer(res))


def releases_cmd(
    dataset: Annotated[int | None, typer.Option("--dataset", min=1, help="Dataset id")] = None,
    grantee: Annotated[str | None, typer.Option("--grantee", help="Grantee address")] = None,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Logged releases (consent-filtered data handed to a grantee)."""
    from ..api import queries
    from ..api import validate as v

    with store(db) as conn:
        res = queries.list_releases(
            conn,
            dataset_id=dataset,
            grantee=v.address(grantee, "--grantee") if grantee else None,
            page=page,
            page_size=page_size,
        )
    emit(as_json, res, "releases", RELEASE_COLUMNS, res["items"], page_footer(res))


def rights_cmd(
    publisher: Annotated[str | None, typer.Option("--publisher", help="Responsible publisher")] = None,
    citizen: Annotated[str | None, typer.Option("--citizen", help="Filing citizen")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open | fulfilled | refused | withdrawn")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open requests past their deadline")] = False,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Citizens' rights requests (access, rectification, erasure, ...), with overdue ones."""
    from ..api import queries
    from ..api import validate as v
    from ..codes import RIGHTS_STATUS_NAMES

    args = dict(
        publisher=v.address(publisher, "--publisher") if publisher else None,
        citizen=v.address(citizen, "--citizen") if citizen else None,
        status=v.choice(status, tuple(RIGHTS_STATUS_NAMES.values()), "--status"),
        overdue=overdue,
        page=page,
        page_size=page_size,
    )
    with store(db) as conn:
        res = queries.list_rights(conn, **args)
    cols = [
        ("request", lambda r: r["request_id"]),
        ("kind", lambda r: r["kind"]),
        ("citizen", lambda r: short(r["citizen"], 4)),
        ("publisher", lambda r: short(r["publisher"], 4)),
        ("target", lambda r: f"{r['target_kind']} {short(r['target'], 4)}"),
        (
            "status",
            lambda r: r["status"] + (" [red](OVERDUE)[/]" if r["overdue"] else "") + (" (late)" if r["late"] else ""),
        ),
        ("deadline", lambda r: when(r["deadline"])),
    ]
    emit(as_json, res, "rights requests", cols, res["items"], page_footer(res))


def used_my_data_cmd(
    address: Annotated[str, typer.Argument(help="The citizen's address")],
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Releases whose consent snapshot included this address, each with its Merkle proof (checked)."""
    from ..api import queries
    from ..api import validate as v
    from ..config import config
    from ..fingerprint.consent_tree import verify_consent_proof
    from ..release.snapshots import SnapshotIndex

    citizen = v.address(address, "address")
    with store(db) as conn:
        used = queries.used_by(conn, SnapshotIndex(config().data_dir), citizen)
    for u in used:
        u["proof_verified"] = verify_consent_proof(u["consent_root"], citizen, u["proof"])
    cols = RELEASE_COLUMNS + [("proof", lambda r: "verified" if r["proof_verified"] else "[red]INVALID[/]")]
    emit(as_json, used, f"releases that used data of {citizen}", cols, used, f"{len(used)} release(s)")


def status_cmd(
    network: Annotated[str | None, NETWORK] = None,
    db: Annotated[str | None, DB] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """The index against the node: last indexed block, head, lag, finalized block, contracts.

    Exit 0 when the node answers and is consistent, 6 when it does not answer, 7 when the indexer
    found it contradicting itself; 1 when the store cannot be read."""
    from sqlalchemy import text
    from web3 import HTTPProvider, Web3

    from ..api import queries
    from ..config import config

    cfg = config()
    net = cfg.network(network)
    try:
        head = Web3(HTTPProvider(net.rpc_url, request_kwargs={"timeout": 2})).eth.block_number
    except Exception:
        head = None
    with store(db) as conn:
        st = queries.index_status(conn, head, net, cfg.confirmations)
        # Read by name from the row as stored: stores written before the indexer recorded it have no such column.
        row = conn.execute(text("SELECT * FROM checkpoint WHERE id = 1")).mappings().first()
    st["node_inconsistent"] = (row or {}).get("node_inconsistent")
    if as_json:
        out.print_json(json.dumps(st))
    else:
        node = f"head {st['head_block']}" if st["rpc_reachable"] else f"[red]not answering[/] ({net.rpc_url})"
        out.print(f"[bold]network[/]    {st['network']} (chain {st['chain_id']}), node {node}")
        if st["node_inconsistent"]:
            out.print(f"[bold]node[/]       [red]inconsistent[/]: {st['node_inconsistent']}")
        out.print(
            f"[bold]index[/]      last block {st['last_indexed_block']}, finalized {st['finalized_block']}, "
            f"lag {st['lag'] if st['lag'] is not None else '?'} block(s)"
        )
        for name, address in st["contracts"].items():
            out.print(f"[bold]{name:<16}[/] {address}")
    if not st["rpc_reachable"]:
        raise typer.Exit(exits.NODE_DOWN)
    if st["node_inconsistent"]:
        raise typer.Exit(exits.NODE_INCONSISTENT)


def register(app: typer.Typer) -> None:
    app.command("datasets")(datasets_cmd)
    app.command("dataset")(dataset_cmd)
    app.command("consents")(consents_cmd)
    app.command("consent-check")(consent_check_cmd)
    app.command("access")(access_cmd)
    app.command("releases")(releases_cmd)
    app.command("rights")(rights_cmd)
    app.command("used-my-data")(used_my_data_cmd)
    app.command("status")(status_cmd)
