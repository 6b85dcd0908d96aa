"""Harvesting in: a catalogue in ckanext-dcat's shape, built from the vega datasets and served over
HTTP in hydra pages, harvested into a devnet: registered once, unchanged on a second run, a changed
file becomes a new version, an unreachable file is reported and the rest goes on."""

from __future__ import annotations

import json
import uuid

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS, XSD

from cityledger.catalog.catalogue import Entry, catalogue
from cityledger.catalog.fetch import Limits, client
from cityledger.catalog.harvest import harvest, read_catalogue, source_datasets
from cityledger.catalog.registered import read_registered
from cityledger.catalog.vocab import DCAT, DCT, FOAF, HYDRA, VCARD
from cityledger.datasets.registry import dataset_record, registration
from cityledger.datasets.store import MetadataStore
from cityledger.demo.catalog import vega_file

from .conftest import Files, closed_port_url

SCHEMA = Namespace("http://schema.org/")
CKAN = "https://opendata.city.example"
EU = "http://publications.europa.eu/resource/authority/"
# (file, title, theme, start, end, place) as a city's CKAN would list them.
VEGA = [
    ("seattle-weather.csv", "Seattle daily weather", "ENVI", "2012-01-01", "2015-12-31", "Seattle"),
    ("iowa-electricity.csv", "Iowa electricity by source", "ENER", "2001-01-01", "2017-12-31", "Iowa"),
    ("us-employment.csv", "US employment by supersector", "ECON", "2006-01-01", "2015-12-01", "United States"),
]


def ckan_dataset(g: Graph, name: str, title: str, theme: str, start: str, end: str, place: str, url: str) -> URIRef:
    """One dataset as ckanext-dcat's euro_dcat_ap profile writes it: a UUID IRI, schema:startDate,
    the licence on the distribution, format and media type as text, byte size as xsd:decimal."""
    ds = URIRef(f"{CKAN}/dataset/{uuid.uuid5(uuid.NAMESPACE_URL, name)}")
    dist = URIRef(f"{ds}/resource/{uuid.uuid5(uuid.NAMESPACE_URL, url)}")
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCT.identifier, Literal(str(uuid.uuid5(uuid.NAMESPACE_URL, name)))))
    g.add((ds, DCT.title, Literal(title)))
    g.add((ds, DCT.description, Literal(f"{title}, from the vega-datasets package.")))
    for word in ("vega", name.split("-")[0]):
        g.add((ds, DCAT.keyword, Literal(word)))
    g.add((ds, DCT.issued, Literal("2019-03-01T10:00:00", datatype=XSD.dateTime)))
    g.add((ds, DCAT.theme, URIRef(EU + "data-theme/" + theme)))
    publisher, contact, period, location = BNode(), BNode(), BNode(), BNode()
    g.add((ds, DCT.publisher, publisher))
    g.add((publisher, RDF.type, FOAF.Organization))
    g.add((publisher, FOAF.name, Literal("City open data team")))
    g.add((ds, DCAT.contactPoint, contact))
    g.add((contact, RDF.type, VCARD.Organization))
    g.add((contact, VCARD.hasEmail, URIRef("mailto:opendata@city.example")))
    g.add((ds, DCT.temporal, period))
    g.add((period, RDF.type, DCT.PeriodOfTime))
    g.add((period, SCHEMA.startDate, Literal(start, datatype=XSD.date)))
    g.add((period, SCHEMA.endDate, Literal(end, datatype=XSD.date)))
    g.add((ds, DCT.spatial, location))
    g.add((location, RDF.type, DCT.Location))
    g.add((location, SKOS.prefLabel, Literal(place)))
    g.add((ds, DCAT.distribution, dist))
    g.add((dist, RDF.type, DCAT.Distribution))
    g.add((dist, DCT.title, Literal(name)))
    g.add((dist, DCAT.accessURL, URIRef(url)))
    g.add((dist, DCAT.downloadURL, URIRef(url)))
    g.add((dist, DCT.format, Literal("CSV")))
    g.add((dist, DCAT.mediaType, Literal("text/csv")))
    g.add((dist, DCT.license, URIRef("http://creativecommons.org/licenses/by/4.0/")))
    g.add((dist, DCAT.byteSize, Literal("1000", datatype=XSD.decimal)))
    return ds


