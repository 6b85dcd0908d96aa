"""The DCAT-AP catalogue served over HTTP (docs/CATALOG.md §10, docs/API.md "Catalogue"), against a
demo-like store: the demo's registered documents (tests/catalog's offline build) indexed through the
indexer's own reducers, summaries and quality scores, plus a version whose document is elsewhere
(ipfs://) and one whose document describes another file and names a remote JSON-LD context.

Ids: 1-4 the demo's open files (3 withdrawn, 1 superseded by 5), 5 seattle-weather version 2, 6 the
personal (citizen) dataset, 7 the document elsewhere, 8 the odd document."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

import pytest
from catalog.conftest import demo_entries  # noqa: F401 - the demo's documents and chain facts (a fixture)
from eth_utils import to_checksum_address
from fastapi import APIRouter
from fastapi.responses import Response
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from cityledger.api.app import create_app
from cityledger.api.routes import catalog as routes
from cityledger.catalog.serialize import parse
from cityledger.catalog.validate import validate
from cityledger.catalog.vocab import ADMS, CL, DCAT, DCT, HYDRA, STATUS
from cityledger.config import load_config
from cityledger.datasets.metadata import canonical_json
from cityledger.datasets.profiles import profile_document
from cityledger.datasets.store import MetadataStore
from cityledger.demo import catalog as demo
from cityledger.indexer import models as m
from cityledger.indexer.metadata import enrich, enrich_profiles
from cityledger.indexer.quality import score_missing
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch

from .conftest import CLOSED_RPC, h

BASE = "http://testserver"  # the TestClient's own: every IRI the API writes is fetchable through it
ADMIN = "0x" + "ad" * 20
ELSEWHERE = 7  # registered at ipfs://: no document at this node
ODD = 8  # a document in the store that describes another file and names a remote context
LAST_BLOCK = 30
ODD_DOC = {
    "@context": "http://127.0.0.1:9/context.jsonld",
    "@type": "dcat:Dataset",
    "dct:title": "A document for another file",
    "cl:contentHash": "0x" + "ee" * 32,
}
# Organisation profiles (CityRoles.ProfileUpdated, verified documents): the admin's and the first
# publisher's; the second publisher (datasets 2 and 6-8) has none and is named by its address.
ADMIN_NAME = "Northbridge City Data Office"
PUBLISHER_NAME = "Northbridge Open Data Team"


@dataclasses.dataclass
class Store:
    url: str
    data_dir: object
    docs: dict  # dataset id -> registered document (None: not here)
    hashes: dict  # dataset id -> metadata hash (0x)
    keys: dict  # dataset id -> the demo's key


def _seed(folder, entries) -> Store:
    url = f"sqlite:///{folder / 'index.db'}"
    data_dir = folder / "data"
    migrate(url)
    engine = make_engine(url)
    store = MetadataStore(data_dir / "metadata")
    batch, log_index = Batch(), {}

    def ev(block, ts, name, **args):
        i = log_index.get(block, 0)
        log_index[block] = i + 1
        batch.add(reduce(name, args, Ctx(block, i, h(f"tx{block}-{i}"), ts)))

    out = Store(url, data_dir, {}, {}, {})
    t0 = entries[0][2].registered_at - 3600
    ev(1, t0, "OwnershipTransferred", previous_owner="0x" + "00" * 20, new_owner=ADMIN)
    for account, kind in {(f.publisher.lower(), 1 if f.publisher_kind == "agency" else 2) for _, _, f in entries}:
        ev(2, t0, "RoleGranted", account=account, role=1, kind=kind, granted_by=ADMIN)
    for account, name in ((ADMIN, ADMIN_NAME), (entries[0][2].publisher, PUBLISHER_NAME)):
        digest, _ = store.put(profile_document(name=name, kind="agency"))
        ev(3, t0, "ProfileUpdated", account=account.lower(), profile_hash="0x" + digest.hex(),
           profile_uri=f"cityledger://metadata/{digest.hex()}", updated_by=ADMIN)  # fmt: skip
    registrations = []
    for key, doc, facts in entries:
        digest, _ = store.put(doc)
        registrations.append((facts, f"cityledger://metadata/{digest.hex()}"))
        out.docs[facts.dataset_id], out.keys[facts.dataset_id] = doc, key
    last = entries[-1][2]
    elsewhere = dataclasses.replace(
        last, dataset_id=ELSEWHERE, content_hash=h("elsewhere"), metadata_hash=h("meta elsewhere"), personal_data=False
    )
    registrations.append((elsewhere, "ipfs://bafy/elsewhere.json"))
    out.docs[ELSEWHERE] = None
    odd_digest, _ = store.put(ODD_DOC)
    odd = dataclasses.replace(
        last, dataset_id=ODD, content_hash=h("odd file"), metadata_hash="0x" + odd_digest.hex(), personal_data=False
    )
    registrations.append((odd, f"cityledger://metadata/{odd_digest.hex()}"))
    out.docs[ODD] = ODD_DOC
    for facts, uri in registrations:
        ts = t0 + 3600 * facts.dataset_id
        ev(
            10 + facts.dataset_id,
            ts,
            "DatasetRegistered",
            dataset_id=facts.dataset_id,
            publisher=facts.publisher,
            content_hash=facts.content_hash,
            metadata_hash=facts.metadata_hash,
            metadata_uri=uri,
            domain=facts.domain,
            personal_data=facts.personal_data,
            version=facts.version,
            supersedes=facts.supersedes,
        )
        out.hashes[facts.dataset_id] = facts.metadata_hash
        if facts.withdrawn_at:
            ev(25, facts.withdrawn_at, "DatasetWithdrawn", dataset_id=facts.dataset_id, publisher=facts.publisher,
               reason_hash=h("withdrawn"))  # fmt: skip
    with engine.begin() as conn:
        batch.flush(conn)
        conn.execute(m.Checkpoint.__table__.insert(), checkpoint(LAST_BLOCK))
    # The indexer's own after-commit work: summaries of verified documents, then their scores.
    assert enrich(engine, store.root).added == 7
    assert enrich_profiles(engine, store.root).added == 2
    assert score_missing(engine, store.root).scored == 7
    engine.dispose()
    return out


def checkpoint(block: int) -> dict:
    return {
        "id": 1,
        "chain_id": 31337,
        "block_number": block,
        "block_hash": h(f"b{block}"),
        "start_block": 1,
        "head_block": block,
        "finalized_block": block,
        "confirmations": 0,
        "roles_address": "0x" + "01" * 20,
        "datasets_address": "0x" + "02" * 20,
        "consents_address": "0x" + "03" * 20,
        "access_address": "0x" + "04" * 20,
        "rights_address": "0x" + "05" * 20,
        "reorgs": 0,
    }


def make_app(store: Store, frontend_dir=None, **kw):
    cfg = dataclasses.replace(load_config(), public_base_url=BASE)
    mp = pytest.MonkeyPatch()
    mp.setenv("CITYLEDGER_RPC_URL", CLOSED_RPC)
    try:
        return create_app(
            cfg, db_url=store.url, data_dir=store.data_dir, frontend_dir=frontend_dir, rpc_timeout=0.2, **kw
        )
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def store(tmp_path_factory, demo_entries) -> Store:  # noqa: F811 - the imported fixture
    return _seed(tmp_path_factory.mktemp("catalog-store"), demo_entries)


@pytest.fixture(scope="module")
def client(store):
    with TestClient(make_app(store)) as c:
        yield c


def rdf(response) -> Graph:
    assert response.status_code == 200, response.text[:500]
    media = response.headers["content-type"].split(";")[0]
    return parse(response.content, content_type=media, base=BASE)


def ds(i: int) -> URIRef:
    return URIRef(f"{BASE}/datasets/{i}")


# ---------------------------------------------------------------- the catalogue round trip


def test_turtle_catalogue_parses_and_every_dataset_resolves(client):
    """`curl -H 'Accept: text/turtle' {base}/catalog` in rdflib, every page followed, every dataset,
    lineage and registered document it names fetched and checked."""
    page, seen, pages = f"{BASE}/catalog", [], 0
    while page:
        g = rdf(client.get(page, headers={"Accept": "text/turtle"}))
        pages += 1
        cat = URIRef(f"{BASE}/catalog")
        assert (cat, RDF.type, DCAT.Catalog) in g
        on_page = sorted(g.objects(cat, DCAT.dataset), key=str)
        seen += on_page
        for iri in on_page:
            own = rdf(client.get(str(iri), headers={"Accept": "text/turtle"}))
            assert (iri, RDF.type, DCAT.Dataset) in own
            assert own.value(iri, DCT.title) == g.value(iri, DCT.title)
            for link in (own.value(iri, DCT.isVersionOf), own.value(iri + "#record", CL.registeredDocument)):
                assert link is not None
                got = client.get(str(link), headers={"Accept": "text/turtle"})
                # The registered document of ids 7 (elsewhere) and 8 (remote context) cannot be Turtle here.
                assert got.status_code == 200 or (
                    str(link).startswith(f"{BASE}/metadata/") and got.status_code in (404, 406)
                )
        nxt = g.value(URIRef(page if "?" in page else f"{page}?page=1"), HYDRA.next)
        page = str(nxt) if nxt else None
    assert sorted(seen) == sorted(ds(i) for i in range(1, 9)) and pages == 1


def test_paging_hydra_and_link_headers(client, monkeypatch):
    monkeypatch.setattr(routes, "PAGE_SIZE", 3)
    ids, page = [], f"{BASE}/catalog"
    while page:
        r = client.get(page, headers={"Accept": "text/turtle"})
        g = rdf(r)
        here = URIRef(page if "?" in page else f"{page}?page=1")
        assert g.value(here, HYDRA.totalItems).toPython() == 8 and g.value(here, HYDRA.itemsPerPage).toPython() == 3
        assert g.value(here, HYDRA.lastPage) == URIRef(f"{BASE}/catalog?page=3")
        ids.append(sorted(int(str(d).rsplit("/", 1)[1]) for d in g.objects(URIRef(f"{BASE}/catalog"), DCAT.dataset)))
        links = dict(reversed(part.split(">; rel=")) for part in r.headers["link"].replace("<", "").split(", "))
        assert links['"first"'] == f"{BASE}/catalog?page=1" and links['"last"'] == f"{BASE}/catalog?page=3"
        nxt = g.value(here, HYDRA.next)
        assert (links.get('"next"'), g.value(here, HYDRA.nextPage)) == (str(nxt) if nxt else None, nxt)
        page = str(nxt) if nxt else None
    assert ids == [[1, 2, 3], [4, 5, 6], [7, 8]]
    assert client.get("/catalog?page=2").headers["link"].count('rel="prev"') == 1
    # A page past the last one is a 404, page 0 a schema error: both in the error format.
    past = client.get("/catalog?page=4")
    assert past.status_code == 404 and past.json()["error"]["message"] == (
        "page 4 does not exist (the catalogue has pages 1..3)"
    )
    assert client.get("/catalog?page=0").json()["error"]["code"] == "validation_error"


ACCEPTS = {
    None: "application/ld+json",
    "*/*": "application/ld+json",
    "application/json": "application/ld+json",
    "application/ld+json": "application/ld+json",
    "text/turtle": "text/turtle",
    "application/rdf+xml": "application/rdf+xml",
    "application/xml": "application/rdf+xml",
    "application/n-triples": "application/n-triples",
    "text/html, text/turtle;q=0.5, application/rdf+xml;q=0.8": "application/rdf+xml",
    "text/*": "text/turtle",
}


@pytest.mark.parametrize("path", ["/catalog", "/datasets/5", "/lineages/1"])
@pytest.mark.parametrize("accept", list(ACCEPTS))
def test_negotiation_matrix(client, path, accept):
    r = client.get(path, headers={"Accept": accept} if accept else {})
    assert r.headers["content-type"].split(";")[0] == ACCEPTS[accept]
    g = rdf(r)
    assert len(g) > 20 and "Accept" in r.headers["vary"]
    assert r.headers["content-security-policy"] and r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/catalog", "/datasets/5", "/lineages/1", "/metadata/{hash1}"])
def test_nothing_acceptable_is_a_406_and_format_overrides(client, store, path):
    path = path.format(hash1=store.hashes[1][2:])
    r = client.get(path, headers={"Accept": "text/html, image/png"})
    assert r.status_code == 406 and r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == "not_acceptable" and "text/turtle" in r.json()["error"]["message"]
    for fmt, media in routes.FORMAT_NAMES.items():
        got = client.get(f"{path}?format={fmt}", headers={"Accept": "text/html"})
        assert got.headers["content-type"].split(";")[0] == media and len(rdf(got)) > 5
    bad = client.get(f"{path}?format=csv")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_etag_304_head_and_one_build_per_block(store):
    app = make_app(store)
    with TestClient(app) as c:
        first = c.get("/catalog", headers={"Accept": "text/turtle"})
        etag = first.headers["etag"]
        assert etag == '"' + hashlib.sha256(first.content).hexdigest() + '"'
        assert (
            first.headers["content-digest"]
            == f"sha-256=:{base64.b64encode(hashlib.sha256(first.content).digest()).decode()}:"
        )
        assert first.headers["cache-control"] == "public, no-cache"
        again = c.get("/catalog", headers={"Accept": "text/turtle", "If-None-Match": f'W/"x", {etag}'})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        head = c.head("/catalog", headers={"Accept": "text/turtle"})
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
        assert head.headers["x-frame-options"] == "DENY"
        renders = app.state.catalog.renders
        assert renders.builds == 1  # three requests, one page built
        c.get("/catalog", headers={"Accept": "application/ld+json"})
        assert renders.builds == 2  # another serialisation
        # The indexer moves on: the page is built again, once; the same bytes keep their ETag.
        engine = make_engine(store.url)
        with engine.begin() as conn:
            conn.execute(m.Checkpoint.__table__.update().values(block_number=LAST_BLOCK + 1, block_hash=h("next")))
        try:
            for _ in range(2):
                later = c.get("/catalog", headers={"Accept": "text/turtle", "If-None-Match": etag})
                assert later.status_code == 304
            assert renders.builds == 3
        finally:
            with engine.begin() as conn:
                conn.execute(m.Checkpoint.__table__.update().values(checkpoint(LAST_BLOCK)))
            engine.dispose()


def test_concurrent_requests_share_one_build(store):
    import asyncio

    import httpx

    app = make_app(store)

    async def many():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            return await asyncio.gather(*(c.get("/catalog", headers={"Accept": "text/turtle"}) for _ in range(8)))

    answers = asyncio.run(many())
    assert {r.status_code for r in answers} == {200} and len({r.content for r in answers}) == 1
    assert app.state.catalog.renders.builds == 1


# ---------------------------------------------------------------- what the documents say


def test_withdrawn_marked_personal_without_download_and_versions_linked(client):
    g = rdf(client.get("/catalog", headers={"Accept": "text/turtle"}))
    assert g.value(ds(3), ADMS.status) == STATUS["withdrawn"]  # listed, marked
    assert g.value(ds(1), ADMS.status) == STATUS["superseded"] and g.value(ds(5), DCT.replaces) == ds(1)
    personal = g.value(ds(6), DCAT.distribution)
    assert g.value(personal, DCAT.downloadURL) is None
    assert g.value(personal, DCAT.accessURL) == URIRef(f"{BASE}/#/dataset/6")
    assert g.value(g.value(ds(2), DCAT.distribution), DCAT.downloadURL) == URIRef(f"{BASE}/api/datasets/2/download")
    # Names: the organisation registry's verified profiles, else the address (docs/CATALOG.md §4).
    name = URIRef("http://xmlns.com/foaf/0.1/name")
    named, unnamed = g.value(ds(1), DCT.publisher), g.value(ds(2), DCT.publisher)
    assert str(g.value(named, name)) == PUBLISHER_NAME and g.value(ds(4), DCT.publisher) == named
    assert (
        str(unnamed).startswith(f"{BASE}/publishers/0x") and str(g.value(unnamed, name)) == str(unnamed).rsplit("/")[-1]
    )
    operator = URIRef(f"{BASE}/publishers/{to_checksum_address(ADMIN)}")
    assert g.value(URIRef(f"{BASE}/catalog"), DCT.publisher) == operator and str(g.value(operator, name)) == ADMIN_NAME
    one = rdf(client.get("/datasets/1", headers={"Accept": "text/turtle"}))
    assert str(one.value(one.value(ds(1), DCT.publisher), name)) == PUBLISHER_NAME
    lineage = rdf(client.get("/lineages/1", headers={"Accept": "text/turtle"}))
    line = URIRef(f"{BASE}/lineages/1")
    assert set(lineage.objects(line, DCAT.hasVersion)) == {ds(1), ds(5)} and lineage.value(
        line, DCAT.hasCurrentVersion
    ) == ds(5)
    withdrawn = rdf(client.get("/datasets/3", headers={"Accept": "text/turtle"}))
    assert withdrawn.value(ds(3), ADMS.status) == STATUS["withdrawn"]


def test_served_documents_validate_against_the_shapes(client):
    """pyshacl over what is served: the catalogue page, every version and every lineage."""
    served = [rdf(client.get("/catalog", headers={"Accept": "text/turtle"}))]
    served += [rdf(client.get(f"/datasets/{i}", headers={"Accept": "application/rdf+xml"})) for i in range(1, 9)]
    served += [rdf(client.get(f"/lineages/{i}")) for i in (1, 2, 3, 4, 6, 7, 8)]
    for g in served:
        report = validate(g)
        assert report.conforms, [str(v) for v in report.violations]


def test_a_version_whose_document_is_elsewhere_or_odd_is_still_described(client):
    elsewhere = rdf(client.get(f"/datasets/{ELSEWHERE}", headers={"Accept": "text/turtle"}))
    assert "not available at this node" in str(elsewhere.value(ds(ELSEWHERE), DCT.description))
    odd = rdf(client.get(f"/datasets/{ODD}", headers={"Accept": "text/turtle"}))
    assert str(odd.value(ds(ODD), DCT.title)) == f"Dataset {ODD}"  # described by its chain facts alone


def test_lineage_and_dataset_errors(client):
    assert client.get("/lineages/5").json()["error"] == {
        "code": "not_found",
        "message": f"dataset 5 is not a first version: its lineage is {BASE}/lineages/1",
    }
    assert client.get("/datasets/99").status_code == 404 and client.get("/lineages/99").status_code == 404
    for path in ("/datasets/abc", "/datasets/0x" + "11" * 32, "/lineages/-1", f"/datasets/{2**63}"):
        r = client.get(path)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", path


# ---------------------------------------------------------------- the registered document


def test_registered_document_exact_bytes_and_digest(client, store):
    want = store.hashes[2]
    r = client.get(f"/metadata/{want[2:]}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/ld+json"
    assert r.content == canonical_json(store.docs[2]) and "0x" + hashlib.sha256(r.content).hexdigest() == want
    assert r.headers["content-digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(want[2:])).decode()}:"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get(f"/metadata/{want}", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    g = rdf(client.get(f"/metadata/{want[2:].upper()}", headers={"Accept": "text/turtle"}))
    assert (None, CL.contentHash, None) in g  # the same document, parsed as RDF
    # Absent: never registered, registered but elsewhere; odd: a remote context is not fetched.
    assert client.get("/metadata/" + "ab" * 32).json()["error"]["message"].startswith("no dataset registered")
    assert "not in this node's store" in client.get(f"/metadata/{store.hashes[ELSEWHERE]}").json()["error"]["message"]
    odd = store.hashes[ODD]
    assert client.get(f"/metadata/{odd}").content == canonical_json(ODD_DOC)
    refused = client.get(f"/metadata/{odd}", headers={"Accept": "text/turtle"})
    assert refused.status_code == 406 and "remote JSON-LD context" in refused.json()["error"]["message"]
    assert client.get("/metadata/xyz").json()["error"]["code"] == "bad_request"


def test_remote_contexts_are_found_anywhere():
    assert routes.remote_context({"@context": ["https://x.example/c", {}]})
    assert routes.remote_context({"a": [{"@context": {"@import": "https://x.example/c"}}]})
    assert routes.remote_context({"@context": {"t": {"@id": "x:t", "@context": "https://x.example/c"}}})
    assert not routes.remote_context({"@context": {"dct": "http://purl.org/dc/terms/", "t": {"@type": "@id"}}})


# ---------------------------------------------------------------- beside the page


def test_the_routes_do_not_collide_with_the_page(store, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>page</title>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    with TestClient(make_app(store, frontend_dir=dist)) as c:
        assert "page" in c.get("/").text and c.get("/assets/app.js").text == "console.log(1)"
        assert c.get("/catalog", headers={"Accept": "text/turtle"}).headers["content-type"].startswith("text/turtle")
        assert c.get("/datasets/2").headers["content-type"] == "application/ld+json"
        post = c.post("/catalog")
        assert post.status_code == 405 and post.json()["error"]["code"] == "method_not_allowed"
        assert c.get("/datasets/").status_code == 404  # not an IRI of the catalogue: the page's missing file


def test_routes_are_in_the_openapi_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/catalog", "/datasets/{dataset}", "/lineages/{first}", "/metadata/{metadata_hash}"):
        answers = paths[path]["get"]["responses"]
        assert set(answers["200"]["content"]) == {
            "application/ld+json",
            "text/turtle",
            "application/rdf+xml",
            "application/n-triples",
        }
        assert {"304", "400", "404", "406", "422", "503"} <= set(answers)


# ---------------------------------------------------------------- quality


def without_the_data_room(monkeypatch):
    """Answer as a node that does not serve the data room's downloads (reachability "not checked"):
    the probing path is test_quality_probes_only_this_servers_data_room's."""
    from cityledger.api.routes import catalog as routes

    monkeypatch.setattr(routes, "has_data_room", lambda *_: False)


