"""Stores for the indexer tests: SQLite files in tmp, and PostgreSQL (a fresh schema per test) when
one answers at CITYLEDGER_TEST_PG_URL (default: the `cityledger` role of scripts/postgres.sh)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get(
    "CITYLEDGER_TEST_PG_URL", "postgresql+psycopg://cityledger:cityledger@127.0.0.1:5432/cityledger"
)
_pg_ok: bool | None = None


def pg_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


class StoreFactory:
    """Makes empty stores of one backend; PostgreSQL stores are schemas dropped at the end."""

    def __init__(self, backend: str, tmp_path):
        self.backend = backend
        self.tmp_path = tmp_path
        self.schemas: list[str] = []

    def __call__(self, name: str = "store") -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_path / (name + '.db')}"
        schema = f"ix_{name}_{uuid.uuid4().hex[:10]}"
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        self.schemas.append(schema)
        sep = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"

    def cleanup(self) -> None:
        if not self.schemas:
            return
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            for schema in self.schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request, tmp_path) -> Iterator[StoreFactory]:
    """A factory of empty store URLs, once on SQLite and once on PostgreSQL (skipped if none)."""
    if request.param == "postgresql" and not pg_available():
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()
