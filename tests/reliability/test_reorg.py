"""Reorganisations of depth 1..10 while the indexer follows.

Two ways to reorganise anvil: `evm_snapshot`/`evm_revert` and then a LONGER branch of other
transactions (the revert drops the blocks, the new branch replaces them), and `anvil_reorg(depth,
txs)` (same height, other blocks). Each round orphans blocks holding consent grants and revocations.

Meanwhile a poller asks the store's consent check (the API's /api/consents/check query) about every
consent again and again, recording the store's finalized block before each answer. Afterwards:
- the store equals a fresh re-index of the canonical chain, table by table;
- no consent whose revocation is on the canonical chain at or below the finalized block the store
  reported was ever answered `active` (finality: the indexer runs with confirmations = 10, the
  deepest reorg made).
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import select

from cityledger.api.queries import consent_check
from cityledger.api.relayer import consent_key_hex
from cityledger.chain.accounts import CITIZENS
from cityledger.chain.tx import transact
from cityledger.codes import ANY_RESEARCHER, SCOPE_DOMAIN, purpose_hash
from cityledger.indexer.models import Checkpoint
from cityledger.indexer.store import make_engine
from cityledger.indexer.sync import Indexer

from .helpers import addresses, assert_same, fresh_index, sqlite_url

MAX_DEPTH = 10
PURPOSE = purpose_hash("ScientificResearch")
PURPOSE_HEX = "0x" + PURPOSE.hex()


def rpc(w3, method, params=()):
    out = w3.provider.make_request(method, list(params))
    if "error" in out:
        raise RuntimeError(f"{method}: {out['error']}")
    return out["result"]


class Follower:
    """The indexer following the chain in a thread; any exception is kept for the test to raise."""

    def __init__(self, chain, url):
        self.ix = Indexer(
            url,
            chain.rpc_url,
            chain_id=chain.network.chain_id,
            addresses=addresses(chain),
            start_block=chain.deployment.start_block,
            confirmations=MAX_DEPTH,
            poll_interval=0.02,
        )
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.ix.follow()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            self.error = exc

    def wait_synced(self, w3, timeout=60):
        """Until the store's checkpoint is the canonical head (number and hash)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.error:
                raise self.error
            head = w3.eth.get_block("latest")
            with self.ix.engine.connect() as c:
                cp = c.execute(select(Checkpoint.block_number, Checkpoint.block_hash)).first()
            if cp and cp[0] == head["number"] and cp[1] == "0x" + head["hash"].hex().removeprefix("0x"):
                return
            time.sleep(0.02)
        raise AssertionError(f"indexer not at head {head['number']} after {timeout}s (checkpoint {cp})")

    def stop(self):
        self.ix.stop_event.set()
        self.thread.join(30)
        self.ix.close()


class Poller:
    """Asks the store about each watched consent in a loop; records (finalized_before, key, active)."""

    def __init__(self, url, keys):
        self.engine = make_engine(url)
        self.keys = keys
        self.answers: list[tuple[int, str, bool]] = []
        self.stop_event = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.stop_event.is_set():
                for key in list(self.keys):
                    with self.engine.connect() as c:
                        fin = c.execute(select(Checkpoint.finalized_block)).scalar()
                        if fin is None:
                            continue
                        ans = consent_check(c, key=key)
                    self.answers.append((fin, key, ans["active"]))
                time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001
            self.error = exc

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)
        self.engine.dispose()


