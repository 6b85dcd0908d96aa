"""The data room's file store: dataset and release files, content-addressed by SHA-256.

Local (the default): `<data_dir>/files/sha256/ab/cdef…` (the hex digest split after two digits, so
no folder holds more than 1/256 of the files). A file is written to a temporary file in the store's
own folder, hashed while it is written, fsynced, and renamed into place only when its SHA-256 is the
one it must have: a reader never sees half a file, and bytes that are not the registered ones are
never kept. Keys are 64 hex digits checked before any path is built, so no name reaches the disk.

S3-compatible (`s3://bucket/prefix`, boto3: `pip install 'cityledger[s3]'`): the same keys under the
prefix; the upload is hashed into a local temporary file first (S3 cannot rename), put with the
object's SHA-256 checksum (the service refuses bytes that do not match it), then the temporary file
is removed. `CITYLEDGER_S3_ENDPOINT_URL` points at MinIO, Ceph or another S3-compatible service;
credentials come from boto3's usual chain (environment, ~/.aws, instance role), never from our files.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ..errors import CityLedgerError

CHUNK = 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


class HashMismatch(CityLedgerError):
    """Bytes that do not hash to the SHA-256 they were stored under (nothing was kept)."""


class TooLarge(CityLedgerError):
    """More bytes than the store accepts for one file (nothing was kept)."""


def key_of(sha256: str | bytes) -> str:
    """The store key (64 lowercase hex digits) of a SHA-256 given as bytes or `0x`-hex; anything else
    (a path, `..`, a shorter string) is refused before it can name a file."""
    if isinstance(sha256, bytes):
        if len(sha256) != 32:
            raise CityLedgerError(f"a SHA-256 has 32 bytes, not {len(sha256)}")
        return sha256.hex()
    hexed = sha256.lower().removeprefix("0x")
    if not _HEX64.fullmatch(hexed):
        raise CityLedgerError(f"not a SHA-256 (0x + 64 hex digits): {sha256[:80]!r}")
    return hexed


def relative_key(sha256: str | bytes) -> str:
    key = key_of(sha256)
    return f"sha256/{key[:2]}/{key[2:]}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sanitise_name(name: str | None, fallback: str) -> str:
    """A file name safe in a Content-Disposition header and on any disk: the last path component,
    letters, digits, `.`, `_` and `-` only (anything else becomes `_`), no leading dot, at most 100
    characters; `fallback` when nothing is left."""
    if name:
        name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        name = re.split(r"[/\\]", name)[-1]
        name = _UNSAFE.sub("_", name).lstrip("._-")[:100].rstrip("._-")
    return name or fallback


def content_digest(sha256_hex: str) -> str:
    """The RFC 9530 Content-Digest header value of a SHA-256 given in hex."""
    return "sha-256=:" + base64.b64encode(bytes.fromhex(key_of(sha256_hex))).decode() + ":"


class FileStore(Protocol):
    location: str

    def size(self, sha256: str | bytes) -> int | None:
        """The stored file's size, None when it is not in the store."""

    def read(self, sha256: str | bytes, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes [start, end) of a stored file, in chunks."""

    def writer(self, sha256: str | bytes, max_bytes: int | None = None) -> Writer:
        """A writer that keeps the file only if its bytes hash to `sha256` (and are at most `max_bytes`)."""


class Writer:
    """Receives a file's bytes into a temporary file in `folder`, hashing them; `commit` keeps it under
    its key only if the hash is the expected one, `abort` (or any error) removes it."""

    def __init__(self, folder: Path, want: str, max_bytes: int | None, keep: Any):
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-")
        self.tmp = Path(name)
        self.fh: BinaryIO = os.fdopen(fd, "wb")
        self.want, self.max_bytes, self._keep = want, max_bytes, keep
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            self.abort()
            raise TooLarge(f"the file is larger than the {self.max_bytes} bytes this store accepts")
        self.hash.update(chunk)
        self.fh.write(chunk)

    def commit(self) -> bool:
        """Keep the file (True: stored now, False: it was already there). HashMismatch if the bytes
        are not the expected ones (the temporary file is removed)."""
        got = self.hash.hexdigest()
        if got != self.want:
            self.abort()
            raise HashMismatch(f"the bytes hash to 0x{got}, not the registered 0x{self.want}: not stored")
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            return bool(self._keep(self.tmp, self.want))
        finally:
            self.tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


class LocalFileStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.location = str(self.root)

    def path_of(self, sha256: str | bytes) -> Path:
        return self.root / relative_key(sha256)

    def size(self, sha256: str | bytes) -> int | None:
        try:
            st = os.lstat(self.path_of(sha256))
        except FileNotFoundError:
            return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None  # a link or a folder is never served

    def read(self, sha256: str | bytes, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        fd = os.open(self.path_of(sha256), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb", buffering=0) as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise CityLedgerError(f"{self.path_of(sha256)}: not a regular file")
            fh.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = fh.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def writer(self, sha256: str | bytes, max_bytes: int | None = None) -> Writer:
        return Writer(self.root / "tmp", key_of(sha256), max_bytes, self._keep)

    def _keep(self, tmp: Path, key: str) -> bool:
        final = self.path_of(key)
        if self.size(key) is not None:
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)  # atomic: a reader sees the whole file or none
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        finally:
            os.close(dir_fd)
        return True


class S3FileStore:
    def __init__(self, url: str, spool: Path, endpoint_url: str | None = None, client: Any = None):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise CityLedgerError(f"an S3 file store is s3://bucket[/prefix], not {url!r}")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.location = url
        self.spool = Path(spool)
        if client is None:
            try:
                import boto3
            except ImportError:
                raise CityLedgerError(
                    "the S3 file store needs boto3: pip install 'cityledger[s3]' (or use file_store = \"local\")"
                ) from None
            client = boto3.client("s3", endpoint_url=endpoint_url or os.environ.get("CITYLEDGER_S3_ENDPOINT_URL"))
        self.client = client

    def _key(self, sha256: str | bytes) -> str:
        return f"{self.prefix}/{relative_key(sha256)}" if self.prefix else relative_key(sha256)

    def size(self, sha256: str | bytes) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise CityLedgerError(f"the S3 store {self.location} cannot be read: {exc}") from None
        return int(head["ContentLength"])

    def read(self, sha256: str | bytes, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            return
        rng = f"bytes={start}-{'' if end is None else end - 1}"
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256), Range=rng)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def writer(self, sha256: str | bytes, max_bytes: int | None = None) -> Writer:
        return Writer(self.spool, key_of(sha256), max_bytes, self._keep)

    def _keep(self, tmp: Path, key: str) -> bool:
        if self.size(key) is not None:
            return False
        checksum = base64.b64encode(bytes.fromhex(key)).decode()
        with tmp.open("rb") as fh:  # S3 checks the checksum: a corrupted transfer is refused there too
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=fh, ChecksumSHA256=checksum)
        return True


def open_store(data_dir: Path, file_store: str = "local") -> LocalFileStore | S3FileStore:
    """The configured store: `local` (<data_dir>/files) or `s3://bucket/prefix`."""
    if file_store == "local":
        return LocalFileStore(Path(data_dir) / "files")
    if file_store.startswith("s3://"):
        return S3FileStore(file_store, Path(data_dir) / "files" / "tmp")
    raise CityLedgerError(f'[dataroom] file_store must be "local" or s3://bucket/prefix, not {file_store!r}')


def put_file(store: FileStore, path: Path, sha256: str | bytes) -> bool:
    """Store a file on disk under its expected SHA-256 (True: stored now, False: already there)."""
    if store.size(sha256) is not None:
        return False
    writer = store.writer(sha256)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.commit()


def put_bytes(store: FileStore, data: bytes) -> str:
    """Store bytes under their own SHA-256; returns it as 0x-hex."""
    digest = hashlib.sha256(data).hexdigest()
    if store.size(digest) is None:
        writer = store.writer(digest)
        writer.write(data)
        writer.commit()
    return "0x" + digest


def read_all(store: FileStore, sha256: str) -> bytes:
    return b"".join(store.read(sha256))


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """One byte range of a `Range` header (RFC 9110 §14.1.2) for a file of `size` bytes; None for no
    header. ValueError for several ranges, another unit, a malformed range or one outside the file
    (416). `a-b` (b clipped to the end), `a-`, `-n` (the last n bytes)."""
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        raise ValueError(f"only byte ranges are served, not {header[:60]!r}")
    if "," in spec:
        raise ValueError("several ranges in one request are not served: ask for one range")
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()):
        raise ValueError(f"malformed range {spec[:60]!r}")
    if last and not last.isdigit():
        raise ValueError(f"malformed range {spec[:60]!r}")
    if not first:  # the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise ValueError("an empty suffix range")
        return ByteRange(max(0, size - n), size)
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size or (last and int(last) < start):
        raise ValueError(f"range {spec[:60]!r} is outside the file's {size} bytes")
    return ByteRange(start, end)
