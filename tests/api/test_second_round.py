"""The routes of the second round's contracts, on the seeded store (conftest.py tells its story):
every registration of a hash, organisations and their names, documents by hash, the audit of
release claims (against a lying publisher), release operators, privacy budgets and private answers,
deletion obligations, and rights statistics with rejected requests apart."""

from __future__ import annotations

import base64
import hashlib

import pytest

from cityledger.datasets.store import MAX_DOCUMENT_BYTES, MetadataStore
from cityledger.indexer.metadata import store_dir
from cityledger.indexer.store import make_engine
from cityledger.query import queries

from .conftest import AU, C1, C2, C3, OP, OTHER, P1, P2, P3, RS, h


def test_verify_lists_every_registration_of_a_hash(client):
    v = client.get(f"/api/verify/{h('bus trips')}").json()
    assert v["state"] == "registered" and v["first_publisher"] == P2
    regs = [(r["dataset_id"], r["publisher"], r["state"]) for r in v["registrations"]]
    assert regs == [(3, P2, "registered"), (5, P3, "registered")]
    assert v["registrations"][0]["publisher_name"] is None  # P2's profile document is not in this store
    single = client.get(f"/api/verify/{h('clinic v1')}").json()
    assert [r["dataset_id"] for r in single["registrations"]] == [1] and single["superseded_by"] == 2
    assert client.get("/api/verify/0x" + "00" * 32).json()["registrations"] == []


def test_organisation_profile_roles_and_names(client, seeded):
    p1 = client.get(f"/api/organisations/{P1}").json()
    assert p1 == {
        "address": P1,
        "name": "Northbridge City Health Office",
        "kind": "agency",
        "website": "https://health.northbridge.example",
        "contact": "data-office@northbridge.example",
        "jurisdiction": "Northbridge, Utopia",
        "roles": ["publisher"],
        "ever_roles": ["publisher"],
        "publisher_kind": "agency",
        "profile_hash": seeded.profiles[P1],
        "profile_uri": "cityledger://metadata/" + seeded.profiles[P1][2:],
        "profile_block": 3,
        "verified": True,
    }
    # A profile on chain whose document this machine does not hold: no name, not verified.
    p2 = client.get(f"/api/organisations/{P2}").json()
    assert p2["profile_hash"] == seeded.profiles[P2] and p2["name"] is None and p2["verified"] is False
    # An organisation without a profile is still one (it holds a role); a citizen is none.
    assert client.get(f"/api/organisations/{RS}").json()["roles"] == ["researcher"]
    body = client.get(f"/api/organisations/{C1}")
    assert body.status_code == 404 and body.json()["error"]["code"] == "not_found"


def test_many_organisations_in_one_call(client):
    res = client.get("/api/organisations", params=[("address", P1), ("address", C1), ("address", AU.upper())])
    assert res.status_code == 400  # an upper-case 0X prefix is not an address
    res = client.get("/api/organisations", params=[("address", P1), ("address", C1), ("address", AU)]).json()
    assert [(o["address"], o["name"]) for o in res["items"]] == [
        (P1, "Northbridge City Health Office"),
        (AU, "Civic Data Audit Cooperative"),
    ]
    too_many = client.get("/api/organisations", params=[("address", P1)] * 101)
    assert too_many.status_code == 400 and "at most 100" in too_many.json()["error"]["message"]
    page = client.get("/api/organisations", params={"page_size": 2}).json()
    assert page["total"] == 5 and len(page["items"]) == 2  # P1, P2, P3, AU, RS: every role holder
    everyone = client.get("/api/organisations", params={"page_size": 10}).json()["items"]
    assert [o["address"] for o in everyone] == sorted([P1, P2, P3, AU, RS])


def test_publisher_name_reads_the_verified_profile(seeded):
    engine = make_engine(seeded.url)
    with engine.connect() as conn:
        assert queries.publisher_name(conn, P1) == "Northbridge City Health Office"
        assert queries.publisher_name(conn, P2) is None  # document not verified here
        assert queries.publisher_name(conn, C1) is None  # citizens have no profile
    engine.dispose()


