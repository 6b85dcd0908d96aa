"""Scratch stores for tests and benchmarks: empty SQLite files, or fresh PostgreSQL schemas dropped
at the end (one per store, so tests on one server never see each other's tables)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

PG_URL = os.environ.get(
    "CITYLEDGER_TEST_PG_URL", "postgresql+psycopg://cityledger:cityledger@127.0.0.1:5432/cityledger"
)
_pg_ok: bool | None = None


def pg_available() -> bool:
    """Whether PostgreSQL answers at CITYLEDGER_TEST_PG_URL (asked once per process)."""
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
    """Makes empty stores of one backend ("sqlite" in `folder`, or "postgresql"); cleanup() drops
    the PostgreSQL schemas it made."""

    def __init__(self, backend: str, folder: Path):
        self.backend = backend
        self.folder = Path(folder)
        self.schemas: list[str] = []

    def __call__(self, name: str = "store") -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / (name + '.db')}"
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
        self.schemas.clear()
