"""The DCAT document of a dataset version, as the API serves it: only a document whose SHA-256 is
the metadata hash registered on chain. Loading and verification are the indexer's
(`cityledger.indexer.metadata`: one implementation for the index's summaries and for what is served);
this module adds an in-memory cache. Other locations (s3://, ipfs://, https://) are not fetched by
the API: it answers `metadata: null` for them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping

from ..datasets.store import MetadataStore
from ..indexer.metadata import load_verified, store_dir, summary

__all__ = ["MetadataLoader", "store_dir", "summary"]


class MetadataLoader:
    """`loader(row)` -> the verified DCAT dict of a dataset row, or None. Verified documents are
    cached by (hash, URI): content-addressed, so a cached document stays right."""

    def __init__(self, data_dir: Path, project_root: Path, cache_size: int = 1024):
        self.store = MetadataStore(store_dir(data_dir))
        self.project_root = Path(project_root)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, row: RowMapping) -> dict[str, Any] | None:
        want, uri = (row["metadata_hash"] or "").lower(), row["metadata_uri"] or ""
        key = (want, uri)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        doc = load_verified(uri, want, self.store, self.project_root)
        if doc is not None:
            with self._lock:
                self._cache[key] = doc
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return doc
