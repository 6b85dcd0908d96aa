"""The indexer's store: SQLAlchemy 2 tables (SQLite or PostgreSQL).

Conventions (docs/INDEXER.md):
- addresses, hashes (bytes32) and tx hashes: lowercase 0x-prefixed hex strings
  (addresses 42 chars, bytes32 66 chars), never checksummed, never bytes;
- block numbers, ids, counts and unix timestamps (seconds): integers;
- uint64 expiries/deadlines above 2**63-1 are stored as 2**63-1 (same "active" answer, fits BIGINT);
- "none" links are NULL, not 0 (datasets.supersedes / successor).

Two kinds of tables:
- append-only event tables (`consent_events`, `role_events`, `ownership_events`, `profile_events`,
  `operator_events`, `budget_events`, `signature_cancellations`, `skipped_grants`) with one row per
  log, keyed by (block_number, log_index): the history ("consent state as of block B", timelines;
  where the latest event of a key is its current state, the query reads it from there);
- current-state tables whose every mutation is stamped with the block that made it
  (`*_block` columns), so a reorg rolls them back by block number (see reorg.py).

And two off-chain tables derived after each commit: `dataset_metadata`/`profile_documents` (summaries
of verified content-addressed documents) and `release_audits` (the indexer's check of each release's
consent claim, release/audit.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Boolean, Double, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

# A BIGINT primary key that is SQLite's rowid alias (INTEGER PRIMARY KEY) there.
BigId = BigInteger().with_variant(Integer(), "sqlite")

Address = String(42)
Hash = String(66)

# Tables keyed by a hash or a composite key are SQLite WITHOUT ROWID: one B-tree instead of a rowid
# table plus a primary-key index, i.e. one random insert less per row (ignored by PostgreSQL).
NO_ROWID = {"sqlite_with_rowid": False}

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# The contract of each address column of the checkpoint (the one map: the API imports it too).
CONTRACT_COLUMNS = {
    "CityRoles": "roles_address",
    "DatasetRegistry": "datasets_address",
    "ConsentRegistry": "consents_address",
    "AccessRegistry": "access_address",
    "RightsRegistry": "rights_address",
    "DeletionRegistry": "deletion_address",
}


@cache
def stamp_names(stage: str) -> tuple[str, str, str]:
    """The columns that stamp a life-cycle stage of a row: `<stage>_block`, `_at` (unix seconds), `_tx`."""
    return f"{stage}_block", f"{stage}_at", f"{stage}_tx"


Stamp = tuple[MappedColumn[Any], MappedColumn[Any], MappedColumn[Any]]


def stamp_columns(*, required: bool = False, indexed: bool = False) -> Stamp:
    """The block, time and transaction of a stage, in stamp_names order: assigned in a class body as
    `x_block, x_at, x_tx = stamp_columns()`. NULL until the stage happens unless `required`; reorg.py
    undoes a stage by its block."""
    nullable, index = not required, indexed or None
    return (
        mapped_column(BigInteger, nullable=nullable, index=index),
        mapped_column(BigInteger, nullable=nullable, index=index),
        mapped_column(Hash, nullable=nullable),
    )


# ---------------------------------------------------------------- sync state


class Checkpoint(Base):
    """One row (id = 1): where the indexer is, for which chain and contracts, and the last RPC status."""

    __tablename__ = "checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)  # last block fully indexed
    block_hash: Mapped[str] = mapped_column(Hash)
    start_block: Mapped[int] = mapped_column(BigInteger)  # deployment block
    head_block: Mapped[int | None] = mapped_column(BigInteger)  # chain head when last seen
    finalized_block: Mapped[int | None] = mapped_column(BigInteger)  # min(block_number, head - confirmations)
    confirmations: Mapped[int] = mapped_column(Integer)
    roles_address: Mapped[str] = mapped_column(Address)
    datasets_address: Mapped[str] = mapped_column(Address)
    consents_address: Mapped[str] = mapped_column(Address)
    access_address: Mapped[str] = mapped_column(Address)
    rights_address: Mapped[str] = mapped_column(Address)
    # NULL only in a store made before DeletionRegistry existed (it indexes another deployment).
    deletion_address: Mapped[str | None] = mapped_column(Address)
    updated_at: Mapped[int | None] = mapped_column(BigInteger)  # unix seconds of the last successful poll
    rpc_error: Mapped[str | None] = mapped_column(Text)  # last RPC failure (NULL when the RPC answers)
    rpc_error_at: Mapped[int | None] = mapped_column(BigInteger)
    # The node answers but contradicts itself (a block below its head missing, logs and headers that
    # disagree while the checkpoint is canonical): what it said, and since when. NULL when consistent.
    node_inconsistent: Mapped[str | None] = mapped_column(Text)
    node_inconsistent_since: Mapped[int | None] = mapped_column(BigInteger)
    # The indexer that writes the store (writer_lease.holder: host:pid:nonce) and since when (unix s).
    leader: Mapped[str | None] = mapped_column(String(200))
    leader_since: Mapped[int | None] = mapped_column(BigInteger)
    reorgs: Mapped[int] = mapped_column(Integer, default=0)  # reorganisations handled so far
    # A deep catch-up appends consent_events only and builds `consents` once at its end: the block it
    # stopped keeping `consents` from (NULL: `consents` is current). Readers then answer from the events.
    consents_deferred_from: Mapped[int | None] = mapped_column(BigInteger)


class WriterLease(Base):
    """One row (id = 1): the indexer allowed to write the store, and its last heartbeat (lease.py)."""

    __tablename__ = "writer_lease"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:nonce
    since: Mapped[float] = mapped_column(Double)  # unix seconds, the holder's clock
    heartbeat_at: Mapped[float] = mapped_column(Double)


class Block(Base):
    """Recent indexed blocks (the last `keep_blocks`): the reorg window."""

    __tablename__ = "blocks"
    number: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(Hash)
    parent_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger)


# ---------------------------------------------------------------- roles


class RoleEvent(Base):
    """Every RoleGranted / RoleRevoked (append-only)."""

    __tablename__ = "role_events"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(8))  # "grant" | "revoke"
    account: Mapped[str] = mapped_column(Address, index=True)
    role: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[int] = mapped_column(Integer)  # publisher kind (0 unless publisher grant)
    actor: Mapped[str] = mapped_column(Address)  # granted_by / revoked_by

    __table_args__ = (NO_ROWID,)


class Role(Base):
    """Current roles: one row per (account, role bit) held. bitmask of an account = SUM(role)."""

    __tablename__ = "roles"
    account: Mapped[str] = mapped_column(Address, primary_key=True)
    role: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # 1 publisher, 2 auditor, 4 researcher
    kind: Mapped[int] = mapped_column(Integer)  # publisher kind: 1 agency, 2 business; 0 otherwise
    granted_by: Mapped[str] = mapped_column(Address)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(Hash)

    __table_args__ = (Index(None, "role"), NO_ROWID)


class OwnershipEvent(Base):
    """CityRoles admin transfers (snekmate ownable_2step), append-only."""

    __tablename__ = "ownership_events"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(40))  # "OwnershipTransferStarted" | "OwnershipTransferred"
    previous_owner: Mapped[str] = mapped_column(Address)
    new_owner: Mapped[str] = mapped_column(Address)

    __table_args__ = (NO_ROWID,)


class ProfileEvent(Base):
    """Every ProfileUpdated (append-only): an organisation's profile is its latest event's hash."""

    __tablename__ = "profile_events"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[str] = mapped_column(Address, index=True)
    profile_hash: Mapped[str] = mapped_column(Hash)  # SHA-256 of the profile document
    profile_uri: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Address)

    __table_args__ = (NO_ROWID,)


class ProfileDocument(Base):
    """The fields of a verified organisation profile document (indexer/metadata.py), by its hash.

    Off-chain and content-addressed like dataset_metadata: kept across rollbacks and resets, not
    compared by compare_stores."""

    __tablename__ = "profile_documents"
    profile_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(40))  # agency | business | research institute | auditor
    website: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    jurisdiction: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[int] = mapped_column(BigInteger)  # unix seconds

    __table_args__ = (NO_ROWID,)


# ---------------------------------------------------------------- datasets


class Dataset(Base):
    """One row per registered version (DatasetRegistered), updated by supersession and withdrawal."""

    __tablename__ = "datasets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    publisher: Mapped[str] = mapped_column(Address, index=True)
    # Not unique: every publisher may register the same bytes (docs/CONTRACTS.md, DatasetRegistry).
    content_hash: Mapped[str] = mapped_column(Hash, index=True)
    metadata_hash: Mapped[str] = mapped_column(Hash)
    metadata_uri: Mapped[str] = mapped_column(Text)
    domain: Mapped[int] = mapped_column(Integer, index=True)
    personal_data: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(BigInteger)
    supersedes: Mapped[int | None] = mapped_column(BigInteger, index=True)  # NULL for a first version
    successor: Mapped[int | None] = mapped_column(BigInteger)  # NULL until superseded
    successor_block: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(Integer)  # 1 active, 2 withdrawn
    # Indexed for the metadata enrichment after each commit (the datasets a block range registered).
    registered_block, registered_at, registered_tx = stamp_columns(required=True, indexed=True)
    withdrawn_block, withdrawn_at, withdrawn_tx = stamp_columns()
    withdrawn_reason: Mapped[str | None] = mapped_column(Hash)  # reason_hash


class DatasetMetadata(Base):
    """The searchable fields of a verified DCAT document (indexer/metadata.py), by metadata hash.

    Not chain data: content-addressed (the row is right for every dataset registering that hash, on
    any branch), so reorg rollbacks and `--reset` leave it alone and compare_stores ignores it."""

    __tablename__ = "dataset_metadata"
    metadata_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[str | None] = mapped_column(Text)  # one keyword per line
    license: Mapped[str | None] = mapped_column(Text)
    temporal: Mapped[str | None] = mapped_column(Text)  # "start/end" (either may be empty)
    spatial: Mapped[str | None] = mapped_column(Text)
    record_count: Mapped[int | None] = mapped_column(BigInteger)
    # title, description and keywords casefolded (Unicode-aware, unlike SQLite's lower()): what q searches.
    search_text: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[int] = mapped_column(BigInteger)  # unix seconds

    __table_args__ = (NO_ROWID,)


class DatasetQuality(Base):
    """The metadata quality score (docs/CATALOG.md §9) of a verified DCAT document as registered with
    a personal-data flag and a domain, without probing the network: what the API filters and sorts
    datasets by (indexer/quality.py computes it beside the indexer).

    Content-addressed like dataset_metadata: the score is a function of (document, personal data,
    domain) alone, so a row is right for every dataset registered with those, on any branch, and
    reorg rollbacks and `--reset` leave the table alone."""

    __tablename__ = "dataset_quality"
    metadata_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    personal_data: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    domain: Mapped[int] = mapped_column(Integer, primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer)  # the applicable maximum (355 or 405)
    percent: Mapped[int] = mapped_column(Integer)  # round(100 * score / max_score)
    rating: Mapped[str] = mapped_column(String(12))  # excellent | good | sufficient | bad
    version: Mapped[int] = mapped_column(Integer)  # of the scoring (indexer/quality.py): older rows are redone
    scored_at: Mapped[int] = mapped_column(BigInteger)  # unix seconds

    __table_args__ = (NO_ROWID,)


class Attestation(Base):
    __tablename__ = "attestations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    dataset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    auditor: Mapped[str] = mapped_column(Address, index=True)
    kind: Mapped[int] = mapped_column(Integer)
    report_hash: Mapped[str] = mapped_column(Hash)
    active: Mapped[bool] = mapped_column(Boolean)
    added_block, added_at, added_tx = stamp_columns(required=True)
    revoked_block, revoked_at, revoked_tx = stamp_columns()


# ---------------------------------------------------------------- consent


class Consent(Base):
    """Current state per consent key. Active at time t iff t < expiry (a revoke sets expiry 0)."""

    __tablename__ = "consents"
    key: Mapped[str] = mapped_column(Hash, primary_key=True)
    citizen: Mapped[str] = mapped_column(Address, index=True)
    purpose: Mapped[str] = mapped_column(Hash)
    scope_kind: Mapped[int] = mapped_column(Integer)
    scope_id: Mapped[str] = mapped_column(Hash)
    grantee: Mapped[str] = mapped_column(Address)
    expiry: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[int] = mapped_column(BigInteger)
    granted_block, granted_at, granted_tx = stamp_columns(required=True)  # of the last grant
    revoked_block, revoked_at, revoked_tx = stamp_columns()  # NULL unless revoked after the last grant
    submitted_by: Mapped[str] = mapped_column(Address)  # of the last grant/revoke (relayer or citizen)
    updated_block: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index(None, "purpose", "scope_kind", "scope_id"), NO_ROWID)


class ConsentEvent(Base):
    """Every ConsentGranted / ConsentRevoked (append-only): consent as of block B, timelines."""

    __tablename__ = "consent_events"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(8))  # "grant" | "revoke"
    key: Mapped[str] = mapped_column(Hash)
    citizen: Mapped[str] = mapped_column(Address)
    purpose: Mapped[str] = mapped_column(Hash)
    scope_kind: Mapped[int] = mapped_column(Integer)
    scope_id: Mapped[str] = mapped_column(Hash)
    grantee: Mapped[str] = mapped_column(Address)
    expiry: Mapped[int] = mapped_column(BigInteger)  # 0 for a revoke
    nonce: Mapped[int] = mapped_column(BigInteger)
    submitted_by: Mapped[str] = mapped_column(Address)

    __table_args__ = (
        Index(None, "key", "block_number"),
        Index(None, "citizen", "block_number"),
        Index(None, "purpose", "scope_kind", "scope_id", "block_number"),
        NO_ROWID,
    )


class SignatureCancellation(Base):
    """Every SignaturesCancelled (append-only): the citizen voided the outstanding signatures of a key.

    `consents.nonce` is the nonce after the key's latest grant or revoke; a later cancellation's is here
    (the key may never have been granted, so it need not have a `consents` row)."""

    __tablename__ = "signature_cancellations"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(Hash, index=True)
    citizen: Mapped[str] = mapped_column(Address, index=True)
    nonce: Mapped[int] = mapped_column(BigInteger)  # the key's nonce after the cancellation

    __table_args__ = (NO_ROWID,)


class SkippedGrant(Base):
    """Every SignedGrantSkipped (append-only): an entry of a relayer's batch that was not applied."""

    __tablename__ = "skipped_grants"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    batch_index: Mapped[int] = mapped_column(Integer)  # the entry's position in its batch
    citizen: Mapped[str] = mapped_column(Address, index=True)
    key: Mapped[str] = mapped_column(Hash)
    reason: Mapped[int] = mapped_column(Integer)  # codes.SIGNED_GRANT_FAULTS

    __table_args__ = (NO_ROWID,)


