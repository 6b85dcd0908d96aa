"""The audit of release claims (issue 15 finding 2): is each release's consent root what the
consent history says it may be?

The contract bounds a release's claim but cannot see the rows. A release's `consent_root` is the
Merkle root of the subjects in the released file: a subset of the citizens whose consent covered
(dataset, purpose, grantee) at `snapshot_block`. A root alone proves nothing about a subset, so the
release service publishes the snapshot (the subjects' pseudonymous addresses, no row data:
release/snapshots.py) and the indexer checks it, after every committed batch:

- `verified`: the published snapshot rebuilds to the claimed root, holds `subject_count` subjects,
  and every one of them had, as of `snapshot_block`, an active consent covering the release's
  dataset (scope dataset, publisher or domain), purpose and grantee (the grantee itself, or
  ANY_RESEARCHER while it held the researcher role): exactly how release/service.py selects
  subjects (query.queries.consenting_citizens);
- `mismatch`: the snapshot rebuilds to the root but holds another count, or a subject without that
  consent: the publisher released data it had no consent for, or misstated the release;
- `unverifiable`: no snapshot for the root is published in this store (or the file there is not
  that root's): the claim is the publisher's word only;
- `no_subjects`: a release of non-personal data (count 0, root 0): nothing to check.

A private query's root is of the whole consent set the answer ran over (docs/PRIVACY.md, section 8),
so the indexer recomputes it outright: `verified` when root and count are those of the consenting
citizens at `snapshot_block`, `mismatch` otherwise; no snapshot is needed.

Results go to `release_audits` (derived data, like DCAT summaries: compare_stores leaves it out; a
reorg deletes an audit with its release; `unverifiable` ones are retried when the indexer starts).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import Engine, Table, and_, delete, insert, select, tuple_
from sqlalchemy.engine import Connection, RowMapping

from ..codes import ANY_RESEARCHER
from ..errors import CityLedgerError
from ..fingerprint.consent_tree import ConsentTree
from ..indexer import models as m
from ..query import queries
from ..query import validate as v
from .snapshots import read_snapshot

log = logging.getLogger("cityledger.audit")

R, Q, AC = m.Release.__table__, m.PrivateQuery.__table__, m.Access.__table__
AU = cast(Table, m.ReleaseAudit.__table__)  # written here: a Table, not just a FromClause
ZERO_ROOT = "0x" + "00" * 32
VERIFIED, MISMATCH, UNVERIFIABLE, NO_SUBJECTS = "verified", "mismatch", "unverifiable", "no_subjects"
STATUSES = (VERIFIED, MISMATCH, UNVERIFIABLE, NO_SUBJECTS)
Timestamp = Callable[[int], int]  # a block's timestamp from the node (the index keeps only recent ones)


def _consenting(conn: Connection, row: RowMapping, purpose: str, timestamp: Timestamp | None) -> set[str]:
    """The citizens whose consent covered the row's (dataset, purpose, grantee) at its snapshot block."""
    ds = queries.dataset_row(conn, int(row["dataset_id"]))
    at = queries.block_timestamp(conn, int(row["snapshot_block"]), timestamp)
    return queries.consenting_citizens(
        conn, dataset_row=ds, purpose=purpose, grantee=row["grantee"], block=int(row["snapshot_block"]), now=at
    )


def _scope(row: RowMapping, purpose: str) -> str:
    name = v.purpose_name(purpose) or purpose
    grantee = "any researcher" if row["grantee"] == ANY_RESEARCHER else row["grantee"]
    return f"dataset {row['dataset_id']}, purpose {name}, grantee {grantee}, at block {row['snapshot_block']}"


def audit_release(
    conn: Connection, row: RowMapping, data_dir: Path, timestamp: Timestamp | None = None
) -> dict[str, Any]:
    """The audit of one `releases` row (see the module docstring): status, detail, snapshot hash,
    subjects without consent."""
    out: dict[str, Any] = {"snapshot_hash": None, "lacking_consent": None}
    root, count = row["consent_root"], int(row["subject_count"])
    if count == 0 and root == ZERO_ROOT:
        return out | {"status": NO_SUBJECTS, "detail": "a release of non-personal data: no subjects to check"}
    try:
        found = read_snapshot(data_dir, root)
    except CityLedgerError as exc:
        return out | {"status": UNVERIFIABLE, "detail": f"the snapshot file for this root is not its snapshot: {exc}"}
    if found is None:
        return out | {
            "status": UNVERIFIABLE,
            "detail": "no consent snapshot with this root is published in this store: the claim is the "
            "publisher's word only",
        }
    tree, data = found
    out["snapshot_hash"] = "0x" + hashlib.sha256(data).hexdigest()
    if len(tree) != count:
        return out | {
            "status": MISMATCH,
            "detail": f"the release claims {count} subjects; its published snapshot holds {len(tree)}",
        }
    consenting = _consenting(conn, row, row["purpose"], timestamp)
    lacking = sorted(a.lower() for a in tree.values if a.lower() not in consenting)
    out["lacking_consent"] = len(lacking)
    if lacking:
        shown = ", ".join(lacking[:3]) + (" ..." if len(lacking) > 3 else "")
        return out | {
            "status": MISMATCH,
            "detail": f"{len(lacking)} of {count} subjects had no consent covering {_scope(row, row['purpose'])}: "
            f"{shown}",
        }
    return out | {
        "status": VERIFIED,
        "detail": f"all {count} subjects of the published snapshot had consent covering {_scope(row, row['purpose'])}",
    }


