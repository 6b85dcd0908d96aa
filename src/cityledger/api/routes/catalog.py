"""The DCAT-AP catalogue on the web (docs/CATALOG.md §10, docs/API.md "Catalogue"): the harvestable
IRIs outside /api (`/catalog`, `/datasets/{id}`, `/lineages/{id}`, `/metadata/{hash}`), each in
JSON-LD, Turtle, RDF/XML or N-Triples by content negotiation (or `?format=`), with ETags; and a
version's metadata quality score at `/api/datasets/{ref}/quality`.

Descriptions are derived per request from the index and the verified documents, under the
configured public base URL. A catalogue page of 100 versions takes a few tenths of a second to
build, so answers are cached by the index's last block (and its hash: a reorganisation to the same
height is another index): a page is built once per new block, however many clients ask for it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from rdflib import Graph
from sqlalchemy import RowMapping
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import ASGIApp, Message

from ...catalog.catalogue import DEFAULT_PAGE_SIZE, CatalogInfo, Entry, catalogue, check_paging
from ...catalog.describe import describe, describe_lineage
from ...catalog.facts import ChainFacts, facts_from_rows
from ...catalog.fetch import Probe
from ...catalog.iris import Iris, check_base
from ...catalog.quality import Prober, dataset_quality
from ...catalog.serialize import (
    FORMATS,
    JSON_LD,
    N_TRIPLES,
    RDF_XML,
    TURTLE,
    NotAcceptable,
    negotiate,
    parse,
    serialize,
)
from ...datasets.store import MetadataStore, stored_bytes_async
from ...digits import is_decimal
from ...errors import CityLedgerError
from ...indexer.quality import describable
from ...query import catalog as cq
from ...query import queries
from ...query import validate as v
from ...query.errors import BadInput, CodedError, NotFound
from .. import schemas as s
from ..deps import Svc
from ..metadata import store_dir
from ..state import Services
from .common import DatasetRef, PageNo, dataset_ref

log = logging.getLogger("cityledger.api")
router = APIRouter(tags=["catalogue"])

PAGE_SIZE = DEFAULT_PAGE_SIZE
FORMAT_NAMES = {"jsonld": JSON_LD, "ttl": TURTLE, "rdf": RDF_XML, "nt": N_TRIPLES}
Format = Annotated[
    Literal["jsonld", "ttl", "rdf", "nt"] | None,
    Query(alias="format", description="the serialisation, instead of the Accept header: jsonld, ttl, rdf, nt"),
]
# Derived answers change with the index: a client revalidates (If-None-Match) before reusing one.
REVALIDATE = "public, no-cache"
# A registered document's bytes never change (content-addressed).
IMMUTABLE = "public, max-age=31536000, immutable"
RDF_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the RDF document, in the negotiated serialisation",
        "content": {media: {"schema": {"type": "string"}} for media in FORMATS},
    },
    304: {"description": "not modified: the ETag given in If-None-Match is still the answer's"},
    **s.error_responses(400, 404, 406, 422, 503),
}
PROBE_TTL = 300.0  # seconds a probed quality report is reused (an unprobed one: as long as it is cached)
PROBE_TIMEOUT = 30.0


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Rendered:
    """A serialised answer: its bytes, media type and headers of its own (paging links)."""

    data: bytes
    media: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def sha256(self) -> bytes:  # once per cached answer, not per request (a page is ~0.5-1 MB)
        return hashlib.sha256(self.data).digest()

    @property
    def etag(self) -> str:
        return '"' + self.sha256.hex() + '"'


def media_for(request: Request, fmt: str | None) -> str:
    """The media type to answer in: `?format=`, else the Accept header (JSON-LD by default); a
    406 in the error format when the client accepts none of them."""
    if fmt is not None:
        return FORMAT_NAMES[fmt]
    try:
        return negotiate(request.headers.get("accept"))
    except NotAcceptable as exc:
        raise CodedError(f"{exc}, or ?format=jsonld|ttl|rdf|nt", code="not_acceptable") from None


def _not_modified(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    return "*" in tags or etag in tags


def answer(request: Request, rendered: Rendered, cache_control: str = REVALIDATE) -> Response:
    """The answer with its validators: ETag and Content-Digest (RFC 9530) of the bytes served, and a
    304 without a body when the client's If-None-Match holds that ETag."""
    etag = rendered.etag
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept", **rendered.headers}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    digest = base64.b64encode(rendered.sha256).decode()
    headers["Content-Digest"] = f"sha-256=:{digest}:"
    return Response(rendered.data, media_type=rendered.media, headers=headers)


