"""End to end on a devnet: real transactions, the real indexer, the API, then a consent-filtered
release logged on chain, re-indexed, and served to a citizen as "who used my data" with a proof."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityledger import codes
from cityledger.api.app import create_app
from cityledger.chain.tx import transact
from cityledger.cli import app as cli_app
from cityledger.fingerprint.consent_tree import verify_consent_proof
from cityledger.indexer.sync import Indexer
from cityledger.testing import stored_metadata

from .conftest import write_subject_csv

SCI = codes.purpose_hash("ScientificResearch")


def index(devnet, url: str) -> None:
    ix = Indexer.from_deployment(url, devnet.rpc_url, devnet.deployment, confirmations=2)
    try:
        ix.catch_up()
    finally:
        ix.close()


def test_index_query_release_and_proof(devnet, tmp_path, monkeypatch):
    w3, acc = devnet.w3, devnet.accounts
    publisher, researcher = acc[1], acc[4]
    citizens = acc[6:10]
    datasets, consent, access = (devnet.contract(n) for n in ("DatasetRegistry", "ConsentRegistry", "AccessRegistry"))
    url = f"sqlite:///{tmp_path / 'index.db'}"
    monkeypatch.setenv("CITYLEDGER_DB_URL", url)

    # A personal dataset whose rows belong to four citizens (and one stranger).
    data = tmp_path / "visits.csv"
    stranger = "0x" + "ab" * 20
    content_hash = write_subject_csv(data, [c.address.lower() for c in citizens] + [stranger])
    meta_hash, meta_uri = stored_metadata()  # declares no privacy: released without k-anonymity (k 0)
    transact(
        w3,
        publisher,
        datasets.functions.register(
            bytes.fromhex(content_hash[2:]), meta_hash, meta_uri, codes.DOMAINS["health"], True, 0
        ),
    )
    dataset_id = datasets.functions.dataset_id_of(publisher.address, bytes.fromhex(content_hash[2:])).call()
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    health = codes.DOMAINS["health"].to_bytes(32, "big")
    ds_scope = dataset_id.to_bytes(32, "big")
    # 6: domain consent, any researcher. 7: dataset consent for the researcher. 8: grants then revokes.
    # 9: consents to marketing only.
    transact(w3, citizens[0], consent.functions.grant(SCI, 3, health, codes.ANY_RESEARCHER, far))
    transact(w3, citizens[1], consent.functions.grant(SCI, 1, ds_scope, researcher.address, far))
    transact(w3, citizens[2], consent.functions.grant(SCI, 3, health, codes.ANY_RESEARCHER, far))
    granted_block = w3.eth.block_number
    transact(w3, citizens[2], consent.functions.revoke(SCI, 3, health, codes.ANY_RESEARCHER))
    transact(
        w3, citizens[3], consent.functions.grant(codes.purpose_hash("Marketing"), 3, health, codes.ANY_RESEARCHER, far)
    )
    transact(w3, researcher, access.functions.request_access(dataset_id, SCI, hashlib.sha256(b"terms").digest()))
    access_id = access.functions.access_count().call()
    transact(w3, publisher, access.functions.grant_access(access_id, far))
    w3.provider.make_request("anvil_mine", [3])  # so the revocation is final (2 confirmations)
    index(devnet, url)

    app = create_app(devnet.cfg, db_url=url, data_dir=devnet.cfg.data_dir)
    c = TestClient(app)
    st = c.get("/api/status").json()
    assert st["rpc_reachable"] and st["lag"] == 0 and st["finalized_block"] == st["head_block"] - 2
    assert st["contracts"]["ConsentRegistry"] == consent.address.lower()
    d = c.get(f"/api/datasets/{content_hash}").json()
    assert d["dataset_id"] == dataset_id and d["publisher"] == publisher.address.lower() and d["personal_data"]
    counts = {
        x["purpose_name"]: x["active"] for x in c.get(f"/api/datasets/{dataset_id}/consent-counts").json()["counts"]
    }
    assert counts == {"ScientificResearch": 2, "Marketing": 1}
    then = c.get(f"/api/datasets/{dataset_id}/consent-counts", params={"as_of_block": granted_block}).json()
    assert {x["purpose_name"]: x["active"] for x in then["counts"]}["ScientificResearch"] == 3
    revoked = c.get(f"/api/citizens/{citizens[2].address}/consents").json()["items"]
    assert [x["state"] for x in revoked] == ["revoked"]
    live = c.get("/api/access", params={"grantee": researcher.address}).json()["items"]
    assert [(a["access_id"], a["live"]) for a in live] == [(access_id, True)]

    # The publisher's release: CLI, default block = the finalized one.
    runner = CliRunner()
    result = runner.invoke(cli_app, ["release", str(access_id), str(data), "--purpose", "ScientificResearch", "--json"])
    assert result.exit_code == 0, result.output
    assert '"subject_count": 2' in result.output and '"rows_out": 2' in result.output
    logged = access.events.ReleaseLogged().get_logs(from_block=devnet.deployment.start_block)[0]["args"]
    root = logged["consent_root"]
    assert (logged["access_id"], logged["subject_count"], logged["k_anonymity"]) == (access_id, 2, 0)
    assert access.functions.release_matches(1, root, logged["release_hash"], 0).call()  # the stored commitment
    w3.provider.make_request("anvil_mine", [1])
    index(devnet, url)

    used = c.get(f"/api/citizens/{citizens[0].address}/used").json()["items"]
    assert len(used) == 1 and used[0]["consent_root"] == "0x" + root.hex()
    assert verify_consent_proof(root, citizens[0].address, used[0]["proof"])
    assert c.get(f"/api/citizens/{citizens[1].address}/used").json()["total"] == 1
    # Revoked before the snapshot block, or consented to another purpose: not in the release.
    assert c.get(f"/api/citizens/{citizens[2].address}/used").json()["items"] == []
    assert c.get(f"/api/citizens/{citizens[3].address}/used").json()["items"] == []

    # The CLI reads the same store.
    out = runner.invoke(cli_app, ["used-my-data", citizens[0].address, "--json"])
    assert out.exit_code == 0 and '"proof_verified": true' in out.output
