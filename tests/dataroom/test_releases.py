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
from cityledger.dataroom import delivery
from cityledger.dataroom.models import Delivery, DownloadLink, PendingRelease, RoomRelease
from cityledger.dataroom.obligations import follow_once
from cityledger.dataroom.room import CSRF_HEADER, OPERATOR_ACCOUNT
from cityledger.fingerprint.consent_tree import verify_consent_proof
from cityledger.release import service

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


class Crash(Exception):
    """The API process dying at a chosen point (the test client re-raises it)."""


def _pending(room) -> list[dict]:
    engine = create_engine(room.db_url)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(PendingRelease.__table__)).mappings()]
    engine.dispose()
    return rows


def _room_release(room, release_id: int):
    engine = create_engine(room.db_url)
    with engine.connect() as conn:
        row = conn.execute(select(RoomRelease.__table__).where(RoomRelease.release_id == release_id)).first()
    engine.dispose()
    return row


def test_a_release_logged_just_before_a_crash_is_kept_and_served_when_its_grantee_asks(room, personal, monkeypatch):
    access_id = _grant(room, personal)
    _ready(room)
    researcher = room.client()
    sign_in(researcher, room.chain.accounts[4])

    def crash(*args, **kwargs):
        raise Crash("the API died after the log was mined, before the release was kept")

    with monkeypatch.context() as m:
        m.setattr(delivery, "_finish", crash)
        with pytest.raises(Crash):
            researcher.post(f"/api/access/{access_id}/releases", json={})
    # Left behind: the pending row (with the signed transaction's hash) and its file in the spool.
    [pending] = _pending(room)
    assert pending["access_id"] == access_id and pending["grantee"] == room.chain.accounts[4].address.lower()
    spool = room.cfg.data_dir / pending["spool"]
    assert spool.is_file() and "0x" + hashlib.sha256(spool.read_bytes()).hexdigest() == pending["sha256"]
    receipt = room.chain.w3.eth.get_transaction_receipt(pending["tx_hash"])
    assert receipt["status"] == 1  # the log was mined: the release exists on chain

    # The grantee finds it in the index and asks for a link: the data room keeps it now.
    _ready(room)
    mine = researcher.get("/api/releases", params={"grantee": room.chain.accounts[4].address}).json()["items"]
    logged = next(r for r in mine if r["access_id"] == access_id)
    assert logged["tx_hash"] == pending["tx_hash"] and logged["release_hash"] == pending["sha256"]
    link = researcher.post(f"/api/releases/{logged['release_id']}/links")
    assert link.status_code == 201, link.text
    got = researcher.get(link.json()["url"])
    assert got.status_code == 200 and "0x" + hashlib.sha256(got.content).hexdigest() == pending["sha256"]
    assert _pending(room) == [] and not spool.exists()
    kept = _room_release(room, logged["release_id"])
    assert kept.tx_hash == pending["tx_hash"] and kept.rows_out == 2 and kept.access_id == access_id


def test_a_release_whose_log_was_signed_but_never_sent_is_dropped_once_its_nonce_is_used(room, personal, monkeypatch):
    access_id = _grant(room, personal)
    _ready(room)
    researcher = room.client()
    sign_in(researcher, room.chain.accounts[4])
    registry = room.chain.contract("AccessRegistry")
    real_log = service.log_on_chain

    def dies_before_sending(w3, contract, account, prepared, on_signed=None):
        def recorded_then_crash(tx_hash, nonce):
            on_signed(tx_hash, nonce)
            raise Crash("the API died between signing and sending")

        return real_log(w3, contract, account, prepared, on_signed=recorded_then_crash)

    releases_before = len(registry.events.ReleaseLogged().get_logs(from_block=0))
    with monkeypatch.context() as m:
        m.setattr(delivery.service, "log_on_chain", dies_before_sending)
        with pytest.raises(Crash):
            researcher.post(f"/api/access/{access_id}/releases", json={})
    [pending] = _pending(room)
    spool = room.cfg.data_dir / pending["spool"]
    assert spool.is_file()
    assert len(registry.events.ReleaseLogged().get_logs(from_block=0)) == releases_before  # nothing was sent

    # The obligation loop's pass settles pending releases: unknown and its nonce free, it waits...
    w3, operator = room.chain.w3, room.chain.accounts[OPERATOR_ACCOUNT]
    deployment = room.chain.deployment
    engine = create_engine(room.db_url)
    try:
        first = follow_once(engine, w3, deployment, operator, room.cfg.data_dir, room.cfg)
        assert first.pending == {"made": 0, "dropped": 0, "waiting": 1}
        assert len(_pending(room)) == 1 and spool.is_file()
        # ...and once another transaction of the operator took that nonce, it can never be mined: dropped.
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": operator.address, "to": operator.address, "value": 0})
        )
        assert w3.eth.get_transaction_count(operator.address) > pending["nonce"]
        second = follow_once(engine, w3, deployment, operator, room.cfg.data_dir, room.cfg)
        assert second.pending == {"made": 0, "dropped": 1, "waiting": 0}
    finally:
        engine.dispose()
    assert _pending(room) == [] and not spool.exists()
    # A file left in the spool without its row (a death between moving it there and recording it) is
    # swept by the next release, made and logged as usual.
    orphan = room.cfg.data_dir / delivery.PENDING_DIR / ("0x" + "ab" * 32 + ".csv")
    orphan.write_text("subject\n")
    made = researcher.post(f"/api/access/{access_id}/releases", json={})
    assert made.status_code == 201, made.text
    assert not orphan.exists()
    assert len(registry.events.ReleaseLogged().get_logs(from_block=0)) == releases_before + 1


def test_a_log_that_reverts_when_mined_leaves_no_pending_release_nor_file(room, personal, monkeypatch):
    access_id = _grant(room, personal)
    _ready(room)
    researcher = room.client()
    sign_in(researcher, room.chain.accounts[4])
    real_log = service.log_on_chain
    seen = []

    def access_ends_after_signing(w3, contract, account, prepared, on_signed=None):
        def recorded_then_ended(tx_hash, nonce):
            on_signed(tx_hash, nonce)
            seen.append(_pending(room))
            # The publisher ends the access after the data room signed (gas already estimated):
            # log_release is mined and reverts.
            transact(w3, room.chain.accounts[1], contract.functions.end_access(prepared.access_id))

        return real_log(w3, contract, account, prepared, on_signed=recorded_then_ended)

    with monkeypatch.context() as m:
        m.setattr(delivery.service, "log_on_chain", access_ends_after_signing)
        answer = researcher.post(f"/api/access/{access_id}/releases", json={})
    assert answer.status_code >= 400 and "access" in answer.text
    [[pending]] = seen  # it was recorded before the send...
    assert room.chain.w3.eth.get_transaction_receipt(pending["tx_hash"])["status"] == 0
    assert _pending(room) == []  # ...and dropped with its file once the revert was known
    assert not (room.cfg.data_dir / pending["spool"]).exists()