async def rendered_graph(build: Callable[[], Graph], media: str, headers: Mapping[str, str] | None = None) -> Rendered:
    """Build a graph and serialise it, off the event loop (a page takes tenths of a second)."""

    def run() -> bytes:
        return serialize(build(), media)

    return Rendered(await run_in_threadpool(run), media, headers or {})


Key = tuple[Hashable, ...]


class Renders:
    """Answers by key (the index position first): each built once, also when many clients ask at
    the same time (they await the one build, which a client's disconnect does not cancel); the
    least recently used are dropped past `size`, and those of older blocks when a newer one is kept."""

    def __init__(self, size: int = 64):
        self.size = size
        self._done: OrderedDict[Key, Rendered] = OrderedDict()
        self._building: dict[Key, asyncio.Future[Rendered]] = {}
        self.builds = 0

    async def get(self, key: Key, build: Callable[[], Awaitable[Rendered]]) -> Rendered:
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]
        task = self._building.get(key)
        if task is None:
            task = asyncio.ensure_future(self._build(key, build))
            # An error (a page past the end) goes to every client waiting; none waiting is no warning.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._building[key] = task
        return await asyncio.shield(task)

    async def _build(self, key: Key, build: Callable[[], Awaitable[Rendered]]) -> Rendered:
        try:
            value = await build()
        finally:
            self._building.pop(key, None)
        self.builds += 1
        position = key[0]
        if isinstance(position, tuple):
            for old in [k for k in self._done if isinstance(k[0], tuple) and k[0][0] < position[0]]:
                del self._done[old]
        self._done[key] = value
        while len(self._done) > self.size:
            self._done.popitem(last=False)
        return value


@dataclass
class CatalogState:
    """What the catalogue routes keep between requests (on app.state, made on first use)."""

    base: str
    renders: Renders = field(default_factory=Renders)
    reports: OrderedDict[Key, tuple[float | None, dict[str, Any]]] = field(default_factory=OrderedDict)
    reports_size: int = 1024

    @classmethod
    def of(cls, request: Request, svc: Services) -> CatalogState:
        state: CatalogState | None = getattr(request.app.state, "catalog", None)
        if state is None:
            state = cls(check_base(svc.settings.cfg.base_url))
            request.app.state.catalog = state
        return state


# ---------------------------------------------------------------- chain facts from the index


@dataclass(frozen=True)
class Facts:
    """The chain facts of some versions, and what describes their publishers."""

    by_id: dict[int, ChainFacts]
    rows: dict[int, RowMapping]
    names: dict[str, str | None]

    def lookup(self, address: str) -> str | None:
        return self.names.get(address.lower())


def read_facts(conn: Connection, rows: Sequence[RowMapping]) -> Facts:
    """ChainFacts of `rows` with their whole lineages (first and newest versions), publisher kinds,
    the chain id, and the publishers' names from the query floor's one lookup."""
    every = cq.with_lineages(conn, rows)
    publishers = {str(r["publisher"]).lower() for r in every}
    kinds = cq.publisher_kinds(conn, publishers)
    chain = cq.chain_id(conn)
    facts = {
        f.dataset_id: replace(f, publisher_kind=kinds.get(f.publisher.lower())) for f in facts_from_rows(every, chain)
    }
    names = {a: queries.publisher_name(conn, a) for a in publishers}
    return Facts(facts, {int(r["id"]): r for r in every}, names)


async def documents(svc: Services, facts: Facts, ids: Sequence[int]) -> list[Mapping[str, Any] | None]:
    """The verified registered documents of versions, or None where one is not here (or cannot be
    described: indexer.quality.describable). Read with no store connection held."""
    docs = await asyncio.gather(*(svc.metadata.fetch(facts.rows[i]) for i in ids))
    return [describable(doc, facts.by_id[i]) for doc, i in zip(docs, ids, strict=True)]


def position_of(svc: Services) -> tuple[int, str] | None:
    with svc.engine.connect() as c:
        return cq.index_position(c)


def _read(svc: Services, fn: Callable[[Connection], Any]) -> Any:
    with svc.engine.connect() as c:
        return fn(c)


# ---------------------------------------------------------------- the harvestable IRIs


