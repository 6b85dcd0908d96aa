"""Single-row inclusion proofs: making one from a table (prove_row) and checking one (check_row_proof).

A proof (format "cityledger-row-proof-v2", docs/FINGERPRINT.md section 3) has exactly eight fields and
every one is checked: the row against leaf_hash, row_number and tree_size through the audit path (RFC
9162), the path against root, and root, tree_size and canonical_form against what the caller expects
(a registered dataset, or a root and row count given). A field that contradicts another makes the
proof invalid with the reason named; nothing is recomputed and silently preferred.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from ..errors import CityLedgerError
from .hashing import check_readable_file
from .merkle import audit_ranges, proof_from_leaves, root_from_path
from .rows import (
    CANONICAL_FORM,
    CANONICAL_FORMS,
    Rows,
    _iter_leaves,
    _open_table,
    count_rows,
    key_order,
    row_leaf,
)

PROOF_FORMAT = "cityledger-row-proof-v2"
PROOF_FIELDS = ("format", "canonical_form", "row_number", "tree_size", "row", "leaf_hash", "path", "root")
# A proof nests two levels (the row object, the path array). Deeper JSON is refused before it is
# parsed: the stdlib decoder recurses once per level and would otherwise overflow the stack.
MAX_DEPTH = 32
_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class ProofInvalid(CityLedgerError):
    """The proof does not prove what it claims; the message names the field and why."""


@dataclass(frozen=True)
class Expected:
    """What a proof must be bound to: a root, and optionally the table's row count and canonical form.

    `dataset` names a registered dataset in messages (its registration is where the values come from)."""

    root: bytes
    tree_size: int | None = None
    canonical_form: str | None = None
    dataset: int | None = None


@dataclass(frozen=True)
class VerifiedRow:
    """A proof that passed every check. row_number is the audit path's leaf index + 1: what was verified."""

    row_number: int
    tree_size: int
    row: dict[str, str]
    root: bytes
    canonical_form: str


def prove_row(path: str | os.PathLike[str], row_number: int, canonical_form: str = CANONICAL_FORM) -> dict[str, object]:
    """An inclusion proof (JSON-ready dict) for data row `row_number` (1 = first row after the header),
    under `canonical_form` (the form the dataset was registered with: its cl:canonicalForm).

    Streams the file twice (count, then one audit-path pass); memory stays O(log n).
    """
    p = check_readable_file(path)
    key_order(canonical_form)  # an unknown form fails before the file is read
    size = count_rows(p)
    if size == 0:
        raise CityLedgerError(f"{p}: the table has no data rows to prove")
    if not 1 <= row_number <= size:
        raise CityLedgerError(f"row {row_number} out of range: {p} has rows 1..{size}")
    index = row_number - 1
    cols, values = _open_table(p, None, canonical_form)
    row: dict[str, str] = {}

    def picking_row() -> Rows:
        # The proved row as {column: value text}, taken in the same pass as the leaf hashes.
        for i, item in enumerate(values):
            if i == index:
                row.update((name, item[1][j]) for name, j in zip(cols.names, cols.order, strict=True))
            yield item

    leaf, path_hashes = proof_from_leaves(_iter_leaves(cols, picking_row()), index, size)
    if row_leaf(row, canonical_form) != leaf:  # the fast and the readable encoder must agree
        raise CityLedgerError(f"{p}: internal error: canonical encodings disagree on row {row_number}")
    root = root_from_path(leaf, index, size, path_hashes)
    assert root is not None  # a path proof_from_leaves made always has the right length
    return {
        "format": PROOF_FORMAT,
        "canonical_form": canonical_form,
        "row_number": row_number,
        "tree_size": size,
        "row": row,
        "leaf_hash": "0x" + leaf.hex(),
        "path": ["0x" + h.hex() for h in path_hashes],
        "root": "0x" + root.hex(),
    }


