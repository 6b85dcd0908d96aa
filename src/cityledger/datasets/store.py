"""Content-addressed metadata store: `<dir>/<sha256 hex>.json` holds the canonical bytes.

The default directory is `<data_dir>/metadata` (CITYLEDGER_METADATA_DIR overrides it). A document
is found by its hash, and a stored file whose bytes do not hash to its name is reported, not used.
Besides DCAT metadata it holds the other public documents whose SHA-256 goes on chain: organisation
profiles, rights answers (`<hash>.txt` when they are text, not JSON) and release consent snapshots;
`GET /api/documents/{sha256}` serves any of them (`document`).

`load_verified` is the one reader of "the DCAT document registered for a dataset version", for the
API and the indexer alike: only from this store, bounded. A dataset's metadata URI is whatever its
publisher registered (the contract accepts any string), so it is never opened as a path: reading
`/proc/kmsg` (size 0, so a size check before reading passed; the read blocked forever) froze the
API's event loop for everyone. Store files are opened without following links and without
blocking, must be regular files, are read to at most MAX_DOCUMENT_BYTES, and in a bounded thread
pool with a timeout (`load_verified_within`, `load_verified_async`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from ..config import Config, config
from ..errors import CityLedgerError
from ..fingerprint.hashing import parse_hash
from .metadata import canonical_json

log = logging.getLogger("cityledger.metadata")

URI_PREFIX = "cityledger://metadata/"
URI_SCHEMES = ("cityledger://", "s3://", "ipfs://", "https://", "http://")
MAX_URI_BYTES = 256  # the contract's String[256]
MAX_DOCUMENT_BYTES = 1 << 20  # a DCAT document is a few KiB
READ_TIMEOUT = 2.0  # seconds for one document, from a local disk


def metadata_dir(cfg: Config | None = None, data_dir: Path | None = None) -> Path:
    """CITYLEDGER_METADATA_DIR, else `<data_dir>/metadata` (data_dir defaults to the configured one)."""
    env = os.environ.get("CITYLEDGER_METADATA_DIR")
    if env:
        return Path(env)
    return (data_dir if data_dir is not None else (cfg or config()).data_dir) / "metadata"


def default_uri(digest: bytes) -> str:
    return URI_PREFIX + digest.hex()


def check_uri(uri: str) -> str:
    """A metadata URI the contract accepts: a known scheme and at most 256 bytes."""
    if not uri.startswith(URI_SCHEMES):
        raise CityLedgerError(f"metadata URI '{uri}' must start with one of: {', '.join(URI_SCHEMES)}")
    if len(uri.encode()) > MAX_URI_BYTES:
        raise CityLedgerError(f"metadata URI is {len(uri.encode())} bytes; the chain holds at most {MAX_URI_BYTES}")
    return uri


class MetadataStore:
    def __init__(self, root: Path | None = None, cfg: Config | None = None):
        self.root = Path(root) if root is not None else metadata_dir(cfg)

    def path_of(self, digest: bytes) -> Path:
        return self.root / f"{digest.hex()}.json"

    @staticmethod
    def uri_of(digest: bytes) -> str:
        """The cityledger:// URI of a stored document (what goes on chain beside its hash)."""
        return default_uri(digest)

    def has(self, digest: bytes) -> bool:
        return self.path_of(digest).is_file()

    def put(self, doc: dict) -> tuple[bytes, bool]:
        """(hash, written?) — an existing identical document is not rewritten."""
        return self.put_bytes(canonical_json(doc), JSON)

    def put_bytes(self, data: bytes, suffix: str) -> tuple[bytes, bool]:
        """Store exact bytes under their SHA-256 (suffix `.json` or `.txt`): (hash, written?)."""
        if suffix not in SUFFIXES:
            raise ValueError(f"a stored document is {' or '.join(SUFFIXES)}, not {suffix!r}")
        digest = hashlib.sha256(data).digest()
        path = self.root / f"{digest.hex()}{suffix}"
        if path.is_file():
            return digest, False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=suffix)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a document
        except OSError as exc:
            raise CityLedgerError(f"cannot write a document to {self.root}: {exc.strerror or exc}") from None
        return digest, True

    def put_text(self, data: bytes) -> bytes:
        """Store a document given as a file's bytes (a rights answer: Markdown, plain text or JSON);
        returns its SHA-256. Refused unless it is UTF-8 text of at most MAX_DOCUMENT_BYTES: what the
        documents route serves (never as HTML)."""
        if len(data) > MAX_DOCUMENT_BYTES:
            raise CityLedgerError(f"the document is {len(data)} bytes; at most {MAX_DOCUMENT_BYTES} are served")
        if media_type(data) == BINARY:
            raise CityLedgerError("the document is not UTF-8 text (Markdown, plain text or JSON)")
        digest, _ = self.put_bytes(data, JSON if media_type(data) == JSON_TYPE else TEXT)
        return digest

    def document(self, digest: bytes, max_bytes: int = MAX_DOCUMENT_BYTES) -> tuple[bytes, str] | None:
        """The exact bytes of a stored document and their media type (JSON, else UTF-8 text), or None
        when it is not here. CityLedgerError when it is larger than `max_bytes` or altered."""
        for suffix in SUFFIXES:
            path = self.root / f"{digest.hex()}{suffix}"
            try:
                data = read_bounded(path, max_bytes)
            except FileNotFoundError:
                continue
            if hashlib.sha256(data).digest() != digest:
                raise CityLedgerError(f"{path}: content does not match its hash (altered or corrupted)")
            return data, media_type(data)
        return None

    def remove(self, digest: bytes) -> None:
        self.path_of(digest).unlink(missing_ok=True)

    def get(self, digest: bytes) -> dict:
        path = self.path_of(digest)
        try:
            data = read_bounded(path, MAX_DOCUMENT_BYTES)
        except FileNotFoundError:
            raise CityLedgerError(f"metadata {digest.hex()} is not in the local store ({self.root})") from None
        if hashlib.sha256(data).digest() != digest:
            raise CityLedgerError(f"{path}: content does not match its hash (altered or corrupted)")
        return json.loads(data)

    def get_uri(self, uri: str) -> dict:
        """The document behind a cityledger:// URI (other schemes live outside this store)."""
        if not uri.startswith(URI_PREFIX):
            raise CityLedgerError(f"metadata at '{uri}' is not in the local store; fetch it from there")
        return self.get(parse_hash(uri[len(URI_PREFIX) :], "metadata hash"))


