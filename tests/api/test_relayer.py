"""The signed-consent relayer on a real devnet: a valid signature lands; every bad one is refused
before the relayer sends anything (its account nonce does not move); per-citizen rate limit; the
outbox (the same request twice is one transaction, stuck ones are replaced with higher fees, lost
ones broadcast again). Many workers at once: tests/reliability/test_relayer_workers.py."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from web3.exceptions import TransactionNotFound

from cityledger import codes
from cityledger.api.app import create_app
from cityledger.api.relay_store import RelayStore
from cityledger.api.relayer import bumped_fees
from cityledger.chain.connection import node_rpc
from cityledger.config import RelayerSettings
from cityledger.indexer.store import migrate
from cityledger.signing import SECP256K1_N, grant_message, revoke_message
from cityledger.signing import sign as sign_typed

SCI = "0x" + codes.purpose_hash("ScientificResearch").hex()
HEALTH = "0x" + format(codes.DOMAINS["health"], "064x")
ANY = codes.ANY_RESEARCHER


def sign(account, action: str, fields: dict, *, chain_id: int, contract: str, nonce: int) -> str:
    common = (fields["citizen"], fields["purpose"], fields["scope_kind"], fields["scope_id"], fields["grantee"])
    msg = (
        grant_message(*common, fields["expiry"], nonce, fields["deadline"])
        if action == "grant"
        else revoke_message(*common, nonce, fields["deadline"])
    )
    return "0x" + sign_typed(account, chain_id, contract, msg).hex()


def high_s(sig_hex: str) -> str:
    """The malleable twin of a signature: s -> n - s, v flipped (recovers to the same signer)."""
    raw = bytes.fromhex(sig_hex[2:])
    s = int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - raw[64]])).hex()


def store_url(tmp_path) -> str:
    """A migrated store (the indexer migrates it in production): the relayer keeps its outbox there."""
    url = f"sqlite:///{tmp_path / 'index.db'}"
    migrate(url)
    return url


@pytest.fixture
def relay(devnet, tmp_path):
    consent = devnet.contract("ConsentRegistry")
    relayer = devnet.accounts[5]
    app = create_app(devnet.cfg, db_url=store_url(tmp_path), data_dir=tmp_path, relay_per_minute=60, relay_burst=20)
    now = devnet.w3.eth.get_block("latest")["timestamp"]
    citizen = devnet.accounts[6]
    fields = {
        "citizen": citizen.address,
        "purpose": SCI,
        "scope_kind": 3,
        "scope_id": HEALTH,
        "grantee": ANY,
        "expiry": now + 365 * 86400,
        "deadline": now + 3600,
    }

    class R:
        w3 = devnet.w3

        def __init__(self):
            self.client = TestClient(app)
            self.consent, self.relayer, self.citizen, self.fields = consent, relayer, citizen, fields

        def nonce_of_key(self):
            key = consent.functions.consent_key(
                citizen.address, bytes.fromhex(SCI[2:]), 3, bytes.fromhex(HEALTH[2:]), ANY
            ).call()
            return consent.functions.nonce_of(key).call()

        def signed(self, action="grant", account=None, chain_id=None, contract=None, nonce=None, **over):
            f = {**fields, **over}
            if action == "revoke":
                f.pop("expiry", None)
            f["signature"] = sign(
                account or citizen,
                action,
                f,
                chain_id=chain_id or devnet.w3.eth.chain_id,
                contract=contract or consent.address,
                nonce=self.nonce_of_key() if nonce is None else nonce,
            )
            return f

        def sent(self) -> int:
            return devnet.w3.eth.get_transaction_count(relayer.address)

    return R()


def test_a_valid_signed_grant_then_revoke_land(relay):
    before = relay.sent()
    resp = relay.client.post("/api/relay/grant", json=relay.signed())
    assert resp.status_code == 200, resp.text
    receipt = relay.w3.eth.wait_for_transaction_receipt(resp.json()["tx_hash"], timeout=30)
    assert receipt["status"] == 1 and receipt["from"] == relay.relayer.address
    f = relay.fields
    args = (f["citizen"], bytes.fromhex(SCI[2:]), 3, bytes.fromhex(HEALTH[2:]), ANY)
    assert relay.consent.functions.is_active(*args).call()
    assert relay.sent() == before + 1
    resp = relay.client.post("/api/relay/revoke", json=relay.signed("revoke"))
    assert resp.status_code == 200, resp.text
    assert relay.w3.eth.wait_for_transaction_receipt(resp.json()["tx_hash"], timeout=30)["status"] == 1
    assert not relay.consent.functions.is_active(*args).call()


def _rejected(relay, body, code, path="/api/relay/grant", status=422) -> str:
    before = relay.sent()
    resp = relay.client.post(path, json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code, resp.text
    assert relay.sent() == before, "the relayer sent a transaction for a bad request"
    return resp.json()["error"]["message"]


def test_replayed_signature_is_refused_before_sending(relay):
    body = relay.signed()
    assert relay.client.post("/api/relay/grant", json=body).status_code == 200
    assert "replayed" in _rejected(relay, body, "bad_signature")
    # With the nonce stated, the message says so precisely.
    assert "not current" in _rejected(relay, {**body, "nonce": 0}, "stale_nonce")


def test_bad_signatures_are_refused_before_sending(relay, devnet):
    _rejected(relay, relay.signed(account=devnet.accounts[7]), "bad_signature")  # wrong signer
    _rejected(relay, relay.signed(chain_id=1), "bad_signature")  # another chain
    _rejected(relay, {**relay.signed(chain_id=1), "chain_id": 1}, "wrong_chain")  # ... stated
    _rejected(
        relay, relay.signed(contract=devnet.contract("AccessRegistry").address), "bad_signature"
    )  # another contract
    assert "high s" in _rejected(
        relay, {**relay.signed(), "signature": high_s(relay.signed()["signature"])}, "bad_signature"
    )
    _rejected(relay, relay.signed(nonce=5), "bad_signature")  # a future nonce
    past = relay.w3.eth.get_block("latest")["timestamp"] - 1
    assert "has passed" in _rejected(relay, relay.signed(deadline=past), "expired")
    # A validly signed grant whose consent would already have ended: 422 `expired` (was 422 `bad_request`,
    # a code that docs/API.md maps to 400).
    assert "not after chain time" in _rejected(relay, relay.signed(expiry=past), "expired")
    # A revoke of a consent that is not active: valid signature, but the contract would revert.
    assert "would reject" in _rejected(relay, relay.signed("revoke"), "would_revert", "/api/relay/revoke")


def test_malformed_fields_are_refused(relay):
    good = relay.signed()
    _rejected(relay, {**good, "citizen": "0x1234"}, "bad_request", status=400)
    _rejected(relay, {**good, "signature": "0xdead"}, "bad_request", status=400)
    _rejected(relay, {**good, "purpose": "Fun"}, "bad_request", status=400)
    _rejected(relay, {**good, "scope_kind": 9}, "validation_error")
    _rejected(relay, {**good, "extra": 1}, "validation_error")
    _rejected(relay, {k: v for k, v in good.items() if k != "expiry"}, "validation_error")


def test_rate_limits_valid_per_citizen_invalid_per_client(devnet, tmp_path):
    app = create_app(devnet.cfg, db_url=store_url(tmp_path), data_dir=tmp_path, relay_per_minute=2, relay_burst=2)
    consent = devnet.contract("ConsentRegistry")
    past = devnet.w3.eth.get_block("latest")["timestamp"] - 1

    def body(citizen, **over):
        f = {
            "citizen": citizen.address,
            "purpose": SCI,
            "scope_kind": 3,
            "scope_id": HEALTH,
            "grantee": ANY,
            "expiry": 2**40,
            "deadline": past,
            **over,
        }
        nonce = consent.functions.nonce_of(
            consent.functions.consent_key(
                citizen.address, bytes.fromhex(SCI[2:]), 3, bytes.fromhex(HEALTH[2:]), ANY
            ).call()
        ).call()
        return {
            **f,
            "signature": sign(
                citizen, "grant", f, chain_id=devnet.w3.eth.chain_id, contract=consent.address, nonce=nonce
            ),
        }

    # Validly signed (then refused for the past deadline): charged to the citizen, from any client.
    alice, bob = devnet.accounts[6], devnet.accounts[7]
    seen = [TestClient(app, client=(f"10.0.0.{i}", 1)).post("/api/relay/grant", json=body(alice)) for i in range(3)]
    assert [r.status_code for r in seen] == [422, 422, 429], [r.text for r in seen]
    assert seen[2].json()["error"]["code"] == "rate_limited" and int(seen[2].headers["retry-after"]) >= 1
    assert seen[0].json()["error"]["code"] == "expired"
    assert TestClient(app, client=("10.0.0.1", 1)).post("/api/relay/grant", json=body(bob)).status_code == 422
    # Junk signatures: charged to the client that sends them, whatever citizen they name.
    junk = TestClient(app, client=("10.9.9.9", 1))
    codes_seen = [
        junk.post("/api/relay/grant", json={**body(bob), "signature": "0x" + "11" * 65}).status_code for _ in range(3)
    ]
    assert codes_seen == [422, 422, 429]
    assert (
        "invalid relay requests"
        in junk.post("/api/relay/grant", json={**body(bob), "signature": "0x" + "11" * 65}).text
    )
    other = TestClient(app, client=("10.9.9.8", 1)).post(
        "/api/relay/grant", json={**body(bob), "signature": "0x" + "11" * 65}
    )
    assert other.json()["error"]["code"] == "bad_signature"
    # ...and never to the citizen: bob's own valid request still gets its check.
    assert (
        TestClient(app, client=("10.9.9.9", 1)).post("/api/relay/grant", json=body(bob)).json()["error"]["code"]
        == "expired"
    )


def test_token_bucket_refills(tmp_path):
    store = RelayStore(store_url(tmp_path), 31337, "0x" + "55" * 20)
    assert store.take("a", 60, 1, now=100.0) == 0
    assert store.take("a", 60, 1, now=100.0) == pytest.approx(1.0)  # a token a second: one second to wait
    assert store.take("a", 60, 1, now=100.5) == pytest.approx(0.5)
    assert store.take("a", 60, 1, now=101.0) == 0 and store.take("b", 60, 1, now=101.0) == 0
    assert store.take("a", 60, 3, now=1000.0) == 0  # refilled, at most to the burst
    assert store.take("a", 60, 3, now=1000.0) == 0 and store.take("a", 60, 3, now=1000.0) == 0
    assert store.take("a", 60, 3, now=1000.0) > 0
    assert store.take("a", 60, 3, now=999.0) > 0  # a clock behind the last take refills nothing
    assert store.prune_limits("a", 60, 3, now=1010.0) == 1 and store.prune_limits("b", 60, 1, now=1010.0) == 1
    store.close()


def test_recover_matches_eth_account():
    from cityledger.api.relayer import recover_signer

    acct = Account.create()
    digest = bytes(range(32))
    sig = acct.unsafe_sign_hash(digest).signature
    assert recover_signer(digest, bytes(sig)) == acct.address


def test_contract_wallet_signature_is_checked_by_erc1271():
    """A citizen with code is a contract wallet: its isValidSignature decides, not ecrecover."""
    from types import SimpleNamespace

    from cityledger.api.relayer import ERC1271_MAGIC, Relayer, parse_request
    from cityledger.query.errors import Rejected

    wallet = "0x" + "ab" * 20
    answer = {"out": ERC1271_MAGIC + bytes(28)}
    calls = []

    def eth_call(tx):
        calls.append(tx)
        return answer["out"]

    eth = SimpleNamespace(chain_id=31337, get_code=lambda addr: b"\x60\x00", call=eth_call)
    contract = SimpleNamespace(
        address="0x" + "cd" * 20,
        functions=SimpleNamespace(nonce_of=lambda key: SimpleNamespace(call=lambda: 0)),
    )
    relayer = Relayer(SimpleNamespace(eth=eth), contract, account=None)
    req = parse_request(
        "grant",
        {
            "citizen": wallet,
            "purpose": SCI,
            "scope_kind": 3,
            "scope_id": HEALTH,
            "grantee": ANY,
            "expiry": 2**40,
            "deadline": 2**40,
            "signature": "0x" + "11" * 65,
        },
    )
    relayer.check_signature(req)  # the wallet answers the magic value: accepted
    assert calls[0]["to"].lower() == wallet and calls[0]["data"][:4] == ERC1271_MAGIC
    answer["out"] = b"\xff\xff\xff\xff" + bytes(28)
    with pytest.raises(Rejected) as err:
        relayer.check_signature(req)
    assert err.value.code == "bad_signature" and "ERC-1271" in err.value.message


# ------------------------------------------------------------------ the outbox (relay_store.py)


def signed_grant(devnet, citizen) -> dict:
    """A grant of `citizen` (research, health, any researcher) at its consent's current nonce."""
    consent = devnet.contract("ConsentRegistry")
    now = devnet.w3.eth.get_block("latest")["timestamp"]
    f = {"citizen": citizen.address, "purpose": SCI, "scope_kind": 3, "scope_id": HEALTH, "grantee": ANY,
         "expiry": now + 365 * 86400, "deadline": now + 3600}  # fmt: skip
    key = consent.functions.consent_key(citizen.address, bytes.fromhex(SCI[2:]), 3, bytes.fromhex(HEALTH[2:]), ANY)
    nonce = consent.functions.nonce_of(key.call()).call()
    chain_id = devnet.w3.eth.chain_id
    return {**f, "signature": sign(citizen, "grant", f, chain_id=chain_id, contract=consent.address, nonce=nonce)}


