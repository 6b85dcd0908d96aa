"""Personal datasets reach only their grantee: a consent-filtered release made and logged by the data
room's operator, served through a link bound to the session, each serving recorded; a non-grantee,
another session, an expired link, an ended or expired access are refused with nothing served."""

from __future__ import annotations

import base64
import hashlib
import os
import time

import pytest
from sqlalchemy import create_engine, func, select

from cityledger import codes
from cityledger.chain.tx import transact
from cityledger.dataroom.models import Delivery, DownloadLink
from cityledger.dataroom.room import CSRF_HEADER, OPERATOR_ACCOUNT
from cityledger.fingerprint.consent_tree import verify_consent_proof

from .conftest import sign_in
from .test_download import _publish

SCI = codes.purpose_hash("ScientificResearch")


def _deliveries(room) -> int:
    engine = create_engine(room.db_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(Delivery.__table__)).scalar_one()
    engine.dispose()
    return n


def _grant(room, dataset_id: int, expiry: int | None = None) -> int:
    w3, acc = room.chain.w3, room.chain.accounts
    access = room.chain.contract("AccessRegistry")
    transact(w3, acc[4], access.functions.request_access(dataset_id, SCI, hashlib.sha256(b"terms").digest()))
    access_id = access.functions.access_count().call()
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    transact(w3, acc[1], access.functions.grant_access(access_id, expiry or far))
    return access_id


@pytest.fixture(scope="module")
def personal(room, tmp_path_factory):
    """A personal dataset of citizens 6-9 and a stranger; 6 and 7 consent; the publisher names the data
    room's operator."""
    w3, acc = room.chain.w3, room.chain.accounts
    citizens = [a.address.lower() for a in acc[6:10]] + ["0x" + "ab" * 20]
    # Unique bytes per module (the session's chain is shared): a re-registration would be "already registered".
    salt = int.from_bytes(os.urandom(3), "big")
    rows = "".join(f"{c},{i % 3},{salt + i}\n" for i, c in enumerate(citizens))
    dataset_id = _publish(
        room, tmp_path_factory.mktemp("p"), "visits.csv", ("subject,zone,visits\n" + rows).encode(), personal=True
    )
    consent = room.chain.contract("ConsentRegistry")
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    for citizen in acc[6:8]:
        transact(
            w3, citizen, consent.functions.grant(SCI, 1, dataset_id.to_bytes(32, "big"), codes.ANY_RESEARCHER, far)
        )
    access = room.chain.contract("AccessRegistry")
    transact(w3, acc[1], access.functions.set_release_operator(acc[OPERATOR_ACCOUNT].address, True))
    return dataset_id


def _ready(room):
    room.mine()
    room.index()


