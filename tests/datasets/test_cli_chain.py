"""publish / verify / prove / verify-row / withdraw / attest through the CLI, on a real anvil."""

import json
import sys
from pathlib import Path

import pytest

from cityledger.cli import main
from cityledger.datasets.store import MetadataStore


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
    assert v["status"] == "superseded" and v["successor"] == 2 and v["latest"] == 2
    assert v["attestations"][0]["kind"] == "quality" and v["attestations"][0]["auditor"] == devnet.accounts[3].address

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
    assert code == 0 and "VALID: row 7 of 20" in out

    doc = json.loads(proof.read_text())
    doc["row"]["temp"] = "60.5"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code, out, err = cli(capsys, "verify-row", bad, "--dataset", "1")
    assert code == 1 and "INVALID" in err
    code, out, err = cli(capsys, "verify-row", proof, "--dataset", "5")
    assert code == 1 and "not registered" in err


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
