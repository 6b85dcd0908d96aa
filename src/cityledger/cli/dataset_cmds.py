"""CLI commands: fingerprint, publish, withdraw, attest, verify, prove, verify-row (owned by datasets/)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from ..errors import CityLedgerError
from . import exits
from .base import View
from .chain_cmds import prompt_password

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

# Files at least this big get a progress bar while they are hashed.
PROGRESS_MIN_BYTES = 32 << 20

NETWORK = typer.Option(None, "--network", help="Configured network (default: CITYLEDGER_NETWORK or devnet).")
JSON_OUT = typer.Option(False, "--json", help="Print one JSON object instead of text.")


def _chain(network: str | None):
    """(network, web3, deployment): the network is resolved first so a typo fails before any I/O."""
    from ..chain.connection import connect
    from ..chain.deployments import load_deployment
    from ..config import config

    net = config().network(network)
    w3 = connect(net)
    return net, w3, load_deployment(net.chain_id)


def _account(net, index: int | None, default: int):
    """Who signs: the key the user set (any network), else on a devnet account `index` or `default`."""
    from ..chain.accounts import sender_account

    return sender_account(net, index, default, prompt=prompt_password)


@contextmanager
def _progress(total: int, label: str):
    """A progress callback (bytes) with a rich bar for big files, a no-op for small ones."""
    if total < PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _when(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "?"


def _emit(as_json: bool, data: dict, lines: list[str]) -> None:
    View(data, lines=lines).show(as_json)


def fingerprint_cmd(
    file: Path = typer.Argument(..., help="Any file; CSV/TSV/Parquet also get a row Merkle root."),
    as_json: bool = JSON_OUT,
) -> None:
    """Print a file's content hash (SHA-256) and, for tables, its row Merkle root. Needs no chain."""
    from ..datasets.fingerprints import fingerprint_file, work_bytes
    from ..fingerprint import check_readable_file

    p = check_readable_file(file)
    with _progress(work_bytes(p), f"fingerprint {p.name}") as cb:
        fp = fingerprint_file(p, cb)
    data = {
        "file": str(p),
        "content_hash": "0x" + fp.content_hash.hex(),
        "byte_size": fp.byte_size,
        "media_type": fp.media_type,
        "rows_root": "0x" + fp.rows.root.hex() if fp.rows else None,
        "record_count": fp.rows.count if fp.rows else None,
    }
    lines = [f"content hash  {data['content_hash']}  (sha256 of {fp.byte_size} bytes)"]
    if fp.rows:
        lines.append(f"rows root     {data['rows_root']}  ({fp.rows.count} rows, {fp.rows.canonical_form})")
    _emit(as_json, data, lines)


