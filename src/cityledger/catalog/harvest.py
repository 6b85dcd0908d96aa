"""Harvesting in: read a DCAT catalogue (CKAN's ckanext-dcat output is the common case), fetch each
dataset's file, hash it, and register on chain what is not registered yet, through the same
`publish` as `cityledger publish`.

One dataset of the source is one CityLedger lineage, keyed by the source dataset's IRI (registered
as the document's `dct:source`). Per dataset the result is:

- new: its file's hash is not on chain and no earlier registration came from this source;
- unchanged: its file's hash is already registered by the harvesting publisher (this or an earlier
  harvest, or a `publish`), and not withdrawn; bytes only another publisher registered are registered
  again under the harvester's own name (a content hash is unique per publisher, docs/CONTRACTS.md);
- changed: the file changed: a new version superseding the latest registration from this source;
- unreachable: the file could not be fetched (reported, the harvest goes on);
- invalid: the source's metadata cannot be mapped (no title, description or licence, non-public
  data, no distribution URL), with the reason.

Running it again changes nothing: every decision starts from the chain (`verify_hash`, the
registrations' own documents), not from a local memory of earlier runs.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import httpx
from eth_account.signers.local import LocalAccount
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node
from web3 import Web3

from ..chain.deployments import Deployment
from ..datasets.metadata import FILE_TYPES, LANGUAGES, Coverage, DatasetInfo, check_info, is_iri
from ..datasets.registry import dataset_record, publish, registry, verify_hash
from ..datasets.store import URI_PREFIX, MetadataStore
from ..errors import CityLedgerError
from ..fingerprint import check_readable_file, sha256_file
from .fetch import CATALOGUE_LIMITS, FetchError, Limits, client, download, fetch_bytes
from .registered import read_registered
from .serialize import JSON_LD, RDF_XML, TURTLE, parse
from .vocab import (
    ACCESS_PUBLIC,
    CL,
    DCAT,
    DCT,
    HYDRA,
    LOCN,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    THEME_DOMAINS,
    format_code,
    theme_code,
)

MAX_PAGES = 1000
ACCEPT = f"{TURTLE}, {JSON_LD};q=0.9, {RDF_XML};q=0.8"
EXTENSIONS = {code: "." + code.lower().replace("_", "") for code in FILE_TYPES.values()} | {"TSV": ".tsv"}
LANGUAGE_CODES = {code: iso for iso, code in LANGUAGES.items()}


@dataclass(frozen=True)
class SourceDataset:
    """One dataset of the harvested catalogue, mapped to what CityLedger registers."""

    iri: str
    title: str | None
    description: str | None
    licence: str | None
    domain: str
    keywords: tuple[str, ...]
    temporal_start: str | None
    temporal_end: str | None
    spatial: str | None
    language: str | None
    url: str | None  # the distribution's download (else access) URL
    format: str | None  # its EU file-type code, when declared
    problem: str | None = None  # why it cannot be registered


@dataclass
class HarvestResult:
    source: str  # the harvested dataset's IRI
    status: str  # new | unchanged | changed | unreachable | invalid
    title: str | None = None
    dataset_id: int | None = None  # the registration (new, changed, unchanged)
    supersedes: int | None = None  # changed: the version it replaces
    content_hash: str | None = None
    detail: str | None = None


@dataclass
class HarvestReport:
    catalogue: str
    pages: int
    dry_run: bool
    results: list[HarvestResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("new", "changed", "unchanged", "unreachable", "invalid"), 0)
        for r in self.results:
            out[r.status] += 1
        return out

    def to_json(self) -> dict:
        return {
            "catalogue": self.catalogue,
            "pages": self.pages,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "results": [asdict(r) for r in self.results],
        }


# ---------------------------------------------------------------- reading the catalogue


def is_remote(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")


def read_catalogue(
    location: str, *, http: httpx.Client | None = None, limits: Limits = CATALOGUE_LIMITS, max_pages: int = MAX_PAGES
) -> tuple[Graph, int]:
    """(the whole catalogue as one graph, pages read). A URL is fetched with the bounded client and
    its hydra paging followed (nextPage / next), at most `max_pages` pages; a path is read as is."""
    if not is_remote(location):
        path = check_readable_file(Path(location))
        if path.stat().st_size > limits.max_bytes:
            raise CityLedgerError(f"{path}: over {limits.max_bytes} bytes, the catalogue size limit")
        # Relative IRIs in a file (distribution URLs) resolve against the file's own location.
        return parse(path.read_bytes(), name=path.name, base=path.resolve().as_uri()), 1
    own = http is None
    http = http or client(limits)
    try:
        graph, seen = Graph(), list[str]()
        url: str | None = location
        while url and url not in seen and len(seen) < max_pages:
            seen.append(url)
            data, content_type = fetch_bytes(url, http, limits, accept=ACCEPT)
            page = parse(data, name=urlparse(url).path, content_type=content_type, base=url)
            graph += page
            url = _next_page(page, url)
        return graph, len(seen)
    finally:
        if own:
            http.close()


def _next_page(page: Graph, url: str) -> str | None:
    for kind, prop in ((HYDRA.PagedCollection, HYDRA.nextPage), (HYDRA.PartialCollectionView, HYDRA.next)):
        for node in page.subjects(RDF.type, kind):
            nxt = page.value(node, HYDRA.next) or page.value(node, prop)
            if nxt is not None:
                return urljoin(url, str(nxt))
    return None


def _text(g: Graph, s: Node, *props: URIRef) -> str | None:
    """The first non-empty literal of `props` (English or untagged preferred)."""
    for p in props:
        values = [o for o in g.objects(s, p) if isinstance(o, Literal) and str(o).strip()]
        values.sort(key=lambda o: (o.language not in (None, "en"), str(o)))
        if values:
            return str(values[0]).strip()
    return None


def _date(value: Node | None) -> str | None:
    if value is None:
        return None
    py = value.toPython() if isinstance(value, Literal) else None
    if isinstance(py, datetime):
        return py.date().isoformat()
    if isinstance(py, date):
        return py.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _distribution(g: Graph, ds: Node) -> tuple[str | None, Node | None]:
    """(URL, distribution): the first distribution with a download URL (machine-readable formats
    first), else the first with an access URL; ordered by IRI so the choice is stable."""

    def rank(d: Node) -> tuple:
        fmt = g.value(d, DCT.format) or g.value(d, DCAT.mediaType)
        readable = format_code(str(fmt)) is not None if fmt is not None else False
        return (g.value(d, DCAT.downloadURL) is None, not readable, str(d))

    for d in sorted(g.objects(ds, DCAT.distribution), key=rank):
        url = g.value(d, DCAT.downloadURL) or g.value(d, DCAT.accessURL)
        if url is not None:
            return str(url), d
    return None, None


def source_datasets(
    graph: Graph, *, default_domain: str | None = None, default_licence: str | None = None
) -> list[SourceDataset]:
    """Every dcat:Dataset of the catalogue, mapped to CityLedger's metadata."""
    out = []
    for ds in sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str):
        out.append(_source_dataset(graph, ds, default_domain, default_licence))
    return out


