"""The registered document (schema version 2, typed values; version 1 still read and verified) and
the DCAT-AP description derived from it plus chain facts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from cityledger.catalog.describe import describe, describe_lineage
from cityledger.catalog.facts import Publisher, facts_from_rows
from cityledger.catalog.registered import check_registered, read_registered
from cityledger.catalog.vocab import ADMS, CL, DCAT, DCT, FOAF, SPDX, STATUS, VCARD
from cityledger.datasets.metadata import Coverage, build_metadata, licence_iri, metadata_hash
from cityledger.datasets.store import MetadataStore, default_uri
from cityledger.errors import CityLedgerError

from .conftest import ACCOUNTS, BASE, V1, dataset_info, facts_for, v1_document

EU = "http://publications.europa.eu/resource/authority/"


def doc(**kw) -> dict:
    return build_metadata(
        dataset_info(**kw),
        file_name="counts.csv",
        content_hash=b"\x11" * 32,
        byte_size=1234,
        media="text/csv",
        record_count=9,
    )


def rdf(d: dict) -> Graph:
    return Graph().parse(data=json.dumps(d), format="json-ld")


def test_version_2_document_has_typed_values():
    g = rdf(doc(source="https://data.ghent.example/dataset/counters", language="nl"))
    ds = next(g.subjects(RDF.type, DCAT.Dataset))
    assert g.value(ds, CL.schemaVersion) == Literal(2)
    # The domain hangs on the dataset; the shared theme IRI says nothing about one dataset.
    assert g.value(ds, DCAT.theme) == URIRef(EU + "data-theme/TRAN")
    assert g.value(ds, CL.domain) == Literal("transport") and g.value(ds, CL.domainCode) == Literal(7)
    assert not list(g.predicate_objects(URIRef(EU + "data-theme/TRAN")))
    licence = URIRef(EU + "licence/CC_BY_4_0")
    assert g.value(ds, DCT.license) == licence and g.value(licence, RDFS.label) == Literal("CC-BY-4.0")
    period = g.value(ds, DCT.temporal)
    assert g.value(period, DCAT.startDate) == Literal("2024-01-01", datatype=XSD.date)
    assert g.value(period, DCAT.endDate) == Literal("2024-12-31", datatype=XSD.date)
    assert g.value(ds, DCT.source) == URIRef("https://data.ghent.example/dataset/counters")
    assert g.value(ds, DCT.language) == URIRef(EU + "language/NLD")
    dist = g.value(ds, DCAT.distribution)
    assert g.value(dist, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert g.value(dist, DCT.format) == URIRef(EU + "file-type/CSV")
    assert g.value(dist, DCAT.byteSize) == Literal("1234", datatype=XSD.nonNegativeInteger)
    checksum = g.value(dist, SPDX.checksum)
    assert g.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert g.value(checksum, SPDX.checksumValue) == Literal("11" * 32, datatype=XSD.hexBinary)


def test_document_values_are_checked():
    assert licence_iri("cc0-1.0") == EU + "licence/CC0"
    assert licence_iri("https://creativecommons.org/licenses/by/4.0/legalcode") == EU + "licence/CC_BY_4_0"
    assert licence_iri("http://spdx.org/licenses/ODbL-1.0") == "http://spdx.org/licenses/ODbL-1.0"
    assert licence_iri("https://city.example/licence") == "https://city.example/licence"
    with pytest.raises(CityLedgerError, match="unknown licence 'my own terms'"):
        doc(license="my own terms")
    with pytest.raises(CityLedgerError, match="temporal start '2024-01-01T10:00' is not an ISO 8601 date"):
        doc(coverage=Coverage("2024-01-01T10:00", None))
    with pytest.raises(CityLedgerError, match="unknown language 'xx'"):
        doc(language="xx")
    # A citation is provenance, not a source dataset; a place IRI stays an IRI.
    d = doc(source="NOAA via vega-datasets", coverage=Coverage(spatial="https://sws.geonames.org/2797656/"))
    assert d["dct:provenance"]["rdfs:label"] == "NOAA via vega-datasets" and "dct:source" not in d
    assert d["dct:spatial"] == {"@id": "https://sws.geonames.org/2797656/", "@type": "dct:Location"}
    assert doc(coverage=Coverage("20240101"))["dct:temporal"]["dcat:startDate"] == "2024-01-01"


def test_version_1_documents_stay_verifiable(tmp_path):
    """A document registered before schema version 2 is read from the store and verified against
    its hash on chain, and reads into the same record as its version 2 equivalent would."""
    old = v1_document("seattle-weather")
    store = MetadataStore(tmp_path)
    digest, _ = store.put(old)
    raw = (tmp_path / f"{digest.hex()}.json").read_bytes()
    assert raw == (V1 / "seattle-weather.json").read_bytes()
    assert store.get_uri(default_uri(digest)) == old
    check_registered(old, digest)
    reg = read_registered(old)
    assert reg.schema_version == 1 and reg.domain == "environment" and reg.licence == "CC-BY-4.0"
    assert reg.media_type == "text/csv" and reg.temporal_start == "2012-01-01"
    assert reg.provenance.startswith("https://github.com/vega/vega-datasets") and reg.source is None
    with pytest.raises(CityLedgerError, match="not the registered document"):
        check_registered(old, b"\x00" * 32)
    with pytest.raises(CityLedgerError, match="schema version 7"):
        read_registered({**old, "cl:schemaVersion": 7})


def test_derived_description_of_a_version_1_document():
    old = v1_document("seattle-weather")
    g = describe(old, facts_for(old, 1), base=BASE)
    ds = URIRef(f"{BASE}/datasets/1")
    assert (ds, RDF.type, DCAT.Dataset) in g
    dist = g.value(ds, DCAT.distribution)
    # The untyped version 1 values come out typed.
    assert g.value(dist, DCT.license) == URIRef(EU + "licence/CC_BY_4_0")
    assert g.value(dist, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert g.value(g.value(ds, DCT.temporal), DCAT.startDate) == Literal("2012-01-01", datatype=XSD.date)
    assert g.value(ds, DCAT.theme) == URIRef(EU + "data-theme/ENVI")
    # A citation in v1's dct:source becomes part of the provenance statement.
    assert "vega-datasets" in str(g.value(g.value(ds, DCT.provenance), RDFS.label))
    assert g.value(ds, DCT.source) is None

    personal = v1_document("mobility-personal")  # free-text licence, a date-time start, supersedes 3
    g = describe(personal, facts_for(personal, 4, supersedes=3, version=2), base=BASE)
    ds = URIRef(f"{BASE}/datasets/4")
    dist = g.value(ds, DCAT.distribution)
    licence = g.value(dist, DCT.license)
    assert g.value(licence, RDFS.label) == Literal("Open data licence of the fictional city")
    start = g.value(g.value(ds, DCT.temporal), DCAT.startDate)
    assert start.datatype == XSD.dateTime
    assert g.value(ds, DCT.replaces) == URIRef(f"{BASE}/datasets/3")
    # Personal data: no download, non-public access rights.
    assert g.value(dist, DCAT.downloadURL) is None
    assert g.value(dist, DCAT.accessURL) == URIRef(f"{BASE}/#/dataset/4")
    assert g.value(ds, DCT.accessRights) == URIRef(EU + "access-right/NON_PUBLIC")


def test_description_takes_chain_facts_and_links_back_to_the_registered_document():
    d = doc()
    facts = facts_for(d, 7, version=3, supersedes=6, lineage=2, successor=9, latest=9, publisher_kind="agency")
    names = {ACCOUNTS[1].address: Publisher("Ghent mobility office", email="open@ghent.example")}
    g = describe(d, facts, base=BASE + "/", publisher=names.get)
    ds, dist = URIRef(f"{BASE}/datasets/7"), URIRef(f"{BASE}/datasets/7#distribution")
    assert g.value(ds, DCAT.version) == Literal("3")
    assert g.value(ds, DCT.isVersionOf) == URIRef(f"{BASE}/lineages/2")
    assert g.value(ds, DCAT.previousVersion) == URIRef(f"{BASE}/datasets/6") == g.value(ds, DCT.replaces)
    assert g.value(ds, DCT.isReplacedBy) == URIRef(f"{BASE}/datasets/9")
    assert g.value(ds, ADMS.status) == STATUS["superseded"]
    assert g.value(ds, DCT.issued) == Literal("2025-01-01T07:00:00+00:00", datatype=XSD.dateTime)
    agent = g.value(ds, DCT.publisher)
    assert g.value(agent, FOAF.name) == Literal("Ghent mobility office")
    assert g.value(agent, DCT.identifier) == Literal(f"eip155:31337:{ACCOUNTS[1].address}")
    assert g.value(g.value(ds, DCAT.contactPoint), VCARD.hasEmail) == URIRef("mailto:open@ghent.example")
    assert g.value(dist, DCAT.downloadURL) == URIRef(f"{BASE}/api/datasets/7/download")
    record = g.value(ds, FOAF.isPrimaryTopicOf)
    registered = g.value(record, CL.registeredDocument)
    assert registered == URIRef(f"{BASE}/metadata/{metadata_hash(d).hex()}")
    value = g.value(g.value(registered, SPDX.checksum), SPDX.checksumValue)
    assert value == Literal(metadata_hash(d).hex(), datatype=XSD.hexBinary)
    # Without a registry entry the address is the publisher's name.
    g = describe(d, facts, base=BASE)
    assert g.value(URIRef(f"{BASE}/publishers/{ACCOUNTS[1].address}"), FOAF.name) == Literal(ACCOUNTS[1].address)


def test_withdrawn_is_marked_and_a_missing_document_still_describes():
    d = doc()
    g = describe(d, facts_for(d, 2, withdrawn_at=1_800_000_000), base=BASE)
    ds = URIRef(f"{BASE}/datasets/2")
    assert g.value(ds, ADMS.status) == STATUS["withdrawn"]
    assert g.value(URIRef(f"{ds}#distribution"), ADMS.status) == STATUS["withdrawn"]
    assert g.value(ds, DCT.modified) == Literal("2027-01-15T08:00:00+00:00", datatype=XSD.dateTime)
    # The document lives elsewhere (ipfs://): the chain facts alone still give a description.
    g = describe(None, facts_for(d, 2, metadata_uri="ipfs://bafy/doc.json"), base=BASE)
    assert "ipfs://bafy/doc.json" in str(g.value(ds, DCT.description))
    assert g.value(g.value(g.value(ds, FOAF.isPrimaryTopicOf), CL.registeredDocument), CL.availableHere) == Literal(
        False
    )


def test_description_refuses_a_document_that_is_not_the_registered_one():
    d = doc()
    with pytest.raises(CityLedgerError, match="not the registered document"):
        describe({**d, "dct:title": "Other"}, facts_for(d, 1), base=BASE)
    with pytest.raises(CityLedgerError, match="describes content 0x1111"):
        describe(d, replace(facts_for(d, 1), content_hash="0x" + "22" * 32), base=BASE)
    with pytest.raises(CityLedgerError, match="base URL 'ftp://x' must be an http"):
        describe(d, facts_for(d, 1), base="ftp://x")


def test_lineage_and_facts_from_index_rows():
    first, second = doc(), doc(title="Bicycle counters, corrected")
    second["cl:contentHash"] = "0x" + "33" * 32
    second["dcat:distribution"][0]["spdx:checksum"]["spdx:checksumValue"] = "33" * 32
    rows = [
        {
            "id": i,
            "publisher": ACCOUNTS[1].address,
            "content_hash": d["cl:contentHash"],
            "metadata_hash": "0x" + metadata_hash(d).hex(),
            "metadata_uri": "cityledger://metadata/" + metadata_hash(d).hex(),
            "domain": 7,
            "personal_data": False,
            "version": v,
            "supersedes": prev,
            "successor": nxt,
            "status": 1,
            "registered_at": 1_700_000_000 + i,
            "withdrawn_at": None,
        }
        for i, d, v, prev, nxt in ((4, first, 1, None, 8), (8, second, 2, 4, None))
    ]
    f4, f8 = facts_from_rows(rows, chain_id=31337)
    assert (f4.lineage, f4.latest, f4.status) == (4, 8, "superseded")
    assert (f8.lineage, f8.latest, f8.supersedes, f8.status) == (4, 8, 4, "active")
    # Alone, a later version's row cannot tell its lineage: nothing is claimed.
    (alone,) = facts_from_rows(rows[1:])
    assert alone.lineage == 0 and alone.root is None
    g = describe_lineage([(second, f8), (first, f4)], base=BASE)
    lineage = URIRef(f"{BASE}/lineages/4")
    assert set(g.objects(lineage, DCAT.hasVersion)) == {URIRef(f"{BASE}/datasets/4"), URIRef(f"{BASE}/datasets/8")}
    assert g.value(lineage, DCAT.hasCurrentVersion) == URIRef(f"{BASE}/datasets/8")
    assert g.value(lineage, DCT.title) == Literal("Bicycle counters, corrected")
    with pytest.raises(CityLedgerError, match="not one lineage"):
        describe_lineage([(second, alone)], base=BASE)
