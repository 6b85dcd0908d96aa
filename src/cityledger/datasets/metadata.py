"""DCAT-AP style JSON-LD metadata for one dataset version, its canonical bytes and its hash.

The metadata hash on chain is SHA-256 of the document's RFC 8785 (JCS) bytes (fingerprint/jcs.py:
keys sorted by UTF-16 code units, no whitespace, UTF-8, non-ASCII written as itself; floats are
refused). The stored file is exactly those bytes, so `sha256sum <hash>.json` prints its name.
SHA-256 rather than keccak: nothing on chain recomputes it, and it is the hash every object
store and `sha256sum` already speak.
"""

from __future__ import annotations

import dataclasses
import hashlib
import mimetypes
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..codes import DOMAIN_NAMES, DOMAINS
from ..errors import CityLedgerError
from ..fingerprint.jcs import canonicalize
from .text import Rule, clean_license, clean_text, spdx_id

# Schema version 2 (`cl:schemaVersion`): typed values. A document without cl:schemaVersion is version 1
# (registered before; still read, see cityledger.catalog.registered). Every document carries its own
# @context, so changing this one changes only new documents, never the bytes of registered ones.
SCHEMA_VERSION = 2
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "adms": "http://www.w3.org/ns/adms#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "cl": "https://cityledger.example/ns#",
    # Typed by the context, so the JSON values stay plain strings and numbers for JSON readers
    # (the index's summary, the web page) while the RDF is typed.
    "dcat:theme": {"@type": "@id"},
    "dcat:mediaType": {"@type": "@id"},
    "dct:format": {"@type": "@id"},
    "dct:language": {"@type": "@id"},
    "spdx:algorithm": {"@type": "@id"},
    "spdx:checksumValue": {"@type": "xsd:hexBinary"},
    "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
    "dcat:startDate": {"@type": "xsd:date"},
    "dcat:endDate": {"@type": "xsd:date"},
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
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
EU_FILE_TYPES = "http://publications.europa.eu/resource/authority/file-type/"
FILE_TYPES = {  # media type -> EU file-type code (dct:format)
    "text/csv": "CSV",
    "text/tab-separated-values": "TSV",
    "application/vnd.apache.parquet": "PARQUET",
    "application/json": "JSON",
    "application/ld+json": "JSON_LD",
    "application/geo+json": "GEOJSON",
    "application/xml": "XML",
    "text/xml": "XML",
    "text/turtle": "RDF_TURTLE",
    "application/rdf+xml": "RDF_XML",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.ms-excel": "XLS",
    "application/pdf": "PDF",
    "application/zip": "ZIP",
    "text/plain": "TXT",
    "text/html": "HTML",
}
SPDX_SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
EU_LANGUAGES = "http://publications.europa.eu/resource/authority/language/"
LANGUAGES = {  # ISO 639-1 -> the EU language vocabulary's code
    "bg": "BUL", "cs": "CES", "da": "DAN", "de": "DEU", "el": "ELL", "en": "ENG", "es": "SPA", "et": "EST",
    "fi": "FIN", "fr": "FRA", "ga": "GLE", "hr": "HRV", "hu": "HUN", "is": "ISL", "it": "ITA", "lt": "LIT",
    "lv": "LAV", "mt": "MLT", "nl": "NLD", "no": "NOR", "pl": "POL", "pt": "POR", "ro": "RON", "sk": "SLK",
    "sl": "SLV", "sv": "SWE",
}  # fmt: skip

EU_LICENCES = "http://publications.europa.eu/resource/authority/licence/"
SPDX_LICENCES = "http://spdx.org/licenses/"


@dataclass(frozen=True)
class Licence:
    """A licence CityLedger can name by IRI: the EU licence vocabulary's where it has one (what
    data.europa.eu's quality check recognises), else SPDX's."""

    iri: str
    label: str  # its SPDX identifier, or its name where SPDX has none
    types: tuple[str, ...]  # ADMS licence types (http://purl.org/adms/licencetype/...)
    aliases: tuple[str, ...] = ()  # other IRIs and URLs that name the same licence


