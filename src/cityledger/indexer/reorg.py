"""Undo everything indexed above a block (the common ancestor of a reorganisation).

State tables carry the block of every mutation, so most of the undo is "delete rows created above A,
clear the columns set above A". Roles and consents depend on their whole history: their event rows
above A are deleted and the current rows of the affected keys are replayed from the event rows that
remain, through the same reducers as the forward path, so the result equals a fresh re-index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ..codes import ACCESS_GRANTED, ACCESS_REQUESTED, DELETION_OPEN, RIGHTS_OPEN, STATUS_ACTIVE
from .models import Block, stamp_names
from .reducers import Op, Row, replay_consent_event, replay_role_event
from .writer import TABLES, Batch

_CHUNK = 500

# Rows created above the ancestor vanish: (table, the column of the block that created them).
_CREATED = (
    ("datasets", "registered_block"),
    ("attestations", "added_block"),
    ("access", "requested_block"),
    ("releases", "block_number"),
    ("rights_requests", "filed_block"),
    ("ownership_events", "block_number"),
    ("profile_events", "block_number"),
    ("signature_cancellations", "block_number"),
    ("skipped_grants", "block_number"),
    ("operator_events", "block_number"),
    ("budget_events", "block_number"),
    ("private_queries", "block_number"),
    ("deletion_obligations", "requested_block"),
    # Derived: the audit of a release or private query goes with it (release/audit.py redoes it).
    ("release_audits", "block_number"),
)
# Stages that happened above it are undone: their stamps cleared and what they set reset. A later
# stage before the one it implies (an access ended was granted).
_STAGES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("datasets", "withdrawn", {"status": STATUS_ACTIVE, "withdrawn_reason": None}),
    ("attestations", "revoked", {"active": True}),
    ("access", "ended", {"status": ACCESS_GRANTED, "ended_by": None}),
    ("access", "cancelled", {"status": ACCESS_REQUESTED}),
    ("access", "refused", {"status": ACCESS_REQUESTED, "refused_reason": None}),
    ("access", "granted", {"status": ACCESS_REQUESTED, "expiry": None}),
    ("rights_requests", "answered", {"status": RIGHTS_OPEN, "answer_hash": None, "late": None}),
    ("rights_requests", "withdrawn", {"status": RIGHTS_OPEN}),
    ("deletion_obligations", "confirmed", {"status": DELETION_OPEN, "evidence_hash": None, "late": None}),
)


def _chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def rollback_to(conn: Connection, ancestor: int) -> dict[str, int]:
    """Remove the effects of all blocks > ancestor. Returns how many rows each step touched."""
    a = ancestor
    counts: dict[str, int] = {}
    for name, column in _CREATED:
        table = TABLES[name]
        counts[f"{name}_deleted"] = conn.execute(delete(table).where(table.c[column] > a)).rowcount
    # A version registered above A no longer supersedes the one before it.
    d = TABLES["datasets"]
    counts["datasets_successor"] = conn.execute(
        update(d).where(d.c.successor_block > a).values(successor=None, successor_block=None)
    ).rowcount
    for name, stage, resets in _STAGES:
        table, stamps = TABLES[name], stamp_names(stage)
        stmt = update(table).where(table.c[stamps[0]] > a).values(dict.fromkeys(stamps, None) | resets)
        counts[f"{name}_{stage}"] = conn.execute(stmt).rowcount
    # A consent's nonce also moves with SignaturesCancelled: both histories are replayed, in log order.
    counts["consents_replayed"] = _replay(
        conn,
        events=("consent_events", "signature_cancellations"),
        state="consents",
        key_col="key",
        replay=replay_consent_event,
        above=a,
    )
    counts["roles_replayed"] = _replay(
        conn, events=("role_events",), state="roles", key_col="account", replay=replay_role_event, above=a
    )
    counts["blocks_deleted"] = conn.execute(delete(Block).where(Block.number > a)).rowcount
    return counts


def _replay(
    conn: Connection,
    *,
    events: tuple[str, ...],
    state: str,
    key_col: str,
    replay: Callable[[Row], list[Op]],
    above: int,
) -> int:
    """Delete the rows of the `events` tables above `above`; rebuild the rows of table `state` of their
    keys (column `key_col` of every table) from the remaining events of all of them, in log order."""
    tables = [TABLES[name] for name in events]
    st = TABLES[state]
    keys = sorted(
        {k for ev in tables for k in conn.execute(select(ev.c[key_col]).where(ev.c.block_number > above)).scalars()}
    )
    if not keys:
        return 0
    for ev in tables:
        conn.execute(delete(ev).where(ev.c.block_number > above))
    batch = Batch()
    for chunk in _chunks(keys):
        conn.execute(delete(st).where(st.c[key_col].in_(chunk)))
        rows = [
            dict(row) for ev in tables for row in conn.execute(select(ev).where(ev.c[key_col].in_(chunk))).mappings()
        ]
        rows.sort(key=lambda row: (row["block_number"], row["log_index"]))
        for row in rows:
            batch.add(replay(row))
    batch.flush(conn)
    return len(keys)
