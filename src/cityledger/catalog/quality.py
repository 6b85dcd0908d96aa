"""A metadata quality score per dataset, after data.europa.eu's Metadata Quality Assessment (MQA):
the MQA's five dimensions, indicators and weights (405 points in all), computed on a DCAT graph,
with reachability checked by a prober and the downloaded bytes checked against the registered
SHA-256. The report says, indicator by indicator, what to fix to raise the score.

Differences from the MQA, on purpose (docs/CATALOG.md):
- "download URL accessible" also requires the bytes served to hash to the distribution's
  spdx:checksum: a reachable file with other bytes is not the registered dataset;
- indicators that cannot apply (no download URL for personal data, which is never served raw) are
  left out of the maximum instead of counting against the dataset, and the rating is taken on the
  share of the applicable maximum (the MQA's 351/221/121 of 405 thresholds, as percentages);
- the DCAT-AP compliance indicator uses CityLedger's shapes (cityledger.catalog.validate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from ..datasets.metadata import (
    EU_FILE_TYPES,
    EU_LICENCES,
    IANA_MEDIA_TYPES,
    SPDX_LICENCES,
    DatasetInfo,
    build_metadata,
    domain_code,
    media_type,
    metadata_hash,
)
from ..errors import CityLedgerError
from .describe import describe, new_graph
from .facts import ChainFacts, PublisherLookup
from .fetch import Limits, Probe, probe
from .iris import Iris
from .validate import validate
from .vocab import (
    ACCESS_NON_PUBLIC,
    ACCESS_RIGHTS,
    CL,
    DCAT,
    DCT,
    MACHINE_READABLE,
    NON_PROPRIETARY,
    RDF,
    SPDX,
    format_code,
    media_of,
)

DIMENSIONS = ("findability", "accessibility", "interoperability", "reusability", "contextuality")
# The MQA's rating bands (points out of 405), applied here as shares of the applicable maximum.
RATINGS = ((351 / 405, "excellent"), (221 / 405, "good"), (121 / 405, "sufficient"), (0.0, "bad"))
# (url, read the body and hash it?) -> Probe. The API checks its own data room; the CLI uses HTTP.
Prober = Callable[[str, bool], Probe]


@dataclass(frozen=True)
class Indicator:
    dimension: str
    name: str
    weight: int
    earned: int
    applicable: bool = True
    checked: bool = True  # False: needs a prober (reachability) and none was given
    fix: str | None = None  # what to do to earn the rest (None when earned, not applicable or not checked)
    publisher_input: bool = False  # decided by what the publisher gives at `cityledger publish`

    @property
    def missing(self) -> int:
        return self.weight - self.earned if self.applicable else 0


@dataclass(frozen=True)
class QualityReport:
    dataset: str
    indicators: tuple[Indicator, ...]
    conformance: list[str] = field(default_factory=list)  # DCAT-AP violations, when any

    @property
    def score(self) -> int:
        return sum(i.earned for i in self.indicators if i.applicable)

    @property
    def max_score(self) -> int:
        return sum(i.weight for i in self.indicators if i.applicable)

    @property
    def percent(self) -> int:
        return round(100 * self.score / self.max_score) if self.max_score else 0

    @property
    def rating(self) -> str:
        share = self.score / self.max_score if self.max_score else 0.0
        return next(name for floor, name in RATINGS if share >= floor - 1e-9)

    def dimensions(self) -> dict[str, tuple[int, int]]:
        """dimension -> (earned, applicable maximum)."""
        return {
            d: (
                sum(i.earned for i in self.indicators if i.dimension == d and i.applicable),
                sum(i.weight for i in self.indicators if i.dimension == d and i.applicable),
            )
            for d in DIMENSIONS
        }

    def fixes(self) -> list[tuple[int, str]]:
        """(points to gain, what to do), the most valuable first."""
        out = [(i.missing, i.fix) for i in self.indicators if i.fix and i.missing]
        return sorted(out, key=lambda x: -x[0])

    def unchecked(self) -> list[str]:
        return [i.name for i in self.indicators if i.applicable and not i.checked]

    def to_json(self) -> dict:
        return {
            "dataset": self.dataset,
            "score": self.score,
            "max_score": self.max_score,
            "percent": self.percent,
            "rating": self.rating,
            "dimensions": {d: {"score": s, "max": m} for d, (s, m) in self.dimensions().items()},
            "fixes": [{"points": p, "fix": f} for p, f in self.fixes()],
            "not_checked": self.unchecked(),
            "conformance": self.conformance,
            "indicators": [asdict(i) for i in self.indicators],
        }


def subgraph(graph: Graph, node: Node) -> Graph:
    """The triples about `node` and what it reaches, stopping at other datasets and catalogues
    (their descriptions are theirs)."""
    out = new_graph()
    todo, seen = [node], set()
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        for p, o in graph.predicate_objects(s):
            out.add((s, p, o))
            other = (o, RDF.type, DCAT.Dataset) in graph or (o, RDF.type, DCAT.Catalog) in graph
            if isinstance(o, URIRef | BNode) and o != node and not other:
                todo.append(o)
    return out


class _Scorer:
    def __init__(self, graph: Graph, ds: Node, prober: Prober | None):
        self.g = graph
        self.ds = ds
        self.prober = prober
        self.dists = sorted(graph.objects(ds, DCAT.distribution), key=str)
        self.personal = (ds, DCT.accessRights, ACCESS_NON_PUBLIC) in graph or (
            ds,
            CL.personalData,
            Literal(True),
        ) in graph
        self.out: list[Indicator] = []

    def has(self, s: Node, p: URIRef) -> bool:
        return self.g.value(s, p) is not None

    def add(self, dimension: str, name: str, weight: int, share: float, fix: str, **kw) -> None:
        """One indicator: `share` of the distributions (or 1/0 for the dataset) that satisfy it."""
        earned = round(weight * share)
        applicable, checked = kw.pop("applicable", True), kw.pop("checked", True)
        needs_fix = applicable and checked and earned < weight
        self.out.append(
            Indicator(dimension, name, weight, earned, applicable, checked, fix if needs_fix else None, **kw)
        )

    def share(self, test: Callable[[Node], bool]) -> float:
        return sum(1 for d in self.dists if test(d)) / len(self.dists) if self.dists else 0.0

    def probes(self, prop: URIRef, read_body: bool) -> dict[Node, Probe | None]:
        out: dict[Node, Probe | None] = {}
        for d in self.dists:
            url = self.g.value(d, prop)
            out[d] = self.prober(str(url), read_body) if (self.prober and isinstance(url, URIRef)) else None
        return out

    def findability(self) -> None:
        ds, add = self.ds, self.add
        add("findability", "keywords", 30, float(self.has(ds, DCAT.keyword)),
            "add keywords (dcat:keyword; `cityledger publish --keyword`)", publisher_input=True)  # fmt: skip
        add("findability", "categories", 30, float(self.has(ds, DCAT.theme)), "give a theme (dcat:theme; the domain)")
        add("findability", "geo search", 20, float(self.has(ds, DCT.spatial)),
            "say which place the data covers (dct:spatial; `--spatial`)", publisher_input=True)  # fmt: skip
        add("findability", "time-based search", 20, float(self.has(ds, DCT.temporal)),
            "say which period the data covers (dct:temporal; `--temporal START/END`)",
            publisher_input=True)  # fmt: skip

    def accessibility(self) -> None:
        add, g = self.add, self.g
        access = self.probes(DCAT.accessURL, False)
        checked = self.prober is not None
        add("accessibility", "access URL accessible", 50, self.share(lambda d: _answered(access[d])),
            "make the access URL answer (HTTP 2xx): " + _failures(access), checked=checked)  # fmt: skip
        no_download = self.personal  # personal data is never served raw: no download URL by design
        add("accessibility", "download URL given", 20, self.share(lambda d: self.has(d, DCAT.downloadURL)),
            "give a direct download URL (dcat:downloadURL)", applicable=not no_download)  # fmt: skip
        download = self.probes(DCAT.downloadURL, True) if not no_download else {}

        def served_right(d: Node) -> bool:
            result = download.get(d)
            if result is None or not result.ok:
                return False
            want = _checksum(g, d)
            return want is None or (result.sha256 is not None and result.sha256.hex() == want)

        mismatched = [str(p.url) for d, p in download.items() if p and p.ok and not served_right(d)]
        fix = "make the download URL answer (HTTP 2xx) with the registered bytes: " + (
            "; ".join(f"{u} serves bytes that do not match the registered SHA-256" for u in mismatched)
            or _failures(download)
        )
        add("accessibility", "download URL accessible", 30, self.share(served_right), fix,
            applicable=not no_download, checked=checked)  # fmt: skip

    def interoperability(self, conforms: bool) -> None:
        add, g = self.add, self.g

        def code(d: Node) -> str | None:
            value = g.value(d, DCT.format)
            return format_code(str(value)) if value is not None else None

        def vocab(d: Node) -> bool:
            fmt, media = g.value(d, DCT.format), g.value(d, DCAT.mediaType)
            return (
                isinstance(fmt, URIRef) and str(fmt).startswith(EU_FILE_TYPES) and isinstance(media, URIRef)
                and media_of(str(media)) != str(media)
            )  # fmt: skip

        add("interoperability", "format", 20, self.share(lambda d: self.has(d, DCT.format)),
            "give the format (dct:format): publish a file type of the EU file-type vocabulary (CSV, JSON, ...)",
            publisher_input=True)  # fmt: skip
        add("interoperability", "media type", 10, self.share(lambda d: self.has(d, DCAT.mediaType)),
            "give the media type (dcat:mediaType)", publisher_input=True)  # fmt: skip
        add("interoperability", "format and media type from a vocabulary", 10, self.share(vocab),
            f"use IRIs of the EU file-type vocabulary ({EU_FILE_TYPES}) and of IANA ({IANA_MEDIA_TYPES})",
            publisher_input=True)  # fmt: skip
        add("interoperability", "non-proprietary format", 20, self.share(lambda d: code(d) in NON_PROPRIETARY),
            "publish in a non-proprietary format (CSV, JSON, XML, Parquet, ODS, ...)",
            publisher_input=True)  # fmt: skip
        add("interoperability", "machine-readable format", 20, self.share(lambda d: code(d) in MACHINE_READABLE),
            "publish in a machine-readable format (CSV, JSON, XML, Parquet, ...)", publisher_input=True)  # fmt: skip
        add("interoperability", "DCAT-AP compliance", 30, float(conforms), "fix the DCAT-AP violations listed")

    def reusability(self) -> None:
        add, g, ds = self.add, self.g, self.ds

        def licence(d: Node) -> Node | None:
            return g.value(d, DCT.license) or g.value(ds, DCT.license)

        def known(d: Node) -> bool:
            lic = licence(d)
            return isinstance(lic, URIRef) and str(lic).startswith((EU_LICENCES, SPDX_LICENCES))

        rights = g.value(ds, DCT.accessRights)
        add("reusability", "licence", 20, self.share(lambda d: licence(d) is not None),
            "give a licence (dct:license; `--license`)", publisher_input=True)  # fmt: skip
        add("reusability", "licence from a vocabulary", 10, self.share(known),
            "use a licence of the EU licence vocabulary or SPDX's list (`--license CC-BY-4.0`, CC0-1.0, ...)",
            publisher_input=True)  # fmt: skip
        add(
            "reusability",
            "access restrictions",
            10,
            float(rights is not None),
            "state access rights (dct:accessRights)",
        )
        add("reusability", "access restrictions from a vocabulary", 5, float(rights in ACCESS_RIGHTS),
            "use the EU access-right vocabulary for dct:accessRights")  # fmt: skip
        add(
            "reusability",
            "contact point",
            20,
            float(self.has(ds, DCAT.contactPoint)),
            "give a contact point (dcat:contactPoint)",
        )
        add("reusability", "publisher", 10, float(self.has(ds, DCT.publisher)), "name the publisher (dct:publisher)")

    def contextuality(self) -> None:
        add, ds = self.add, self.ds
        add(
            "contextuality", "rights", 5, self.share(lambda d: self.has(d, DCT.rights)), "state the rights (dct:rights)"
        )
        add(
            "contextuality",
            "file size",
            5,
            self.share(lambda d: self.has(d, DCAT.byteSize)),
            "give the size (dcat:byteSize)",
        )
        dated = self.has(ds, DCT.issued) or any(self.has(d, DCT.issued) for d in self.dists)
        changed = self.has(ds, DCT.modified) or any(self.has(d, DCT.modified) for d in self.dists)
        add("contextuality", "date of issue", 5, float(dated), "give the release date (dct:issued)")
        add("contextuality", "modification date", 5, float(changed), "give the last change (dct:modified)")


def _answered(result: Probe | None) -> bool:
    return result is not None and result.ok


def _checksum(g: Graph, dist: Node) -> str | None:
    node = g.value(dist, SPDX.checksum)
    value = g.value(node, SPDX.checksumValue) if node is not None else None
    return str(value).lower() if value is not None else None


def _failures(probes: Mapping[Node, Probe | None]) -> str:
    return "; ".join(p.error or p.url for p in probes.values() if p and not p.ok) or "no URL given"


def quality(graph: Graph, dataset: str | URIRef | None = None, *, prober: Prober | None = None) -> QualityReport:
    """The quality report of one dcat:Dataset of `graph` (the only one when `dataset` is None)."""
    datasets = sorted(graph.subjects(RDF.type, DCAT.Dataset), key=str)
    if dataset is None:
        if len(datasets) != 1:
            raise CityLedgerError(f"the graph has {len(datasets)} datasets; name the one to score")
        ds: Node = datasets[0]
    else:
        ds = URIRef(str(dataset))
        if ds not in datasets:
            raise CityLedgerError(f"{dataset} is not a dcat:Dataset of this graph")
    conformance = validate(subgraph(graph, ds))
    s = _Scorer(graph, ds, prober)
    s.findability()
    s.accessibility()
    s.interoperability(conformance.conforms)
    s.reusability()
    s.contextuality()
    return QualityReport(str(ds), tuple(s.out), [str(f) for f in conformance.violations])


def datasets_of(graph: Graph) -> list[str]:
    return [str(d) for d in sorted(graph.subjects(RDF.type, DCAT.Dataset), key=str)]


def dataset_quality(
    doc: Mapping | None,
    facts: ChainFacts,
    *,
    base: str,
    publisher: PublisherLookup | None = None,
    prober: Prober | None = None,
) -> QualityReport:
    """The score of a registered version as the catalogue serves it (what the API shows and filters
    on). Without a prober the reachability indicators are reported as not checked; the rest is a
    pure function of (document, facts), so it can be cached by metadata hash and status."""
    graph = describe(doc, facts, base=base, publisher=publisher)
    return quality(graph, Iris(base).dataset(facts.dataset_id), prober=prober)


PROVISIONAL_BASE = "https://cityledger.invalid"


def provisional_facts(doc: Mapping) -> ChainFacts:
    """Chain facts for a document not registered yet (id 1, time 0): to score what its description
    will be once registered. Every fact a description takes from the chain is present, so only what
    the publisher controls can lower the score."""
    publisher = doc.get("dct:publisher")
    address = publisher.get("cl:address") if isinstance(publisher, dict) else None
    content = doc.get("cl:contentHash")
    theme = doc.get("dcat:theme")  # version 1 kept the domain code on the theme node
    code = doc.get("cl:domainCode") or (theme.get("cl:domainCode") if isinstance(theme, dict) else None)
    if not isinstance(address, str) or not isinstance(content, str):
        raise CityLedgerError("not a CityLedger metadata document (no publisher address or content hash)")
    return ChainFacts(
        dataset_id=1,
        publisher=address,
        content_hash=content,
        metadata_hash="0x" + metadata_hash(dict(doc)).hex(),
        metadata_uri="cityledger://metadata/" + metadata_hash(dict(doc)).hex(),
        registered_at=0,
        domain=domain_code(code) if code else None,
        personal_data=bool(doc.get("cl:personalData")),
    )


def publish_warnings(info: DatasetInfo, path: str | Path) -> list[str]:
    """What lowers the quality score of a dataset about to be published that the publisher can change
    (keywords, coverage, licence, format), as one line each with the points it costs. For
    `cityledger publish` to print before registering; reads nothing but the file's name."""
    p = Path(path)
    doc = build_metadata(info, file_name=p.name, content_hash=bytes(32), byte_size=0, media=media_type(p))
    report = dataset_quality(doc, provisional_facts(doc), base=PROVISIONAL_BASE)
    return [
        f"{i.fix} (quality score -{i.missing} of {report.max_score})"
        for i in sorted(report.indicators, key=lambda i: -i.missing)
        if i.publisher_input and i.fix and i.missing
    ]


def http_prober(http: httpx.Client, limits: Limits = Limits()) -> Prober:
    """A prober over HTTP with the bounded client (what `cityledger quality` uses)."""
    return lambda url, read_body: probe(url, http, limits, read_body)
