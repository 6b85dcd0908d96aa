"""The relayer's state in the store, shared by every API worker: one sender, an outbox, rate limits.

`cityledger serve --workers N` runs N processes (and a city may run several hosts on one PostgreSQL).
A relayer account has one nonce sequence, so they must send as one sender:

- **The sender lock.** Whoever sends holds it: a PostgreSQL session advisory lock (keyed by chain id
  and relayer address), or on SQLite an exclusive `flock` on a file beside the database (SQLite is one
  machine's store anyway); in front of either, a thread lock, so that one worker's threads queue in
  memory instead of each holding a pooled connection while it waits. Nonce allocation, signing,
  recording and sending happen under it, so no two transactions get one nonce.
- **The outbox** (`relay_requests`, `relay_attempts`): a transaction is written, signed, before it
  is sent (its hash is known from the signed bytes), in the same database transaction that moves
  `relay_senders.next_nonce`. A worker killed after sending leaves a record and no gap; one killed
  before sending leaves a record that the next outbox check broadcasts. The unique (chain, sender,
  nonce) constraint refuses a collision even if a lock failed.
- **Rate limits** (`relay_limits`): token buckets updated by one UPDATE each, atomic on both
  backends, so that a citizen's quota is one quota whichever worker answers.

Nothing here talks to the node: relayer.py does, holding `RelayStore.sender()`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, case, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ..indexer.relay_models import RelayAttempt, RelayLimit, RelayRequest, RelaySender
from ..indexer.store import make_engine
from ..query.errors import Unavailable

REQUESTS, ATTEMPTS, SENDERS, LIMITS = (
    cast(Table, model.__table__) for model in (RelayRequest, RelayAttempt, RelaySender, RelayLimit)
)
# A request still in the outbox, and what it can end as.
PENDING, MINED, REVERTED, FAILED = "pending", "mined", "reverted", "failed"


def worker_id() -> str:
    """host:pid of this API worker (recorded with each request it accepted)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


@dataclass(frozen=True)
class Outgoing:
    """A signed transaction for the outbox, with the request it carries."""

    nonce: int
    contract: str
    action: str
    citizen: str
    consent_key: str
    consent_nonce: int
    digest: str
    data: str
    gas: int
    max_fee: int
    tip: int | None
    tx_hash: str
    raw: str


