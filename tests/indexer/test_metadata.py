"""DCAT summaries in the index (indexer/metadata.py): only hash-verified local documents are
summarised, after each committed batch and at start; the table is content-addressed, so rollbacks
and compare_stores leave it alone; migration 0002 upgrades an existing 0001 store."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from cityledger.chain.accounts import AGENCY
from cityledger.datasets import DatasetInfo, MetadataStore, build_metadata, default_uri
from cityledger.datasets.store import load_verified
from cityledger.indexer.compare import compare_stores
from cityledger.indexer.metadata import Enricher, enrich, metadata_row, summary
from cityledger.indexer.models import DatasetMetadata
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.reorg import rollback_to
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.sync import Indexer
from cityledger.indexer.writer import Batch

PUB = "0x" + "a1" * 20


def h(n: int) -> str:
    return "0x" + format(n, "064x")


def doc(title: str, n: int, keywords=("bicycles", "counters")) -> dict:
    info = DatasetInfo(
        title=title,
        description=f"Daily counts, part {n}",
        publisher=PUB,
        domain="transport",
        license="CC-BY-4.0",
        keywords=list(keywords),
    )
    return build_metadata(
        info, file_name=f"f{n}.csv", content_hash=bytes([n]) * 32, byte_size=10, media="text/csv", record_count=365
    )


def register(engine, rows) -> None:
    """DatasetRegistered rows (id, block, metadata hash, URI) through the indexer's reducers and writer."""
    batch = Batch()
    for did, block, mhash, uri in rows:
        batch.add(
            reduce(
                "DatasetRegistered",
                dict(
                    dataset_id=did,
                    publisher=PUB,
                    content_hash=h(1000 + did),
                    metadata_hash=mhash,
                    metadata_uri=uri,
                    domain=7,
                    personal_data=False,
                    version=1,
                    supersedes=0,
                ),
                Ctx(block, 0, h(2000 + did), 1_700_000_000 + block),
            )
        )
    with engine.begin() as conn:
        batch.flush(conn)


def summaries(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["metadata_hash"]: dict(r) for r in conn.execute(select(DatasetMetadata)).mappings()}


@pytest.fixture
def store_docs(tmp_path):
    store = MetadataStore(tmp_path / "metadata")
    good, _ = store.put(doc("Bicycle Counters of ÖSTERSTRAßE", 1))
    tampered, _ = store.put(doc("Harbour tides", 2))
    path = store.path_of(tampered)
    path.write_bytes(path.read_bytes().replace(b"Harbour", b"Harb0ur"))
    return store, "0x" + good.hex(), "0x" + tampered.hex()


def test_enrich_keeps_only_verified_local_documents_and_survives_rollbacks(stores, store_docs):
    store, good, tampered = store_docs
    url = stores("meta")
    migrate(url)
    engine = make_engine(url)
    register(
        engine,
        [
            (1, 5, good, default_uri(bytes.fromhex(good[2:]))),
            (2, 6, tampered, default_uri(bytes.fromhex(tampered[2:]))),
            (3, 7, h(3), "ipfs://bafy/whatever.json"),  # not local: never fetched
            (4, 8, h(4), "cityledger://metadata/" + h(4)[2:]),  # not in this machine's store
            (5, 9, good, "https://data.city/copy.json"),  # same document elsewhere: one row for the hash
        ],
    )
    res = enrich(engine, store.root)
    assert res.added == 1 and sorted(res.skipped) == sorted(
        [default_uri(bytes.fromhex(tampered[2:])), "ipfs://bafy/whatever.json", "cityledger://metadata/" + h(4)[2:]]
    )
    rows = summaries(engine)
    assert set(rows) == {good}
    row = rows[good]
    assert row["title"] == "Bicycle Counters of ÖSTERSTRAßE" and row["description"] == "Daily counts, part 1"
    assert row["keywords"] == "bicycles\ncounters" and row["license"] == "CC-BY-4.0" and row["record_count"] == 365
    assert "österstrasse" in row["search_text"]  # Unicode casefolding, not SQLite's ASCII lower()
    # Nothing new: no rows added; limited to a block range without datasets, nothing even looked at.
    assert enrich(engine, store.root).added == 0
    assert enrich(engine, store.root, blocks=(100, 200)).candidates == 0
    # A rollback below every registration removes the datasets, not the content-addressed summary,
    # and compare_stores (chain data only) sees no difference with an empty store.
    with engine.begin() as conn:
        rollback_to(conn, 1)
    assert set(summaries(engine)) == {good}
    empty = stores("empty")
    migrate(empty)
    assert compare_stores(url, empty) == []
    engine.dispose()


