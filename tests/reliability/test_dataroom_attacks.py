# ruff: noqa: F811 (the fixtures of tests/dataroom are imported by name, and tests take them as arguments)
"""Attacks on the data room (issue 18, "Bad input and attacks"), on a real chain and the real
indexer: each must be refused with one clear error and nothing served, stored or sent (sessions,
deliveries, store files, the operator's nonce and the chain's release count are compared before and
after). tests/dataroom/ has the finer cases; RELIABILITY.md lists these."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from dataroom.conftest import room, sign_in, sign_message  # noqa: F401 (fixtures of tests/dataroom)
from dataroom.test_download import _publish
from dataroom.test_releases import SCI, _grant, _ready, personal  # noqa: F401
from sqlalchemy import create_engine, func, select

from cityledger.dataroom import sessions as ses
from cityledger.dataroom.models import Delivery, SignInSession
from cityledger.dataroom.room import COOKIE, CSRF_HEADER, OPERATOR_ACCOUNT


def _state(room) -> tuple:
    """What an attack must not change: sessions, deliveries, files in the store, sent transactions."""
    engine = create_engine(room.db_url)
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(select(func.count()).select_from(t.__table__)).scalar_one() for t in (SignInSession, Delivery)
        )
    engine.dispose()
    files = sorted(str(p) for p in Path(room.cfg.data_dir, "files").rglob("*") if p.is_file())
    operator = room.chain.accounts[OPERATOR_ACCOUNT].address
    releases = room.chain.contract("AccessRegistry").functions.release_count().call()
    return counts, files, room.chain.w3.eth.get_transaction_count(operator), releases


def _refused(answer, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()["error"]
    assert body["code"] == code and len(body["message"]) > 20  # one clear sentence
    assert "set-cookie" not in answer.headers or f'{COOKIE}=""' in answer.headers["set-cookie"]


@pytest.mark.parametrize(
    ("attack", "code"),
    [
        ("expired", "siwe_expired"),
        ("forged", "siwe_signature"),
        ("replayed", "siwe_nonce"),
        ("other-domain", "siwe_domain"),
        ("other-uri", "siwe_uri"),
        ("other-chain", "siwe_chain"),
    ],
)
def test_bad_sign_in_messages(room, attack, code):
    c = room.client()
    researcher, mallory = room.chain.accounts[4], room.chain.accounts[9]
    fields = c.post("/api/auth/nonce", json={"address": researcher.address}).json()
    over = {
        "expired": {"expiration_time": "2021-01-01T00:00:00Z"},
        "other-domain": {"domain": "data.evil.example"},
        "other-uri": {"uri": "https://evil.example/"},
        "other-chain": {"chain_id": 11155111},
    }.get(attack, {})
    message = ses.message_text({**fields, **over}, researcher.address)
    signature = sign_message(mallory if attack == "forged" else researcher, message)
    if attack == "replayed":
        c.post("/api/auth/signin", json={"message": message, "signature": signature})
    before = _state(room)
    _refused(room.client().post("/api/auth/signin", json={"message": message, "signature": signature}), 401, code)
    assert _state(room) == before


def test_a_session_of_another_address_does_not_act_for_it(room, personal):
    access_id = _grant(room, personal)
    _ready(room)
    grantee, other = room.client(), room.client()
    sign_in(grantee, room.chain.accounts[4])
    link = grantee.post(f"/api/access/{access_id}/releases", json={}).json()["link"]["url"]
    sign_in(other, room.chain.accounts[2])
    before = _state(room)
    # The other address's cookie with the grantee's CSRF token, and the grantee's link.
    other.headers[CSRF_HEADER] = grantee.headers[CSRF_HEADER]
    _refused(other.post(f"/api/access/{access_id}/releases", json={}), 403, "csrf")
    _refused(other.get(link), 403, "forbidden")
    # A cookie that is an address, or a session id's hash as stored: nobody.
    for forged in (room.chain.accounts[4].address, ses._hash(grantee.cookies.get(COOKIE))):
        c = room.client()
        c.cookies.set(COOKIE, forged)
        _refused(c.get(link), 401, "not_signed_in")
    assert _state(room) == before


def test_download_link_of_another_session_or_expired(room, personal):
    access_id = _grant(room, personal)
    _ready(room)
    a, b = room.client(), room.client()
    sign_in(a, room.chain.accounts[4])
    sign_in(b, room.chain.accounts[4])  # the same grantee, another session
    made = a.post(f"/api/access/{access_id}/releases", json={}).json()
    before = _state(room)
    _refused(b.get(made["link"]["url"]), 403, "forbidden")
    future = time.time() + 301
    import cityledger.dataroom.delivery as delivery

    real = delivery.time.time
    delivery.time.time = lambda: future  # the link's 300 s have passed
    try:
        _refused(a.get(made["link"]["url"]), 410, "gone")
    finally:
        delivery.time.time = real
    assert _state(room) == before


def test_access_expiring_between_request_and_download(room, personal):
    w3 = room.chain.w3
    access_id = _grant(room, personal, expiry=w3.eth.get_block("latest")["timestamp"] + 3600)
    _ready(room)
    c = room.client()
    sign_in(c, room.chain.accounts[4])
    url = c.post(f"/api/access/{access_id}/releases", json={}).json()["link"]["url"]
    snapshot = room.chain.snapshot()
    try:
        w3.provider.make_request("evm_increaseTime", [7200])
        w3.provider.make_request("evm_mine", [])
        before = _state(room)
        _refused(c.get(url), 403, "access_not_live")
        assert _state(room) == before
    finally:
        room.chain.revert(snapshot)


def test_uploads_that_do_not_match_or_are_too_large(room, tmp_path):
    dataset = _publish(room, tmp_path, "pending.csv", b"k,v\n1,2\n", stored=False)
    _ready(room)
    c = room.client()
    sign_in(c, room.chain.accounts[1])
    before = _state(room)
    _refused(c.put(f"/api/datasets/{dataset}/file", content=b"k,v\n1,3\n"), 422, "hash_mismatch")
    big = str(room.cfg.dataroom.max_upload_bytes + 1)
    _refused(
        c.put(f"/api/datasets/{dataset}/file", content=b"x", headers={"Content-Length": big}), 413, "payload_too_large"
    )
    assert _state(room) == before


def test_path_tricks_in_file_names_and_store_keys(room, tmp_path):
    name = 'x"; filename=evil.sh\r\nX-Injected: 1 ..%2f..%2fpasswd.csv'
    try:
        dataset = _publish(room, tmp_path, name, b"a,b\n1,2\n")
    except OSError:  # a file system without such names
        pytest.skip("the file system refuses the name")
    _ready(room)
    c = room.client()
    r = c.get(f"/api/datasets/{dataset}/download")
    assert r.status_code == 200 and "x-injected" not in r.headers
    disposition = r.headers["content-disposition"]
    assert disposition.count('"') == 2 and "/" not in disposition.split("filename=", 1)[1].split(";")[0]
    assert "\r" not in disposition and "\n" not in disposition and 'evil.sh"' not in disposition
    before = _state(room)
    for ref in ("..%2F..%2Fetc%2Fpasswd", "0x" + "0" * 63 + "/", "0x..", "%2e%2e"):
        answer = c.get(f"/api/datasets/{ref}/download")
        assert answer.status_code in (400, 404) and answer.headers["content-type"] == "application/json", ref
    assert c.get("/api/releases/..%2F1/file", params={"link": "x"}).status_code in (404, 422)
    assert _state(room) == before


def test_a_non_grantee_asking_for_a_release(room, personal):
    access_id = _grant(room, personal)
    _ready(room)
    c = room.client()
    sign_in(c, room.chain.accounts[9])  # a citizen, signed in properly
    before = _state(room)
    _refused(c.post(f"/api/access/{access_id}/releases", json={}), 403, "forbidden")
    _refused(c.post("/api/access/99999/releases", json={}), 404, "not_found")
    assert _state(room) == before


def _theirs(room, tmp_path, personal: bool) -> tuple[int, int]:
    """Publisher 1's personal file (stored), and publisher 2's registration of the very same bytes
    (content hashes are public on chain; docs/CONTRACTS.md lets every publisher register any bytes)."""
    import os

    data = b"subject,zone,visits\n" + b"".join(f"0x{os.urandom(20).hex()},{i % 3},{i}\n".encode() for i in range(6))
    victim = _publish(room, tmp_path, "theirs.csv", data, personal=True)
    copy = _publish(room, tmp_path, "mine.csv", data, account=2, personal=personal, stored=False)
    return victim, copy


def test_another_publisher_registering_a_personal_files_bytes_as_open_data_downloads_nothing(room, tmp_path):
    # The data room serves and computes over stored bytes only for the publisher who registered them
    # first (dataroom/owners.py). Before, this open registration downloaded the personal file for anyone.
    victim, as_open = _theirs(room, tmp_path, personal=False)
    _ready(room)
    before = _state(room)
    _refused(room.client().get(f"/api/datasets/{as_open}/download"), 403, "forbidden")
    _refused(room.client().get(f"/api/datasets/{victim}/download"), 403, "personal_data")  # as before
    assert _state(room) == before  # nothing served or stored


def test_another_publisher_registering_a_personal_files_bytes_gets_no_release_nor_count(room, tmp_path):
    # Its own personal registration, its own grant to a researcher, its own release operator: no release
    # of the first publisher's rows, no count of the people in them, no upload over them.
    from cityledger.chain.tx import transact
    from cityledger.dataroom.files import open_store, read_all
    from cityledger.indexer.store import make_engine
    from cityledger.query import queries

    victim, copy = _theirs(room, tmp_path, personal=True)
    w3, acc = room.chain.w3, room.chain.accounts
    access = room.chain.contract("AccessRegistry")
    transact(w3, acc[2], access.functions.set_release_operator(acc[OPERATOR_ACCOUNT].address, True))
    transact(w3, acc[4], access.functions.request_access(copy, SCI, b"\x01" * 32))
    access_id = access.functions.access_count().call()
    transact(w3, acc[2], access.functions.grant_access(access_id, w3.eth.get_block("latest")["timestamp"] + 86400))
    _ready(room)
    engine = make_engine(room.db_url)
    with engine.connect() as c:
        content_hash = queries.dataset_row(c, victim)["content_hash"]
    engine.dispose()
    data = read_all(open_store(room.cfg.data_dir), content_hash)
    before = _state(room)

    researcher = room.client()
    sign_in(researcher, acc[4])
    _refused(researcher.post(f"/api/access/{access_id}/releases", json={}), 403, "forbidden")
    business = room.client()
    sign_in(business, acc[2])
    _refused(business.put(f"/api/datasets/{copy}/file", content=data), 403, "forbidden")
    counts = room.client().get(f"/api/datasets/{copy}/consent-counts").json()
    assert counts["population"] is None and "registered first by another publisher" in counts["no_share_reason"]
    assert _state(room)[1:] == before[1:] and _state(room)[0][1] == before[0][1]  # nothing served, stored or sent