def outbox_app(devnet, tmp_path, **relayer_settings):
    """An app whose relayer replaces a transaction unmined for an hour (a test that wants a replacement
    lowers it, rather than racing the wall clock); its client and relayer."""
    settings = RelayerSettings(**{"replace_after": 3600.0, **relayer_settings})
    cfg = dataclasses.replace(devnet.cfg, relayer=settings)
    app = create_app(cfg, db_url=store_url(tmp_path), data_dir=tmp_path, relay_per_minute=60, relay_burst=20)
    return TestClient(app), app.state.services.relayer()


def test_the_same_request_twice_is_one_transaction(relay):
    node_rpc(relay.w3, "evm_setAutomine", [False])  # nothing is mined until evm_mine
    before = relay.w3.eth.get_transaction_count(relay.relayer.address, "pending")
    body = relay.signed()
    first = relay.client.post("/api/relay/grant", json=body)
    again = relay.client.post("/api/relay/grant", json=body)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["tx_hash"] == again.json()["tx_hash"]
    # Another grant of the same consent at the same nonce: only one of the two could be mined.
    other = relay.client.post("/api/relay/grant", json=relay.signed(expiry=relay.fields["expiry"] - 1))
    assert other.status_code == 422 and other.json()["error"]["code"] == "stale_nonce", other.text
    assert "already being relayed" in other.json()["error"]["message"]
    assert relay.w3.eth.get_transaction_count(relay.relayer.address, "pending") == before + 1
    tx_hash = first.json()["tx_hash"]
    assert relay.client.get(f"/api/relay/tx/{tx_hash}").json()["status"] == "pending"
    node_rpc(relay.w3, "evm_mine")
    relayer = relay.client.app.state.services.relayer()
    assert relayer.check_outbox(wait=True) == {"mined": 1}
    status = relay.client.get(f"/api/relay/tx/{tx_hash}").json()
    assert status["status"] == "mined" and status["hashes"] == [tx_hash] and status["block_number"] > 0
    assert relay.client.get(f"/api/relay/tx/0x{'ab' * 32}").status_code == 404
    assert relay.client.get("/api/relay/tx/0x12").status_code == 400


