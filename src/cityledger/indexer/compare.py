"""Compare two stores table by table (crash, reorg and restart tests: store == fresh re-index)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from .models import DATA_TABLES
from .store import make_engine
from .writer import PK, TABLES


def dump_table(engine: Engine, name: str) -> list[tuple[Any, ...]]:
    """All rows of a data table, ordered by primary key, as tuples in column order."""
    table = TABLES[name]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*(table.c[c] for c in PK[name])))]


def compare_stores(a: str | Engine, b: str | Engine, tables: tuple[str, ...] = DATA_TABLES) -> list[str]:
    """Differences between the indexed data of two stores (empty list: identical, table by table).

    Compares every data table (not the sync state: checkpoint, blocks) row by row, all columns.
    `dataset_metadata` is not chain data and is left out on purpose: it is content-addressed (a row
    is right for its metadata hash whatever the branch), so it survives rollbacks and `--reset`, and
    its `fetched_at` and which documents this machine holds differ between stores of the same chain."""
    ea = make_engine(a) if isinstance(a, str) else a
    eb = make_engine(b) if isinstance(b, str) else b
    diffs: list[str] = []
    try:
        for name in tables:
            ra, rb = dump_table(ea, name), dump_table(eb, name)
            if ra == rb:
                continue
            sa, sb = set(ra), set(rb)
            only_a, only_b = sorted(sa - sb, key=repr), sorted(sb - sa, key=repr)
            diffs.append(
                f"{name}: {len(ra)} vs {len(rb)} rows; {len(only_a)} only in A (e.g. {only_a[:2]}), "
                f"{len(only_b)} only in B (e.g. {only_b[:2]})"
            )
    finally:
        if isinstance(a, str):
            ea.dispose()
        if isinstance(b, str):
            eb.dispose()
    return diffs


def assert_stores_equal(a: str | Engine, b: str | Engine) -> None:
    diffs = compare_stores(a, b)
    assert not diffs, "stores differ:\n" + "\n".join(diffs)


def row_counts(engine_or_url: str | Engine) -> dict[str, int]:
    from sqlalchemy import func

    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(TABLES[name])).scalar_one() for name in DATA_TABLES}
