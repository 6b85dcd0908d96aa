"""The commands that need no chain: fingerprint, prove, verify-row --root."""

import hashlib
import json
import os

import pytest

from cityledger.cli import dataset_cmds
from cityledger.fingerprint import rows_root

from .test_cli_chain import cli


def test_fingerprint_prove_verify_row(tmp_path, capsys, monkeypatch):
    f = tmp_path / "t.csv"
    f.write_bytes(b"b,a\r\n2,1\r\n4,3\r\n")
    monkeypatch.setattr(dataset_cmds, "PROGRESS_MIN_BYTES", 0)  # exercise the progress bar path too
    code, out, err = cli(capsys, "fingerprint", f, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["content_hash"] == "0x" + hashlib.sha256(f.read_bytes()).hexdigest()
    assert data["rows_root"] == "0x" + rows_root(f).root.hex() and data["record_count"] == 2

    code, out, err = cli(capsys, "prove", f, "--row", "2")
    assert code == 0, err
    proof = json.loads(out)
    assert proof["row"] == {"a": "3", "b": "4"} and proof["row_number"] == 2
    p = tmp_path / "p.json"
    p.write_text(out)
    code, out, _ = cli(capsys, "verify-row", p, "--root", data["rows_root"], "--tree-size", "2")
    assert code == 0 and "VALID: row 2 of 2 is in the root given" in out
    code, _, err = cli(capsys, "verify-row", p, "--root", "0x" + "ab" * 32)
    assert code == 1 and "INVALID" in err
    code, _, err = cli(capsys, "verify-row", p, "--root", "0x" + "ab" * 32, "--dataset", "1")
    assert code == 1 and "not both" in err
    code, _, err = cli(capsys, "prove", f, "--row", "3")
    assert code == 1 and "row 3 out of range: " in err
    code, _, err = cli(capsys, "prove", f, "--row", "1", "--out", tmp_path)
    assert code == 1 and "is a directory" in err


def test_fingerprint_any_file_and_bad_paths(tmp_path, capsys):
    b = tmp_path / "x.bin"
    b.write_bytes(b"\x00" * 10)
    code, out, _ = cli(capsys, "fingerprint", b)
    assert code == 0 and hashlib.sha256(b"\x00" * 10).hexdigest() in out and "rows root" not in out
    code, _, err = cli(capsys, "fingerprint", tmp_path / "none.csv")
    assert code == 1 and "no such file" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1\n")
    code, _, err = cli(capsys, "fingerprint", bad)
    assert code == 1 and "malformed row at line 2" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path, capsys):
    unreadable = tmp_path / "u.csv"
    unreadable.write_text("a\n1\n")
    unreadable.chmod(0)
    code, _, err = cli(capsys, "fingerprint", unreadable)
    assert code == 1 and "permission denied" in err
