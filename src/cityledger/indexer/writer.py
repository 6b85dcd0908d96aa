"""Bulk application of reducer ops: merged per primary key in memory, then one executemany per
(table, operation, column set). The caller runs `flush` inside the transaction that also moves the
checkpoint, so a batch is stored entirely or not at all."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, Table, and_, bindparam
from sqlalchemy.dialects import postgresql, sqlite

from .models import Base
from .reducers import DELETE, INSERT, UPDATE, UPSERT, Op

TABLES: dict[str, Table] = dict(Base.metadata.tables)
PK: dict[str, tuple[str, ...]] = {name: tuple(c.name for c in t.primary_key.columns) for name, t in TABLES.items()}


class MergeError(Exception):
    """Ops that cannot follow each other (a bug or a chain the contracts cannot produce)."""


def _merge(prev: tuple[str, dict] | None, op: Op) -> tuple[str, dict] | None:
    """The single op equivalent to `prev` followed by `op` on the same row (None: nothing to do)."""
    if prev is None:
        return op.kind, dict(op.row)
    pkind, prow = prev
    if op.kind == DELETE:
        # An insert (row new in this batch) then delete: the row never reaches the store.
        return None if pkind == INSERT else (DELETE, {})
    if pkind == DELETE:
        if op.kind == UPDATE:
            raise MergeError(f"update of a deleted row in {op.table} {op.key}")
        return UPSERT, dict(op.row)
    if op.kind == INSERT:
        raise MergeError(f"second insert of {op.table} {op.key}")
    merged = prow | op.row
    if pkind == UPDATE and op.kind == UPSERT:
        return UPSERT, merged
    return pkind, merged


class Batch:
    """Row ops accumulated for one transaction."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple, tuple[str, dict] | None]] = defaultdict(dict)
        self.events = 0

    def add(self, ops: list[Op]) -> None:
        for op in ops:
            table = self.rows[op.table]
            table[op.key] = _merge(table.get(op.key), op)

    def __len__(self) -> int:
        return sum(len(t) for t in self.rows.values())

    def flush(self, conn: Connection) -> None:
        for name, entries in self.rows.items():
            groups: dict[tuple[str, frozenset], list[dict]] = defaultdict(list)
            deletes: list[tuple] = []
            for key, entry in entries.items():
                if entry is None:
                    continue
                kind, row = entry
                if kind == DELETE:
                    deletes.append(key)
                    continue
                full = dict(zip(PK[name], key)) | row
                groups[(kind, frozenset(full))].append(full)
            if deletes:
                _delete(conn, name, deletes)
            for (kind, _), rows in sorted(groups.items(), key=lambda g: _ORDER[g[0][0]]):
                if kind == INSERT:
                    conn.execute(TABLES[name].insert(), rows)
                elif kind == UPSERT:
                    _upsert(conn, name, rows)
                else:
                    _update(conn, name, rows)
        self.rows.clear()
        self.events = 0


_ORDER = {INSERT: 0, UPSERT: 1, UPDATE: 2}


def _delete(conn: Connection, name: str, keys: list[tuple]) -> None:
    table = TABLES[name]
    pk = PK[name]
    stmt = table.delete().where(and_(*(table.c[c] == bindparam("k_" + c) for c in pk)))
    conn.execute(stmt, [{"k_" + c: v for c, v in zip(pk, key)} for key in keys])


def _upsert(conn: Connection, name: str, rows: list[dict]) -> None:
    table = TABLES[name]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    cols = [c for c in rows[0] if c not in PK[name]]
    stmt = stmt.on_conflict_do_update(index_elements=list(PK[name]), set_={c: stmt.excluded[c] for c in cols})
    conn.execute(stmt, rows)


def _update(conn: Connection, name: str, rows: list[dict]) -> None:
    table = TABLES[name]
    pk = PK[name]
    cols = [c for c in rows[0] if c not in pk]
    stmt = (
        table.update()
        .where(and_(*(table.c[c] == bindparam("k_" + c) for c in pk)))
        .values({c: bindparam("v_" + c) for c in cols})
    )
    params = [{**{"k_" + c: r[c] for c in pk}, **{"v_" + c: r[c] for c in cols}} for r in rows]
    conn.execute(stmt, params)