def test_a_stuck_transaction_is_replaced_with_higher_fees(devnet, tmp_path):
    client, relayer = outbox_app(devnet, tmp_path)
    w3, consent = devnet.w3, devnet.contract("ConsentRegistry")
    node_rpc(w3, "evm_setAutomine", [False])
    citizen = devnet.accounts[6]
    body = signed_grant(devnet, citizen)
    stuck = client.post("/api/relay/grant", json=body).json()["tx_hash"]
    sent = w3.eth.get_transaction(stuck)
    assert sent["blockNumber"] is None and sent["type"] == 2  # pending, with EIP-1559 fees
    assert relayer.check_outbox(wait=True) == {}  # not unmined for replace_after (an hour) yet
    # The hour has passed, as the relayer sees it (no wall-clock race on a slow machine: sent_at is
    # kept in whole seconds, so a 1 s threshold could fire at once).
    relayer.settings = dataclasses.replace(relayer.settings, replace_after=0.0)
    assert relayer.check_outbox(wait=True) == {"replaced": 1}
    status = client.get(f"/api/relay/tx/{stuck}").json()
    replacement = status["tx_hash"]
    assert status["hashes"] == [stuck, replacement] and status["attempts"] == 2
    new = w3.eth.get_transaction(replacement)
    assert new["nonce"] == sent["nonce"] and new["input"] == sent["input"]  # the same call at the same nonce
    assert new["maxFeePerGas"] >= sent["maxFeePerGas"] * 9 // 8
    assert new["maxPriorityFeePerGas"] >= sent["maxPriorityFeePerGas"] * 9 // 8
    node_rpc(w3, "evm_mine")
    assert relayer.check_outbox(wait=True) == {"mined": 1}
    status = client.get(f"/api/relay/tx/{stuck}").json()
    assert status["status"] == "mined" and status["tx_hash"] == replacement
    assert w3.eth.get_transaction_receipt(replacement)["status"] == 1
    grants = consent.events.ConsentGranted().get_logs(from_block=w3.eth.block_number - 2)
    assert [g["args"]["citizen"] for g in grants] == [citizen.address]  # mined once
    assert w3.eth.get_transaction_count(devnet.accounts[5].address) == sent["nonce"] + 1


