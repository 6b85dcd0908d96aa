"""The data room's CLI: `download` (kept only when the bytes hash to the registered hash),
`deliveries`, and `dataroom serve-obligations --once` (nothing to do is said so)."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from cityledger.dataroom.files import LocalFileStore

from .test_download import _publish


@pytest.fixture
def through_app(room, monkeypatch):
    """`download` talks to the room's API in-process (its httpx.Client is the app's TestClient)."""
    app_client = room.client()

    def client(base_url, timeout):  # noqa: ARG001 (httpx.Client's signature)
        app_client.base_url = base_url  # a str: the test client may be httpx or httpx2
        return app_client

    monkeypatch.setattr(httpx, "Client", client)
    return app_client


def test_download_verifies_and_names_the_file(room, tmp_path, cli, through_app, monkeypatch):
    data = b"station,pm25\nA,7\nB,9\n"
    dataset = _publish(room, tmp_path, "air quality.csv", data)
    room.mine()
    room.index()
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("download", dataset, "--api", "http://testserver", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["sha256"] == "0x" + hashlib.sha256(data).hexdigest() and result["verified"]
    assert (tmp_path / "air_quality.csv").read_bytes() == data
    # The store's copy altered on disk: the data room states the registered digest, the bytes do not
    # match it, and nothing is kept.
    stored = LocalFileStore(room.cfg.data_dir / "files").path_of(hashlib.sha256(data).digest())
    stored.write_bytes(data.replace(b"7", b"8"))
    code, _, err = cli("download", dataset, "--api", "http://testserver", "-o", tmp_path / "again.csv")
    assert code == 1 and "not the stated" in err
    assert not (tmp_path / "again.csv").exists() and not list(tmp_path.glob(".download-*"))


def test_download_of_a_personal_dataset_says_why(room, tmp_path, cli, through_app):
    dataset = _publish(room, tmp_path, "people.csv", b"subject,x\n0x" + b"12" * 20 + b",1\n", personal=True)
    room.mine()
    room.index()
    code, _, err = cli("download", dataset, "--api", "http://testserver")
    assert code == 1 and "never served raw" in err


def test_deliveries_and_a_pass_of_the_loop(room, cli, monkeypatch):
    code, out, err = cli("deliveries", "--db", room.db_url, "--json")
    assert code == 0, err and "items" in json.loads(out)
    for key, value in room.chain.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CITYLEDGER_DATA_DIR", str(room.cfg.data_dir))
    code, out, err = cli("dataroom", "serve-obligations", "--once", "--db", room.db_url)
    assert code == 0, err
    assert "nothing to follow" in out or "deletion obligation" in out