# ---------------------------------------------------------------- access and releases


class Access(Base):
    """Access requests and their life: requested -> granted | refused | cancelled; granted -> ended."""

    __tablename__ = "access"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    dataset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    requester: Mapped[str] = mapped_column(Address, index=True)  # also the grantee
    purpose: Mapped[str] = mapped_column(Hash)
    terms_hash: Mapped[str] = mapped_column(Hash)
    # 1 requested, 2 granted, 3 refused, 4 ended, 5 cancelled (by the requester, before an answer)
    status: Mapped[int] = mapped_column(Integer, index=True)
    # The role the access was requested with (4 researcher, 1 publisher): liveness needs it still held.
    role: Mapped[int | None] = mapped_column(Integer)
    expiry: Mapped[int | None] = mapped_column(BigInteger)  # set by the grant
    requested_block, requested_at, requested_tx = stamp_columns(required=True)
    granted_block, granted_at, granted_tx = stamp_columns()
    refused_block, refused_at, refused_tx = stamp_columns()
    refused_reason: Mapped[str | None] = mapped_column(Hash)
    ended_block, ended_at, ended_tx = stamp_columns()
    ended_by: Mapped[str | None] = mapped_column(Address)
    cancelled_block, cancelled_at, cancelled_tx = stamp_columns()


