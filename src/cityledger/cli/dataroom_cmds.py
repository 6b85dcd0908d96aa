"""CLI commands of the data room (docs/DATAROOM.md): `download` (an open dataset from a data room,
checked against its digest), `deliveries` (who received which release file, from the store) and
`dataroom serve-obligations` (the loop that opens deletion obligations; `cityledger up` starts it).
Deletion obligations themselves: `cityledger obligations [list] | request | confirm` (ledger_cmds)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import CityLedgerError
from ..query import validate as v
from .base import View, reads_index
from .query_cmds import NETWORK, PAGE, PAGE_SIZE, listing, short, when


def _digest_of(header: str | None) -> bytes | None:
    """The SHA-256 of an RFC 9530 `Content-Digest: sha-256=:<base64>:` header, if it names one."""
    for part in (header or "").split(","):
        algo, _, value = part.strip().partition("=")
        if algo.strip().lower() == "sha-256" and value.startswith(":") and value.endswith(":"):
            try:
                return base64.b64decode(value.strip(":"), validate=True)
            except ValueError:
                return None
    return None


def download_cmd(
    dataset: Annotated[str, typer.Argument(help="Dataset id or 0x content hash")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write it (default: its file name)")] = None,
    api: Annotated[
        str | None, typer.Option("--api", help="The data room's URL (default: [dataroom] public_url)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Download an open dataset from a data room; kept only if its bytes hash to the digest the data
    room states and to the content hash registered on chain (read from the data room's index)."""
    import httpx

    from ..config import config

    ref = dataset.strip()
    if not (ref.isdigit() or ref.startswith("0x")):
        raise CityLedgerError(f"dataset must be an id or a 0x content hash, got {ref[:80]!r}")
    base = (api or config().public_url).rstrip("/")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            info = client.get(f"/api/datasets/{ref}")
            if info.status_code != 200:
                raise CityLedgerError(_error_of(info, f"dataset {ref}"))
            registered = bytes.fromhex(info.json()["content_hash"][2:])
            with client.stream("GET", f"/api/datasets/{ref}/download") as answer:
                if answer.status_code != 200:
                    answer.read()
                    raise CityLedgerError(_error_of(answer, f"dataset {ref}"))
                stated = _digest_of(answer.headers.get("content-digest"))
                name = _file_name(answer.headers.get("content-disposition"), f"dataset-{ref}")
                target = Path(out) if out else Path(name)
                digest, size = _receive(answer, target, registered if stated is None else stated)
    except httpx.HTTPError as exc:
        raise CityLedgerError(f"the data room at {base} does not answer: {exc}") from None
    if digest != registered:  # the data room's digest and the chain disagree: nothing is kept
        target.unlink(missing_ok=True)
        raise CityLedgerError(f"the file hashes to 0x{digest.hex()}, not the registered 0x{registered.hex()}")
    result = {"dataset": ref, "file": str(target), "bytes": size, "sha256": "0x" + digest.hex(), "verified": True}
    View(result, lines=[f"downloaded {target} ({size} bytes), SHA-256 0x{digest.hex()} = the registered hash"]).show(
        as_json
    )