def test_a_transaction_the_node_lost_is_sent_again(devnet, tmp_path):
    client, relayer = outbox_app(devnet, tmp_path)
    w3 = devnet.w3
    node_rpc(w3, "evm_setAutomine", [False])
    tx_hash = client.post("/api/relay/grant", json=signed_grant(devnet, devnet.accounts[7])).json()["tx_hash"]
    node_rpc(w3, "anvil_dropTransaction", [tx_hash])  # a node restarted, a mempool evicted it
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction(tx_hash)
    assert relayer.check_outbox(wait=True) == {"rebroadcast": 1}
    node_rpc(w3, "evm_mine")
    assert relayer.check_outbox(wait=True) == {"mined": 1}
    assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 1


def test_a_refused_send_gives_its_nonce_back_and_a_used_one_is_skipped(devnet, tmp_path):
    client, relayer = outbox_app(devnet, tmp_path)
    w3, account = devnet.w3, devnet.accounts[5]
    balance = w3.eth.get_balance(account.address)
    node_rpc(w3, "anvil_setBalance", [account.address, hex(10**9)])  # too little for the gas
    refused = client.post("/api/relay/grant", json=signed_grant(devnet, devnet.accounts[8]))
    assert refused.status_code == 503 and "could not submit" in refused.json()["error"]["message"], refused.text
    with relayer.store.sender_lock() as box:
        assert box.pending() == []  # nothing sent, nothing kept
    node_rpc(w3, "anvil_setBalance", [account.address, hex(balance)])
    ok = client.post("/api/relay/grant", json=signed_grant(devnet, devnet.accounts[8]))
    assert ok.status_code == 200, ok.text
    first = w3.eth.get_transaction(ok.json()["tx_hash"])["nonce"]
    # The relayer key signs elsewhere: the store's next nonce is taken on the node.
    w3.eth.send_transaction({"from": account.address, "to": account.address, "value": 0})
    ok2 = client.post("/api/relay/grant", json=signed_grant(devnet, devnet.accounts[9]))
    assert ok2.status_code == 200, ok2.text
    assert w3.eth.get_transaction(ok2.json()["tx_hash"])["nonce"] == first + 2  # the next free one, no gap
    assert w3.eth.get_transaction_receipt(ok2.json()["tx_hash"])["status"] == 1


