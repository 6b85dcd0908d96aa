"""DCAT-AP style JSON-LD metadata for one dataset version, its canonical bytes and its hash.

The metadata hash on chain is SHA-256 of the canonical JSON bytes: keys sorted, no whitespace,
UTF-8, non-ASCII written as itself (no floats are used, so this is RFC 8785 JCS for these
documents). The stored file is exactly those bytes, so `sha256sum <hash>.json` prints its name.
SHA-256 rather than keccak: nothing on chain recomputes it, and it is the hash every object
store and `sha256sum` already speak.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from ..codes import DOMAIN_NAMES, DOMAINS
from ..errors import CityLedgerError

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "adms": "http://www.w3.org/ns/adms#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "cl": "https://cityledger.example/ns#",
}
# Data themes of the EU vocabulary for the domains that have one; the domain code is kept as well.
EU_THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
DOMAIN_THEMES = {
    "health": "HEAL",
    "education": "EDUC",
    "agriculture": "AGRI",
    "energy": "ENER",
    "public_safety": "JUST",
    "civil_administration": "GOVE",
    "transport": "TRAN",
    "environment": "ENVI",
    "economy": "ECON",
    "housing": "SOCI",
    "culture": "EDUC",
    "other": "OP_DATPRO",
}
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".parquet": "application/vnd.apache.parquet",
    ".pq": "application/vnd.apache.parquet",
    ".json": "application/json",
}

REQUIRED = [
    ("dct:title", "title"),
    ("dct:description", "description"),
    ("dct:publisher", "publisher address"),
    ("dcat:theme", "domain"),
    ("dct:license", "license"),
    ("dcat:distribution", "distribution"),
]
REQUIRED_DISTRIBUTION = [
    ("spdx:checksum", "checksum"),
    ("dcat:byteSize", "byte size"),
    ("dcat:mediaType", "media type"),
]


def domain_code(domain: str | int) -> int:
    """The domain code for a name ('energy') or a number; a clear error listing the names otherwise."""
    if isinstance(domain, int) or (isinstance(domain, str) and domain.isdigit()):
        code = int(domain)
        if code in DOMAIN_NAMES:
            return code
    elif domain in DOMAINS:
        return DOMAINS[domain]
    raise CityLedgerError(f"unknown domain '{domain}' (one of: {', '.join(DOMAINS)})")


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@dataclass
class Coverage:
    """What the data does and does not describe: the sampling notes researchers need."""

    temporal_start: str | None = None  # ISO 8601 date
    temporal_end: str | None = None
    spatial: str | None = None  # a place name ("Seattle, Washington, USA") or a GeoNames/URI
    population: str | None = None  # who or what is counted
    method: str | None = None  # how it was collected
    not_covered: str | None = None  # who and what is missing
    notes: str | None = None


@dataclass
class DatasetInfo:
    """The publisher's description of one version (the file's fingerprint is added by build_metadata)."""

    title: str
    domain: str | int
    publisher: str  # the publisher's address
    description: str | None = None
    license: str | None = None
    coverage: Coverage = field(default_factory=Coverage)
    personal_data: bool = False
    supersedes: int = 0
    keywords: list[str] = field(default_factory=list)
    source: str | None = None  # where the data comes from (URL or citation)


def build_metadata(
    info: DatasetInfo,
    *,
    file_name: str,
    content_hash: bytes,
    byte_size: int,
    media: str,
    record_count: int | None = None,
    rows_root: bytes | None = None,
    canonical_form: str | None = None,
) -> dict:
    """The JSON-LD document of a version. Deterministic: no timestamps (the chain dates it)."""
    code = domain_code(info.domain)
    name = DOMAIN_NAMES[code]
    c = info.coverage
    distribution: dict = {
        "@type": "dcat:Distribution",
        "dct:title": file_name,
        "dcat:mediaType": media,
        "dcat:byteSize": byte_size,
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": "spdx:checksumAlgorithm_sha256",
            "spdx:checksumValue": content_hash.hex(),
        },
    }
    if info.license:
        distribution["dct:license"] = info.license
    doc: dict = {
        "@context": CONTEXT,
        "@type": "dcat:Dataset",
        "dct:title": info.title,
        "dct:publisher": {"@type": "foaf:Agent", "cl:address": info.publisher},
        "dcat:theme": {"@id": EU_THEMES + DOMAIN_THEMES[name], "cl:domain": name, "cl:domainCode": code},
        "dcat:distribution": [distribution],
        "cl:contentHash": "0x" + content_hash.hex(),
        "cl:personalData": bool(info.personal_data),
    }
    if info.description:
        doc["dct:description"] = info.description
    if info.license:
        doc["dct:license"] = info.license
    if info.keywords:
        doc["dcat:keyword"] = list(info.keywords)
    if info.source:
        doc["dct:source"] = info.source
    if c.temporal_start or c.temporal_end:
        period = {"@type": "dct:PeriodOfTime"}
        if c.temporal_start:
            period["dcat:startDate"] = c.temporal_start
        if c.temporal_end:
            period["dcat:endDate"] = c.temporal_end
        doc["dct:temporal"] = period
    if c.spatial:
        doc["dct:spatial"] = {"@type": "dct:Location", "rdfs:label": c.spatial}
    sampling = {
        k: v
        for k, v in (
            ("cl:population", c.population),
            ("cl:method", c.method),
            ("cl:notCovered", c.not_covered),
            ("rdfs:comment", c.notes),
        )
        if v
    }
    if sampling:
        doc["cl:sampling"] = sampling
    if record_count is not None:
        doc["cl:recordCount"] = record_count
    if rows_root is not None:
        doc["cl:rowsMerkleRoot"] = "0x" + rows_root.hex()
        doc["cl:canonicalForm"] = canonical_form
    if info.supersedes:
        doc["cl:supersedes"] = int(info.supersedes)
        doc["dct:replaces"] = {"@id": f"cityledger://dataset/{int(info.supersedes)}"}
    validate_metadata(doc)
    return doc


def check_info(info: DatasetInfo) -> None:
    """Fail early, before any file is read or anything written, if the publisher's part is incomplete."""
    build_metadata(info, file_name="-", content_hash=bytes(32), byte_size=0, media="application/octet-stream")


