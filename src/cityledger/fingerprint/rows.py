"""Canonical rows of a tabular file and their Merkle root (proofs of one row: proofs.py).

Canonical form "cityledger-rows-v2" (docs/FINGERPRINT.md has the full statement):
- a row is the JSON object {column name: value text} in RFC 8785 (JCS) form: keys sorted by their
  UTF-16 code units, no whitespace, non-ASCII characters written as themselves, UTF-8 encoded
  (jcs.py), so column order in the file does not matter. Form "cityledger-rows-v1", under which
  the first registrations were made and which still verifies, sorts keys by code point instead
  (Python's json with sort_keys); the two differ only for keys beyond U+FFFF next to keys in
  U+E000..U+FFFF;
- CSV: UTF-8 (a leading BOM is ignored), comma-separated, RFC 4180 double-quote quoting; values
  are the text exactly as parsed (quotes removed, no trimming, no type conversion); every line
  break (CRLF, CR, LF), also inside a quoted value, becomes LF; empty lines are not rows;
  the first row is the header; every row must have as many fields as the header;
- Parquet: each column cast to text by Arrow (null -> ""), the same JSON object;
- rows keep file order: leaf i is the i-th data row; reordering rows changes the root;
- leaf = SHA-256(0x00 || row bytes), RFC 6962 tree (see merkle.py).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import BinaryIO, cast

from ..errors import CityLedgerError
from .hashing import check_readable_file
from .jcs import canonicalize, utf16_key
from .merkle import LEAF_PREFIX, merkle_root

CANONICAL_FORM_V1 = "cityledger-rows-v1"
CANONICAL_FORM = "cityledger-rows-v2"  # what new registrations use
# The forms differ only in how a row's keys are ordered: v1 by code point (not what RFC 8785 says),
# v2 by UTF-16 code units (RFC 8785). Every form a proof or a registration may name is here.
_KEY_ORDER: dict[str, Callable[[str], str | bytes]] = {CANONICAL_FORM_V1: str, CANONICAL_FORM: utf16_key}
CANONICAL_FORMS = tuple(_KEY_ORDER)
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
# (line number, values in file column order) per row; a generator, so an abandoned one can be closed.
Rows = Generator[tuple[int, list[str]], None, None]
PARQUET_SUFFIXES = {".parquet", ".pq"}

# A quoted value may legitimately be large (free text); the csv default of 128 KiB is not a limit
# the canonical form should impose.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode


def key_order(canonical_form: str) -> Callable[[str], str | bytes]:
    """The sort key of a canonical form's row keys; a clear error for a form this version does not know."""
    try:
        return _KEY_ORDER[canonical_form]
    except (KeyError, TypeError):
        raise CityLedgerError(
            f"unknown canonical form {canonical_form!r} (one of: {', '.join(CANONICAL_FORMS)})"
        ) from None