def reorg_run(chain, tmp_path, rounds: int, seed: int) -> dict:
    rng = random.Random(seed)
    w3 = chain.w3
    consent = chain.contract("ConsentRegistry")
    citizens = [chain.accounts[i] for i in CITIZENS]
    far = w3.eth.get_block("latest")["timestamp"] + 10 * 365 * 86400

    def scope(d):
        return d.to_bytes(32, "big")

    def key(citizen, d):
        return consent_key_hex(citizen.address, PURPOSE_HEX, SCOPE_DOMAIN, "0x" + scope(d).hex(), ANY_RESEARCHER)

    def args(pair):
        citizen, d = pair
        return citizen.address, PURPOSE, SCOPE_DOMAIN, scope(d), ANY_RESEARCHER

    def grant(citizen, d):
        transact(w3, citizen, consent.functions.grant(PURPOSE, SCOPE_DOMAIN, scope(d), ANY_RESEARCHER, far))

    def revoke(citizen, d):
        transact(w3, citizen, consent.functions.revoke(PURPOSE, SCOPE_DOMAIN, scope(d), ANY_RESEARCHER))

    # Every (citizen, domain) pair is a consent; all granted at the start.
    pairs = [(c, d) for c in citizens for d in range(1, 13)]
    for c, d in pairs:
        grant(c, d)
    # Two pools: "stable" consents are revoked only in blocks that stay canonical (and never
    # granted again), so once such a revocation is final every answer must be "not active";
    # "volatile" consents are granted and revoked in the branches that get orphaned.
    active = set(range(36))
    volatile_pool = set(range(36, len(pairs)))
    url = sqlite_url(tmp_path / "follow.db")
    follower = Follower(chain, url)
    follower.wait_synced(w3)
    poller = Poller(url, [key(c, d) for c, d in pairs])
    depths, methods, orphaned_revokes = [], [], 0
    try:
        for r in range(rounds):
            depth = (r % MAX_DEPTH) + 1 if rounds >= MAX_DEPTH else (1, 10, 5)[r % 3]
            # A revocation that stays canonical, then enough blocks on top to make it final.
            stable = rng.choice(sorted(active))
            revoke(*pairs[stable])
            active.discard(stable)
            rpc(w3, "anvil_mine", [hex(MAX_DEPTH + 1)])
            follower.wait_synced(w3)
            method = "revert" if r % 2 == 0 else "anvil_reorg"
            snap = rpc(w3, "evm_snapshot") if method == "revert" else None
            # The branch to be orphaned: `depth` blocks of revocations and re-grants.
            for _ in range(depth):
                i = rng.choice(range(36, len(pairs)))
                if i in volatile_pool:
                    revoke(*pairs[i])
                    volatile_pool.discard(i)
                    orphaned_revokes += 1
                else:
                    grant(*pairs[i])
                    volatile_pool.add(i)
            follower.wait_synced(w3)
            if method == "revert":
                assert rpc(w3, "evm_revert", [snap]) is True
                # The new branch is longer (depth + 1 blocks): one real transaction, then empty blocks.
                i = rng.choice(sorted(active))
                revoke(*pairs[i])
                active.discard(i)
                rpc(w3, "anvil_mine", [hex(depth)])
            else:
                rpc(w3, "anvil_reorg", [depth, []])
            follower.wait_synced(w3)
            volatile_pool = {i for i in range(36, len(pairs)) if consent.functions.is_active(*args(pairs[i])).call()}
            depths.append(depth)
            methods.append(method)
        # Bury the last round's blocks so that every revocation is final, and let the poller see it.
        rpc(w3, "anvil_mine", [hex(MAX_DEPTH + 2)])
        follower.wait_synced(w3)
        time.sleep(0.3)
    finally:
        poller.stop()
        follower.stop()
    if poller.error:
        raise poller.error
    reorgs = make_engine(url).connect().execute(select(Checkpoint.reorgs)).scalar()
    ref = fresh_index(chain, tmp_path / "ref.db")
    assert_same(url, ref)

    # Canonical revocation blocks of each key (the final chain): last event per key at each block.
    logs = consent.events.ConsentRevoked().get_logs(from_block=chain.deployment.start_block)
    grants = consent.events.ConsentGranted().get_logs(from_block=chain.deployment.start_block)
    history: dict[str, list[tuple[int, str]]] = {}
    for lg, action in [(x, "revoke") for x in logs] + [(x, "grant") for x in grants]:
        history.setdefault("0x" + lg["args"]["key"].hex().removeprefix("0x"), []).append((lg["blockNumber"], action))
    for events in history.values():
        events.sort()

    def revoked_at(k: str, block: int) -> bool:
        last = None
        for b, action in history.get(k, []):
            if b <= block:
                last = action
        return last == "revoke"

    stable_keys = {key(*pairs[i]) for i in range(36)}
    checked = [(fin, k, a) for fin, k, a in poller.answers if k in stable_keys and revoked_at(k, fin)]
    served_revoked = [(fin, k) for fin, k, is_active in checked if is_active]
    final_revoked_checks = len(checked)
    assert not served_revoked, f"revoked consents served as active after finality: {served_revoked[:5]}"
    assert final_revoked_checks > 0, "the poller never asked about a finally revoked consent: the check proved nothing"
    assert reorgs >= rounds, f"the indexer saw {reorgs} reorgs, {rounds} were made"
    return {
        "rounds": rounds,
        "depths": depths,
        "methods": methods,
        "answers": len(poller.answers),
        "final_revoked_checks": final_revoked_checks,
        "orphaned_revokes": orphaned_revokes,
        "reorgs_seen": reorgs,
    }


def test_reorgs_quick(own_devnet, tmp_path):
    out = reorg_run(own_devnet, tmp_path, rounds=3, seed=21)
    print(out)


@pytest.mark.long
def test_reorgs_long(own_devnet, tmp_path):
    out = reorg_run(own_devnet, tmp_path, rounds=20, seed=22)
    print(f"reorg long: {out}")
    assert sorted(set(out["depths"])) == list(range(1, MAX_DEPTH + 1))
