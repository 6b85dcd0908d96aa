"""Content-addressed metadata store: `<dir>/<sha256 hex>.json` holds the canonical bytes.

The default directory is `<data_dir>/metadata` (CITYLEDGER_METADATA_DIR overrides it). A document
is found by its hash, and a stored file whose bytes do not hash to its name is reported, not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..config import Config, config
from ..errors import CityLedgerError
from ..fingerprint.hashing import parse_hash
from .metadata import canonical_json

URI_PREFIX = "cityledger://metadata/"
URI_SCHEMES = ("cityledger://", "s3://", "ipfs://", "https://", "http://")
MAX_URI_BYTES = 256  # the contract's String[256]


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

    def has(self, digest: bytes) -> bool:
        return self.path_of(digest).is_file()

    def put(self, doc: dict) -> tuple[bytes, bool]:
        """(hash, written?) — an existing identical document is not rewritten."""
        data = canonical_json(doc)
        digest = hashlib.sha256(data).digest()
        path = self.path_of(digest)
        if path.is_file():
            return digest, False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a document
        except OSError as exc:
            raise CityLedgerError(f"cannot write metadata to {self.root}: {exc.strerror or exc}") from None
        return digest, True

    def remove(self, digest: bytes) -> None:
        self.path_of(digest).unlink(missing_ok=True)

    def get(self, digest: bytes) -> dict:
        path = self.path_of(digest)
        try:
            data = path.read_bytes()
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