LICENCES = [
    Licence(EU_LICENCES + "CC0", "CC0-1.0", ("PublicDomain",), ("https://creativecommons.org/publicdomain/zero/1.0/",)),
    Licence(
        EU_LICENCES + "CC_BY_4_0", "CC-BY-4.0", ("Attribution",), ("https://creativecommons.org/licenses/by/4.0/",)
    ),
    Licence(
        EU_LICENCES + "CC_BYSA_4_0",
        "CC-BY-SA-4.0",
        ("Attribution", "ShareAlike"),
        ("https://creativecommons.org/licenses/by-sa/4.0/",),
    ),
    Licence(
        EU_LICENCES + "CC_BYNC_4_0",
        "CC-BY-NC-4.0",
        ("Attribution", "NonCommercialUseOnly"),
        ("https://creativecommons.org/licenses/by-nc/4.0/",),
    ),
    Licence(
        EU_LICENCES + "CC_BYND_4_0",
        "CC-BY-ND-4.0",
        ("Attribution", "NoDerivativeWork"),
        ("https://creativecommons.org/licenses/by-nd/4.0/",),
    ),
    Licence(EU_LICENCES + "ODC_BY", "ODC-By-1.0", ("Attribution",), ("https://opendatacommons.org/licenses/by/1-0/",)),
    Licence(
        SPDX_LICENCES + "ODbL-1.0",
        "ODbL-1.0",
        ("Attribution", "ShareAlike"),
        ("https://opendatacommons.org/licenses/odbl/1-0/",),
    ),
    Licence(
        SPDX_LICENCES + "PDDL-1.0", "PDDL-1.0", ("PublicDomain",), ("https://opendatacommons.org/licenses/pddl/1-0/",)
    ),
    Licence("https://creativecommons.org/publicdomain/mark/1.0/", "Public Domain Mark 1.0", ("PublicDomain",)),
]


def _licence_key(text: str) -> str:
    # One spelling for the ways a licence URL is written: scheme, www., trailing slash, deed pages.
    key = text.strip().lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
    key = key.rstrip("/")
    for suffix in ("/legalcode", "/deed.en", "/deed"):
        key = key.removesuffix(suffix)
    return key


_LICENCE_INDEX = {
    _licence_key(name): lic
    for lic in LICENCES
    for name in (lic.iri, lic.label, *lic.aliases, *([SPDX_LICENCES + lic.label] if " " not in lic.label else []))
}


def is_iri(text: str) -> bool:
    """An absolute http(s) or urn IRI without spaces (what can stand as an RDF IRI here)."""
    return text.startswith(("http://", "https://", "urn:")) and not any(ch.isspace() for ch in text)


def find_licence(text: str) -> Licence | None:
    """The known licence an SPDX identifier, IRI or URL names (case-insensitive), or None."""
    return _LICENCE_INDEX.get(_licence_key(text))


def licence_iri(text: str) -> str:
    """The IRI of a licence given as an SPDX identifier (CC-BY-4.0), an IRI or a URL; a clear error
    for text that is neither a known identifier nor an IRI."""
    known = find_licence(text)
    if known:
        return known.iri
    if is_iri(text.strip()):
        return text.strip()
    spdx = spdx_id(text.strip())
    if spdx:  # an SPDX id outside the table above: SPDX's own IRI for it
        return SPDX_LICENCES + spdx
    examples = ", ".join(lic.label for lic in LICENCES[:4])
    raise CityLedgerError(f"unknown licence '{text}': give an SPDX identifier ({examples}, ...) or the licence's IRI")


def iso_date(text: str, what: str) -> str:
    """YYYY-MM-DD (xsd:date) of an ISO 8601 date; a clear error for anything else (a time, a year)."""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise CityLedgerError(f"{what} '{text}' is not an ISO 8601 date (YYYY-MM-DD)") from None


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
    language: str | None = None  # ISO 639-1 code of the data's language ("en"), when it has one
    # The `cl:privacy` declaration of a personal dataset (docs/PRIVACY.md): columns, bounds,
    # quasi-identifiers and k. Checked by cityledger.privacy.parse_declaration and registered with it.
    privacy: dict | None = None


