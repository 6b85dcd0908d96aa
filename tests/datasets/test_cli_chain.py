"""publish / verify / prove / verify-row / withdraw / attest through the CLI, on a real anvil."""

import dataclasses
import json
import sys
from pathlib import Path

import pytest
from fingerprint import independent_verifier as iv
from fingerprint.tampering import variants

from cityledger.cli import main
from cityledger.datasets import DatasetInfo, fingerprint_file
from cityledger.datasets.registry import publish
from cityledger.datasets.store import MetadataStore
from cityledger.fingerprint import CANONICAL_FORM_V1, prove_row, rows_root


def cli(capsys, *args):
    """Run `cityledger ARGS` in-process: (exit code, stdout, stderr)."""
    argv = sys.argv
    sys.argv = ["cityledger", *map(str, args)]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    # The root error console wraps at the terminal width (80 under capture): unwrap for matching.
    return code, captured.out, " ".join(captured.err.split())


def table(tmp_path: Path, name="t.csv", extra=""):
    p = tmp_path / name
    p.write_text("station,date,temp\n" + "".join(f"S{i % 3},2020-01-{i + 1:02d},{i}.5\n" for i in range(20)) + extra)
    return p


META = ["--title", "Test temps", "--domain", "environment", "--description", "Test table", "--license", "CC0-1.0"]


@pytest.fixture(autouse=True)
def own_metadata_dir(tmp_path, monkeypatch):
    # The devnet is reverted after each test; its metadata store must start empty too.
    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(tmp_path / "metadata"))


def store_files(devnet):
    root = MetadataStore(cfg=devnet.cfg).root
    return sorted(root.glob("*.json")) if root.exists() else []


