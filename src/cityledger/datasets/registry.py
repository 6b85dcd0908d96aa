"""Datasets on chain: publish (register), withdraw, attest, and look a file up (verify).

All reads and writes go through the DatasetRegistry of a deployment; transactions through
cityledger.chain.tx.transact, so a revert surfaces as a one-line TransactionFailed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from ..chain.deployments import Deployment, contract
from ..chain.tx import transact, transact_or_undo
from ..codes import ATTESTATION_KIND_NAMES, ATTESTATION_KINDS, DOMAIN_NAMES, STATUS_WITHDRAWN
from ..dataroom.files import FileStore, put_file
from ..errors import CityLedgerError
from ..fingerprint import parse_hash, sha256_file
from .fingerprints import FileFingerprint, fingerprint_file
from .metadata import DatasetInfo, build_metadata, domain_code, metadata_hash
from .store import MetadataStore, check_uri, default_uri

MAX_UINT256 = 2**256 - 1


def dataset_id_arg(dataset_id: object) -> int:
    """A dataset id the contracts can be asked about (1..2^256 - 1), or a clear error before anything
    is encoded: eth_abi's answer to -5 was a traceback, and ids count from 1."""
    if type(dataset_id) is not int or not 1 <= dataset_id <= MAX_UINT256:
        raise CityLedgerError(f"dataset id {dataset_id!r}: expected a whole number from 1 (ids count from 1)")
    return dataset_id


def registry(w3: Web3, deployment: Deployment, cfg=None):
    return contract(w3, deployment, "DatasetRegistry", cfg)


@dataclass
class PublishResult:
    dataset_id: int
    content_hash: str
    metadata_hash: str
    metadata_uri: str | None
    rows_root: str | None
    record_count: int | None
    tx_hash: str | None
    block: int | None
    version: int | None
    already_registered: bool = False

    def to_json(self) -> dict:
        return asdict(self)


def _event(receipt, event) -> dict:
    logs = event.process_receipt(receipt, errors=DISCARD)
    if not logs:
        raise CityLedgerError("transaction mined but emitted no event (wrong contract address?)")
    return logs[0]["args"]


def publish(
    w3: Web3,
    deployment: Deployment,
    account: LocalAccount,
    path: str | Path,
    info: DatasetInfo,
    *,
    store: MetadataStore,
    metadata_uri: str | None = None,
    fingerprint: FileFingerprint | None = None,
    progress: Callable[[int], None] | None = None,
    files: FileStore | None = None,
    cfg=None,
) -> PublishResult:
    """Fingerprint `path`, store its metadata and register it. A file this publisher has registered
    (and not withdrawn) writes nothing and returns that id with already_registered=True; the same
    bytes registered by another publisher, or withdrawn by this one, are registered (a content hash
    is unique per publisher: docs/CONTRACTS.md). When the registration cannot land (refused,
    reverted) nothing stays written (a metadata document this call created is removed again);
    interrupted after its transaction was sent, the document stays, since the registration may
    still be mined. `files`: the data room's file store, which then holds the file under its content
    hash once it is registered (also when it already was)."""
    domain = domain_code(info.domain)
    if metadata_uri is not None:
        check_uri(metadata_uri)
    reg = registry(w3, deployment, cfg)
    fp = fingerprint or fingerprint_file(path, progress)
    rows_root = "0x" + fp.rows.root.hex() if fp.rows else None
    record_count = fp.rows.count if fp.rows else None
    existing = reg.functions.dataset_id_of(account.address, fp.content_hash).call()
    if existing and _record(reg, existing)["status"] != STATUS_WITHDRAWN:
        if files is not None:
            put_file(files, fp.path, fp.content_hash)
        return PublishResult(
            existing,
            "0x" + fp.content_hash.hex(),
            "",
            None,
            rows_root,
            record_count,
            None,
            None,
            None,
            already_registered=True,
        )
    if info.supersedes:
        _check_supersedable(reg, info.supersedes, account.address)
    doc = build_metadata(
        info,
        file_name=fp.path.name,
        content_hash=fp.content_hash,
        byte_size=fp.byte_size,
        media=fp.media_type,
        record_count=record_count,
        rows_root=fp.rows.root if fp.rows else None,
        canonical_form=fp.rows.canonical_form if fp.rows else None,
    )
    digest, written = store.put(doc)
    uri = metadata_uri or default_uri(digest)
    # The document goes again only if the registration cannot land (chain.tx.transact_or_undo): after
    # a Ctrl-C past the send it may be mined, and a re-run then finds it registered with its document.
    receipt = transact_or_undo(
        w3,
        account,
        reg.functions.register(fp.content_hash, digest, uri, domain, bool(info.personal_data), int(info.supersedes)),
        (lambda: store.remove(digest)) if written else (lambda: None),
    )
    args = _event(receipt, reg.events.DatasetRegistered())
    if files is not None:  # after the registration: the store holds registered bytes only
        put_file(files, fp.path, fp.content_hash)
    return PublishResult(
        dataset_id=args["dataset_id"],
        content_hash="0x" + fp.content_hash.hex(),
        metadata_hash="0x" + digest.hex(),
        metadata_uri=uri,
        rows_root=rows_root,
        record_count=record_count,
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        block=receipt["blockNumber"],
        version=args["version"],
    )


