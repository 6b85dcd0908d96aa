"""`cityledger publish` puts the file in the data room's store (after registering it), and
publishing an already registered file again puts it there if it is missing."""

from __future__ import annotations

import hashlib
import json


def test_publish_stores_the_file_under_its_hash(devnet, tmp_path, cli):
    f = tmp_path / "counts.csv"
    f.write_text("day,n\n2026-01-01,4\n2026-01-02,5\n")
    digest = hashlib.sha256(f.read_bytes()).hexdigest()
    stored = devnet.cfg.data_dir / "files" / "sha256" / digest[:2] / digest[2:]
    meta = ["--title", "Counts", "--domain", "transport", "--description", "daily counts", "--license", "CC0-1.0"]
    code, out, err = cli("publish", f, *meta, "--json")
    assert code == 0, err
    assert json.loads(out)["content_hash"] == "0x" + digest
    assert stored.read_bytes() == f.read_bytes()
    stored.unlink()
    code, out, err = cli("publish", f, *meta)
    assert code == 0 and "already registered" in out and "in the store" in out
    assert stored.read_bytes() == f.read_bytes()


def test_a_failed_registration_stores_nothing(devnet, tmp_path, cli):
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    # Account 4 is a researcher, not a publisher: the chain refuses, the store stays empty.
    code, _, err = cli(
        "publish",
        f,
        "--title",
        "X",
        "--domain",
        "transport",
        "--description",
        "x",
        "--license",
        "CC0-1.0",
        "--from-account",
        "4",
    )
    assert code != 0 and err
    assert not (devnet.cfg.data_dir / "files" / "sha256").exists()
