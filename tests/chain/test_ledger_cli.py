"""What the second round's contracts let people do, through the real CLI on a deployed devnet: a
k-anonymous release logged by a release operator and audited by the indexer, the snapshot rules, a
privacy budget, a cancelled access request, a rights answer kept as a document, a deletion
obligation after a revocation confirmed by the recipient, and an organisation profile."""

from __future__ import annotations

import hashlib
import json

import pytest

from cityledger import codes
from cityledger.chain.accounts import AGENCY, RESEARCHER
from cityledger.chain.tx import transact
from cityledger.cli import exits
from cityledger.datasets.store import MetadataStore
from cityledger.testing import mine

SCI = codes.purpose_hash("ScientificResearch")
HEALTH = codes.DOMAINS["health"]
DECLARATION = {
    "@type": "cl:PrivacyDeclaration",
    "cl:version": 1,
    "cl:subjectColumn": "subject",
    "cl:k": 2,
    "cl:sampledPopulation": "Test patients of two districts.",
    "cl:columns": [
        {
            "cl:name": "district",
            "cl:type": "categorical",
            "cl:categories": ["D01", "D02"],
            "cl:quasiIdentifier": True,
            "cl:hierarchy": ["*"],
        },
        {
            "cl:name": "age",
            "cl:type": "integer",
            "cl:lower": 0,
            "cl:upper": 100,
            "cl:quasiIdentifier": True,
            "cl:hierarchy": [{"cl:label": "10-year bands", "cl:width": 10}, "*"],
        },
    ],
}
META = ["--domain", "health", "--description", "Visits", "--license", "CC0-1.0", "--personal"]


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    for var in ("CITYLEDGER_KEYSTORE", "CITYLEDGER_KEYSTORE_PASSWORD", "CITYLEDGER_PRIVATE_KEY"):
        monkeypatch.delenv(var, raising=False)


def make_world(devnet, cli, tmp_path, contract) -> dict:
    """Dataset 1: four consenting citizens (6-9) and two strangers, declaring (district, age) as
    quasi-identifiers and k = 2; the researcher's access 1 to it, granted; an index store."""
    w3, acc = devnet.w3, devnet.accounts
    citizens = acc[6:10]
    ages = zip(citizens, ("D01", "D01", "D02", "D02"), (31, 36, 52, 57), strict=True)
    rows = [(c.address, d, a) for c, d, a in ages] + [("0x" + "ab" * 20, "D01", 44), ("0x" + "cd" * 20, "D02", 70)]
    data = tmp_path / "visits.csv"
    data.write_text("subject,district,age\n" + "".join(f"{s},{d},{a}\n" for s, d, a in rows))
    decl = tmp_path / "privacy.json"
    decl.write_text(json.dumps(DECLARATION))
    code, _, err = cli("publish", data, "--title", "Visits", *META, "--privacy", decl)
    assert code == exits.OK, err
    consent, access = contract("ConsentRegistry"), contract("AccessRegistry")
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    for c in citizens:
        transact(w3, c, consent.functions.grant(SCI, 3, HEALTH.to_bytes(32, "big"), codes.ANY_RESEARCHER, far))
    transact(w3, acc[RESEARCHER], access.functions.request_access(1, SCI, hashlib.sha256(b"terms").digest()))
    transact(w3, acc[AGENCY], access.functions.grant_access(1, far))
    mine(w3, 3)
    assert cli("index", "--once", "--quiet")[0] == exits.OK
    return {"data": data, "citizens": citizens, "tmp": tmp_path, "far": far}