@router.get("/catalog", response_class=Response, responses=RDF_ANSWERS)
async def catalog(request: Request, svc: Svc, page: PageNo = 1, fmt: Format = None) -> Response:
    """The `dcat:Catalog`, one page of 100 versions (ordered by id; withdrawn and superseded ones
    marked), with hydra paging (and Link headers) to the others."""
    media = media_for(request, fmt)
    state = CatalogState.of(request, svc)

    async def build() -> Rendered:
        def gather(c: Connection) -> tuple[list[RowMapping], int, Facts, tuple[int | None, int | None], CatalogInfo]:
            rows, total = cq.catalogue_page(c, page, PAGE_SIZE)
            try:
                check_paging(page, PAGE_SIZE, total)
            except CityLedgerError as exc:
                raise NotFound(str(exc)) from None
            operator = cq.catalogue_operator(c)
            name = queries.publisher_name(c, operator.lower()) if operator else None
            info = CatalogInfo(publisher_address=operator, publisher_name=name or CatalogInfo.publisher_name)
            return rows, total, read_facts(c, rows), cq.catalogue_dates(c), info

        rows, total, facts, (issued, modified), info = await run_in_threadpool(_read, svc, gather)
        ids = [int(r["id"]) for r in rows]
        docs = await documents(svc, facts, ids)

        def graph() -> Graph:
            entries = [Entry(doc, facts.by_id[i]) for doc, i in zip(docs, ids, strict=True)]
            kw: dict[str, Any] = dict(
                base=state.base, page=page, page_size=PAGE_SIZE, total=total, info=info, issued=issued
            )
            try:
                return catalogue(entries, publisher=facts.lookup, modified=modified, **kw)
            except Exception:  # one odd registration must not take the page down: find it, describe it bare
                return catalogue(_describable(entries, state.base), publisher=facts.lookup, modified=modified, **kw)

        return await rendered_graph(graph, media, _paging_links(state.base, page, total))

    return answer(request, await state.renders.get((position_of(svc), "catalog", page, PAGE_SIZE, media), build))


def _describable(entries: list[Entry], base: str) -> list[Entry]:
    out = []
    for e in entries:
        try:
            describe(e.document, e.facts, base=base)
            out.append(e)
        except Exception as exc:
            log.warning("dataset %s described without its document: %s", e.facts.dataset_id, exc)
            out.append(Entry(None, e.facts))
    return out


def _paging_links(base: str, page: int, total: int) -> dict[str, str]:
    """RFC 8288 Link headers of a catalogue page (the same pages as its hydra links)."""
    iris = Iris(base)
    last = check_paging(page, PAGE_SIZE, total).last
    links = {
        "first": 1,
        "last": last,
        "prev": page - 1 if page > 1 else None,
        "next": page + 1 if page < last else None,
    }
    return {"Link": ", ".join(f'<{iris.catalog(p)}>; rel="{rel}"' for rel, p in links.items() if p is not None)}


def dataset_id(value: str, name: str = "dataset id") -> int:
    """An IRI's id segment: a dataset id (the IRIs are by id; /api/datasets/{ref} takes a hash)."""
    if not is_decimal(value.strip()):
        raise BadInput(f"{name} must be a number (1, 2, ...), got {value[:80]!r}")
    return v.positive_id(value.strip(), name)


@router.get("/datasets/{dataset}", response_class=Response, responses=RDF_ANSWERS)
async def dataset_description(request: Request, svc: Svc, dataset: str, fmt: Format = None) -> Response:
    """The derived DCAT-AP description of one registered version (dataset, distribution, publisher,
    catalogue record), from its verified registered document and the chain facts."""
    did = dataset_id(dataset)
    media = media_for(request, fmt)
    state = CatalogState.of(request, svc)

    async def build() -> Rendered:
        facts = await run_in_threadpool(_read, svc, lambda c: _facts_of(c, did))
        (doc,) = await documents(svc, facts, [did])

        def graph() -> Graph:
            try:
                return describe(doc, facts.by_id[did], base=state.base, publisher=facts.lookup)
            except Exception as exc:
                log.warning("dataset %s described without its document: %s", did, exc)
                return describe(None, facts.by_id[did], base=state.base, publisher=facts.lookup)

        return await rendered_graph(graph, media)

    return answer(request, await state.renders.get((position_of(svc), "dataset", did, media), build))


def _facts_of(conn: Connection, did: int) -> Facts:
    rows = cq.dataset_rows(conn, did)
    if not rows:
        raise NotFound(f"no dataset with id {did} in the index")
    return read_facts(conn, rows)