def _source_dataset(g: Graph, ds: Node, default_domain: str | None, default_licence: str | None) -> SourceDataset:
    url, dist = _distribution(g, ds)
    licence_node = (g.value(dist, DCT.license) if dist is not None else None) or g.value(ds, DCT.license)
    licence = str(licence_node) if isinstance(licence_node, URIRef) else _literal(licence_node) or default_licence
    domain = _text(g, ds, CL.domain)  # a CityLedger catalogue says it
    if not domain:
        codes = [theme_code(str(t)) for t in g.objects(ds, DCAT.theme)]
        domain = next((THEME_DOMAINS[c] for c in sorted(filter(None, codes)) if c in THEME_DOMAINS), None)
    period = g.value(ds, DCT.temporal)
    spatial = g.value(ds, DCT.spatial)
    place = (
        _text(g, spatial, SKOS.prefLabel, RDFS.label, LOCN.geographicName, DCT.title) if spatial is not None else None
    )
    if place is None and isinstance(spatial, URIRef):
        place = str(spatial)
    languages = [LANGUAGE_CODES.get(str(lang).rsplit("/", 1)[-1]) for lang in g.objects(ds, DCT.language)]
    fmt_node = (g.value(dist, DCT.format) or g.value(dist, DCAT.mediaType)) if dist is not None else None
    problem = None
    rights = g.value(ds, DCT.accessRights)
    if not isinstance(ds, URIRef) or not is_iri(str(ds)):
        problem = "the dataset has no http(s) IRI: nothing to recognise it by in the next harvest"
    elif isinstance(rights, URIRef) and "access-right/" in str(rights) and rights != ACCESS_PUBLIC:
        problem = f"access rights {rights.rsplit('/', 1)[-1]}: CityLedger harvests open data only"
    elif url is None:
        problem = "no distribution with a download or access URL"
    return SourceDataset(
        iri=str(ds),
        title=_text(g, ds, DCT.title),
        description=_text(g, ds, DCT.description),
        licence=licence,
        domain=domain or default_domain or "other",
        keywords=tuple(sorted({str(k).strip() for k in g.objects(ds, DCAT.keyword) if str(k).strip()})),
        temporal_start=_date(g.value(period, DCAT.startDate) or g.value(period, SCHEMA.startDate)) if period else None,
        temporal_end=_date(g.value(period, DCAT.endDate) or g.value(period, SCHEMA.endDate)) if period else None,
        spatial=place,
        language=languages[0] if len(languages) == 1 else None,
        url=url,
        format=format_code(str(fmt_node)) if fmt_node is not None else None,
        problem=problem,
    )


