"""The `dcat:Catalog` document: every registered version (withdrawn ones marked, not dropped), paged
the way CKAN's ckanext-dcat pages and data.europa.eu's harvester follows (hydra)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef

from ..datasets.metadata import find_licence, is_iri, licence_iri
from ..errors import CityLedgerError
from .describe import CONCEPT_LABELS, Describer, date_time, new_graph
from .facts import ChainFacts, PublisherLookup
from .iris import Iris
from .vocab import DCAT, DCT, EU, FOAF, HYDRA, PUBLISHER_TYPES, RDF, RDFS, THEME_SCHEME, XSD

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class CatalogInfo:
    """Who runs the catalogue and what it covers (dcat:Catalog's own properties)."""

    title: str = "CityLedger data catalogue"
    description: str = (
        "Datasets registered on CityLedger: every version by the SHA-256 of its file, with its publisher, "
        "licence, coverage and status. Withdrawn and superseded versions stay listed, marked as such."
    )
    publisher_name: str = "City data office"
    publisher_address: str | None = None  # the admin account, when the operator is on chain
    publisher_kind: str = "agency"  # ADMS publisher type: agency (local authority) or business
    language: str = "ENG"  # EU language code of the metadata texts
    spatial: str | None = None  # the place the catalogue covers: an IRI (e.g. a GeoNames city)
    licence: str = "CC0-1.0"  # of the catalogue's metadata (not of the datasets)


@dataclass(frozen=True)
class Entry:
    """One version in the catalogue: its registered document (None if not available here) and facts."""

    document: Mapping | None
    facts: ChainFacts


@dataclass(frozen=True)
class Paging:
    page: int
    page_size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


def check_paging(page: int, page_size: int, total: int) -> Paging:
    """The page requested, or one clear error (a page past the last one, a size out of range)."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise CityLedgerError(f"page size {page_size} is out of range (1..{MAX_PAGE_SIZE})")
    paging = Paging(page, page_size, total)
    if not 1 <= page <= paging.last:
        raise CityLedgerError(f"page {page} does not exist (the catalogue has pages 1..{paging.last})")
    return paging


def catalogue(
    entries: Sequence[Entry],
    *,
    base: str,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    total: int | None = None,
    info: CatalogInfo = CatalogInfo(),
    publisher: PublisherLookup | None = None,
    issued: int | None = None,
    modified: int | None = None,
) -> Graph:
    """One page of the catalogue as a graph: the dcat:Catalog, the hydra paging node and the full
    description of every version on the page.

    With `total=None`, `entries` is the whole catalogue (ordered by dataset id here) and the page
    is cut from it. With `total` given, `entries` is already the page (the API's LIMIT/OFFSET
    query) and `issued`/`modified` (the first registration and the last change anywhere) date the
    catalogue; they default to what the entries show."""
    if total is None:
        ordered = sorted(entries, key=lambda e: e.facts.dataset_id)
        paging = check_paging(page, page_size, len(ordered))
        shown = ordered[(page - 1) * page_size : page * page_size]
    else:
        paging = check_paging(page, page_size, total)
        shown = list(entries)
        ordered = shown
        if len(shown) > page_size:
            raise CityLedgerError(f"{len(shown)} entries given for a page of {page_size}")
    iris = Iris(base)
    g = new_graph()
    describer = Describer(g, iris, publisher)
    cat = iris.catalog()
    add = describer.add
    add(cat, RDF.type, DCAT.Catalog)
    add(cat, DCT.title, info.title)
    add(cat, DCT.description, info.description)
    add(cat, FOAF.homepage, iris.homepage())
    add(iris.homepage(), RDF.type, FOAF.Document)
    add(cat, DCT.publisher, _operator(describer, iris, info))
    language = URIRef(EU + "language/" + info.language)
    add(cat, DCT.language, language)
    add(language, RDF.type, DCT.LinguisticSystem)
    licence = URIRef(licence_iri(info.licence))
    add(cat, DCT.license, licence)
    add(licence, RDF.type, DCT.LicenseDocument)
    known = find_licence(info.licence)
    if known:
        add(licence, RDFS.label, known.label)
    if info.spatial:
        place: URIRef | BNode = URIRef(info.spatial) if is_iri(info.spatial) else BNode()
        if isinstance(place, BNode):
            add(place, RDFS.label, info.spatial)
        add(cat, DCT.spatial, place)
        add(place, RDF.type, DCT.Location)
    add(cat, DCAT.themeTaxonomy, THEME_SCHEME)
    add(THEME_SCHEME, RDF.type, URIRef("http://www.w3.org/2004/02/skos/core#ConceptScheme"))
    add(THEME_SCHEME, DCT.title, Literal("Data theme", lang="en"))
    first = issued if issued is not None else min((e.facts.registered_at for e in ordered), default=None)
    last = modified if modified is not None else max((e.facts.modified_at for e in ordered), default=None)
    add(cat, DCT.issued, date_time(first) if first is not None else None)
    add(cat, DCT.modified, date_time(last) if last is not None else None)
    for entry in shown:
        ds = describer.dataset(entry.document, entry.facts)
        add(cat, DCAT.dataset, ds)
        add(cat, DCAT.record, iris.record(entry.facts.dataset_id))
    _paging(describer, iris, paging)
    return g


def _operator(describer: Describer, iris: Iris, info: CatalogInfo) -> URIRef:
    agent = iris.publisher(info.publisher_address) if info.publisher_address else URIRef(f"{iris.base}/#operator")
    describer.add(agent, RDF.type, FOAF.Agent)
    describer.add(agent, FOAF.name, info.publisher_name)
    if info.publisher_kind in PUBLISHER_TYPES:
        kind = PUBLISHER_TYPES[info.publisher_kind]
        describer.add(agent, DCT.type, describer.concept(kind, CONCEPT_LABELS[kind]))
    return agent


def _paging(describer: Describer, iris: Iris, paging: Paging) -> None:
    """Hydra paging as ckanext-dcat writes it (hydra:PagedCollection with firstPage/nextPage/...) and
    as the newer Hydra spec names it (PartialCollectionView, first/next/...): harvesters read either."""
    node = iris.catalog(paging.page)
    add = describer.add
    add(node, RDF.type, HYDRA.PagedCollection)
    add(node, RDF.type, HYDRA.PartialCollectionView)
    add(node, HYDRA.totalItems, Literal(paging.total, datatype=XSD.integer))
    add(node, HYDRA.itemsPerPage, Literal(paging.page_size, datatype=XSD.integer))
    links = {
        (HYDRA.firstPage, HYDRA.first): 1,
        (HYDRA.lastPage, HYDRA.last): paging.last,
        (HYDRA.nextPage, HYDRA.next): paging.page + 1 if paging.page < paging.last else None,
        (HYDRA.previousPage, HYDRA.previous): paging.page - 1 if paging.page > 1 else None,
    }
    for (old, new), target in links.items():
        if target is not None:
            add(node, old, iris.catalog(target))
            add(node, new, iris.catalog(target))
