"""CLI commands over the index (owned by api/): datasets, dataset, consents, consent-check, access,
releases, rights, used-my-data, status (`access` and `rights` are listing groups of
cli/ledger_cmds.py). They read the store directly with the same query functions as the HTTP API;
tables by default, --json for scripts. Each checks its input and returns what to ask the store
(cli/base.py reads_index opens it, adds --db and --json, and prints)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from . import exits
from .base import View, lazy, reads_index

queries = lazy("cityledger.api.queries")
v = lazy("cityledger.api.validate")

NETWORK = typer.Option("--network", "-n", help="A network of cityledger.toml (default: devnet)")
PAGE = typer.Option("--page", min=1, help="Page number")
PAGE_SIZE = typer.Option("--page-size", min=1, max=100, help="Rows per page (max 100)")


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


def audit_cell(audit: dict) -> str:
    """The indexer's audit of a release's consent claim, coloured (docs/INDEXER.md, Release audits)."""
    colour = {"verified": "green", "mismatch": "red", "unverifiable": "yellow"}.get(audit["status"])
    return f"[{colour}]{audit['status']}[/]" if colour else audit["status"]


RELEASE_COLUMNS = [
    ("release", lambda r: r["release_id"]),
    ("access", lambda r: r["access_id"]),
    ("dataset", lambda r: r["dataset_id"]),
    ("grantee", lambda r: short(r["grantee"], 4)),
    ("purpose", lambda r: r["purpose_name"] or short(r["purpose"])),
    ("subjects", lambda r: r["subject_count"]),
    ("k", lambda r: r["k_anonymity"] if r["k_anonymity"] is not None else ""),
    ("snapshot block", lambda r: r["snapshot_block"]),
    ("consent root", lambda r: short(r["consent_root"])),
    ("audit", lambda r: audit_cell(r["audit"])),
]


@reads_index
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
):
    """Search the registered datasets (newest first)."""
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
    return lambda conn: listing(queries.list_datasets(conn, **args), "datasets", DATASET_COLUMNS)


def listing(res: dict, title: str, columns: list) -> View:
    """A page of results as a table with its page footer."""
    return View(res, title, columns, res["items"], page_footer(res))


@reads_index
def dataset_cmd(ref: Annotated[str, typer.Argument(help="Dataset id or 0x content hash")]):
    """One dataset version with its lineage, attestations and active consent counts."""
    from ..api.metadata import MetadataLoader
    from ..config import config

    key = v.positive_id(ref, "dataset id") if ref.strip().isdigit() else v.hash32(ref, "content hash")

    def ask(conn) -> View:
        d = queries.dataset(conn, key, MetadataLoader(config().data_dir, config().root))
        lineage = queries.versions(conn, key)
        counts = queries.dataset_consent_counts(conn, key, None)
        return View({**d, "versions": lineage, "consent_counts": counts}, lines=dataset_lines(d, lineage, counts))

    return ask


def dataset_lines(d: dict, lineage: list[dict], counts: dict) -> list[str]:
    attestations = ", ".join(
        f"{a['kind']} by {short(a['auditor'], 4)}" + ("" if a["active"] else " (revoked)") for a in d["attestations"]
    )
    consent = ", ".join(f"{c['purpose_name'] or short(c['purpose'])}: {c['active']}" for c in counts["counts"])
    fields = (
        ("dataset", f"{d['dataset_id']} (version {d['version']}, {d['status']})"),
        ("title", d["title"] or "(no verified DCAT document in the local store)"),
        ("publisher", d["publisher"]),
        ("domain", d["domain"]),
        ("personal data", "yes" if d["personal_data"] else "no"),
        ("content hash", d["content_hash"]),
        ("metadata", f"{d['metadata_uri']} ({d['metadata_hash']})"),
        ("registered", f"block {d['registered_block']}, {when(d['registered_at'])}"),
        ("lineage", " -> ".join(str(x["dataset_id"]) for x in lineage)),
        ("attestations", attestations or "none"),
        ("active consent", consent or "none"),
    )
    return [f"[bold]{label:>15}[/]  {value}" for label, value in fields]


@reads_index
def consents_cmd(
    address: Annotated[str, typer.Argument(help="The citizen's address")],
    state: Annotated[str | None, typer.Option("--state", help="active | expired | revoked | all")] = None,
    block: Annotated[
        int | None, typer.Option("--block", min=0, help="As of this block (default: last indexed)")
    ] = None,
):
    """A citizen's consents and their state, now or as of a block."""
    citizen = v.address(address, "address")
    st = v.choice(state, ("active", "expired", "revoked", "all"), "--state")

    def ask(conn) -> View:
        res = queries.citizen_consents(conn, citizen, state=st, block=block, page_size=10**6)
        title = f"consents of {citizen} as of block {res['as_of_block']}"
        return View(res, title, CONSENT_COLUMNS, res["items"], f"{res['total']} consent(s)")

    return ask


