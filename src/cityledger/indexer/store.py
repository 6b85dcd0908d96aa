"""Engines, sessions and schema migrations for the indexer's store.

SQLite (the default: one file, WAL, synchronous=NORMAL) or PostgreSQL (`postgresql+psycopg://...`).
The schema is owned by the Alembic migrations shipped in this package (`migrations/`); `migrate(url)`
brings any store to the newest revision and is run by the indexer on start.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Index, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

from ..errors import CityLedgerError

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (the driver we ship), not psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return normalise_url(url).startswith("sqlite")


# SQLite page cache of every connection, in KiB (negative PRAGMA cache_size = KiB): the biggest fixed
# part of the indexer's memory. 48 MB until 2026-12-01, then 32 MB, now 24 MB: a deep catch-up defers
# the random-keyed indexes and its other writes are appends, so the cache buys it little (until
# 2026-12-02 the peak came after the deferred index build, when the reorg window's steps refilled it;
# the window is now prefetched before the build: docs/INDEXER.md, Memory).
CACHE_KIB = 24_576
PAGE_SIZE = 16_384
# During a deferred index build. SQLite's sorter holds up to a page cache's worth of keys in memory
# before spilling a sorted run to a temporary file, on top of the cache itself: the full cache during
# the build cost ~50 MB of peak RSS on 1M events; 16 MB and 8 MB build as fast (bench/indexer.py).
BUILD_CACHE_KIB = 8_192


def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
    cur = dbapi_conn.cursor()
    # A new store's page size (an existing one keeps its own; set before WAL mode creates the file).
    # On a 100k-event catch-up 8 KiB pages were ~4 % faster than SQLite's 4 KiB default (its commits
    # wrote their WAL in 0.12 s instead of 0.52 s), and 16 KiB ~4 % faster again: a bulk load writes,
    # splits and sorts fewer pages. A follow step rewrites a few more bytes per touched page.
    cur.execute(f"PRAGMA page_size={PAGE_SIZE}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")  # readers (the API) and the writer share the file
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cur.execute("PRAGMA temp_store=MEMORY")
    # Fewer, larger WAL checkpoints while catching up (each one syncs the file). In pages: 256 MB of
    # WAL with 16 KiB pages (64 MB with 4 KiB, as measured until 2026-12-02); a 100k-event store then
    # lives in its WAL until the indexer closes, which checkpoints it (bench profile: 7 % of the time).
    cur.execute("PRAGMA wal_autocheckpoint=16384")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get WAL + synchronous=NORMAL and their folder is created."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise CityLedgerError(f"not a database URL: {url!r} ({exc})") from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    raise CityLedgerError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://"
    )


def session_factory(engine_or_url: Engine | str) -> sessionmaker[Session]:
    """A sessionmaker bound to an engine (or to a new engine for a URL)."""
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    return sessionmaker(bind=engine, expire_on_commit=False)


@lru_cache(maxsize=8)
def cached_engine(url: str) -> Engine:
    """One engine per URL per process (for readers such as the API)."""
    return make_engine(url)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str | Engine, revision: str = "head") -> None:
    """Create or upgrade the store's schema to `revision` (idempotent)."""
    from alembic import command
    from sqlalchemy.exc import OperationalError

    engine = make_engine(url) if isinstance(url, str) else url
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with _one_migration_at_a_time(engine), engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # held until this transaction ends
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('cityledger:migrate'))")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise CityLedgerError(f"cannot open the store {engine.url!r}: {exc.orig}") from None
    finally:
        if isinstance(url, str):
            engine.dispose()


