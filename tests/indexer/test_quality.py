"""Stored metadata quality scores (indexer/quality.py): one per verified document, personal-data flag
and domain; scored beside the indexer (a thread woken at the head) or at `index --once`; kept across
rollbacks like the summaries; the catalogue's filter and sort read them (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from types import SimpleNamespace

from sqlalchemy import select

from cityledger.datasets import DatasetInfo, MetadataStore, build_metadata, default_uri
from cityledger.datasets.metadata import Coverage
from cityledger.indexer.compare import compare_stores
from cityledger.indexer.metadata import enrich
from cityledger.indexer.models import DatasetQuality
from cityledger.indexer.quality import QualityScorer, score_missing
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.reorg import rollback_to
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch
from cityledger.query.queries import list_datasets

PUB = "0x" + "a1" * 20


def document(n: int, **kw) -> dict:
    """A publisher's document for file n: complete (keywords, place, period) unless `kw` says otherwise."""
    info = dict(
        title=f"Counts {n}",
        description="Daily counts",
        publisher=PUB,
        domain="transport",
        license="CC-BY-4.0",
        keywords=["bicycles"],
        coverage=Coverage("2024-01-01", "2024-12-31", "Ghent, Belgium"),
    )
    return build_metadata(
        DatasetInfo(**(info | kw)), file_name=f"f{n}.csv", content_hash=bytes([n]) * 32, byte_size=10, media="text/csv"
    )


def register(engine, rows) -> None:
    """(id, block, registration: content hash, metadata hash and URI; personal data) through the
    indexer's reducers and writer."""
    batch = Batch()
    for did, block, registration, personal in rows:
        args = dict(dataset_id=did, publisher=PUB, domain=7, personal_data=personal, version=1, supersedes=0)
        ctx = Ctx(block, 0, "0x" + format(block, "064x"), 1_700_000_000 + block)
        batch.add(reduce("DatasetRegistered", args | registration, ctx))
    with engine.begin() as conn:
        batch.flush(conn)


def stored(store: MetadataStore, doc: dict) -> dict:
    """`doc` put in the store; what its registration names."""
    digest, _ = store.put(doc)
    return dict(content_hash=doc["cl:contentHash"], metadata_hash="0x" + digest.hex(), metadata_uri=default_uri(digest))


ELSEWHERE = dict(content_hash="0x" + "44" * 32, metadata_hash="0x" + "45" * 32, metadata_uri="ipfs://bafy/x.json")


def scores(engine) -> dict[tuple[str, bool], tuple[int, int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(DatasetQuality)).mappings().all()
    return {(r["metadata_hash"], r["personal_data"]): (r["score"], r["max_score"], r["rating"]) for r in rows}


def test_scores_of_verified_documents_survive_rollbacks_and_filter(stores, tmp_path):
    store = MetadataStore(tmp_path / "metadata")
    full, bare = stored(store, document(1)), stored(store, document(2, keywords=[], coverage=Coverage()))
    personal = stored(store, document(3, personal_data=True))
    url = stores("quality")
    migrate(url)
    engine = make_engine(url)
    register(engine, [(1, 5, full, False), (2, 6, bare, False), (3, 7, personal, True), (4, 8, ELSEWHERE, False)])
    assert score_missing(engine, store.root).candidates == 0  # nothing verified yet: the enrichment comes first
    enrich(engine, store.root)
    res = score_missing(engine, store.root)
    assert (res.candidates, res.scored, res.failed) == (3, 3, 0)
    got = scores(engine)
    hashes = [d["metadata_hash"] for d in (full, bare, personal)]
    assert got == {
        (hashes[0], False): (325, 405, "good"),  # reachability not checked: at most 325 of 405
        (hashes[1], False): (255, 405, "good"),  # no keywords (-30), place (-20), period (-20)
        (hashes[2], True): (305, 355, "good"),  # no download for personal data: out of the maximum
    }
    assert score_missing(engine, store.root).candidates == 0  # scored once
    with engine.connect() as conn:
        assert [d["dataset_id"] for d in list_datasets(conn, sort="quality")["items"]] == [3, 1, 2, 4]
        assert [d["dataset_id"] for d in list_datasets(conn, min_quality=Fraction(80, 100))["items"]] == [3, 1]
        assert list_datasets(conn)["items"][0]["quality"] is None  # dataset 4: its document is elsewhere
    with engine.begin() as conn:
        rollback_to(conn, 5)
    assert scores(engine) == got  # content-addressed: right on any branch
    fresh = make_engine(stores("fresh"))
    migrate(fresh)
    register(fresh, [(1, 5, full, False)])
    assert compare_stores(engine, fresh) == []
    engine.dispose(), fresh.dispose()


def test_scorer_thread_wakes_at_the_head(tmp_path):
    store = MetadataStore(tmp_path / "metadata")
    url = f"sqlite:///{tmp_path / 'q.db'}"
    migrate(url)
    engine = make_engine(url)
    register(engine, [(1, 5, stored(store, document(1)), False)])
    enrich(engine, store.root)
    scorer = QualityScorer(engine, store.root)
    scorer.start()
    try:
        wait_for(lambda: len(scores(engine)) == 1)  # the first pass: what was indexed before
        register(engine, [(2, 6, stored(store, document(2)), False)])
        enrich(engine, store.root)
        scorer(SimpleNamespace(to_block=6, head=100))  # catching up: no scoring to compete with it
        time.sleep(0.5)
        assert len(scores(engine)) == 1
        scorer(SimpleNamespace(to_block=100, head=100))
        wait_for(lambda: len(scores(engine)) == 2)
        assert scorer.scored == 2
    finally:
        scorer.stop()
    assert not any(t.name == "cityledger-quality" for t in threading.enumerate())
    engine.dispose()


def wait_for(done, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "not scored in time"
        time.sleep(0.05)


def test_index_once_scores_what_it_indexed(devnet, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cityledger.cli import app
    from cityledger.datasets.registry import publish

    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(tmp_path / "metadata"))
    data = tmp_path / "counts.csv"
    data.write_text("day,count\n2024-01-01,3\n2024-01-02,7\n")
    info = DatasetInfo(title="Counts", description="Daily counts", publisher=devnet.accounts[1].address,
                       domain="transport", license="CC0-1.0", keywords=["bicycles"])  # fmt: skip
    result = publish(
        devnet.w3, devnet.deployment, devnet.accounts[1], data, info, store=MetadataStore(), cfg=devnet.cfg
    )
    url = f"sqlite:///{tmp_path / 'index.db'}"
    done = CliRunner().invoke(app, ["index", "--once", "--db", url, "-q"])
    assert done.exit_code == 0, done.output
    engine = make_engine(url)
    assert scores(engine) == {(result.metadata_hash, False): (285, 405, "good")}  # no place (-20), no period (-20)
    engine.dispose()
