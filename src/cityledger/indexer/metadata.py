"""DCAT summaries of the indexed datasets.

A document counts only when its bytes hash to the `metadata_hash` registered on chain. It is read by
the one bounded loader the API uses too (`cityledger.datasets.store.load_verified`, here with its
timeout): only from the content-addressed metadata store (`cityledger://metadata/<hash>` URIs, what
`cityledger publish` registers), never from a path a publisher registered; `s3://`, `ipfs://` and
`https://` locations are not fetched (no outbound requests): their datasets have no summary until
the document is copied into the local store (picked up by the next `cityledger index` start).

`enrich(engine, metadata_dir)` writes the searchable fields of every newly verified document into
`dataset_metadata`, keyed by the metadata hash. Content-addressed: a row is true for every dataset
with that hash on any branch, so reorg rollbacks leave the table alone.

Organisation profiles (ProfileUpdated) are summarised the same way into `profile_documents`, keyed
by the profile hash: `enrich_profiles`, run by the same hook.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, Table, and_, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from ..datasets.profiles import profile_fields
from ..datasets.store import MetadataStore, load_verified_within, metadata_dir
from ..errors import CityLedgerError
from .models import Dataset, DatasetMetadata, ProfileDocument, ProfileEvent

log = logging.getLogger("cityledger.metadata")
Doc = dict[str, Any]  # a parsed DCAT document (JSON object)

# Bounds of the stored text (the full document stays in the metadata store).
MAX_TITLE = 500
MAX_TEXT = 4000


def store_dir(data_dir: Path) -> Path:
    """`<data_dir>/metadata`, or CITYLEDGER_METADATA_DIR (as `cityledger publish` writes it)."""
    return metadata_dir(data_dir=Path(data_dir))


# ---------------------------------------------------------------- summary


def _text(value: object) -> str | None:
    """A DCAT literal: a string, or a JSON-LD value object / language map (first string found)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("@value", "rdfs:label", "en"):
            if isinstance(found := value.get(key), str):
                return found
    if isinstance(value, list):
        for item in value:
            text = _text(item)
            if text:
                return text
    return None


def summary(doc: Doc | None) -> dict[str, Any]:
    """The searchable and displayed fields of a DCAT document (all None when there is none)."""
    doc = doc if isinstance(doc, dict) else {}
    keywords = doc.get("dcat:keyword")
    if isinstance(keywords, str):
        keywords = [keywords]
    found = doc.get("dct:temporal")
    temporal: Doc = found if isinstance(found, dict) else {}
    start, end = temporal.get("dcat:startDate"), temporal.get("dcat:endDate")
    count = doc.get("cl:recordCount")
    return {
        "title": _text(doc.get("dct:title")),
        "description": _text(doc.get("dct:description")),
        "keywords": [k for k in keywords if isinstance(k, str)] if isinstance(keywords, list) else [],
        "license": _text(doc.get("dct:license")),
        "temporal": f"{start or ''}/{end or ''}" if (start or end) else None,
        "spatial": _text(doc.get("dct:spatial")),
        "record_count": count if isinstance(count, int) and not isinstance(count, bool) else None,
    }


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if isinstance(text, str) else None


def search_text(title: str | None, description: str | None, keywords: str | None) -> str:
    """What `q` is matched against: title, description and keywords, casefolded in Python (SQLite's
    lower() folds ASCII only; the query casefolds `q` the same way)."""
    return "\n".join(t for t in (title, description, keywords) if t).casefold()


def metadata_row(metadata_hash: str, doc: Doc, now: int | None = None) -> dict[str, Any]:
    """The `dataset_metadata` row of a verified document."""
    info = summary(doc)
    title, description = _clip(info["title"], MAX_TITLE), _clip(info["description"], MAX_TEXT)
    # One keyword per line (a keyword may hold commas; line breaks inside one become spaces).
    keywords = "\n".join(" ".join(k.split()) for k in info["keywords"])[:MAX_TEXT] or None
    count = info["record_count"]
    return {
        "metadata_hash": metadata_hash.lower(),
        "title": title,
        "description": description,
        "keywords": keywords,
        "license": _clip(info["license"], MAX_TITLE),
        "temporal": _clip(info["temporal"], MAX_TITLE),
        "spatial": _clip(info["spatial"], MAX_TITLE),
        "record_count": count if count is not None and 0 <= count < 2**63 else None,
        "search_text": search_text(title, description, keywords),
        "fetched_at": int(time.time()) if now is None else now,
    }


# ---------------------------------------------------------------- enrichment


@dataclass
class EnrichResult:
    candidates: int = 0  # (hash, URI) pairs without a row that were looked at
    added: int = 0  # rows written
    skipped: list[str] = field(default_factory=list)  # URIs of hashes left without a verified local document


