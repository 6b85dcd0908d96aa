"""The demo seed on a real devnet: what it creates, and that a second run creates nothing."""

import csv

from cityledger.codes import ANY_RESEARCHER, SCOPE_DATASET, purpose_hash
from cityledger.demo import seed_demo
from cityledger.demo.catalog import CITIZEN_RANDOM_SUBJECTS
from cityledger.fingerprint import consent_root


def test_seed_is_complete_and_idempotent(devnet, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(tmp_path / "metadata"))
    w3, dep, accts = devnet.w3, devnet.deployment, devnet.accounts
    released = []
    first = seed_demo(
        w3, dep, accts, tmp_path, cfg=devnet.cfg, release_step=lambda *a: released.append(a[-1].access_id)
    )
    ds = first.datasets
    assert set(ds) == {
        "seattle-weather",
        "iowa-electricity",
        "la-riots",
        "us-employment",
        "seattle-weather-v2",
        "citizen-mobility",
    }
    reg = devnet.contract("DatasetRegistry")
    assert reg.functions.dataset_count().call() == 6
    v1 = reg.functions.dataset(ds["seattle-weather"]).call()
    v2 = reg.functions.dataset(ds["seattle-weather-v2"]).call()
    assert v1[7] == ds["seattle-weather-v2"] and v2[6] == ds["seattle-weather"] and v2[2] == 2
    citizen = reg.functions.dataset(ds["citizen-mobility"]).call()
    assert citizen[4] is True and citizen[1] == accts[2].address  # personal data, business publisher
    assert reg.functions.publisher_of(ds["iowa-electricity"]).call() == accts[2].address
    assert reg.functions.attestation(1).call()[:3] == [ds["seattle-weather-v2"], accts[3].address, 1]

    # consents: 6, 7, 8 active for research (direct and by signature), 9 revoked
    assert first.consents == {
        accts[6].address: "active",
        accts[7].address: "active",
        accts[8].address: "active",
        accts[9].address: "revoked",
    }
    consents = devnet.contract("ConsentRegistry")
    scope = ds["citizen-mobility"].to_bytes(32, "big")
    assert not consents.functions.is_active(
        accts[9].address, purpose_hash("ScientificResearch"), SCOPE_DATASET, scope, ANY_RESEARCHER
    ).call()
    grants = consents.events.ConsentGranted().get_logs(from_block=dep.start_block)
    assert {g["args"]["submitted_by"] for g in grants} == {accts[5].address, accts[6].address, accts[8].address}

    access = devnet.contract("AccessRegistry")
    assert access.functions.is_live(first.access_id).call()
    assert access.functions.access(first.access_id).call()[1] == accts[4].address
    rights = devnet.contract("RightsRegistry")
    statuses = [rights.functions.request(i).call()[6] for i in first.rights_requests]
    assert statuses == [2, 1]  # one fulfilled, one open
    assert released == [first.access_id]

    # the citizen dataset: subject addresses only (citizens 6-9 + random ones)
    rows = list(csv.DictReader(open(tmp_path / "demo" / "citizen-mobility-synthetic.csv")))
    assert len(rows) == 4 + CITIZEN_RANDOM_SUBJECTS
    assert [r["subject"] for r in rows[:4]] == [a.address for a in accts[6:10]]
    assert consent_root([r["subject"] for r in rows]) != bytes(32)

    block = w3.eth.block_number
    files = sorted((tmp_path / "metadata").iterdir())
    second = seed_demo(w3, dep, accts, tmp_path, cfg=devnet.cfg)
    assert second.created == [] and second.datasets == first.datasets
    assert w3.eth.block_number == block  # not one transaction
    assert sorted((tmp_path / "metadata").iterdir()) == files