def publish_cmd(
    file: Path = typer.Argument(..., help="The dataset file."),
    title: str = typer.Option(..., "--title", help="Title of the dataset."),
    domain: str = typer.Option(..., "--domain", help="Domain: health, education, energy, environment, ..."),
    description: str | None = typer.Option(None, "--description", help="What the data is (required)."),
    license: str | None = typer.Option(
        None, "--license", help="SPDX license id or expression, e.g. CC-BY-4.0, or the license's https URL (required)."
    ),
    supersedes: int = typer.Option(0, "--supersedes", help="Id of the version this file corrects or updates."),
    personal: bool = typer.Option(False, "--personal", help="The dataset holds personal data (consent applies)."),
    privacy: Path | None = typer.Option(
        None,
        "--privacy",
        help="A JSON file with the personal dataset's cl:privacy declaration (docs/PRIVACY.md): usable columns, "
        "bounds, quasi-identifiers and the k its releases must reach.",
    ),
    temporal: str | None = typer.Option(None, "--temporal", help="Period covered: START/END (ISO dates)."),
    spatial: str | None = typer.Option(None, "--spatial", help="Place covered, e.g. 'Seattle, Washington, USA'."),
    population: str | None = typer.Option(None, "--population", help="Who or what is covered."),
    method: str | None = typer.Option(None, "--method", help="How the data was collected."),
    not_covered: str | None = typer.Option(None, "--not-covered", help="Who or what is NOT covered."),
    source: str | None = typer.Option(None, "--source", help="Where the data comes from."),
    keyword: list[str] = typer.Option([], "--keyword", help="Keyword (repeatable)."),
    metadata_uri: str | None = typer.Option(
        None, "--metadata-uri", help="s3:// or ipfs:// URI of the metadata (default: local store)."
    ),
    network: str | None = NETWORK,
    from_account: int | None = typer.Option(None, "--from-account", help="Devnet account index (default 1)."),
    as_json: bool = JSON_OUT,
) -> None:
    """Fingerprint FILE, store its DCAT metadata and register it on chain."""
    from ..config import config
    from ..dataroom.files import open_store
    from ..datasets.fingerprints import fingerprint_file, work_bytes
    from ..datasets.metadata import Coverage, DatasetInfo, check_info
    from ..datasets.registry import publish
    from ..datasets.store import MetadataStore, check_uri
    from ..fingerprint import check_readable_file

    # Everything a user can get wrong is checked before the file is read or the chain touched.
    p = check_readable_file(file)
    start, end = _period(temporal)
    declaration = _json_object(privacy, "--privacy") if privacy is not None else None
    net = config().network(network)
    account = _account(net, from_account, 1)
    info = DatasetInfo(
        title=title,
        domain=domain,
        publisher=account.address,
        description=description,
        license=license,
        personal_data=personal,
        supersedes=supersedes,
        keywords=keyword,
        source=source,
        coverage=Coverage(start, end, spatial, population, method, not_covered),
        privacy=declaration,
    )
    check_info(info)
    if metadata_uri:
        check_uri(metadata_uri)
    _, w3, deployment = _chain(net.name)
    with _progress(work_bytes(p), f"fingerprint {p.name}") as cb:
        fp = fingerprint_file(p, cb)
    files = open_store(config().data_dir, config().dataroom.file_store)  # the data room serves it from there
    result = publish(
        w3, deployment, account, p, info, store=MetadataStore(), metadata_uri=metadata_uri, fingerprint=fp, files=files
    )
    if result.already_registered:
        done = f"already registered as dataset {result.dataset_id} (content hash {result.content_hash})"
        _emit(as_json, result.to_json(), [f"{done}; nothing registered (the file is in the store {files.location})"])
        return
    lines = [
        f"registered dataset {result.dataset_id} (version {result.version}) from {account.address}",
        f"  content hash   {result.content_hash}",
        f"  metadata hash  {result.metadata_hash}",
        f"  metadata URI   {result.metadata_uri}",
    ]
    if result.rows_root:
        lines.append(f"  rows root      {result.rows_root}  ({result.record_count} rows)")
    lines.append(f"  transaction    {result.tx_hash} (block {result.block})")
    lines.append(f"  file stored in {files.location}")
    _emit(as_json, result.to_json(), lines)


