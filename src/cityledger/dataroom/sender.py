"""One sender per key: the data room's release operator sends from several API workers and from the
obligation loop, and two of them sending at once would race the key's nonce (both would read the
same pending nonce, one transaction would replace or lose the other). A lease row in the store,
taken by an atomic conditional update, lets one at a time send; a holder that dies frees it when
its lease runs out."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..query.errors import Unavailable
from .models import SenderLease

LEASES = SenderLease.__table__
LEASE_MS = 120_000  # a send and its receipt; a holder that crashed frees the key after this
WAIT_S = 60.0  # how long a request waits for its turn before answering 503


def _try_take(engine: Engine, address: str, holder: str) -> bool:
    now = int(time.time() * 1000)
    with engine.begin() as conn:
        taken = conn.execute(
            update(LEASES)
            .where(LEASES.c.address == address, LEASES.c.until < now)
            .values(holder=holder, until=now + LEASE_MS)
        ).rowcount
        if taken:
            return True
    try:
        with engine.begin() as conn:
            conn.execute(insert(LEASES).values(address=address, holder=holder, until=now + LEASE_MS))
        return True
    except IntegrityError:  # the row exists and its lease is held
        return False


@contextmanager
def sender_lease(engine: Engine, address: str, wait: float = WAIT_S) -> Iterator[None]:
    """Hold the sending turn of `address` for the block; Unavailable if it is not free within `wait`."""
    address = address.lower()
    holder = f"{os.getpid()}-{secrets.token_hex(8)}"
    deadline = time.monotonic() + wait
    while not _try_take(engine, address, holder):
        if time.monotonic() > deadline:
            raise Unavailable(f"the data room's sender {address} is busy: retry in a moment")
        time.sleep(0.05)
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(update(LEASES).where(LEASES.c.address == address, LEASES.c.holder == holder).values(until=0))
