"""Fingerprint of one dataset file: content hash, size, media type and, for tables, the row root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CityLedgerError
from ..fingerprint import RowsFingerprint, check_readable_file, rows_root, sha256_file, table_format
from .metadata import media_type


@dataclass(frozen=True)
class FileFingerprint:
    path: Path
    content_hash: bytes  # SHA-256 of the bytes: the on-chain content hash
    byte_size: int
    media_type: str
    rows: RowsFingerprint | None  # None for files that are not tables


def is_table(path: Path) -> bool:
    try:
        table_format(path)
        return True
    except CityLedgerError:
        return False


def fingerprint_file(path: str | Path, progress: Callable[[int], None] | None = None) -> FileFingerprint:
    """Hash the file; for CSV/TSV/Parquet also the row Merkle root (a malformed table is an error).

    `progress(n)` receives byte counts: the file is read once for the hash and once more for rows,
    so a table reports 2 x its size in total (see `work_bytes`)."""
    p = check_readable_file(path)
    size = p.stat().st_size
    content = sha256_file(p, progress)
    rows = rows_root(p, progress) if is_table(p) else None
    return FileFingerprint(p, content, size, media_type(p), rows)


def work_bytes(path: Path) -> int:
    """Total bytes fingerprint_file will report to its progress callback."""
    size = path.stat().st_size
    return 2 * size if is_table(path) else size
