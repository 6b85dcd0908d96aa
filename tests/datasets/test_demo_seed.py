"""The demo seed on a real devnet: what it creates, and that a second run creates nothing."""

import csv
import json

from cityledger.codes import ANY_RESEARCHER, MICRO_EPSILON, SCOPE_DATASET, purpose_hash
from cityledger.datasets.store import MetadataStore
from cityledger.demo import seed_demo
from cityledger.demo.catalog import CITIZEN_RANDOM_SUBJECTS, SIGNING_SUBJECTS
from cityledger.demo.seed import REVOKING_CITIZEN, after_release
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
    assert consents.events.SignedGrantSkipped().get_logs(from_block=dep.start_block) == []

    access = devnet.contract("AccessRegistry")
    assert access.functions.is_live(first.access_id).call()
    assert access.functions.access(first.access_id).call()[1] == accts[4].address
    rights = devnet.contract("RightsRegistry")
    statuses = [rights.functions.request(i).call()[5] for i in first.rights_requests]
    assert statuses == [2, 1]  # one fulfilled, one open
    # The answer is a document in the store, by the hash on chain.
    answer = rights.events.RightsRequestAnswered().get_logs(from_block=dep.start_block)[0]["args"]["answer_hash"]
    assert MetadataStore(tmp_path / "metadata").document(bytes(answer))[1] == "text/plain; charset=utf-8"

    # second round: organisations' profiles, 48 signed consents in one relayed batch, a privacy
    # budget on the researcher's access, the business publisher's release operator
    roles = devnet.contract("CityRoles")
    assert set(first.profiles) == {a.address for a in accts[1:5]}
    assert all(roles.functions.profile_of(a).call() == bytes.fromhex(h[2:]) for a, h in first.profiles.items())
    assert first.signed_subjects == SIGNING_SUBJECTS
    subjects = {g["args"]["citizen"] for g in grants if g["args"]["submitted_by"] == accts[5].address}
    assert len(subjects) == SIGNING_SUBJECTS + 3  # and the signed grants of citizens 7, 8 and 9
    assert access.functions.privacy_budget(first.access_id).call() == [3 * MICRO_EPSILON, 0]
    assert first.operator == accts[5].address
    assert access.functions.is_release_operator(accts[2].address, accts[5].address).call()
    assert released == [first.access_id]

    # the citizen dataset: subject addresses only (citizens 6-9 + random ones)
    rows = list(csv.DictReader((tmp_path / "demo" / "citizen-mobility-synthetic.csv").read_text().splitlines()))
    assert len(rows) == 4 + CITIZEN_RANDOM_SUBJECTS
    assert [r["subject"] for r in rows[:4]] == [a.address for a in accts[6:10]]
    assert consent_root([r["subject"] for r in rows]) != bytes(32)

    block = w3.eth.block_number
    files = sorted((tmp_path / "metadata").iterdir())
    second = seed_demo(w3, dep, accts, tmp_path, cfg=devnet.cfg)
    assert second.created == [] and second.datasets == first.datasets
    assert w3.eth.block_number == block  # not one transaction
    assert sorted((tmp_path / "metadata").iterdir()) == files


def test_the_demo_release_is_k_anonymous_audited_and_followed_by_a_deletion(devnet, cli, monkeypatch, tmp_path):
    """After seeding: index, release (by the publisher's release operator, here from the CLI; `make run`
    has the data room do it), then a citizen of the release revokes, the data room's deletion loop
    opens the obligation and the recipient confirms the deletion of its rows."""
    monkeypatch.setenv("CITYLEDGER_DB_URL", f"sqlite:///{tmp_path / 'index.db'}")
    w3, dep, accts = devnet.w3, devnet.deployment, devnet.accounts
    summary = seed_demo(w3, dep, accts, devnet.cfg.data_dir, cfg=devnet.cfg)
    assert cli("index", "--once", "--quiet")[0] == 0
    citizen_file = devnet.cfg.data_dir / "demo" / "citizen-mobility-synthetic.csv"
    args = ["release", summary.access_id, citizen_file, "--purpose", "ScientificResearch", "--json"]
    code, out, err = cli(*args, "--operator", summary.operator)
    assert code == 0, err
    release = json.loads(out)
    # 3 devnet citizens and 48 synthetic subjects consent: a 5-anonymous release (k on chain).
    assert release["subject_count"] == 3 + SIGNING_SUBJECTS and release["k_anonymity"] >= 5
    assert release["k"]["k_required"] == 5 and release["logged_by"] == summary.operator

    def follow(opened):  # the data room's deletion loop, one pass over a caught-up index
        w3.provider.make_request("anvil_mine", [2])
        assert cli("index", "--once", "--quiet")[0] == 0
        assert cli("dataroom", "serve-obligations", "--once")[0] == 0
        assert opened()

    def never(opened):
        raise AssertionError("nothing left to follow")

    done = after_release(w3, dep, accts, devnet.cfg.data_dir, release["release_id"], follow=follow, cfg=devnet.cfg)
    assert len(done) == 3  # revoked, deletion obligation opened by the loop, deletion confirmed
    assert after_release(w3, dep, accts, devnet.cfg.data_dir, release["release_id"], follow=never, cfg=devnet.cfg) == []
    w3.provider.make_request("anvil_mine", [2])
    assert cli("index", "--once", "--quiet")[0] == 0
    code, out, _ = cli("used-my-data", accts[REVOKING_CITIZEN].address, "--json")
    (used,) = json.loads(out)
    assert used["audit"]["status"] == "verified" and used["deletion"]["status"] == "confirmed"
    code, out, _ = cli("org", "show", accts[2].address, "--json")
    assert json.loads(out)["name"] == "Lumen Mobility Ltd"
