"""Undo everything indexed above a block (the common ancestor of a reorganisation).

State tables carry the block of every mutation, so most of the undo is "delete rows created above A,
clear the columns set above A". Roles and consents depend on their whole history: their event rows
above A are deleted and the current rows of the affected keys are replayed from the event rows that
remain, through the same reducers as the forward path, so the result equals a fresh re-index.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update

from ..codes import ACCESS_GRANTED, ACCESS_REQUESTED, RIGHTS_OPEN, STATUS_ACTIVE
from .models import (
    Access,
    Attestation,
    Block,
    Consent,
    ConsentEvent,
    Dataset,
    OwnershipEvent,
    Release,
    RightsRequest,
    Role,
    RoleEvent,
)
from .reducers import replay_consent_event, replay_role_event
from .writer import Batch

_CHUNK = 500


def _chunks(items: list, n: int = _CHUNK):
    for i in range(0, len(items), n):
        yield items[i : i + n]


def rollback_to(conn: Connection, ancestor: int) -> dict[str, int]:
    """Remove the effects of all blocks > ancestor. Returns how many rows each step touched."""
    a = ancestor
    counts: dict[str, int] = {}

    def run(name: str, stmt) -> None:
        counts[name] = conn.execute(stmt).rowcount

    # Datasets: registered above A vanish; supersession and withdrawal above A are cleared.
    run("datasets_deleted", delete(Dataset).where(Dataset.registered_block > a))
    run(
        "datasets_successor",
        update(Dataset).where(Dataset.successor_block > a).values(successor=None, successor_block=None),
    )
    run(
        "datasets_withdrawn",
        update(Dataset)
        .where(Dataset.withdrawn_block > a)
        .values(
            status=STATUS_ACTIVE, withdrawn_block=None, withdrawn_at=None, withdrawn_tx=None, withdrawn_reason=None
        ),
    )
    run("attestations_deleted", delete(Attestation).where(Attestation.added_block > a))
    run(
        "attestations_revoked",
        update(Attestation)
        .where(Attestation.revoked_block > a)
        .values(active=True, revoked_block=None, revoked_at=None, revoked_tx=None),
    )
    # Access: the later stage first (ended implies granted).
    run("access_deleted", delete(Access).where(Access.requested_block > a))
    run(
        "access_ended",
        update(Access)
        .where(Access.ended_block > a)
        .values(status=ACCESS_GRANTED, ended_block=None, ended_at=None, ended_tx=None, ended_by=None),
    )
    run(
        "access_refused",
        update(Access)
        .where(Access.refused_block > a)
        .values(status=ACCESS_REQUESTED, refused_block=None, refused_at=None, refused_tx=None, refused_reason=None),
    )
    run(
        "access_granted",
        update(Access)
        .where(Access.granted_block > a)
        .values(status=ACCESS_REQUESTED, expiry=None, granted_block=None, granted_at=None, granted_tx=None),
    )
    run("releases_deleted", delete(Release).where(Release.block_number > a))
    run("rights_deleted", delete(RightsRequest).where(RightsRequest.filed_block > a))
    run(
        "rights_answered",
        update(RightsRequest)
        .where(RightsRequest.answered_block > a)
        .values(
            status=RIGHTS_OPEN, answered_block=None, answered_at=None, answered_tx=None, answer_hash=None, late=None
        ),
    )
    run(
        "rights_withdrawn",
        update(RightsRequest)
        .where(RightsRequest.withdrawn_block > a)
        .values(status=RIGHTS_OPEN, withdrawn_block=None, withdrawn_at=None, withdrawn_tx=None),
    )
    run("ownership_deleted", delete(OwnershipEvent).where(OwnershipEvent.block_number > a))

    counts["consents_replayed"] = _replay(
        conn, events=ConsentEvent, state=Consent, key_col="key", replay=replay_consent_event, above=a
    )
    counts["roles_replayed"] = _replay(
        conn, events=RoleEvent, state=Role, key_col="account", replay=replay_role_event, above=a
    )
    run("blocks_deleted", delete(Block).where(Block.number > a))
    return counts


def _replay(conn: Connection, *, events, state, key_col, replay, above: int) -> int:
    """Delete event rows above `above`; rebuild the state rows of their keys (column `key_col` of both
    tables) from the remaining events."""
    ev_key, state_key = events.__table__.c[key_col], state.__table__.c[key_col]
    keys = list(conn.execute(select(ev_key).where(events.block_number > above).distinct()).scalars())
    if not keys:
        return 0
    conn.execute(delete(events).where(events.block_number > above))
    batch = Batch()
    for chunk in _chunks(keys):
        conn.execute(delete(state).where(state_key.in_(chunk)))
        rows = conn.execute(
            select(events).where(ev_key.in_(chunk)).order_by(events.block_number, events.log_index)
        ).mappings()
        for row in rows:
            batch.add(replay(dict(row)))
    batch.flush(conn)
    return len(keys)