def test_quality_route(client, store, monkeypatch):
    without_the_data_room(monkeypatch)
    r = client.get("/api/datasets/2/quality")
    assert r.status_code == 200, r.text
    q = r.json()
    assert (q["dataset_id"], q["dataset"], q["status"]) == (2, f"{BASE}/datasets/2", "active")
    assert (q["score"], q["max_score"], q["percent"], q["rating"]) == (315, 405, 78, "good")
    assert q["dimensions"]["findability"] == {"score": 100, "max": 100}
    assert q["dimensions"]["accessibility"] == {"score": 20, "max": 100}
    # Without the data room's download route: reachability is not checked, not failed.
    assert q["not_checked"] == ["access URL accessible", "download URL accessible"]
    assert [f["points"] for f in q["fixes"]] == [10] and "licence" in q["fixes"][0]["fix"]
    assert q["metadata_available"] and q["note"] is None and q["conformance"] == []
    assert len(q["indicators"]) == 23 and sum(i["weight"] for i in q["indicators"]) == 405
    by_hash = client.get(f"/api/datasets/{store.docs[2]['cl:contentHash']}/quality").json()
    assert by_hash == q
    personal = client.get("/api/datasets/6/quality").json()
    assert (personal["max_score"], personal["dimensions"]["accessibility"]["max"]) == (355, 50)
    withdrawn = client.get("/api/datasets/3/quality").json()
    assert withdrawn["status"] == "withdrawn" and withdrawn["score"] == 315
    elsewhere = client.get(f"/api/datasets/{ELSEWHERE}/quality").json()
    assert not elsewhere["metadata_available"] and "ipfs://bafy/elsewhere.json" in elsewhere["note"]
    odd = client.get(f"/api/datasets/{ODD}/quality").json()
    assert not odd["metadata_available"] and "another file" in odd["note"]
    assert client.get("/api/datasets/99/quality").json()["error"]["code"] == "not_found"
    assert client.get("/api/datasets/x/quality").json()["error"]["code"] == "bad_request"