def _literal(node: Node | None) -> str | None:
    return str(node).strip() or None if isinstance(node, Literal) else None


def dataset_info(item: SourceDataset, publisher: str) -> DatasetInfo:
    """What the harvest registers for a source dataset (checked like `cityledger publish` checks)."""
    info = DatasetInfo(
        title=item.title or "",
        domain=item.domain,
        publisher=publisher,
        description=item.description,
        license=item.licence,
        coverage=Coverage(item.temporal_start, item.temporal_end, item.spatial),
        keywords=list(item.keywords),
        source=item.iri,
        language=item.language,
    )
    check_info(info)
    return info


# ---------------------------------------------------------------- registrations from a source


def registrations_by_source(
    w3: Web3, deployment: Deployment, store: MetadataStore, publisher: str, cfg=None
) -> dict[str, int]:
    """source IRI -> the latest version of the lineage registered from it by `publisher`, read from
    the chain (DatasetRegistered events) and the registrations' own documents in the local store
    (checked against their hashes). A document this machine does not hold cannot say its source."""
    reg = registry(w3, deployment, cfg)
    logs = reg.events.DatasetRegistered().get_logs(
        from_block=deployment.start_block, argument_filters={"publisher": Web3.to_checksum_address(publisher)}
    )
    found: dict[str, int] = {}
    for log in logs:
        uri, digest = log["args"]["metadata_uri"], bytes(log["args"]["metadata_hash"])
        if not uri.startswith(URI_PREFIX) or uri[len(URI_PREFIX) :] != digest.hex() or not store.has(digest):
            continue
        try:
            source = read_registered(store.get(digest)).source
        except CityLedgerError:  # altered in the store, or a schema this code does not read: no source
            continue
        if source:
            found[source] = max(found.get(source, 0), log["args"]["dataset_id"])
    for source, dataset_id in found.items():  # follow successors: the lineage's newest version
        successor = dataset_record(w3, deployment, dataset_id, cfg)["successor"]
        while successor:
            dataset_id, successor = successor, dataset_record(w3, deployment, successor, cfg)["successor"]
        found[source] = dataset_id
    return found


# ---------------------------------------------------------------- the harvest


@dataclass
class _Fetched:
    path: Path
    sha256: bytes
    temporary: bool


