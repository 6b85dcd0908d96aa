"""One sender per key: the lease in the store lets one holder at a time send for an address, across
engines (API workers, the deletion loop); a holder that died frees it when its lease runs out."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import update

from cityledger.dataroom import sender
from cityledger.dataroom.models import SenderLease
from cityledger.indexer.store import make_engine, migrate
from cityledger.query.errors import Unavailable

KEY = "0x" + "5a" * 20


@pytest.fixture
def engines(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate(url)
    pair = make_engine(url), make_engine(url)  # two workers: two engines on one store
    yield pair
    for e in pair:
        e.dispose()


def test_two_workers_take_turns(engines):
    a, b = engines
    inside, overlaps, order = [0], [], []

    def work(engine, name):
        with sender.sender_lease(engine, KEY, wait=10):
            inside[0] += 1
            overlaps.append(inside[0])
            order.append(name)
            time.sleep(0.2)
            inside[0] -= 1

    threads = [threading.Thread(target=work, args=(e, n)) for e, n in ((a, "a"), (b, "b"), (a, "c"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(overlaps) == 1 and sorted(order) == ["a", "b", "c"]


def test_a_held_lease_makes_the_other_wait_then_answer_503(engines):
    a, b = engines
    with sender.sender_lease(a, KEY):
        started = time.monotonic()
        with pytest.raises(Unavailable, match="busy"), sender.sender_lease(b, KEY, wait=0.3):
            pass
        assert time.monotonic() - started >= 0.3
    with sender.sender_lease(b, KEY, wait=0.3):  # freed at once after the block
        pass


def test_a_dead_holders_lease_runs_out(engines):
    a, b = engines
    cm = sender.sender_lease(a, KEY)
    cm.__enter__()  # the holder "dies": never leaves the block
    with a.begin() as conn:  # its lease ran out
        conn.execute(update(SenderLease.__table__).values(until=int(time.time() * 1000) - 1))
    with sender.sender_lease(b, KEY, wait=1):
        pass