# Limits on the publisher's text, in characters after NFC (docs/FINGERPRINT.md section 5).
TITLE = Rule(200)
DESCRIPTION = Rule(10_000, multiline=True)
NOTE = Rule(2_000, multiline=True)  # population, method, not covered, notes
LINE = Rule(2_000)  # spatial, source
KEYWORD = Rule(50)
MAX_KEYWORDS = 30


def clean_info(info: DatasetInfo) -> DatasetInfo:
    """The publisher's part with its text normalised (NFC, trimmed, line breaks as LF, the license in
    SPDX spelling); one CityLedgerError naming every field whose text is refused, and why."""
    problems: list[str] = []

    def text(label: str, value: str | None, rule: Rule) -> str | None:
        if value is None:
            return None
        cleaned, problem = clean_text(value, rule)
        if problem:
            problems.append(f"{label}: {problem}")
        return cleaned or None

    c = info.coverage
    license_text = None
    if info.license is not None:
        license_text, problem = clean_license(info.license)
        if problem:
            problems.append(f"license: {problem}")
    keywords: list[str] = []
    for i, keyword in enumerate(info.keywords, 1):
        cleaned = text(f"keyword {i}", keyword, KEYWORD)
        if not cleaned:
            problems.append(f"keyword {i}: empty")
        elif cleaned not in keywords:  # a repeated keyword says nothing more
            keywords.append(cleaned)
    if len(keywords) > MAX_KEYWORDS:
        problems.append(f"keywords: {len(keywords)} (at most {MAX_KEYWORDS})")
    for label, value in (("temporal start", c.temporal_start), ("temporal end", c.temporal_end)):
        if value is not None:
            try:
                iso_date(value, label)
            except CityLedgerError as exc:
                problems.append(str(exc))
    cleaned_info = dataclasses.replace(
        info,
        title=text("title", info.title, TITLE) or "",
        description=text("description", info.description, DESCRIPTION),
        license=license_text or None,
        source=text("source", info.source, LINE),
        keywords=keywords,
        coverage=dataclasses.replace(
            c,
            spatial=text("spatial", c.spatial, LINE),
            population=text("population", c.population, NOTE),
            method=text("method", c.method, NOTE),
            not_covered=text("not covered", c.not_covered, NOTE),
            notes=text("notes", c.notes, NOTE),
        ),
    )
    if problems:
        raise CityLedgerError(f"publisher text refused: {'; '.join(problems)}")
    return cleaned_info


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
    """The JSON-LD document of a version (schema version 2). Deterministic: no timestamps (the chain
    dates it) and no dataset id (the contract assigns it); the served DCAT-AP description is derived
    from this document plus those chain facts (cityledger.catalog.describe).

    The publisher's text is normalised or refused first (clean_info), so every caller (the CLI's
    publish, the API's upload, a harvest) publishes only text that displays as it is stored."""
    info = clean_info(info)
    code = domain_code(info.domain)
    name = DOMAIN_NAMES[code]
    c = info.coverage
    licence = _licence_node(info.license) if info.license else None
    distribution: dict = {
        "@type": "dcat:Distribution",
        "dct:title": file_name,
        "dcat:mediaType": IANA_MEDIA_TYPES + media,
        "dcat:byteSize": byte_size,
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": SPDX_SHA256,
            "spdx:checksumValue": content_hash.hex(),
        },
    }
    if media in FILE_TYPES:
        distribution["dct:format"] = EU_FILE_TYPES + FILE_TYPES[media]
    if licence:
        distribution["dct:license"] = licence
    doc: dict = {
        "@context": CONTEXT,
        "@type": "dcat:Dataset",
        "cl:schemaVersion": SCHEMA_VERSION,
        "dct:title": info.title,
        "dct:publisher": {"@type": "foaf:Agent", "cl:address": info.publisher},
        # The theme IRI is shared by every dataset of the theme: the domain belongs on the dataset.
        "dcat:theme": EU_THEMES + DOMAIN_THEMES[name],
        "cl:domain": name,
        "cl:domainCode": code,
        "dcat:distribution": [distribution],
        "cl:contentHash": "0x" + content_hash.hex(),
        "cl:personalData": bool(info.personal_data),
    }
    if info.description:
        doc["dct:description"] = info.description
    if licence:
        doc["dct:license"] = licence
    if info.keywords:
        doc["dcat:keyword"] = list(info.keywords)
    if info.language:
        doc["dct:language"] = _language_iri(info.language)
    if info.source:
        source = info.source.strip()
        if is_iri(source):  # a dataset it derives from (a harvested dataset's IRI)
            doc["dct:source"] = {"@id": source}
        else:  # a citation: how the data came to be
            doc["dct:provenance"] = {"@type": "dct:ProvenanceStatement", "rdfs:label": source}
    if c.temporal_start or c.temporal_end:
        period = {"@type": "dct:PeriodOfTime"}
        if c.temporal_start:
            period["dcat:startDate"] = iso_date(c.temporal_start, "temporal start")
        if c.temporal_end:
            period["dcat:endDate"] = iso_date(c.temporal_end, "temporal end")
        doc["dct:temporal"] = period
    if c.spatial:
        place = c.spatial.strip()
        doc["dct:spatial"] = (
            {"@id": place, "@type": "dct:Location"} if is_iri(place) else {"@type": "dct:Location", "rdfs:label": place}
        )
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
    if info.privacy is not None:
        doc["cl:privacy"] = _privacy(info)
    if record_count is not None:
        doc["cl:recordCount"] = record_count
    if rows_root is not None:
        doc["cl:rowsMerkleRoot"] = "0x" + rows_root.hex()
        doc["cl:canonicalForm"] = canonical_form
    if info.supersedes:
        # The id only: the version's IRI depends on where it is served (the derived description
        # says dct:replaces <{base}/datasets/N>).
        doc["cl:supersedes"] = int(info.supersedes)
    validate_metadata(doc)
    return doc