def private_query_cmd(
    access_id: Annotated[int, typer.Argument(help="Your live access to a personal dataset")],
    query: Annotated[Path, typer.Option("--query", "-q", help="The query, a JSON file (docs/PRIVACY.md section 5)")],
    api: Annotated[
        str | None, typer.Option("--api", help="The data room's URL (default: [dataroom] public_url)")
    ] = None,
    network: Annotated[str | None, NETWORK] = None,
    from_account: Annotated[
        int | None, typer.Option("--from-account", help="Devnet account index (default: the access's grantee)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Ask a data room for a differentially private answer under your access: signs in with your key
    (EIP-4361), sends the query and prints the answer with its 95% intervals, the epsilon it spent on
    chain and the budget left. The query's `access_id` and a fresh `nonce` are added when absent."""
    import secrets

    import httpx

    from ..config import config
    from ..dataroom.client import sign_in
    from .ledger_cmds import _signer

    try:
        doc = json.loads(Path(query).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CityLedgerError(f"{query}: not a readable JSON query ({exc})") from None
    if not isinstance(doc, dict):
        raise CityLedgerError(f"{query}: a query is a JSON object (docs/PRIVACY.md section 5)")
    doc.setdefault("access_id", access_id)
    doc.setdefault("nonce", secrets.token_hex(8))  # each run is a new question; a given nonce is kept
    cfg = config()
    net = cfg.network(network)
    base = (api or cfg.public_url).rstrip("/")
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            access = client.get(f"/api/access/{access_id}")
            if access.status_code != 200:
                raise CityLedgerError(_error_of(access, f"access {access_id}"))
            account = _signer(net, from_account, access.json()["requester"], "the access's grantee")
            sign_in(client, account)
            answer = client.post(f"/api/access/{access_id}/queries", json=doc)
            result = answer.json() if answer.status_code == 201 else _answered_before(client, access_id, answer)
            if result is None:
                raise CityLedgerError(_error_of(answer, f"query under access {access_id}"))
    except httpx.HTTPError as exc:
        raise CityLedgerError(f"the data room at {base} does not answer: {exc}") from None
    View(result, lines=_answer_lines(result)).show(as_json)


def _answered_before(client: Any, access_id: int, refused: Any) -> dict[str, Any] | None:
    """The same question asked again (its nonce kept, e.g. after a dropped connection) is refused as a
    replay and nothing is spent: the answer the data room kept for it is shown instead, if it has one."""
    try:
        error = refused.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    hashes = re.findall(r"0x[0-9a-f]{64}", error.get("message", ""))
    if error.get("code") != "query_replayed" or not hashes:
        return None
    kept = client.get(f"/api/access/{access_id}/answers", params={"query_hash": hashes[0]})
    items = kept.json().get("items") if kept.status_code == 200 else None
    if not items:
        return None
    return {**items[0], "replayed": True}


def _answer_lines(a: dict[str, Any]) -> list[str]:
    """The answer as a person reads it: one line per group and statistic, with its interval."""
    what = a["statistic"] + (f" of {a['column']}" if a["column"] else "")
    lines = [f"{what}, epsilon {a['epsilon']} ({int(a['confidence'] * 100)}% intervals):"]
    for g in a["groups"]:
        key = ", ".join(f"{k}={val}" for k, val in g["key"].items()) or "all rows"
        if g["suppressed"]:
            lines.append(f"  {key}: suppressed (too few rows to show)")
            continue
        for name in ("count", "sum", "mean"):
            if name in g:
                est = g[name]
                lines.append(f"  {key}: {name} {est['value']} ({est['low']} to {est['high']})")
        for q in g.get("quantiles", []):
            lines.append(
                f"  {key}: quantile {q['level']} = {q['value']} (between the true {q['level_low']} and "
                f"{q['level_high']} quantiles)"
            )
    b = a["budget"]
    lines.append(
        f"logged as query {a['query_id']} (tx {short(a['tx_hash'])}), hash {short(a['query_hash'])}, over "
        f"{a['subject_count']} consenting subjects (root {short(a['consent_root'])}, block {a['snapshot_block']})"
    )
    lines.append(f"budget: spent {b['spent']} of {b['budget']}, {b['remaining']} left")
    if a.get("replayed"):
        lines.append("asked before with this nonce: this is the answer kept then, and nothing was spent now")
    return lines


def _error_of(answer, what: str) -> str:
    from ..dataroom.client import error_of

    return error_of(answer, what)


def _file_name(disposition: str | None, fallback: str) -> str:
    from ..dataroom.files import sanitise_name

    name = None
    if disposition and 'filename="' in disposition:
        name = disposition.split('filename="', 1)[1].split('"', 1)[0]
    return sanitise_name(name, fallback)  # whatever the server says, never a path


def _receive(answer, target: Path, want: bytes) -> tuple[bytes, int]:
    """Stream the body to a temporary file next to `target`, hashing it; renamed into place only when
    it hashes to `want`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".download-")
    h, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in answer.iter_bytes():
                h.update(chunk)
                fh.write(chunk)
                size += len(chunk)
        if h.digest() != want:
            raise CityLedgerError(f"the file hashes to 0x{h.hexdigest()}, not the stated 0x{want.hex()}: not kept")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return h.digest(), size


DELIVERY_COLUMNS = [
    ("delivery", lambda d: d["delivery_id"]),
    ("release", lambda d: d["release_id"]),
    ("access", lambda d: d["access_id"]),
    ("recipient", lambda d: short(d["recipient"], 4)),
    ("when", lambda d: when(d["delivered_at"])),
    ("bytes", lambda d: d["bytes"]),
    ("sha256", lambda d: short(d["sha256"], 6)),
]


@reads_index
def deliveries_cmd(
    recipient: Annotated[str | None, typer.Option("--recipient", help="Who received the files")] = None,
    release: Annotated[int | None, typer.Option("--release", min=1, help="One release")] = None,
    access: Annotated[int | None, typer.Option("--access", min=1, help="One access grant")] = None,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
):
    """Release files the data room served: who, when, which release, bytes, SHA-256."""
    from ..query import queries

    args: dict[str, Any] = dict(
        recipient=v.address(recipient, "--recipient") if recipient else None,
        release_id=release,
        access_id=access,
        page=page,
        page_size=page_size,
    )
    return lambda conn: listing(queries.list_deliveries(conn, **args), "deliveries", DELIVERY_COLUMNS)


def serve_obligations_cmd(
    network: Annotated[str | None, NETWORK] = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.5, help="Seconds between passes")] = 5.0,
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: [store] url)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output (with --once)")] = False,
) -> None:
    """Revocation follows the data: open a deletion obligation on chain for each subject of a release
    whose consent no longer covers it, or who asked for erasure or objection (driven by the index,
    idempotent). Runs until Ctrl-C; `cityledger up` starts it."""
    from ..chain.connection import connect
    from ..chain.deployments import load_deployment
    from ..config import config
    from ..dataroom.obligations import follow_once, serve
    from ..dataroom.room import operator_account
    from ..indexer.store import make_engine

    cfg = config()
    net = cfg.network(network)
    operator = operator_account(net)
    w3 = connect(net)
    deployment = load_deployment(net.chain_id, cfg)
    engine = make_engine(db or cfg.db_url)
    try:
        if once:
            res = follow_once(engine, w3, deployment, operator, cfg.data_dir, cfg)
            lines = [
                f"deletion obligation {o['obligation_id']}: release {o['release_id']}, subject {o['subject']} "
                f"({o['reason']}), due {when(o['deadline'])}"
                for o in res.opened
            ]
            lines += [f"[yellow]not opened[/]: {r}" for r in res.refused]
            data = {"opened": res.opened, "already": res.already, "refused": res.refused}
            View(data, lines=lines or ["nothing to follow"]).show(as_json)
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            serve(engine, w3, deployment, operator, cfg.data_dir, cfg, interval)
        except KeyboardInterrupt:
            pass
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.command("download")(download_cmd)
    app.command("deliveries")(deliveries_cmd)
    app.command("private-query")(private_query_cmd)
    group = typer.Typer(help="The data room: `serve-obligations` follows revocations to the recipients.")
    group.command("serve-obligations")(serve_obligations_cmd)
    app.add_typer(group, name="dataroom")