def test_stored_scores_are_the_routes(client, monkeypatch):
    """The score the indexer stored for the filter is the score the quality route shows where it
    probes nothing (the stored score never probes; a data room's own URLs add their points live)."""
    without_the_data_room(monkeypatch)
    listed = {
        d["dataset_id"]: d["quality"] for d in client.get("/api/datasets?status=all&page_size=100").json()["items"]
    }
    assert listed[ELSEWHERE] is None  # no document here: unknown
    for i, stored in listed.items():
        if stored is not None:
            route = client.get(f"/api/datasets/{i}/quality").json()
            assert stored == {k: route[k] for k in ("score", "max_score", "percent", "rating")}, i
    assert client.get("/api/datasets/6").json()["quality"] == listed[6]


def ids(client, query: str) -> list[int]:
    r = client.get(f"/api/datasets?status=all&page_size=100&{query}")
    assert r.status_code == 200, r.text
    return [d["dataset_id"] for d in r.json()["items"]]


def test_minimum_quality_filter_and_sort_by_score(client):
    assert ids(client, "") == [8, 7, 6, 5, 4, 3, 2, 1]
    # 305/355 (85.9 %) is good, not excellent (86.7 %); the demo's open files are 315/405 (77.8 %).
    assert ids(client, "min_quality=excellent") == []
    assert ids(client, "min_quality=good") == [6, 5, 4, 3, 2, 1]
    assert ids(client, "min_quality=85") == [6] and ids(client, "min_quality=86%") == []
    assert ids(client, "min_quality=78") == [6] and ids(client, "min_quality=77") == [6, 5, 4, 3, 2, 1]
    assert ids(client, "min_quality=bad") == [8, 6, 5, 4, 3, 2, 1]  # any stored score; 7 has none
    assert ids(client, "sort=quality") == [6, 5, 4, 3, 2, 1, 8, 7]  # best share first, unknown last
    assert ids(client, "sort=quality&min_quality=sufficient&domain=transport") == [6, 8]
    page = client.get("/api/datasets?sort=quality&min_quality=good&page=2&page_size=3").json()
    assert page["total"] == 6 and [d["dataset_id"] for d in page["items"]] == [3, 2, 1]  # 6, 5, 4 | 3, 2, 1
    for bad in ("101", "great", "-5", "0.5"):
        r = client.get(f"/api/datasets?min_quality={bad}")
        assert (
            r.status_code == 400 and "min_quality must be a percent 0..100 or a rating" in r.json()["error"]["message"]
        )
    assert client.get("/api/datasets?sort=best").json()["error"]["code"] == "validation_error"