class Release(Base):
    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    access_id: Mapped[int] = mapped_column(BigInteger, index=True)
    grantee: Mapped[str] = mapped_column(Address, index=True)
    dataset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    purpose: Mapped[str] = mapped_column(Hash)
    subject_count: Mapped[int] = mapped_column(BigInteger)
    consent_root: Mapped[str] = mapped_column(Hash)
    snapshot_block: Mapped[int] = mapped_column(BigInteger)
    release_hash: Mapped[str] = mapped_column(Hash)
    k_anonymity: Mapped[int | None] = mapped_column(Integer)  # 0: no quasi-identifier declared
    logged_by: Mapped[str | None] = mapped_column(Address)  # the publisher or one of its release operators
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(Hash)


class OperatorEvent(Base):
    """Every ReleaseOperatorSet (append-only): whether `operator` may log releases and private queries
    for `publisher` is its latest event for the pair."""

    __tablename__ = "operator_events"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    publisher: Mapped[str] = mapped_column(Address, index=True)
    operator: Mapped[str] = mapped_column(Address, index=True)
    allowed: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (NO_ROWID,)


class BudgetEvent(Base):
    """Every PrivacyBudgetSet (append-only). An access's budget and spending are those of its latest
    budget event or private query, whichever came last (both carry them)."""

    __tablename__ = "budget_events"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    access_id: Mapped[int] = mapped_column(BigInteger, index=True)
    budget: Mapped[int] = mapped_column(BigInteger)  # micro-epsilon
    spent: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (NO_ROWID,)