def test_loading_is_one_implementation_for_the_api_and_the_indexer(store_docs, tmp_path):
    from cityledger.api import metadata as api_metadata

    store, good, tampered = store_docs
    assert api_metadata.summary is summary  # the API re-uses the indexer's code
    assert load_verified(default_uri(bytes.fromhex(good[2:])), good, store)["dct:title"].startswith("Bicycle")
    assert load_verified(default_uri(bytes.fromhex(tampered[2:])), tampered, store) is None
    # A path a publisher registered is never read, even one that hashes to the registered hash
    # (issue 13: "/proc/kmsg" froze the API); only the content-addressed store is.
    f = tmp_path / "doc.json"
    f.write_bytes(store.path_of(bytes.fromhex(good[2:])).read_bytes())
    assert load_verified(str(f), good, store) is None
    assert load_verified("file://" + str(f), good, store) is None
    long = metadata_row(good, {"dct:title": "x" * 5000, "dcat:keyword": ["a\nb", "c"]})
    assert len(long["title"]) == 500 and long["keywords"] == "a b\nc" and long["description"] is None


def test_migration_0002_upgrades_an_existing_0001_store(stores, store_docs):
    store, good, _ = store_docs
    url = stores("old")
    migrate(url, "0001")
    engine = make_engine(url)
    assert "dataset_metadata" not in inspect(engine).get_table_names()
    register(engine, [(1, 5, good, default_uri(bytes.fromhex(good[2:])))])
    migrate(url)
    insp = inspect(engine)
    assert "dataset_metadata" in insp.get_table_names()
    assert "ix_datasets_registered_block" in {ix["name"] for ix in insp.get_indexes("datasets")}
    assert enrich(engine, store.root).added == 1  # the datasets indexed before the upgrade are backfilled
    assert summaries(engine)[good]["title"].startswith("Bicycle")
    engine.dispose()


def test_failed_enrichment_never_stops_indexing_and_is_retried_in_full(tmp_path, store_docs, caplog):
    store, good, _ = store_docs
    url = f"sqlite:///{tmp_path / 'e.db'}"
    migrate(url)
    engine = make_engine(url)
    register(engine, [(1, 5, good, default_uri(bytes.fromhex(good[2:])))])
    enricher = Enricher(engine, store.root)
    enricher.backfill_due = False
    engine.dispose()
    broken = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    enricher.engine = broken
    with broken.begin() as conn:  # a store without the table: the query fails
        conn.exec_driver_sql("CREATE TABLE t (x int)")
    assert enricher.run((5, 5)) is None and enricher.backfill_due
    enricher.engine = make_engine(url)
    res = enricher.run((100, 100))  # a range without the dataset, but the retry looks at everything
    assert res.added == 1 and not enricher.backfill_due
    enricher.engine.dispose()
    broken.dispose()


