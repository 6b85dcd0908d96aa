"""The dcat:Catalog: every version listed (withdrawn marked), hydra paging as harvesters follow it,
and the three serialisations with content negotiation."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from cityledger.catalog.catalogue import Entry, catalogue
from cityledger.catalog.describe import describe
from cityledger.catalog.serialize import JSON_LD, RDF_XML, TURTLE, NotAcceptable, negotiate, parse, serialize
from cityledger.catalog.vocab import ADMS, DCAT, DCT, HYDRA, STATUS
from cityledger.errors import CityLedgerError

from .conftest import BASE


@pytest.fixture(scope="module")
def entries(demo_entries):
    return [Entry(doc, facts) for _, doc, facts in demo_entries]


def test_catalogue_lists_every_version_and_marks_withdrawn(entries):
    g = catalogue(entries, base=BASE)
    cat = URIRef(f"{BASE}/catalog")
    assert (cat, RDF.type, DCAT.Catalog) in g
    listed = sorted(g.objects(cat, DCAT.dataset))
    assert listed == sorted(URIRef(f"{BASE}/datasets/{i}") for i in range(1, 7))
    # Only versions are datasets (a harvester imports every dcat:Dataset of a page).
    assert sorted(g.subjects(RDF.type, DCAT.Dataset)) == listed
    assert g.value(URIRef(f"{BASE}/datasets/3"), ADMS.status) == STATUS["withdrawn"]
    assert g.value(URIRef(f"{BASE}/datasets/1"), ADMS.status) == STATUS["superseded"]
    assert g.value(URIRef(f"{BASE}/datasets/5"), DCAT.previousVersion) == URIRef(f"{BASE}/datasets/1")
    assert g.value(cat, DCT.issued) == Literal("2025-01-01T01:00:00+00:00", datatype=g.value(cat, DCT.issued).datatype)
    # The catalogue's modification is la-riots' withdrawal, 30 days in.
    assert str(g.value(cat, DCT.modified)).startswith("2025-01-31T00:00:00")


def test_paging(entries):
    pages = [catalogue(entries, base=BASE, page=p, page_size=4) for p in (1, 2)]
    first, second = (URIRef(f"{BASE}/catalog?page={p}") for p in (1, 2))
    g1, g2 = pages
    assert (first, RDF.type, HYDRA.PagedCollection) in g1
    assert g1.value(first, HYDRA.totalItems).toPython() == 6 and g1.value(first, HYDRA.itemsPerPage).toPython() == 4
    assert g1.value(first, HYDRA.nextPage) == second == g1.value(first, HYDRA.next)
    assert g1.value(first, HYDRA.lastPage) == second and g1.value(first, HYDRA.previousPage) is None
    assert g2.value(second, HYDRA.previousPage) == first and g2.value(second, HYDRA.nextPage) is None
    cat = URIRef(f"{BASE}/catalog")
    ids = [sorted(int(str(d).rsplit("/", 1)[1]) for d in g.objects(cat, DCAT.dataset)) for g in pages]
    assert ids == [[1, 2, 3, 4], [5, 6]]
    # The API's form: the page's rows, the total count and the catalogue's dates give the same page.
    issued = min(e.facts.registered_at for e in entries)
    modified = max(e.facts.modified_at for e in entries)
    api = catalogue(entries[4:], base=BASE, page=2, page_size=4, total=6, issued=issued, modified=modified)
    assert isomorphic(api, g2)
    with pytest.raises(CityLedgerError, match="page 3 does not exist"):
        catalogue(entries, base=BASE, page=3, page_size=4)
    with pytest.raises(CityLedgerError, match="page size 0 is out of range"):
        catalogue(entries, base=BASE, page_size=0)
    empty = catalogue([], base=BASE)
    assert empty.value(URIRef(f"{BASE}/catalog?page=1"), HYDRA.totalItems).toPython() == 0


@pytest.mark.parametrize("media", [JSON_LD, TURTLE, RDF_XML])
def test_serialisations_round_trip(entries, media):
    g = catalogue(entries, base=BASE)
    data = serialize(g, media)
    back = parse(data, content_type=media)
    assert isomorphic(g, back)
    assert parse(data).__len__() == len(g)  # sniffed without a content type too


def test_turtle_catalogue_datasets_all_resolve(entries):
    """What `curl -H 'Accept: text/turtle' {base}/catalog` gives parses into a catalogue whose
    every dataset IRI is one the per-dataset route describes."""
    g = Graph().parse(data=serialize(catalogue(entries, base=BASE), TURTLE).decode(), format="turtle")
    for ds in g.objects(URIRef(f"{BASE}/catalog"), DCAT.dataset):
        dataset_id = int(str(ds).removeprefix(f"{BASE}/datasets/"))
        entry = next(e for e in entries if e.facts.dataset_id == dataset_id)
        alone = describe(entry.document, entry.facts, base=BASE)
        assert (ds, RDF.type, DCAT.Dataset) in alone and g.value(ds, DCT.title) == alone.value(ds, DCT.title)


def test_content_negotiation():
    assert negotiate(None) == JSON_LD and negotiate("*/*") == JSON_LD
    assert negotiate("text/turtle") == TURTLE
    assert negotiate("application/rdf+xml;q=0.5, text/turtle;q=0.9") == TURTLE
    assert negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") == RDF_XML
    assert negotiate("application/json") == JSON_LD
    assert negotiate("text/*") == TURTLE
    with pytest.raises(NotAcceptable, match="none of the accepted media types"):
        negotiate("image/png, text/turtle;q=0")
    with pytest.raises(NotAcceptable):
        serialize(Graph(), "text/html")
    with pytest.raises(CityLedgerError, match="is not readable as text/turtle"):
        parse(b"this is not turtle <<<", name="catalog.ttl")
    with pytest.raises(CityLedgerError, match="is not readable as application/ld\\+json"):
        parse(b"{not json", name="catalog.jsonld")