class PrivateQuery(Base):
    """Every PrivateQueryLogged: one differentially private answer and the epsilon it spent."""

    __tablename__ = "private_queries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    access_id: Mapped[int] = mapped_column(BigInteger, index=True)
    grantee: Mapped[str] = mapped_column(Address, index=True)
    dataset_id: Mapped[int] = mapped_column(BigInteger)
    epsilon_spent: Mapped[int] = mapped_column(BigInteger)  # micro-epsilon
    spent_total: Mapped[int] = mapped_column(BigInteger)
    budget: Mapped[int] = mapped_column(BigInteger)
    query_hash: Mapped[str] = mapped_column(Hash)
    consent_root: Mapped[str] = mapped_column(Hash)
    snapshot_block: Mapped[int] = mapped_column(BigInteger)
    subject_count: Mapped[int] = mapped_column(BigInteger)
    logged_by: Mapped[str] = mapped_column(Address)
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)  # orders it against budget_events of the same block
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(Hash)


class ReleaseAudit(Base):
    """The indexer's check of a release's (or private query's) consent claim (release/audit.py).

    Derived after each commit from the consent history and the release's snapshot document (off
    chain), so compare_stores leaves it out; a rollback deletes it with its release (`block_number`
    is the release's), and a row whose `tx_hash` is not its release's is stale (re-audited)."""

    __tablename__ = "release_audits"
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "release" | "query"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # release_id or query_id
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_hash: Mapped[str] = mapped_column(Hash)
    # verified | mismatch | unverifiable | no_subjects (docs/INDEXER.md, "Release audits")
    status: Mapped[str] = mapped_column(String(16), index=True)
    detail: Mapped[str] = mapped_column(Text)
    snapshot_hash: Mapped[str | None] = mapped_column(Hash)  # SHA-256 of the snapshot document checked
    lacking_consent: Mapped[int | None] = mapped_column(BigInteger)  # subjects in it without consent
    checked_at: Mapped[int] = mapped_column(BigInteger)  # unix seconds

    __table_args__ = (NO_ROWID,)


