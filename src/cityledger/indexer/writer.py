"""Bulk application of reducer ops: merged per primary key in memory, then one executemany per
(table, operation, column set). The caller runs `flush` inside the transaction that also moves the
checkpoint, so a batch is stored entirely or not at all."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import UpdateBase

from .models import Base
from .reducers import DELETE, INSERT, UPDATE, UPSERT, Op, Row

TABLES: dict[str, Table] = dict(Base.metadata.tables)
PK: dict[str, tuple[str, ...]] = {name: tuple(c.name for c in t.primary_key.columns) for name, t in TABLES.items()}


class MergeError(Exception):
    """Ops that cannot follow each other (a bug or a chain the contracts cannot produce)."""


Key = tuple[Any, ...]
Entry = tuple[str, Row]  # (op kind, row): the one op a key's ops in a batch add up to


def _merge(prev: Entry | None, op: Op) -> Entry | None:
    """The single op equivalent to `prev` followed by `op` on the same row (None: nothing to do)."""
    if prev is None:
        return op.kind, op.row  # merging below builds new dicts, so the reducer's row is never mutated
    pkind, prow = prev
    if op.kind == DELETE:
        # An insert (row new in this batch) then delete: the row never reaches the store.
        return None if pkind == INSERT else (DELETE, {})
    if pkind == DELETE:
        if op.kind == UPDATE:
            raise MergeError(f"update of a deleted row in {op.table} {op.key}")
        return UPSERT, op.row
    if op.kind == INSERT:
        raise MergeError(f"second insert of {op.table} {op.key}")
    merged = prow | op.row
    if pkind == UPDATE and op.kind == UPSERT:
        return UPSERT, merged
    return pkind, merged


class Batch:
    """Row ops accumulated for one transaction."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[Key, Entry | None]] = defaultdict(dict)
        self.events = 0

    def add(self, ops: list[Op]) -> None:
        rows = self.rows
        for op in ops:
            table = rows[op.table]
            prev = table.get(op.key)
            table[op.key] = (op.kind, op.row) if prev is None else _merge(prev, op)

    def __len__(self) -> int:
        return sum(len(t) for t in self.rows.values())

    def flush(self, conn: Connection) -> None:
        for name, entries in self.rows.items():
            groups: dict[tuple[str, ...], list[Row]] = defaultdict(list)
            deletes: list[Key] = []
            for key, entry in entries.items():
                if entry is None:
                    continue
                kind, row = entry
                if kind == DELETE:
                    deletes.append(key)
                    continue
                # insert/upsert rows carry their key columns; an update's row is only the new values.
                full = dict(zip(PK[name], key, strict=True)) | row if kind == UPDATE else row
                groups[(kind, *full)].append(full)
            if deletes:
                _delete(conn, name, deletes)
            for gkey, rows in sorted(groups.items(), key=lambda g: _ORDER[g[0][0]]):
                kind = gkey[0]
                if kind == INSERT:
                    _insert(conn, name, rows)
                elif kind == UPSERT:
                    _upsert(conn, name, rows)
                else:
                    _update(conn, name, rows)
        self.rows.clear()
        self.events = 0


_ORDER = {INSERT: 0, UPSERT: 1, UPDATE: 2}
_SQL_CACHE: dict[tuple[str, ...], tuple[str, list[str] | None]] = {}


def _executemany(
    conn: Connection, cache_key: tuple[str, ...], build: Callable[[], UpdateBase], rows: list[Row]
) -> None:
    """executemany of a statement compiled once per (dialect, shape), straight on the DBAPI cursor:
    SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself."""
    key = (conn.dialect.name, *cache_key)
    compiled = _SQL_CACHE.get(key)
    if compiled is None:
        c = build().compile(dialect=conn.dialect)
        order = list(c.positiontup) if c.positional and c.positiontup is not None else None
        compiled = _SQL_CACHE[key] = (c.string, order)
    sql, order = compiled
    params: Sequence[Any] = rows
    if order is not None:
        get = itemgetter(*order)
        params = list(map(get, rows)) if len(order) > 1 else [(get(r),) for r in rows]
    conn.exec_driver_sql(sql, params)


def _delete(conn: Connection, name: str, keys: list[Key]) -> None:
    table = TABLES[name]
    pk = PK[name]
    rows = [{"k_" + c: v for c, v in zip(pk, key, strict=True)} for key in keys]
    _executemany(
        conn,
        ("delete", name),
        lambda: table.delete().where(and_(*(table.c[c] == bindparam("k_" + c) for c in pk))),
        rows,
    )


def _insert(conn: Connection, name: str, rows: list[Row]) -> None:
    table = TABLES[name]
    cols = list(rows[0])
    _executemany(conn, ("insert", name, *cols), lambda: table.insert().values({c: bindparam(c) for c in cols}), rows)


def _upsert(conn: Connection, name: str, rows: list[Row]) -> None:
    table = TABLES[name]
    cols = list(rows[0])

    def build() -> UpdateBase:
        stmt = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
        stmt = stmt.values({c: bindparam(c) for c in cols})
        rest = [c for c in cols if c not in PK[name]]
        return stmt.on_conflict_do_update(index_elements=list(PK[name]), set_={c: stmt.excluded[c] for c in rest})

    _executemany(conn, ("upsert", name, *cols), build, rows)


def _update(conn: Connection, name: str, rows: list[Row]) -> None:
    table = TABLES[name]
    pk = PK[name]
    cols = [c for c in rows[0] if c not in pk]

    def build() -> UpdateBase:
        return (
            table.update()
            .where(and_(*(table.c[c] == bindparam("k_" + c) for c in pk)))
            .values({c: bindparam("v_" + c) for c in cols})
        )

    params = [{**{"k_" + c: r[c] for c in pk}, **{"v_" + c: r[c] for c in cols}} for r in rows]
    _executemany(conn, ("update", name, *cols), build, params)
