"""The S3-compatible file store against moto's S3 server (a real HTTP S3 API on loopback): verified
writes (the service checks the SHA-256 too), ranged reads, and an open download served from it.

Needs boto3 (`pip install 'cityledger[s3]'`) in the test process and moto's server (`moto[server]`)
for the server process: skipped when either is missing. MOTO_PYTHONPATH may point the server
process at a folder where moto is installed (`pip install --target DIR 'moto[server]'`), so moto's
many dependencies stay out of the project's environment."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import subprocess
import sys
import time

import pytest

boto3 = pytest.importorskip("boto3")

from cityledger.dataroom.files import HashMismatch, S3FileStore, put_bytes, read_all  # noqa: E402

BUCKET = "city-files"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_url(tmp_path_factory):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.environ.get("MOTO_PYTHONPATH", "")}
    probe = subprocess.run([sys.executable, "-c", "import moto.server"], env=env, capture_output=True)
    if probe.returncode != 0:
        pytest.skip("moto[server] is not installed (set MOTO_PYTHONPATH to a folder holding it)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("moto's S3 server did not start")
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        boto3.client("s3", endpoint_url=url).create_bucket(Bucket=BUCKET)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_s3_store_keeps_verified_files_and_reads_ranges(s3_url, tmp_path):
    store = S3FileStore(f"s3://{BUCKET}/cityledger", tmp_path / "spool", endpoint_url=s3_url)
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks
    digest = put_bytes(store, data)
    assert digest == "0x" + hashlib.sha256(data).hexdigest()
    assert store.size(digest) == len(data) and read_all(store, digest) == data
    assert b"".join(store.read(digest, 10, 1000)) == data[10:1000]
    key = f"cityledger/sha256/{digest[2:4]}/{digest[4:]}"
    assert boto3.client("s3", endpoint_url=s3_url).head_object(Bucket=BUCKET, Key=key)["ContentLength"] == len(data)
    writer = store.writer(hashlib.sha256(b"other").hexdigest())
    writer.write(b"not other")
    with pytest.raises(HashMismatch):
        writer.commit()
    assert store.size(hashlib.sha256(b"other").hexdigest()) is None
    assert list((tmp_path / "spool").iterdir()) == []  # the local spool is emptied
    assert store.size("0x" + "00" * 32) is None


def test_open_download_from_the_s3_store(s3_url, room, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from cityledger.api.app import create_app
    from cityledger.datasets.metadata import DatasetInfo
    from cityledger.datasets.registry import publish
    from cityledger.datasets.store import MetadataStore

    monkeypatch.setenv("CITYLEDGER_S3_ENDPOINT_URL", s3_url)
    url = f"s3://{BUCKET}/room"
    data = b"x,y\n" + os.urandom(6).hex().encode() + b",1\n"
    path = tmp_path / "s3.csv"
    path.write_bytes(data)
    files = S3FileStore(url, tmp_path / "spool", endpoint_url=s3_url)
    info = DatasetInfo(
        title="s3 test",
        domain="transport",
        publisher=room.chain.accounts[1].address,
        description="x",
        license="CC0-1.0",
    )
    store = MetadataStore(room.cfg.data_dir / "metadata")
    dataset = publish(
        room.chain.w3,
        room.chain.deployment,
        room.chain.accounts[1],
        path,
        info,
        store=store,
        files=files,
        cfg=room.cfg,
    ).dataset_id
    room.mine()
    room.index()
    cfg = dataclasses.replace(room.cfg, dataroom=dataclasses.replace(room.cfg.dataroom, file_store=url))
    c = TestClient(create_app(cfg, db_url=room.db_url, network="devnet", data_dir=cfg.data_dir))
    got = c.get(f"/api/datasets/{dataset}/download")
    assert got.status_code == 200 and got.content == data
    part = c.get(f"/api/datasets/{dataset}/download", headers={"Range": "bytes=2-5"})
    assert part.status_code == 206 and part.content == data[2:6]
