"""The signed-consent relayer on a real devnet: a valid signature lands; every bad one is refused
before the relayer sends anything (its account nonce does not move); per-citizen rate limit."""

from __future__ import annotations

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from cityledger import codes
from cityledger.api.app import create_app
from cityledger.api.relayer import TokenBucket
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


@pytest.fixture
def relay(devnet, tmp_path):
    consent = devnet.contract("ConsentRegistry")
    relayer = devnet.accounts[5]
    app = create_app(
        devnet.cfg, db_url=f"sqlite:///{tmp_path / 'index.db'}", data_dir=tmp_path, relay_per_minute=60, relay_burst=20
    )
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
    app = create_app(
        devnet.cfg, db_url=f"sqlite:///{tmp_path / 'i.db'}", data_dir=tmp_path, relay_per_minute=2, relay_burst=2
    )
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


def test_token_bucket_refills():
    now = [0.0]
    bucket = TokenBucket(per_minute=60, burst=1, clock=lambda: now[0])
    assert bucket.take("a") == 0 and bucket.take("a") > 0
    now[0] += 1.0
    assert bucket.take("a") == 0 and bucket.take("b") == 0


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
