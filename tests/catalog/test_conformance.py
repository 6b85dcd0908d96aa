"""DCAT-AP 3 conformance: every document the demo publishes, derived with chain facts, validates
against the SHACL shapes (src/cityledger/catalog/shapes/), alone, as a lineage and in the
catalogue; version 1 documents too; and broken descriptions fail with the reason."""

from __future__ import annotations

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, XSD

from cityledger.catalog.catalogue import CatalogInfo, Entry, catalogue
from cityledger.catalog.describe import describe, describe_lineage
from cityledger.catalog.validate import validate
from cityledger.catalog.vocab import DCAT, DCT, FOAF, SPDX

from .conftest import BASE, facts_for, v1_document

NAMES = {
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8": "Seattle agency",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC": "Energy Co",
}
# Recommended but unknowable from a place name: its geometry. The only warnings a demo description has.
PLACE_WARNINGS = {"give the place's bounding box (dcat:bbox)", "give the place's centroid (dcat:centroid)"}


def assert_valid(graph, also: set[str] = frozenset()) -> None:
    """No violation; no warning but the place geometry's (and `also`, what the document lacks)."""
    report = validate(graph)
    assert report.conforms, "\n".join(map(str, report.violations))
    assert {w.message for w in report.warnings} <= PLACE_WARNINGS | also, "\n".join(map(str, report.warnings))


def test_every_demo_document_validates(demo_entries):
    assert len(demo_entries) == 6  # what seed_demo publishes: 4 public files, a correction, the citizen data
    for key, doc, facts in demo_entries:
        assert doc["cl:schemaVersion"] == 2, key
        assert_valid(describe(doc, facts, base=BASE, publisher=NAMES.get))


def test_the_demo_catalogue_and_lineage_validate(demo_entries):
    entries = [Entry(doc, facts) for _, doc, facts in demo_entries]
    city = CatalogInfo(spatial="https://sws.geonames.org/5809844/")  # Seattle
    assert_valid(catalogue(entries, base=BASE, publisher=NAMES.get, info=city))
    assert_valid(catalogue(entries, base=BASE, page=2, page_size=4, info=city))
    seattle = [(doc, facts) for key, doc, facts in demo_entries if key.startswith("seattle")]
    assert_valid(describe_lineage(seattle, base=BASE))


def test_version_1_documents_validate():
    doc = v1_document("seattle-weather")
    assert_valid(describe(doc, facts_for(doc, 1, publisher_kind="agency"), base=BASE))
    # No keywords and a free-text licence: recommended items missing, still valid DCAT-AP.
    doc = v1_document("mobility-personal")
    lacks = {
        "add keywords (dcat:keyword)",
        "give the licence's type (dct:type, ADMS licence type): use a licence CityLedger knows",
    }
    assert_valid(describe(doc, facts_for(doc, 4, publisher_kind="business"), base=BASE), lacks)
    # A version whose document is not available here is still valid DCAT-AP, lacking what only
    # the document says.
    doc = v1_document("seattle-weather")
    lacks = {
        "add keywords (dcat:keyword)",
        "give the place the data covers (dct:spatial)",
        "give the period the data covers (dct:temporal)",
        "give the distribution's format (dct:format)",
        "give the distribution's licence (dct:license)",
        "name the record's metadata standard (dct:conformsTo)",
    }
    assert_valid(
        describe(None, facts_for(doc, 1, metadata_uri="ipfs://bafy", publisher_kind="agency"), base=BASE), lacks
    )


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda g, ds, dist: g.remove((dist, DCAT.accessURL, None)), "needs an access URL"),
        (lambda g, ds, dist: g.remove((ds, DCT.title, None)), "a dataset needs a title"),
        (lambda g, ds, dist: g.remove((ds, DCT.description, None)), "a dataset needs a description"),
        (lambda g, ds, dist: g.remove((g.value(ds, DCT.publisher), FOAF.name, None)), "an agent needs a name"),
        (lambda g, ds, dist: g.set((dist, DCT.license, Literal("CC-BY-4.0"))), "not text"),
        (lambda g, ds, dist: g.set((dist, DCAT.mediaType, Literal("text/csv"))), "IANA IRI, not text"),
        (lambda g, ds, dist: g.set((dist, DCAT.byteSize, Literal(12))), "xsd:nonNegativeInteger"),
        (lambda g, ds, dist: g.set((g.value(ds, DCT.temporal), DCAT.startDate, Literal("2012"))), "typed xsd:date"),
        (lambda g, ds, dist: g.set((g.value(dist, SPDX.checksum), SPDX.algorithm, Literal("SHA256"))), "by IRI"),
        (lambda g, ds, dist: g.add((ds, DCT.source, Literal("NOAA"))), "write citations as dct:provenance"),
        (lambda g, ds, dist: g.add((ds, DCAT.theme, URIRef("http://x.example/not-a-concept"))), "skos:Concept"),
        (lambda g, ds, dist: g.add((ds, DCT.publisher, BNode())), "at most one publisher"),
        (lambda g, ds, dist: g.remove((g.value(ds, DCT.publisher), RDF.type, FOAF.Agent)), "must be a foaf:Agent"),
    ],
)
def test_a_broken_description_fails(demo_entries, break_it, message):
    _, doc, facts = demo_entries[0]
    g = describe(doc, facts, base=BASE)
    ds = URIRef(f"{BASE}/datasets/{facts.dataset_id}")
    assert validate(g).conforms
    break_it(g, ds, URIRef(f"{ds}#distribution"))
    report = validate(g)
    assert not report.conforms
    assert any(message in v.message for v in report.violations), "\n".join(map(str, report.violations))


def test_dates_must_be_typed_dates(demo_entries):
    _, doc, facts = demo_entries[0]
    g = describe(doc, facts, base=BASE)
    ds = URIRef(f"{BASE}/datasets/{facts.dataset_id}")
    g.set((ds, DCT.issued, Literal("2025-01-01", datatype=XSD.string)))
    assert any(v.path == "dct:issued" for v in validate(g).violations)
