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

from ..codes import ACCESS_GRANTED, ACCESS_REQUESTED, RIGHTS_OPEN, STATUS_ACTIVE
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
)
# Stages that happened above it are undone: their stamps cleared and what they set reset. A later
# stage before the one it implies (an access ended was granted).
_STAGES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("datasets", "withdrawn", {"status": STATUS_ACTIVE, "withdrawn_reason": None}),
    ("attestations", "revoked", {"active": True}),
    ("access", "ended", {"status": ACCESS_GRANTED, "ended_by": None}),
    ("access", "refused", {"status": ACCESS_REQUESTED, "refused_reason": None}),
    ("access", "granted", {"status": ACCESS_REQUESTED, "expiry": None}),
    ("rights_requests", "answered", {"status": RIGHTS_OPEN, "answer_hash": None, "late": None}),
    ("rights_requests", "withdrawn", {"status": RIGHTS_OPEN}),
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
    counts["consents_replayed"] = _replay(
        conn, events="consent_events", state="consents", key_col="key", replay=replay_consent_event, above=a
    )
    counts["roles_replayed"] = _replay(
        conn, events="role_events", state="roles", key_col="account", replay=replay_role_event, above=a
    )
    counts["blocks_deleted"] = conn.execute(delete(Block).where(Block.number > a)).rowcount
    return counts


def _replay(
    conn: Connection,
    *,
    events: str,
    state: str,
    key_col: str,
    replay: Callable[[Row], list[Op]],
    above: int,
) -> int:
    """Delete the rows of table `events` above `above`; rebuild the rows of table `state` of their keys
    (column `key_col` of both tables) from the remaining events."""
    ev, st = TABLES[events], TABLES[state]
    ev_key, state_key = ev.c[key_col], st.c[key_col]
    keys = list(conn.execute(select(ev_key).where(ev.c.block_number > above).distinct()).scalars())
    if not keys:
        return 0
    conn.execute(delete(ev).where(ev.c.block_number > above))
    batch = Batch()
    for chunk in _chunks(keys):
        conn.execute(delete(st).where(state_key.in_(chunk)))
        rows = conn.execute(select(ev).where(ev_key.in_(chunk)).order_by(ev.c.block_number, ev.c.log_index)).mappings()
        for row in rows:
            batch.add(replay(dict(row)))
    batch.flush(conn)
    return len(keys)
