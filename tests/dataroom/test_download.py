"""Open downloads (exact bytes, RFC 9530 digest, ETag, ranges, HEAD; withdrawn 410, personal 403,
not stored 404) and a publisher's upload (publisher only, CSRF, hash checked while streaming, size
limit), against a real chain and the real indexer."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os

import pytest
from fastapi.testclient import TestClient

from cityledger.api.app import create_app
from cityledger.dataroom.files import LocalFileStore
from cityledger.dataroom.room import CSRF_HEADER
from cityledger.datasets.metadata import DatasetInfo
from cityledger.datasets.registry import publish, withdraw
from cityledger.datasets.store import MetadataStore

from .conftest import sign_in

LICENSE = "CC-BY-4.0"


def _publish(room, tmp_path, name: str, data: bytes, *, personal=False, stored=True, account=1) -> int:
    path = tmp_path / name
    path.write_bytes(data)
    info = DatasetInfo(
        title="test data " + "".join(ch for ch in name if ch.isalnum())[:40],
        domain="transport",
        publisher=room.chain.accounts[account].address,
        description="test data",
        license=LICENSE,
        personal_data=personal,
    )
    files = LocalFileStore(room.cfg.data_dir / "files") if stored else None
    store = MetadataStore(room.cfg.data_dir / "metadata")
    result = publish(
        room.chain.w3,
        room.chain.deployment,
        room.chain.accounts[account],
        path,
        info,
        store=store,
        files=files,
        cfg=room.cfg,
    )
    return result.dataset_id


@pytest.fixture(scope="module")
def published(room, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("files")
    data = b"day,trips\n" + b"".join(f"2026-01-{d:02d},{d * 7}\n".encode() for d in range(1, 29))
    ids = {
        "open": _publish(room, tmp, "../trips per day.csv", data),
        "personal": _publish(room, tmp, "visits.csv", b"subject,visits\n0x" + b"11" * 20 + b",3\n", personal=True),
        "unstored": _publish(room, tmp, "later.csv", b"a\n1\n", stored=False),  # the upload test stores it
        "never": _publish(room, tmp, "never.csv", b"a\n" + os.urandom(8).hex().encode() + b"\n", stored=False),
        "withdrawn": _publish(room, tmp, "old.csv", b"a\n2\n"),
    }
    withdraw(room.chain.w3, room.chain.deployment, room.chain.accounts[1], ids["withdrawn"], "wrong", cfg=room.cfg)
    room.mine()
    room.index()
    return ids, data


def test_open_dataset_downloads_its_exact_bytes(room, published):
    ids, data = published
    c = room.client()
    r = c.get(f"/api/datasets/{ids['open']}/download")
    assert r.status_code == 200 and r.content == data
    digest = hashlib.sha256(data).digest()
    assert r.headers["content-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert r.headers["etag"] == f'"{digest.hex()}"' and r.headers["content-length"] == str(len(data))
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    # The registered file name, sanitised: no path, no spaces, no quotes.
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"trips_per_day.csv\"; filename*=UTF-8''trips_per_day.csv"
    )
    assert r.headers["accept-ranges"] == "bytes"
    by_hash = c.get(f"/api/datasets/0x{digest.hex()}/download")
    assert by_hash.content == data
    assert (
        c.get(f"/api/datasets/{ids['open']}/download", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    )


def test_range_and_head(room, published):
    ids, data = published
    c = room.client()
    part = c.get(f"/api/datasets/{ids['open']}/download", headers={"Range": "bytes=4-12"})
    assert part.status_code == 206 and part.content == data[4:13]
    assert part.headers["content-range"] == f"bytes 4-12/{len(data)}" and part.headers["content-length"] == "9"
    tail = c.get(f"/api/datasets/{ids['open']}/download", headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == data[-5:]
    for bad in (f"bytes={len(data)}-", "bytes=0-1,3-4", "bytes=9-2", "lines=1-2"):
        r = c.get(f"/api/datasets/{ids['open']}/download", headers={"Range": bad})
        assert r.status_code == 416 and r.json()["error"]["code"] == "range_not_satisfiable", bad
        assert r.headers["content-range"] == f"bytes */{len(data)}"
    head = c.head(f"/api/datasets/{ids['open']}/download")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(data))
    assert head.headers["content-digest"].startswith("sha-256=:")


def test_personal_withdrawn_and_unstored_are_not_served(room, published):
    ids, _ = published
    c = room.client()
    r = c.get(f"/api/datasets/{ids['personal']}/download")
    assert r.status_code == 403 and r.json()["error"]["code"] == "personal_data"
    assert "/releases" in r.json()["error"]["message"]
    r = c.get(f"/api/datasets/{ids['withdrawn']}/download")
    assert r.status_code == 410 and "withdrawn" in r.json()["error"]["message"]
    r = c.get(f"/api/datasets/{ids['never']}/download")
    assert r.status_code == 404 and "not in this data room's store" in r.json()["error"]["message"]
    assert c.get("/api/datasets/999999/download").status_code == 404


def test_publisher_uploads_the_registered_bytes_only(room, published, tmp_path):
    ids, _ = published
    c, other = room.client(), room.client()
    sign_in(c, room.chain.accounts[1])  # the publisher
    url = f"/api/datasets/{ids['unstored']}/file"
    files = room.cfg.data_dir / "files"
    before = sorted(p for p in files.rglob("*") if p.is_file())
    wrong = c.put(url, content=b"a\n9\n")
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "hash_mismatch"
    assert sorted(p for p in files.rglob("*") if p.is_file()) == before  # nothing kept
    # Another account, even signed in with its CSRF token: not the publisher.
    sign_in(other, room.chain.accounts[2])
    refused = other.put(url, content=b"a\n1\n")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    # No CSRF header: refused before anything is read.
    token = c.headers.pop(CSRF_HEADER)
    assert c.put(url, content=b"a\n1\n").json()["error"]["code"] == "csrf"
    c.headers[CSRF_HEADER] = token
    assert room.client().put(url, content=b"a\n1\n").json()["error"]["code"] == "not_signed_in"

    def chunks():  # streamed (chunked): hashed while it arrives
        yield b"a\n"
        yield b"1\n"

    ok = c.put(url, content=chunks())
    assert ok.status_code == 201 and ok.json()["stored"] == "new" and ok.json()["size"] == 4
    assert c.get(f"/api/datasets/{ids['unstored']}/download").content == b"a\n1\n"
    again = c.put(url, content=b"a\n1\n")
    assert again.status_code == 200 and again.json()["stored"] == "already"


def test_an_upload_over_the_limit_is_refused(room, published, tmp_path):
    ids, _ = published
    data = b"p,q\n" + os.urandom(64).hex().encode() + b",1\n"
    dataset = _publish(room, tmp_path, "big.csv", data, stored=False)
    room.mine()
    room.index()
    cfg = dataclasses.replace(room.cfg, dataroom=dataclasses.replace(room.cfg.dataroom, max_upload_bytes=len(data) - 1))
    c = TestClient(create_app(cfg, db_url=room.db_url, network="devnet", data_dir=cfg.data_dir))
    sign_in(c, room.chain.accounts[1])
    declared = c.put(f"/api/datasets/{dataset}/file", content=data)
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "payload_too_large"

    def chunked():  # no Content-Length: refused as soon as the bytes pass the limit
        yield data[:40]
        yield data[40:]

    streamed = c.put(f"/api/datasets/{dataset}/file", content=chunked())
    assert streamed.status_code == 413
    assert c.get(f"/api/datasets/{dataset}/download").status_code == 404
    assert list((cfg.data_dir / "files" / "tmp").iterdir()) == []