def _licence_node(text: str) -> dict:
    """dct:license as an IRI node; a known licence keeps its short label, which the index's summary
    shows (one label per IRI, from the table, so documents never disagree about a shared IRI)."""
    node: dict = {"@id": licence_iri(text)}
    known = find_licence(text)
    label = known.label if known else spdx_id(text.strip())
    if label:
        node["rdfs:label"] = label
    return node


def _language_iri(code: str) -> str:
    key = code.strip().lower()
    if key not in LANGUAGES:
        raise CityLedgerError(f"unknown language '{code}' (an ISO 639-1 code: {', '.join(sorted(LANGUAGES))})")
    return EU_LANGUAGES + LANGUAGES[key]


def _privacy(info: DatasetInfo) -> dict:
    """The checked `cl:privacy` declaration, as the engine writes it (what a release and a private
    query will read back from the registered document)."""
    from ..privacy import parse_declaration

    if not info.personal_data:
        raise CityLedgerError("a privacy declaration is for a dataset with personal data (--personal)")
    return parse_declaration(info.privacy or {}).to_jsonld()


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
    for key in ("dct:title", "dct:description"):
        if not isinstance(doc[key], str):
            raise CityLedgerError(f"metadata field {key} must be text")
    # Version 1 wrote the licence as text; version 2 as an IRI node.
    licence = doc["dct:license"]
    if not (isinstance(licence, str) or (isinstance(licence, dict) and isinstance(licence.get("@id"), str))):
        raise CityLedgerError("metadata field dct:license must be text or an IRI node")


def canonical_json(doc: dict) -> bytes:
    """The canonical bytes of a metadata document (what is hashed and stored): RFC 8785 JCS.

    Floats are refused (write them as text): they have no single canonical text here."""
    try:
        return canonicalize(doc)
    except CityLedgerError as exc:
        raise CityLedgerError(f"metadata {exc}") from None


def metadata_hash(doc: dict) -> bytes:
    """SHA-256 of the canonical bytes: the metadata_hash registered on chain."""
    return hashlib.sha256(canonical_json(doc)).digest()
