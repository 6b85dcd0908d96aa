"""Keys and exit codes through the real CLI on a deployed devnet (README "Exit codes").

A key the user sets signs or is refused, never ignored; `verify` and `status` answer in their exit
code (3 not registered, 4 not the --dataset given, 5 withdrawn or superseded, 6 node down, 7 node
inconsistent), with the same output as before; `attest` checks the dataset before signing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, inspect, text

from cityledger.chain.accounts import AUDITOR, BUSINESS
from cityledger.chain.devnet import free_port
from cityledger.cli import exits
from cityledger.testing import mine

META = ["--title", "Test temps", "--domain", "environment", "--description", "Test table", "--license", "CC0-1.0"]


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    # The developer's own environment must not choose the sender of these tests.
    for var in ("CITYLEDGER_KEYSTORE", "CITYLEDGER_KEYSTORE_PASSWORD", "CITYLEDGER_PRIVATE_KEY"):
        monkeypatch.delenv(var, raising=False)


def table(folder, name="t.csv", rows=12):
    path = folder / name
    path.write_text("station,temp\n" + "".join(f"S{i},{i}.5\n" for i in range(rows)))
    return path


def head(devnet) -> int:
    return devnet.w3.eth.block_number


def registry(devnet):
    return devnet.contract("DatasetRegistry").functions


def test_a_malformed_key_is_refused_and_registers_nothing(devnet, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYLEDGER_PRIVATE_KEY", "0x1234")
    start = head(devnet)
    code, _, err = cli("publish", table(tmp_path), *META)
    assert code == exits.ERROR and "CITYLEDGER_PRIVATE_KEY is not a valid private key" in err, err
    assert "0x1234" not in err and head(devnet) == start
    assert registry(devnet).dataset_count().call() == 0


def test_a_key_the_user_sets_is_the_publisher(devnet, cli, tmp_path, monkeypatch):
    # Was: the devnet published from mnemonic account 1 whatever CITYLEDGER_PRIVATE_KEY said.
    business = devnet.accounts[BUSINESS]
    monkeypatch.setenv("CITYLEDGER_PRIVATE_KEY", business.key.to_0x_hex())
    code, out, err = cli("publish", table(tmp_path), *META, "--json")
    assert code == exits.OK, err
    assert json.loads(out)["dataset_id"] == 1
    assert registry(devnet).dataset(1).call()[1] == business.address
    code, _, err = cli("publish", table(tmp_path, "u.csv", 5), *META, "--from-account", "1")
    assert code == exits.ERROR and "--from-account 1 and CITYLEDGER_PRIVATE_KEY both choose the sender" in err


def test_up_on_a_devnet_refuses_a_key_it_would_not_use(devnet, cli, monkeypatch):
    monkeypatch.setenv("CITYLEDGER_PRIVATE_KEY", devnet.accounts[BUSINESS].key.to_0x_hex())
    code, _, err = cli("up", "--no-demo")
    assert code == exits.ERROR and "CITYLEDGER_PRIVATE_KEY is set" in err and "unset it" in err, err
    assert not (devnet.cfg.data_dir / "logs").exists(), "nothing may start before the refusal"


@pytest.mark.parametrize("as_json", [False, True])
def test_verify_answers_in_its_exit_code(devnet, cli, tmp_path, as_json):
    flag = ["--json"] if as_json else []
    first, second, stranger = table(tmp_path), table(tmp_path, "v2.csv", 13), table(tmp_path, "x.csv", 3)

    code, out, _ = cli("verify", first, *flag)
    assert code == exits.NOT_REGISTERED
    assert (json.loads(out)["status"] == "not_registered") if as_json else "NOT REGISTERED" in out

    assert cli("publish", first, *META)[0] == exits.OK
    assert cli("verify", first, *flag)[0] == exits.OK
    assert cli("verify", first, "--dataset", "1", *flag)[0] == exits.OK

    code, out, _ = cli("verify", stranger, "--dataset", "1", *flag)
    assert code == exits.MISMATCH
    if as_json:
        assert json.loads(out)["expected_dataset"] == 1 and json.loads(out)["status"] == "not_registered"
    else:
        assert "MISMATCH: x.csv is not dataset 1" in out and "is not registered" in out
    code, _, err = cli("verify", first, "--dataset", "7", *flag)
    assert code == exits.ERROR and "dataset 7 is not registered" in err

    assert cli("publish", second, *META, "--supersedes", "1")[0] == exits.OK
    code, out, _ = cli("verify", first, *flag)
    assert code == exits.NOT_CURRENT
    assert (json.loads(out)["status"] == "superseded") if as_json else "SUPERSEDED" in out
    assert cli("verify", second, "--dataset", "1", *flag)[0] == exits.MISMATCH  # dataset 2, not 1

    assert cli("withdraw", "2", "--reason", "wrong units")[0] == exits.OK
    code, out, _ = cli("verify", second, *flag)
    assert code == exits.NOT_CURRENT
    assert (json.loads(out)["status"] == "withdrawn") if as_json else "WITHDRAWN" in out


def test_attest_checks_the_dataset_before_signing(devnet, cli, tmp_path):
    report = tmp_path / "audit.txt"
    report.write_text("checked")
    start = head(devnet)
    code, _, err = cli("attest", "9999", "--kind", "quality", "--report", report)
    assert code == exits.ERROR and "dataset 9999 is not registered on this chain" in err, err
    assert head(devnet) == start, "no transaction may be sent"

    assert cli("publish", table(tmp_path), *META)[0] == exits.OK
    assert cli("withdraw", "1", "--reason", "wrong")[0] == exits.OK
    start = head(devnet)
    code, _, err = cli("attest", "1", "--kind", "quality", "--report", report, "--from-account", str(AUDITOR))
    assert code == exits.ERROR and "dataset 1 is withdrawn" in err, err
    assert head(devnet) == start


def test_status_answers_in_its_exit_code(devnet, cli, tmp_path, monkeypatch):
    db = f"sqlite:///{tmp_path / 'index.db'}"
    code, _, err = cli("status", "--db", db)
    assert code == exits.ERROR and "no index at" in err  # the store cannot be read

    assert cli("index", "--once", "--quiet", "--db", db)[0] == exits.OK
    code, out, _ = cli("status", "--db", db, "--json")
    assert code == exits.OK and json.loads(out)["rpc_reachable"] and json.loads(out)["node_inconsistent"] is None

    # The indexer records a node that contradicts itself in the checkpoint (stores older than that
    # record have no such column: status reads it when present).
    engine = create_engine(db)
    with engine.begin() as conn:
        if "node_inconsistent" not in {c["name"] for c in inspect(conn).get_columns("checkpoint")}:
            conn.execute(text("ALTER TABLE checkpoint ADD COLUMN node_inconsistent TEXT"))
        conn.execute(text("UPDATE checkpoint SET node_inconsistent = 'head 91 but block 82 is null'"))
    engine.dispose()
    code, out, _ = cli("status", "--db", db)
    assert code == exits.NODE_INCONSISTENT and "inconsistent" in out and "block 82 is null" in out

    monkeypatch.setenv("CITYLEDGER_RPC_URL", f"http://127.0.0.1:{free_port()}")
    for flag in ([], ["--json"]):
        code, out, _ = cli("status", "--db", db, *flag)
        assert code == exits.NODE_DOWN and ("not answering" in out or '"rpc_reachable": false' in out), out


def test_release_signs_with_the_key_set_and_refuses_one_not_the_publisher(devnet, cli, tmp_path, monkeypatch):
    # Was: on a devnet the release was logged from the mnemonic account of the publisher, whatever key was set.
    import hashlib

    from cityledger import codes
    from cityledger.chain.tx import transact
    from cityledger.testing import stored_metadata

    w3, acc = devnet.w3, devnet.accounts
    publisher, researcher, citizen = acc[1], acc[4], acc[6]
    datasets, consent, access = (devnet.contract(n) for n in ("DatasetRegistry", "ConsentRegistry", "AccessRegistry"))
    data = tmp_path / "visits.csv"
    data.write_text(f"visit,subject\n1,{citizen.address.lower()}\n2,{'0x' + 'ab' * 20}\n")
    digest = hashlib.sha256(data.read_bytes()).digest()
    health, sci = codes.DOMAINS["health"], codes.purpose_hash("ScientificResearch")
    meta_hash, meta_uri = stored_metadata()  # the release reads the registered document (privacy declaration)
    transact(w3, publisher, datasets.functions.register(digest, meta_hash, meta_uri, health, True, 0))
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    transact(w3, citizen, consent.functions.grant(sci, 3, health.to_bytes(32, "big"), codes.ANY_RESEARCHER, far))
    transact(w3, researcher, access.functions.request_access(1, sci, digest))
    transact(w3, publisher, access.functions.grant_access(1, far))
    mine(w3, 3)
    db = f"sqlite:///{tmp_path / 'index.db'}"
    assert cli("index", "--once", "--quiet", "--db", db)[0] == exits.OK
    release = ["release", "1", data, "--purpose", "ScientificResearch", "--db", db, "--json"]

    monkeypatch.setenv("CITYLEDGER_PRIVATE_KEY", acc[BUSINESS].key.to_0x_hex())
    code, _, err = cli(*release)
    assert code == exits.ERROR and "is neither the dataset's publisher" in err, err
    assert access.functions.release_count().call() == 0
    assert not (devnet.cfg.data_dir / "releases").exists(), "a refused release writes nothing"

    monkeypatch.setenv("CITYLEDGER_PRIVATE_KEY", publisher.key.to_0x_hex())
    code, out, err = cli(*release)
    assert code == exits.OK, err
    tx = w3.eth.get_transaction(json.loads(out)["tx_hash"])
    assert tx["from"] == publisher.address and json.loads(out)["subject_count"] == 1