def test_grantee_receives_the_consent_filtered_release_through_its_own_link(room, personal):
    access_id = _grant(room, personal)
    _ready(room)
    researcher, other_researcher = room.client(), room.client()
    sign_in(researcher, room.chain.accounts[4])
    made = researcher.post(f"/api/access/{access_id}/releases", json={})
    assert made.status_code == 201, made.text
    rel = made.json()
    assert rel["subject_count"] == 2 and rel["rows_in"] == 5 and rel["rows_out"] == 2 and rel["k_anonymity"] == 0
    assert rel["logged_by"] == room.chain.accounts[OPERATOR_ACCOUNT].address.lower()
    on_chain = room.chain.contract("AccessRegistry").functions.release(rel["release_id"]).call()
    assert on_chain[0] == access_id and on_chain[2] == 2
    assert rel["link"]["expires_at"] <= time.time() + 301

    got = researcher.get(rel["link"]["url"])
    assert got.status_code == 200, got.text
    body = got.content.decode()
    assert body.startswith("subject,zone,visits\n") and len(body.splitlines()) == 3
    for a in room.chain.accounts[6:8]:
        assert a.address.lower() in body
    for a in room.chain.accounts[8:10]:
        assert a.address.lower() not in body
    assert "0x" + "ab" * 20 not in body  # the stranger never consented
    digest = hashlib.sha256(got.content).digest()
    assert "0x" + digest.hex() == rel["release_hash"]
    assert got.headers["content-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert got.headers["cache-control"] == "no-store"
    assert f'filename="release-{rel["release_id"]}.csv"' in got.headers["content-disposition"]

    # The delivery is recorded, listed, and shown on the citizen's "who used my data".
    listed = room.client().get("/api/deliveries", params={"release_id": rel["release_id"]}).json()
    assert listed["total"] == 1
    d = listed["items"][0]
    assert d["recipient"] == room.chain.accounts[4].address.lower() and d["bytes"] == len(got.content)
    assert d["sha256"] == rel["release_hash"] and d["access_id"] == access_id
    _ready(room)
    citizen = room.chain.accounts[6].address.lower()
    used = room.client().get(f"/api/citizens/{citizen}/used").json()["items"]
    mine = next(u for u in used if u["release_id"] == rel["release_id"])
    assert [x["delivery_id"] for x in mine["deliveries"]] == [d["delivery_id"]]
    assert verify_consent_proof(mine["consent_root"], citizen, mine["proof"])

    # The same researcher's other session cannot use this session's link.
    sign_in(other_researcher, room.chain.accounts[4])
    before = _deliveries(room)
    stolen = other_researcher.get(rel["link"]["url"])
    assert stolen.status_code == 403 and stolen.json()["error"]["code"] == "forbidden"
    # Nor can anyone without a session, nor a made-up token.
    assert room.client().get(rel["link"]["url"]).json()["error"]["code"] == "not_signed_in"
    assert researcher.get(f"/api/releases/{rel['release_id']}/file", params={"link": "x" * 43}).status_code == 404
    # A link is for its release only.
    assert researcher.get(rel["link"]["url"].replace(f"/{rel['release_id']}/", "/999/")).status_code in (403, 404)
    assert _deliveries(room) == before

    # A new link for the other session works for it.
    link = other_researcher.post(f"/api/releases/{rel['release_id']}/links")
    assert link.status_code == 201
    assert other_researcher.get(link.json()["url"]).content == got.content

    # An expired link: 410, nothing served.
    engine = create_engine(room.db_url)
    with engine.begin() as conn:
        conn.execute(DownloadLink.__table__.update().values(expires_at=int(time.time()) - 1))
    engine.dispose()
    before = _deliveries(room)
    expired = researcher.get(rel["link"]["url"])
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "gone"
    assert _deliveries(room) == before


def test_a_non_grantee_gets_no_release(room, personal):
    access_id = _grant(room, personal)
    _ready(room)
    count = room.chain.contract("AccessRegistry").functions.release_count().call()
    for who in (1, 2, 9):  # the publisher, another publisher, a citizen
        c = room.client()
        sign_in(c, room.chain.accounts[who])
        r = c.post(f"/api/access/{access_id}/releases", json={})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    # Signed in, but no CSRF token; and not signed in at all.
    c = room.client()
    sign_in(c, room.chain.accounts[4])
    c.headers.pop(CSRF_HEADER)
    assert c.post(f"/api/access/{access_id}/releases", json={}).json()["error"]["code"] == "csrf"
    assert room.client().post(f"/api/access/{access_id}/releases", json={}).status_code == 401
    assert room.chain.contract("AccessRegistry").functions.release_count().call() == count


def test_an_access_ended_after_the_link_serves_nothing(room, personal):
    access_id = _grant(room, personal)
    _ready(room)
    c = room.client()
    sign_in(c, room.chain.accounts[4])
    rel = c.post(f"/api/access/{access_id}/releases", json={}).json()
    # The publisher ends the access; the index has not seen it yet, the chain has.
    transact(
        room.chain.w3, room.chain.accounts[1], room.chain.contract("AccessRegistry").functions.end_access(access_id)
    )
    before = _deliveries(room)
    r = c.get(rel["link"]["url"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "access_not_live"
    new = c.post(f"/api/releases/{rel['release_id']}/links")
    assert new.status_code == 403 and new.json()["error"]["code"] == "access_not_live"
    _ready(room)
    again = c.post(f"/api/access/{access_id}/releases", json={})
    assert again.status_code == 403 and again.json()["error"]["code"] == "access_not_live"
    assert _deliveries(room) == before


def test_a_grantee_whose_access_expires_between_request_and_download(room, personal):
    w3 = room.chain.w3
    soon = w3.eth.get_block("latest")["timestamp"] + 3600
    access_id = _grant(room, personal, expiry=soon)
    _ready(room)
    c = room.client()
    sign_in(c, room.chain.accounts[4])
    rel = c.post(f"/api/access/{access_id}/releases", json={})
    assert rel.status_code == 201, rel.text
    snapshot = room.chain.snapshot()
    try:
        w3.provider.make_request("evm_increaseTime", [7200])
        w3.provider.make_request("evm_mine", [])
        before = _deliveries(room)
        r = c.get(rel.json()["link"]["url"])
        assert r.status_code == 403 and r.json()["error"]["code"] == "access_not_live"
        assert _deliveries(room) == before
    finally:
        room.chain.revert(snapshot)
