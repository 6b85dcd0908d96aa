"""SHA-256 of a file's bytes, streamed in constant memory.

This is the dataset's content hash on chain (docs/FINGERPRINT.md): fixed, format-agnostic,
and what `sha256sum FILE` prints, so anyone can check a file without CityLedger.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import CityLedgerError

# 1 MiB reads: large enough that the per-call overhead vanishes next to the hashing itself,
# small enough to stay in L2/L3 cache.
BUFFER_SIZE = 1 << 20


def check_readable_file(path: str | os.PathLike[str]) -> Path:
    """The path as a Path if it names a readable regular file; else a CityLedgerError saying why."""
    p = Path(path)
    if not p.exists():
        raise CityLedgerError(f"{p}: no such file")
    if p.is_dir():
        raise CityLedgerError(f"{p}: is a directory, not a file")
    if not p.is_file():
        raise CityLedgerError(f"{p}: not a regular file")
    if not os.access(p, os.R_OK):
        raise CityLedgerError(f"{p}: permission denied (not readable)")
    return p


def sha256_file(
    path: str | os.PathLike[str],
    progress: Callable[[int], None] | None = None,
    buffer_size: int = BUFFER_SIZE,
) -> bytes:
    """The 32-byte SHA-256 digest of the file's bytes.

    Reads into one reused buffer (readinto + memoryview: no per-chunk allocation).
    `progress(n)` is called with the number of bytes read after each chunk.
    """
    p = check_readable_file(path)
    digest = hashlib.sha256()
    buf = bytearray(buffer_size)
    view = memoryview(buf)
    try:
        with open(p, "rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                digest.update(view[:n])
                if progress is not None:
                    progress(n)
    except OSError as exc:
        raise CityLedgerError(f"{p}: cannot read ({exc.strerror or exc})") from None
    return digest.digest()


def parse_hash(text: str, what: str = "hash") -> bytes:
    """32 bytes from 64 hex digits (with or without 0x); a clear error otherwise."""
    s = text.strip()
    body = s[2:] if s[:2].lower() == "0x" else s
    if len(body) != 64:
        raise CityLedgerError(f"bad {what} '{text}': expected 64 hex digits (32 bytes), got {len(body)}")
    try:
        return bytes.fromhex(body)
    except ValueError:
        raise CityLedgerError(f"bad {what} '{text}': not hexadecimal") from None


def hex32(b: bytes) -> str:
    """0x-prefixed lowercase hex of a 32-byte value."""
    return "0x" + b.hex()