@reads_index
def consent_check_cmd(
    citizen: Annotated[str, typer.Option("--citizen", help="Citizen address")],
    purpose: Annotated[str, typer.Option("--purpose", help="DPV purpose name or 0x hash")],
    scope_kind: Annotated[str, typer.Option("--scope-kind", help="dataset | publisher | domain")],
    scope_id: Annotated[str, typer.Option("--scope-id", help="Dataset id, publisher address, domain, or 0x bytes32")],
    grantee: Annotated[str, typer.Option("--grantee", help="Grantee address (default: any researcher)")] = "0x"
    + "0" * 40,
    block: Annotated[int | None, typer.Option("--block", min=0, help="As of this block")] = None,
):
    """Is one consent active (as of a block)? The contract's is_active, from the index."""
    from ..api.relayer import consent_key_hex

    kind = v.scope_kind(scope_kind, "--scope-kind")
    key = consent_key_hex(
        v.address(citizen, "--citizen"),
        v.purpose(purpose, "--purpose"),
        kind,
        v.scope_id(kind, scope_id, "--scope-id"),
        v.address(grantee, "--grantee"),
    )

    def ask(conn) -> View:
        res = queries.consent_check(conn, key=key, block=block)
        colour = "green" if res["active"] else "red"
        return View(res, lines=[f"[{colour}]{res['state']}[/] as of block {res['as_of_block']} (key {res['key']})"])

    return ask


ACCESS_COLUMNS = [
    ("access", lambda a: a["access_id"]),
    ("dataset", lambda a: a["dataset_id"]),
    ("requester", lambda a: short(a["requester"], 4)),
    ("purpose", lambda a: a["purpose_name"] or short(a["purpose"])),
    ("status", lambda a: a["status"] + (" (live)" if a["live"] else "")),
    ("expiry", lambda a: when(a["expiry"])),
]


@reads_index
def access_cmd(
    dataset: Annotated[int | None, typer.Option("--dataset", min=1, help="Dataset id")] = None,
    grantee: Annotated[str | None, typer.Option("--grantee", help="Requester / grantee address")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="requested | granted | refused | ended | cancelled")
    ] = None,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
):
    """Access requests and grants."""
    from ..codes import ACCESS_STATUS_NAMES

    args = dict(
        dataset_id=dataset,
        grantee=v.address(grantee, "--grantee") if grantee else None,
        status=v.choice(status, tuple(ACCESS_STATUS_NAMES.values()), "--status"),
        page=page,
        page_size=page_size,
    )
    return lambda conn: listing(queries.list_access(conn, **args), "access", ACCESS_COLUMNS)


AUDITS = ("verified", "mismatch", "unverifiable", "no_subjects", "pending")


@reads_index
def releases_cmd(
    dataset: Annotated[int | None, typer.Option("--dataset", min=1, help="Dataset id")] = None,
    grantee: Annotated[str | None, typer.Option("--grantee", help="Grantee address")] = None,
    audit: Annotated[
        str | None, typer.Option("--audit", help="The audit of the consent claim: " + " | ".join(AUDITS))
    ] = None,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
):
    """Logged releases (consent-filtered data handed to a grantee), with k and the indexer's audit of
    each release's consent claim (verified, mismatch, unverifiable)."""
    args = dict(
        dataset_id=dataset,
        grantee=v.address(grantee, "--grantee") if grantee else None,
        audit=v.choice(audit, AUDITS, "--audit"),
        page=page,
        page_size=page_size,
    )
    return lambda conn: listing(queries.list_releases(conn, **args), "releases", RELEASE_COLUMNS)