@router.get("/lineages/{first}", response_class=Response, responses=RDF_ANSWERS)
async def lineage_description(request: Request, svc: Svc, first: str, fmt: Format = None) -> Response:
    """A dataset across its versions, named by its first version's id: `dcat:hasVersion` each,
    `dcat:hasCurrentVersion` the newest not withdrawn, with every version's description."""
    did = dataset_id(first, "lineage id")
    media = media_for(request, fmt)
    state = CatalogState.of(request, svc)

    async def build() -> Rendered:
        facts = await run_in_threadpool(_read, svc, lambda c: _facts_of(c, did))
        root = facts.by_id[did].root
        if root != did:
            where = Iris(state.base).lineage(root) if root else "its first version's lineage"
            raise NotFound(f"dataset {did} is not a first version: its lineage is {where}")
        ids = sorted(facts.by_id)
        docs = await documents(svc, facts, ids)
        versions = [(doc, facts.by_id[i]) for doc, i in zip(docs, ids, strict=True)]

        def graph() -> Graph:
            try:
                return describe_lineage(versions, base=state.base, publisher=facts.lookup)
            except Exception:
                bare = _describable([Entry(d, f) for d, f in versions], state.base)
                return describe_lineage([(e.document, e.facts) for e in bare], base=state.base, publisher=facts.lookup)

        return await rendered_graph(graph, media)

    return answer(request, await state.renders.get((position_of(svc), "lineage", did, media), build))


@router.get("/metadata/{metadata_hash}", response_class=Response, responses=RDF_ANSWERS)
async def registered_document(request: Request, svc: Svc, metadata_hash: str, fmt: Format = None) -> Response:
    """A registered metadata document: in JSON-LD exactly the bytes whose SHA-256 is the
    `metadata_hash` on chain (Content-Digest says it too), from this node's content-addressed store;
    in the other serialisations, the same document parsed as RDF."""
    text = metadata_hash.strip().lower().removeprefix("0x")
    want = v.hash32("0x" + text, "metadata hash")
    media = media_for(request, fmt)
    if not await run_in_threadpool(_read, svc, lambda c: cq.registers_metadata(c, want)):
        raise NotFound(f"no dataset registered the metadata hash {want}")
    try:
        data = await stored_bytes_async(bytes.fromhex(want[2:]), MetadataStore(store_dir(svc.settings.data_dir)))
    except TimeoutError:
        data = None
    if data is None:
        raise NotFound(f"metadata {want} is registered, but its document is not in this node's store")
    if media == JSON_LD:
        return answer(request, Rendered(data, JSON_LD), IMMUTABLE)
    state = CatalogState.of(request, svc)

    async def build() -> Rendered:
        return await rendered_graph(lambda: _as_rdf(data, want), media)

    return answer(request, await state.renders.get(("document", want, media), build), IMMUTABLE)


def _as_rdf(data: bytes, want: str) -> Graph:
    if remote_context(json.loads(data)):
        raise CodedError(
            f"metadata {want} names a remote JSON-LD context, which this server does not fetch: "
            "it is served as JSON-LD only (format=jsonld)",
            code="not_acceptable",
        )
    return parse(data, name=f"{want}.jsonld", content_type=JSON_LD)


def remote_context(value: Any) -> bool:
    """Whether a JSON-LD document anywhere names a context by URL (`"@context": "https://..."`, in a
    list, as `@import`, or a term's scoped context): parsing it would make this server fetch it."""
    if isinstance(value, list):
        return any(remote_context(v) for v in value)
    if not isinstance(value, dict):
        return False
    ctx = value.get("@context")
    if ctx is not None and _names_url(ctx):
        return True
    return any(remote_context(v) for k, v in value.items() if k != "@context")


def _names_url(ctx: Any) -> bool:
    if isinstance(ctx, str):
        return True
    if isinstance(ctx, list):
        return any(_names_url(c) for c in ctx if c is not None)
    if isinstance(ctx, dict):
        if "@import" in ctx:
            return True
        return any(isinstance(t, dict) and "@context" in t and _names_url(t["@context"]) for t in ctx.values())
    return False


# ---------------------------------------------------------------- quality


