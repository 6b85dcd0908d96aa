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
from .jcs import canonicalize
from .proofs import (
    PROOF_FORMAT,
    Expected,
    ProofInvalid,
    VerifiedRow,
    check_row_proof,
    parse_proof,
    prove_row,
    verify_row_proof,
)
from .rows import (
    CANONICAL_FORM,
    CANONICAL_FORM_V1,
    CANONICAL_FORMS,
    RowsFingerprint,
    canonical_row,
    iter_rows,
    row_leaf,
    rows_root,
    table_format,
)

__all__ = [
    "CANONICAL_FORM",
    "CANONICAL_FORM_V1",
    "CANONICAL_FORMS",
    "EMPTY_CONSENT_ROOT",
    "PROOF_FORMAT",
    "ConsentTree",
    "Expected",
    "ProofInvalid",
    "RowsFingerprint",
    "VerifiedRow",
    "canonical_row",
    "canonicalize",
    "check_readable_file",
    "check_row_proof",
    "consent_leaf",
    "consent_proof",
    "consent_root",
    "hex32",
    "iter_rows",
    "parse_hash",
    "parse_proof",
    "prove_row",
    "row_leaf",
    "rows_root",
    "sha256_file",
    "table_format",
    "verify_consent_proof",
    "verify_row_proof",
]
