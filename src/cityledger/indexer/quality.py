"""Metadata quality scores of the indexed datasets, stored for the catalogue's "minimum quality"
filter and its sort by score (docs/CATALOG.md §9-10, docs/INDEXER.md "Metadata quality").

Without probing the network, a version's score is a function of its verified document, its
personal-data flag and its domain: the other chain facts (id, status, times, lineage) change the
description's IRIs and dates, not which indicators it earns. So it is stored once per (metadata
hash, personal data, domain) in `dataset_quality`, content-addressed like `dataset_metadata`.
Reachability is "not checked" in a stored score (docs/CATALOG.md §9): the API's quality route says
so, and probes what it can.

Scoring takes 30-50 ms a document (most of it the DCAT-AP SHACL validation), so it runs in a
thread beside the indexer, not in its loop (100,000 registrations would hold a catch-up back by an
hour): `QualityScorer` wakes when a committed batch reaches the chain's head, and scores every
document the metadata enrichment has verified (a `dataset_metadata` row) that has no current score.
A dataset whose document is not in the local store has no score: unknown, not bad.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, RowMapping, Table, and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ..datasets.store import MetadataStore, load_verified_within
from ..errors import CityLedgerError
from .models import Dataset, DatasetMetadata, DatasetQuality

if TYPE_CHECKING:  # the engine (rdflib, pyshacl) is imported when something is scored, not with the store
    from ..catalog.facts import ChainFacts

log = logging.getLogger("cityledger.quality")

# Bumped when the scoring changes (weights, indicators, shapes): rows of an older version are redone.
VERSION = 1
BATCH = 50  # documents scored per write transaction

D, M = Dataset.__table__, DatasetMetadata.__table__
Q = DatasetQuality.__table__
# A dataset's score row: the same document registered with the same personal-data flag and domain.
SCORE_OF = and_(
    Q.c.metadata_hash == D.c.metadata_hash, Q.c.personal_data == D.c.personal_data, Q.c.domain == D.c.domain
)


def describable(doc: Mapping[str, Any] | None, facts: ChainFacts) -> Mapping[str, Any] | None:
    """`doc` when a description can be derived from it, else None: the engine refuses a document of
    a schema version it does not know, or one describing another file than the registered content
    hash (a publisher can register any JSON). Such a version is described by its chain facts alone,
    as one whose document is not here, and one bad registration cannot break a catalogue page."""
    from ..catalog.registered import read_registered

    if doc is None:
        return None
    try:
        registered = read_registered(doc)
    except CityLedgerError:
        return None
    if registered.content_hash and registered.content_hash.lower() != facts.content_hash.lower():
        return None
    return doc


def quality_row(doc: Mapping[str, Any] | None, row: Mapping[Any, Any], now: int | None = None) -> dict[str, Any]:
    """The `dataset_quality` row of a dataset row (the indexer's `datasets` table) and its document."""
    from ..catalog.facts import facts_from_rows
    from ..catalog.quality import PROVISIONAL_BASE, dataset_quality

    facts = facts_from_rows([row])[0]
    report = dataset_quality(describable(doc, facts), facts, base=PROVISIONAL_BASE)
    return {
        "metadata_hash": str(row["metadata_hash"]).lower(),
        "personal_data": bool(row["personal_data"]),
        "domain": int(row["domain"]),
        "score": report.score,
        "max_score": report.max_score,
        "percent": report.percent,
        "rating": report.rating,
        "version": VERSION,
        "scored_at": int(time.time()) if now is None else now,
    }


@dataclass
class ScoreResult:
    candidates: int = 0  # (document, personal data, domain) keys without a current score
    scored: int = 0  # rows written
    failed: int = 0  # documents that could not be read or scored (tried again at the next run)


def score_missing(engine: Engine, metadata_dir: Path | str, stop: threading.Event | None = None) -> ScoreResult:
    """Score every verified document (a dataset_metadata row) registered with a personal-data flag
    and domain that has no score of the current VERSION; `stop` ends it between documents."""
    store = MetadataStore(Path(metadata_dir))
    query = (
        select(D)
        .join(M, M.c.metadata_hash == D.c.metadata_hash)
        .outerjoin(Q, SCORE_OF)
        .where(or_(Q.c.metadata_hash.is_(None), Q.c.version < VERSION))
        .order_by(D.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    todo: dict[tuple[str, bool, int], RowMapping] = {}
    for r in rows:  # one dataset per key: the score is the same for all of them
        todo.setdefault((r["metadata_hash"], bool(r["personal_data"]), r["domain"]), r)
    out = ScoreResult(candidates=len(todo))
    batch: list[dict[str, Any]] = []
    for r in todo.values():
        if stop is not None and stop.is_set():
            break
        doc = load_verified_within(r["metadata_uri"], r["metadata_hash"], store)
        if doc is None:  # gone from the store since it was summarised
            out.failed += 1
            continue
        try:
            batch.append(quality_row(doc, r))
        except Exception as exc:  # an engine bug on an odd document must not stop the others
            log.warning("quality of dataset %s not scored: %s", r["id"], exc)
            out.failed += 1
        if len(batch) >= BATCH:
            out.scored += _upsert(engine, batch)
            batch = []
    if batch:
        out.scored += _upsert(engine, batch)
    return out


def _upsert(engine: Engine, rows: list[dict[str, Any]]) -> int:
    assert isinstance(Q, Table)
    if engine.dialect.name not in ("postgresql", "sqlite"):  # pragma: no cover - make_engine accepts only these
        raise CityLedgerError(f"unsupported database {engine.dialect.name!r}")
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(Q)
    keys = [Q.c.metadata_hash, Q.c.personal_data, Q.c.domain]
    values = {c.name: stmt.excluded[c.name] for c in Q.c if c not in keys}
    with engine.begin() as conn:
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=values), rows)
    return len(rows)


class _Committed(Protocol):
    """What the hook reads of a committed batch (a sync.StepResult)."""

    to_block: int
    head: int


class QualityScorer:
    """Scores in a thread of its own (`start`/`stop`), woken by `__call__` (the indexer's
    `after_commit`, after the metadata enrichment) once a batch reaches the head; `run()` scores
    in the caller's thread (`index --once`). A failure is logged and tried again at the next wake."""

    def __init__(self, engine: Engine, metadata_dir: Path | str):
        self.engine = engine
        self.metadata_dir = Path(metadata_dir)
        self.scored = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> ScoreResult | None:
        try:
            res = score_missing(self.engine, self.metadata_dir, self._stop)
        except Exception as exc:  # the index is committed; scores can wait
            log.warning("quality scoring failed (will retry): %s", exc)
            return None
        self.scored += res.scored
        if res.scored:
            log.info("quality: %d dataset scores written", res.scored)
        return res

    def __call__(self, result: _Committed) -> None:
        # While catching up, scoring would only compete with the indexer for the interpreter.
        if result.to_block >= result.head:
            self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._wake.set()  # a first pass over what is indexed already
            self._thread = threading.Thread(target=self._loop, name="cityledger-quality", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.is_set():
                return
            self._wake.clear()
            self.run()
