"""The writer lease (indexer/lease.py): of the indexers on one store exactly one writes; a standby takes
over when the holder stops renewing; a holder that lost the lease writes nothing more."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, insert, select

from cityledger.indexer.events import CONTRACTS
from cityledger.indexer.lease import Lease, LeaseLost
from cityledger.indexer.models import OwnershipEvent
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.sync import Indexer

TTL = 0.6
ROW = {"tx_hash": "0x" + "11" * 32, "timestamp": 1, "event": "OwnershipTransferred",
       "previous_owner": "0x" + "00" * 20, "new_owner": "0x" + "22" * 20}  # fmt: skip


def rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OwnershipEvent)).scalar_one()


def write(lease: Lease, n: int) -> None:
    with lease.writing() as conn:
        conn.execute(insert(OwnershipEvent), [ROW | {"block_number": n, "log_index": 0}])


def test_one_holder_writes_and_a_standby_takes_over_a_silent_one(stores):
    url = stores()
    migrate(url)
    engine = make_engine(url)
    a, b = Lease(engine, ttl=TTL, holder="host-a:1:x"), Lease(engine, ttl=TTL, holder="host-b:2:y")
    try:
        assert a.try_acquire() and not b.try_acquire()
        write(a, 1)
        with pytest.raises(LeaseLost, match="does not hold"):
            write(b, 2)
        # The holder's heartbeat keeps the lease: a standby cannot take it while it renews.
        end = time.monotonic() + 3 * TTL
        while time.monotonic() < end:
            assert not b.try_acquire()
            time.sleep(TTL / 6)
        # The holder goes silent (killed, paused, cut off from the store): the standby takes over.
        a._stop_heartbeat()
        t0 = time.monotonic()
        assert b.acquire(threading.Event(), wait=3 * TTL)
        assert time.monotonic() - t0 <= TTL + 0.5
        assert b.current()[0] == "host-b:2:y"
        # The old holder's next transaction is fenced off: rolled back, nothing written.
        with pytest.raises(LeaseLost, match="another indexer took it"):
            write(a, 3)
        assert rows(engine) == 1 and not a.held and a.lost.is_set()
        write(b, 4)
        # A clean stop hands over at once.
        b.release()
        assert a.try_acquire()
    finally:
        a.release()
        b.release()
        engine.dispose()


def test_the_checkpoint_names_the_leader_and_a_second_indexer_cannot_write(stores):
    url = stores()
    addresses = {c: "0x" + f"{i + 1:040x}" for i, c in enumerate(CONTRACTS)}

    def indexer() -> Indexer:
        return Indexer(url, "http://127.0.0.1:9", chain_id=31337, addresses=addresses, start_block=0, lease_ttl=TTL)

    first, second = indexer(), indexer()
    try:
        first.checkpoint()  # the first write takes the lease (start block 0: no RPC call)
        cp = first.status()
        assert cp["leader"] == first.lease.holder and cp["leader_since"] >= int(time.time()) - 5
        with pytest.raises(LeaseLost, match=f"another indexer writes this store: {first.lease.holder}"):
            second.reset()  # waits two lease lifetimes for a dead holder, then gives up
        assert second.status()["block_number"] == -1  # nothing reset
        first.close()  # releases: the second takes over at once and the checkpoint says so
        second.reset()
        second.checkpoint()  # a fresh checkpoint, written under the second's lease
        assert second.status()["leader"] == second.lease.holder
    finally:
        first.close()
        second.close()


def test_a_transaction_longer_than_the_lease_keeps_it(stores):
    # A deferred index build holds SQLite's write lock for seconds: the holder's own heartbeat must
    # not take that wait for a lost store (it did in a 1M-event benchmark run), and the transaction's
    # last renewal leaves the lease fresh for a standby that waited.
    url = stores()
    migrate(url)
    engine = make_engine(url)
    a, b = Lease(engine, ttl=TTL, holder="host-a:1:x"), Lease(engine, ttl=TTL, holder="host-b:2:y")
    try:
        assert a.try_acquire()
        beats: list[str] = []
        fence = a.fence

        def recorded(conn):
            beats.append(threading.current_thread().name)
            fence(conn)

        a.fence = recorded
        with a.writing() as conn:
            conn.execute(insert(OwnershipEvent), [ROW | {"block_number": 1, "log_index": 0}])
            time.sleep(3 * TTL)
            # The heartbeat thread did not try to renew (and wait on) the lease meanwhile: past the
            # store's busy timeout that wait would have counted as a lost store.
            assert beats == ["MainThread"], beats
        assert a.held and not a.lost.is_set() and not b.try_acquire()
        write(a, 2)
        assert rows(engine) == 2
    finally:
        a.release()
        b.release()
        engine.dispose()