def test_publish_verify_supersede_withdraw_attest(devnet, tmp_path, capsys):
    f = table(tmp_path)
    code, out, err = cli(capsys, "verify", f)
    assert code == 3 and "NOT REGISTERED" in out  # README "Exit codes"

    code, out, err = cli(capsys, "publish", f, *META, "--temporal", "2020-01-01/2020-01-20", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["dataset_id"] == 1 and first["version"] == 1 and first["record_count"] == 20
    (meta_file,) = store_files(devnet)
    assert meta_file.name == first["metadata_hash"][2:] + ".json"
    assert first["metadata_uri"] == "cityledger://metadata/" + first["metadata_hash"][2:]

    code, out, err = cli(capsys, "publish", f, *META)
    assert code == 0 and "already registered as dataset 1" in out
    assert len(store_files(devnet)) == 1

    code, out, _ = cli(capsys, "verify", f)
    assert code == 0 and "REGISTERED as dataset 1 (version 1, active)" in out
    assert devnet.accounts[1].address in out and "attestations   none" in out

    report = tmp_path / "audit.txt"
    report.write_text("checked 20 rows")
    code, out, err = cli(capsys, "attest", "1", "--kind", "quality", "--report", report)
    assert code == 0, err

    g = table(tmp_path, "t2.csv", extra="S0,2020-01-21,99.5\n")
    code, out, err = cli(capsys, "publish", g, *META, "--supersedes", "1", "--json")
    assert code == 0, err
    second = json.loads(out)
    assert second["dataset_id"] == 2 and second["version"] == 2

    code, out, _ = cli(capsys, "verify", f, "--json")
    v = json.loads(out)
    (reg,) = v["registrations"]
    assert v["status"] == "superseded" and reg["successor"] == 2 and reg["latest"] == 2
    assert (
        reg["attestations"][0]["kind"] == "quality" and reg["attestations"][0]["auditor"] == devnet.accounts[3].address
    )

    # Only the publisher may supersede: the business publisher is refused before anything is written.
    h = table(tmp_path, "t3.csv", extra="S9,2020-02-01,1.5\n")
    code, out, err = cli(capsys, "publish", h, *META, "--supersedes", "2", "--from-account", "2")
    assert code == 1 and "only that publisher can supersede" in err
    assert len(store_files(devnet)) == 2

    code, out, err = cli(capsys, "withdraw", "2", "--reason", "wrong units")
    assert code == 0, err
    code, out, _ = cli(capsys, "verify", g)
    assert "WITHDRAWN: dataset 2" in out


def test_prove_and_verify_row_against_dataset(devnet, tmp_path, capsys):
    f = table(tmp_path)
    assert cli(capsys, "publish", f, *META)[0] == 0
    proof = tmp_path / "proof.json"
    code, out, err = cli(capsys, "prove", f, "--row", "7", "--out", proof)
    assert code == 0, err
    assert json.loads(proof.read_text())["row"] == {"date": "2020-01-07", "station": "S0", "temp": "6.5"}
    code, out, err = cli(capsys, "verify-row", proof, "--dataset", "1")
    assert code == 0 and "VALID: row 7 of 20 is in dataset 1's registered rows root" in out

    code, out, err = cli(capsys, "verify-row", proof, "--dataset", "5")
    assert code == 1 and "not registered" in err


def test_every_tampered_field_is_invalid_against_the_registered_dataset(devnet, tmp_path, capsys):
    """Issue 13 item 1: row_number 7 -> 8 or tree_size 20 -> 21 passed as 'VALID: row 8 of 20' /
    'row 7 of 21'; a wrong leaf_hash was recomputed and ignored, a wrong root ignored. Each field
    tampered alone is INVALID with its reason, and the documented verifier agrees on every one."""
    f = table(tmp_path)
    assert cli(capsys, "publish", f, *META)[0] == 0
    original = prove_row(f, 7)
    other_leaf = prove_row(f, 6)["leaf_hash"]
    registered = rows_root(f)
    binding = iv.Binding(registered.root, registered.count, registered.canonical_form)
    proof = tmp_path / "p.json"
    for name, data in variants(original, other_leaf).items():
        proof.write_bytes(data)
        code, out, err = cli(capsys, "verify-row", proof, "--dataset", "1")
        assert code == 1 and err.startswith("error: INVALID: "), f"{name}: {out} {err}"
        assert not iv.verdict(data, binding), name
    for changes, reason in [
        ({"row_number": 8}, "the path does not lead to root: row 8 of 20"),
        ({"tree_size": 21}, "tree_size 21 is not dataset 1's registered record count (20)"),
        ({"leaf_hash": other_leaf}, "leaf_hash does not match the row"),
        ({"root": "0x" + "ab" * 32}, "the path does not lead to root"),
    ]:
        proof.write_text(json.dumps({**original, **changes}))
        code, out, err = cli(capsys, "verify-row", proof, "--dataset", "1")
        assert code == 1 and reason in err, err
    # Proofs that are right about another table (their own root, count and path).
    longer = table(tmp_path, "longer.csv", extra="S1,2020-02-01,1.5\n")
    proof.write_text(json.dumps(prove_row(longer, 7)))
    code, out, err = cli(capsys, "verify-row", proof, "--dataset", "1")
    assert code == 1 and "tree_size 21 is not dataset 1's registered record count (20)" in err
    same_size = tmp_path / "same-size.csv"
    same_size.write_text(f.read_text().replace("S0,2020-01-07,6.5", "S0,2020-01-07,60.5"))
    proof.write_text(json.dumps(prove_row(same_size, 7)))
    code, out, err = cli(capsys, "verify-row", proof, "--dataset", "1")
    assert code == 1 and "is not dataset 1's registered rows root" in err


def test_a_dataset_registered_under_v1_still_verifies(devnet, tmp_path, capsys):
    """Issue 13 item 4: rows are now RFC 8785 (v2: keys by UTF-16 code units). A dataset registered
    before, under v1 (code point order), keeps verifying with proofs made under its form."""
    f = tmp_path / "emoji.csv"
    f.write_text("Ａ,😀,id\nfullwidth,emoji,1\nx,y,2\n", encoding="utf-8")
    v1 = rows_root(f, canonical_form=CANONICAL_FORM_V1)
    assert v1.root != rows_root(f).root  # the two orders differ for these columns
    legacy = dataclasses.replace(fingerprint_file(f), rows=v1)  # what publish computed before
    info = DatasetInfo(
        title="T", domain="energy", publisher=devnet.accounts[1].address, description="D", license="CC0-1.0"
    )
    publish(
        devnet.w3,
        devnet.deployment,
        devnet.accounts[1],
        f,
        info,
        store=MetadataStore(cfg=devnet.cfg),
        fingerprint=legacy,
    )
    proof = tmp_path / "p.json"
    assert cli(capsys, "prove", f, "--row", "2", "--canonical-form", CANONICAL_FORM_V1, "--out", proof)[0] == 0
    code, out, err = cli(capsys, "verify-row", proof, "--dataset", "1")
    assert code == 0 and "VALID: row 2 of 2 is in dataset 1's registered rows root" in out, err
    assert "(cityledger-rows-v1)" in out
    assert cli(capsys, "prove", f, "--row", "2", "--out", proof)[0] == 0  # v2 by default
    code, out, err = cli(capsys, "verify-row", proof, "--dataset", "1")
    assert code == 1 and "canonical_form cityledger-rows-v2 is not dataset 1's registered canonical form" in err
    assert "--canonical-form cityledger-rows-v1" in err
    # New registrations record v2.
    g = table(tmp_path)
    code, out, err = cli(capsys, "publish", g, *META, "--json")
    assert code == 0, err
    doc = MetadataStore(cfg=devnet.cfg).get_uri(json.loads(out)["metadata_uri"])
    assert doc["cl:canonicalForm"] == "cityledger-rows-v2" and doc["cl:rowsMerkleRoot"] == json.loads(out)["rows_root"]
    # For a table whose column names sort the same in both forms, a proof relabelled to the other
    # form still proves the row in the root, but is not a proof under the registered form.
    assert cli(capsys, "prove", g, "--row", "3", "--out", proof)[0] == 0
    proof.write_text(json.dumps({**json.loads(proof.read_text()), "canonical_form": CANONICAL_FORM_V1}))
    code, out, err = cli(capsys, "verify-row", proof, "--dataset", "2")
    assert code == 1 and "is not dataset 2's registered canonical form (cityledger-rows-v2)" in err


def test_not_a_publisher_registers_nothing(devnet, tmp_path, capsys):
    f = table(tmp_path)
    code, out, err = cli(capsys, "publish", f, *META, "--from-account", "4")
    assert code == 1 and "caller is not a publisher" in err and err.count("error:") == 1
    assert store_files(devnet) == []
    assert devnet.contract("DatasetRegistry").functions.dataset_count().call() == 0


@pytest.mark.parametrize(
    "setup,args,message",
    [
        (None, ["missing.csv"], "no such file"),
        ("dir", ["DIR"], "is a directory"),
        ("ragged", ["ragged.csv"], "malformed row at line 3: 2 fields, the header has 3"),
        ("ok", ["ok.csv", "--description", ""], "metadata is missing required fields: description"),
        ("ok", ["ok.csv", "--license", ""], "missing required fields: license"),
        ("ok", ["ok.csv", "--domain", "weather"], "unknown domain 'weather'"),
        ("ok", ["ok.csv", "--network", "mainnet"], "unknown network 'mainnet'"),
        ("ok", ["ok.csv", "--temporal", "2020"], "expected START/END"),
        ("ok", ["ok.csv", "--metadata-uri", "ftp://x"], "must start with"),
        ("ok", ["ok.csv", "--supersedes", "9"], "dataset 9 does not exist"),
        # Issue 13 item 3: publisher text that displays deceptively, and any string as a license.
        ("ok", ["ok.csv", "--title", "rtl\u202etxt.exe"], "title: U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("ok", ["ok.csv", "--description", "zero\u200bwidth"], "description: U+200B ZERO WIDTH SPACE"),
        ("ok", ["ok.csv", "--description", "w" * 20_000], "description: 20,000 characters (at most 10,000)"),
        ("ok", ["ok.csv", "--keyword", "k" * 200], "keyword 1: 200 characters (at most 50)"),
        ("ok", ["ok.csv", "--license", "any string"], "license: unknown licence 'any string'"),
    ],
)
def test_publish_bad_input_is_one_line_and_writes_nothing(devnet, tmp_path, capsys, setup, args, message):
    (tmp_path / "DIR").mkdir()
    (tmp_path / "ragged.csv").write_text("a,b,c\n1,2,3\n4,5\n")
    (tmp_path / "ok.csv").write_text("a,b\n1,2\n")
    args = [str(tmp_path / a) if i == 0 else a for i, a in enumerate(args)]
    defaults = {"--title": "T", "--domain": "energy", "--description": "D", "--license": "CC0-1.0"}
    for k, v in defaults.items():
        if k not in args:
            args += [k, v]
    code, out, err = cli(capsys, "publish", *args)
    assert code == 1
    assert message in err and err.count("error:") == 1 and "Traceback" not in err, err
    assert store_files(devnet) == []
    assert devnet.contract("DatasetRegistry").functions.dataset_count().call() == 0


def test_other_commands_bad_input(devnet, tmp_path, capsys):
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    code, _, err = cli(capsys, "prove", tmp_path / "x.bin", "--row", "1")
    assert code == 1 and "unsupported format '.bin'" in err
    code, out, _ = cli(capsys, "verify", tmp_path / "x.bin")  # any file has a content hash
    assert code == 3 and "NOT REGISTERED" in out
    code, _, err = cli(capsys, "verify-row", tmp_path / "x.bin", "--root", "0xzz")
    assert code == 1 and "bad root" in err
    code, _, err = cli(capsys, "verify", tmp_path / "x.bin", "--network", "nope")
    assert code == 1 and "unknown network 'nope'" in err
    code, _, err = cli(capsys, "attest", "1", "--kind", "beauty", "--report", tmp_path / "x.bin")
    assert code == 1 and "unknown attestation kind" in err


def test_several_publishers_may_register_the_same_bytes(devnet, tmp_path, capsys):
    """Issue 15 finding 1: nobody can squat a file. The same bytes registered by the agency first and
    then by the business are two registrations; verify lists both, earliest first, naming the first."""
    f = table(tmp_path)
    agency, business = devnet.accounts[1].address, devnet.accounts[2].address
    assert cli(capsys, "publish", f, *META)[0] == 0
    code, out, err = cli(capsys, "publish", f, *META, "--from-account", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["dataset_id"] == 2 and not json.loads(out)["already_registered"]
    code, out, _ = cli(capsys, "verify", f, "--json")
    v = json.loads(out)
    assert code == 0 and v["first_publisher"] == agency
    assert [(r["dataset_id"], r["publisher"], r["status"]) for r in v["registrations"]] == [
        (1, agency, "registered"),
        (2, business, "registered"),
    ]
    code, out, _ = cli(capsys, "verify", f)
    assert "registrations  2 by 2 publisher(s); first registered by " + agency in out
    assert cli(capsys, "verify", f, "--dataset", "2")[0] == 0  # either registration is this file's
    # The same publisher twice is still refused, before anything is written.
    code, out, _ = cli(capsys, "publish", f, *META, "--from-account", "2")
    assert code == 0 and "already registered as dataset 2" in out


def test_a_withdrawn_file_can_be_published_again(devnet, tmp_path, capsys):
    f = table(tmp_path)
    assert cli(capsys, "publish", f, *META)[0] == 0
    assert cli(capsys, "withdraw", "1", "--reason", "wrong station names")[0] == 0
    code, out, _ = cli(capsys, "verify", f)
    assert code == 5 and "WITHDRAWN: dataset 1" in out
    code, out, err = cli(capsys, "publish", f, *META, "--json")
    assert code == 0 and json.loads(out)["dataset_id"] == 2, err
    code, out, _ = cli(capsys, "verify", f, "--json")
    v = json.loads(out)
    assert code == 0 and v["status"] == "registered" and v["dataset_id"] == 2
    assert [r["status"] for r in v["registrations"]] == ["withdrawn", "registered"]
    # Asked about the withdrawn registration, the answer is that one's.
    code, out, _ = cli(capsys, "verify", f, "--dataset", "1", "--json")
    assert code == 5 and json.loads(out)["status"] == "withdrawn"


def test_an_auditor_cannot_attest_its_own_dataset(devnet, tmp_path, capsys):
    from cityledger.chain.tx import transact

    publisher = devnet.accounts[1]
    roles = devnet.contract("CityRoles")
    transact(devnet.w3, devnet.accounts[0], roles.functions.grant_role(publisher.address, 2, 0))  # also an auditor
    assert cli(capsys, "publish", table(tmp_path), *META)[0] == 0
    report = tmp_path / "audit.txt"
    report.write_text("checked")
    block = devnet.w3.eth.block_number
    code, _, err = cli(capsys, "attest", "1", "--kind", "quality", "--report", report, "--from-account", "1")
    assert code == 1 and "an auditor cannot attest its own dataset" in err, err
    assert devnet.w3.eth.block_number == block  # refused before anything was sent
    assert cli(capsys, "attest", "1", "--kind", "quality", "--report", report)[0] == 0  # the auditor (account 3)