JSON, TEXT = ".json", ".txt"
SUFFIXES = (JSON, TEXT)
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"


def media_type(data: bytes) -> str:
    """What a stored document is, from its bytes: JSON, else UTF-8 text, else binary (never HTML:
    the documents route serves text as text/plain, so a page in it is not rendered)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return BINARY
    try:
        json.loads(text)
    except ValueError:
        return TEXT_TYPE
    return JSON_TYPE


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, refused past `max_bytes` while reading (a size from stat() can
    lie: /proc files report 0). Never follows a link and never blocks on open or read: a FIFO,
    device or link is refused. FileNotFoundError when it is not there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CityLedgerError(f"{path}: cannot be read ({exc.strerror or exc}; a link is never followed)") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CityLedgerError(f"{path}: not a regular file")
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 16, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise CityLedgerError(f"{path}: larger than {max_bytes} bytes")
        return b"".join(chunks)
    except BlockingIOError:
        raise CityLedgerError(f"{path}: would block (not a plain file)") from None
    finally:
        os.close(fd)


def load_verified(uri: str, want: str, store: MetadataStore) -> dict[str, Any] | None:
    """The DCAT dict registered as `want` (the 0x metadata hash on chain) under `uri`, from the
    content-addressed store only, or None: another scheme (s3://, ipfs://, https://, a path: never
    opened), another hash in the URI than the registered one, missing, altered, too large, not a
    JSON object. Blocking but bounded; use the timed forms below from a server or a loop."""
    want = (want or "").lower()
    if not (uri or "").startswith(URI_PREFIX):
        return None
    try:
        digest = parse_hash(uri[len(URI_PREFIX) :], "metadata hash")
    except CityLedgerError:
        return None
    if "0x" + digest.hex() != want:
        log.warning("metadata URI %s names another hash than the registered %s: not used", uri, want)
        return None
    try:
        doc = store.get(digest)  # checks the bytes against the hash
    except CityLedgerError as exc:
        if store.has(digest):  # present but altered or unreadable (missing is normal: published elsewhere)
            log.warning("%s", exc)
        return None
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


# A few threads of their own: a read that hangs (a stalled disk) holds one of them, never the
# event loop nor the server's thread pool.
_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cityledger-metadata")


def load_verified_within(
    uri: str, want: str, store: MetadataStore, timeout: float = READ_TIMEOUT
) -> dict[str, Any] | None:
    """load_verified in the readers' pool, None (logged) after `timeout` seconds (the indexer)."""
    future = _READERS.submit(load_verified, uri, want, store)
    try:
        return future.result(timeout)
    except FutureTimeout:
        future.cancel()
        log.warning("metadata %s not read within %.1f s: skipped", uri, timeout)
        return None


async def load_verified_async(
    uri: str, want: str, store: MetadataStore, timeout: float = READ_TIMEOUT
) -> dict[str, Any] | None:
    """load_verified off the event loop (the API); TimeoutError after `timeout` seconds."""
    future = asyncio.wrap_future(_READERS.submit(load_verified, uri, want, store))
    return await asyncio.wait_for(future, timeout)
