"""The query routes against the seeded store (see conftest.py for the story)."""

from __future__ import annotations

import pytest

from cityledger.fingerprint.consent_tree import verify_consent_proof

from .conftest import C1, C2, C3, C4, C5, FINALIZED, LAST_BLOCK, P1, P2, RS, SCI, h


def err(resp, status: int, code: str | None = None) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    if code:
        assert body["error"]["code"] == code
    return body["error"]["message"]


def test_openapi_and_docs_are_served(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/datasets", "/api/citizens/{address}/used", "/api/relay/grant", "/api/consents/check"):
        assert path in schema["paths"]
    assert client.get("/docs").status_code == 200


def test_status_reports_index_and_unreachable_node(client):
    st = client.get("/api/status").json()
    assert st["last_indexed_block"] == LAST_BLOCK and st["rpc_reachable"] is False
    assert st["finalized_block"] == FINALIZED and st["lag"] == 2  # head as last seen by the indexer
    assert set(st["contracts"]) == {
        "CityRoles",
        "DatasetRegistry",
        "ConsentRegistry",
        "AccessRegistry",
        "RightsRegistry",
        "DeletionRegistry",
    }


def test_purposes_are_dpv_with_hashes(client):
    sci = next(p for p in client.get("/api/purposes").json() if p["name"] == "ScientificResearch")
    assert sci["iri"] == "https://w3id.org/dpv#ScientificResearch" and sci["hash"] == SCI


def test_dataset_list_filters_and_pagination(client):
    page = client.get("/api/datasets", params={"page_size": 2}).json()
    assert page["total"] == 5 and [d["dataset_id"] for d in page["items"]] == [5, 4]
    page2 = client.get("/api/datasets", params={"page_size": 2, "page": 2}).json()
    assert [d["dataset_id"] for d in page2["items"]] == [3, 2]
    assert [d["dataset_id"] for d in client.get("/api/datasets", params={"domain": "health"}).json()["items"]] == [2, 1]
    assert [d["dataset_id"] for d in client.get("/api/datasets", params={"domain": 7}).json()["items"]] == [5, 3]
    assert [d["dataset_id"] for d in client.get("/api/datasets", params={"publisher": P2}).json()["items"]] == [3]
    statuses = {
        s: [d["dataset_id"] for d in client.get("/api/datasets", params={"status": s}).json()["items"]]
        for s in ("active", "superseded", "withdrawn")
    }
    assert statuses == {"active": [5, 3, 2], "superseded": [1], "withdrawn": [4]}
    assert [d["dataset_id"] for d in client.get("/api/datasets", params={"q": "clinic"}).json()["items"]] == [2, 1]


def test_page_size_limit_and_bad_pages(client):
    assert "at most 100" in err(client.get("/api/datasets", params={"page_size": 101}), 422, "validation_error")
    err(client.get("/api/datasets", params={"page": 0}), 422, "validation_error")
    err(client.get("/api/datasets", params={"page": "two"}), 422, "validation_error")
    assert client.get("/api/datasets", params={"page_size": 100}).status_code == 200


def test_dataset_by_id_and_by_content_hash(client):
    by_id = client.get("/api/datasets/2").json()
    assert by_id["status"] == "active" and by_id["supersedes"] == 1 and by_id["personal_data"] is True
    assert [a["kind"] for a in by_id["attestations"]] == ["quality"]
    by_hash = client.get(f"/api/datasets/{by_id['content_hash']}").json()
    assert by_hash["dataset_id"] == 2
    assert client.get("/api/datasets/1").json()["status"] == "superseded"
    assert client.get("/api/datasets/4").json()["status"] == "withdrawn"


def test_versions_oldest_first_from_any_version(client):
    for ref in (1, 2):
        assert [d["dataset_id"] for d in client.get(f"/api/datasets/{ref}/versions").json()["items"]] == [1, 2]
    second = client.get("/api/datasets/2/versions", params={"page_size": 1, "page": 2}).json()
    assert second["total"] == 2 and [d["dataset_id"] for d in second["items"]] == [2]
    assert [a["attestation_id"] for a in client.get("/api/datasets/2/attestations").json()["items"]] == [1]


def test_unknown_ids_are_404(client):
    assert "no dataset with id 99" in err(client.get("/api/datasets/99"), 404, "not_found")
    err(client.get("/api/datasets/99/versions"), 404, "not_found")
    err(client.get("/api/datasets/" + "0x" + "ab" * 32), 404, "not_found")
    err(client.get("/api/nowhere"), 404, "not_found")


def test_verify_states(client):
    assert client.get(f"/api/verify/{h('clinic v1')}").json()["state"] == "superseded"
    assert client.get(f"/api/verify/{h('bus trips')}").json()["state"] == "registered"
    assert client.get(f"/api/verify/{h('school places')}").json()["state"] == "withdrawn"
    assert client.get("/api/verify/0x" + "00" * 32).json()["state"] == "not_registered"


def test_consent_counts_now_and_as_of_block(client):
    now = {c["purpose_name"]: c["active"] for c in client.get("/api/datasets/2/consent-counts").json()["counts"]}
    # C1 (dataset scope) and C2 (publisher scope); C3 revoked at block 20; C4's marketing consent expired.
    assert now == {"ScientificResearch": 2}
    before = client.get("/api/datasets/2/consent-counts", params={"as_of_block": 15}).json()
    assert before["as_of_block"] == 15
    assert {c["purpose_name"]: c["active"] for c in before["counts"]} == {"ScientificResearch": 3, "Marketing": 1}
    # Dataset 3 (other publisher, other domain): nothing covers it.
    assert client.get("/api/datasets/3/consent-counts").json()["counts"] == []


def test_citizen_consents_state_and_history(client):
    now = client.get(f"/api/citizens/{C3}/consents").json()
    assert [c["state"] for c in now["items"]] == ["revoked"]
    then = client.get(f"/api/citizens/{C3}/consents", params={"as_of_block": 15}).json()
    assert [c["state"] for c in then["items"]] == ["active"]
    assert client.get(f"/api/citizens/{C3}/consents", params={"state": "active"}).json()["total"] == 0
    c4 = client.get(f"/api/citizens/{C4}/consents").json()["items"]
    assert [c["state"] for c in c4] == ["expired"] and c4[0]["any_researcher"] is True
    assert client.get(f"/api/citizens/{C5}/consents").json()["total"] == 0


def test_consent_check(client):
    q = {"citizen": C3, "purpose": "ScientificResearch", "scope_kind": "domain", "scope_id": "health"}
    assert client.get("/api/consents/check", params=q).json()["state"] == "revoked"
    then = client.get("/api/consents/check", params={**q, "as_of_block": 19}).json()
    assert then["active"] is True and then["as_of_block"] == 19
    assert client.get("/api/consents/check", params={**q, "as_of_block": 20}).json()["active"] is False
    q2 = {"citizen": C2, "purpose": SCI, "scope_kind": 2, "scope_id": P1, "grantee": RS}
    assert client.get("/api/consents/check", params=q2).json()["active"] is True
    never = client.get("/api/consents/check", params={**q2, "grantee": C1}).json()
    assert never == {**never, "active": False, "state": "never_granted"}


def test_as_of_block_past_the_index_is_refused(client):
    msg = err(client.get(f"/api/citizens/{C1}/consents", params={"as_of_block": LAST_BLOCK + 1}), 400, "bad_request")
    assert "past the last indexed block" in msg
    err(client.get("/api/datasets/2/consent-counts", params={"as_of_block": -1}), 422)
    err(client.get("/api/datasets/2/consent-counts", params={"as_of_block": "latest"}), 422)


@pytest.mark.parametrize(
    "url, needle",
    [
        ("/api/citizens/0x123/consents", "20-byte hex address"),
        ("/api/citizens/0xZZ00000000000000000000000000000000001001/consents", "20-byte hex address"),
        ("/api/citizens/0x00000000000000000000000000000000000000aB/consents", "checksum"),
        ("/api/verify/0x1234", "64 hex digits"),
        ("/api/datasets/abc", "an id (1, 2, ...) or a 0x content hash"),
        ("/api/datasets?domain=space", "domain must be one of"),
        ("/api/datasets?status=lost", "status must be one of"),
        ("/api/datasets?since=yesterday", "unix time or an ISO date"),
        ("/api/datasets?until=99999999999999999999999", "too large"),
        ("/api/datasets/99999999999999999999999", "below 2^63"),
        ("/api/access?status=maybe", "status must be one of"),
        (f"/api/consents/check?citizen={C1}&purpose=Fun&scope_kind=1&scope_id=2", "not a known DPV purpose"),
        (
            f"/api/consents/check?citizen={C1}&purpose=Marketing&scope_kind=planet&scope_id=2",
            "dataset, publisher or domain",
        ),
        (f"/api/consents/check?citizen={C1}&purpose=Marketing&scope_kind=domain&scope_id=", "scope_id must be one of"),
        # An empty scope kind with a hash scope id reached the key's ABI encoding with None (a 500).
        (
            f"/api/consents/check?citizen={C1}&purpose=Marketing&scope_kind=&scope_id=0x{'22' * 32}",
            "dataset, publisher",
        ),
        (f"/api/citizens/{C1}/consents?state=sleeping", "state must be one of"),
    ],
)
def test_malformed_input_is_400_with_a_clear_message(client, url, needle):
    assert needle in err(client.get(url), 400, "bad_request")


def test_access_releases_rights(client):
    acc = client.get("/api/access", params={"dataset_id": 2}).json()["items"]
    assert [(a["access_id"], a["status"], a["live"]) for a in acc] == [(3, "cancelled", False), (1, "granted", True)]
    assert acc[1]["requester_role"] == "researcher" and acc[1]["granted_block"] == 15
    assert client.get("/api/access", params={"status": "refused"}).json()["items"][0]["access_id"] == 2
    rel = client.get("/api/releases", params={"grantee": RS}).json()["items"]
    assert [(r["release_id"], r["subject_count"], r["snapshot_block"]) for r in rel] == [
        (3, 3, 22),
        (2, 2, 22),
        (1, 2, 22),
    ]
    overdue = client.get("/api/rights", params={"overdue": "true"}).json()["items"]
    assert [(r["request_id"], r["overdue"], r["kind"]) for r in overdue] == [(1, True, "erasure")]
    assert client.get("/api/rights", params={"status": "fulfilled"}).json()["items"][0]["request_id"] == 2
    mine = client.get(f"/api/citizens/{C2}/rights").json()["items"]
    assert [(r["request_id"], r["target_kind"]) for r in mine] == [(2, "dataset")]


def test_who_used_my_data_with_a_verifiable_proof(client, seeded):
    page = client.get(f"/api/citizens/{C2}/used").json()
    assert page["total"] == 1 and page["page_size"] == 100
    used = page["items"]
    assert [u["release_id"] for u in used] == [1]
    assert used[0]["consent_root"] == seeded.release_root
    assert verify_consent_proof(used[0]["consent_root"], C2, used[0]["proof"])
    assert not verify_consent_proof(used[0]["consent_root"], C3, used[0]["proof"])
    # C3 revoked before the honest snapshot and C5 never consented: not in it; the lying
    # publisher's release 2 holds C3 (its audit says mismatch); release 3 published no snapshot.
    assert [u["release_id"] for u in client.get(f"/api/citizens/{C3}/used").json()["items"]] == [2]
    assert client.get(f"/api/citizens/{C5}/used").json()["items"] == []


def test_stats(client):
    domains = {d["domain"]: d["datasets"] for d in client.get("/api/stats/domains").json()}
    assert domains == {"health": 2, "education": 1, "transport": 2}
    timeline = client.get("/api/stats/consent-timeline").json()
    assert sum(p["grants"] for p in timeline) == 4 and sum(p["revocations"] for p in timeline) == 1


def test_cors_only_for_the_page_origin(client):
    ok = client.get("/api/purposes", headers={"Origin": "http://127.0.0.1:8000"})
    assert ok.headers.get("access-control-allow-origin") == "http://127.0.0.1:8000"
    other = client.get("/api/purposes", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    pre = client.options(
        "/api/relay/grant", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert pre.status_code == 400 and "access-control-allow-origin" not in pre.headers


def test_wrong_method_is_405_in_the_error_format(client):
    err(client.post("/api/datasets"), 405, "method_not_allowed")
    err(client.delete("/api/relay/grant"), 405, "method_not_allowed")


def test_missing_store_is_503_not_500(tmp_path):
    from fastapi.testclient import TestClient

    from cityledger.api.app import create_app

    with TestClient(create_app(db_url=f"sqlite:///{tmp_path / 'none.db'}", data_dir=tmp_path)) as c:
        err(c.get("/api/datasets/1"), 503, "store_unavailable")