@contextmanager
def _one_migration_at_a_time(engine: Engine) -> Iterator[None]:
    """Two indexers started together on one new store must not both create it: on SQLite a lock on a
    file beside the store (PostgreSQL: an advisory lock in the migration's transaction)."""
    db = engine.url.database if engine.dialect.name == "sqlite" else None
    if not db or db == ":memory:" or db.startswith("file:"):
        yield
        return
    with open(f"{db}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed (or the process dies)
        yield


# ---------------------------------------------------------------- deferred secondary indexes

# The tables that grow by one row (or touch one random row) per consent event. Their non-unique
# secondary indexes are keyed by random hashes (consent key, citizen): maintaining them costs a
# random B-tree insert per row and per index, and each commit rewrites a large share of their pages.
# A long catch-up drops them and builds them once at its end (a sort), which is several times
# cheaper. Primary keys and unique constraints stay: the upserts rely on them.
DEFERRABLE_TABLES = ("consent_events", "consents")


def deferrable_indexes() -> list[Index]:
    """The droppable indexes (SQLAlchemy Index objects of models.py), in a stable order."""
    from .models import Base

    return [
        ix
        for name in DEFERRABLE_TABLES
        for ix in sorted(Base.metadata.tables[name].indexes, key=lambda i: str(i.name))
        if not ix.unique
    ]


def drop_deferrable_indexes(conn: Connection) -> None:
    """Drop the deferrable indexes (inside the caller's transaction; DDL is transactional in both
    SQLite and PostgreSQL). A store without them answers every query, only slower."""
    for ix in deferrable_indexes():
        ix.drop(conn, checkfirst=True)


def defer_consents(conn: Connection, from_block: int) -> None:
    """From `from_block` on, a deep catch-up appends consent events only: drop the deferrable indexes
    and mark `consents` as not kept, in the caller's transaction (so a crash leaves both or neither).
    An earlier mark stays: `consents` is behind since the first deferred block."""
    from sqlalchemy import func, update

    from .models import Checkpoint

    drop_deferrable_indexes(conn)
    conn.execute(
        update(Checkpoint)
        .where(Checkpoint.id == 1)
        .values(consents_deferred_from=func.coalesce(Checkpoint.consents_deferred_from, from_block))
    )


def consents_deferred_from(conn: Connection) -> int | None:
    """The first block whose consent events `consents` does not reflect yet (None: it is current)."""
    from sqlalchemy import select

    from .models import Checkpoint

    return conn.execute(select(Checkpoint.consents_deferred_from).where(Checkpoint.id == 1)).scalar()


# `consents` from the event tables: per key, its last event (grant or revoke) gives expiry, nonce,
# submitter and updated block, its last grant the terms and granted stamps, a revoke after that grant
# the revoked stamps, and a SignaturesCancelled after the last event the nonce; a key never granted
# has no row. The reducers' result row for row (tests compare it with a store kept row by row). It
# sorts only (key, two log positions) per event, then reads two event rows per key by primary key
# (2 s for 400k events over 73k keys; two window functions over whole rows took 9 s), and appends in
# key order where the deep catch-up paid a random B-tree write per grant. It runs before the event
# table's key index is built: reading events in key order through it was slower than the sort (3 s).
# A position is block * 2^24 + log index (a block holds far fewer than 16M logs; no `%`: a psycopg
# placeholder).
_REBUILD_CONSENTS = """
INSERT INTO consents ("key", citizen, purpose, scope_kind, scope_id, grantee, expiry, nonce,
                      granted_block, granted_at, granted_tx, revoked_block, revoked_at, revoked_tx,
                      submitted_by, updated_block)
SELECT l."key", l.citizen, l.purpose, l.scope_kind, l.scope_id, l.grantee, l.expiry,
       COALESCE((SELECT c.nonce FROM signature_cancellations c
                 WHERE c."key" = l."key" AND (c.block_number > l.block_number
                       OR (c.block_number = l.block_number AND c.log_index > l.log_index))
                 ORDER BY c.block_number DESC, c.log_index DESC LIMIT 1), l.nonce),
       g.block_number, g.timestamp, g.tx_hash,
       CASE WHEN l.action = 'revoke' THEN l.block_number END,
       CASE WHEN l.action = 'revoke' THEN l.timestamp END,
       CASE WHEN l.action = 'revoke' THEN l.tx_hash END,
       l.submitted_by, l.block_number
FROM (SELECT "key" AS k, MAX(block_number * 16777216 + log_index) AS pos,
             MAX(CASE WHEN action = 'grant' THEN block_number * 16777216 + log_index END) AS gpos
      FROM consent_events GROUP BY "key") p
JOIN consent_events l ON l.block_number = p.pos / 16777216 AND l.log_index = p.pos - p.pos / 16777216 * 16777216
JOIN consent_events g ON g.block_number = p.gpos / 16777216 AND g.log_index = p.gpos - p.gpos / 16777216 * 16777216
ORDER BY p.k
"""


def rebuild_consents(conn: Connection) -> None:
    """Replace every `consents` row by the one its events give, and mark it current."""
    from sqlalchemy import update

    from .models import Checkpoint

    conn.exec_driver_sql("DELETE FROM consents")
    conn.exec_driver_sql(_REBUILD_CONSENTS)
    conn.execute(update(Checkpoint).where(Checkpoint.id == 1).values(consents_deferred_from=None))


def restore_indexes(conn: Connection, fence: Callable[[Connection], None] | None = None) -> list[str]:
    """Create whichever deferrable indexes are missing, and build `consents` if a deep catch-up
    deferred it (after a deferred catch-up, or a crash during one); returns the names of the indexes
    created, and "consents" if it was built. `fence(conn)` runs before the first DDL statement, after
    the SQLite settings that cannot change inside a transaction (the writer lease's check)."""
    from sqlalchemy import inspect

    present = {name: {i["name"] for i in inspect(conn).get_indexes(name)} for name in DEFERRABLE_TABLES}
    missing = [ix for ix in deferrable_indexes() if ix.table is not None and ix.name not in present[ix.table.name]]
    stale = consents_deferred_from(conn) is not None
    work = bool(missing) or stale
    sqlite = conn.dialect.name == "sqlite"
    if work and sqlite:
        # The build's sort spills to a temporary file beyond a page cache's worth of keys
        # (temp_store=MEMORY would hold the whole sort: ~150 MB per million events and index),
        # and a smaller cache meanwhile bounds both the cache and the in-memory sort.
        conn.exec_driver_sql("PRAGMA temp_store=FILE")
        conn.exec_driver_sql(f"PRAGMA cache_size=-{BUILD_CACHE_KIB}")
    try:
        if work and fence is not None:
            fence(conn)
        # `consents` first (its build sorts the events faster than it reads them through their key
        # index), then every index: one sort each.
        if stale:
            rebuild_consents(conn)
        for ix in missing:
            ix.create(conn)
    finally:
        if work and sqlite:
            conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
            conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
    return [str(ix.name) for ix in missing] + (["consents"] if stale else [])
