"""The registered metadata document (its SHA-256 is on chain), read into one typed record whatever
its schema version.

Version 1 (documents without `cl:schemaVersion`, registered before version 2) wrote plain strings:
the licence "CC-BY-4.0", the media type "text/csv", dates as text, `cl:domain` on the theme node,
`dct:source` as text and `dct:replaces <cityledger://dataset/N>`. Version 2 types them (see
cityledger.datasets.metadata). Both stay readable forever: their bytes are what the chain hashed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from ..datasets.metadata import SCHEMA_VERSION, is_iri, metadata_hash
from ..errors import CityLedgerError


@dataclass(frozen=True)
class Registered:
    """What a registered document says, normalised (values as the publisher gave them; IRIs where
    the document has them). Everything is optional: a description is derived even from a sparse
    or unavailable document."""

    schema_version: int = 0  # 0: no document (not available at this node)
    title: str | None = None
    description: str | None = None
    publisher: str | None = None  # the address in the document
    domain: str | None = None
    theme: str | None = None  # EU data-theme IRI
    licence: str | None = None  # an IRI (v2), or the text a v1 document held
    keywords: tuple[str, ...] = ()
    language: str | None = None  # EU language IRI
    source: str | None = None  # IRI of a dataset this one derives from (a harvested dataset)
    provenance: str | None = None  # a citation of where the data comes from
    temporal_start: str | None = None  # ISO 8601 date (or date-time in some v1 documents)
    temporal_end: str | None = None
    spatial: str | None = None  # a place name
    spatial_iri: str | None = None  # or a place IRI
    sampling: Mapping[str, str] = field(default_factory=dict)  # cl:population, cl:method, cl:notCovered, rdfs:comment
    file_name: str | None = None
    media_type: str | None = None  # 'text/csv' (v1) or its IANA IRI (v2)
    format: str | None = None  # EU file-type IRI (v2)
    byte_size: int | None = None
    checksum: str | None = None  # hex SHA-256 of the file
    record_count: int | None = None
    rows_root: str | None = None
    canonical_form: str | None = None
    content_hash: str | None = None  # 0x hex
    personal_data: bool | None = None
    supersedes: int = 0


def _text(value) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("@value", "rdfs:label", "@id"):
            if isinstance(value.get(key), str):
                return value[key].strip() or None
    return None


def _iri(value) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("@id"), str):
        return value["@id"]
    return value if isinstance(value, str) and is_iri(value) else None


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def read_registered(doc: Mapping | None) -> Registered:
    """The typed record of a registered document (version 1 or 2); `None` gives the empty record.
    A document of a version this code does not know is an error (read by newer code only)."""
    if doc is None:
        return Registered()
    if not isinstance(doc, Mapping):
        raise CityLedgerError("a metadata document is a JSON object")
    version = doc.get("cl:schemaVersion", 1)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= SCHEMA_VERSION:
        raise CityLedgerError(
            f"metadata schema version {version!r} is not one this CityLedger reads (1..{SCHEMA_VERSION})"
        )
    theme = doc.get("dcat:theme")
    if version == 1:  # {"@id": theme, "cl:domain": name, "cl:domainCode": n}
        domain = theme.get("cl:domain") if isinstance(theme, dict) else None
        theme_id = _iri(theme)
    else:
        domain = doc.get("cl:domain")
        theme_id = theme if isinstance(theme, str) else _iri(theme)
    keywords = doc.get("dcat:keyword") or []
    if isinstance(keywords, str):
        keywords = [keywords]
    publisher = doc.get("dct:publisher")
    source = doc.get("dct:source")
    provenance = _text(doc.get("dct:provenance"))
    if isinstance(source, str) and not is_iri(source.strip()):
        provenance, source = source.strip(), None  # v1 wrote citations into dct:source
    temporal = _dict(doc.get("dct:temporal"))
    spatial = doc.get("dct:spatial")
    sampling = _dict(doc.get("cl:sampling"))
    dists = doc.get("dcat:distribution")
    dist = _dict(dists[0]) if isinstance(dists, list) and dists else {}
    checksum = _dict(dist.get("spdx:checksum"))
    licence = doc.get("dct:license")
    return Registered(
        schema_version=version,
        title=_text(doc.get("dct:title")),
        description=_text(doc.get("dct:description")),
        publisher=publisher.get("cl:address") if isinstance(publisher, dict) else None,
        domain=domain if isinstance(domain, str) else None,
        theme=theme_id,
        licence=_iri(licence) or _text(licence),
        keywords=tuple(k.strip() for k in keywords if isinstance(k, str) and k.strip()),
        language=_iri(doc.get("dct:language")),
        source=_iri(source),
        provenance=provenance,
        temporal_start=_text(temporal.get("dcat:startDate")),
        temporal_end=_text(temporal.get("dcat:endDate")),
        spatial=_text(spatial) if not (isinstance(spatial, dict) and "@id" in spatial) else None,
        spatial_iri=_iri(spatial) if isinstance(spatial, dict) else None,
        sampling={k: v for k, v in sampling.items() if isinstance(v, str) and v.strip()},
        file_name=_text(dist.get("dct:title")),
        media_type=_text(dist.get("dcat:mediaType")),
        format=_iri(dist.get("dct:format")) or _text(dist.get("dct:format")),
        byte_size=_int(dist.get("dcat:byteSize")),
        checksum=_text(checksum.get("spdx:checksumValue")),
        record_count=_int(doc.get("cl:recordCount")),
        rows_root=_text(doc.get("cl:rowsMerkleRoot")),
        canonical_form=_text(doc.get("cl:canonicalForm")),
        content_hash=_text(doc.get("cl:contentHash")),
        personal_data=doc.get("cl:personalData") if isinstance(doc.get("cl:personalData"), bool) else None,
        supersedes=_int(doc.get("cl:supersedes")) or 0,
    )


def check_registered(doc: Mapping, registered_hash: bytes | str) -> None:
    """The document must be the registered one: its canonical SHA-256 is the hash on chain."""
    want = registered_hash if isinstance(registered_hash, bytes) else bytes.fromhex(registered_hash.removeprefix("0x"))
    got = metadata_hash(dict(doc))
    if got != want:
        raise CityLedgerError(
            f"metadata document hashes to 0x{got.hex()}, not to the registered 0x{want.hex()}: "
            "not the registered document"
        )


def typed_date(text: str | None) -> date | datetime | None:
    """A date (or, for some v1 documents, a date-time) from ISO 8601 text; None if it is neither."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
