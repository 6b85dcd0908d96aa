"""Devnet faults while the indexer follows: anvil stopped and restarted from its state file, and
timeouts, HTTP 5xx, dropped connections, malformed and truncated answers and node errors injected
by the fault proxy (cityledger.faults) between the indexer/API and anvil.

The indexer must retry and resume, the API's /api/status must say the RPC is unreachable during
the outage and report the lag, nothing may crash (no exception in the indexer thread, no 5xx
from the API), and the store must end equal to a fresh re-index."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityledger.api.app import create_app
from cityledger.config import load_config
from cityledger.faults import KINDS
from cityledger.indexer.models import Checkpoint
from cityledger.indexer.sync import Indexer

from .helpers import addresses, assert_same, fresh_index, make_events, sqlite_url


class Follower:
    def __init__(self, chain, url, rpc_url):
        self.ix = Indexer(
            url,
            rpc_url,
            chain_id=chain.network.chain_id,
            addresses=addresses(chain),
            start_block=chain.deployment.start_block,
            poll_interval=0.05,
            rpc_timeout=1.0,
            rpc_retries=2,
        )
        self.errors: list[Exception] = []  # RpcUnavailable reports (expected while faults last)
        self.crash = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.ix.follow(on_error=self.errors.append)
        except BaseException as exc:  # noqa: BLE001 (the test fails on it)
            self.crash = exc

    def checkpoint(self):
        with self.ix.engine.connect() as c:
            return c.execute(select(Checkpoint.block_number, Checkpoint.block_hash, Checkpoint.rpc_error)).first()

    def status(self) -> dict:
        with self.ix.engine.connect() as c:
            return dict(c.execute(select(Checkpoint)).mappings().one())

    def wait_synced(self, w3, timeout=90):
        end = time.monotonic() + timeout
        cp = None
        while time.monotonic() < end:
            assert self.crash is None, f"indexer crashed: {self.crash!r}"
            head = w3.eth.get_block("latest")
            cp = self.checkpoint()
            if cp and cp[0] == head["number"] and cp[1] == "0x" + head["hash"].hex().removeprefix("0x"):
                return
            time.sleep(0.05)
        raise AssertionError(f"indexer not at head after {timeout}s (checkpoint {cp})")

    def stop(self):
        self.ix.stop_event.set()
        self.thread.join(30)
        self.ix.close()


def api_client(chain, url, rpc_url, monkeypatch):
    monkeypatch.setenv("CITYLEDGER_RPC_URL", rpc_url)
    monkeypatch.setenv("CITYLEDGER_NETWORK", "devnet")
    cfg = dataclasses.replace(load_config(), deployments_dir=chain.cfg.deployments_dir, data_dir=chain.cfg.data_dir)
    return TestClient(create_app(cfg, db_url=url, network="devnet", rpc_timeout=0.5), raise_server_exceptions=False)


def status(client) -> dict:
    r = client.get("/api/status")
    assert r.status_code == 200, r.text
    return r.json()


def faults_run(chain, proxy, tmp_path, monkeypatch, *, bulk: int, chaos_seconds: float, outages: int) -> dict:
    w3 = chain.w3
    make_events(chain, bulk, seed=31)
    url = sqlite_url(tmp_path / "follow.db")
    follower = Follower(chain, url, proxy.url)
    client = api_client(chain, url, proxy.url, monkeypatch)
    seen: dict = {"statuses": 0, "unreachable": 0, "max_lag": 0}

    def look():
        s = status(client)
        seen["statuses"] += 1
        seen["unreachable"] += not s["rpc_reachable"]
        if s["lag"] is not None:
            seen["max_lag"] = max(seen["max_lag"], s["lag"])
        return s

    try:
        # 1. Every kind of fault, at random, while new blocks arrive; each kind once for sure first
        # (backoff after a fault means fewer requests, and a kind the dice skip would prove nothing).
        for kind in KINDS:
            proxy.inject(kind)
        proxy.chaos(0.35, KINDS)
        end = time.monotonic() + chaos_seconds
        rounds = 0
        while time.monotonic() < end:
            make_events(chain, 128, seed=100 + rounds)
            rounds += 1
            look()
        proxy.clear()
        follower.wait_synced(w3)
        # 2. The node stops (state written), blocks are missed, it restarts from its state file.
        for _ in range(outages):
            head_before = w3.eth.block_number
            chain.anvil.stop()
            time.sleep(1.5)
            s = look()
            assert s["rpc_reachable"] is False and s["head_block"] is not None
            down = follower.checkpoint()
            assert down[2], "the indexer did not record the RPC error in the store"
            chain.anvil.start()
            assert w3.eth.block_number == head_before, "anvil did not restart from its saved state"
            make_events(chain, 0, seed=200 + _)
            s = look()  # the API sees the node again, and the indexer behind it: lag > 0 until it catches up
            follower.wait_synced(w3)
            s = look()
            assert s["rpc_reachable"] is True and s["lag"] == 0, s
        assert follower.crash is None, f"indexer crashed: {follower.crash!r}"
        assert follower.checkpoint()[2] is None, "the RPC error stays reported after recovery"
    finally:
        follower.stop()
    ref = fresh_index(chain, tmp_path / "ref.db")
    assert_same(url, ref)
    injected = {k: proxy.stats[k] for k in KINDS}
    missing = [k for k, n in injected.items() if n == 0]
    assert not missing, f"faults never injected: {missing} ({dict(proxy.stats)})"
    return {
        **seen,
        "injected": injected,
        "requests": proxy.stats["requests"],
        "upstream_down": proxy.stats["upstream_down"],
        "indexer_rpc_failures": len(follower.errors),
        "outages": outages,
        "chaos_rounds": rounds,
    }


def test_faults_quick(own_devnet, fault_proxy, tmp_path, monkeypatch):
    out = faults_run(own_devnet, fault_proxy, tmp_path, monkeypatch, bulk=1000, chaos_seconds=8, outages=1)
    print(out)


@pytest.mark.long
def test_faults_long(own_devnet, fault_proxy, tmp_path, monkeypatch):
    out = faults_run(own_devnet, fault_proxy, tmp_path, monkeypatch, bulk=20_000, chaos_seconds=90, outages=5)
    print(f"faults long: {out}")


def test_a_node_missing_a_block_below_its_head_is_reported_and_waited_out(own_devnet, fault_proxy, tmp_path, caplog):
    # Issue 14: after back-to-back anvil_reorg calls anvil said head 91 and null for block 82; the
    # follower "rolled back" to its own checkpoint ~100 times a second, counting each as a reorg.
    chain, w3 = own_devnet, own_devnet.w3
    caplog.set_level("INFO", logger="cityledger.indexer")
    make_events(chain, 0, seed=41)
    url = sqlite_url(tmp_path / "follow.db")
    follower = Follower(chain, url, fault_proxy.url)
    try:
        follower.wait_synced(w3)
        missing = w3.eth.block_number + 1
        fault_proxy.hide_blocks({missing})
        make_events(chain, 0, seed=42)  # ~40 blocks with every event kind, the first one hidden
        end = time.monotonic() + 10
        while not follower.status()["node_inconsistent"] and time.monotonic() < end:
            time.sleep(0.05)
        seen = follower.status()
        assert seen["node_inconsistent"] and str(missing) in seen["node_inconsistent"], seen
        assert seen["rpc_error"] is None and seen["node_inconsistent_since"] is not None
        # Backoff (0.05 s doubling to 5 s), not a spin: a few requests a second, not hundreds.
        before = fault_proxy.stats["requests"]
        time.sleep(4)
        assert fault_proxy.stats["requests"] - before < 40, dict(fault_proxy.stats)
        status = follower.status()
        assert status["block_number"] == missing - 1 and status["reorgs"] == 0, status
        assert status["node_inconsistent_since"] == seen["node_inconsistent_since"]
        # The node recovers: the follower catches up and the status clears.
        fault_proxy.clear()
        follower.wait_synced(w3, timeout=30)
        status = follower.status()
        assert status["node_inconsistent"] is None and status["node_inconsistent_since"] is None
        assert status["reorgs"] == 0 and follower.crash is None
    finally:
        follower.stop()
    # Said once when it started and once when it ended, not once per loop; never as a reorg.
    lines = [r.getMessage() for r in caplog.records if r.name == "cityledger.indexer" and r.levelname != "DEBUG"]
    assert len([m for m in lines if "inconsistent" in m]) == 2, lines
    assert not [m for m in lines if "reorg" in m], lines
    assert_same(url, fresh_index(chain, tmp_path / "ref.db"))