@router.get(
    "/api/datasets/{ref}/quality",
    response_model=s.DatasetQuality,
    responses=s.error_responses(400, 404, 422, 503),
    tags=["datasets"],
)
async def dataset_quality_report(request: Request, svc: Svc, ref: DatasetRef) -> dict[str, Any]:
    """The version's metadata quality score (after data.europa.eu's MQA), per dimension, with what
    to fix. Reachability is probed only where it is this server's own data room; elsewhere it is
    "not checked". Cached by metadata hash and status (probed answers for five minutes)."""
    key = dataset_ref(ref)
    with svc.engine.connect() as c:
        row = queries.dataset_row(c, key)
    state = CatalogState.of(request, svc)
    did = int(row["id"])
    facts = facts_from_rows([row])[0]
    found = await svc.metadata.fetch(row)
    doc = describable(found, facts)
    probing = has_data_room(request.app, state.base, did)
    cache_key: Key = (did, row["metadata_hash"], facts.status, doc is not None, probing)
    cached = state.reports.get(cache_key)
    if cached is not None and (cached[0] is None or cached[0] > time.monotonic()):
        state.reports.move_to_end(cache_key)
        return cached[1]
    prober = await own_prober(request.app, state.base, did, facts.personal_data) if probing else None
    with svc.engine.connect() as c:
        name = queries.publisher_name(c, facts.publisher.lower())
    report = await run_in_threadpool(
        dataset_quality, doc, facts, base=state.base, publisher=lambda _: name, prober=prober
    )
    out = {
        **report.to_json(),
        "dataset_id": did,
        "status": facts.status,
        "metadata_available": doc is not None,
        "note": _note(found, doc, row),
    }
    state.reports[cache_key] = (time.monotonic() + PROBE_TTL if prober else None, out)
    while len(state.reports) > state.reports_size:
        state.reports.popitem(last=False)
    return out


def _note(found: Mapping[str, Any] | None, doc: Mapping[str, Any] | None, row: RowMapping) -> str | None:
    if found is None:
        return (
            f"The registered metadata document ({row['metadata_uri']}) is not in this node's store: the score is "
            "of what the chain records alone, and the fixes concern the document it cannot read."
        )
    if doc is None:
        return (
            "The registered metadata document describes another file than the registered content hash, or is "
            "of a schema version this node does not read: the score is of what the chain records alone."
        )
    return None


def has_data_room(app: ASGIApp, base: str, did: int) -> bool:
    """Whether this app serves a version's download (the data room's route, built elsewhere): until
    it does, reachability is "not checked", as offline."""
    return _has_route(app, str(Iris(base).download(did))[len(base) :])


async def own_prober(app: ASGIApp, base: str, did: int, personal: bool) -> Prober:
    """A prober of this server's own URLs for a version (its download in the data room, or the web
    page for personal data), checked in-process through the app itself: no network request."""
    iris = Iris(base)
    download = str(iris.download(did))
    checks = {download: await asgi_probe(app, download, base, read_body=True)}
    if personal:
        landing = str(iris.landing(did))
        checks[landing] = await asgi_probe(app, landing, base, read_body=False)

    def prober(url: str, read_body: bool) -> Probe:
        return checks.get(url) or Probe(url, False, error=f"{url}: not this server's data room, not probed")

    return prober


def _has_route(app: Any, path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in getattr(getattr(app, "router", None), "routes", ()):
        if getattr(route, "name", None) != "frontend" and route.matches(scope)[0] == Match.FULL:
            return True
    return False


async def asgi_probe(app: ASGIApp, url: str, base: str, *, read_body: bool) -> Probe:
    """GET one of this server's URLs through the app in-process; with `read_body` the body is hashed
    as it streams (never held whole)."""
    path = url[len(base) :].split("#", 1)[0] or "/"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"cityledger.internal"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    status: list[int] = []
    sha = hashlib.sha256()
    requested = False
    finished = asyncio.Event()

    async def receive() -> Message:
        # The (empty) request once; then, like a server, nothing until the client goes away. A
        # streaming response listens for that disconnect: answering "http.request" again at once
        # made that listener spin without yielding and froze the whole event loop.
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))
        elif message["type"] == "http.response.body":
            if read_body:
                sha.update(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await app(scope, receive, send)
    except TimeoutError:
        return Probe(url, False, error=f"{url} did not answer within {PROBE_TIMEOUT:.0f} s")
    code = status[0] if status else None
    ok = code is not None and 200 <= code < 300
    return Probe(url, ok, code, sha.digest() if ok and read_body else None, None if ok else f"{url} answered {code}")
