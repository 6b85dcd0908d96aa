"""The sync loop: catch up from the deployment block, then follow the head; reorg- and crash-safe.

One step = one block range [checkpoint + 1, to]: eth_getLogs for the five contracts at once, decode,
reduce, and write the rows, the recent block headers and the new checkpoint in ONE transaction.
Near the head (inside the reorg window of `keep_blocks`) every header of the range is fetched and
chained by parent hash to the checkpoint; a mismatch (or a checkpoint hash no longer canonical)
rolls the store back to the common ancestor (reorg.py) and the next steps re-apply the canonical
blocks.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from ..errors import CityLedgerError
from .events import CONTRACTS, DECODERS, Decode
from .lease import TTL, Lease, LeaseLost
from .limits import RESPONSE_BYTES_PER_LOG, TARGET_LOGS
from .logs import fields
from .models import CONTRACT_COLUMNS, DATA_TABLES, Block, Checkpoint, ConsentEvent
from .reducers import EVENTS_ONLY, REDUCERS, Ctx, Reducer
from .reorg import rollback_to
from .rpc import NodeInconsistent, RangeTooLarge, Rpc, RpcUnavailable
from .store import defer_consents, make_engine, migrate, restore_indexes
from .writer import TABLES, Batch

__all__ = [
    "CONTRACT_COLUMNS",
    "Indexer",
    "IndexingError",
    "LeaseLost",
    "ReorgTooDeep",
    "StepResult",
    "deployment_mismatch",
]

log = logging.getLogger("cityledger.indexer")

ZERO_HASH = "0x" + "00" * 32
Log = dict[str, Any]  # one eth_getLogs entry as the node sent it (hex strings)
Header = dict[str, Any]  # one eth_getBlockByNumber result (hex strings)


class Deployment(Protocol):
    """What Indexer.from_deployment reads of a deployment record (chain/deployments.py)."""

    chain_id: int
    start_block: int

    def address(self, name: str) -> str: ...


def deployment_mismatch(checkpoint_row: Mapping[str, Any], chain_id: int, addresses: dict[str, str]) -> str | None:
    """Why a store (its checkpoint row) indexes another deployment than (chain_id, addresses by
    contract name); None when it indexes this one."""
    if checkpoint_row["chain_id"] != chain_id:
        return f"the store indexes chain {checkpoint_row['chain_id']}, not {chain_id}"
    stored = {name: (checkpoint_row[col] or "").lower() for name, col in CONTRACT_COLUMNS.items()}
    wanted = {name: addresses[name].lower() for name in CONTRACT_COLUMNS}
    if stored != wanted:
        return ("the store indexes other contract addresses than the deployment record "
                f"(store CityRoles {stored['CityRoles']}, record {wanted['CityRoles']})")  # fmt: skip
    return None


class ReorgTooDeep(CityLedgerError):
    """The chain no longer contains any block the store remembers."""


class ChainMoved(Exception):
    """The range just fetched does not chain onto the checkpoint (a reorg under our feet)."""


class IndexingError(CityLedgerError):
    """A log that could not be decoded or reduced, named by where it is (as ponder's indexing errors
    are): contract, event, block, log index and transaction. Nothing of its range was written."""

    def __init__(self, lg: Log, cause: Exception):
        topics = lg.get("topics") or [""]
        step = _PLAN.get(str(topics[0]).lower())
        self.contract, self.event = (step[0], step[3]) if step else ("?", f"unknown event {topics[0]}")
        self.block = _hex_int(lg.get("blockNumber"))
        self.log_index = _hex_int(lg.get("logIndex"))
        self.tx_hash = lg.get("transactionHash")
        super().__init__(
            f"cannot index {self.contract}.{self.event} at block {self.block}, log {self.log_index}, "
            f"tx {self.tx_hash}: {type(cause).__name__}: {cause}"
        )


@dataclass
class StepResult:
    from_block: int
    to_block: int
    events: int
    head: int
    reorg_to: int | None = None


class Indexer:
    def __init__(
        self,
        db_url: str | Engine,
        rpc_url: str,
        *,
        chain_id: int,
        addresses: dict[str, str],
        start_block: int,
        confirmations: int = 2,
        keep_blocks: int = 128,
        poll_interval: float = 0.1,
        target_logs: int = TARGET_LOGS,
        commit_events: int | None = None,
        max_span: int = 100_000,
        rpc_timeout: float = 30.0,
        rpc_retries: int = 5,
        migrate_store: bool = True,
        defer_indexes: int | None = 20_000,
        end_block: int | None = None,
        lease_ttl: float = TTL,
    ):
        missing = [c for c in CONTRACTS if c not in addresses]
        if missing:
            raise CityLedgerError(f"the deployment has no {', '.join(missing)}")
        self.engine = make_engine(db_url) if isinstance(db_url, str) else db_url
        if migrate_store:
            migrate(self.engine)
        self.rpc = Rpc(rpc_url, timeout=rpc_timeout, retries=rpc_retries)
        # Of all indexers pointed at this store, only the lease holder writes (lease.py).
        self.lease = Lease(self.engine, ttl=lease_ttl)
        self.chain_id = chain_id
        self.addresses = {name: addresses[name].lower() for name in CONTRACTS}
        self.contract_of = {addr: name for name, addr in self.addresses.items()}
        self.start_block = start_block
        self.confirmations = confirmations
        self.keep_blocks = max(keep_blocks, confirmations + 2)
        self.poll_interval = poll_interval
        self.target_logs = target_logs
        # Deep catch-up commits about this many events per transaction (default: one range's worth; the
        # reduced rows of a transaction are the largest part of the memory while catching up, and 1.5
        # ranges caught up no faster on 1M events: docs/INDEXER.md, Memory).
        self.commit_events = max(commit_events if commit_events is not None else target_logs, 1)
        self.max_span = max_span
        # The most of one eth_getLogs answer read (rpc.get_logs cuts it at a block boundary).
        self.max_response_bytes = target_logs * RESPONSE_BYTES_PER_LOG
        self.cut_answers = 0  # answers cut at max_response_bytes (their range ended early)
        self._deep_commits = 0  # of catch-ups: every 16th collects the young cycles
        # A deep catch-up expected to add at least this many events (and at least half the consent
        # events already stored) builds the consent tables' secondary indexes at its end instead of
        # row by row (store.DEFERRABLE_TABLES); None: never.
        self.defer_indexes = defer_indexes
        self._indexes_ok = False  # checked (and restored if a crash left them dropped) once per run
        # This catch-up appends consent events only (indexes dropped, `consents` marked not kept) until
        # it reaches the head: set by _decide_deferral, ended by _ensure_indexes.
        self._deferring = False
        self.span = 10  # blocks; adapted to the log density after every range (at most 2x wider per step)
        self.events_total = 0
        self.head = -1
        # Index no further than this block (a block range: benchmarks, audits); None: the head.
        self.end_block = end_block
        self._cp: tuple[int, str] | None = None
        self._last_status_write = 0.0
        # The follow loop's current trouble ("unreachable" / "inconsistent"), since when (monotonic):
        # logged when it starts, changes or ends, not on every retry.
        self._trouble: str | None = None
        self._trouble_since = 0.0
        # Consecutive steps that found the chain moved while the checkpoint stayed canonical.
        self._unmoved = 0
        self.stop_event = threading.Event()
        # Test hook: called between reducing a batch and committing it (crash injection).
        self.before_commit: Callable[[StepResult], None] | None = None
        # Called after each committed batch, outside its transaction (metadata enrichment).
        self.after_commit: Callable[[StepResult], None] | None = None

    @classmethod
    def from_deployment(cls, db_url: str, rpc_url: str, deployment: Deployment, **kw: Any) -> Indexer:
        addresses = {name: deployment.address(name) for name in CONTRACTS}
        return cls(
            db_url, rpc_url, chain_id=deployment.chain_id, addresses=addresses, start_block=deployment.start_block, **kw
        )

    def close(self) -> None:
        self.lease.release()
        self.rpc.close()
        self.engine.dispose()

    # ------------------------------------------------------------ the writer lease

    def lead(self, wait: float | None = None) -> bool:
        """Stand by until this indexer holds the writer lease (True), or `wait` seconds have passed
        or stop_event is set (False). What another leader indexed meanwhile is read afresh."""
        if self.lease.held and not self.lease.lost.is_set():
            return True
        if not self.lease.acquire(self.stop_event, wait=wait):
            return False
        self._cp, self._indexes_ok, self._unmoved, self._deferring = None, False, 0, False
        return True

    def _ensure_lead(self, check_store: bool = True) -> None:
        """At an entry point (nothing read or computed yet): take the lease if this indexer never
        held it (waiting at most two lease lifetimes for a dead holder's to run out). Once lost, only
        lead() takes it back (it re-reads what the other indexer wrote)."""
        if self.lease.held and not self.lease.lost.is_set():
            return
        if check_store:  # another deployment's store: refused before anything is written
            self._stored_checkpoint()
        if self.lease.lost.is_set() or not self.lead(wait=2 * self.lease.ttl + 1):
            current = self.lease.current()
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(current[1])) if current else "?"
            raise LeaseLost(f"another indexer writes this store: {current[0] if current else '?'} since {when}")

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction that writes only under the lease (fenced: LeaseLost if another indexer holds
        it now, and nothing of the transaction is kept)."""
        with self.lease.writing() as conn:
            yield conn

    # ------------------------------------------------------------ checkpoint

    def checkpoint(self) -> tuple[int, str]:
        """(block number, hash) of the last indexed block; created at start_block - 1 on first use."""
        if self._cp is not None:
            return self._cp
        row = self._stored_checkpoint()
        if row is None:
            self._cp = self._init_checkpoint()
            return self._cp
        self._cp = (row["block_number"], row["block_hash"])
        return self._cp

    def _stored_checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint row, if any; CityLedgerError if the store indexes another deployment (read
        only: a refused store is left exactly as it was, lease included)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(Checkpoint).where(Checkpoint.id == 1)).mappings().first()
        if row is None:
            return None
        why = deployment_mismatch(dict(row), self.chain_id, self.addresses)
        if why:
            raise CityLedgerError(f"{why}: use another --db or --reset")
        return dict(row)

    def _init_checkpoint(self) -> tuple[int, str]:
        self._ensure_lead()
        number = self.start_block - 1
        header = self.rpc.header(number) if number >= 0 else None
        if number >= 0 and header is None:
            # A node at or past that height that cannot return it contradicts itself (waited out);
            # one below it does not hold the deployment at all.
            head = self.rpc.block_number()
            if number <= head:
                raise NodeInconsistent(f"the node's head is {head} but it has no block {number}")
            raise CityLedgerError(f"block {number} (before the deployment) is not on chain {self.chain_id}: wrong RPC?")
        block_hash = header["hash"] if header else ZERO_HASH
        values = {
            "id": 1,
            "chain_id": self.chain_id,
            "block_number": number,
            "block_hash": block_hash,
            "start_block": self.start_block,
            "confirmations": self.confirmations,
            "reorgs": 0,
            "leader": self.lease.holder,
            "leader_since": int(time.time()),
            **{col: self.addresses[name] for name, col in CONTRACT_COLUMNS.items()},
        }
        with self._writing() as conn:
            conn.execute(insert(Checkpoint), values)
            if header:
                conn.execute(insert(Block), [_block_row(header)])
        return number, block_hash

    def reset(self) -> None:
        """Forget everything indexed (a fresh re-index starts at the deployment block; the store may
        have indexed another deployment)."""
        self._ensure_lead(check_store=False)
        with self._writing() as conn:
            for name in (*DATA_TABLES, "blocks", "checkpoint"):
                conn.execute(delete(TABLES[name]))
        self._cp = None

    def finalized(self, cp: int | None = None, head: int | None = None) -> int:
        cp = self.checkpoint()[0] if cp is None else cp
        head = self.head if head is None else head
        return max(min(cp, head - self.confirmations), self.start_block - 1)

    def status(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(Checkpoint).where(Checkpoint.id == 1)).mappings().first()
        return dict(row) if row else {}

    # ------------------------------------------------------------ one step

    def step(self) -> StepResult:
        """Index the next block range (or detect a reorg). Raises RpcUnavailable if the RPC is down,
        LeaseLost if another indexer writes the store now."""
        self._ensure_lead()
        self._ensure_indexes()  # a deferred catch-up that stopped short is finished first
        return self._step()

    def _step(self) -> StepResult:
        """step(), except that the steps of a deferred catch-up (to a head that moved while the
        prefetch ran) go on deferring: the reorg window's blocks, stepped until 2026-12-02 (128
        blocks of 128 grants on the bench chain: 4 % of a 400k-event catch-up), took a third of its
        time with every index and `consents` kept row by row."""
        if not self._deferring:
            self._ensure_indexes()
        cp_num, cp_hash = self.checkpoint()
        head = self._head()
        if head <= cp_num:
            current = self.rpc.header(cp_num)
            if current is None or current["hash"] != cp_hash:
                return self._handle_reorg(head, f"block {cp_num} (the checkpoint) changed or is missing")
            self._unmoved = 0
            self._write_status(head)
            return StepResult(cp_num + 1, cp_num, 0, head)
        frm = cp_num + 1
        to = min(head, frm + self.span - 1)
        logs, to = self._fetch_logs(frm, to)
        try:
            headers = self._fetch_headers(frm, to, head, cp_hash, logs)
        except ChainMoved as moved:
            return self._handle_reorg(head, str(moved))
        return self._apply(frm, to, head, logs, headers)

    def _head(self) -> int:
        """The node's head (or end_block, if lower)."""
        head = self.rpc.block_number()
        self.head = head if self.end_block is None else min(head, self.end_block)
        return self.head

    def _fetch_logs(self, frm: int, to: int, rpc: Rpc | None = None) -> tuple[list[Log], int]:
        """The logs of [frm, to'] and to' (<= to): the range ends early when the answer passes
        max_response_bytes (cut at a block boundary) and shrinks when the node refuses it."""
        addrs = list(self.addresses.values())
        rpc = rpc or self.rpc
        while True:
            wanted_to = to
            try:
                logs, to = rpc.get_logs(addrs, frm, to, max_bytes=self.max_response_bytes)
            except RangeTooLarge:
                if to == frm:
                    raise RpcUnavailable(f"eth_getLogs refuses even the single block {frm}") from None
                self.span = max(1, (to - frm + 1) // 4)
                to = frm + self.span - 1
                continue
            if to < wanted_to:
                self.cut_answers += 1
            self.span = self._next_span(to - frm + 1, len(logs))
            return logs, to

    def _next_span(self, span: int, count: int) -> int:
        """The next range's width, aimed at target_logs from this range's density: any narrower, at
        most twice as wide (a sparse stretch says little about what follows it; the answer cap
        bounds what a wrong guess costs)."""
        wanted = span * self.target_logs // max(count, 1)
        return max(1, min(self.max_span, span * 2, wanted))

    def _fetch_headers(
        self, frm: int, to: int, head: int, cp_hash: str, logs: list[Log], rpc: Rpc | None = None
    ) -> dict[int, Header]:
        """Headers to store and check: the whole range inside the reorg window (chained to `cp_hash`,
        the hash of block frm - 1, when the range starts inside it), else the last block only."""
        window_start = max(frm, head - self.keep_blocks + 1)
        numbers = sorted({*range(window_start, to + 1), to} | _untimed_blocks(logs))
        fetched = (rpc or self.rpc).headers(numbers)
        headers = {}
        for n, h in zip(numbers, fetched, strict=True):
            if h is None:
                raise ChainMoved(f"block {n} is missing below head {head}")
            headers[n] = h
        # Parent-hash chain from the checkpoint through the window.
        if window_start <= to:
            prev = cp_hash if window_start == frm else headers[window_start]["parentHash"]
            for n in range(window_start, to + 1):
                if headers[n]["parentHash"] != prev:
                    raise ChainMoved(f"block {n} does not extend {prev}")
                prev = headers[n]["hash"]
        for lg in logs:
            h = headers.get(int(lg["blockNumber"], 16))
            if h is not None and h["hash"] != lg["blockHash"]:
                raise ChainMoved(f"the logs and the header of block {h['number']} name other hashes")
        return headers

    def _reduce(self, logs: list[Log], headers: dict[int, Header], batch: Batch) -> int:
        """Decode and reduce a range's logs into `batch`; returns how many were ours. A log that fails
        raises IndexingError naming it (the batch is then not to be written). While deferring, the
        consent events give their event rows only (`consents` is built at the end)."""
        contract_of = self.contract_of
        plan = _EVENTS_ONLY_PLAN if self._deferring else _PLAN
        add = batch.add
        count = 0
        # Consecutive logs share their block and often their transaction: convert those once.
        last_block = last_tx = None
        bn = ts = 0
        tx_hash = ""
        lg: Log = {}
        try:
            for lg in logs:
                topics = lg["topics"]
                if not topics:
                    continue
                step = plan.get(topics[0])
                data = lg["data"]
                if step is None:
                    step = plan.get(topics[0].lower())
                    if step is None:
                        continue  # not one of ours (e.g. an event another version added)
                    # A node that answers in upper-case hex (nodes normally do not): normalise this log.
                    topics, data = [t.lower() for t in topics], data.lower()
                contract, decode, reducer, _ = step
                address = lg["address"]
                if contract_of.get(address) != contract and contract_of.get(address.lower()) != contract:
                    continue
                block = lg["blockNumber"]
                if block != last_block:
                    last_block, bn = block, int(block, 16)
                    stamp = lg.get("blockTimestamp")
                    ts = int(stamp, 16) if stamp is not None else int(headers[bn]["timestamp"], 16)
                tx = lg["transactionHash"]
                if tx != last_tx:
                    last_tx, tx_hash = tx, tx.lower()
                add(reducer(decode(topics, data), _new_tuple(Ctx, (bn, int(lg["logIndex"], 16), tx_hash, ts))))
                count += 1
        except Exception as exc:
            raise IndexingError(lg, exc) from exc
        batch.events += count
        return count

    def _apply(self, frm: int, to: int, head: int, logs: list[Log], headers: dict[int, Header]) -> StepResult:
        batch = Batch()
        self._reduce(logs, headers, batch)
        return self._commit(batch, frm, to, head, headers)

    def _commit(self, batch: Batch, frm: int, to: int, head: int, headers: dict[int, Header]) -> StepResult:
        """Write the batch, the recent headers and the checkpoint `to` in one transaction."""
        count = batch.events
        result = StepResult(frm, to, count, head)
        to_hash = headers[to]["hash"]
        window = [_block_row(h) for n, h in headers.items() if n > to - self.keep_blocks]
        if self.before_commit:
            self.before_commit(result)
        with self._writing() as conn:
            batch.flush(conn)
            if window:
                conn.execute(delete(Block).where(Block.number >= min(r["number"] for r in window)))
                conn.execute(insert(Block), window)
            conn.execute(delete(Block).where(Block.number <= to - self.keep_blocks))
            conn.execute(
                update(Checkpoint)
                .where(Checkpoint.id == 1)
                .values(
                    **self._status_values(head),
                    block_number=to,
                    block_hash=to_hash,
                    finalized_block=self.finalized(to, head),
                )
            )
        self._cp = (to, to_hash)
        self._unmoved = 0
        self.events_total += count
        if self.after_commit:
            self.after_commit(result)
        return result

    def _ensure_indexes(self) -> None:
        """Bring back any deferred index (a deferred catch-up ended, or was killed with them dropped)."""
        if self._indexes_ok:
            return
        t0 = time.monotonic()
        # Not _writing(): SQLite's build settings must be made before the transaction's first
        # statement, so the fence comes after them (restore_indexes calls it before any DDL).
        with self.lease.busy(), self.engine.begin() as conn:
            created = restore_indexes(conn, fence=self.lease.fence)
            if created:
                self.lease.fence(conn)
        self._deferring = False
        if created:
            # The build's sort and cache leave freed heap that following would grow on top of.
            release_freed_heap()
            log.info(
                "deferred indexes built", extra=fields(indexes=len(created), seconds=round(time.monotonic() - t0, 1))
            )
        self._indexes_ok = True

    def _should_defer(self, events: int, blocks: int, remaining_blocks: int, stored: int) -> bool:
        """Whether the rest of this catch-up is long enough for one index build to beat row-by-row
        maintenance: the estimate must reach `defer_indexes` events and half the `stored` consent
        rows (the build also re-sorts the rows already stored)."""
        if self.defer_indexes is None or blocks <= 0:
            return False
        expected = events * remaining_blocks // blocks
        return expected >= self.defer_indexes and expected >= stored // 2

    def _stored_consent_events(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ConsentEvent)).scalar_one())

    def _status_values(self, head: int) -> dict[str, Any]:
        self._last_status_write = time.monotonic()
        return {
            "head_block": head,
            "updated_at": int(time.time()),
            "rpc_error": None,
            "rpc_error_at": None,
            "node_inconsistent": None,
            "node_inconsistent_since": None,
            "confirmations": self.confirmations,
        }

    def _write_status(self, head: int, force: bool = False) -> None:
        """Refresh head/finalized while idle: on head change, else once a second."""
        if not force and time.monotonic() - self._last_status_write < 1.0:
            return
        cp = self.checkpoint()[0]
        with self._writing() as conn:
            conn.execute(
                update(Checkpoint)
                .where(Checkpoint.id == 1)
                .values(**self._status_values(head), finalized_block=self.finalized(cp, head))
            )

    def report_rpc_error(self, exc: Exception) -> None:
        """Record why the node cannot be followed: `node_inconsistent` (kept since its first report)
        when it answers but contradicts itself, else `rpc_error`."""
        now = int(time.time())
        values: dict[str, Any]
        if isinstance(exc, NodeInconsistent):
            values = {
                "node_inconsistent": str(exc)[:500],
                "node_inconsistent_since": func.coalesce(Checkpoint.node_inconsistent_since, now),
                "rpc_error": None,  # it answers
                "rpc_error_at": None,
            }
        else:
            values = {"rpc_error": str(exc)[:500], "rpc_error_at": now}
        with self._writing() as conn:
            conn.execute(update(Checkpoint).where(Checkpoint.id == 1).values(**values))

    # ------------------------------------------------------------ reorgs

    def _common_ancestor(self, head: int) -> int:
        """The newest stored block that the node still has with the same hash."""
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(Block.number, Block.hash).where(Block.number <= head).order_by(Block.number.desc())
            ).all()
        now_head: int | None = None
        for i in range(0, len(stored), 200):
            chunk = stored[i : i + 200]
            canon = self.rpc.headers([n for n, _ in chunk])
            for (n, h), c in zip(chunk, canon, strict=True):
                if c is None:
                    # Gone with a chain that got shorter since `head` was read, or a node that
                    # contradicts itself: no store is rolled back on the word of the latter.
                    now_head = self.rpc.block_number() if now_head is None else now_head
                    if n <= now_head:
                        raise NodeInconsistent(f"the node's head is {now_head} but it has no block {n}")
                elif c["hash"] == h:
                    return n
        raise ReorgTooDeep(
            f"chain {self.chain_id} no longer holds any block this store remembers (a reorg deeper than "
            f"{self.keep_blocks} blocks, or a different chain at the same RPC): re-index with --reset"
        )

    def _handle_reorg(self, head: int, why: str) -> StepResult:
        # A deferred catch-up met a reorg inside the window: the rollback replays `consents` keys
        # through the event indexes, so both are built first (and the rest of the catch-up keeps them).
        self._ensure_indexes()
        cp_before = self.checkpoint()[0]
        ancestor = self._common_ancestor(head)
        if ancestor == cp_before:
            # Everything stored is still canonical: nothing to undo, and no reorg to count. Once is a
            # race (the node moved between two calls): retry at once. Twice in a row, the node
            # contradicts itself (issue 14: head 91, block 82 null): the caller waits it out.
            self._unmoved += 1
            if self._unmoved == 1:
                return StepResult(cp_before + 1, cp_before, 0, head)
            raise NodeInconsistent(
                f"the node contradicts itself: {why} (block {cp_before}, the checkpoint, is canonical)"
            )
        with self._writing() as conn:
            counts = rollback_to(conn, ancestor)
            anc_hash = conn.execute(select(Block.hash).where(Block.number == ancestor)).scalar_one()
            conn.execute(
                update(Checkpoint)
                .where(Checkpoint.id == 1)
                .values(
                    block_number=ancestor,
                    block_hash=anc_hash,
                    reorgs=Checkpoint.reorgs + 1,
                    finalized_block=self.finalized(ancestor, head),
                    **self._status_values(head),
                )
            )
        self._cp = (ancestor, anc_hash)
        touched = {k: v for k, v in counts.items() if v}
        log.warning("reorg rolled back", extra=fields(from_block=cp_before, ancestor=ancestor, rows=touched or None))
        return StepResult(ancestor + 1, ancestor, 0, head, reorg_to=ancestor)

    # ------------------------------------------------------------ loops

    def catch_up(self, progress: Callable[[StepResult], None] | None = None) -> int:
        """Index up to the current head; returns the number of events applied."""
        self._ensure_lead()
        try:
            total = self._catch_up_deep(progress)
            tries = 0
            while not self.stop_event.is_set():
                try:
                    r = self._step()
                except NodeInconsistent:
                    # Waited out a few times with backoff (it may be between two states), then raised.
                    tries += 1
                    if tries > self.rpc.retries:
                        raise
                    self.stop_event.wait(min(self.rpc.backoff * 2**tries, self.rpc.max_backoff))
                    continue
                tries = 0
                total += r.events
                if progress:
                    progress(r)
                if r.reorg_to is None and r.to_block >= r.head:
                    break
        finally:
            self._ensure_indexes()  # the deferred indexes and `consents`, once the head is reached (or on the way out)
        return total

    def _catch_up_deep(self, progress: Callable[[StepResult], None] | None) -> int:
        """A catch-up that reaches deeper than the reorg window, up to the head seen at its start:
        fetched by a prefetch thread (its own HTTP session) while this thread writes, so RPC and
        store work overlap. Below the window only each range's last header is kept (a reorg that
        deep is out of scope: keep_blocks); inside it every header is fetched and chained, as a
        step does (the window was a quarter of a 100k-event catch-up, and its steps fetched without
        overlap). If the chain moves meanwhile, the prefetch stops there and the steps that follow
        meet the change (a reorg rolled back as in follow mode)."""
        cp, cp_hash = self.checkpoint()
        head = self._head()
        if head - self.keep_blocks <= cp:
            return 0
        prefetch = _Prefetch(self, cp + 1, head, cp_hash)
        # The cyclic GC would traverse the held logs and rows again and again (~40% of the
        # reducing time); the rows are acyclic. Collected by hand every 16th commit instead.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        total = 0
        batch, first, to = Batch(), cp + 1, cp
        headers: dict[int, Header] = {}  # of the ranges in this transaction (their window rows are stored)
        stored: int | None = None  # consent events stored before this catch-up (counted once)
        try:
            for _, to, logs, fetched in _until_moved(prefetch):
                self._reduce(logs, fetched, batch)
                headers.update(fetched)
                del logs
                # Several fetched ranges per transaction: fewer, larger commits write each hot
                # index page once (the logs themselves are already freed, only rows are held).
                if batch.events >= self.commit_events or prefetch.empty() and to >= head:
                    # Judged again at every transaction until it defers: a sparse start says little
                    # of the dense stretch that may follow it (issue 17's sparse-then-dense chain).
                    if not self._deferring:
                        stored = self._stored_consent_events() if stored is None else stored
                        self._decide_deferral(batch.events, first, to, head, stored + total)
                    total += self._commit_deep(batch, first, to, head, headers, progress)
                    batch, first, headers = Batch(), to + 1, {}
                    trim_heap()  # the committed rows' pages, before the next range grows the heap again
                if self.stop_event.is_set():
                    break
            if first <= to:  # stopped between commits: keep what is reduced
                total += self._commit_deep(batch, first, to, head, headers, progress)
        finally:
            prefetch.close()
            if gc_was_enabled:
                gc.enable()
            release_freed_heap()  # the ranges and rows held while catching up, before the build
        return total

    def _decide_deferral(self, events: int, first: int, to: int, end: int, stored: int) -> None:
        """Defer the consent indexes and the `consents` current state from now on (dropped and marked
        here) if the rest of the catch-up is long enough, judged on the density of the transaction
        about to be committed (`events` over blocks `first`..`to`); else build whatever a crash left
        deferred. Deferring is its own transaction: such a store is complete at any checkpoint
        (readers answer consent questions from the events), and the next run (or the end of this
        catch-up) builds them."""
        if not self._should_defer(events, to - first + 1, end - to, stored):
            self._ensure_indexes()
            return
        with self._writing() as conn:
            defer_consents(conn, first)
        self._indexes_ok, self._deferring = False, True
        log.info("consent indexes and state deferred to the end of the catch-up", extra=fields(end=end))

    def _commit_deep(
        self,
        batch: Batch,
        first: int,
        to: int,
        head: int,
        headers: dict[int, Header],
        progress: Callable[[StepResult], None] | None,
    ) -> int:
        r = self._commit(batch, first, to, head, headers)
        self._deep_commits += 1
        if self._deep_commits % 16 == 0:
            # The young cycles (HTTP, connections: a few hundred objects a catch-up). Each collection
            # traverses every live object, the prefetched range's logs included (~10 ms), and after
            # every commit it found nothing to free: 4 % of a 100k-event catch-up.
            gc.collect(1)
        if progress:
            progress(r)
        return r.events

    def follow(
        self, progress: Callable[[StepResult], None] | None = None, on_error: Callable[[Exception], None] | None = None
    ) -> None:
        """Index forever (until stop_event): new blocks within poll_interval; RPC outages are waited out."""
        delay = self.poll_interval
        while not self.stop_event.is_set():
            try:
                r = self.step()
            except (RpcUnavailable, ReorgTooDeep) as exc:
                # Reported (status + one log line) and waited out with backoff: the node may come
                # back, or come back right.
                self._trouble_began(exc)
                try:
                    self.report_rpc_error(exc)
                except LeaseLost:
                    raise
                except Exception:  # the store itself may be the trouble; keep trying
                    log.exception("cannot record the RPC error in the store")
                if on_error:
                    on_error(exc)
                self.stop_event.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            if self._trouble is not None:
                self._trouble_ended()
                self._write_status(r.head, force=True)
            delay = self.poll_interval
            if progress:
                progress(r)
            if r.reorg_to is None and r.to_block >= r.head:
                self.stop_event.wait(self.poll_interval)

    def _trouble_began(self, exc: Exception) -> None:
        """Log a failure when it starts or changes kind, not on every retry."""
        kind = "inconsistent" if isinstance(exc, NodeInconsistent) else "unreachable"
        if self._trouble == kind:
            return
        if self._trouble is None:
            self._trouble_since = time.monotonic()
        self._trouble = kind
        what = "node inconsistent" if kind == "inconsistent" else "rpc unavailable"
        log.error(f"{what}; retrying with backoff", extra=fields(error=str(exc)))

    def _trouble_ended(self) -> None:
        took = round(time.monotonic() - self._trouble_since, 1)
        if self._trouble == "inconsistent":
            log.warning("node consistent again (was inconsistent)", extra=fields(seconds=took))
        else:
            log.warning("rpc answers again", extra=fields(seconds=took))
        self._trouble = None