def test_documents_are_served_by_hash_exactly(client, seeded):
    res = client.get(f"/api/documents/{seeded.profiles[P1]}")
    assert res.status_code == 200 and res.headers["content-type"] == "application/json"
    digest = hashlib.sha256(res.content).digest()
    assert "0x" + digest.hex() == seeded.profiles[P1]
    assert res.headers["content-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert res.headers["etag"] == f'"{digest.hex()}"'
    again = client.get(f"/api/documents/{seeded.profiles[P1]}", headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # A rights answer in Markdown (even one holding HTML) is text/plain, never rendered.
    store = MetadataStore(store_dir(seeded.data_dir))
    answer = b"# Your request\n\n<script>alert(1)</script> We deleted your rows.\n"
    text = client.get(f"/api/documents/0x{store.put_text(answer).hex()}")
    assert text.content == answer and text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["x-content-type-options"] == "nosniff"
    # Absent, malformed, too large or altered: a 404 or 400 in the error format, nothing served.
    assert client.get(f"/api/documents/{seeded.profiles[P2]}").json()["error"]["code"] == "not_found"
    assert client.get("/api/documents/0x1234").json()["error"]["code"] == "bad_request"
    big, _ = store.put_bytes(b"x" * (MAX_DOCUMENT_BYTES + 1), ".txt")
    too_big = client.get(f"/api/documents/0x{big.hex()}")
    assert too_big.status_code == 404 and "larger than" in too_big.json()["error"]["message"]
    altered, _ = store.put_bytes(b"a true answer", ".txt")
    (store.root / f"{altered.hex()}.txt").write_bytes(b"a forged answer")
    assert client.get(f"/api/documents/0x{altered.hex()}").status_code == 404


def test_release_claims_are_audited_against_a_lying_publisher(client, seeded):
    rel = {r["release_id"]: r for r in client.get("/api/releases").json()["items"]}
    assert rel[1]["audit"]["status"] == "verified" and rel[1]["logged_by"] == P1 and rel[1]["k_anonymity"] == 0
    # Release 2 (logged by P1's operator) claims C3, who revoked before its snapshot block.
    lie = rel[2]["audit"]
    assert lie["status"] == "mismatch" and lie["lacking_consent"] == 1 and C3 in lie["detail"]
    assert rel[2]["logged_by"] == OP
    # Release 3 published no snapshot: its claim is the publisher's word only.
    assert rel[3]["audit"]["status"] == "unverifiable" and rel[3]["audit"]["snapshot_hash"] is None
    # The snapshot checked is a document anyone can fetch and check.
    snap = client.get(f"/api/documents/{rel[1]['audit']['snapshot_hash']}")
    assert snap.status_code == 200 and snap.json()["consent_root"] == seeded.release_root
    flagged = client.get("/api/releases", params={"audit": "mismatch"}).json()["items"]
    assert [r["release_id"] for r in flagged] == [2]
    assert client.get("/api/releases", params={"audit": "bogus"}).status_code == 400
    # "Who used my data" shows the flag beside each release.
    used = {u["release_id"]: u["audit"]["status"] for u in client.get(f"/api/citizens/{C1}/used").json()["items"]}
    assert used == {1: "verified", 2: "mismatch"}


def test_release_operators_of_a_publisher(client):
    ops = client.get(f"/api/publishers/{P1}/operators").json()["items"]
    assert [(o["operator"], o["allowed"], o["effective"], o["since_block"]) for o in ops] == [(OP, True, True, 24)]
    every = client.get(f"/api/publishers/{P1}/operators", params={"include_stopped": "true"}).json()["items"]
    assert {(o["operator"], o["allowed"]) for o in every} == {(OP, True), (OTHER, False)}
    assert client.get(f"/api/publishers/{P2}/operators").json()["total"] == 0


def test_privacy_budget_and_private_answers(client):
    b = client.get("/api/access/1/budget").json()
    assert (b["budget"], b["spent"], b["remaining"], b["queries"]) == ("2", "0.5", "1.5", 1)
    assert b["budget_micro"] == 2_000_000 and b["consistent"] is True and b["set"] is True
    answers = client.get("/api/access/1/queries").json()["items"]
    assert [(q["query_id"], q["epsilon_spent"], q["logged_by"]) for q in answers] == [(1, "0.5", OP)]
    # Its consent root is recomputed outright: the consent set {C1, C2} at block 22.
    assert answers[0]["audit"]["status"] == "verified"
    none = client.get("/api/access/2/budget").json()
    assert (none["budget"], none["spent"], none["set"]) == ("0", "0", False)
    assert client.get("/api/access/99/budget").json()["error"]["code"] == "not_found"
    assert client.get("/api/access/1").json()["status"] == "granted"


def test_deletion_obligations(client):
    mine = client.get("/api/obligations", params={"recipient": RS}).json()
    assert mine["total"] == 2
    open_one = client.get("/api/obligations", params={"subject": C1}).json()["items"]
    assert [(o["obligation_id"], o["status"], o["overdue"]) for o in open_one] == [(1, "open", True)]
    overdue = client.get("/api/obligations", params={"overdue": "true"}).json()["items"]
    assert [o["obligation_id"] for o in overdue] == [1]
    late = client.get("/api/obligations", params={"status": "confirmed late"}).json()["items"]
    assert [(o["obligation_id"], o["late"], o["evidence_hash"]) for o in late] == [(2, True, h("gone"))]
    assert client.get("/api/obligations", params={"release_id": 1}).json()["total"] == 2
    assert client.get("/api/obligations", params={"status": "gone"}).status_code == 400
    # The citizen sees it beside the release that included them.
    used = client.get(f"/api/citizens/{C2}/used").json()["items"]
    assert used[0]["deletion"]["status"] == "confirmed late" and used[0]["deletion"]["confirmed_block"] == 37


@pytest.mark.parametrize(
    "publisher, expected",
    [
        (None, {"total": 3, "overdue": 1, "fulfilled": 1, "refused": 0, "rejected": 1, "answered": 2}),
        (P2, {"total": 2, "overdue": 0, "fulfilled": 1, "refused": 0, "rejected": 1, "answered": 2}),
    ],
)
def test_rights_statistics_count_rejected_apart(client, publisher, expected):
    stats = client.get("/api/stats/rights", params={"publisher": publisher} if publisher else {}).json()
    assert {k: stats[k] for k in expected} == expected
    assert client.get("/api/rights", params={"status": "rejected"}).json()["items"][0]["request_id"] == 3
