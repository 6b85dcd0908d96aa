"""API limits, from the OpenAPI schema: every list route paginated with a hard page-size cap,
CORS only for the page's origin on every route, and the relayer's abuse limits.

(tests/api/test_fuzz_schema.py, the API engineer's, runs schemathesis over the whole schema.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from cityledger import codes
from cityledger.api.app import create_app
from cityledger.fingerprint.consent_tree import ConsentTree
from cityledger.indexer.models import Checkpoint
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch
from cityledger.query.validate import MAX_PAGE_SIZE
from cityledger.release.snapshots import write_snapshot
from cityledger.signing import grant_message, sign

N = MAX_PAGE_SIZE + 30  # more rows than one page of every list
PAGE_ORIGIN = "http://127.0.0.1:8000"
SCI = "0x" + codes.purpose_hash("ScientificResearch").hex()
PUB, AUD, RES, CIT = ("0x" + format(n, "040x") for n in (0xA1, 0xC3, 0xD4, 0x1001))


def h(n: int, label: str = "") -> str:
    return "0x" + format(abs(hash((label, n))) % (1 << 255) + 1, "064x")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """N rows in every list: one lineage of N versions, N attestations, consents, access, releases, rights."""
    folder = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{folder / 'index.db'}"
    migrate(url)
    batch, block = Batch(), [0]
    # One consent snapshot holding the citizen, shared by every release: N entries in the citizen's "used" list.
    root = write_snapshot(folder, ConsentTree.build([CIT]), {"snapshot_block": 1}).stem

    def ev(name, **args):
        block[0] += 1
        batch.add(reduce(name, args, Ctx(block[0], 0, h(block[0], "tx"), 1_700_000_000 + 12 * block[0])))

    ev("RoleGranted", account=PUB, role=1, kind=1, granted_by=PUB)
    ev("RoleGranted", account=AUD, role=2, kind=0, granted_by=PUB)
    ev("RoleGranted", account=RES, role=4, kind=0, granted_by=PUB)
    for i in range(1, N + 1):
        ev("DatasetRegistered", dataset_id=i, publisher=PUB, content_hash=h(i, "c"), metadata_hash=h(i, "m"),
           metadata_uri=f"ipfs://meta/{i}", domain=1, personal_data=False, version=i, supersedes=i - 1)  # fmt: skip
    for i in range(1, N + 1):
        ev("AttestationAdded", attestation_id=i, dataset_id=N, auditor=AUD, kind=1, report_hash=h(i, "r"))
        ev("ConsentGranted", key=h(i, "k"), citizen=CIT, purpose=SCI, scope_kind=3, scope_id="0x" + format(1, "064x"),
           grantee="0x" + format(i, "040x"), expiry=2_000_000_000, nonce=1, submitted_by=CIT)  # fmt: skip
        ev("AccessRequested", access_id=i, dataset_id=N, requester=RES, purpose=SCI, terms_hash=h(i, "t"))
        ev("AccessGranted", access_id=i, dataset_id=N, grantee=RES, purpose=SCI, expiry=2_000_000_000)
        ev("ReleaseLogged", release_id=i, access_id=i, grantee=RES, dataset_id=N, purpose=SCI, subject_count=0,
           consent_root=root, snapshot_block=block[0], release_hash=h(i, "rel"))  # fmt: skip
        ev("RightsRequestFiled", request_id=i, citizen=CIT, publisher=PUB, kind=1, target_kind=1,
           target="0x" + PUB[2:].rjust(64, "0"), details_hash=h(i, "d"), deadline=2_000_000_000)  # fmt: skip
    engine = make_engine(url)
    with engine.begin() as conn:
        batch.flush(conn)
        conn.execute(insert(Checkpoint), [{
            "id": 1, "chain_id": 31337, "block_number": block[0], "block_hash": h(block[0], "b"), "start_block": 1,
            "head_block": block[0], "finalized_block": block[0], "confirmations": 2, "reorgs": 0,
            **{c: "0x" + format(i + 1, "040x") for i, c in enumerate(
                ("roles_address", "datasets_address", "consents_address", "access_address", "rights_address"))},
        }])  # fmt: skip
    engine.dispose()
    return url, folder


@pytest.fixture(scope="module")
def client(store):
    url, folder = store
    from cityledger.config import load_config

    app = create_app(load_config(), db_url=url, data_dir=folder, cors_origins=[PAGE_ORIGIN], rpc_timeout=0.2)
    return TestClient(app, raise_server_exceptions=False)


def concrete(path: str) -> str:
    return path.replace("{ref}", str(N)).replace("{address}", CIT).replace("{content_hash}", h(1, "c"))


def list_routes(client) -> tuple[list[str], list[str]]:
    """(paged GET routes, GET routes answering a bare JSON array) from the OpenAPI schema."""
    paged, arrays = [], []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        op = ops.get("get")
        if not op:
            continue
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        params = {p["name"] for p in op.get("parameters", [])}
        if "page_size" in params:
            paged.append(path)
        elif schema.get("type") == "array":
            arrays.append(path)
    return paged, arrays


def test_every_paged_route_caps_the_page_size(client):
    paged, _ = list_routes(client)
    assert len(paged) >= 6, paged
    for path in paged:
        url = concrete(path)
        for bad in (
            {"page_size": MAX_PAGE_SIZE + 1},
            {"page_size": 0},
            {"page_size": 10**9},
            {"page": 0},
            {"page_size": "x"},
        ):
            r = client.get(url, params=bad)
            assert 400 <= r.status_code < 500 and "error" in r.json(), (path, bad, r.status_code, r.text[:200])
        full = client.get(url, params={"page_size": MAX_PAGE_SIZE}).json()
        assert len(full["items"]) == MAX_PAGE_SIZE and full["total"] >= N, (path, full["total"])
        second = client.get(url, params={"page_size": MAX_PAGE_SIZE, "page": 2}).json()
        assert len(second["items"]) == full["total"] - MAX_PAGE_SIZE, path
        default = client.get(url).json()
        assert len(default["items"]) == default["page_size"] <= MAX_PAGE_SIZE, path


# Bare-array routes whose length is bounded by construction, not by the data.
BOUNDED_BY_CODE = {
    "/api/purposes": len(codes.PURPOSES),
    "/api/stats/domains": len(codes.DOMAINS),
}


def test_bounded_array_routes(client):
    _, arrays = list_routes(client)
    for path, bound in BOUNDED_BY_CODE.items():
        assert path in arrays
        assert len(client.get(path).json()) <= bound
    # The timeline: one row per day, at most `days` (capped at 3650) rows.
    assert client.get("/api/stats/consent-timeline", params={"days": 3651}).status_code == 422


def test_every_other_array_route_is_capped(client):
    _, arrays = list_routes(client)
    unbounded = [p for p in arrays if p not in BOUNDED_BY_CODE and p != "/api/stats/consent-timeline"]
    too_long = {p: len(client.get(concrete(p)).json()) for p in unbounded}
    assert all(n <= MAX_PAGE_SIZE for n in too_long.values()), f"uncapped list routes: {too_long}"


def test_cors_only_the_page_origin_on_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, ops in paths.items():
        url = concrete(path)
        for method in ops:
            pre = client.options(
                url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": method.upper()}
            )
            assert "access-control-allow-origin" not in pre.headers, (path, method)
            good = client.options(url, headers={"Origin": PAGE_ORIGIN, "Access-Control-Request-Method": method.upper()})
            assert good.headers.get("access-control-allow-origin") == PAGE_ORIGIN, (path, method, good.status_code)
            if method == "get":
                r = client.get(url, headers={"Origin": "https://evil.example"})
                assert "access-control-allow-origin" not in r.headers and r.status_code < 500, (path, r.status_code)
                assert (
                    client.get(url, headers={"Origin": PAGE_ORIGIN}).headers.get("access-control-allow-origin")
                    == PAGE_ORIGIN
                )


# ------------------------------------------------------------------ relayer abuse


def _signed_body(devnet, citizen, nonce: int, *, signer=None) -> dict:
    consent = devnet.contract("ConsentRegistry")
    now = devnet.w3.eth.get_block("latest")["timestamp"]
    health = "0x" + format(1, "064x")
    fields = {"citizen": citizen.address, "purpose": SCI, "scope_kind": 3, "scope_id": health,
              "grantee": codes.ANY_RESEARCHER, "expiry": now + 86400 * 365, "deadline": now + 3600}  # fmt: skip
    msg = grant_message(
        citizen.address, SCI, 3, health, codes.ANY_RESEARCHER, fields["expiry"], nonce, fields["deadline"]
    )
    return {**fields, "signature": "0x" + sign(signer or citizen, devnet.w3.eth.chain_id, consent.address, msg).hex()}


def test_relayer_spends_nothing_on_bad_or_replayed_signatures(devnet, tmp_path):
    app = create_app(
        devnet.cfg, db_url=f"sqlite:///{tmp_path / 'i.db'}", data_dir=tmp_path, relay_per_minute=600, relay_burst=50
    )
    c = TestClient(app, raise_server_exceptions=False)
    citizen, other = devnet.accounts[6], devnet.accounts[7]
    relayer = devnet.accounts[5].address
    sent = devnet.w3.eth.get_transaction_count(relayer)
    bad = [_signed_body(devnet, citizen, 0, signer=other), _signed_body(devnet, citizen, 5),
           {**_signed_body(devnet, citizen, 0), "signature": "0x" + "00" * 65}]  # fmt: skip
    for body in bad:
        r = c.post("/api/relay/grant", json=body)
        assert 400 <= r.status_code < 500 and r.status_code != 429, r.text
    assert devnet.w3.eth.get_transaction_count(relayer) == sent
    good = _signed_body(devnet, citizen, 0)
    ok = c.post("/api/relay/grant", json=good)
    assert ok.status_code == 200, ok.text
    devnet.w3.eth.wait_for_transaction_receipt(ok.json()["tx_hash"], timeout=30)
    assert devnet.w3.eth.get_transaction_count(relayer) == sent + 1
    replay = c.post("/api/relay/grant", json=good)
    assert 400 <= replay.status_code < 500, replay.text
    assert devnet.w3.eth.get_transaction_count(relayer, "pending") == sent + 1


def test_junk_for_a_citizen_does_not_lock_the_citizen_out(devnet, tmp_path):
    app = create_app(
        devnet.cfg, db_url=f"sqlite:///{tmp_path / 'i.db'}", data_dir=tmp_path, relay_per_minute=2, relay_burst=2
    )
    c = TestClient(app, raise_server_exceptions=False)
    victim = devnet.accounts[8]
    junk = {**_signed_body(devnet, victim, 0), "signature": "0x" + "11" * 65}
    codes_seen = [c.post("/api/relay/grant", json=junk).status_code for _ in range(5)]
    assert 429 in codes_seen  # the limiter works for the sender of junk...
    genuine = c.post("/api/relay/grant", json=_signed_body(devnet, victim, 0))
    assert genuine.status_code == 200, f"the victim's own valid grant: {genuine.status_code} {genuine.text}"
