"""The DCAT document of a dataset version, as the API serves it: only a document whose SHA-256 is
the metadata hash registered on chain, read from the content-addressed store by the one bounded
loader (`cityledger.datasets.store.load_verified`, which the indexer uses too), off the event loop
and with a timeout. Other locations (s3://, ipfs://, https://, a path) are never read: the API
answers `metadata: null` for them. This module adds an in-memory cache."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping

from ..datasets.store import READ_TIMEOUT, URI_PREFIX, MetadataStore, load_verified_async, load_verified_within
from ..indexer.metadata import store_dir, summary

__all__ = ["MetadataLoader", "store_dir", "summary"]

log = logging.getLogger("cityledger.api")

Doc = dict[str, Any]
# After a read timed out, the document is not asked for again for this long (a stuck read already
# holds one of the loader's few threads); after it found nothing usable, for this long (a document
# copied into the store shows within seconds, and a page visited often costs no thread hop).
RETRY_AFTER_TIMEOUT = 60.0
RETRY_AFTER_MISS = 5.0


class MetadataLoader:
    """The verified DCAT dict of a dataset row, or None: `await loader.fetch(row)` in the API,
    `loader(row)` (blocking, same limits) in the CLI. Verified documents are cached by (hash, URI):
    content-addressed, so a cached document stays right."""

    def __init__(
        self, data_dir: Path, project_root: Path | None = None, cache_size: int = 1024, timeout: float = READ_TIMEOUT
    ):
        # project_root is no longer used (no path is read); kept for the CLI's call until it drops it.
        self.store = MetadataStore(store_dir(data_dir))
        self.cache_size, self.timeout = cache_size, timeout
        self._cache: OrderedDict[tuple[str, str], Doc] = OrderedDict()
        self._skip: dict[tuple[str, str], float] = {}  # key -> until when not to read it
        self._lock = threading.Lock()

    def __call__(self, row: RowMapping) -> Doc | None:
        key, cached, skip = self._lookup(row)
        if cached is not None or skip:
            return cached
        return self._keep(key, load_verified_within(key[1], key[0], self.store, self.timeout))

    async def fetch(self, row: RowMapping) -> Doc | None:
        key, cached, skip = self._lookup(row)
        if cached is not None or skip:
            return cached
        try:
            doc = await load_verified_async(key[1], key[0], self.store, self.timeout)
        except TimeoutError:
            log.warning("metadata %s not read within %.1f s: served without it", key[1], self.timeout)
            self._skip_for(key, RETRY_AFTER_TIMEOUT)
            return None
        return self._keep(key, doc)

    def _lookup(self, row: RowMapping) -> tuple[tuple[str, str], Doc | None, bool]:
        """(key, cached document, whether to skip reading: not a store URI, so nothing to read, or
        its last read timed out or found nothing a moment ago)."""
        key = ((row["metadata_hash"] or "").lower(), row["metadata_uri"] or "")
        if not key[1].startswith(URI_PREFIX):
            return key, None, True
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return key, self._cache[key], False
            skipped = self._skip.get(key)
            if skipped is not None and time.monotonic() < skipped:
                return key, None, True
            self._skip.pop(key, None)
        return key, None, False

    def _keep(self, key: tuple[str, str], doc: Doc | None) -> Doc | None:
        if doc is None:
            self._skip_for(key, RETRY_AFTER_MISS)  # missing or refused: looked for again shortly
            return None
        with self._lock:
            self._cache[key] = doc
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return doc

    def _skip_for(self, key: tuple[str, str], seconds: float) -> None:
        with self._lock:
            if len(self._skip) > 10 * self.cache_size:
                self._skip.clear()
            self._skip[key] = time.monotonic() + seconds
