"""Revocation follows the data: after a release, a subject who revokes, or files an erasure request,
gets a deletion obligation opened on chain by the data room's loop (driven by the index, idempotent,
safe when the index lags), the recipient confirms, and the citizen's "who used my data" shows it."""

from __future__ import annotations

import hashlib

from cityledger import codes
from cityledger.chain.actions import confirm_deletions
from cityledger.chain.tx import transact
from cityledger.dataroom.obligations import follow_once
from cityledger.dataroom.room import OPERATOR_ACCOUNT
from cityledger.indexer.store import make_engine

from .conftest import sign_in
from .test_releases import SCI, _grant, _ready, personal  # noqa: F401


def _pass(room):
    engine = make_engine(room.db_url)
    try:
        return follow_once(
            engine,
            room.chain.w3,
            room.chain.deployment,
            room.chain.accounts[OPERATOR_ACCOUNT],
            room.cfg.data_dir,
            room.cfg,
        )
    finally:
        engine.dispose()


def test_revocation_and_erasure_open_obligations_the_recipient_confirms(room, personal):  # noqa: F811
    w3, acc = room.chain.w3, room.chain.accounts
    access_id = _grant(room, personal)
    _ready(room)
    c = room.client()
    sign_in(c, acc[4])
    rel = c.post(f"/api/access/{access_id}/releases", json={}).json()
    _ready(room)
    assert _pass(room).opened == []  # nobody revoked: nothing to follow

    # Citizen 6 revokes the consent the release relied on; citizen 7 asks the publisher for erasure.
    scope = personal.to_bytes(32, "big")
    transact(w3, acc[6], room.chain.contract("ConsentRegistry").functions.revoke(SCI, 1, scope, codes.ANY_RESEARCHER))
    publisher_target = bytes.fromhex(acc[1].address[2:]).rjust(32, b"\0")
    rights = room.chain.contract("RightsRegistry").functions
    transact(
        w3,
        acc[7],
        rights.file_request(codes.RIGHTS_KINDS["erasure"], 1, publisher_target, hashlib.sha256(b"x").digest()),
    )
    _ready(room)
    first = _pass(room)
    opened = {o["subject"].lower(): o for o in first.opened if o["release_id"] == rel["release_id"]}
    assert set(opened) == {acc[6].address.lower(), acc[7].address.lower()}, first
    assert opened[acc[6].address.lower()]["reason"] == "the consent no longer covers the use"
    assert opened[acc[7].address.lower()]["reason"].startswith("erasure request")
    assert all(o["recipient"].lower() == acc[4].address.lower() for o in opened.values())

    # The index has not seen them yet: a second pass reads the chain and sends nothing twice.
    nonce = w3.eth.get_transaction_count(acc[OPERATOR_ACCOUNT].address)
    again = _pass(room)
    assert again.opened == [] and again.already >= 2
    assert w3.eth.get_transaction_count(acc[OPERATOR_ACCOUNT].address) == nonce
    _ready(room)
    assert _pass(room).already == 0  # now the index has them: not even due

    # The recipient confirms deletion of citizen 6's rows; the citizen sees it.
    ob = opened[acc[6].address.lower()]["obligation_id"]
    public = room.client().get("/api/obligations", params={"recipient": acc[4].address}).json()["items"]
    assert any(o["obligation_id"] == ob and o["status"] == "open" and not o["overdue"] for o in public)
    confirm_deletions(w3, room.chain.deployment, acc[4], [ob], b"deleted rows of citizen 6\n", room.cfg)
    _ready(room)
    used = room.client().get(f"/api/citizens/{acc[6].address.lower()}/used").json()["items"]
    mine = next(u for u in used if u["release_id"] == rel["release_id"])
    assert (
        mine["deletion"]["status"] == "confirmed"
        and mine["deletion"]["confirmed_at"] >= mine["deletion"]["requested_at"]
    )
    assert mine["deletion"]["obligation_id"] == ob
    other = room.client().get(f"/api/citizens/{acc[7].address.lower()}/used").json()["items"]
    assert next(u for u in other if u["release_id"] == rel["release_id"])["deletion"]["status"] == "open"
