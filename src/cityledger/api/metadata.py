"""The DCAT document of a dataset version, as the API serves it: only a document whose SHA-256 is
the metadata hash registered on chain, read from the content-addressed metadata store
(`cityledger://metadata/<hash>` URIs) or from a local file path. Other locations (s3://, ipfs://,
https://) are not fetched by the API: it answers `metadata: null` for them."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..datasets.store import URI_PREFIX, MetadataStore
from ..errors import CityLedgerError
from ..fingerprint.hashing import parse_hash

log = logging.getLogger("cityledger.api")

MAX_FILE_BYTES = 1 << 20


def store_dir(data_dir: Path) -> Path:
    """`<data_dir>/metadata`, or CITYLEDGER_METADATA_DIR (as `cityledger publish` writes it)."""
    env = os.environ.get("CITYLEDGER_METADATA_DIR")
    return Path(env) if env else Path(data_dir) / "metadata"


def _text(value) -> str | None:
    """A DCAT literal: a string, or a JSON-LD value object / language map (first string found)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("@value", "rdfs:label", "en"):
            if isinstance(value.get(key), str):
                return value[key]
    if isinstance(value, list):
        for item in value:
            text = _text(item)
            if text:
                return text
    return None


def summary(doc: dict | None) -> dict:
    """The searchable and displayed fields of a DCAT document (all None when there is none)."""
    doc = doc if isinstance(doc, dict) else {}
    keywords = doc.get("dcat:keyword")
    if isinstance(keywords, str):
        keywords = [keywords]
    temporal = doc.get("dct:temporal") if isinstance(doc.get("dct:temporal"), dict) else {}
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


class MetadataLoader:
    """`loader(row)` -> the verified DCAT dict of a dataset row, or None. Verified documents are
    cached by (hash, URI): content-addressed, so a cached document stays right."""

    def __init__(self, data_dir: Path, project_root: Path, cache_size: int = 1024):
        self.store = MetadataStore(store_dir(data_dir))
        self.project_root = Path(project_root)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], dict] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, row) -> dict | None:
        want, uri = (row["metadata_hash"] or "").lower(), row["metadata_uri"] or ""
        key = (want, uri)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        doc = self._load(uri, want)
        if doc is not None:
            with self._lock:
                self._cache[key] = doc
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return doc

    def _load(self, uri: str, want: str) -> dict | None:
        if uri.startswith(URI_PREFIX):
            return self._from_store(uri, want)
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file"):
            return self._from_file(Path(unquote(parsed.path if parsed.scheme == "file" else uri)), want)
        return None  # s3://, ipfs://, https://: not fetched by the API

    def _from_store(self, uri: str, want: str) -> dict | None:
        try:
            digest = parse_hash(uri[len(URI_PREFIX):], "metadata hash")
        except CityLedgerError:
            return None
        if "0x" + digest.hex() != want:
            log.warning("metadata URI %s names another hash than the registered %s: not served", uri, want)
            return None
        try:
            doc = self.store.get(digest)  # checks the bytes against the hash
        except CityLedgerError as exc:
            if self.store.has(digest):  # present but altered (missing is normal: another machine published)
                log.warning("%s", exc)
            return None
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def _from_file(self, path: Path, want: str) -> dict | None:
        """A local path (the registered hash may be the file's SHA-256 or keccak)."""
        if not path.is_absolute():
            path = self.project_root / path
        try:
            if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        from eth_utils import keccak

        if want not in ("0x" + hashlib.sha256(data).hexdigest(), "0x" + keccak(data).hex()):
            return None
        try:
            out = json.loads(data)
        except ValueError:
            return None
        return out if isinstance(out, dict) else None
