"""CLI command: release (owned by api/ and release/): the consent-filtered release of a personal
dataset, written to disk and logged on chain from the publisher's account."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import CityLedgerError
from .base import View, store
from .chain_cmds import prompt_password


def release_cmd(
    access_id: Annotated[int, typer.Argument(min=1, help="The live access grant the release is for")],
    file: Annotated[Path, typer.Argument(help="The dataset file (CSV with a 'subject' column of addresses)")],
    purpose: Annotated[
        str, typer.Option("--purpose", help="DPV purpose (must be the access grant's), e.g. ScientificResearch")
    ],
    block: Annotated[
        int | None, typer.Option("--block", min=0, help="Consent snapshot block (default: last finalized)")
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Where to write the filtered file")] = None,
    network: Annotated[str | None, typer.Option("--network", "-n", help="A network of cityledger.toml")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: [store] url)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Filter and report; write nothing, log nothing")] = False,
    operator: Annotated[
        str | None,
        typer.Option(
            "--operator",
            help="Log it as this release operator of the publisher (devnet: its mnemonic account; elsewhere the "
            "key set must be it). Default: the publisher, or the key set",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Release the rows whose subjects consented (as of a block), k-anonymous when the dataset declares
    quasi-identifiers, and log it on chain (run by the publisher or one of its release operators)."""
    from ..chain.accounts import configured_key, key_source
    from ..chain.connection import connect
    from ..chain.deployments import contract, load_deployment
    from ..config import config
    from ..query import validate as v
    from ..query.errors import BadInput
    from ..release import service
    from ..release.snapshots import document_hash

    cfg = config()
    net = cfg.network(network)
    purpose_hash = v.purpose(purpose, "--purpose")
    if operator is not None:
        try:
            operator = v.address(operator, "--operator")
        except BadInput as exc:
            raise CityLedgerError(str(exc)) from None
    with store(db) as conn:
        rpc = None if dry_run else connect(net)
        prepared = service.prepare(
            conn,
            access_id=access_id,
            purpose=purpose_hash,
            file=file,
            block=block,
            rpc_timestamp=(lambda n: rpc.eth.get_block(n)["timestamp"]) if rpc else None,
        )
    result = {
        "access_id": access_id,
        "dataset_id": prepared.dataset_id,
        "snapshot_block": prepared.snapshot_block,
        "rows_in": prepared.rows_in,
        "rows_out": len(prepared.rows),
        "subject_count": prepared.subject_count,
        "excluded_subjects": prepared.excluded_subjects,
        "consent_root": prepared.consent_root,
        "release_hash": prepared.release_hash,
        "k_anonymity": prepared.k_anonymity,
        "k": prepared.k.to_json() if prepared.k is not None else None,
    }
    if not dry_run:
        key = configured_key(prompt=prompt_password)  # a key the user set signs, on every network
        if key is not None:  # the publisher's or an operator's: check_on_chain says which it must be
            if operator is not None and key.address.lower() != operator:
                raise CityLedgerError(f"the key in {key_source()} is {key.address}, not the operator {operator}")
            account = key
        elif operator is not None:
            account = service.signing_account(net, operator, "the release operator")
        else:
            account = service.publisher_account(net, prepared.publisher)
        access = contract(rpc, load_deployment(net.chain_id, cfg), "AccessRegistry", cfg)
        # Checked on chain before writing anything: a refused log leaves no files behind.
        service.check_on_chain(rpc, access, account, prepared)
        written, snapshot = service.write(prepared, cfg.data_dir, out_file)
        release_id, tx_hash = service.log_on_chain(rpc, access, account, prepared)
        result |= {
            "release_id": release_id,
            "tx_hash": tx_hash,
            "logged_by": account.address,
            "file": str(written),
            "snapshot": str(snapshot),
            "snapshot_hash": document_hash(snapshot),
        }
    guard = prepared.k
    lines = [
        f"{result['rows_out']} of {result['rows_in']} rows, {result['subject_count']} consenting subject(s) "
        f"({result['excluded_subjects']} without consent left out) as of block {result['snapshot_block']}",
        "k-anonymity: no quasi-identifier declared (k 0 on chain)"
        if guard is None
        else f"k-anonymity: k {guard.k_achieved} (required {guard.k_required})"
        + (
            f", generalised {', '.join(f'{c} to {lv}' for c, lv in guard.generalised.items())}"
            if guard.generalised
            else ""
        )
        + (f", {guard.suppressed} row(s) suppressed" if guard.suppressed else ""),
        f"consent root {result['consent_root']}",
        f"release hash {result['release_hash']}",
    ]
    if not dry_run:
        lines += [
            f"written {result['file']}",
            f"snapshot {result['snapshot']} (document {result['snapshot_hash']})",
            f"[green]logged[/] release {result['release_id']} on chain by {result['logged_by']} "
            f"(tx {result['tx_hash']})",
        ]
    View(result, lines=lines).show(as_json)


def register(app: typer.Typer) -> None:
    app.command("release")(release_cmd)