def _json_object(path: Path, option: str) -> dict:
    """A JSON object read from a file an option names; one clear error otherwise."""
    from ..fingerprint import check_readable_file

    p = check_readable_file(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CityLedgerError(f"{option} {p}: not a JSON file ({exc})") from None
    if not isinstance(doc, dict):
        raise CityLedgerError(f"{option} {p}: expected a JSON object")
    return doc


def _period(temporal: str | None) -> tuple[str | None, str | None]:
    if not temporal:
        return None, None
    parts = temporal.split("/")
    if len(parts) != 2:
        raise CityLedgerError(f"--temporal '{temporal}': expected START/END, e.g. 2012-01-01/2015-12-31")
    from ..datasets.metadata import iso_date

    for part in parts:
        if part:
            iso_date(part, "--temporal")
    return parts[0] or None, parts[1] or None


def withdraw_cmd(
    dataset_id: int = typer.Argument(..., help="The version to withdraw."),
    reason: str = typer.Option(..., "--reason", help="Why (kept off chain; its SHA-256 goes on chain)."),
    network: str | None = NETWORK,
    from_account: int | None = typer.Option(
        None, "--from-account", help="Devnet account index (default: the version's publisher)."
    ),
    as_json: bool = JSON_OUT,
) -> None:
    """Withdraw a dataset version (its publisher only)."""
    from ..datasets.registry import dataset_record, withdraw

    net, w3, deployment = _chain(network)
    rec = dataset_record(w3, deployment, dataset_id)
    default = 1
    if net.devnet and from_account is None:
        from ..chain.accounts import devnet_accounts

        addrs = [a.address.lower() for a in devnet_accounts(net)]
        default = addrs.index(rec["publisher"].lower()) if rec["publisher"].lower() in addrs else 1
    account = _account(net, from_account, default)
    result = withdraw(w3, deployment, account, dataset_id, reason)
    _emit(
        as_json, result, [f"withdrew dataset {dataset_id}: transaction {result['tx_hash']} (block {result['block']})"]
    )


def attest_cmd(
    dataset_id: int = typer.Argument(..., help="The version attested."),
    kind: str = typer.Option(..., "--kind", help="quality, coverage, provenance or privacy_review."),
    report: Path = typer.Option(..., "--report", help="The audit report file (its SHA-256 goes on chain)."),
    network: str | None = NETWORK,
    from_account: int | None = typer.Option(None, "--from-account", help="Devnet account index (default 3)."),
    as_json: bool = JSON_OUT,
) -> None:
    """Attach an auditor's attestation to a dataset version."""
    from ..datasets.registry import attest, attestation_code
    from ..fingerprint import check_readable_file

    attestation_code(kind)  # bad input fails before the chain is contacted
    check_readable_file(report)
    net, w3, deployment = _chain(network)
    result = attest(w3, deployment, _account(net, from_account, 3), dataset_id, kind, report)
    _emit(
        as_json,
        result,
        [
            f"attestation {result['attestation_id']} ({kind}) on dataset {dataset_id}: "
            f"report {result['report_hash']}, transaction {result['tx_hash']}"
        ],
    )


def verify_cmd(
    file: Path = typer.Argument(..., help="The file to check against the chain."),
    dataset: int | None = typer.Option(
        None, "--dataset", min=1, help="The file must be this dataset's (exit 4 if not)."
    ),
    network: str | None = NETWORK,
    as_json: bool = JSON_OUT,
) -> None:
    """Is this exact file registered? By whom (every publisher that registered these bytes, the first
    named), when, which version, its status and attestations.

    Exit 0 registered and current, 3 not registered, 4 not the --dataset given, 5 withdrawn or superseded
    (with several registrations: the best of them, or the --dataset one's)."""
    from ..datasets.registry import STATUS_ORDER, dataset_record, verify_hash
    from ..fingerprint import check_readable_file, sha256_file

    p = check_readable_file(file)
    _, w3, deployment = _chain(network)
    expected = dataset_record(w3, deployment, dataset)["content_hash"] if dataset is not None else None
    with _progress(p.stat().st_size, f"hash {p.name}") as cb:
        digest = sha256_file(p, cb)
    v = verify_hash(w3, deployment, digest)
    if dataset is not None and expected is not None and v.of(dataset) is None:
        ids = ", ".join(str(r.dataset_id) for r in v.registrations)
        found = f"registered as dataset {ids}" if ids else "not registered"
        _emit(
            as_json,
            {**v.to_json(), "expected_dataset": dataset, "expected_content_hash": "0x" + expected.hex()},
            [
                f"MISMATCH: {p.name} is not dataset {dataset} (content hash 0x{expected.hex()}): "
                f"its content hash {v.content_hash} is {found}"
            ],
        )
        raise typer.Exit(exits.MISMATCH)
    if v.status == "not_registered":
        _emit(as_json, v.to_json(), [f"NOT REGISTERED: no dataset on chain has content hash {v.content_hash}"])
        raise typer.Exit(exits.NOT_REGISTERED)
    # The registration the answer is about: the one asked for, else the first with the best status.
    shown = v.of(dataset) if dataset is not None else None
    shown = shown or min(v.registrations, key=lambda r: STATUS_ORDER.index(r.status))
    status = shown.status
    head = {
        "registered": f"REGISTERED as dataset {shown.dataset_id} (version {shown.version}, active)",
        "superseded": f"SUPERSEDED: dataset {shown.dataset_id} (version {shown.version}) is replaced by dataset "
        f"{shown.successor}"
        + (f" (latest version: dataset {shown.latest})" if shown.latest != shown.successor else ""),
        "withdrawn": f"WITHDRAWN: dataset {shown.dataset_id} (version {shown.version}) was withdrawn by its publisher"
        + (f"; later version: dataset {shown.latest}" if shown.latest != shown.dataset_id else ""),
    }[status]
    lines = [head, f"  content hash   {v.content_hash}"]
    if len(v.registrations) > 1:
        lines.append(
            f"  registrations  {len(v.registrations)} by {len({r.publisher for r in v.registrations})} publisher(s); "
            f'first registered by {v.first_publisher} (earliest first below: none is "the" source)'
        )
    for r in v.registrations:
        lines += _registration_lines(r, several=len(v.registrations) > 1)
    data = v.to_json() | {"status": status, "dataset_id": shown.dataset_id}
    _emit(as_json, data, lines)
    if exits.VERIFY_CODES[status] != exits.OK:
        raise typer.Exit(exits.VERIFY_CODES[status])


def _registration_lines(r, several: bool) -> list[str]:
    """One registration of a verified file, as `verify` prints it."""
    state = {"registered": "active", "superseded": f"superseded by dataset {r.successor}", "withdrawn": "withdrawn"}
    lines = [f"  dataset {r.dataset_id:<6} version {r.version}, {state[r.status]}"] if several else []
    lines += [
        f"  publisher      {r.publisher}",
        f"  registered     block {r.block}, {_when(r.timestamp)}, transaction {r.tx_hash}",
        f"  domain         {r.domain}{'  (personal data)' if r.personal_data else ''}",
        f"  metadata       {r.metadata_uri}  (hash {r.metadata_hash})",
    ]
    if r.supersedes:
        lines.append(f"  supersedes     dataset {r.supersedes}")
    if not r.attestations:
        lines.append("  attestations   none")
    for a in r.attestations:
        lines.append(
            f"  attestation    #{a['attestation_id']} {a['kind']} by {a['auditor']}"
            f"{'' if a['active'] else ' (revoked)'}, report {a['report_hash']}"
        )
    return lines


def prove_cmd(
    file: Path = typer.Argument(..., help="A CSV/TSV/Parquet file."),
    row: int = typer.Option(..., "--row", help="Data row number, 1 = the first row after the header."),
    out_path: Path | None = typer.Option(None, "--out", help="Write the proof JSON here instead of stdout."),
    canonical_form: str | None = typer.Option(
        None,
        "--canonical-form",
        help="The dataset's registered cl:canonicalForm (default: cityledger-rows-v2, what publish uses now).",
    ),
) -> None:
    """Print (or write) an inclusion proof of one row against the file's row Merkle root."""
    from ..fingerprint import CANONICAL_FORM, prove_row

    proof = prove_row(file, row, canonical_form or CANONICAL_FORM)
    text = json.dumps(proof, indent=2, ensure_ascii=False) + "\n"
    if out_path is None:
        typer.echo(text, nl=False)
        return
    if out_path.is_dir():
        raise CityLedgerError(f"--out {out_path}: is a directory")
    try:
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CityLedgerError(f"--out {out_path}: cannot write ({exc.strerror or exc})") from None
    err.print(f"proof of row {row} ({proof['tree_size']} rows, root {proof['root']}) written to {out_path}")


def verify_row_cmd(
    proof_file: Path = typer.Argument(..., help="A proof JSON written by `cityledger prove`."),
    root: str | None = typer.Option(None, "--root", help="The expected rows Merkle root (hex)."),
    tree_size: int | None = typer.Option(
        None, "--tree-size", help="With --root: the table's row count (cl:recordCount), checked against the proof."
    ),
    dataset: int | None = typer.Option(
        None, "--dataset", help="Check against this registered dataset's rows root, row count and canonical form."
    ),
    network: str | None = NETWORK,
) -> None:
    """Check a row inclusion proof: against a registered dataset, against a root, or only against itself."""
    from ..datasets.registry import dataset_rows
    from ..datasets.store import MetadataStore
    from ..fingerprint import Expected, ProofInvalid, check_readable_file, check_row_proof, parse_hash, parse_proof

    if root is not None and dataset is not None:
        raise CityLedgerError("give --root or --dataset, not both")
    if tree_size is not None and root is None:
        raise CityLedgerError("--tree-size goes with --root (--dataset reads the registered row count)")
    expected = Expected(parse_hash(root, "root"), tree_size) if root is not None else None
    p = check_readable_file(proof_file)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CityLedgerError(f"{p}: cannot read ({exc.strerror or exc})") from None
    try:
        doc = parse_proof(data)  # a malformed proof is refused before the chain is contacted
        if dataset is not None:
            _, w3, deployment = _chain(network)
            reg = dataset_rows(w3, deployment, dataset, MetadataStore())
            expected = Expected(reg.root, reg.count, reg.canonical_form, dataset)
        v = check_row_proof(doc, expected)
    except ProofInvalid as exc:
        raise CityLedgerError(f"INVALID: {exc}") from None
    where = f"row {v.row_number} of {v.tree_size}"
    if dataset is not None:
        out.print(
            f"VALID: {where} is in dataset {dataset}'s registered rows root 0x{v.root.hex()} ({v.canonical_form})"
        )
    elif tree_size is not None:
        out.print(f"VALID: {where} is in the root given")
    elif root is not None:
        out.print(
            f"VALID: the row is in the root given, as {where} if the table has {v.tree_size} rows"
            " (the row count is not checked: pass --tree-size N, or --dataset ID)"
        )
    else:
        out.print(
            f"VALID (self-consistent only): {where} leads to the proof's own root 0x{v.root.hex()};"
            " nothing binds that root (pass --dataset ID, or --root HEX --tree-size N)"
        )


def register(app: typer.Typer) -> None:
    app.command("fingerprint")(fingerprint_cmd)
    app.command("publish")(publish_cmd)
    app.command("withdraw")(withdraw_cmd)
    app.command("attest")(attest_cmd)
    app.command("verify")(verify_cmd)
    app.command("prove")(prove_cmd)
    app.command("verify-row")(verify_row_cmd)
