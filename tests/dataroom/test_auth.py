"""Sign-in with a wallet (EIP-4361): what is accepted, and every refusal (expired, forged, replayed,
other domain, other URI, other chain, a session of another address, sign-out), each with nothing
stored."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from cityledger.dataroom import sessions as ses
from cityledger.dataroom.models import SignInNonce, SignInSession
from cityledger.dataroom.room import COOKIE, CSRF_HEADER

from .conftest import sign_in, sign_message


def _count(room, table) -> int:
    engine = create_engine(room.db_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return n


def _fields(client, account) -> dict:
    return client.post("/api/auth/nonce", json={"address": account.address}).json()


def _signin(client, account, message: str, signature: str | None = None):
    return client.post(
        "/api/auth/signin", json={"message": message, "signature": signature or sign_message(account, message)}
    )


def test_sign_in_opens_a_session_with_roles_from_the_index(room):
    c = room.client()
    researcher = room.chain.accounts[4]
    fields = _fields(c, researcher)
    assert fields["domain"] == "127.0.0.1:8000" and fields["uri"] == "http://127.0.0.1:8000"
    assert fields["chain_id"] == room.chain.network.chain_id and re.fullmatch(r"[A-Za-z0-9]{22}", fields["nonce"])
    assert fields["message"].startswith("127.0.0.1:8000 wants you to sign in with your Ethereum account:\n")
    answer = _signin(c, researcher, fields["message"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["address"] == researcher.address.lower()
    assert body["expires_at"] > time.time() + 3000
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/api" in cookie
    assert "Secure" not in cookie  # http public URL; https gets Secure (test below)
    # The store keeps the session id's hash only, never the id itself.
    session_id = c.cookies.get(COOKIE)
    engine = create_engine(room.db_url)
    with engine.connect() as conn:
        stored = conn.execute(select(SignInSession.__table__.c.id_hash)).scalars().all()
    engine.dispose()
    assert session_id not in stored and ses._hash(session_id) in stored
    me = c.get("/api/auth/session").json()
    assert me["address"] == researcher.address.lower() and me["csrf_token"] == body["csrf_token"]


def test_replayed_message_signs_nobody_in(room):
    c = room.client()
    researcher = room.chain.accounts[4]
    fields = _fields(c, researcher)
    assert _signin(c, researcher, fields["message"]).status_code == 200
    sessions = _count(room, SignInSession)
    other = room.client()  # an eavesdropper replays the same signed message
    again = _signin(other, researcher, fields["message"])
    assert again.status_code == 401 and again.json()["error"]["code"] == "siwe_nonce"
    assert "set-cookie" not in again.headers and _count(room, SignInSession) == sessions


def test_a_nonce_not_issued_here_is_refused(room):
    c = room.client()
    researcher = room.chain.accounts[4]
    message = _fields(c, researcher)["message"].replace("Nonce: ", "Nonce: zz", 1)
    answer = _signin(c, researcher, message)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "siwe_nonce"


def _message(fields: dict, account, **over) -> str:
    f = {**fields, **over}
    return ses.message_text(f, account.address)


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"domain": "evil.example"}, "siwe_domain"),
        ({"uri": "http://evil.example/login"}, "siwe_uri"),
        ({"chain_id": 1}, "siwe_chain"),
        ({"expiration_time": "2020-01-01T00:00:00Z"}, "siwe_expired"),
        ({"issued_at": "2020-01-01T00:00:00Z", "expiration_time": "2099-01-01T00:00:00Z"}, "siwe_expired"),
        ({"issued_at": "2099-01-01T00:00:00Z", "expiration_time": "2099-01-02T00:00:00Z"}, "siwe_expired"),
    ],
)
def test_other_domain_uri_chain_or_time_is_refused_and_the_nonce_stays_usable(room, over, code):
    c = room.client()
    researcher = room.chain.accounts[4]
    fields = _fields(c, researcher)
    sessions = _count(room, SignInSession)
    answer = _signin(c, researcher, _message(fields, researcher, **over))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == code, answer.text
    assert _count(room, SignInSession) == sessions and "set-cookie" not in answer.headers
    # Nothing was consumed: the honest message with that nonce still signs in.
    assert _signin(c, researcher, fields["message"]).status_code == 200


def test_forged_signature_is_refused(room):
    c = room.client()
    researcher, mallory = room.chain.accounts[4], room.chain.accounts[9]
    fields = _fields(c, researcher)
    forged = _signin(c, researcher, fields["message"], sign_message(mallory, fields["message"]))
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "siwe_signature"
    assert researcher.address in forged.json()["error"]["message"]
    garbage = _signin(c, researcher, fields["message"], "0x" + "11" * 65)
    assert garbage.status_code == 401 and garbage.json()["error"]["code"] == "siwe_signature"
    # The nonce was not consumed by the forgeries.
    assert _signin(c, researcher, fields["message"]).status_code == 200


def test_altered_message_is_refused(room):
    c = room.client()
    researcher = room.chain.accounts[4]
    fields = _fields(c, researcher)
    signature = sign_message(researcher, fields["message"])
    altered = fields["message"].replace("Sign in to", "Sign into")
    answer = _signin(c, researcher, altered, signature)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "siwe_signature"


def test_not_a_siwe_message_is_a_bad_request(room):
    c = room.client()
    answer = c.post("/api/auth/signin", json={"message": "hello", "signature": "0x" + "11" * 65})
    assert answer.status_code == 400 and "EIP-4361" in answer.json()["error"]["message"]


def test_a_session_is_its_own_address_and_sign_out_ends_it(room):
    researcher, publisher = room.chain.accounts[4], room.chain.accounts[1]
    a, b = room.client(), room.client()
    me_a, me_b = sign_in(a, researcher), sign_in(b, publisher)
    assert me_a["address"] != me_b["address"] and me_a["csrf_token"] != me_b["csrf_token"]
    assert "researcher" in me_a["roles"] and "publisher" in me_b["roles"]
    # b's session with a's CSRF token: refused (the token is per session).
    b.headers[CSRF_HEADER] = me_a["csrf_token"]
    refused = b.post("/api/auth/signout")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    b.headers.pop(CSRF_HEADER)
    assert b.post("/api/auth/signout").json()["error"]["code"] == "csrf"
    assert b.get("/api/auth/session").json()["address"] == publisher.address.lower()  # still signed in
    # Sign-out: the session is gone from the store, the cookie cleared, and the old id is refused.
    old = a.cookies.get(COOKIE)
    out = a.post("/api/auth/signout")
    assert out.status_code == 204 and f'{COOKIE}=""' in out.headers["set-cookie"]
    a.cookies.set(COOKIE, old)
    gone = a.get("/api/auth/session")
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "not_signed_in"


def test_no_cookie_or_an_unknown_one_is_not_signed_in(room):
    c = room.client()
    assert c.get("/api/auth/session").json()["error"]["code"] == "not_signed_in"
    c.cookies.set(COOKIE, "made-up")
    assert c.get("/api/auth/session").status_code == 401


def test_session_expires(room):
    researcher = room.chain.accounts[4]
    c = room.client()
    sign_in(c, researcher)
    engine = create_engine(room.db_url)
    with engine.begin() as conn:
        conn.execute(SignInSession.__table__.update().values(expires_at=int(time.time()) - 1))
    engine.dispose()
    assert c.get("/api/auth/session").json()["error"]["code"] == "not_signed_in"


def test_expired_nonce_is_refused(room):
    c = room.client()
    researcher = room.chain.accounts[4]
    fields = _fields(c, researcher)
    engine = create_engine(room.db_url)
    with engine.begin() as conn:
        conn.execute(SignInNonce.__table__.update().where(SignInNonce.nonce == fields["nonce"]).values(expires_at=1))
    engine.dispose()
    answer = _signin(c, researcher, fields["message"])
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "siwe_nonce"


def test_https_public_url_sets_a_secure_cookie_and_host_header_is_ignored(room):
    import dataclasses

    cfg = dataclasses.replace(
        room.cfg, dataroom=dataclasses.replace(room.cfg.dataroom, public_url="https://data.city.example")
    )
    from fastapi.testclient import TestClient

    from cityledger.api.app import create_app

    c = TestClient(
        create_app(cfg, db_url=room.db_url, network="devnet", data_dir=cfg.data_dir), base_url="https://evil.example"
    )
    researcher = room.chain.accounts[4]
    fields = _fields(c, researcher)
    assert fields["domain"] == "data.city.example"  # from the configuration, not the Host header
    answer = _signin(c, researcher, fields["message"])
    assert "Secure" in answer.headers["set-cookie"]


def test_contract_wallet_signs_in_by_erc1271(room):
    from pathlib import Path

    from vyper import compile_code

    from cityledger.chain.tx import transact

    w3, owner = room.chain.w3, room.chain.accounts[7]
    source = (Path(__file__).resolve().parents[1] / "contracts" / "MockWallet.vy").read_text()
    out = compile_code(source, output_formats=["abi", "bytecode"])
    factory = w3.eth.contract(abi=out["abi"], bytecode=out["bytecode"])
    receipt = transact(w3, owner, factory.constructor(owner.address))
    wallet = w3.eth.contract(address=receipt["contractAddress"], abi=out["abi"])

    class WalletAccount:  # the wallet's address; its owner's key signs the EIP-191 hash
        address = wallet.address

    c = room.client()
    fields = _fields(c, WalletAccount)
    from eth_account.messages import _hash_eip191_message, encode_defunct

    digest = _hash_eip191_message(encode_defunct(text=fields["message"]))
    sig = owner.unsafe_sign_hash(digest).signature
    answer = _signin(c, WalletAccount, fields["message"], "0x" + bytes(sig).hex())
    assert answer.status_code == 200, answer.text
    assert answer.json()["address"] == wallet.address.lower()
    # Another key's signature: the wallet says no.
    fields = _fields(c, WalletAccount)
    digest = _hash_eip191_message(encode_defunct(text=fields["message"]))
    bad = room.chain.accounts[8].unsafe_sign_hash(digest).signature
    refused = _signin(c, WalletAccount, fields["message"], "0x" + bytes(bad).hex())
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "siwe_signature"


def test_nonce_and_message_times_are_iso_utc(room):
    fields = room.client().post("/api/auth/nonce").json()
    issued = datetime.fromisoformat(fields["issued_at"].replace("Z", "+00:00"))
    assert abs(issued.timestamp() - datetime.now(UTC).timestamp()) < 60 and fields["message"] is None