def _fetch(item: SourceDataset, local: bool, http: httpx.Client, limits: Limits, work: Path) -> _Fetched:
    url = item.url or ""
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        name = Path(unquote(parsed.path)).name or "download"
        if item.format and not Path(name).suffix and item.format in EXTENSIONS:
            name += EXTENSIONS[item.format]  # the extension decides the media type and the rows root
        got = download(url, http, work, limits, name=name)
        return _Fetched(got.path, got.sha256, True)
    if parsed.scheme == "file" or (not parsed.scheme and url):
        if not local:  # a remote catalogue must not make this machine read its own files
            raise FetchError(f"{url}: a remote catalogue cannot name a local file")
        path = check_readable_file(Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url))
        return _Fetched(path, sha256_file(path), False)
    raise FetchError(f"{url}: not an http(s) URL or a local file")


def harvest(
    location: str,
    *,
    w3: Web3,
    deployment: Deployment,
    account: LocalAccount,
    store: MetadataStore,
    http: httpx.Client | None = None,
    limits: Limits = Limits(),
    default_domain: str | None = None,
    default_licence: str | None = None,
    dry_run: bool = False,
    cfg=None,
    log: Callable[[HarvestResult], None] | None = None,
) -> HarvestReport:
    """Harvest the catalogue at `location` (URL or file) into the chain, registering as `account`.
    `limits` bound each distribution's download; `log(result)` hears of each dataset as it is done."""
    own = http is None
    http = http or client(limits)
    work = Path(tempfile.mkdtemp(prefix="cityledger-harvest-"))
    try:
        graph, pages = read_catalogue(location, http=http)
        report = HarvestReport(location, pages, dry_run)
        run = _Run(w3, deployment, account, store, http, limits, work, dry_run, cfg, local=not is_remote(location))
        for item in source_datasets(graph, default_domain=default_domain, default_licence=default_licence):
            result = run.one(item)
            report.results.append(result)
            if log:
                log(result)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if own:
            http.close()


@dataclass
class _Run:
    w3: Web3
    deployment: Deployment
    account: LocalAccount
    store: MetadataStore
    http: httpx.Client
    limits: Limits
    work: Path
    dry_run: bool
    cfg: object
    local: bool  # the catalogue is a local file: its distributions may be local files too

    def __post_init__(self):
        self.by_source = registrations_by_source(self.w3, self.deployment, self.store, self.account.address, self.cfg)

    def one(self, item: SourceDataset) -> HarvestResult:
        result = HarvestResult(source=item.iri, status="invalid", title=item.title)
        if item.problem:
            result.detail = item.problem
            return result
        try:
            info = dataset_info(item, self.account.address)
        except CityLedgerError as exc:
            result.detail = str(exc)
            return result
        try:
            fetched = _fetch(item, self.local, self.http, self.limits, self.work)
        except CityLedgerError as exc:
            result.status, result.detail = "unreachable", str(exc)
            return result
        try:
            self._register(item, info, fetched, result)
        finally:
            if fetched.temporary:
                fetched.path.unlink(missing_ok=True)
        return result

    def _register(self, item: SourceDataset, info: DatasetInfo, fetched: _Fetched, result: HarvestResult) -> None:
        result.content_hash = "0x" + fetched.sha256.hex()
        latest = self.by_source.get(item.iri)
        known = verify_hash(self.w3, self.deployment, fetched.sha256, self.cfg)
        mine = [r for r in known.by(self.account.address) if r.status != "withdrawn"]
        if mine:
            result.status, result.dataset_id = "unchanged", mine[-1].dataset_id
            if latest is not None and latest != mine[-1].latest:
                result.detail = f"an earlier version's file; the latest from this source is dataset {latest}"
            return
        result.status, result.supersedes = ("changed", latest) if latest else ("new", None)
        others = sorted({r.publisher for r in known.registrations} - {self.account.address})
        if others:
            result.detail = f"also registered by {', '.join(others)}"
        if self.dry_run:
            result.detail = "dry run: not registered"
            return
        info.supersedes = latest or 0
        published = publish(self.w3, self.deployment, self.account, fetched.path, info, store=self.store, cfg=self.cfg)
        result.dataset_id = published.dataset_id
        self.by_source[item.iri] = published.dataset_id
