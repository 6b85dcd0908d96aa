"""CLI commands: `receipt get KEY` (a consent receipt from the index) and `receipt verify FILE`
(a receipt checked against the chain itself, not the index: docs/RECEIPTS.md).

verify reads, for each change the receipt lists, the log at its transaction and log index from the
node, decodes it with the ConsentRegistry ABI, rebuilds the receipt's facts from those logs with the
same builder the API uses (query/receipts.py), and compares: a fact that differs is INVALID and
named (exit 4); a genuine receipt whose consent changed since is OUTDATED (exit 5); else VALID."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import CityLedgerError
from . import exits
from .base import DB, View, lazy, store

if TYPE_CHECKING:
    from ..query.receipts import Verdict

# Imported when a command runs: the query floor loads SQLAlchemy and the store's models.
v = lazy("cityledger.query.validate")

NETWORK = typer.Option("--network", help="Configured network (default: CITYLEDGER_NETWORK or devnet).")
JSON_OUT = typer.Option("--json", help="Print one JSON object instead of text.")
# The ConsentRegistry events a receipt's changes come from, by the indexer's action names.
ACTIONS = {"ConsentGranted": "grant", "ConsentRevoked": "revoke", "SignaturesCancelled": "cancel"}
ACTION_OF_CHANGE = {"granted": "grant", "renewed": "grant", "revoked": "revoke", "signatures_cancelled": "cancel"}


def get_cmd(
    key: Annotated[str, typer.Argument(help="The consent key (0x + 64 hex: `key` in `cityledger consents --json`)")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the receipt to this file")] = None,
    db: Annotated[str | None, DB] = None,
) -> None:
    """A consent's receipt (ISO/IEC TS 27560 record, W3C DPV terms, JSON-LD), from the index."""
    from ..config import config
    from ..query import receipts

    consent_key = v.hash32(key, "key")
    with store(db) as conn:
        doc = receipts.consent_receipt(conn, consent_key, network=config().network().name)
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CityLedgerError(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"wrote the receipt of consent {consent_key} to {out}")


def _hex(value: Any) -> str:
    return ("0x" + value.hex()) if isinstance(value, bytes | bytearray) else str(value).lower()


def _decode(registry: Any, log: Any) -> tuple[str, dict[str, Any]] | None:
    """(action, args) of a ConsentRegistry log, or None when it is no consent change."""
    from web3.exceptions import MismatchedABI

    names = {e.get("name") for e in registry.abi if e.get("type") == "event"}
    for name, action in ACTIONS.items():
        if name not in names:
            continue
        try:
            decoded = registry.events[name]().process_log(log)
        except MismatchedABI:
            continue
        return action, {k: _hex(a) if isinstance(a, bytes | bytearray | str) else a for k, a in decoded["args"].items()}
    return None


def _chain_events(w3: Any, registry: Any, claimed: dict[str, Any]) -> tuple[list[dict[str, Any]], Verdict | None]:
    """The consent events at the transactions and log indexes the receipt names, read from the
    node; or the verdict on the first change that is not there."""
    from ..query import receipts

    events: list[dict[str, Any]] = []
    key = str(claimed["chain"]["consentKey"]).lower()
    for i, change in enumerate(claimed["events"]):
        if not isinstance(change, dict):
            return [], receipts.Verdict("INVALID", f"events.{i}", f"events.{i} is not an object")
        tx = change.get("transactionHash")
        if change.get("change") == "expired" and tx is None:
            continue  # no transaction: the builder derives it from the grant's expiry and the time
        field = f"events.{i}.transactionHash"
        try:
            receipt = w3.eth.get_transaction_receipt(v.hash32(str(tx), field))
        except Exception:  # not found, or not a hash: either way the chain has no such change
            return [], receipts.Verdict("INVALID", field, f"{field}: the chain has no transaction {tx!r}")
        log = next((lg for lg in receipt["logs"] if lg["logIndex"] == change.get("logIndex")), None)
        if log is None or log["address"].lower() != registry.address.lower():
            return [], receipts.Verdict(
                "INVALID", f"events.{i}.logIndex", f"events.{i}: transaction {tx} has no consent change there"
            )
        decoded = _decode(registry, log)
        if decoded is None or decoded[1]["key"] != key:
            return [], receipts.Verdict("INVALID", field, f"{field}: that change is not one of consent {key}")
        action, args = decoded
        if ACTION_OF_CHANGE.get(str(change.get("change"))) != action:
            return [], receipts.Verdict(
                "INVALID", field, f"{field}: that change is a {action}, not {change.get('change')!r}"
            )
        block = w3.eth.get_block(log["blockNumber"])
        events.append(
            {
                "block_number": log["blockNumber"],
                "log_index": log["logIndex"],
                "tx_hash": _hex(log["transactionHash"]),
                "timestamp": int(block["timestamp"]),
                "action": action,
                "expiry": args.get("expiry", 0),
                "submitted_by": args.get("submitted_by", args["citizen"]),  # cancel_signatures: the citizen
                **{k: a for k, a in args.items() if k not in ("expiry", "submitted_by")},
            }
        )
    return events, None