def ckan_pages(files: Files, items: list[tuple], page_size: int = 2) -> str:
    """Serve the catalogue as Turtle pages at {files.base}/catalog.ttl?page=N; the first page's URL."""
    pages = [items[i : i + page_size] for i in range(0, len(items), page_size)]
    for n, page_items in enumerate(pages, start=1):
        g = Graph()
        here = URIRef(f"{files.base}/catalog.ttl?page={n}")
        g.add((URIRef(CKAN), RDF.type, DCAT.Catalog))
        g.add((URIRef(CKAN), DCT.title, Literal("City open data")))
        for item in page_items:
            g.add((URIRef(CKAN), DCAT.dataset, ckan_dataset(g, *item)))
        g.add((here, RDF.type, HYDRA.PagedCollection))
        g.add((here, HYDRA.totalItems, Literal(len(items))))
        g.add((here, HYDRA.itemsPerPage, Literal(page_size)))
        if n < len(pages):
            g.add((here, HYDRA.nextPage, URIRef(f"{files.base}/catalog.ttl?page={n + 1}")))
        files.routes[f"/catalog.ttl?page={n}"] = g.serialize(format="turtle").encode()
    return f"{files.base}/catalog.ttl?page=1"


def vega_items(files: Files) -> list[tuple]:
    items = []
    for name, *rest in VEGA:
        files.routes[f"/files/{name}"] = vega_file(name).read_bytes()
        items.append((name, *rest, f"{files.base}/files/{name}"))
    return items


def run(devnet, source, store, **kw):
    with client(Limits(timeout=5)) as http:
        return harvest(
            source, w3=devnet.w3, deployment=devnet.deployment, account=devnet.accounts[1], store=store, http=http, **kw
        )


def statuses(report) -> dict[str, str]:
    return {r.title: r.status for r in report.results}


def test_harvest_registers_once_then_versions_changes(devnet, files, tmp_path):
    items = vega_items(files)
    items.append(("gone.csv", "A file the portal lost", "TRAN", "2020-01-01", "2020-12-31", "Here", closed_port_url()))
    # A remote catalogue naming a local file must not make this machine read it.
    items.append(("passwd.csv", "A local file", "TRAN", "2020-01-01", "2020-12-31", "Here", "file:///etc/passwd"))
    source = ckan_pages(files, items)
    store = MetadataStore(tmp_path / "metadata")

    first = run(devnet, source, store)
    assert first.pages == 3  # 5 datasets, 2 a page
    assert first.counts() == {"new": 3, "changed": 0, "unchanged": 0, "unreachable": 2, "invalid": 0}
    unreachable = {r.title: r.detail for r in first.results if r.status == "unreachable"}
    assert "ConnectError" in unreachable["A file the portal lost"]
    assert "a remote catalogue cannot name a local file" in unreachable["A local file"]
    reg = devnet.contract("DatasetRegistry")
    assert reg.functions.dataset_count().call() == 3
    by_title = {r.title: r for r in first.results}
    weather = by_title["Seattle daily weather"]
    doc = store.get_uri(registration(devnet.w3, devnet.deployment, weather.dataset_id)["args"]["metadata_uri"])
    record = read_registered(doc)
    assert record.source == weather.source and record.source.startswith(f"{CKAN}/dataset/")
    assert record.licence == EU + "licence/CC_BY_4_0" and record.domain == "environment"
    assert (record.temporal_start, record.temporal_end, record.spatial) == ("2012-01-01", "2015-12-31", "Seattle")
    assert record.keywords == ("seattle", "vega") and record.media_type.endswith("/text/csv")
    assert record.record_count == 1461  # a table: the rows root was computed like `cityledger publish` does
    assert doc["cl:contentHash"] == weather.content_hash

    stored = sorted(p.name for p in store.root.iterdir())
    second = run(devnet, source, store)
    assert second.counts() == {"new": 0, "changed": 0, "unchanged": 3, "unreachable": 2, "invalid": 0}
    assert reg.functions.dataset_count().call() == 3 and sorted(p.name for p in store.root.iterdir()) == stored
    assert {r.dataset_id for r in second.results if r.status == "unchanged"} == {1, 2, 3}

    iowa = by_title["Iowa electricity by source"]
    files.routes["/files/iowa-electricity.csv"] += b"2018,Renewables,99999\n"
    third = run(devnet, source, store)
    assert statuses(third)["Iowa electricity by source"] == "changed"
    changed = next(r for r in third.results if r.status == "changed")
    assert changed.supersedes == iowa.dataset_id and changed.dataset_id == 4
    v2 = dataset_record(devnet.w3, devnet.deployment, 4)
    assert v2["version"] == 2 and v2["supersedes"] == iowa.dataset_id
    assert dataset_record(devnet.w3, devnet.deployment, iowa.dataset_id)["successor"] == 4
    assert third.counts()["unchanged"] == 2

    fourth = run(devnet, source, store)
    assert fourth.counts() == {"new": 0, "changed": 0, "unchanged": 3, "unreachable": 2, "invalid": 0}
    assert reg.functions.dataset_count().call() == 4