class Outbox:
    """The outbox while its holder has the sender lock (`RelayStore.sender()`): every method is one
    committed database transaction on the locked connection."""

    def __init__(self, conn: Connection, chain_id: int, sender: str):
        self.conn, self.chain_id, self.sender = conn, chain_id, sender.lower()

    def _mine(self) -> Any:
        return (REQUESTS.c.chain_id == self.chain_id) & (REQUESTS.c.sender == self.sender)

    def _next(self) -> int | None:
        row = self.conn.execute(
            select(SENDERS.c.next_nonce).where(SENDERS.c.chain_id == self.chain_id, SENDERS.c.sender == self.sender)
        ).first()
        return None if row is None else int(row[0])

    def next_nonce(self) -> int | None:
        """The next nonce the store has not allocated (None: a relayer the store has never seen)."""
        nonce = self._next()
        self.conn.commit()
        return nonce

    def _set_next(self, nonce: int) -> None:
        values = {"chain_id": self.chain_id, "sender": self.sender, "next_nonce": nonce, "updated_at": int(time.time())}
        stmt = _insert(self.conn)(SENDERS).values(**values)
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["chain_id", "sender"], set_={"next_nonce": nonce, "updated_at": values["updated_at"]}
            )
        )

    def skip_to(self, nonce: int) -> None:
        """The node has used nonces below `nonce` (another user of the key): allocate from there."""
        self._set_next(nonce)
        self.conn.commit()

    def prepare(self, contract: str, consent_key: str, consent_nonce: int) -> tuple[dict[str, Any] | None, int | None]:
        """In one read: the request already in the outbox for this consent at this nonce (in_outbox),
        and the next nonce (next_nonce)."""
        row = self.conn.execute(_same_consent(contract, consent_key, consent_nonce)).mappings().first()
        nonce = self._next()
        self.conn.commit()
        return (dict(row) if row else None), nonce

    def record(self, tx: Outgoing) -> int:
        """Write a signed transaction before it is sent, and move the next nonce past it; its id."""
        now = int(time.time())
        row = {
            "chain_id": self.chain_id, "sender": self.sender, "nonce": tx.nonce, "contract": tx.contract.lower(),
            "action": tx.action, "citizen": tx.citizen.lower(), "consent_key": tx.consent_key,
            "consent_nonce": tx.consent_nonce, "digest": tx.digest, "data": tx.data, "gas": tx.gas,
            "max_fee": tx.max_fee, "tip": tx.tip, "tx_hash": tx.tx_hash, "raw": tx.raw, "status": PENDING,
            "attempts": 1, "created_at": now, "sent_at": now, "worker": worker_id(),
        }  # fmt: skip
        request_id = int(self.conn.execute(insert(REQUESTS).values(**row).returning(REQUESTS.c.id)).scalar_one())
        self._attempt(request_id, 1, tx.tx_hash, tx.max_fee, tx.tip, now)
        self._set_next(tx.nonce + 1)
        self.conn.commit()
        return request_id

    def _attempt(self, request_id: int, attempt: int, tx_hash: str, max_fee: int, tip: int | None, now: int) -> None:
        values = {"request_id": request_id, "attempt": attempt, "tx_hash": tx_hash, "max_fee": max_fee, "tip": tip}
        self.conn.execute(insert(ATTEMPTS).values(sent_at=now, **values))

    def forget(self, request_id: int, nonce: int) -> None:
        """The node refused the first send of a request: nothing was sent, so the request and its
        nonce are given back (no other nonce was allocated meanwhile: the lock is held)."""
        self.conn.execute(delete(ATTEMPTS).where(ATTEMPTS.c.request_id == request_id))
        self.conn.execute(delete(REQUESTS).where(REQUESTS.c.id == request_id))
        self._set_next(nonce)
        self.conn.commit()

    def pending(self) -> list[dict[str, Any]]:
        """The requests not known to be mined, in nonce order, each with its attempts' hashes (newest first)."""
        rows = [
            dict(r)
            for r in self.conn.execute(
                select(REQUESTS).where(self._mine(), REQUESTS.c.status == PENDING).order_by(REQUESTS.c.nonce)
            ).mappings()
        ]
        if rows:
            hashes: dict[int, list[str]] = {}
            for request_id, tx_hash in self.conn.execute(
                select(ATTEMPTS.c.request_id, ATTEMPTS.c.tx_hash)
                .where(ATTEMPTS.c.request_id.in_([r["id"] for r in rows]))
                .order_by(ATTEMPTS.c.attempt.desc())
            ):
                hashes.setdefault(request_id, []).append(tx_hash)
            for r in rows:
                r["hashes"] = hashes.get(r["id"], [r["tx_hash"]])
        self.conn.commit()
        return rows

    def settle(self, request_id: int, status: str, *, tx_hash: str | None = None, block: int | None = None,
               error: str | None = None) -> None:  # fmt: skip
        """A request's end: mined (by `tx_hash`, in `block`), reverted, or failed (`error`)."""
        values: dict[str, Any] = {"status": status, "block_number": block, "error": error}
        if tx_hash is not None:
            values["tx_hash"] = tx_hash
        self.conn.execute(update(REQUESTS).where(REQUESTS.c.id == request_id).values(**values))
        self.conn.commit()

    def replace(self, previous: dict[str, Any], *, tx_hash: str, raw: str, max_fee: int, tip: int | None,
                nonce: int | None = None) -> None:  # fmt: skip
        """A new attempt of the request `previous` (a pending() row): a higher fee, or a new nonce.
        Written before it is sent."""
        now, attempt = int(time.time()), previous["attempts"] + 1
        values: dict[str, Any] = {"tx_hash": tx_hash, "raw": raw, "max_fee": max_fee, "tip": tip, "sent_at": now}
        if nonce is not None:
            values["nonce"] = nonce
            self._set_next(nonce + 1)
        self.conn.execute(update(REQUESTS).where(REQUESTS.c.id == previous["id"]).values(attempts=attempt, **values))
        self._attempt(previous["id"], attempt, tx_hash, max_fee, tip, now)
        self.conn.commit()

    def restore(self, previous: dict[str, Any], refused_hash: str, *, next_nonce: int | None = None) -> None:
        """Undo `replace` after the node refused the new attempt `refused_hash`: the previous attempt
        stands (and a nonce the new one took is given back as `next_nonce`)."""
        keep = {k: previous[k] for k in ("tx_hash", "raw", "max_fee", "tip", "sent_at", "nonce", "attempts")}
        self.conn.execute(delete(ATTEMPTS).where(ATTEMPTS.c.tx_hash == refused_hash))
        self.conn.execute(update(REQUESTS).where(REQUESTS.c.id == previous["id"]).values(**keep))
        if next_nonce is not None:
            self._set_next(next_nonce)
        self.conn.commit()

    def touch(self, request_id: int) -> None:
        """The latest attempt was broadcast again now."""
        self.conn.execute(update(REQUESTS).where(REQUESTS.c.id == request_id).values(sent_at=int(time.time())))
        self.conn.commit()