def _check_supersedable(reg, dataset_id: int, publisher: str) -> None:
    # The contract enforces this too; checking first gives the user the reason before any write.
    if dataset_id < 1 or dataset_id > reg.functions.dataset_count().call():
        raise CityLedgerError(f"dataset {dataset_id} does not exist: nothing to supersede")
    _, owner, _, _, _, _, _, successor = reg.functions.dataset(dataset_id).call()
    if owner.lower() != publisher.lower():
        raise CityLedgerError(f"dataset {dataset_id} was published by {owner}; only that publisher can supersede it")
    if successor:
        raise CityLedgerError(f"dataset {dataset_id} is already superseded by dataset {successor}")


def text_hash(text: str) -> bytes:
    """SHA-256 of a text's UTF-8 bytes: how reasons go on chain (the text stays off chain)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def withdraw(w3: Web3, deployment: Deployment, account: LocalAccount, dataset_id: int, reason: str, cfg=None) -> dict:
    dataset_id = dataset_id_arg(dataset_id)
    reg = registry(w3, deployment, cfg)
    reason_hash = text_hash(reason)
    receipt = transact(w3, account, reg.functions.withdraw(dataset_id, reason_hash))
    return {
        "dataset_id": int(dataset_id),
        "reason_hash": "0x" + reason_hash.hex(),
        "tx_hash": receipt["transactionHash"].to_0x_hex(),
        "block": receipt["blockNumber"],
    }


def attestation_code(kind: str) -> int:
    """The on-chain code of an attestation kind name; a clear error for an unknown one."""
    if kind not in ATTESTATION_KINDS:
        raise CityLedgerError(f"unknown attestation kind '{kind}' (one of: {', '.join(ATTESTATION_KINDS)})")
    return ATTESTATION_KINDS[kind]


def attest(
    w3: Web3, deployment: Deployment, account: LocalAccount, dataset_id: int, kind: str, report: str | Path, cfg=None
) -> dict:
    """Attach an auditor's attestation; the report file's SHA-256 goes on chain (the report stays off)."""
    dataset_id = dataset_id_arg(dataset_id)
    code = attestation_code(kind)
    report_hash = sha256_file(report)
    reg = registry(w3, deployment, cfg)
    # Checked before signing: an unknown or withdrawn version, or the auditor's own dataset, is this
    # error, not a reverted transaction.
    rec = _record(reg, int(dataset_id))
    if rec["status"] == STATUS_WITHDRAWN:
        raise CityLedgerError(f"dataset {dataset_id} is withdrawn: only an active version can be attested")
    if rec["publisher"].lower() == account.address.lower():
        raise CityLedgerError(
            f"dataset {dataset_id} was published by {account.address}: an auditor cannot attest its own dataset"
        )
    receipt = transact(w3, account, reg.functions.attest(int(dataset_id), code, report_hash))
    args = _event(receipt, reg.events.AttestationAdded())
    return {
        "attestation_id": args["attestation_id"],
        "dataset_id": int(dataset_id),
        "kind": kind,
        "report_hash": "0x" + report_hash.hex(),
        "tx_hash": receipt["transactionHash"].to_0x_hex(),
        "block": receipt["blockNumber"],
    }


@dataclass
class Registration:
    """One registration of a content hash: a dataset version, by one publisher."""

    dataset_id: int
    publisher: str
    status: str  # registered | superseded | withdrawn
    version: int
    domain: str
    personal_data: bool
    supersedes: int = 0
    successor: int = 0
    latest: int = 0  # the newest version of its lineage
    block: int | None = None
    timestamp: int | None = None
    tx_hash: str | None = None
    metadata_hash: str | None = None
    metadata_uri: str | None = None
    withdrawn_reason_hash: str | None = None
    attestations: list[dict] = field(default_factory=list)


@dataclass
class Verification:
    """Every registration of a content hash, the earliest first. A content hash names no single
    publisher (docs/CONTRACTS.md, "What `verify` shows when several publishers registered the same
    bytes"): `status` is the best of them (registered, then superseded, then withdrawn) and
    `first_publisher` who registered the bytes first; nothing picks one as "the" source."""

    status: str  # registered | superseded | withdrawn | not_registered
    content_hash: str
    registrations: list[Registration] = field(default_factory=list)

    @property
    def first_publisher(self) -> str | None:
        return self.registrations[0].publisher if self.registrations else None

    def of(self, dataset_id: int) -> Registration | None:
        """The registration that is dataset `dataset_id`, if it is one of them."""
        return next((r for r in self.registrations if r.dataset_id == dataset_id), None)

    def by(self, publisher: str) -> list[Registration]:
        """The registrations of one publisher (several only when it withdrew and registered again)."""
        return [r for r in self.registrations if r.publisher.lower() == publisher.lower()]

    def to_json(self) -> dict:
        return {**asdict(self), "first_publisher": self.first_publisher}


# The overall status of a hash: its best registration's.
STATUS_ORDER = ("registered", "superseded", "withdrawn")


def registration(w3: Web3, deployment: Deployment, dataset_id: int, cfg=None) -> dict:
    """The DatasetRegistered event of a version (metadata hash and URI live only in the event)."""
    return _registration(registry(w3, deployment, cfg), deployment, dataset_id)


def _registration(reg, deployment: Deployment, dataset_id: int) -> dict:
    logs = reg.events.DatasetRegistered().get_logs(
        from_block=deployment.start_block, argument_filters={"dataset_id": dataset_id_arg(dataset_id)}
    )
    if not logs:
        raise CityLedgerError(f"dataset {dataset_id} is not registered on this chain")
    return logs[0]


def dataset_record(w3: Web3, deployment: Deployment, dataset_id: int, cfg=None) -> dict:
    return _record(registry(w3, deployment, cfg), dataset_id)


def _record(reg, dataset_id: int) -> dict:
    # `reg` is passed in by callers that read several records: each registry() reads the ABI file.
    dataset_id = dataset_id_arg(dataset_id)
    if dataset_id > reg.functions.dataset_count().call():
        raise CityLedgerError(f"dataset {dataset_id} is not registered on this chain")
    keys = ("content_hash", "publisher", "version", "domain", "personal_data", "status", "supersedes", "successor")
    return dict(zip(keys, reg.functions.dataset(int(dataset_id)).call(), strict=True))


def verify_hash(w3: Web3, deployment: Deployment, content_hash: bytes, cfg=None) -> Verification:
    """What the chain says about a content hash: every registration of it (by whom, when, version,
    status, attestations), the earliest first."""
    reg = registry(w3, deployment, cfg)
    out = Verification(status="not_registered", content_hash="0x" + content_hash.hex())
    logs = reg.events.DatasetRegistered().get_logs(
        from_block=deployment.start_block, argument_filters={"content_hash": content_hash}
    )
    for log in sorted(logs, key=lambda lg: (lg["blockNumber"], lg["logIndex"])):
        out.registrations.append(_verified_registration(w3, deployment, reg, log))
    if out.registrations:
        out.status = min((r.status for r in out.registrations), key=STATUS_ORDER.index)
    return out


def _verified_registration(w3: Web3, deployment: Deployment, reg, log) -> Registration:
    dataset_id = int(log["args"]["dataset_id"])
    rec = _record(reg, dataset_id)
    out = Registration(
        dataset_id=dataset_id,
        publisher=rec["publisher"],
        status="registered",
        version=rec["version"],
        domain=DOMAIN_NAMES.get(rec["domain"], str(rec["domain"])),
        personal_data=rec["personal_data"],
        supersedes=rec["supersedes"],
        successor=rec["successor"],
        block=log["blockNumber"],
        timestamp=w3.eth.get_block(log["blockNumber"])["timestamp"],
        tx_hash=log["transactionHash"].to_0x_hex(),
        metadata_hash="0x" + log["args"]["metadata_hash"].hex(),
        metadata_uri=log["args"]["metadata_uri"],
    )
    latest, successor = dataset_id, rec["successor"]
    while successor:
        latest = successor
        successor = _record(reg, successor)["successor"]
    out.latest = latest
    if rec["status"] == STATUS_WITHDRAWN:
        out.status = "withdrawn"
        wlogs = reg.events.DatasetWithdrawn().get_logs(
            from_block=deployment.start_block, argument_filters={"dataset_id": dataset_id}
        )
        if wlogs:
            out.withdrawn_reason_hash = "0x" + wlogs[0]["args"]["reason_hash"].hex()
    elif rec["successor"]:
        out.status = "superseded"
    for ev in reg.events.AttestationAdded().get_logs(
        from_block=deployment.start_block, argument_filters={"dataset_id": dataset_id}
    ):
        aid = ev["args"]["attestation_id"]
        _, auditor, kind, active = reg.functions.attestation(aid).call()
        out.attestations.append(
            {
                "attestation_id": aid,
                "auditor": auditor,
                "kind": ATTESTATION_KIND_NAMES.get(kind, str(kind)),
                "active": active,
                "report_hash": "0x" + ev["args"]["report_hash"].hex(),
                "block": ev["blockNumber"],
            }
        )
    return out


def verify_file(
    w3: Web3, deployment: Deployment, path: str | Path, cfg=None, progress: Callable[[int], None] | None = None
) -> Verification:
    return verify_hash(w3, deployment, sha256_file(path, progress), cfg)


@dataclass(frozen=True)
class RegisteredRows:
    """What a registered version's metadata says about its rows (checked against the hash on chain)."""

    root: bytes
    count: int
    canonical_form: str
    content_hash: bytes


def dataset_rows(w3: Web3, deployment: Deployment, dataset_id: int, store: MetadataStore, cfg=None) -> RegisteredRows:
    """Rows Merkle root, record count and canonical form of a registered version, read from its metadata
    document (checked against the metadata hash on chain): what a row proof must be bound to."""
    log = registration(w3, deployment, dataset_id, cfg)
    digest = bytes(log["args"]["metadata_hash"])
    uri = log["args"]["metadata_uri"]
    if not uri.startswith("cityledger://"):
        raise CityLedgerError(f"dataset {dataset_id}: metadata lives at {uri}; fetch it and pass --root")
    doc = store.get_uri(uri)
    if metadata_hash(doc) != digest:
        raise CityLedgerError(f"dataset {dataset_id}: the stored metadata does not match the hash on chain")
    root, count, form = doc.get("cl:rowsMerkleRoot"), doc.get("cl:recordCount"), doc.get("cl:canonicalForm")
    if not root:
        raise CityLedgerError(f"dataset {dataset_id} has no row Merkle root (not a table)")
    # A publisher can register any document: its row fields are checked like any other input.
    if not isinstance(root, str) or type(count) is not int or count < 0 or not isinstance(form, str):
        raise CityLedgerError(
            f"dataset {dataset_id}: its metadata's cl:rowsMerkleRoot, cl:recordCount or cl:canonicalForm is malformed"
        )
    return RegisteredRows(
        parse_hash(root, f"dataset {dataset_id} rows root"), count, form, bytes(log["args"]["content_hash"])
    )