# ---------------------------------------------------------------- rights requests


class RightsRequest(Base):
    __tablename__ = "rights_requests"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    citizen: Mapped[str] = mapped_column(Address, index=True)
    publisher: Mapped[str] = mapped_column(Address, index=True)
    kind: Mapped[int] = mapped_column(Integer)
    target_kind: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(Hash)
    details_hash: Mapped[str] = mapped_column(Hash)
    deadline: Mapped[int] = mapped_column(BigInteger, index=True)
    # 1 open, 2 fulfilled, 3 refused, 4 withdrawn, 5 rejected (not a data subject, or abusive)
    status: Mapped[int] = mapped_column(Integer, index=True)
    filed_block, filed_at, filed_tx = stamp_columns(required=True)
    answered_block, answered_at, answered_tx = stamp_columns()
    answer_hash: Mapped[str | None] = mapped_column(Hash)
    late: Mapped[bool | None] = mapped_column(Boolean)
    withdrawn_block, withdrawn_at, withdrawn_tx = stamp_columns()


# ---------------------------------------------------------------- deletion obligations


class DeletionObligation(Base):
    """A release's recipient must delete one subject's rows: open -> confirmed (on time or late)."""

    __tablename__ = "deletion_obligations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    release_id: Mapped[int] = mapped_column(BigInteger, index=True)
    recipient: Mapped[str] = mapped_column(Address, index=True)
    subject: Mapped[str] = mapped_column(Address, index=True)
    deadline: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[int] = mapped_column(Integer, index=True)  # 1 open, 2 confirmed, 3 confirmed late
    requested_by: Mapped[str] = mapped_column(Address)
    requested_block, requested_at, requested_tx = stamp_columns(required=True)
    confirmed_block, confirmed_at, confirmed_tx = stamp_columns()
    evidence_hash: Mapped[str | None] = mapped_column(Hash)
    late: Mapped[bool | None] = mapped_column(Boolean)


# The tables holding indexed chain data (compare_stores compares these; `blocks`/`checkpoint` are sync
# state; `dataset_metadata` and `profile_documents` are content-addressed off-chain data, kept across
# rollbacks and resets; `release_audits` is derived off chain, release/audit.py keeps it current).
DATA_TABLES = (
    "role_events",
    "roles",
    "ownership_events",
    "profile_events",
    "datasets",
    "attestations",
    "consents",
    "consent_events",
    "signature_cancellations",
    "skipped_grants",
    "access",
    "releases",
    "operator_events",
    "budget_events",
    "private_queries",
    "rights_requests",
    "deletion_obligations",
)


# The data room's tables and the relayer's live in their own modules, on this Base (so migrations
# and models compare equal); they are not chain data (not in DATA_TABLES).
from ..dataroom import models as _dataroom_models  # noqa: E402, F401
from . import relay_models as relay_models  # noqa: E402