def _check(claimed: dict[str, Any], network: str | None) -> Verdict:
    """The verdict on a parsed receipt against the chain of the configured network."""
    from ..chain.connection import connect
    from ..chain.deployments import contract, load_deployment
    from ..config import config
    from ..query import receipts

    for path in ("chain.chainId", "chain.contract", "chain.consentKey", "events"):
        if receipts.fact(claimed, path) is receipts.MISSING:
            return receipts.Verdict("INVALID", path, f"{path} is missing: not a CityLedger consent receipt")
    net = config().network(network)
    if claimed["chain"]["chainId"] != net.chain_id:
        return receipts.Verdict(
            "INVALID",
            "chain.chainId",
            f"chain.chainId says {claimed['chain']['chainId']!r}; network '{net.name}' is chain {net.chain_id} "
            "(check it against another network with --network)",
        )
    w3 = connect(net)
    deployment = load_deployment(net.chain_id)
    registry = contract(w3, deployment, "ConsentRegistry")
    if str(claimed["chain"]["contract"]).lower() != registry.address.lower():
        return receipts.Verdict(
            "INVALID",
            "chain.contract",
            f"chain.contract says {claimed['chain']['contract']!r}; CityLedger's ConsentRegistry on chain "
            f"{net.chain_id} is {registry.address.lower()}",
        )
    if not isinstance(claimed["events"], list) or not claimed["events"]:
        return receipts.Verdict("INVALID", "events", "events must list the consent's changes")
    events, refused = _chain_events(w3, registry, claimed)
    if refused is not None:
        return refused
    if not any(e["action"] == "grant" for e in events):
        return receipts.Verdict("INVALID", "events", "events: a consent starts with a grant")
    head = w3.eth.get_block("latest")
    truth = receipts.build_receipt(
        events,
        receipts.ChainMeta(net.chain_id, registry.address.lower(), net.name),
        int(head["number"]),
        int(head["timestamp"]),
    )
    verdict = receipts.check_receipt(claimed, truth)
    if verdict.verdict == "INVALID":
        return verdict
    # Every change moves the key's nonce by one: a change left out of the receipt leaves a gap.
    for i, e in enumerate(events):
        if int(e["nonce"]) != i + 1:
            return receipts.Verdict("INVALID", "events", f"events: the change with nonce {i + 1} is not in the receipt")
    if verdict.verdict == "OUTDATED":
        return verdict
    _expiry, nonce_now, _granted_at = registry.functions.consent(bytes.fromhex(events[0]["key"][2:])).call()
    if nonce_now > len(events):
        return receipts.Verdict(
            "OUTDATED",
            None,
            f"the consent changed since this receipt was issued ({nonce_now - len(events)} change(s) later); "
            "get an updated receipt",
        )
    return verdict


def verify_cmd(
    file: Annotated[Path, typer.Argument(help="A consent receipt (JSON-LD) from the page or `cityledger receipt get`")],
    network: Annotated[str | None, NETWORK] = None,
    as_json: Annotated[bool, JSON_OUT] = False,
) -> None:
    """Check a consent receipt against the chain: VALID (exit 0), INVALID with the field that does not
    match (exit 4), or OUTDATED: genuine, but the consent changed since (exit 5)."""
    from ..query import receipts

    try:
        claimed = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CityLedgerError(f"cannot read {file}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CityLedgerError(f"{file} is not a JSON receipt: {exc}") from None
    if isinstance(claimed, dict):
        verdict = _check(claimed, network)
    else:
        verdict = receipts.Verdict("INVALID", "", "a receipt is a JSON object")
    code = {"VALID": exits.OK, "INVALID": exits.MISMATCH, "OUTDATED": exits.NOT_CURRENT}[verdict.verdict]
    key = receipts.fact(claimed, "chain.consentKey")
    data = {**verdict.to_json(), "file": str(file), "key": None if key is receipts.MISSING else key}
    from rich.markup import escape

    View(data, lines=[escape(f"{verdict.verdict}: {verdict.reason}")], exit_code=code).show(as_json)


def register(app: typer.Typer) -> None:
    receipt = typer.Typer(
        help="Consent receipts: get one from the index, verify one against the chain.", no_args_is_help=True
    )
    receipt.command("get")(get_cmd)
    receipt.command("verify")(verify_cmd)
    app.add_typer(receipt, name="receipt")