def release_freed_heap() -> None:
    """Collect the young generations, then hand the freed heap back to the OS (trim_heap): between
    the phases of a catch-up. The ranges and rows are freed by reference counting already; a full
    collection walked every object of the process (~80 ms) to free a few hundred small ones."""
    gc.collect(1)
    trim_heap()


def trim_heap() -> None:
    """Hand the C heap's free pages back to the OS (glibc's malloc_trim). Memory that Python and SQLite
    freed stays in the process, fragmented across the two threads' malloc arenas, and the next range
    or phase grows on top of it: the peak then depends on timing, not only on what is held
    (docs/INDEXER.md, Memory). A no-op where the C library has no malloc_trim (musl, macOS)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _malloc_trim() -> Any:
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:  # pragma: no cover - every Linux and macOS Python can open its own process
        return None


_MALLOC_TRIM = _malloc_trim()


class _Prefetch:
    """The ranges of a deep catch-up, fetched by a thread of its own (its own HTTP session) while the
    caller reduces and writes. The thread fetches a range only once the caller has taken the one
    before: at most two ranges of logs in memory (one being reduced, the next being fetched or
    waiting), and only one while the caller commits (its range is reduced and freed by then).
    Iterating yields (from, to, logs, headers) and raises what the thread raised."""

    Item = tuple[int, int, list[Log], dict[int, Header]]

    def __init__(self, ix: Indexer, first: int, last: int, parent_hash: str):
        # last: the head seen when the catch-up began; parent_hash: the hash of block first - 1.
        self.ix, self.first, self.last, self.parent_hash = ix, first, last, parent_hash
        self.queue: queue.Queue[_Prefetch.Item | Exception | None] = queue.Queue(maxsize=1)
        # Released when the caller takes a range: the thread's permission to fetch the next one.
        # (A queue of one alone lets a third range be fetched while one waits in it.)
        self.taken = threading.Semaphore(1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="cityledger-prefetch", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        ix = self.ix
        rpc = Rpc(ix.rpc.url, timeout=ix.rpc.timeout, retries=ix.rpc.retries)
        frm, prev, head = self.first, self.parent_hash, self.last
        window_start = head - ix.keep_blocks + 1
        try:
            while frm <= self.last and self._may_fetch():
                logs, to = ix._fetch_logs(frm, min(self.last, frm + ix.span - 1), rpc)
                if to >= window_start:  # every header, chained to the last range's (ChainMoved: stop here)
                    headers = ix._fetch_headers(frm, to, head, prev, logs, rpc)
                else:
                    need = sorted({to} | _untimed_blocks(logs))
                    fetched = dict(zip(need, rpc.headers(need), strict=True))
                    missing = [n for n, h in fetched.items() if h is None]
                    if missing:  # a reorg this deep is out of scope (keep_blocks): the node is wrong
                        raise NodeInconsistent(f"the node's head is {head} but it has no block {missing[0]}")
                    headers = {n: h for n, h in fetched.items() if h is not None}
                self._put((frm, to, logs, headers))
                frm, prev = to + 1, headers[to]["hash"]
            self._put(None)
        except Exception as exc:  # handed to the writer thread, which raises it
            self._put(exc)
        finally:
            rpc.close()

    def _may_fetch(self) -> bool:
        """Wait until the caller has taken the last range put (False: stopped meanwhile)."""
        while not self.stop.is_set():
            if self.taken.acquire(timeout=0.2):
                return True
        return False

    def _put(self, item: _Prefetch.Item | Exception | None) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[_Prefetch.Item]:
        while True:
            item = self.queue.get()
            self.taken.release()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    def empty(self) -> bool:
        return self.queue.empty()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


# topic0 -> (contract, decoder, reducer, event): one lookup per log. An event the contracts emit but
# no reducer handles is not indexed; the Indexer says so when it starts.
_PLAN: dict[str, tuple[str, Decode, Reducer, str]] = {
    t: (d.contract, d.decode, REDUCERS[d.name], d.name) for t, d in DECODERS.items() if d.name in REDUCERS
}
# The same for a batch that does not keep `consents` (a deferred deep catch-up).
_EVENTS_ONLY_PLAN = {t: (c, decode, EVENTS_ONLY[name], name) for t, (c, decode, _, name) in _PLAN.items()}
UNREDUCED = sorted(f"{d.contract}.{d.name}" for d in DECODERS.values() if d.name not in REDUCERS)
_new_tuple = tuple.__new__  # Ctx without its Python-level __new__ (one per log)


def _until_moved(prefetch: _Prefetch) -> Iterator[_Prefetch.Item]:
    """The prefetched ranges, up to one the chain moved under (ChainMoved: the steps after the
    prefetch meet the change themselves, from the last committed checkpoint)."""
    try:
        yield from prefetch
    except ChainMoved as moved:
        log.info("the chain moved during the catch-up; the steps take over", extra=fields(why=str(moved)))


def _hex_int(value: object) -> int | None:
    try:
        return int(str(value), 16)
    except ValueError:
        return None


def _untimed_blocks(logs: list[Log]) -> set[int]:
    """The blocks whose header must be fetched for their logs' timestamp (a node that does not send
    `blockTimestamp` with each log); _reduce reads it from those headers."""
    return {int(lg["blockNumber"], 16) for lg in logs if "blockTimestamp" not in lg}


def _block_row(h: Header) -> dict[str, Any]:
    return {
        "number": int(h["number"], 16),
        "hash": h["hash"],
        "parent_hash": h["parentHash"],
        "timestamp": int(h["timestamp"], 16),
    }
