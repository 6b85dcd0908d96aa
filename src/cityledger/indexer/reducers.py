"""Pure event -> row-operation reducers.

`reduce(event_name, args, ctx)` returns the row operations one decoded event implies, depending only
on the event and its block context (no reads): the writer (writer.py) merges them per primary key
within a batch and applies them in bulk. Every mutation is stamped with its block number so that a
reorg can undo it by block (reorg.py); history-dependent state (roles, consents) is also kept as
append-only event rows from which it is replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..codes import (
    ACCESS_ENDED,
    ACCESS_GRANTED,
    ACCESS_REFUSED,
    ACCESS_REQUESTED,
    RIGHTS_OPEN,
    RIGHTS_WITHDRAWN,
    STATUS_ACTIVE,
    STATUS_WITHDRAWN,
)

INSERT, UPSERT, UPDATE, DELETE = "insert", "upsert", "update", "delete"


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
    key: tuple
    row: dict


def _event_row(ctx: Ctx) -> dict:
    return {
        "block_number": ctx.block_number,
        "log_index": ctx.log_index,
        "tx_hash": ctx.tx_hash,
        "timestamp": ctx.timestamp,
    }


# ---------------------------------------------------------------- CityRoles


def role_granted(a: dict, ctx: Ctx) -> list[Op]:
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


def role_revoked(a: dict, ctx: Ctx) -> list[Op]:
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


def _ownership(event: str) -> Callable[[dict, Ctx], list[Op]]:
    def reducer(a: dict, ctx: Ctx) -> list[Op]:
        row = _event_row(ctx) | {"event": event, "previous_owner": a["previous_owner"], "new_owner": a["new_owner"]}
        return [Op(INSERT, "ownership_events", (ctx.block_number, ctx.log_index), row)]

    return reducer


# ---------------------------------------------------------------- DatasetRegistry


def dataset_registered(a: dict, ctx: Ctx) -> list[Op]:
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
        "registered_block": ctx.block_number,
        "registered_at": ctx.timestamp,
        "registered_tx": ctx.tx_hash,
        "withdrawn_block": None,
        "withdrawn_at": None,
        "withdrawn_tx": None,
        "withdrawn_reason": None,
    }
    ops = [Op(INSERT, "datasets", (a["dataset_id"],), row)]
    if supersedes:
        ops.append(
            Op(UPDATE, "datasets", (supersedes,), {"successor": a["dataset_id"], "successor_block": ctx.block_number})
        )
    return ops


def dataset_withdrawn(a: dict, ctx: Ctx) -> list[Op]:
    values = {
        "status": STATUS_WITHDRAWN,
        "withdrawn_block": ctx.block_number,
        "withdrawn_at": ctx.timestamp,
        "withdrawn_tx": ctx.tx_hash,
        "withdrawn_reason": a["reason_hash"],
    }
    return [Op(UPDATE, "datasets", (a["dataset_id"],), values)]


def attestation_added(a: dict, ctx: Ctx) -> list[Op]:
    row = {
        "id": a["attestation_id"],
        "dataset_id": a["dataset_id"],
        "auditor": a["auditor"],
        "kind": a["kind"],
        "report_hash": a["report_hash"],
        "active": True,
        "added_block": ctx.block_number,
        "added_at": ctx.timestamp,
        "added_tx": ctx.tx_hash,
        "revoked_block": None,
        "revoked_at": None,
        "revoked_tx": None,
    }
    return [Op(INSERT, "attestations", (a["attestation_id"],), row)]


def attestation_revoked(a: dict, ctx: Ctx) -> list[Op]:
    values = {
        "active": False,
        "revoked_block": ctx.block_number,
        "revoked_at": ctx.timestamp,
        "revoked_tx": ctx.tx_hash,
    }
    return [Op(UPDATE, "attestations", (a["attestation_id"],), values)]


# ---------------------------------------------------------------- ConsentRegistry


def _consent_event(action: str, a: dict, ctx: Ctx, expiry: int) -> Op:
    # One dict literal (the hot path of a catch-up: one per consent event), no merged temporaries.
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


def consent_granted(a: dict, ctx: Ctx) -> list[Op]:
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


def consent_revoked(a: dict, ctx: Ctx) -> list[Op]:
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


# ---------------------------------------------------------------- AccessRegistry


def access_requested(a: dict, ctx: Ctx) -> list[Op]:
    row = {
        "id": a["access_id"],
        "dataset_id": a["dataset_id"],
        "requester": a["requester"],
        "purpose": a["purpose"],
        "terms_hash": a["terms_hash"],
        "status": ACCESS_REQUESTED,
        "expiry": None,
        "requested_block": ctx.block_number,
        "requested_at": ctx.timestamp,
        "requested_tx": ctx.tx_hash,
        "granted_block": None,
        "granted_at": None,
        "granted_tx": None,
        "refused_block": None,
        "refused_at": None,
        "refused_tx": None,
        "refused_reason": None,
        "ended_block": None,
        "ended_at": None,
        "ended_tx": None,
        "ended_by": None,
    }
    return [Op(INSERT, "access", (a["access_id"],), row)]


def access_granted(a: dict, ctx: Ctx) -> list[Op]:
    values = {
        "status": ACCESS_GRANTED,
        "expiry": a["expiry"],
        "granted_block": ctx.block_number,
        "granted_at": ctx.timestamp,
        "granted_tx": ctx.tx_hash,
    }
    return [Op(UPDATE, "access", (a["access_id"],), values)]


def access_refused(a: dict, ctx: Ctx) -> list[Op]:
    values = {
        "status": ACCESS_REFUSED,
        "refused_block": ctx.block_number,
        "refused_at": ctx.timestamp,
        "refused_tx": ctx.tx_hash,
        "refused_reason": a["reason_hash"],
    }
    return [Op(UPDATE, "access", (a["access_id"],), values)]


def access_ended(a: dict, ctx: Ctx) -> list[Op]:
    values = {
        "status": ACCESS_ENDED,
        "ended_block": ctx.block_number,
        "ended_at": ctx.timestamp,
        "ended_tx": ctx.tx_hash,
        "ended_by": a["ended_by"],
    }
    return [Op(UPDATE, "access", (a["access_id"],), values)]


def release_logged(a: dict, ctx: Ctx) -> list[Op]:
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
        "block_number": ctx.block_number,
        "timestamp": ctx.timestamp,
        "tx_hash": ctx.tx_hash,
    }
    return [Op(INSERT, "releases", (a["release_id"],), row)]


# ---------------------------------------------------------------- RightsRegistry


def rights_filed(a: dict, ctx: Ctx) -> list[Op]:
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
        "filed_block": ctx.block_number,
        "filed_at": ctx.timestamp,
        "filed_tx": ctx.tx_hash,
        "answered_block": None,
        "answered_at": None,
        "answered_tx": None,
        "answer_hash": None,
        "late": None,
        "withdrawn_block": None,
        "withdrawn_at": None,
        "withdrawn_tx": None,
    }
    return [Op(INSERT, "rights_requests", (a["request_id"],), row)]


def rights_answered(a: dict, ctx: Ctx) -> list[Op]:
    values = {
        "status": a["outcome"],
        "answered_block": ctx.block_number,
        "answered_at": ctx.timestamp,
        "answered_tx": ctx.tx_hash,
        "answer_hash": a["answer_hash"],
        "late": a["late"],
    }
    return [Op(UPDATE, "rights_requests", (a["request_id"],), values)]


def rights_withdrawn(a: dict, ctx: Ctx) -> list[Op]:
    values = {
        "status": RIGHTS_WITHDRAWN,
        "withdrawn_block": ctx.block_number,
        "withdrawn_at": ctx.timestamp,
        "withdrawn_tx": ctx.tx_hash,
    }
    return [Op(UPDATE, "rights_requests", (a["request_id"],), values)]


REDUCERS: dict[str, Callable[[dict, Ctx], list[Op]]] = {
    "RoleGranted": role_granted,
    "RoleRevoked": role_revoked,
    "OwnershipTransferStarted": _ownership("OwnershipTransferStarted"),
    "OwnershipTransferred": _ownership("OwnershipTransferred"),
    "DatasetRegistered": dataset_registered,
    "DatasetWithdrawn": dataset_withdrawn,
    "AttestationAdded": attestation_added,
    "AttestationRevoked": attestation_revoked,
    "ConsentGranted": consent_granted,
    "ConsentRevoked": consent_revoked,
    "AccessRequested": access_requested,
    "AccessGranted": access_granted,
    "AccessRefused": access_refused,
    "AccessEnded": access_ended,
    "ReleaseLogged": release_logged,
    "RightsRequestFiled": rights_filed,
    "RightsRequestAnswered": rights_answered,
    "RightsRequestWithdrawn": rights_withdrawn,
}


def reduce(event: str, args: dict, ctx: Ctx) -> list[Op]:
    """The row operations of one decoded event."""
    return REDUCERS[event](args, ctx)


# ---------------------------------------------------------------- replay from the event tables (reorg.py)


def replay_consent_event(row: dict) -> list[Op]:
    """The ops of a stored consent_events row, minus its own insert (it is already stored)."""
    ctx = Ctx(row["block_number"], row["log_index"], row["tx_hash"], row["timestamp"])
    reducer = consent_granted if row["action"] == "grant" else consent_revoked
    return [op for op in reducer(row, ctx) if op.table != "consent_events"]


def replay_role_event(row: dict) -> list[Op]:
    ctx = Ctx(row["block_number"], row["log_index"], row["tx_hash"], row["timestamp"])
    if row["action"] == "grant":
        ops = role_granted(
            {"account": row["account"], "role": row["role"], "kind": row["kind"], "granted_by": row["actor"]}, ctx
        )
    else:
        ops = role_revoked({"account": row["account"], "role": row["role"], "revoked_by": row["actor"]}, ctx)
    return [op for op in ops if op.table != "role_events"]