def audit_query(conn: Connection, row: RowMapping, timestamp: Timestamp | None = None) -> dict[str, Any]:
    """The audit of one `private_queries` row: its root recomputed from the consent history."""
    out: dict[str, Any] = {"snapshot_hash": None, "lacking_consent": None}
    purpose = conn.execute(select(AC.c.purpose).where(AC.c.id == row["access_id"])).scalar()
    if purpose is None:
        return out | {"status": UNVERIFIABLE, "detail": f"access {row['access_id']} is not in the index"}
    consenting = _consenting(conn, row, purpose, timestamp)
    root = "0x" + ConsentTree.build(consenting).root.hex()
    if (root, len(consenting)) == (row["consent_root"], int(row["subject_count"])):
        return out | {
            "status": VERIFIED,
            "detail": f"root and count are those of the {len(consenting)} consenting citizens ({_scope(row, purpose)})",
        }
    return out | {
        "status": MISMATCH,
        "detail": f"the answer claims {row['subject_count']} subjects with root {row['consent_root']}; the consent "
        f"history gives {len(consenting)} with root {root} ({_scope(row, purpose)})",
    }


class _Committed(Protocol):
    """What the hook reads of a committed batch (a sync.StepResult)."""

    from_block: int
    to_block: int


class Auditor:
    """The indexer's `after_commit` hook: audits the releases and private queries a committed batch
    logged. Outside the indexing transaction and never fatal to indexing: a failure is logged and the
    next call looks at everything again. `run()` without blocks (at start) also drops audits of
    releases a `--reset` or another deployment replaced, and retries the unverifiable ones."""

    def __init__(self, engine: Engine, data_dir: Path | str, timestamp: Timestamp | None = None):
        self.engine = engine
        self.data_dir = Path(data_dir)
        self.timestamp = timestamp
        self.backfill_due = True
        self.audited = 0

    def run(self, blocks: tuple[int, int] | None = None) -> int | None:
        try:
            n = audit(self.engine, self.data_dir, None if self.backfill_due else blocks, self.timestamp)
        except Exception as exc:  # the index itself is committed; audits can wait
            log.warning("release audit failed (will retry over all releases): %s", exc)
            self.backfill_due = True
            return None
        self.backfill_due = False
        self.audited += n
        return n

    def __call__(self, result: _Committed) -> None:
        if result.to_block >= result.from_block:
            self.run((result.from_block, result.to_block))


def audit(
    engine: Engine, data_dir: Path, blocks: tuple[int, int] | None = None, timestamp: Timestamp | None = None
) -> int:
    """Audit the releases and private queries logged in `blocks` (first, last), or, without blocks,
    every one without a current audit or whose audit was unverifiable. Returns how many were audited."""
    rows: list[dict[str, Any]] = []
    if blocks is None:
        _drop_stale(engine)
    with engine.connect() as conn:
        for kind, table in (("release", R), ("query", Q)):
            for row in conn.execute(_todo(kind, table, blocks)).mappings():
                result = (
                    audit_release(conn, row, data_dir, timestamp)
                    if kind == "release"
                    else audit_query(conn, row, timestamp)
                )
                rows.append(
                    {"kind": kind, "id": row["id"], "block_number": row["block_number"], "tx_hash": row["tx_hash"]}
                    | result
                    | {"checked_at": int(time.time())}
                )
    if rows:
        _store(engine, rows)
        flagged = [f"{r['kind']} {r['id']}: {r['status']}" for r in rows if r["status"] == MISMATCH]
        if flagged:
            log.warning("release claims that do not match the consent history: %s", "; ".join(flagged))
    return len(rows)


def _todo(kind: str, table: Any, blocks: tuple[int, int] | None) -> Any:
    """The rows of `table` to audit: those logged in `blocks`, else those without a current audit or
    with an unverifiable one (the snapshot may have been published since)."""
    query = select(table)
    if blocks is not None:
        return query.where(and_(table.c.block_number >= blocks[0], table.c.block_number <= blocks[1]))
    audited = select(AU.c.id).where(
        AU.c.kind == kind, AU.c.id == table.c.id, AU.c.tx_hash == table.c.tx_hash, AU.c.status != UNVERIFIABLE
    )
    return query.where(~audited.exists())


def _drop_stale(engine: Engine) -> None:
    """Audits whose release or query is no longer in the index as it was (a reset, another chain)."""
    with engine.begin() as conn:
        for kind, table in (("release", R), ("query", Q)):
            current = select(table.c.id).where(table.c.id == AU.c.id, table.c.tx_hash == AU.c.tx_hash)
            conn.execute(delete(AU).where(AU.c.kind == kind, ~current.exists()))


def _store(engine: Engine, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    keys = [(r["kind"], r["id"]) for r in rows]
    with engine.begin() as conn:
        for i in range(0, len(keys), 500):
            conn.execute(delete(AU).where(tuple_(AU.c.kind, AU.c.id).in_(keys[i : i + 500])))
        conn.execute(insert(AU), rows)