def enrich(
    engine: Engine,
    metadata_dir: Path | str,
    *,
    project_root: Path | str | None = None,
    blocks: tuple[int, int] | None = None,
) -> EnrichResult:
    """Summarise the verified documents of indexed datasets whose metadata hash has no row yet.

    `blocks=(first, last)` limits the look to datasets registered in those blocks (the after-commit
    hook: an index range scan, nothing to do when the batch registered nothing); without it every
    dataset is considered (the backfill at start, which also retries documents missing before)."""
    D, M = Dataset.__table__, DatasetMetadata.__table__
    query = (
        select(D.c.metadata_hash, D.c.metadata_uri)
        .where(~exists().where(M.c.metadata_hash == D.c.metadata_hash))
        .distinct()
    )
    if blocks is not None:
        query = query.where(and_(D.c.registered_block >= blocks[0], D.c.registered_block <= blocks[1]))
    # project_root: no longer used (no path is read)
    return _summarise(engine, query, metadata_dir, M, lambda mhash, doc: metadata_row(mhash, doc))


def enrich_profiles(engine: Engine, metadata_dir: Path | str, *, blocks: tuple[int, int] | None = None) -> EnrichResult:
    """The fields of the verified organisation profile documents without a row yet: those whose
    ProfileUpdated is in `blocks`, or every one (the backfill). A document counts when its bytes hash
    to the profile hash on chain and it is a profile (datasets.profiles); others get no row."""
    E, P = ProfileEvent.__table__, ProfileDocument.__table__
    query = (
        select(E.c.profile_hash, E.c.profile_uri)
        .where(~exists().where(P.c.profile_hash == E.c.profile_hash))
        .distinct()
    )
    if blocks is not None:
        query = query.where(and_(E.c.block_number >= blocks[0], E.c.block_number <= blocks[1]))
    now = int(time.time())

    def row(phash: str, doc: Doc) -> dict[str, Any] | None:
        fields = profile_fields(doc)
        return None if fields is None else {"profile_hash": phash, **fields, "fetched_at": now}

    return _summarise(engine, query, metadata_dir, P, row)


def _summarise(
    engine: Engine,
    query: Any,
    metadata_dir: Path | str,
    table: Any,
    to_row: Callable[[str, Doc], dict[str, Any] | None],
) -> EnrichResult:
    """Rows of `table` for the (hash, URI) pairs `query` finds whose document is in the store, verified
    against the hash, and accepted by `to_row`; inserted unless another writer added them meanwhile."""
    store = MetadataStore(Path(metadata_dir))
    with engine.connect() as conn:
        candidates = conn.execute(query).all()
    out = EnrichResult(candidates=len(candidates))
    rows: dict[str, dict[str, Any]] = {}
    for digest, uri in candidates:
        if digest in rows:
            continue  # another URI of the same document already verified
        doc = load_verified_within(uri, digest, store)
        row = to_row(digest, doc) if doc is not None else None
        if row is not None:
            rows[digest] = row
    out.skipped = [uri for digest, uri in candidates if digest not in rows]
    if rows:
        out.added = _insert_new(engine, list(rows.values()), table)
    return out


def _insert_new(engine: Engine, rows: list[dict[str, Any]], table: Any) -> int:
    """Insert rows whose key (the document hash) is not there yet (another writer may have added one
    meanwhile)."""
    assert isinstance(table, Table)
    if engine.dialect.name not in ("postgresql", "sqlite"):  # pragma: no cover - make_engine accepts only these
        raise CityLedgerError(f"unsupported database {engine.dialect.name!r}")
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    (key,) = table.primary_key.columns
    # RETURNING counts what was written (executemany rowcounts are unreliable across drivers).
    stmt = insert(table).on_conflict_do_nothing(index_elements=[key]).returning(key)
    with engine.begin() as conn:
        return len(conn.execute(stmt, rows).all())


class _Committed(Protocol):
    """What the hook reads of a committed batch (a sync.StepResult)."""

    from_block: int
    to_block: int


class Enricher:
    """The indexer's `after_commit` hook: summarises the documents of the datasets a committed batch
    registered. Outside the indexing transaction, and never fatal to indexing: a failure is logged
    and the next call looks at every dataset again."""

    def __init__(self, engine: Engine, metadata_dir: Path | str, project_root: Path | str | None = None):
        self.engine = engine
        self.metadata_dir = Path(metadata_dir)
        self.project_root = project_root
        self.backfill_due = True
        self.added = 0
        self.profiles = 0  # organisation profiles summarised
        # Also run after each commit, outside the indexing transaction (release/audit.Auditor).
        self.followers: list[Callable[[tuple[int, int] | None], object]] = []

    def run(self, blocks: tuple[int, int] | None = None) -> EnrichResult | None:
        try:
            since = None if self.backfill_due else blocks
            summaries = enrich(self.engine, self.metadata_dir, project_root=self.project_root, blocks=since)
            profiles = enrich_profiles(self.engine, self.metadata_dir, blocks=since)
        except Exception as exc:  # the index itself is committed; summaries can wait
            log.warning("metadata enrichment failed (will retry over all datasets): %s", exc)
            self.backfill_due = True
            res: EnrichResult | None = None
        else:
            self.backfill_due = False
            self.added += summaries.added
            self.profiles += profiles.added
            if summaries.added or profiles.added:
                log.info("metadata: %d DCAT summaries, %d organisation profiles added", summaries.added, profiles.added)
            res = summaries
        for follower in self.followers:  # each handles its own failures (release audits)
            follower(blocks)
        return res

    def __call__(self, result: _Committed) -> None:
        if result.to_block >= result.from_block:
            self.run((result.from_block, result.to_block))
