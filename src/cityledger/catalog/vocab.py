"""Namespaces and the controlled vocabularies the catalogue uses (EU Publications Office authority
tables, ADMS, IANA), with the few labels CityLedger states about them.

Statements about a shared vocabulary IRI (its rdf:type, its label) come from these tables only, so
every description and every catalogue page says the same about it and merged graphs never disagree.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD

from ..datasets.metadata import (
    DOMAIN_THEMES,
    EU_FILE_TYPES,
    EU_THEMES,
    FILE_TYPES,
    IANA_MEDIA_TYPES,
)

DCT = DCTERMS
# rdflib's DCAT namespace predates DCAT 3 (dcat:version, dcat:hasVersion, ...): an open namespace instead.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
SCHEMA = Namespace("http://schema.org/")
PROV = Namespace("http://www.w3.org/ns/prov#")
CL = Namespace("https://cityledger.example/ns#")

PREFIXES = {
    "dcat": DCAT,
    "dct": DCT,
    "foaf": FOAF,
    "spdx": SPDX,
    "adms": ADMS,
    "vcard": VCARD,
    "hydra": HYDRA,
    "dcatap": DCATAP,
    "skos": SKOS,
    "owl": OWL,
    "rdfs": RDFS,
    "xsd": XSD,
    "locn": LOCN,
    "prov": PROV,
    "cl": CL,
}

EU = "http://publications.europa.eu/resource/authority/"
ACCESS_PUBLIC = URIRef(EU + "access-right/PUBLIC")
ACCESS_NON_PUBLIC = URIRef(EU + "access-right/NON_PUBLIC")
ACCESS_RIGHTS = {
    ACCESS_PUBLIC: "public",
    ACCESS_NON_PUBLIC: "non-public",
    URIRef(EU + "access-right/RESTRICTED"): "restricted",
}
# A version's status: active, superseded by a later version, or withdrawn by its publisher.
STATUS = {
    "active": URIRef(EU + "distribution-status/COMPLETED"),
    "superseded": URIRef(EU + "distribution-status/DEPRECATED"),
    "withdrawn": URIRef(EU + "distribution-status/WITHDRAWN"),
}
RECORD_STATUS = {  # ADMS status of the catalogue record
    "active": URIRef("http://purl.org/adms/status/Completed"),
    "superseded": URIRef("http://purl.org/adms/status/Deprecated"),
    "withdrawn": URIRef("http://purl.org/adms/status/Withdrawn"),
}
STABLE = URIRef(EU + "planned-availability/STABLE")
# A registered version never changes (its hash is on chain): updates are new versions.
FREQUENCY_NEVER = URIRef(EU + "frequency/NEVER")
THEME_SCHEME = URIRef(EU + "data-theme")
PUBLISHER_TYPES = {
    "agency": URIRef("http://purl.org/adms/publishertype/LocalAuthority"),
    "business": URIRef("http://purl.org/adms/publishertype/Company"),
}
LICENCE_TYPES = "http://purl.org/adms/licencetype/"
JSON_LD_FORMAT = URIRef(EU_FILE_TYPES + "JSON_LD")

THEME_LABELS = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "OP_DATPRO": "Provisional data",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
# Harvesting: an EU theme -> CityLedger domain, where one domain is the theme's clear reading
# (EDUC also holds culture, SOCI housing: those come back as the first-named domain, or `other`).
THEME_DOMAINS = {code: name for name, code in reversed(list(DOMAIN_THEMES.items()))}

# data.europa.eu's quality check: formats that are machine-readable, and those that are non-proprietary.
_OPEN_DATA = {"CSV", "TSV", "JSON", "JSON_LD", "GEOJSON", "XML", "RDF_TURTLE", "RDF_XML", "PARQUET", "ODS"}
MACHINE_READABLE = _OPEN_DATA | {"XLSX", "XLS"}
NON_PROPRIETARY = _OPEN_DATA | {"TXT", "HTML", "PDF"}


def media_iri(media: str) -> URIRef:
    """The IANA IRI of a media type ('text/csv'); an IRI passes through."""
    return URIRef(media if media.startswith(("http://", "https://")) else IANA_MEDIA_TYPES + media)


def media_of(value: str) -> str:
    """'text/csv' from an IANA IRI (either scheme) or from the plain media type."""
    for prefix in (IANA_MEDIA_TYPES, IANA_MEDIA_TYPES.replace("https://", "http://")):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def format_iri(media: str) -> URIRef | None:
    """The EU file-type IRI for a media type, when the vocabulary has one."""
    code = FILE_TYPES.get(media_of(media))
    return URIRef(EU_FILE_TYPES + code) if code else None


def format_code(value: str) -> str | None:
    """'CSV' from an EU file-type IRI or a bare format name ('csv', 'CSV'), else None."""
    text = value.rsplit("/", 1)[-1] if value.startswith(("http://", "https://")) else value
    code = text.strip().upper().replace("-", "_")
    return code if code in set(FILE_TYPES.values()) else None


def theme_code(iri: str) -> str | None:
    return iri[len(EU_THEMES) :] if iri.startswith(EU_THEMES) else None


def theme_iri(code: str) -> URIRef:
    return URIRef(EU_THEMES + code)


__all__ = [
    "ADMS",
    "CL",
    "DCAT",
    "DCATAP",
    "DCT",
    "FOAF",
    "HYDRA",
    "LOCN",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SKOS",
    "SPDX",
    "VCARD",
    "XSD",
]