def test_bumped_fees():
    assert bumped_fees({"max_fee": 100, "tip": 10}, {"maxFeePerGas": 50, "maxPriorityFeePerGas": 1}, 1000) == {
        "maxFeePerGas": 113, "maxPriorityFeePerGas": 12}  # fmt: skip
    # The market asks more than 12.5 %: the market's fees.
    assert bumped_fees({"max_fee": 100, "tip": 10}, {"maxFeePerGas": 400, "maxPriorityFeePerGas": 30}, 1000) == {
        "maxFeePerGas": 400, "maxPriorityFeePerGas": 30}  # fmt: skip
    assert bumped_fees({"max_fee": 100, "tip": 10}, {"maxFeePerGas": 400, "maxPriorityFeePerGas": 30}, 200) == {
        "maxFeePerGas": 200, "maxPriorityFeePerGas": 30}  # fmt: skip
    assert bumped_fees({"max_fee": 100, "tip": 10}, {}, 100) is None  # at the cap: nothing to replace with
    assert bumped_fees({"max_fee": 100, "tip": None}, {"gasPrice": 90}, 1000) == {"gasPrice": 113}  # legacy
    assert bumped_fees({"max_fee": 100, "tip": None}, {"gasPrice": 90}, 105) == {"gasPrice": 105}
