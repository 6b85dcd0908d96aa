"""The consent-filtered release of a personal dataset.

Given a live access grant, a purpose, a block (default: the last finalized block of the index) and
the dataset file (a CSV with a `subject` column of pseudonymous addresses), keep the rows whose
subject had, as of that block, an active consent covering (dataset, purpose, grantee): scope the
dataset, its publisher or its domain; grantee the access's grantee or ANY_RESEARCHER if the
grantee held the researcher role. The included subjects form the consent snapshot (an OpenZeppelin
keccak Merkle tree); the filtered file, the snapshot and the on-chain log tie them together.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from sqlalchemy import RowMapping, select
from sqlalchemy.engine import Connection
from web3 import Web3
from web3.contract import Contract

from .. import codes
from ..chain.accounts import deployer_account, devnet_accounts
from ..chain.tx import transact
from ..config import Network
from ..errors import CityLedgerError
from ..fingerprint.consent_tree import ConsentTree
from ..fingerprint.hashing import check_readable_file, sha256_file
from ..query import queries
from ..query import validate as v
from ..query.errors import BadInput, NotFound
from .snapshots import write_snapshot

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


def prepare(
    conn: Connection,
    *,
    access_id: int,
    purpose: str,
    file: str | Path,
    block: int | None = None,
    rpc_timestamp: Callable[[int], int] | None = None,
) -> PreparedRelease:
    """Check the request against the index and filter the file (nothing is written)."""
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

    if block is None:
        cp = queries.checkpoint(conn) or {}
        block = cp.get("finalized_block")
        if block is None:
            raise BadInput("the index has no finalized block yet: run the indexer, or give --block")
    snapshot_block, at = queries.resolve_block(conn, block, rpc_timestamp)

    consenting = queries.consenting_citizens(
        conn, dataset_row=ds, purpose=purpose, grantee=access["requester"], block=snapshot_block, now=at
    )
    header, rows, subjects, delimiter = read_subject_table(path)
    kept, included, excluded = [], set(), set()
    for row, subject in zip(rows, subjects, strict=True):
        if subject in consenting:
            kept.append(row)
            included.add(subject)
        else:
            excluded.add(subject)
    if not included:
        raise CityLedgerError(
            f"no subject in {path.name} has an active consent for this release at block {snapshot_block}: "
            "nothing to release"
        )
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
        tree=ConsentTree.build(included),
        dialect=delimiter,
        excluded_subjects=len(excluded),
        data=out.getvalue().encode(),
    )


def write(prepared: PreparedRelease, data_dir: Path, out: Path | None = None) -> tuple[Path, Path]:
    """Write the filtered file and the snapshot JSON; returns (file, snapshot)."""
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
            "release_file": out.name,
        },
    )
    return out, snap


def log_on_chain(
    w3: Web3, access_contract: Contract, account: LocalAccount, prepared: PreparedRelease
) -> tuple[int, str]:
    """AccessRegistry.log_release from the publisher's account; returns (release_id, tx_hash)."""
    if account.address.lower() != prepared.publisher:
        raise CityLedgerError(
            f"the release must be logged by the dataset's publisher {prepared.publisher}, not {account.address}"
        )
    if not access_contract.functions.is_live(prepared.access_id).call():
        raise CityLedgerError(f"access {prepared.access_id} is not live on chain (ended or expired): no release")
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
        ),
    )
    events = access_contract.events.ReleaseLogged().process_receipt(receipt)
    release_id = int(events[0]["args"]["release_id"]) if events else -1
    return release_id, "0x" + bytes(receipt["transactionHash"]).hex()


def publisher_account(network: Network, publisher: str) -> LocalAccount:
    """The publisher's signing account: on a devnet the mnemonic account with that address;
    elsewhere the configured key (keystore or CITYLEDGER_PRIVATE_KEY), which must be the publisher's."""
    if network.devnet:
        for acct in devnet_accounts(network):
            if acct.address.lower() == publisher:
                return acct
        raise CityLedgerError(f"publisher {publisher} is not one of the devnet's accounts")
    acct = deployer_account(network)
    if acct.address.lower() != publisher:
        raise CityLedgerError(f"the configured key is {acct.address}, not the dataset's publisher {publisher}")
    return acct