def find_relayed(conn: Connection, tx_hash: str) -> dict[str, Any] | None:
    """The relayed request one of whose attempts had this hash (0x lowercase), with every hash it was
    sent as (oldest first); None if this store's relayer never sent it."""
    request_id = conn.execute(select(ATTEMPTS.c.request_id).where(ATTEMPTS.c.tx_hash == tx_hash)).scalar()
    if request_id is None:
        return None
    row = conn.execute(select(REQUESTS).where(REQUESTS.c.id == request_id)).mappings().one()
    hashes = conn.execute(
        select(ATTEMPTS.c.tx_hash).where(ATTEMPTS.c.request_id == request_id).order_by(ATTEMPTS.c.attempt)
    ).scalars()
    return {**row, "hashes": list(hashes)}


def _same_consent(contract: str, consent_key: str, consent_nonce: int) -> Any:
    """The outbox's pending or mined request for a consent at a nonce (at most one can be mined)."""
    return (
        select(REQUESTS)
        .where(
            REQUESTS.c.contract == contract.lower(),
            REQUESTS.c.consent_key == consent_key,
            REQUESTS.c.consent_nonce == consent_nonce,
            REQUESTS.c.status.in_((PENDING, MINED)),
        )
        .limit(1)
    )


def _insert(conn: Connection) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL both do)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


