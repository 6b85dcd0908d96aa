"""Pure event -> row-operation reducers.

`reduce(event_name, args, ctx)` returns the row operations one decoded event implies, depending only
on the event and its block context (no reads): the writer (writer.py) merges them per primary key
within a batch and applies them in bulk. Every mutation is stamped with its block number so that a
reorg can undo it by block (reorg.py); history-dependent state (roles, consents) is also kept as
append-only event rows from which it is replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, cast

from ..codes import (
    ACCESS_CANCELLED,
    ACCESS_ENDED,
    ACCESS_GRANTED,
    ACCESS_REFUSED,
    ACCESS_REQUESTED,
    DELETION_CONFIRMED,
    DELETION_CONFIRMED_LATE,
    DELETION_OPEN,
    RIGHTS_OPEN,
    RIGHTS_WITHDRAWN,
    STATUS_ACTIVE,
    STATUS_WITHDRAWN,
)
from .event_args import (
    AccessCancelledArgs,
    AccessEndedArgs,
    AccessGrantedArgs,
    AccessRefusedArgs,
    AccessRequestedArgs,
    AttestationAddedArgs,
    AttestationRevokedArgs,
    ConsentGrantedArgs,
    ConsentRevokedArgs,
    DatasetRegisteredArgs,
    DatasetWithdrawnArgs,
    DeletionConfirmedArgs,
    DeletionRequestedArgs,
    OwnershipTransferredArgs,
    PrivacyBudgetSetArgs,
    PrivateQueryLoggedArgs,
    ProfileUpdatedArgs,
    ReleaseLoggedArgs,
    ReleaseOperatorSetArgs,
    RightsRequestAnsweredArgs,
    RightsRequestFiledArgs,
    RightsRequestWithdrawnArgs,
    RoleGrantedArgs,
    RoleRevokedArgs,
    SignaturesCancelledArgs,
    SignedGrantSkippedArgs,
)
from .models import stamp_names

INSERT, UPSERT, UPDATE, DELETE = "insert", "upsert", "update", "delete"
Row = dict[str, Any]


class Ctx(NamedTuple):
    """Where an event happened."""

    block_number: int
    log_index: int
    tx_hash: str
    timestamp: int


class Op(NamedTuple):
    """One row operation. key: the primary-key values (a tuple, in the table's PK column order).

    insert: a new row (full); upsert: insert or overwrite the given columns; update: set the given
    columns of an existing row; delete: remove the row (row is empty)."""

    kind: str
    table: str
    key: tuple[Any, ...]
    row: Row


Reducer = Callable[[Any, Ctx], list[Op]]  # (the event's *Args TypedDict, where) -> row operations


def _event_row(ctx: Ctx) -> Row:
    return {
        "block_number": ctx.block_number,
        "log_index": ctx.log_index,
        "tx_hash": ctx.tx_hash,
        "timestamp": ctx.timestamp,
    }


def _stamp(stage: str, ctx: Ctx) -> Row:
    """The `<stage>_block/_at/_tx` values of a stage that happens at `ctx` (models.stamp_columns)."""
    block, at, tx = stamp_names(stage)
    return {block: ctx.block_number, at: ctx.timestamp, tx: ctx.tx_hash}


def _unstamped(*stages: str) -> Row:
    """The stamps of stages that have not happened (NULL) in a new row."""
    return {name: None for stage in stages for name in stamp_names(stage)}


# ---------------------------------------------------------------- CityRoles


def role_granted(a: RoleGrantedArgs, ctx: Ctx) -> list[Op]:
    ev = _event_row(ctx) | {
        "action": "grant",
        "account": a["account"],
        "role": a["role"],
        "kind": a["kind"],
        "actor": a["granted_by"],
    }
    row = {
        "account": a["account"],
        "role": a["role"],
        "kind": a["kind"],
        "granted_by": a["granted_by"],
        "block_number": ctx.block_number,
        "timestamp": ctx.timestamp,
        "tx_hash": ctx.tx_hash,
    }
    return [
        Op(INSERT, "role_events", (ctx.block_number, ctx.log_index), ev),
        Op(UPSERT, "roles", (a["account"], a["role"]), row),
    ]


def role_revoked(a: RoleRevokedArgs, ctx: Ctx) -> list[Op]:
    ev = _event_row(ctx) | {
        "action": "revoke",
        "account": a["account"],
        "role": a["role"],
        "kind": 0,
        "actor": a["revoked_by"],
    }
    return [
        Op(INSERT, "role_events", (ctx.block_number, ctx.log_index), ev),
        Op(DELETE, "roles", (a["account"], a["role"]), {}),
    ]


def _ownership(event: str) -> Callable[[OwnershipTransferredArgs, Ctx], list[Op]]:
    # OwnershipTransferStartedArgs has the same fields: one reducer shape for both events.
    def reducer(a: OwnershipTransferredArgs, ctx: Ctx) -> list[Op]:
        row = _event_row(ctx) | {"event": event, "previous_owner": a["previous_owner"], "new_owner": a["new_owner"]}
        return [Op(INSERT, "ownership_events", (ctx.block_number, ctx.log_index), row)]

    return reducer


def profile_updated(a: ProfileUpdatedArgs, ctx: Ctx) -> list[Op]:
    row = _event_row(ctx) | {
        "account": a["account"],
        "profile_hash": a["profile_hash"],
        "profile_uri": a["profile_uri"],
        "updated_by": a["updated_by"],
    }
    return [Op(INSERT, "profile_events", (ctx.block_number, ctx.log_index), row)]


# ---------------------------------------------------------------- DatasetRegistry


def dataset_registered(a: DatasetRegisteredArgs, ctx: Ctx) -> list[Op]:
    supersedes = a["supersedes"] or None
    row = {
        "id": a["dataset_id"],
        "publisher": a["publisher"],
        "content_hash": a["content_hash"],
        "metadata_hash": a["metadata_hash"],
        "metadata_uri": a["metadata_uri"],
        "domain": a["domain"],
        "personal_data": a["personal_data"],
        "version": a["version"],
        "supersedes": supersedes,
        "successor": None,
        "successor_block": None,
        "status": STATUS_ACTIVE,
        **_stamp("registered", ctx),
        **_unstamped("withdrawn"),
        "withdrawn_reason": None,
    }
    ops = [Op(INSERT, "datasets", (a["dataset_id"],), row)]
    if supersedes:
        ops.append(
            Op(UPDATE, "datasets", (supersedes,), {"successor": a["dataset_id"], "successor_block": ctx.block_number})
        )
    return ops


def dataset_withdrawn(a: DatasetWithdrawnArgs, ctx: Ctx) -> list[Op]:
    values = {"status": STATUS_WITHDRAWN, **_stamp("withdrawn", ctx), "withdrawn_reason": a["reason_hash"]}
    return [Op(UPDATE, "datasets", (a["dataset_id"],), values)]


def attestation_added(a: AttestationAddedArgs, ctx: Ctx) -> list[Op]:
    row = {
        "id": a["attestation_id"],
        "dataset_id": a["dataset_id"],
        "auditor": a["auditor"],
        "kind": a["kind"],
        "report_hash": a["report_hash"],
        "active": True,
        **_stamp("added", ctx),
        **_unstamped("revoked"),
    }
    return [Op(INSERT, "attestations", (a["attestation_id"],), row)]


def attestation_revoked(a: AttestationRevokedArgs, ctx: Ctx) -> list[Op]:
    values = {"active": False, **_stamp("revoked", ctx)}
    return [Op(UPDATE, "attestations", (a["attestation_id"],), values)]


# ---------------------------------------------------------------- ConsentRegistry


# The hot path of a catch-up (one grant or revoke per consent event): dict literals with the stamps
# written out, no _stamp helper or merged temporaries (bench/indexer.py; docs/INDEXER.md).


def _consent_event(action: str, a: ConsentGrantedArgs | ConsentRevokedArgs, ctx: Ctx, expiry: int) -> Op:
    row = {
        "block_number": ctx.block_number,
        "log_index": ctx.log_index,
        "tx_hash": ctx.tx_hash,
        "timestamp": ctx.timestamp,
        "action": action,
        "key": a["key"],
        "citizen": a["citizen"],
        "purpose": a["purpose"],
        "scope_kind": a["scope_kind"],
        "scope_id": a["scope_id"],
        "grantee": a["grantee"],
        "expiry": expiry,
        "nonce": a["nonce"],
        "submitted_by": a["submitted_by"],
    }
    return Op(INSERT, "consent_events", (ctx.block_number, ctx.log_index), row)


def consent_granted(a: ConsentGrantedArgs, ctx: Ctx) -> list[Op]:
    row = {
        "key": a["key"],
        "citizen": a["citizen"],
        "purpose": a["purpose"],
        "scope_kind": a["scope_kind"],
        "scope_id": a["scope_id"],
        "grantee": a["grantee"],
        "expiry": a["expiry"],
        "nonce": a["nonce"],
        "granted_at": ctx.timestamp,
        "granted_block": ctx.block_number,
        "granted_tx": ctx.tx_hash,
        "revoked_at": None,
        "revoked_block": None,
        "revoked_tx": None,
        "submitted_by": a["submitted_by"],
        "updated_block": ctx.block_number,
    }
    return [_consent_event("grant", a, ctx, a["expiry"]), Op(UPSERT, "consents", (a["key"],), row)]


def consent_revoked(a: ConsentRevokedArgs, ctx: Ctx) -> list[Op]:
    values = {
        "expiry": 0,
        "nonce": a["nonce"],
        "revoked_at": ctx.timestamp,
        "revoked_block": ctx.block_number,
        "revoked_tx": ctx.tx_hash,
        "submitted_by": a["submitted_by"],
        "updated_block": ctx.block_number,
    }
    return [_consent_event("revoke", a, ctx, 0), Op(UPDATE, "consents", (a["key"],), values)]


def signatures_cancelled(a: SignaturesCancelledArgs, ctx: Ctx) -> list[Op]:
    row = _event_row(ctx) | {"key": a["key"], "citizen": a["citizen"], "nonce": a["nonce"]}
    # The key's nonce moves on (its state does not); a key never granted has no consents row to update.
    return [
        Op(INSERT, "signature_cancellations", (ctx.block_number, ctx.log_index), row),
        Op(UPDATE, "consents", (a["key"],), {"nonce": a["nonce"]}),
    ]


def signed_grant_skipped(a: SignedGrantSkippedArgs, ctx: Ctx) -> list[Op]:
    row = _event_row(ctx) | {
        "batch_index": a["index"],
        "citizen": a["citizen"],
        "key": a["key"],
        "reason": a["reason"],
    }
    return [Op(INSERT, "skipped_grants", (ctx.block_number, ctx.log_index), row)]


# ---------------------------------------------------------------- AccessRegistry


def access_requested(a: AccessRequestedArgs, ctx: Ctx) -> list[Op]:
    row = {
        "id": a["access_id"],
        "dataset_id": a["dataset_id"],
        "requester": a["requester"],
        "purpose": a["purpose"],
        "terms_hash": a["terms_hash"],
        "status": ACCESS_REQUESTED,
        "role": a["role"],
        "expiry": None,
        **_stamp("requested", ctx),
        **_unstamped("granted", "refused"),
        "refused_reason": None,
        **_unstamped("ended"),
        "ended_by": None,
        **_unstamped("cancelled"),
    }
    return [Op(INSERT, "access", (a["access_id"],), row)]


def access_granted(a: AccessGrantedArgs, ctx: Ctx) -> list[Op]:
    values = {"status": ACCESS_GRANTED, "expiry": a["expiry"], **_stamp("granted", ctx)}
    return [Op(UPDATE, "access", (a["access_id"],), values)]


def access_refused(a: AccessRefusedArgs, ctx: Ctx) -> list[Op]:
    values = {"status": ACCESS_REFUSED, **_stamp("refused", ctx), "refused_reason": a["reason_hash"]}
    return [Op(UPDATE, "access", (a["access_id"],), values)]


def access_ended(a: AccessEndedArgs, ctx: Ctx) -> list[Op]:
    values = {"status": ACCESS_ENDED, **_stamp("ended", ctx), "ended_by": a["ended_by"]}
    return [Op(UPDATE, "access", (a["access_id"],), values)]


def access_cancelled(a: AccessCancelledArgs, ctx: Ctx) -> list[Op]:
    return [Op(UPDATE, "access", (a["access_id"],), {"status": ACCESS_CANCELLED, **_stamp("cancelled", ctx)})]


def release_logged(a: ReleaseLoggedArgs, ctx: Ctx) -> list[Op]:
    row = {
        "id": a["release_id"],
        "access_id": a["access_id"],
        "grantee": a["grantee"],
        "dataset_id": a["dataset_id"],
        "purpose": a["purpose"],
        "subject_count": a["subject_count"],
        "consent_root": a["consent_root"],
        "snapshot_block": a["snapshot_block"],
        "release_hash": a["release_hash"],
        "k_anonymity": a["k_anonymity"],
        "logged_by": a["logged_by"],
        "block_number": ctx.block_number,
        "timestamp": ctx.timestamp,
        "tx_hash": ctx.tx_hash,
    }
    return [Op(INSERT, "releases", (a["release_id"],), row)]


def release_operator_set(a: ReleaseOperatorSetArgs, ctx: Ctx) -> list[Op]:
    row = _event_row(ctx) | {"publisher": a["publisher"], "operator": a["operator"], "allowed": a["allowed"]}
    return [Op(INSERT, "operator_events", (ctx.block_number, ctx.log_index), row)]


def privacy_budget_set(a: PrivacyBudgetSetArgs, ctx: Ctx) -> list[Op]:
    row = _event_row(ctx) | {"access_id": a["access_id"], "budget": a["budget"], "spent": a["spent"]}
    return [Op(INSERT, "budget_events", (ctx.block_number, ctx.log_index), row)]


def private_query_logged(a: PrivateQueryLoggedArgs, ctx: Ctx) -> list[Op]:
    row = _event_row(ctx) | {
        "id": a["query_id"],
        "access_id": a["access_id"],
        "grantee": a["grantee"],
        "dataset_id": a["dataset_id"],
        "epsilon_spent": a["epsilon_spent"],
        "spent_total": a["spent_total"],
        "budget": a["budget"],
        "query_hash": a["query_hash"],
        "consent_root": a["consent_root"],
        "snapshot_block": a["snapshot_block"],
        "subject_count": a["subject_count"],
        "logged_by": a["logged_by"],
    }
    return [Op(INSERT, "private_queries", (a["query_id"],), row)]


# ---------------------------------------------------------------- RightsRegistry


def rights_filed(a: RightsRequestFiledArgs, ctx: Ctx) -> list[Op]:
    row = {
        "id": a["request_id"],
        "citizen": a["citizen"],
        "publisher": a["publisher"],
        "kind": a["kind"],
        "target_kind": a["target_kind"],
        "target": a["target"],
        "details_hash": a["details_hash"],
        "deadline": a["deadline"],
        "status": RIGHTS_OPEN,
        **_stamp("filed", ctx),
        **_unstamped("answered"),
        "answer_hash": None,
        "late": None,
        **_unstamped("withdrawn"),
    }
    return [Op(INSERT, "rights_requests", (a["request_id"],), row)]


def rights_answered(a: RightsRequestAnsweredArgs, ctx: Ctx) -> list[Op]:
    values = {"status": a["outcome"], **_stamp("answered", ctx), "answer_hash": a["answer_hash"], "late": a["late"]}
    return [Op(UPDATE, "rights_requests", (a["request_id"],), values)]


def rights_withdrawn(a: RightsRequestWithdrawnArgs, ctx: Ctx) -> list[Op]:
    values = {"status": RIGHTS_WITHDRAWN, **_stamp("withdrawn", ctx)}
    return [Op(UPDATE, "rights_requests", (a["request_id"],), values)]


# ---------------------------------------------------------------- DeletionRegistry


def deletion_requested(a: DeletionRequestedArgs, ctx: Ctx) -> list[Op]:
    row = {
        "id": a["obligation_id"],
        "release_id": a["release_id"],
        "recipient": a["recipient"],
        "subject": a["subject"],
        "deadline": a["deadline"],
        "status": DELETION_OPEN,
        "requested_by": a["requested_by"],
        **_stamp("requested", ctx),
        **_unstamped("confirmed"),
        "evidence_hash": None,
        "late": None,
    }
    return [Op(INSERT, "deletion_obligations", (a["obligation_id"],), row)]


def deletion_confirmed(a: DeletionConfirmedArgs, ctx: Ctx) -> list[Op]:
    values = {
        "status": DELETION_CONFIRMED_LATE if a["late"] else DELETION_CONFIRMED,
        **_stamp("confirmed", ctx),
        "evidence_hash": a["evidence_hash"],
        "late": a["late"],
    }
    return [Op(UPDATE, "deletion_obligations", (a["obligation_id"],), values)]


REDUCERS: dict[str, Reducer] = {
    "RoleGranted": role_granted,
    "RoleRevoked": role_revoked,
    "OwnershipTransferStarted": _ownership("OwnershipTransferStarted"),
    "OwnershipTransferred": _ownership("OwnershipTransferred"),
    "ProfileUpdated": profile_updated,
    "DatasetRegistered": dataset_registered,
    "DatasetWithdrawn": dataset_withdrawn,
    "AttestationAdded": attestation_added,
    "AttestationRevoked": attestation_revoked,
    "ConsentGranted": consent_granted,
    "ConsentRevoked": consent_revoked,
    "SignaturesCancelled": signatures_cancelled,
    "SignedGrantSkipped": signed_grant_skipped,
    "AccessRequested": access_requested,
    "AccessGranted": access_granted,
    "AccessRefused": access_refused,
    "AccessCancelled": access_cancelled,
    "AccessEnded": access_ended,
    "ReleaseLogged": release_logged,
    "ReleaseOperatorSet": release_operator_set,
    "PrivacyBudgetSet": privacy_budget_set,
    "PrivateQueryLogged": private_query_logged,
    "RightsRequestFiled": rights_filed,
    "RightsRequestAnswered": rights_answered,
    "RightsRequestWithdrawn": rights_withdrawn,
    "DeletionRequested": deletion_requested,
    "DeletionConfirmed": deletion_confirmed,
}


# A deep catch-up that defers `consents` (store.rebuild_consents builds it at the end) appends the
# event rows only: building the current-state row it would not write was 5 % of the writer's time.
EVENTS_ONLY: dict[str, Reducer] = REDUCERS | {
    "ConsentGranted": lambda a, ctx: [_consent_event("grant", a, ctx, a["expiry"])],
    "ConsentRevoked": lambda a, ctx: [_consent_event("revoke", a, ctx, 0)],
    "SignaturesCancelled": lambda a, ctx: signatures_cancelled(a, ctx)[:1],  # its row, not the nonce update
}


def reduce(event: str, args: Any, ctx: Ctx) -> list[Op]:
    """The row operations of one decoded event."""
    return REDUCERS[event](args, ctx)


# ---------------------------------------------------------------- replay from the event tables (reorg.py)


def _stored_ctx(row: Row) -> Ctx:
    return Ctx(row["block_number"], row["log_index"], row["tx_hash"], row["timestamp"])


def replay_consent_event(row: Row) -> list[Op]:
    """The ops of a stored consent_events (or signature_cancellations) row, minus its own insert (it
    is already stored)."""
    # The row holds every argument of its event under the same names (and more columns).
    if "action" not in row:
        ops = signatures_cancelled(cast(SignaturesCancelledArgs, row), _stored_ctx(row))
    elif row["action"] == "grant":
        ops = consent_granted(cast(ConsentGrantedArgs, row), _stored_ctx(row))
    else:
        ops = consent_revoked(cast(ConsentRevokedArgs, row), _stored_ctx(row))
    return [op for op in ops if op.table not in ("consent_events", "signature_cancellations")]


def replay_role_event(row: Row) -> list[Op]:
    ctx = _stored_ctx(row)
    if row["action"] == "grant":
        granted = RoleGrantedArgs(account=row["account"], role=row["role"], kind=row["kind"], granted_by=row["actor"])
        ops = role_granted(granted, ctx)
    else:
        ops = role_revoked(RoleRevokedArgs(account=row["account"], role=row["role"], revoked_by=row["actor"]), ctx)
    return [op for op in ops if op.table != "role_events"]