def _csv(tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_text(
        f"day,count,batch\n2024-01-01,3,{uuid.uuid4().hex}\n2024-01-02,7,x\n"
    )  # a new content hash each run
    return str(path)


def _publish(cli_runner, app, path: str, title: str, description: str, keyword: str) -> dict:
    res = cli_runner.invoke(
        app,
        [
            "publish",
            path,
            "--title",
            title,
            "--domain",
            "transport",
            "--description",
            description,
            "--license",
            "CC-BY-4.0",
            "--keyword",
            keyword,
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # stderr may hold publish's quality warnings


def test_published_dataset_is_found_by_a_word_of_its_title(devnet, tmp_path, monkeypatch):
    """`cityledger publish` -> `index --once` -> /api/datasets?q=<a word of the title>; a tampered
    document is neither indexed nor served."""
    from typer.testing import CliRunner

    from cityledger.api.app import create_app
    from cityledger.cli import app
    from cityledger.config import config

    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(tmp_path / "metadata"))
    word, bad_word, kw = (f"{p}{uuid.uuid4().hex[:8]}" for p in ("Pedestrian", "Lighthouse", "footfall"))
    runner = CliRunner()
    good = _publish(runner, app, _csv(tmp_path, "a.csv"), f"{word} crossings", "Counts at zebra crossings", kw)
    bad = _publish(runner, app, _csv(tmp_path, "b.csv"), f"{bad_word} visits", "Visitors per day", "tourism")
    store = MetadataStore(tmp_path / "metadata")
    bad_path = store.path_of(bytes.fromhex(bad["metadata_hash"][2:]))
    bad_path.write_bytes(bad_path.read_bytes().replace(b"Visitors", b"Vis1tors"))

    url = f"sqlite:///{tmp_path / 'index.db'}"
    done = runner.invoke(app, ["index", "--once", "--db", url, "-q"])
    assert done.exit_code == 0, done.output
    assert "1 DCAT summaries added" in done.output

    config.cache_clear()
    client = TestClient(create_app(config(), db_url=url, data_dir=devnet.cfg.data_dir, rpc_timeout=0.2))
    for q in (word.lower(), word.upper(), "ZEBRA crossings", kw):
        found = client.get("/api/datasets", params={"q": q}).json()
        assert [d["dataset_id"] for d in found["items"]] == [good["dataset_id"]], (q, found)
        assert found["items"][0]["title"] == f"{word} crossings"
    assert client.get("/api/datasets", params={"q": bad_word}).json()["total"] == 0
    assert client.get("/api/datasets", params={"q": "vis1tors"}).json()["total"] == 0
    detail = client.get(f"/api/datasets/{good['dataset_id']}").json()
    assert detail["title"] == f"{word} crossings" and detail["description"] == "Counts at zebra crossings"
    tampered = client.get(f"/api/datasets/{bad['dataset_id']}").json()
    assert tampered["title"] is None and tampered["metadata"] is None and tampered["description"] is None
    listed = {d["dataset_id"]: d for d in client.get("/api/datasets").json()["items"]}
    assert listed[good["dataset_id"]]["title"] == f"{word} crossings" and listed[bad["dataset_id"]]["title"] is None
    # The CLI search runs the same query.
    cli_found = runner.invoke(app, ["datasets", "--q", word, "--db", url, "--json"])
    assert cli_found.exit_code == 0 and [d["dataset_id"] for d in json.loads(cli_found.output)["items"]] == [
        good["dataset_id"]
    ]
    status = runner.invoke(app, ["index-status", "--db", url])
    assert status.exit_code == 0 and "dataset_metadata" in status.output


def test_after_commit_hook_summarises_what_a_batch_registered(devnet, stores, tmp_path):
    """The hook path (not the start-up backfill), on SQLite and PostgreSQL."""
    from cityledger.datasets.registry import publish

    metadata_dir = tmp_path / "metadata"
    url = stores("hook")
    ix = Indexer.from_deployment(url, devnet.rpc_url, devnet.deployment, poll_interval=0.05)
    enricher = Enricher(ix.engine, metadata_dir)
    enricher.run()  # start-up backfill: nothing indexed yet
    assert not enricher.backfill_due
    ix.after_commit = enricher
    ix.catch_up()
    word = f"Tramline{uuid.uuid4().hex[:8]}"
    info = DatasetInfo(
        title=f"{word} punctuality",
        domain="transport",
        publisher=devnet.accounts[AGENCY].address,
        description="Minutes late per stop",
        license="CC-BY-4.0",
    )
    res = publish(
        devnet.w3,
        devnet.deployment,
        devnet.accounts[AGENCY],
        _csv(tmp_path, "t.csv"),
        info,
        store=MetadataStore(metadata_dir),
        cfg=devnet.cfg,
    )
    calls = []
    ix.after_commit = lambda r: (calls.append(r), enricher(r))
    ix.catch_up()
    assert calls and enricher.added == 1
    assert summaries(ix.engine)[res.metadata_hash]["title"] == f"{word} punctuality"
    ix.close()