RIGHTS_COLUMNS = [
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


@reads_index
def rights_cmd(
    publisher: Annotated[str | None, typer.Option("--publisher", help="Responsible publisher")] = None,
    citizen: Annotated[str | None, typer.Option("--citizen", help="Filing citizen")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open | fulfilled | refused | withdrawn | rejected")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open requests past their deadline")] = False,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
):
    """Citizens' rights requests (access, rectification, erasure, ...), with overdue ones."""
    from ..codes import RIGHTS_STATUS_NAMES

    args = dict(
        publisher=v.address(publisher, "--publisher") if publisher else None,
        citizen=v.address(citizen, "--citizen") if citizen else None,
        status=v.choice(status, tuple(RIGHTS_STATUS_NAMES.values()), "--status"),
        overdue=overdue,
        page=page,
        page_size=page_size,
    )
    return lambda conn: listing(queries.list_rights(conn, **args), "rights requests", RIGHTS_COLUMNS)


@reads_index
def used_my_data_cmd(address: Annotated[str, typer.Argument(help="The citizen's address")]):
    """Releases whose consent snapshot included this address, each with its Merkle proof (checked)."""
    from ..config import config
    from ..fingerprint.consent_tree import verify_consent_proof
    from ..release.snapshots import SnapshotIndex

    citizen = v.address(address, "address")

    def ask(conn) -> View:
        used = queries.used_by(conn, SnapshotIndex(config().data_dir), citizen)
        for u in used:
            u["proof_verified"] = verify_consent_proof(u["consent_root"], citizen, u["proof"])
        cols = RELEASE_COLUMNS + [
            ("proof", lambda r: "verified" if r["proof_verified"] else "[red]INVALID[/]"),
            ("deletion", lambda r: deletion_cell(r["deletion"])),
            ("deliveries", lambda r: len(r["deliveries"])),  # the data room served the release file
        ]
        return View(used, f"releases that used data of {citizen}", cols, used, f"{len(used)} release(s)")

    return ask


def deletion_cell(obligation: dict | None) -> str:
    """A citizen's deletion obligation for a release: requested on ..., confirmed on ..., or overdue."""
    if obligation is None:
        return ""
    if obligation["confirmed_at"]:
        late = " (late)" if obligation["late"] else ""
        return f"confirmed {when(obligation['confirmed_at'])}{late}"
    return "[red]OVERDUE[/]" if obligation["overdue"] else f"requested, due {when(obligation['deadline'])}"


@reads_index
def status_cmd(network: Annotated[str | None, NETWORK] = None):
    """The index against the node: last indexed block, head, lag, finalized block, contracts.

    Exit 0 when the node answers and is consistent, 6 when it does not answer, 7 when the indexer
    found it contradicting itself; 1 when the store cannot be read."""
    from web3 import HTTPProvider, Web3

    from ..config import config

    cfg = config()
    net = cfg.network(network)
    try:
        head = Web3(HTTPProvider(net.rpc_url, request_kwargs={"timeout": 2})).eth.block_number
    except Exception:
        head = None

    def ask(conn) -> View:
        from sqlalchemy import text

        st = queries.index_status(conn, head, net, cfg.confirmations)
        # Read by name from the row as stored: stores written before the indexer recorded it have no such column.
        row = conn.execute(text("SELECT * FROM checkpoint WHERE id = 1")).mappings().first()
        st["node_inconsistent"] = (row or {}).get("node_inconsistent")
        code = exits.OK
        if not st["rpc_reachable"]:
            code = exits.NODE_DOWN
        elif st["node_inconsistent"]:
            code = exits.NODE_INCONSISTENT
        return View(st, lines=status_lines(st, net.rpc_url), exit_code=code)

    return ask


def status_lines(st: dict, rpc_url: str) -> list[str]:
    node = f"head {st['head_block']}" if st["rpc_reachable"] else f"[red]not answering[/] ({rpc_url})"
    lines = [f"[bold]network[/]    {st['network']} (chain {st['chain_id']}), node {node}"]
    if st["node_inconsistent"]:
        lines.append(f"[bold]node[/]       [red]inconsistent[/]: {st['node_inconsistent']}")
    lag = st["lag"] if st["lag"] is not None else "?"
    last, finalized = st["last_indexed_block"], st["finalized_block"]
    lines.append(f"[bold]index[/]      last block {last}, finalized {finalized}, lag {lag} block(s)")
    lines += [f"[bold]{name:<16}[/] {address}" for name, address in st["contracts"].items()]
    return lines


def register(app: typer.Typer) -> None:
    app.command("datasets")(datasets_cmd)
    app.command("dataset")(dataset_cmd)
    app.command("consents")(consents_cmd)
    app.command("consent-check")(consent_check_cmd)
    app.command("releases")(releases_cmd)
    app.command("used-my-data")(used_my_data_cmd)
    app.command("status")(status_cmd)
