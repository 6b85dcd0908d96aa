"""Datasets off chain: DCAT metadata, its content-addressed store, publish / verify / prove."""

from .fingerprints import FileFingerprint, fingerprint_file
from .metadata import (
    Coverage,
    DatasetInfo,
    build_metadata,
    canonical_json,
    domain_code,
    metadata_hash,
    missing_fields,
    validate_metadata,
)
from .store import MetadataStore, default_uri

__all__ = [
    "Coverage",
    "DatasetInfo",
    "FileFingerprint",
    "MetadataStore",
    "build_metadata",
    "canonical_json",
    "default_uri",
    "domain_code",
    "fingerprint_file",
    "metadata_hash",
    "missing_fields",
    "validate_metadata",
]