def test_rating_floors_are_the_engines():
    from fractions import Fraction

    from cityledger.catalog.quality import RATINGS
    from cityledger.query.quality import RATING_FLOORS

    assert {name: float(RATING_FLOORS[name]) for _, name in RATINGS} == {name: floor for floor, name in RATINGS}
    assert all(f == Fraction(f).limit_denominator(405) for f in RATING_FLOORS.values())


def own_download_app(store, serve: dict[int, bytes], calls: list[int]):
    """The app with a stand-in for the data room's download route (being built elsewhere)."""
    app = make_app(store)
    room = APIRouter()

    @room.get("/api/datasets/{ref}/download")
    async def download(ref: str) -> Response:
        calls.append(int(ref))
        if int(ref) not in serve:
            return Response(status_code=404)
        return Response(serve[int(ref)], media_type="text/csv")

    app.router.routes[:0] = room.routes
    return app


def test_quality_probes_only_this_servers_data_room(store):
    iowa = demo.vega_file(next(d.file for d in demo.PUBLIC if d.key == store.keys[2])).read_bytes()
    calls: list[int] = []
    app = own_download_app(store, {2: iowa, 4: b"other bytes"}, calls)
    with TestClient(app) as c:
        right = c.get("/api/datasets/2/quality").json()
        assert c.get("/api/datasets/2/quality").json() == right and calls == [2]  # probed once, then cached
        assert right["not_checked"] == [] and right["dimensions"]["accessibility"] == {"score": 100, "max": 100}
        assert (right["score"], right["percent"], right["rating"]) == (395, 98, "excellent")
        wrong = c.get("/api/datasets/4/quality").json()
        fixes = " ".join(f["fix"] for f in wrong["fixes"])
        assert wrong["dimensions"]["accessibility"]["score"] == 70 and "do not match the registered SHA-256" in fixes
        missing = c.get("/api/datasets/5/quality").json()
        assert missing["dimensions"]["accessibility"]["score"] == 20 and "answered 404" in " ".join(
            f["fix"] for f in missing["fixes"]
        )
        # Its access URL is the web page: earned when this server serves the page (after the page's
        # build, as `make test` does first), 404 and no points without it.
        personal = c.get("/api/datasets/6/quality").json()
        page_served = c.get("/").status_code == 200
        assert personal["not_checked"] == []
        assert personal["dimensions"]["accessibility"] == {"score": 50 if page_served else 0, "max": 50}