def canonical_row(row: dict[str, str], canonical_form: str = CANONICAL_FORM) -> bytes:
    """The canonical bytes of one row given as {column: value text}."""
    if key_order(canonical_form) is utf16_key:
        return canonicalize(row)
    text = json.dumps(row, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: never read from a UTF-8 or Parquet table
        raise CityLedgerError(
            f"the text holds a lone surrogate U+{ord(text[exc.start]):04X}, not a character"
        ) from None


def row_leaf(row: dict[str, str], canonical_form: str = CANONICAL_FORM) -> bytes:
    return sha256(LEAF_PREFIX + canonical_row(row, canonical_form)).digest()


def table_format(path: Path) -> str:
    """'csv' or 'parquet' from the file name; a clear error for anything else."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        try:
            import pyarrow.parquet  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            raise CityLedgerError(f"{path}: Parquet needs pyarrow (pip install pyarrow)") from None
        return "parquet"
    supported = ", ".join(sorted([*CSV_SUFFIXES, *PARQUET_SUFFIXES]))
    raise CityLedgerError(
        f"{path}: unsupported format '{suffix or '(no extension)'}' for row fingerprints (supported: {supported}); "
        "the SHA-256 content hash works for any file"
    )


@dataclass(frozen=True)
class _Sorted:
    names: list[str]  # sorted column names
    order: list[int]  # positions in the file's column order, in sorted-name order
    prefix: list[str]  # '{"a":' , ',"b":' ... (JSON-escaped keys), one per sorted column


def _sorted_columns(header: list[str], where: str, canonical_form: str) -> _Sorted:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise CityLedgerError(f"{where}: duplicate column name '{name}' in the header")
        seen.add(name)
    key = key_order(canonical_form)
    order = sorted(range(len(header)), key=lambda i: key(header[i]))
    names = [header[i] for i in order]
    prefix = [("{" if k == 0 else ",") + _dumps(name) + ":" for k, name in enumerate(names)]
    return _Sorted(names, order, prefix)


def _csv_values(path: Path, progress: Callable[[int], None] | None) -> tuple[list[str], Rows]:
    """(header, iterator of (line number, values in file column order)) of a CSV/TSV file."""
    delimiter = CSV_SUFFIXES[path.suffix.lower()]
    # newline=None: universal newlines turn CRLF and CR into LF everywhere, quoted values included.
    fh = open(path, encoding="utf-8-sig", newline=None, buffering=1 << 20)
    if progress is not None:
        raw = cast(BinaryIO, fh.buffer)  # typeshed's _WrappedBuffer protocol omits tell()

        def lines() -> Iterator[str]:
            # Progress in bytes read from the underlying binary buffer (read-ahead granularity).
            last = 0
            for line in fh:
                pos = raw.tell()
                if pos != last:
                    progress(pos - last)
                    last = pos
                yield line

        source: Iterator[str] = lines()
    else:
        source = fh
    reader = csv.reader(source, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    try:
        header = next(reader, None)
        while header == []:
            header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        fh.close()
        raise _csv_error(path, reader.line_num, exc) from None
    if header is None:
        fh.close()
        raise CityLedgerError(f"{path}: empty file, no header row")

    def rows() -> Rows:
        width = len(header)
        try:
            for values in reader:
                if len(values) != width:
                    if not values:
                        continue  # an empty line is not a row
                    raise CityLedgerError(
                        f"{path}: malformed row at line {reader.line_num}: {len(values)} fields, the header has {width}"
                    )
                yield reader.line_num, values
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _csv_error(path, reader.line_num, exc) from None
        finally:
            fh.close()

    return header, rows()


def _csv_error(path: Path, line: int, exc: Exception) -> CityLedgerError:
    if isinstance(exc, UnicodeDecodeError):
        return CityLedgerError(f"{path}: not UTF-8 text near line {line + 1} ({exc.reason})")
    return CityLedgerError(f"{path}: malformed CSV at line {line}: {exc}")


def _parquet_values(path: Path, progress: Callable[[int], None] | None) -> tuple[list[str], Rows]:
    # pyarrow has no type information; table_format's import already told mypy so for pyarrow[.parquet].
    import pyarrow as pa
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise CityLedgerError(f"{path}: not a readable Parquet file ({exc})") from None
    header = list(pf.schema_arrow.names)
    total = max(pf.metadata.num_rows, 1)
    size = path.stat().st_size

    def rows() -> Rows:
        n = 0
        try:
            for batch in pf.iter_batches(batch_size=65536):
                cols = []
                for col in batch.columns:
                    text = pc.cast(col, pa.string()) if col.type != pa.string() else col
                    cols.append(pc.fill_null(text, "").to_pylist())
                for values in zip(*cols, strict=True):
                    n += 1
                    yield n, list(values)
                if progress is not None:
                    progress(int(size * batch.num_rows / total))
        except pa.ArrowException as exc:
            raise CityLedgerError(f"{path}: cannot read Parquet row group ({exc})") from None

    return header, rows()


def _open_table(
    p: Path, progress: Callable[[int], None] | None, canonical_form: str = CANONICAL_FORM
) -> tuple[_Sorted, Rows]:
    key_order(canonical_form)  # an unknown form fails before the file is opened
    header, values = (_parquet_values if table_format(p) == "parquet" else _csv_values)(p, progress)
    try:
        return _sorted_columns(header, str(p), canonical_form), values
    except CityLedgerError:
        values.close()
        raise


def iter_rows(
    path: str | os.PathLike[str], progress: Callable[[int], None] | None = None
) -> tuple[list[str], Iterator[dict[str, str]]]:
    """(sorted column names, iterator of rows as {column: value text}) in file order."""
    cols, values = _open_table(check_readable_file(path), progress)
    names, order = cols.names, cols.order

    def rows() -> Iterator[dict[str, str]]:
        for _line, v in values:
            yield {name: v[i] for name, i in zip(names, order, strict=True)}

    return names, rows()


def _iter_leaves(cols: _Sorted, values: Rows) -> Iterator[bytes]:
    """Leaf hashes in file order, built without a dict per row (the hot loop of a 10M-row file)."""
    pairs = list(zip(cols.prefix, cols.order, strict=True))
    dumps = _dumps
    if not pairs:
        for _ in values:
            yield sha256(LEAF_PREFIX + b"{}").digest()
        return
    for _line, v in values:
        text = "".join([pre + dumps(v[i]) for pre, i in pairs]) + "}"
        yield sha256(LEAF_PREFIX + text.encode("utf-8")).digest()


@dataclass(frozen=True)
class RowsFingerprint:
    root: bytes
    count: int
    columns: list[str]
    canonical_form: str = CANONICAL_FORM


def rows_root(
    path: str | os.PathLike[str],
    progress: Callable[[int], None] | None = None,
    canonical_form: str = CANONICAL_FORM,
) -> RowsFingerprint:
    """Merkle root and row count of a CSV/TSV/Parquet file, streamed in O(log n) memory."""
    cols, values = _open_table(check_readable_file(path), progress, canonical_form)
    root, count = merkle_root(_iter_leaves(cols, values))
    return RowsFingerprint(root, count, cols.names, canonical_form)


def count_rows(path: str | os.PathLike[str]) -> int:
    _, values = _open_table(check_readable_file(path), None)
    return sum(1 for _ in values)
