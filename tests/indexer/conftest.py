"""Stores for the indexer tests: SQLite files in tmp, and PostgreSQL (a fresh schema per test) when
one answers at CITYLEDGER_TEST_PG_URL (default: the `cityledger` role of scripts/postgres.sh)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cityledger.indexer.scratch import PG_URL, StoreFactory, pg_available


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request, tmp_path) -> Iterator[StoreFactory]:
    """A factory of empty store URLs, once on SQLite and once on PostgreSQL (skipped if none)."""
    if request.param == "postgresql" and not pg_available():
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()
