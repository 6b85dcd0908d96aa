"""The consent-filtered release of a personal dataset.

Given a live access grant, a purpose, a block (default: the last finalized block of the index) and
the dataset file (a CSV with a `subject` column of pseudonymous addresses), keep the rows whose
subject had, as of that block, an active consent covering (dataset, purpose, grantee): scope the
dataset, its publisher or its domain; grantee the access's grantee or ANY_RESEARCHER if the
grantee held the researcher role. When the dataset's registered metadata declares quasi-identifiers
(`cl:privacy`, docs/PRIVACY.md), the kept rows are made k-anonymous (generalised, or refused); the k
reached goes on chain with the release. The released rows' subjects form the consent snapshot (an
OpenZeppelin keccak Merkle tree), published so that anyone can audit the claim (release/audit.py);
the filtered file, the snapshot and the on-chain log tie them together.

On chain (AccessRegistry.log_release, docs/CONTRACTS.md "Release claims") the snapshot block must be
at or after the access's grant block and at most `max_snapshot_age` blocks old; the release is
logged by the dataset's publisher or one of its release operators. All of it is checked here before
anything is written or sent.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import RowMapping, select
from sqlalchemy.engine import Connection
from web3 import Web3
from web3.contract import Contract

from .. import codes
from ..chain.accounts import deployer_account, devnet_accounts
from ..chain.tx import transact
from ..config import Network
from ..datasets.store import MetadataStore, load_verified
from ..errors import CityLedgerError
from ..fingerprint.consent_tree import ConsentTree
from ..fingerprint.hashing import check_readable_file, sha256_file
from ..query import queries
from ..query import validate as v
from ..query.errors import BadInput, NotFound
from .snapshots import write_snapshot

if TYPE_CHECKING:
    from ..privacy import KAnonymity

SUBJECT_COLUMN = "subject"


@dataclass
class PreparedRelease:
    access_id: int
    dataset_id: int
    publisher: str
    grantee: str
    purpose: str
    snapshot_block: int
    header: list[str]
    rows: list[list[str]]
    rows_in: int
    tree: ConsentTree
    dialect: str = ","
    excluded_subjects: int = 0
    data: bytes = field(default=b"", repr=False)
    granted_block: int = 0  # the access's grant (the snapshot may not be older)
    # The k-anonymity guard's outcome; None when the dataset declares no privacy (k 0 on chain).
    k: KAnonymity | None = None

    @property
    def k_anonymity(self) -> int:
        """k as log_release records it: the smallest released class (0: no quasi-identifier declared)."""
        return self.k.k_onchain if self.k is not None else 0

    @property
    def consent_root(self) -> str:
        return "0x" + self.tree.root.hex()

    @property
    def subject_count(self) -> int:
        return len(self.tree)

    @property
    def release_hash(self) -> str:
        return "0x" + hashlib.sha256(self.data).hexdigest()


def _lineage_forward(conn: Connection, start_id: int) -> dict[int, RowMapping]:
    """The version `start_id` and every later version of it, by id."""
    out: dict[int, RowMapping] = {}
    row = conn.execute(select(queries.D).where(queries.D.c.id == start_id)).mappings().first()
    while row is not None and row["id"] not in out:
        out[row["id"]] = row
        if row["successor"] is None:
            break
        row = conn.execute(select(queries.D).where(queries.D.c.id == row["successor"])).mappings().first()
    return out


def read_subject_table(path: Path) -> tuple[list[str], list[list[str]], list[str], str]:
    """(header, rows, each row's subject address, delimiter) of a CSV with a `subject` column; a
    subject that is not an address is an error naming its line in the file."""
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CityLedgerError(
            f"{path}: empty file (a CSV with a header and a '{SUBJECT_COLUMN}' column is needed)"
        ) from None
    if SUBJECT_COLUMN not in header:
        raise CityLedgerError(f"{path}: no '{SUBJECT_COLUMN}' column (columns: {', '.join(header)[:200]})")
    col = header.index(SUBJECT_COLUMN)
    rows, subjects = [], []
    for row in reader:
        if not row:
            continue
        line = reader.line_num  # the file's line (blank lines skipped above still count)
        if len(row) != len(header):
            raise CityLedgerError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        try:
            subjects.append(v.address(row[col], f"{path}:{line}: subject"))
        except BadInput as exc:
            raise CityLedgerError(str(exc)) from None
        rows.append(row)
    return header, rows, subjects, delimiter


def privacy_declaration(ds: RowMapping, store: MetadataStore) -> dict[str, Any] | None:
    """The registered metadata's `cl:privacy` object of a dataset version, None when it declares none.
    The document must be in the local store and hash to the registered metadata hash: without it the
    release cannot know which columns single people out."""
    doc = load_verified(ds["metadata_uri"], ds["metadata_hash"], store)
    if doc is None:
        raise BadInput(
            f"dataset {ds['id']}: its metadata document ({ds['metadata_uri']}) is not in the local metadata store "
            f"{store.root} (or does not match its hash {ds['metadata_hash']}), so its privacy declaration cannot be "
            "read: copy the document there"
        )
    declared = doc.get("cl:privacy")
    return declared if isinstance(declared, dict) else None


def k_anonymous(header: list[str], rows: list[list[str]], declared: dict[str, Any] | None) -> KAnonymity | None:
    """The declared k-anonymity guard over the consent-filtered rows (None: nothing declared)."""
    if declared is None:
        return None
    from ..privacy import DeclarationError, k_anonymize, parse_declaration

    try:
        return k_anonymize(header, rows, parse_declaration(declared))
    except DeclarationError as exc:
        raise BadInput(f"the dataset's privacy declaration cannot be applied: {exc}") from None


def consent_snapshot(
    conn: Connection,
    access: RowMapping,
    ds: RowMapping,
    block: int | None = None,
    rpc_timestamp: Callable[[int], int] | None = None,
) -> tuple[int, set[str]]:
    """(snapshot block, consenting subjects) of an access over dataset version `ds`: the subjects whose
    consent covered (dataset, the access's purpose, its grantee) as of `block` (default: the index's last
    finalized block), which may not be before the grant (the chain refuses it). Releases and private
    answers both use exactly this selection."""
    if block is None:
        cp = queries.checkpoint(conn) or {}
        block = cp.get("finalized_block")
        if block is None:
            raise BadInput("the index has no finalized block yet: run the indexer, or give --block")
    snapshot_block, at = queries.resolve_block(conn, block, rpc_timestamp)
    granted_block = access["granted_block"] or 0
    if snapshot_block < granted_block:
        raise BadInput(
            f"the consent snapshot block {snapshot_block} is before access {access['id']} was granted (block "
            f"{granted_block}): the chain refuses it; wait until the index's finalized block reaches {granted_block}, "
            f"or give --block {granted_block} or later"
        )
    consenting = queries.consenting_citizens(
        conn, dataset_row=ds, purpose=access["purpose"], grantee=access["requester"], block=snapshot_block, now=at
    )
    return snapshot_block, consenting


def prepare(
    conn: Connection,
    *,
    access_id: int,
    purpose: str,
    file: str | Path,
    block: int | None = None,
    rpc_timestamp: Callable[[int], int] | None = None,
    store: MetadataStore | None = None,
) -> PreparedRelease:
    """Check the request against the index, filter the file by consent and make it k-anonymous when
    its privacy declaration asks for it (nothing is written). `store`: where the dataset's metadata
    document is (default: the configured metadata store). A release that cannot reach the declared k
    is refused (privacy.KAnonymityRefused)."""
    access = conn.execute(select(queries.AC).where(queries.AC.c.id == access_id)).mappings().first()
    if access is None:
        raise NotFound(f"no access request {access_id} in the index")
    now = queries.now_ts(conn)
    if access["status"] != codes.ACCESS_GRANTED or access["expiry"] is None or now >= access["expiry"]:
        state = codes.ACCESS_STATUS_NAMES.get(access["status"], "?")
        raise BadInput(f"access {access_id} is not live (status {state}, expiry {access['expiry']}): no release")
    if purpose != access["purpose"]:
        name = v.purpose_name(access["purpose"]) or access["purpose"]
        raise BadInput(f"access {access_id} was granted for purpose {name}; a release must use that purpose")

    path = check_readable_file(file)
    content_hash = "0x" + sha256_file(path).hex()
    lineage = _lineage_forward(conn, access["dataset_id"])
    ds = next((r for r in lineage.values() if r["content_hash"] == content_hash), None)
    if ds is None:
        raise BadInput(
            f"{path} (sha256 {content_hash}) is not dataset {access['dataset_id']} of access {access_id} "
            "nor a later version of it: register it first or use the right file"
        )
    if ds["publisher"] != lineage[access["dataset_id"]]["publisher"]:
        raise BadInput(f"dataset {ds['id']} has another publisher than the granted version")
    if not ds["personal_data"]:
        raise BadInput(f"dataset {ds['id']} holds no personal data: a consent-filtered release does not apply")
    if ds["status"] == codes.STATUS_WITHDRAWN:
        raise BadInput(f"dataset {ds['id']} is withdrawn")

    snapshot_block, consenting = consent_snapshot(conn, access, ds, block, rpc_timestamp)
    granted_block = access["granted_block"] or 0
    declared = privacy_declaration(ds, store or MetadataStore())
    header, rows, subjects, delimiter = read_subject_table(path)
    kept, kept_subjects, excluded = [], [], set()
    for row, subject in zip(rows, subjects, strict=True):
        if subject in consenting:
            kept.append(row)
            kept_subjects.append(subject)
        else:
            excluded.add(subject)
    if not kept:
        raise CityLedgerError(
            f"no subject in {path.name} has an active consent for this release at block {snapshot_block}: "
            "nothing to release"
        )
    guard = k_anonymous(header, kept, declared)
    if guard is not None:  # generalised rows; a suppressed row's subject is not in the release
        kept, kept_subjects = guard.rows, [kept_subjects[i] for i in guard.kept]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(kept)
    return PreparedRelease(
        access_id=access_id,
        dataset_id=ds["id"],
        publisher=ds["publisher"],
        grantee=access["requester"],
        purpose=purpose,
        snapshot_block=snapshot_block,
        header=header,
        rows=kept,
        rows_in=len(rows),
        tree=ConsentTree.build(kept_subjects),
        dialect=delimiter,
        excluded_subjects=len(excluded),
        data=out.getvalue().encode(),
        granted_block=granted_block,
        k=guard,
    )


def write(prepared: PreparedRelease, data_dir: Path, out: Path | None = None) -> tuple[Path, Path]:
    """Write the filtered file and publish the snapshot (release/snapshots.py); returns (file, snapshot)."""
    out = (
        Path(out)
        if out
        else Path(data_dir)
        / "releases"
        / (f"dataset-{prepared.dataset_id}-access-{prepared.access_id}-block-{prepared.snapshot_block}.csv")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(prepared.data)
    snap = write_snapshot(
        data_dir,
        prepared.tree,
        {
            "snapshot_block": prepared.snapshot_block,
            "dataset_id": prepared.dataset_id,
            "access_id": prepared.access_id,
            "grantee": prepared.grantee,
            "purpose": prepared.purpose,
            "release_hash": prepared.release_hash,
            "k_anonymity": prepared.k_anonymity,
            "release_file": out.name,
        },
    )
    return out, snap


def check_on_chain(w3: Web3, access_contract: Contract, account: LocalAccount, prepared: PreparedRelease) -> None:
    """What log_release will require, read from the chain before anything is written or sent."""
    check_flow(w3, access_contract, account, prepared.publisher, prepared.access_id, prepared.snapshot_block)


def check_flow(
    w3: Web3,
    access_contract: Contract,
    account: LocalAccount,
    publisher: str,
    access_id: int,
    snapshot_block: int,
    what: str = "release",
) -> None:
    """What log_release and log_query require, read from the chain: the access live, the sender the
    dataset's publisher or one of its release operators, the snapshot at or after the grant and at most
    `max_snapshot_age` blocks old. `what` names the thing logged in the messages."""
    fns = access_contract.functions
    sender = account.address
    if (
        sender.lower() != publisher.lower()
        and not fns.is_release_operator(Web3.to_checksum_address(publisher), sender).call()
    ):
        raise CityLedgerError(
            f"{sender} is neither the dataset's publisher {publisher.lower()} nor one of its release operators: "
            f"a {what} is logged by them (`cityledger release-operator add` names an operator)"
        )
    if not fns.is_live(access_id).call():
        raise CityLedgerError(
            f"access {access_id} is not live on chain (ended, expired, or a party lost its role): no {what}"
        )
    granted = fns.granted_block(access_id).call()
    if snapshot_block < granted:
        raise CityLedgerError(
            f"the consent snapshot block {snapshot_block} is before access {access_id} was granted (block {granted})"
        )
    head, max_age = w3.eth.block_number, fns.max_snapshot_age().call()
    if head - snapshot_block > max_age:
        raise CityLedgerError(
            f"the consent snapshot block {snapshot_block} is {head - snapshot_block} blocks old; "
            f"the chain accepts at most {max_age}: {what} as of a later block"
        )


def log_on_chain(
    w3: Web3,
    access_contract: Contract,
    account: LocalAccount,
    prepared: PreparedRelease,
    on_signed: Callable[[str, int], None] | None = None,
) -> tuple[int, str]:
    """AccessRegistry.log_release from the publisher's or its operator's account; returns (release_id, tx_hash).
    `on_signed(tx_hash, nonce)`: as chain.tx.transact's (the data room records the release there)."""
    check_on_chain(w3, access_contract, account, prepared)
    receipt = transact(
        w3,
        account,
        access_contract.functions.log_release(
            prepared.access_id,
            prepared.dataset_id,
            prepared.subject_count,
            prepared.tree.root,
            prepared.snapshot_block,
            bytes.fromhex(prepared.release_hash[2:]),
            prepared.k_anonymity,
        ),
        on_signed=on_signed,
    )
    return logged_release_id(access_contract, receipt), "0x" + bytes(receipt["transactionHash"]).hex()


def logged_release_id(access_contract: Contract, receipt: Any) -> int:
    """The release id a log_release receipt's ReleaseLogged event carries (-1 without one)."""
    events = access_contract.events.ReleaseLogged().process_receipt(receipt)
    return int(events[0]["args"]["release_id"]) if events else -1


def signing_account(network: Network, address: str, role: str) -> LocalAccount:
    """The account that signs for `address`: on a devnet the mnemonic account with that address;
    elsewhere the configured key (keystore or CITYLEDGER_PRIVATE_KEY), which must be it. `role` names
    it in the error ("the dataset's publisher", "the release operator")."""
    address = address.lower()
    if network.devnet:
        for acct in devnet_accounts(network):
            if acct.address.lower() == address:
                return acct
        raise CityLedgerError(f"{role} {address} is not one of the devnet's accounts")
    acct = deployer_account(network)
    if acct.address.lower() != address:
        raise CityLedgerError(f"the configured key is {acct.address}, not {role} {address}")
    return acct


def publisher_account(network: Network, publisher: str) -> LocalAccount:
    """The publisher's signing account (see signing_account)."""
    return signing_account(network, publisher, "the dataset's publisher")
