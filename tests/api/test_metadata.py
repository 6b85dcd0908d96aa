"""DCAT documents behind `cityledger://metadata/<hash>` URIs: served from the content-addressed
store only when their bytes hash to the metadata hash registered on chain."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest
from fastapi.testclient import TestClient

from cityledger.api.app import create_app
from cityledger.api.metadata import summary
from cityledger.config import load_config
from cityledger.datasets import DatasetInfo, MetadataStore, build_metadata, default_uri
from cityledger.datasets.metadata import canonical_json
from cityledger.datasets.store import MAX_DOCUMENT_BYTES, load_verified, read_bounded
from cityledger.errors import CityLedgerError
from cityledger.indexer import models as m
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch

from .conftest import CLOSED_RPC, P1, h


def doc(title: str, n: int) -> dict:
    info = DatasetInfo(
        title=title,
        description=f"Daily counts, part {n}",
        publisher=P1,
        domain="transport",
        license="CC-BY-4.0",
        keywords=("bicycles", "counters"),
    )
    return build_metadata(
        info, file_name=f"f{n}.csv", content_hash=bytes([n]) * 32, byte_size=10, media="text/csv", record_count=365
    )


@pytest.fixture(scope="module")
def app_and_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("meta")
    data_dir = folder / "data"
    store = MetadataStore(data_dir / "metadata")
    good, _ = store.put(doc("Bicycle counters", 1))
    tampered, _ = store.put(doc("Harbour tides", 2))
    store.path_of(tampered).write_bytes(store.path_of(tampered).read_bytes().replace(b"Harbour", b"Harb0ur"))
    other, _ = store.put(doc("Library loans", 3))
    # A document outside the store at a path the publisher registered, hashing to the registered hash:
    # a path is never opened (a publisher could register "/proc/kmsg"), so it is not served.
    outside = folder / "tram-stops.json"
    outside.write_bytes(canonical_json(doc("Tram stops", 4)))
    rows = [  # (id, metadata hash on chain, metadata URI)
        (1, good, default_uri(good)),
        (2, tampered, default_uri(tampered)),
        (3, good, default_uri(other)),  # the URI names another document than the registered hash
        (4, other, "ipfs://bafy/whatever.json"),  # not local: not fetched
        (5, h("absent"), "cityledger://metadata/" + h("absent")[2:]),  # not in this machine's store
        (6, hashlib.sha256(outside.read_bytes()).digest(), str(outside)),  # a path: never read
        (7, hashlib.sha256(outside.read_bytes()).digest(), outside.as_uri()),  # file://: never read
    ]
    url = f"sqlite:///{folder / 'index.db'}"
    migrate(url)
    batch = Batch()
    for i, mhash, uri in rows:
        mh = mhash if isinstance(mhash, str) else "0x" + mhash.hex()
        batch.add(
            reduce(
                "DatasetRegistered",
                dict(
                    dataset_id=i,
                    publisher=P1,
                    content_hash=h(f"c{i}"),
                    metadata_hash=mh,
                    metadata_uri=uri,
                    domain=7,
                    personal_data=False,
                    version=1,
                    supersedes=0,
                ),
                Ctx(i, 0, h(f"tx{i}"), 1_700_000_000 + i),
            )
        )
    engine = make_engine(url)
    with engine.begin() as conn:
        batch.flush(conn)
        conn.execute(
            m.Checkpoint.__table__.insert(),
            {
                "id": 1,
                "chain_id": 31337,
                "block_number": 9,
                "block_hash": h("b9"),
                "start_block": 1,
                "head_block": 9,
                "finalized_block": 9,
                "confirmations": 2,
                "reorgs": 0,
                **{
                    c: "0x" + format(k + 1, "040x")
                    for k, c in enumerate(
                        ("roles_address", "datasets_address", "consents_address", "access_address", "rights_address")
                    )
                },
            },
        )
    engine.dispose()
    mp = pytest.MonkeyPatch()
    mp.setenv("CITYLEDGER_RPC_URL", CLOSED_RPC)
    mp.delenv("CITYLEDGER_METADATA_DIR", raising=False)
    try:
        app = create_app(load_config(), db_url=url, data_dir=data_dir, rpc_timeout=0.2)
    finally:
        mp.undo()
    return TestClient(app), store


def test_a_stored_document_is_served_with_title_and_description(app_and_store):
    client, _ = app_and_store
    d = client.get("/api/datasets/1").json()
    assert d["title"] == "Bicycle counters" and d["description"] == "Daily counts, part 1"
    assert d["metadata"]["dcat:keyword"] == ["bicycles", "counters"]


@pytest.mark.parametrize("ref", [2, 3, 4, 5, 6, 7])
def test_tampered_mismatched_remote_missing_or_path_documents_are_not_served(app_and_store, ref):
    client, _ = app_and_store
    d = client.get(f"/api/datasets/{ref}").json()
    assert d["metadata"] is None and d["title"] is None and d["description"] is None, d


def test_metadata_dir_env_moves_the_store(tmp_path, monkeypatch, app_and_store):
    from cityledger.api.metadata import MetadataLoader

    _, store = app_and_store
    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(store.root))
    loader = MetadataLoader(tmp_path / "elsewhere", tmp_path)
    digest = next(p for p in store.root.glob("*.json") if "Bicycle" in p.read_text()).stem
    row = {"metadata_hash": "0x" + digest, "metadata_uri": "cityledger://metadata/" + digest}
    assert loader(row)["dct:title"] == "Bicycle counters"


def test_summary_reads_the_dcat_fields():
    s = summary(doc("Bicycle counters", 1))
    assert s["title"] == "Bicycle counters" and s["keywords"] == ["bicycles", "counters"]
    assert s["license"] == "CC-BY-4.0" and s["record_count"] == 365
    assert summary(None)["title"] is None and summary({"dct:title": {"@value": "X"}})["title"] == "X"


def test_cli_dataset_shows_the_title(app_and_store, monkeypatch):
    from typer.testing import CliRunner

    from cityledger.cli import app as cli_app
    from cityledger.config import config

    client, store = app_and_store
    url = str(client.app.state.services.engine.url)
    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(store.root))
    monkeypatch.setenv("CITYLEDGER_RPC_URL", CLOSED_RPC)
    config.cache_clear()
    try:
        shown = CliRunner().invoke(cli_app, ["dataset", "1", "--db", url])
        tampered = CliRunner().invoke(cli_app, ["dataset", "2", "--db", url])
    finally:
        config.cache_clear()
    assert shown.exit_code == 0 and "Bicycle counters" in shown.output, shown.output
    assert tampered.exit_code == 0 and "no verified DCAT document" in tampered.output and "Harb" not in tampered.output


def test_q_searches_the_indexed_titles_descriptions_and_keywords(app_and_store, tmp_path):
    """With the indexer's DCAT summaries (indexer.metadata.enrich) the list carries titles and `q`
    matches title, description and keywords in any case; unsummarised rows keep URI/hash search."""
    from cityledger.indexer.metadata import enrich

    client, store = app_and_store
    # A copy of the module's store, which the other tests expect without summaries.
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    shutil.copy(client.app.state.services.engine.url.database, tmp_path / "copy.db")
    copy = make_engine(url)
    assert enrich(copy, store.root).added == 1  # only the good document: 2 tampered, 4 remote, 5 absent, 6-7 paths
    mp = pytest.MonkeyPatch()
    mp.setenv("CITYLEDGER_RPC_URL", CLOSED_RPC)
    mp.setenv("CITYLEDGER_METADATA_DIR", str(tmp_path / "empty"))  # documents gone: titles from the index
    try:
        api = TestClient(create_app(load_config(), db_url=url, data_dir=tmp_path, rpc_timeout=0.2))
    finally:
        mp.undo()

    def ids(q):
        body = api.get("/api/datasets", params={"q": q}).json()
        return sorted(d["dataset_id"] for d in body["items"]), body

    # Datasets 1 and 3 register the same metadata hash: the summary belongs to both.
    assert ids("BICYCLE")[0] == [1, 3] and ids("daily counts, PART 1")[0] == [1, 3] and ids("Counters")[0] == [1, 3]
    assert ids("harbour")[0] == [] and ids("harb0ur")[0] == []  # the tampered document is not indexed
    assert ids("ipfs://bafy")[0] == [4]  # URI search still works
    assert ids("%")[0] == [] and ids("_")[0] == []  # LIKE wildcards are literal
    listed = {d["dataset_id"]: d["title"] for d in api.get("/api/datasets").json()["items"]}
    assert listed == {1: "Bicycle counters", 2: None, 3: "Bicycle counters", 4: None, 5: None, 6: None, 7: None}
    d = api.get("/api/datasets/1").json()
    assert d["metadata"] is None and d["title"] == "Bicycle counters" and d["description"] == "Daily counts, part 1"
    assert api.get("/api/datasets/1/versions").json()["items"][0]["title"] == "Bicycle counters"
    copy.dispose()


def test_the_store_reader_never_blocks_follows_links_or_trusts_a_size(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # open() of a FIFO blocks until a writer comes: refused at once instead
    with pytest.raises(CityLedgerError, match="not a regular file"):
        read_bounded(fifo, 100)
    (tmp_path / "link.json").symlink_to("/proc/self/status")
    with pytest.raises(CityLedgerError, match="link is never followed"):
        read_bounded(tmp_path / "link.json", 100)
    # /proc files report size 0: the bound holds while reading, not from stat().
    assert os.stat("/proc/self/status").st_size == 0
    with pytest.raises(CityLedgerError, match="larger than 10 bytes"):
        read_bounded("/proc/self/status", 10)
    assert read_bounded("/proc/self/status", MAX_DOCUMENT_BYTES).startswith(b"Name:")
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "absent.json", 100)


def test_a_store_entry_that_is_not_a_plain_file_is_not_served(tmp_path):
    store = MetadataStore(tmp_path)
    digest = bytes(range(32))
    os.mkfifo(store.path_of(digest))  # read_bytes() on it blocked the API's event loop forever
    assert load_verified(default_uri(digest), "0x" + digest.hex(), store) is None