def test_dry_run_and_the_cli_on_a_local_catalogue(devnet, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(tmp_path / "metadata"))
    g = Graph()
    for name, title, theme, start, end, place in VEGA[:2]:
        copy = tmp_path / name
        copy.write_bytes(vega_file(name).read_bytes())
        ckan_dataset(g, name, title, theme, start, end, place, copy.as_uri())
    catalogue = tmp_path / "catalog.jsonld"
    catalogue.write_text(g.serialize(format="json-ld"))

    code, out, err = cli("harvest", catalogue, "--dry-run", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["dry_run"] and report["counts"]["new"] == 2
    assert devnet.contract("DatasetRegistry").functions.dataset_count().call() == 0

    code, out, err = cli("harvest", catalogue)
    assert code == 0, err
    assert "harvested 2 datasets" in out and "2 new" in out
    code, out, err = cli("harvest", catalogue)
    assert code == 0 and "2 unchanged" in out

    code, out, err = cli("quality", "1", "--no-probe", "--json")
    assert code == 0, err
    scored = json.loads(out)
    assert scored["dataset"].endswith("/datasets/1") and scored["max_score"] == 405
    assert scored["not_checked"] == ["access URL accessible", "download URL accessible"]

    code, out, err = cli("harvest", catalogue, "--domain", "weather")
    assert code == 1 and "unknown domain 'weather'" in err


def test_mapping_problems_are_reported_not_fatal(tmp_path):
    g = Graph()
    ok = ckan_dataset(g, "a.csv", "Open", "ENVI", "2020-01-01", "2020-12-31", "Here", "https://files.example/a.csv")
    closed = ckan_dataset(
        g, "b.csv", "Closed", "HEAL", "2020-01-01", "2020-12-31", "Here", "https://files.example/b.csv"
    )
    g.add((closed, DCT.accessRights, URIRef(EU + "access-right/NON_PUBLIC")))
    bare = ckan_dataset(
        g, "c.csv", "No licence", "XXXX", "2020-01-01", "2020-12-31", "Here", "https://files.example/c.csv"
    )
    for dist in g.objects(bare, DCAT.distribution):
        g.remove((dist, DCT.license, None))
    anonymous = BNode()  # some catalogues give datasets no IRI
    g.add((anonymous, RDF.type, DCAT.Dataset))
    g.add((anonymous, DCT.title, Literal("Anonymous")))
    # The same catalogue in each serialisation maps to the same datasets.
    mapped = None
    for fmt, ext in (("turtle", "ttl"), ("json-ld", "jsonld"), ("xml", "rdf")):
        path = tmp_path / f"catalog.{ext}"
        path.write_text(g.serialize(format=fmt))
        graph, pages = read_catalogue(str(path))
        items = [i for i in source_datasets(graph) if i.title != "Anonymous"]
        mapped = mapped or items
        assert items == mapped and pages == 1
        (blank,) = [i for i in source_datasets(graph) if i.title == "Anonymous"]
        assert blank.problem.startswith("the dataset has no http(s) IRI")
    by_iri = {i.iri: i for i in mapped}
    assert by_iri[str(ok)].problem is None and by_iri[str(ok)].domain == "environment"
    assert "NON_PUBLIC: CityLedger harvests open data only" in by_iri[str(closed)].problem
    assert by_iri[str(bare)].licence is None and by_iri[str(bare)].domain == "other"
    defaults = {i.iri: i for i in source_datasets(g, default_licence="CC0-1.0", default_domain="transport")}
    assert (defaults[str(bare)].licence, defaults[str(bare)].domain) == ("CC0-1.0", "transport")


def test_a_cityledger_catalogue_harvests_back_to_the_same_metadata(demo_entries):
    """CityLedger's own catalogue is a DCAT catalogue too: its domains and licences map back exactly."""
    g = catalogue([Entry(doc, facts) for _, doc, facts in demo_entries], base="https://data.city.example")
    items = {i.iri.rsplit("/", 1)[1]: i for i in source_datasets(g)}
    assert [items[str(n)].domain for n in range(1, 7)] == [doc["cl:domain"] for _, doc, _ in demo_entries]
    assert items["6"].problem == "access rights NON_PUBLIC: CityLedger harvests open data only"
    assert items["1"].url == "https://data.city.example/api/datasets/1/download" and items["1"].format == "CSV"
    assert items["1"].licence == "https://creativecommons.org/publicdomain/mark/1.0/"
