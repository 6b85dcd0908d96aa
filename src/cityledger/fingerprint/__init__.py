"""Fingerprints of dataset files: SHA-256 content hash, row Merkle root and proofs, consent snapshots.

See docs/FINGERPRINT.md for the canonical forms; the names below are the public API.
"""

from .consent_tree import (
    EMPTY_CONSENT_ROOT,
    ConsentTree,
    consent_leaf,
    consent_proof,
    consent_root,
    verify_consent_proof,
)
from .hashing import check_readable_file, hex32, parse_hash, sha256_file
from .rows import (
    CANONICAL_FORM,
    PROOF_FORMAT,
    RowsFingerprint,
    canonical_row,
    iter_rows,
    prove_row,
    row_leaf,
    rows_root,
    table_format,
    verify_row_proof,
)

__all__ = [
    "CANONICAL_FORM",
    "EMPTY_CONSENT_ROOT",
    "PROOF_FORMAT",
    "ConsentTree",
    "RowsFingerprint",
    "canonical_row",
    "check_readable_file",
    "consent_leaf",
    "consent_proof",
    "consent_root",
    "hex32",
    "iter_rows",
    "parse_hash",
    "prove_row",
    "row_leaf",
    "rows_root",
    "sha256_file",
    "table_format",
    "verify_consent_proof",
    "verify_row_proof",
]