class SenderLock:
    """At most one holder across threads, processes and (on PostgreSQL) hosts."""

    def __init__(self, engine: Engine, chain_id: int, sender: str):
        self.engine = engine
        name = f"cityledger relayer {chain_id} {sender.lower()}".encode()
        self.key = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)  # advisory keys: a bigint
        self.local = threading.Lock()
        self.path: Path | None = None
        if engine.dialect.name == "sqlite":
            db = make_url(str(engine.url)).database
            if not db or db == ":memory:" or db.startswith("file:"):
                raise Unavailable("the relayer needs a store file or PostgreSQL, not an in-memory SQLite store")
            self.path = Path(db).with_name(Path(db).name + ".relayer-lock")

    @contextmanager
    def hold(self, timeout: float | None) -> Iterator[Connection | None]:
        """The locked connection, or None when `timeout` is 0 and another holder has it. A holder that
        waits longer than `timeout` seconds is refused (503: the relayer is busy)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.local.acquire(timeout=-1 if timeout is None else timeout):
            if timeout == 0:
                yield None
                return
            raise Unavailable("the relayer is busy sending; retry in a few seconds", headers={"Retry-After": "2"})
        try:
            conn = self.engine.connect()
            try:
                if not self._acquire(conn, deadline):
                    if timeout == 0:
                        yield None
                        return
                    raise Unavailable(
                        "the relayer is busy sending (another worker holds it); retry in a few seconds",
                        headers={"Retry-After": "2"},
                    )
                try:
                    yield conn
                finally:
                    self._release(conn)
            finally:
                conn.close()
        finally:
            self.local.release()

    def _acquire(self, conn: Connection, deadline: float | None) -> bool:
        if self.path is None:  # PostgreSQL: a session lock, released by unlock or when the connection ends
            if deadline is not None and deadline <= time.monotonic():
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
                conn.commit()
                return got
            if deadline is not None:
                ms = max(1, int((deadline - time.monotonic()) * 1000))
                conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))
            try:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            except OperationalError as exc:
                conn.rollback()
                if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available: lock_timeout passed
                    return False
                raise
            conn.commit()
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                conn.info["relayer_lock_fd"] = fd
                return True
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.002)

    def _release(self, conn: Connection) -> None:
        if self.path is None:
            try:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                conn.commit()
            except Exception:
                conn.invalidate()  # closing the session releases its advisory locks
            return
        fd = conn.info.pop("relayer_lock_fd")
        try:
            conn.rollback()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class RelayStore:
    """The relayer's tables in the store at `db_url`, for one relayer account on one chain."""

    def __init__(self, db_url: str, chain_id: int, sender: str, *, lock_timeout: float = 30.0):
        # An engine of its own: a sender waiting for the lock never holds one of the queries' connections.
        self.engine = make_engine(db_url, pool_size=4, max_overflow=8, pool_timeout=lock_timeout)
        self.chain_id, self.sender = chain_id, sender
        self.lock = SenderLock(self.engine, chain_id, sender)
        self.lock_timeout = lock_timeout

    @contextmanager
    def sender_lock(self, *, wait: bool = True) -> Iterator[Outbox | None]:
        """The outbox with the sender lock held; with wait=False, None if another holder has it."""
        with self.lock.hold(self.lock_timeout if wait else 0) as conn:
            yield None if conn is None else Outbox(conn, self.chain_id, self.sender)

    def take(self, key: str, per_minute: float, burst: int, now: float | None = None) -> float:
        """Take a token from `key`'s bucket (`per_minute`, at most `burst` saved up): 0 when allowed,
        else the seconds until the next token. One UPDATE: atomic across workers on both backends."""
        now = time.time() if now is None else now
        rate, cap = per_minute / 60.0, float(burst)
        t = LIMITS
        elapsed = case((t.c.at < now, now - t.c.at), else_=0.0)
        filled = case((t.c.tokens + elapsed * rate > cap, cap), else_=t.c.tokens + elapsed * rate)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # A bucket lost in a database crash costs nothing: no need to wait for the disk.
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(_insert(conn)(t).values(key=key, tokens=cap, at=now, ok=True).on_conflict_do_nothing())
            tokens, ok = conn.execute(
                update(t)
                .where(t.c.key == key)
                .values(
                    tokens=case((filled >= 1, filled - 1), else_=filled),
                    at=case((t.c.at < now, now), else_=t.c.at),
                    ok=filled >= 1,
                )
                .returning(t.c.tokens, t.c.ok)
            ).one()
        if ok:
            return 0.0
        return (1 - float(tokens)) / rate if rate > 0 else 3600.0

    def prune_limits(self, prefix: str, per_minute: float, burst: int, now: float | None = None) -> int:
        """Drop the buckets under `prefix` that would be full again (they carry no information); how many."""
        now = time.time() if now is None else now
        full_after = burst / (per_minute / 60.0) if per_minute > 0 else float("inf")
        with self.engine.begin() as conn:
            stale = LIMITS.c.key.startswith(prefix, autoescape=True) & (LIMITS.c.at < now - full_after)
            return conn.execute(delete(LIMITS).where(stale)).rowcount or 0

    def in_outbox(self, contract: str, consent_key: str, consent_nonce: int) -> dict[str, Any] | None:
        """The request already in the outbox (pending or mined) for this consent at this nonce."""
        with self.engine.connect() as conn:
            row = conn.execute(_same_consent(contract, consent_key, consent_nonce)).mappings().first()
        return dict(row) if row else None

    def close(self) -> None:
        self.engine.dispose()
