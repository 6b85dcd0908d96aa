"""A node behind a public RPC provider's limits (issue 22): the fault proxy's provider mode.

Public providers cap eth_getLogs (10,000 blocks a request, 10,000 logs an answer, with their own
error messages) and rate-limit with HTTP 429 and Retry-After. The indexer must end equal to a fresh
re-index made without the limits, and the API's chain calls (the relayer, /api/status) must answer
200 or a clean 503 with Retry-After, never a 5xx of their own; a relayed transaction whose send got
no answer (never delivered, or delivered and its answer lost) is still mined exactly once.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from collections import Counter

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from web3.exceptions import TransactionNotFound

from cityledger.api.app import create_app
from cityledger.chain.accounts import RELAYER
from cityledger.chain.connection import node_rpc
from cityledger.config import config as cached_config
from cityledger.config import load_config
from cityledger.faults import FaultProxy
from cityledger.indexer.store import migrate

from .helpers import assert_same, fresh_index, make_events, sqlite_url
from .test_relayer_workers import Signer


def rpc(url: str, method: str, params: list) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_the_provider_mode_speaks_as_the_providers_do(devnet):
    with FaultProxy(devnet.rpc_url) as proxy:
        proxy.provider_limits()  # 10,000 blocks, 10,000 logs
        wide = rpc(proxy.url, "eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(10_000)}])
        assert wide["error"]["message"] == "exceed maximum block range: 10000" and wide["id"] == 7
        assert "result" in rpc(proxy.url, "eth_getLogs", [{"fromBlock": "0x0", "toBlock": "0x5"}])
        proxy.provider_limits(max_results=2)
        many = rpc(proxy.url, "eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(devnet.w3.eth.block_number)}])
        assert many["error"]["message"].startswith("query returned more than 2 results. Try with this block range [")
        proxy.clear()
        proxy.rate_limit(per_second=0.5, burst=1)
        assert "result" in rpc(proxy.url, "eth_blockNumber", [])
        with pytest.raises(urllib.error.HTTPError) as refused:
            rpc(proxy.url, "eth_blockNumber", [])
        assert refused.value.code == 429 and int(refused.value.headers["Retry-After"]) >= 1
        assert json.loads(refused.value.read())["error"]["code"] == -32005


def test_the_indexer_survives_public_provider_limits(devnet, tmp_path):
    w3 = devnet.w3
    make_events(devnet, 1_800, seed=5)
    for _ in range(6):  # a sparse stretch wider than a request may span (in steps: anvil is slow at it)
        node_rpc(w3, "anvil_mine", [hex(500)])
    make_events(devnet, 900, seed=6)
    with FaultProxy(devnet.rpc_url) as proxy:
        # Caps below the providers' (10,000 blocks, 10,000 logs) so that this chain of ~2,800 events
        # over ~3,000 blocks reaches both (the indexer aims at 4,000 logs a range): the same refusals.
        # Above the most logs one block holds here (a few hundred): a provider refuses a block
        # that alone has more logs than its cap, and no client can index it there.
        proxy.provider_limits(max_blocks=1_000, max_results=600)
        proxy.rate_limit(per_second=10, burst=5)
        store = fresh_index(devnet, tmp_path / "limited.db", rpc_url=proxy.url)
        stats = dict(proxy.stats)
    assert all(stats.get(k) for k in ("range_refused", "results_refused", "rate_limited")), stats
    assert_same(store, fresh_index(devnet, tmp_path / "reference.db"))


def relayer_app(devnet, tmp_path, rpc_url: str, monkeypatch) -> TestClient:
    """The API with its node behind `rpc_url`; its store migrated (the relayer's outbox is there)."""
    monkeypatch.setenv("CITYLEDGER_RPC_URL", rpc_url)
    cached_config.cache_clear()
    url = sqlite_url(tmp_path / "index.db")
    migrate(url)
    cfg = dataclasses.replace(load_config(), deployments_dir=devnet.cfg.deployments_dir, data_dir=devnet.cfg.data_dir)
    app = create_app(cfg, db_url=url, network="devnet", relay_per_minute=600, relay_burst=100, rpc_timeout=0.5)
    return TestClient(app, raise_server_exceptions=False)


def test_a_relay_whose_send_got_no_answer_is_mined_once(devnet, tmp_path, monkeypatch):
    w3, consent = devnet.w3, devnet.contract("ConsentRegistry")
    relayer_address = devnet.accounts[RELAYER].address
    signer = Signer(devnet)
    first_block, first_nonce = w3.eth.block_number + 1, w3.eth.get_transaction_count(relayer_address)
    with FaultProxy(devnet.rpc_url) as proxy:
        client = relayer_app(devnet, tmp_path, proxy.url, monkeypatch)
        relayer = client.app.state.services.relayer()
        never, lost = Account.create(), Account.create()
        # 1. The send never reaches the node (the connection drops first): answered, kept, sent again.
        proxy.inject("drop", 1, method="eth_sendRawTransaction")
        first = client.post("/api/relay/grant", json=signer.grant(never)[1])
        assert first.status_code == 200, first.text
        try:
            w3.eth.get_transaction(first.json()["tx_hash"])
            raise AssertionError("the dropped send reached the node")
        except TransactionNotFound:
            pass
        # 2. The node gets it (and mines it) but its answer is lost.
        proxy.inject("lost_answer", 1, method="eth_sendRawTransaction")
        second = client.post("/api/relay/grant", json=signer.grant(lost)[1])
        assert second.status_code == 200, second.text
        assert proxy.stats["drop"] == 1 and proxy.stats["lost_answer"] == 1
        # The second waited behind the first's nonce (a gap on the node) until the outbox check sent
        # the first again; then both are mined, in nonce order.
        assert w3.eth.get_transaction(second.json()["tx_hash"])["blockNumber"] is None
        assert relayer.check_outbox(wait=True) == {"rebroadcast": 1}
        assert relayer.check_outbox(wait=True) == {"mined": 2}
    grants = consent.events.ConsentGranted().get_logs(from_block=first_block)
    assert Counter(g["args"]["citizen"] for g in grants) == {never.address: 1, lost.address: 1}
    assert w3.eth.get_transaction_count(relayer_address) == first_nonce + 2
    for answer in (first, second):
        assert w3.eth.get_transaction_receipt(answer.json()["tx_hash"])["status"] == 1


def test_the_api_under_a_provider_rate_limit(devnet, tmp_path, monkeypatch):
    w3, consent = devnet.w3, devnet.contract("ConsentRegistry")
    relayer_address = devnet.accounts[RELAYER].address
    signer = Signer(devnet)
    citizens = [Account.create() for _ in range(12)]
    first_block, first_nonce = w3.eth.block_number + 1, w3.eth.get_transaction_count(relayer_address)
    with FaultProxy(devnet.rpc_url) as proxy:
        client = relayer_app(devnet, tmp_path, proxy.url, monkeypatch)
        relayer = client.app.state.services.relayer()  # connected (chain id, deployment) before the limit
        proxy.rate_limit(per_second=4, burst=4)
        answers = [client.post("/api/relay/grant", json=signer.grant(c)[1]) for c in citizens]
        status = client.get("/api/status")
        limited = proxy.stats["rate_limited"]
        proxy.clear()
        # Every answer is a relay or a clean refusal that says when to come back.
        assert status.status_code == 200, status.text
        refused = [a for a in answers if a.status_code != 200]
        assert all(a.status_code == 503 and "retry-after" in a.headers for a in refused), [a.text for a in refused]
        assert limited > 0
        # The refused ones, sent again once the provider lets us: relayed.
        retry = [c for c, a in zip(citizens, answers, strict=True) if a.status_code != 200]
        again = [client.post("/api/relay/grant", json=signer.grant(c)[1]) for c in retry]
        assert all(a.status_code == 200 for a in again), [a.text for a in again]
        assert relayer.check_outbox(wait=True) == {"mined": len(citizens)}
    grants = consent.events.ConsentGranted().get_logs(from_block=first_block)
    assert Counter(g["args"]["citizen"] for g in grants) == {c.address: 1 for c in citizens}
    assert w3.eth.get_transaction_count(relayer_address) == first_nonce + len(citizens)  # no gap, no twin
