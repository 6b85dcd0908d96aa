"""The query CLI on the seeded store, and the web page served at / beside the API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityledger.api.app import create_app
from cityledger.cli import app as cli_app
from cityledger.errors import CityLedgerError

from .conftest import C1, C3


@pytest.fixture
def run(seeded, monkeypatch):
    monkeypatch.setenv("CITYLEDGER_DATA_DIR", str(seeded.data_dir))
    monkeypatch.setenv("CITYLEDGER_RPC_URL", "http://127.0.0.1:9")
    from cityledger.config import config

    config.cache_clear()
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli_app, [*args, "--db", seeded.url])

    yield invoke
    config.cache_clear()


def test_json_output_matches_the_api(run, client):
    res = run("datasets", "--domain", "health", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == client.get("/api/datasets", params={"domain": "health"}).json()
    assert [d["dataset_id"] for d in json.loads(res.output)["items"]] == [2, 1]
    consents = json.loads(run("consents", C3, "--block", "15", "--json").output)
    assert [c["state"] for c in consents["items"]] == ["active"]
    check = json.loads(
        run(
            "consent-check",
            "--citizen",
            C3,
            "--purpose",
            "ScientificResearch",
            "--scope-kind",
            "domain",
            "--scope-id",
            "health",
            "--json",
        ).output
    )
    assert check["state"] == "revoked"
    used = json.loads(run("used-my-data", C1, "--json").output)
    assert [u["release_id"] for u in used] == [2, 1] and all(u["proof_verified"] for u in used)
    assert [u["audit"]["status"] for u in used] == ["mismatch", "verified"]
    overdue = json.loads(run("rights", "--overdue", "--json").output)
    assert [r["request_id"] for r in overdue["items"]] == [1]


def test_tables_are_readable(run):
    res = run("dataset", "2")
    assert res.exit_code == 0 and "lineage" in res.output and "1 -> 2" in res.output
    res = run("releases")
    assert res.exit_code == 0 and "releases" in res.output
    res = run("status")
    # exit 6: the node does not answer (README "Exit codes"); the index's own status is still shown
    assert res.exit_code == 6 and "not answering" in res.output and "last block 40" in res.output
    res = run("access", "--status", "granted")
    assert res.exit_code == 0 and "live" in res.output


@pytest.mark.parametrize(
    "args, needle",
    [
        (("consents", "0x12"), "20-byte hex address"),
        (("datasets", "--publisher", "nobody"), "20-byte hex address"),
        (("datasets", "--domain", "space"), "--domain must be one of"),
        (("dataset", "0xabc"), "64 hex digits"),
        (("dataset", "77"), "no dataset with id 77"),
        (("consents", C1, "--block", "999"), "past the last indexed block"),
    ],
)
def test_bad_input_is_a_clear_error(run, args, needle):
    res = run(*args)
    assert isinstance(res.exception, CityLedgerError) and needle in str(res.exception)


def test_missing_store_is_a_clear_error(tmp_path):
    cli = Path(sys.executable).parent / "cityledger"
    out = subprocess.run(
        [str(cli), "datasets", "--db", f"sqlite:///{tmp_path / 'no.db'}"], capture_output=True, text=True
    )
    assert out.returncode == 1 and "run `cityledger index --once` first" in out.stderr
    assert not (tmp_path / "no.db").exists()


def test_the_page_is_served_at_root_beside_the_api(seeded, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>CityLedger</title>")
    c = TestClient(create_app(db_url=seeded.url, data_dir=seeded.data_dir, frontend_dir=tmp_path))
    page = c.get("/")
    assert page.status_code == 200 and "<title>CityLedger</title>" in page.text
    assert c.get("/api/datasets/2").json()["dataset_id"] == 2
    missing = c.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