@pytest.fixture
def world(devnet, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYLEDGER_DB_URL", f"sqlite:///{tmp_path / 'index.db'}")
    return make_world(devnet, cli, tmp_path, devnet.contract)


def test_an_operators_k_anonymous_release_is_logged_and_audited(devnet, cli, world):
    w3, acc = devnet.w3, devnet.accounts
    operator = acc[5]
    release = ["release", "1", world["data"], "--purpose", "ScientificResearch", "--json"]
    # Not an operator yet: refused on chain's word before anything is written.
    code, _, err = cli(*release, "--operator", operator.address)
    assert code == exits.ERROR and "is neither the dataset's publisher" in err, err
    assert not (devnet.cfg.data_dir / "releases").exists()

    code, out, err = cli("release-operator", "add", operator.address, "--json")
    assert code == exits.OK, err
    assert json.loads(out)["publisher"] == acc[AGENCY].address
    code, out, err = cli(*release, "--operator", operator.address)
    assert code == exits.OK, err
    r = json.loads(out)
    # Generalised to 10-year age bands: two groups of two; the strangers never consented.
    assert (r["rows_out"], r["subject_count"], r["k_anonymity"]) == (4, 4, 2)
    assert r["k"]["generalised"] == {"age": "10-year bands"} and r["logged_by"] == operator.address
    released = (devnet.cfg.data_dir / "releases").glob("dataset-1-*.csv")
    assert "30-39" in next(released).read_text()
    logged = devnet.contract("AccessRegistry").events.ReleaseLogged().get_logs(from_block=0)[0]["args"]
    assert (logged["k_anonymity"], logged["logged_by"]) == (2, operator.address)
    # The snapshot is published: a document by its SHA-256, found by the indexer by its root.
    store = MetadataStore()
    assert store.document(bytes.fromhex(r["snapshot_hash"][2:]))[0] == open(r["snapshot"], "rb").read()

    mine(w3, 1)
    assert cli("index", "--once", "--quiet")[0] == exits.OK
    code, out, _ = cli("releases", "--json")
    (row,) = json.loads(out)["items"]
    assert row["audit"]["status"] == "verified" and row["audit"]["snapshot_hash"] == r["snapshot_hash"]
    assert row["k_anonymity"] == 2 and row["logged_by"] == operator.address.lower()
    code, out, _ = cli("release-operator", "list", acc[AGENCY].address, "--json")
    assert [o["operator"] for o in json.loads(out)] == [operator.address.lower()]
    assert cli("release-operator", "remove", operator.address)[0] == exits.OK


def test_snapshot_rules_and_k_are_checked_before_anything_is_sent(devnet, cli, tmp_path, monkeypatch):
    from cityledger.chain.deploy import deploy_all
    from cityledger.chain.deployments import contract
    from cityledger.chain.roles import seed_devnet_roles

    # A deployment whose snapshots may be at most 4 blocks old (mining 7,200 blocks takes a minute).
    w3 = devnet.w3
    dep = deploy_all(w3, devnet.accounts[0], devnet.network, devnet.cfg, force=True, max_snapshot_age=4)
    seed_devnet_roles(w3, dep, devnet.accounts, devnet.cfg)
    monkeypatch.setenv("CITYLEDGER_DB_URL", f"sqlite:///{tmp_path / 'index.db'}")
    world = make_world(devnet, cli, tmp_path, lambda name: contract(w3, dep, name, devnet.cfg))
    access = contract(w3, dep, "AccessRegistry", devnet.cfg)
    release = ["release", "1", world["data"], "--purpose", "ScientificResearch"]
    granted = access.functions.granted_block(1).call()
    code, _, err = cli(*release, "--block", str(granted - 1))
    assert code == exits.ERROR and f"before access 1 was granted (block {granted})" in err, err
    mine(w3, 6)
    assert cli("index", "--once", "--quiet")[0] == exits.OK
    code, _, err = cli(*release, "--block", str(granted))
    assert code == exits.ERROR and "the chain accepts at most 4" in err, err
    # A declared k the consenting rows cannot reach: refused, the message naming no counts.
    strict = world["tmp"] / "strict.json"
    strict.write_text(json.dumps(DECLARATION | {"cl:k": 5}))
    other = world["tmp"] / "visits-v2.csv"
    other.write_bytes(world["data"].read_bytes() + b"0x" + b"ef" * 20 + b",D01,33\n")  # four consenting rows
    code, _, err = cli("publish", other, "--title", "Visits v2", *META, "--privacy", strict, "--supersedes", "1")
    assert code == exits.OK, err
    mine(w3, 3)
    assert cli("index", "--once", "--quiet")[0] == exits.OK
    start = w3.eth.block_number
    code, _, err = cli("release", "1", other, "--purpose", "ScientificResearch")
    assert code == exits.ERROR and "cannot be made 5-anonymous" in err, err
    assert w3.eth.block_number == start
    assert not (devnet.cfg.data_dir / "releases").exists()
    assert access.functions.release_count().call() == 0


def test_budget_cancel_answer_obligation_and_profile(devnet, cli, world):
    w3, acc = devnet.w3, devnet.accounts
    access = devnet.contract("AccessRegistry")
    code, _, err = cli("budget", "1", "--epsilon", "2.5")
    assert code == exits.OK, err
    assert access.functions.privacy_budget(1).call() == [2_500_000, 0]
    code, _, err = cli("budget", "1", "--epsilon", "0.0000001")
    assert code == exits.ERROR and "more than 6 decimals" in err

    transact(w3, acc[RESEARCHER], access.functions.request_access(1, codes.purpose_hash("Marketing"), bytes(32)))
    code, _, err = cli("access", "cancel", "2")  # signed by the requester the chain names
    assert code == exits.OK, err
    assert access.functions.access(2).call()[3] == codes.ACCESS_CANCELLED

    # A rights request rejected with an answer document the citizen can fetch and check.
    rights = devnet.contract("RightsRegistry")
    target = bytes(12) + bytes.fromhex(acc[AGENCY].address[2:])
    transact(w3, acc[9], rights.functions.file_request(8, 1, target, hashlib.sha256(b"why").digest()))
    answer = world["tmp"] / "answer.md"
    answer.write_text("# Rejected\n\nYou are not a subject of any of our datasets.\n")
    code, out, err = cli("rights", "answer", "1", "--outcome", "rejected", "--file", answer, "--json")
    assert code == exits.OK, err
    digest = hashlib.sha256(answer.read_bytes()).digest()
    assert json.loads(out)["answer_hash"] == "0x" + digest.hex()
    assert rights.functions.request(1).call()[5] == codes.RIGHTS_REJECTED
    assert MetadataStore().document(digest) == (answer.read_bytes(), "text/plain; charset=utf-8")

    # A release, then citizen 6 revokes: anyone may ask its recipient to delete the rows.
    assert cli("release", "1", world["data"], "--purpose", "ScientificResearch")[0] == exits.OK
    c6 = world["citizens"][0]
    consent = devnet.contract("ConsentRegistry")
    transact(w3, c6, consent.functions.revoke(SCI, 3, HEALTH.to_bytes(32, "big"), codes.ANY_RESEARCHER))
    code, out, err = cli("obligations", "request", "1", c6.address, "--from-account", "9", "--json")
    assert code == exits.OK, err
    assert json.loads(out)["recipient"] == acc[RESEARCHER].address
    evidence = world["tmp"] / "deleted.log"
    evidence.write_text("rows of 0x... deleted from the analysis store\n")
    code, _, err = cli("obligations", "confirm", "1", "--evidence", evidence)  # signed by the recipient
    assert code == exits.OK, err
    assert devnet.contract("DeletionRegistry").functions.obligation(1).call()[4] == codes.DELETION_CONFIRMED

    profile = ["--name", "Northbridge Health Office", "--kind", "agency", "--website", "https://health.example"]
    code, _, err = cli("org", "set-profile", acc[AGENCY].address, *profile, "--contact", "data@health.example")
    assert code == exits.OK, err
    code, _, err = cli("org", "set-profile", acc[6].address, "--name", "A citizen", "--kind", "business")
    assert code == exits.ERROR and "never held a role" in err
    mine(w3, 3)
    assert cli("index", "--once", "--quiet")[0] == exits.OK
    code, out, _ = cli("org", "show", acc[AGENCY].address, "--json")
    org = json.loads(out)
    assert org["name"] == "Northbridge Health Office" and org["verified"] and org["roles"] == ["publisher"]
    code, out, _ = cli("obligations", "--json")
    assert [(o["obligation_id"], o["status"]) for o in json.loads(out)["items"]] == [(1, "confirmed")]
    code, out, _ = cli("rights", "stats", "--json")
    assert json.loads(out)["rejected"] == 1
    code, out, _ = cli("budget", "1", "--json")
    assert json.loads(out)["budget"] == "2.5" and json.loads(out)["queries"] == 0
    code, out, _ = cli("used-my-data", c6.address, "--json")
    (used,) = json.loads(out)
    assert used["deletion"]["status"] == "confirmed" and used["audit"]["status"] == "verified"