def _depth(text: str) -> int:
    """Deepest nesting of arrays and objects in a JSON text (strings skipped), without recursion."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
    return deepest


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise ProofInvalid(f"the proof repeats the key {key!r} in one object (which one counts is ambiguous)")
        out[key] = value
    return out


def _no_constant(name: str) -> object:
    raise ProofInvalid(f"the proof is not JSON: {name} is not a JSON number")


def parse_proof(data: str | bytes) -> dict[str, object]:
    """The proof document from its JSON text: UTF-8, no repeated keys, no NaN/Infinity, a JSON object."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProofInvalid(f"the proof is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if _depth(data) > MAX_DEPTH:
        raise ProofInvalid(f"the proof nests arrays or objects more than {MAX_DEPTH} deep (a proof nests 2)")
    try:
        doc = json.loads(data, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError, and int() refusing a number of over 4,300 digits
        raise ProofInvalid(f"the proof is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ProofInvalid("the proof is not a JSON object")
    return doc


def _whole(doc: dict[str, object], key: str) -> int:
    value = doc[key]
    # bool is an int in Python, and 42.0 is a JSON number with a fraction: neither is a count.
    if type(value) is not int:
        raise ProofInvalid(f"{key} must be a whole number written without a fraction or exponent, not {value!r}")
    return value


def _hash(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise ProofInvalid(f"{what} must be '0x' and 64 lowercase hex digits, not {value!r}")
    return bytes.fromhex(value[2:])


def _row(value: object, form: str) -> tuple[dict[str, str], bytes]:
    """(row, its leaf hash under `form`)."""
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ProofInvalid("row must be an object whose values are all text")
    try:
        return value, row_leaf(value, form)
    except CityLedgerError as exc:  # a lone surrogate (an escaped \ud800): no table can hold it
        raise ProofInvalid(f"row: {exc}") from None


def check_row_proof(doc: object, expected: Expected | None = None) -> VerifiedRow:
    """Every check of docs/FINGERPRINT.md section 3, in its order; the first that fails raises ProofInvalid.

    Without `expected` the proof is only checked against itself (its own root): that binds nothing.
    """
    if not isinstance(doc, dict):
        raise ProofInvalid("the proof is not a JSON object")
    if "format" in doc and doc["format"] != PROOF_FORMAT:
        hint = ""
        if doc["format"] == "cityledger-row-proof-v1":
            hint = " (v1 proofs carried fields that were never checked: make a new one with `cityledger prove`)"
        raise ProofInvalid(f"format {doc['format']!r} is not {PROOF_FORMAT!r}{hint}")
    unknown = sorted(k for k in doc if k not in PROOF_FIELDS)
    missing = [k for k in PROOF_FIELDS if k not in doc]
    if unknown or missing:
        parts = ([f"unknown fields: {', '.join(map(repr, unknown))}"] if unknown else []) + (
            [f"missing fields: {', '.join(missing)}"] if missing else []
        )
        raise ProofInvalid(f"the proof has {'; '.join(parts)} (a proof has exactly: {', '.join(PROOF_FIELDS)})")
    form = doc["canonical_form"]
    if form not in CANONICAL_FORMS:
        raise ProofInvalid(f"canonical_form {form!r} is not one of: {', '.join(CANONICAL_FORMS)}")
    size = _whole(doc, "tree_size")
    number = _whole(doc, "row_number")
    if size < 1:
        raise ProofInvalid(f"tree_size {size} must be at least 1")
    if not 1 <= number <= size:
        raise ProofInvalid(f"row_number {number} is outside 1..tree_size ({size})")
    row, leaf = _row(doc["row"], form)
    claimed_leaf = _hash(doc["leaf_hash"], "leaf_hash")
    if not isinstance(doc["path"], list):
        raise ProofInvalid("path must be an array of hashes")
    path = [_hash(h, f"path[{i}]") for i, h in enumerate(doc["path"])]
    claimed_root = _hash(doc["root"], "root")
    if leaf != claimed_leaf:
        raise ProofInvalid(f"leaf_hash does not match the row (under {form} the row hashes to 0x{leaf.hex()})")
    index = number - 1
    needed = len(audit_ranges(index, size))
    if len(path) != needed:
        raise ProofInvalid(f"path has {len(path)} hashes; a proof of row {number} of {size} has {needed}")
    reached = root_from_path(leaf, index, size, path)
    if reached != claimed_root:
        shown = "0x" + reached.hex() if reached is not None else "nothing"
        raise ProofInvalid(
            f"the path does not lead to root: row {number} of {size} with this row and path gives {shown}"
        )
    if expected is not None:
        whose = f"dataset {expected.dataset}'s registered" if expected.dataset is not None else "the"
        if expected.canonical_form is not None and form != expected.canonical_form:
            raise ProofInvalid(
                f"canonical_form {form} is not {whose} canonical form ({expected.canonical_form}): make the"
                f" proof with `cityledger prove FILE --row N --canonical-form {expected.canonical_form}`"
            )
        if expected.tree_size is not None and size != expected.tree_size:
            given = f"{whose} record count" if expected.dataset is not None else "the row count given"
            raise ProofInvalid(f"tree_size {size} is not {given} ({expected.tree_size})")
        if claimed_root != expected.root:
            given = f"{whose} rows root" if expected.dataset is not None else "the root given"
            raise ProofInvalid(f"root 0x{claimed_root.hex()} is not {given} (0x{expected.root.hex()})")
    return VerifiedRow(index + 1, size, row, claimed_root, form)


def verify_row_proof(doc: object, root: bytes | None = None, tree_size: int | None = None) -> bool:
    """True iff check_row_proof passes (bound to `root` and `tree_size` when given); never raises on content."""
    try:
        check_row_proof(doc, Expected(root, tree_size) if root is not None else None)
    except ProofInvalid:
        return False
    return True