def _empty(value) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def missing_fields(doc: dict) -> list[str]:
    """Human names of the required fields the document lacks (empty: it is complete)."""
    missing = [label for key, label in REQUIRED if _empty(doc.get(key))]
    publisher = doc.get("dct:publisher")
    if isinstance(publisher, dict) and _empty(publisher.get("cl:address")):
        missing.append("publisher address")
    dists = doc.get("dcat:distribution")
    if isinstance(dists, list):
        for d in dists:
            missing += [f"distribution {label}" for key, label in REQUIRED_DISTRIBUTION if _empty(d.get(key))]
    return missing


def validate_metadata(doc: dict) -> None:
    """A CityLedgerError listing every missing required field, or nothing."""
    missing = missing_fields(doc)
    if missing:
        raise CityLedgerError(f"metadata is missing required fields: {', '.join(missing)}")
    for key in ("dct:title", "dct:description", "dct:license"):
        if not isinstance(doc[key], str):
            raise CityLedgerError(f"metadata field {key} must be text")


def _no_floats(value, where="") -> None:
    # Floats have no single canonical text; the canonical form admits only text, integers, booleans.
    if isinstance(value, float):
        raise CityLedgerError(f"metadata value at {where or 'top level'} is a float; write it as text")
    if isinstance(value, dict):
        for k, v in value.items():
            _no_floats(v, f"{where}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_floats(v, f"{where}/{i}")


def canonical_json(doc: dict) -> bytes:
    """The canonical bytes of a metadata document (what is hashed and stored)."""
    _no_floats(doc)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def metadata_hash(doc: dict) -> bytes:
    """SHA-256 of the canonical bytes: the metadata_hash registered on chain."""
    return hashlib.sha256(canonical_json(doc)).digest()