def test_scores_are_content_addressed_and_rescored_when_the_scoring_changes(store, monkeypatch):
    from cityledger.indexer import quality

    engine = make_engine(store.url)
    try:
        assert score_missing(engine, store.data_dir / "metadata").candidates == 0  # nothing new: nothing done
        monkeypatch.setattr(quality, "VERSION", quality.VERSION + 1)
        again = score_missing(engine, store.data_dir / "metadata")
        assert (again.candidates, again.scored) == (7, 7)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the public base URL


def test_public_base_url_from_config_and_environment(tmp_path, monkeypatch, store):
    from cityledger.errors import ConfigError

    (tmp_path / "cityledger.toml").write_text("[api]\nport = 8123\n")
    monkeypatch.delenv("CITYLEDGER_PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("CITYLEDGER_API_PORT", raising=False)
    assert load_config(tmp_path).base_url == "http://127.0.0.1:8123"  # the default: what this machine reaches
    (tmp_path / "cityledger.toml").write_text('[api]\npublic_base_url = "https://data.city.example/"\n')
    assert load_config(tmp_path).base_url == "https://data.city.example"
    monkeypatch.setenv("CITYLEDGER_PUBLIC_BASE_URL", "https://open.city.example")
    cfg = load_config(tmp_path)
    assert cfg.base_url == "https://open.city.example"
    app = create_app(cfg, db_url=store.url, data_dir=store.data_dir)
    with TestClient(app) as c:
        g = rdf(c.get("/datasets/2", headers={"Accept": "text/turtle"}))
        assert (URIRef("https://open.city.example/datasets/2"), RDF.type, DCAT.Dataset) in g
    for bad in ("ftp://x.example", "https://x.example/?a=1", "data.city.example"):
        monkeypatch.setenv("CITYLEDGER_PUBLIC_BASE_URL", bad)
        with pytest.raises(ConfigError, match="CITYLEDGER_PUBLIC_BASE_URL .* must be an http\\(s\\) URL"):
            load_config(tmp_path)
    monkeypatch.delenv("CITYLEDGER_PUBLIC_BASE_URL")
    (tmp_path / "cityledger.toml").write_text("[api]\npublic_base_url = 8000\n")
    with pytest.raises(ConfigError, match=r"\[api\] public_base_url must be a URL string"):
        load_config(tmp_path)
