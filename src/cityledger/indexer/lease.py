"""The writer lease: of all the indexers pointed at one store, exactly one writes.

One row (`writer_lease`, id 1) names the holder (`host:pid:nonce`), since when it leads and its last
heartbeat. An indexer takes the lease when there is none or the holder's heartbeat is older than
`ttl` seconds; until then it stands by, polling. The holder renews the heartbeat from a thread of its
own every `ttl / 4` seconds, and every transaction that writes indexed data first renews it too,
as its first statement, with `WHERE holder = me` (the fence): if another indexer has taken over,
that update matches no row, the transaction is rolled back (`LeaseLost`) and the old holder
stands by again. So a leader that was paused, or lost its database connection, past `ttl` can
never write once the standby has taken over, on SQLite (one writer at a time) as on PostgreSQL (the
update locks the row until commit, so a takeover waits for the holder's transaction, then sees its
fresh heartbeat).

The holder's times are the indexers' clocks (unix seconds): hosts sharing a PostgreSQL store need
clocks within a fraction of `ttl` (NTP). The checkpoint row mirrors who leads (`leader`,
`leader_since`) for `/api/status` and `cityledger index-status`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..errors import CityLedgerError
from .logs import fields
from .models import Checkpoint, WriterLease

log = logging.getLogger("cityledger.indexer")

TTL = 3.0  # seconds without a heartbeat before a standby takes over (it polls every TTL / 6)


class LeaseLost(CityLedgerError):
    """Another indexer holds the writer lease now: this one must not write (it stands by again)."""


def holder_name() -> str:
    """`host:pid:nonce`: the nonce tells two runs of one pid apart (a container restarted)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _pg_session(dbapi_conn: Any, _record: object) -> None:
    """A PostgreSQL session of an indexer: a transaction left idle for 2 s (its process frozen, or cut
    off mid-transaction) is ended by the server, so its lock on the lease row cannot stop a takeover."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET idle_in_transaction_session_timeout = 2000")
    dbapi_conn.commit()  # a SET inside a transaction that is rolled back would be undone


class Lease:
    def __init__(self, engine: Engine, *, ttl: float = TTL, holder: str | None = None):
        self.engine = engine
        if engine.dialect.name == "postgresql" and not event.contains(engine, "connect", _pg_session):
            event.listen(engine, "connect", _pg_session)
        self.ttl = ttl
        self.holder = holder or holder_name()
        self.held = False
        self.lost = threading.Event()  # set by the heartbeat thread when a renewal fails
        # Writing transactions of this indexer in progress: they renew the lease themselves (first and
        # last statement), and on SQLite they hold the write lock the heartbeat would wait for.
        self._busy = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ taking and giving up

    def try_acquire(self) -> bool:
        """Take the lease if it is free or stale; True if this indexer holds it now. The checkpoint
        says who leads from the same transaction on."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":  # a holder frozen in a transaction: ask again soon
                    conn.exec_driver_sql("SET LOCAL lock_timeout = '500ms'")
                took = conn.execute(
                    update(WriterLease)
                    .where(WriterLease.id == 1)
                    .where((WriterLease.holder == self.holder) | (WriterLease.heartbeat_at < now - self.ttl))
                    .values(holder=self.holder, since=now, heartbeat_at=now)
                ).rowcount
                if not took:
                    if conn.execute(select(WriterLease.id).where(WriterLease.id == 1)).first():
                        return False
                    conn.execute(insert(WriterLease).values(id=1, holder=self.holder, since=now, heartbeat_at=now))
                conn.execute(
                    update(Checkpoint).where(Checkpoint.id == 1).values(leader=self.holder, leader_since=int(now))
                )
        except IntegrityError:  # another indexer inserted the row first
            return False
        self.held = True
        self.lost.clear()
        self._start_heartbeat()
        return True

    def acquire(self, stop: threading.Event, wait: float | None = None, poll: float | None = None) -> bool:
        """Stand by until the lease is ours (True), or `stop` is set or `wait` seconds have passed
        (False); says who leads meanwhile (once per leader)."""
        poll = self.ttl / 6 if poll is None else poll
        deadline = None if wait is None else time.monotonic() + wait
        announced, warned = None, False
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                if self.try_acquire():
                    log.info("leading: this indexer writes the store", extra=fields(holder=self.holder))
                    return True
                current = self.current()
                if current and current[0] != announced:
                    announced = current[0]
                    log.info("standing by: another indexer writes the store",
                             extra=fields(holder=self.holder, leader=current[0], since=int(current[1])))  # fmt: skip
            except SQLAlchemyError as exc:  # the store may be down, or the row locked: keep trying
                if not warned:
                    warned = True
                    log.warning("cannot take the writer lease yet", extra=fields(error=str(exc)[:200]))
            stop.wait(poll)
        return False

    def current(self) -> tuple[str, float, float] | None:
        """(holder, since, heartbeat_at) of the lease row, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(WriterLease.holder, WriterLease.since, WriterLease.heartbeat_at)).first()
        return (row[0], row[1], row[2]) if row else None

    def release(self) -> None:
        """Give the lease up (a clean stop): a standby takes over at once, not after ttl."""
        self._stop_heartbeat()
        if not self.held:
            return
        self.held = False
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(WriterLease)
                    .where(WriterLease.id == 1, WriterLease.holder == self.holder)
                    .values(heartbeat_at=0.0)
                )
        except SQLAlchemyError:  # it expires by itself
            pass

    # ------------------------------------------------------------ writing under the lease

    def fence(self, conn: Connection) -> None:
        """The first statement of a writing transaction: renew the heartbeat if the lease is still
        ours, else LeaseLost (the caller's transaction is then rolled back)."""
        if self.lost.is_set() or not self.held:
            raise LeaseLost(f"{self.holder} does not hold the writer lease")
        renewed = conn.execute(
            update(WriterLease)
            .where(WriterLease.id == 1, WriterLease.holder == self.holder)
            .values(heartbeat_at=time.time())
        ).rowcount
        if not renewed:
            self._lose()
            raise LeaseLost(f"{self.holder} no longer holds the writer lease: another indexer took it")

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A transaction that writes only while this indexer holds the lease. The heartbeat is
        renewed first (the fence) and again last: a standby that waited for a long transaction (an
        index build holding SQLite's write lock) finds the lease fresh, not stale."""
        with self.busy(), self.engine.begin() as conn:
            self.fence(conn)
            yield conn
            self.fence(conn)

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Around a writing transaction that fences itself: the heartbeat thread leaves it alone (it
        would wait for the transaction's lock, and must not count that wait as a lost store)."""
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1

    def _lose(self) -> None:
        if self.held:
            self.held = False
            self.lost.set()
            log.warning("lost the writer lease: standing by", extra=fields(holder=self.holder))

    # ------------------------------------------------------------ heartbeat

    def _start_heartbeat(self) -> None:
        self._stop_heartbeat()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(self._stop,), name="cityledger-lease", daemon=True)
        self._thread.start()

    def _stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.ttl)
        self._thread = None

    def _beat(self, stop: threading.Event) -> None:
        """Renew every ttl / 4. A renewal that finds another holder loses the lease; one that cannot
        reach the store is retried until ttl has passed since the last good one, then loses it too
        (a standby may have taken over meanwhile)."""
        last_ok = time.monotonic()
        while not stop.wait(self.ttl / 4):
            if self._busy:  # a transaction of ours renews it at its end
                last_ok = time.monotonic()
                continue
            try:
                with self.engine.begin() as conn:
                    self.fence(conn)
                last_ok = time.monotonic()
            except LeaseLost:
                return
            except SQLAlchemyError:
                if time.monotonic() - last_ok > self.ttl:
                    self._lose()
                    return
