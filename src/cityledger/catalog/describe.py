"""The served DCAT-AP 3 description of a dataset version, DERIVED from two sources:

- the registered document (its SHA-256 is on chain; version 1 or 2): what the publisher said,
- chain facts: what only the chain knows (id, version, lineage, publisher, block times, status).

Nothing here is registered or hashed: the derived description may improve (better IRIs, new
vocabularies) without touching a registered byte, and it links back to the registered document and
its hash so anyone can check what was actually registered. See docs/CATALOG.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from ..codes import DOMAIN_NAMES, DOMAINS
from ..datasets.metadata import DOMAIN_THEMES, SPDX_SHA256, find_licence, is_iri
from ..errors import CityLedgerError
from .facts import ChainFacts, Publisher, PublisherLookup
from .iris import Iris
from .registered import Registered, check_registered, read_registered, typed_date
from .vocab import (
    ACCESS_NON_PUBLIC,
    ACCESS_PUBLIC,
    ADMS,
    CL,
    DCAT,
    DCATAP,
    DCT,
    FOAF,
    FREQUENCY_NEVER,
    JSON_LD_FORMAT,
    LICENCE_TYPES,
    OWL,
    PREFIXES,
    PUBLISHER_TYPES,
    RDF,
    RDFS,
    RECORD_STATUS,
    SKOS,
    SPDX,
    STABLE,
    STATUS,
    THEME_LABELS,
    THEME_SCHEME,
    VCARD,
    XSD,
    format_iri,
    media_iri,
    media_of,
    theme_code,
    theme_iri,
)

# Labels of the concepts a description types as skos:Concept (DCAT-AP requires skos:prefLabel on them).
CONCEPT_LABELS = {
    STATUS["active"]: "Completed",
    STATUS["superseded"]: "Deprecated",
    STATUS["withdrawn"]: "Withdrawn",
    RECORD_STATUS["active"]: "Completed",
    RECORD_STATUS["superseded"]: "Deprecated",
    RECORD_STATUS["withdrawn"]: "Withdrawn",
    STABLE: "Stable",
    FREQUENCY_NEVER: "Never",
    PUBLISHER_TYPES["agency"]: "Local authority",
    PUBLISHER_TYPES["business"]: "Company",
}
LICENCE_TYPE_LABELS = {
    "PublicDomain": "Public domain",
    "Attribution": "Attribution",
    "ShareAlike": "Share alike",
    "NonCommercialUseOnly": "Non-commercial use only",
    "NoDerivativeWork": "No derivative work",
}


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True)
    return g


def date_time(ts: int) -> Literal:
    """A block time as xsd:dateTime in UTC."""
    return Literal(datetime.fromtimestamp(ts, UTC))


def _publisher(lookup: PublisherLookup | None, address: str) -> Publisher:
    found = lookup(address) if lookup else None
    if isinstance(found, str) and found.strip():
        return Publisher(name=found.strip())
    if isinstance(found, Publisher) and found.name.strip():
        return found
    return Publisher(name=address)  # no registry entry: the address is the name (pseudonymous, public)


class Describer:
    """Writes descriptions into one graph (a dataset document, a lineage or a catalogue page)."""

    def __init__(self, graph: Graph, iris: Iris, lookup: PublisherLookup | None):
        self.g = graph
        self.iris = iris
        self.lookup = lookup

    def add(self, s: Node, p: URIRef, o: Node | str | int | bool | None) -> None:
        if o is None:
            return
        self.g.add((s, p, o if isinstance(o, Node) else Literal(o)))

    def concept(self, iri: URIRef, label: str, scheme: URIRef | None = None) -> URIRef:
        self.add(iri, RDF.type, SKOS.Concept)
        self.add(iri, SKOS.prefLabel, Literal(label, lang="en"))
        self.add(iri, SKOS.inScheme, scheme)
        return iri

    # ------------------------------------------------------------------ dataset

    def dataset(self, doc: Mapping | None, facts: ChainFacts) -> URIRef:
        if doc is not None:
            check_registered(doc, facts.metadata_hash)
        reg = read_registered(doc)
        if reg.content_hash and reg.content_hash.lower() != facts.content_hash.lower():
            raise CityLedgerError(
                f"dataset {facts.dataset_id}: its metadata describes content {reg.content_hash}, "
                f"but the chain registered {facts.content_hash}"
            )
        iris, ds = self.iris, self.iris.dataset(facts.dataset_id)
        add = self.add
        add(ds, RDF.type, DCAT.Dataset)
        add(ds, DCT.title, reg.title or f"Dataset {facts.dataset_id}")
        add(
            ds,
            DCT.description,
            reg.description
            or f"The registered metadata of this version ({facts.metadata_uri}, SHA-256 {facts.metadata_hash}) "
            "is not available at this node; the chain facts below are.",
        )
        add(ds, DCT.identifier, str(ds))
        ident = BNode()
        add(ds, ADMS.identifier, ident)
        add(ident, RDF.type, ADMS.Identifier)
        add(ident, SKOS.notation, facts.content_hash.lower())
        add(ident, ADMS.schemaAgency, "CityLedger content hash: SHA-256 of the file's bytes, registered on chain")
        add(ds, DCT.issued, date_time(facts.registered_at))
        add(ds, DCT.modified, date_time(facts.modified_at))
        add(ds, DCAT.version, str(facts.version))
        add(ds, OWL.versionInfo, str(facts.version))
        self._versions(ds, facts)
        status = STATUS[facts.status]
        add(ds, ADMS.status, self.concept(status, CONCEPT_LABELS[status]))
        self._theme(ds, reg, facts)
        for keyword in reg.keywords:
            add(ds, DCAT.keyword, keyword)
        if reg.language:
            add(ds, DCT.language, URIRef(reg.language))
            add(URIRef(reg.language), RDF.type, DCT.LinguisticSystem)
        self._coverage(ds, reg)
        agent, contact = self._publisher(facts)
        add(ds, DCT.publisher, agent)
        add(ds, DCAT.contactPoint, contact)
        landing = iris.landing(facts.dataset_id)
        add(ds, DCAT.landingPage, landing)
        add(landing, RDF.type, FOAF.Document)
        rights = ACCESS_NON_PUBLIC if facts.personal_data else ACCESS_PUBLIC
        add(ds, DCT.accessRights, rights)
        add(rights, RDF.type, DCT.RightsStatement)
        add(ds, DCT.accrualPeriodicity, FREQUENCY_NEVER)
        add(FREQUENCY_NEVER, RDF.type, DCT.Frequency)
        self.concept(FREQUENCY_NEVER, CONCEPT_LABELS[FREQUENCY_NEVER])
        if reg.source:
            add(ds, DCT.source, URIRef(reg.source))
        add(ds, DCT.provenance, self._provenance(reg, facts))
        self._cityledger(ds, reg, facts)
        add(ds, DCAT.distribution, self._distribution(reg, facts))
        add(ds, FOAF.isPrimaryTopicOf, self._record(ds, doc, reg, facts))
        return ds

    def _versions(self, ds: URIRef, facts: ChainFacts) -> None:
        iris, add = self.iris, self.add
        if facts.root is not None:
            add(ds, DCT.isVersionOf, iris.lineage(facts.root))
        if facts.supersedes:
            previous = iris.dataset(facts.supersedes)
            add(ds, DCT.replaces, previous)
            add(ds, DCAT.previousVersion, previous)
        if facts.successor:
            add(ds, DCT.isReplacedBy, iris.dataset(facts.successor))

    def _theme(self, ds: URIRef, reg: Registered, facts: ChainFacts) -> None:
        # The registered domain code is the chain's (what consent scopes use); the document agrees
        # with it when published through CityLedger.
        name = DOMAIN_NAMES.get(facts.domain) if facts.domain else reg.domain
        code = DOMAIN_THEMES.get(name) if name else (theme_code(reg.theme) if reg.theme else None)
        if code:
            theme = theme_iri(code)
            self.add(ds, DCAT.theme, self.concept(theme, THEME_LABELS.get(code, code), THEME_SCHEME))
        if name in DOMAINS:
            self.add(ds, CL.domain, name)
            self.add(ds, CL.domainCode, DOMAINS[name])

    def _coverage(self, ds: URIRef, reg: Registered) -> None:
        add = self.add
        start, end = typed_date(reg.temporal_start), typed_date(reg.temporal_end)
        if start or end:
            period = BNode()
            add(ds, DCT.temporal, period)
            add(period, RDF.type, DCT.PeriodOfTime)
            add(period, DCAT.startDate, Literal(start) if start else None)
            add(period, DCAT.endDate, Literal(end) if end else None)
        if reg.spatial_iri:
            add(ds, DCT.spatial, URIRef(reg.spatial_iri))
            add(URIRef(reg.spatial_iri), RDF.type, DCT.Location)
        elif reg.spatial:
            place = BNode()
            add(ds, DCT.spatial, place)
            add(place, RDF.type, DCT.Location)
            add(place, SKOS.prefLabel, reg.spatial)
            add(place, RDFS.label, reg.spatial)

    def _publisher(self, facts: ChainFacts) -> tuple[URIRef, URIRef]:
        """(agent, contact point) of the version's publisher, named by the organisation registry."""
        who = _publisher(self.lookup, facts.publisher)
        agent, contact = self.iris.publisher(facts.publisher), self.iris.contact(facts.publisher)
        homepage = URIRef(who.homepage) if who.homepage and is_iri(who.homepage) else None
        add = self.add
        add(agent, RDF.type, FOAF.Agent)
        add(agent, FOAF.name, who.name)
        kind = who.kind or facts.publisher_kind
        if kind in PUBLISHER_TYPES:
            add(agent, DCT.type, self.concept(PUBLISHER_TYPES[kind], CONCEPT_LABELS[PUBLISHER_TYPES[kind]]))
        if facts.chain_id is not None:  # CAIP-10: the account on its chain
            add(agent, DCT.identifier, f"eip155:{facts.chain_id}:{agent.rsplit('/', 1)[-1]}")
        add(agent, FOAF.homepage, homepage)
        add(contact, RDF.type, VCARD.Kind)
        add(contact, RDF.type, VCARD.Organization)
        add(contact, VCARD.fn, who.name)
        if who.email:
            add(contact, VCARD.hasEmail, URIRef("mailto:" + who.email))
        # Without a registered homepage: the publisher's page in the web app (its datasets, where
        # access and rights requests to it are filed).
        add(contact, VCARD.hasURL, homepage or self.iris.publisher_page(facts.publisher))
        return agent, contact

    def _provenance(self, reg: Registered, facts: ChainFacts) -> BNode:
        when = datetime.fromtimestamp(facts.registered_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        where = f"chain {facts.chain_id}" if facts.chain_id is not None else "chain"
        block = (
            f" (block {facts.registered_block}, transaction {facts.registered_tx})" if facts.registered_block else ""
        )
        text = (
            f"Registered on {where} as CityLedger dataset {facts.dataset_id}, version {facts.version}, "
            f"by {facts.publisher} at {when}{block}. File SHA-256 {facts.content_hash}; "
            f"metadata document SHA-256 {facts.metadata_hash}."
        )
        if facts.withdrawn_at is not None:
            withdrawn = datetime.fromtimestamp(facts.withdrawn_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            text += f" Withdrawn by its publisher at {withdrawn}."
        if reg.provenance:
            text += f" Source: {reg.provenance}"
        node = BNode()
        self.add(node, RDF.type, DCT.ProvenanceStatement)
        self.add(node, RDFS.label, text)
        return node

    def _cityledger(self, ds: URIRef, reg: Registered, facts: ChainFacts) -> None:
        add = self.add
        add(ds, CL.contentHash, facts.content_hash.lower())
        add(ds, CL.metadataHash, facts.metadata_hash.lower())
        add(ds, CL.personalData, bool(facts.personal_data))
        add(ds, CL.recordCount, reg.record_count)
        add(ds, CL.rowsMerkleRoot, reg.rows_root)
        add(ds, CL.canonicalForm, reg.canonical_form)
        if reg.sampling:
            sampling = BNode()
            add(ds, CL.sampling, sampling)
            for key, value in sorted(reg.sampling.items()):
                prefix, _, local = key.partition(":")
                add(sampling, (RDFS if prefix == "rdfs" else CL)[local], value)

    def _distribution(self, reg: Registered, facts: ChainFacts) -> URIRef:
        iris, add = self.iris, self.add
        dist = iris.distribution(facts.dataset_id)
        add(dist, RDF.type, DCAT.Distribution)
        name = reg.file_name or f"dataset-{facts.dataset_id}"
        add(dist, DCT.title, name)
        if facts.personal_data:
            # Never served raw: only consent-filtered releases to a grantee, requested on the page.
            add(dist, DCAT.accessURL, iris.landing(facts.dataset_id))
            note = "personal data, never served raw; available only as consent-filtered releases to accredited grantees"
            rights = (
                "Personal data. Served only as consent-filtered releases to a signed-in grantee with an access grant"
            )
        else:
            download = iris.download(facts.dataset_id)
            add(dist, DCAT.accessURL, download)
            add(dist, DCAT.downloadURL, download)
            note = "the registered file; its bytes hash to the SHA-256 registered on chain"
            rights = "Open data: anyone may download the file; reuse under its licence"
        add(dist, DCT.description, f"{name}: {note} (dataset {facts.dataset_id}, SHA-256 {facts.content_hash}).")
        rights_node = BNode()
        add(dist, DCT.rights, rights_node)
        add(rights_node, RDF.type, DCT.RightsStatement)
        add(rights_node, RDFS.label, rights + ". Every release or download is checked against the registered hash.")
        if reg.media_type:
            media = media_iri(media_of(reg.media_type))
            add(dist, DCAT.mediaType, media)
            add(media, RDF.type, DCT.MediaType)
        fmt = URIRef(reg.format) if reg.format and is_iri(reg.format) else format_iri(reg.media_type or "")
        if fmt:
            add(dist, DCT.format, fmt)
            add(fmt, RDF.type, DCT.MediaTypeOrExtent)
        if reg.byte_size is not None:
            add(dist, DCAT.byteSize, Literal(reg.byte_size, datatype=XSD.nonNegativeInteger))
        add(dist, SPDX.checksum, self._checksum(facts.content_hash))
        add(dist, DCT.license, self._licence(reg.licence))
        add(dist, DCATAP.availability, self.concept(STABLE, CONCEPT_LABELS[STABLE]))
        add(dist, ADMS.status, STATUS[facts.status])
        add(dist, DCT.issued, date_time(facts.registered_at))
        add(dist, DCT.modified, date_time(facts.modified_at))
        return dist

    def _checksum(self, hex_hash: str) -> BNode:
        node = BNode()
        self.add(node, RDF.type, SPDX.Checksum)
        self.add(node, SPDX.algorithm, URIRef(SPDX_SHA256))
        self.add(node, SPDX.checksumValue, Literal(hex_hash.lower().removeprefix("0x"), datatype=XSD.hexBinary))
        return node

    def _licence(self, text: str | None) -> Node | None:
        if not text:
            return None
        known = find_licence(text)
        if known:
            node: Node = URIRef(known.iri)
            self.add(node, RDFS.label, known.label)
            for kind in known.types:
                self.add(node, DCT.type, self.concept(URIRef(LICENCE_TYPES + kind), LICENCE_TYPE_LABELS[kind]))
        elif is_iri(text):
            node = URIRef(text)
        else:  # a v1 document's free-text licence: kept as the licence document's label
            node = BNode()
            self.add(node, RDFS.label, text)
        self.add(node, RDF.type, DCT.LicenseDocument)
        return node

    def _record(self, ds: URIRef, doc: Mapping | None, reg: Registered, facts: ChainFacts) -> URIRef:
        """The catalogue record: the registered document this description derives from, and its hash."""
        add = self.add
        record = self.iris.record(facts.dataset_id)
        add(record, RDF.type, DCAT.CatalogRecord)
        add(record, FOAF.primaryTopic, ds)
        add(record, DCT.issued, date_time(facts.registered_at))
        add(record, DCT.modified, date_time(facts.modified_at))
        status = RECORD_STATUS[facts.status]
        add(record, ADMS.status, self.concept(status, CONCEPT_LABELS[status]))
        registered = self.iris.metadata(facts.metadata_hash)
        add(record, CL.registeredDocument, registered)
        add(registered, RDF.type, FOAF.Document)
        add(registered, DCT.format, JSON_LD_FORMAT)
        add(JSON_LD_FORMAT, RDF.type, DCT.MediaTypeOrExtent)
        add(registered, SPDX.checksum, self._checksum(facts.metadata_hash))
        add(registered, CL.registeredURI, facts.metadata_uri)
        add(registered, CL.availableHere, doc is not None)
        if reg.schema_version:
            standard = CL[f"metadataSchema{reg.schema_version}"]
            add(record, DCT.conformsTo, standard)
            add(standard, RDF.type, DCT.Standard)
            add(standard, RDFS.label, f"CityLedger registered metadata, schema version {reg.schema_version}")
        return record

    # ------------------------------------------------------------------ lineage

    def lineage(self, versions: Sequence[tuple[Mapping | None, ChainFacts]]) -> URIRef:
        if not versions:
            raise CityLedgerError("a lineage has at least one version")
        ordered = sorted(versions, key=lambda v: v[1].version)
        roots = {f.root for _, f in ordered}
        if len(roots) != 1 or None in roots:
            raise CityLedgerError("the versions given are not one lineage (or its first version is unknown)")
        for doc, facts in ordered:
            self.dataset(doc, facts)
        active = [f for _, f in ordered if f.withdrawn_at is None]
        current = (active or [f for _, f in ordered])[-1]
        node = self.iris.lineage(ordered[0][1].root or 0)
        add, g = self.add, self.g
        current_iri = self.iris.dataset(current.dataset_id)
        add(node, RDF.type, DCAT.Dataset)
        add(node, DCT.identifier, str(node))
        for _, facts in ordered:
            add(node, DCAT.hasVersion, self.iris.dataset(facts.dataset_id))
            add(node, DCT.hasVersion, self.iris.dataset(facts.dataset_id))
        add(node, DCAT.hasCurrentVersion, current_iri)
        # The abstract dataset reads as its current version (shared nodes: one graph, one truth).
        for p in (DCT.title, DCT.description, DCT.publisher, DCAT.contactPoint, DCAT.keyword, DCAT.theme,
                  DCT.spatial, DCT.temporal, DCAT.distribution, DCAT.landingPage, DCT.accessRights):  # fmt: skip
            for o in g.objects(current_iri, p):
                add(node, p, o)
        return node


def describe(
    doc: Mapping | None,
    facts: ChainFacts,
    *,
    base: str,
    publisher: PublisherLookup | None = None,
    graph: Graph | None = None,
) -> Graph:
    """The DCAT-AP description of one version: `{base}/datasets/{id}` and its distribution, publisher,
    contact point and catalogue record, derived from the registered document `doc` (version 1 or 2;
    checked against facts.metadata_hash; None when it is not available here) and the chain facts.
    `publisher(address)` gives the organisation registry's name; the address is the fallback."""
    g = graph if graph is not None else new_graph()
    Describer(g, Iris(base), publisher).dataset(doc, facts)
    return g


def describe_lineage(
    versions: Sequence[tuple[Mapping | None, ChainFacts]],
    *,
    base: str,
    publisher: PublisherLookup | None = None,
) -> Graph:
    """`{base}/lineages/{first id}`: the dataset across its versions (dcat:hasVersion each,
    dcat:hasCurrentVersion the newest one not withdrawn), with every version's description."""
    g = new_graph()
    Describer(g, Iris(base), publisher).lineage(versions)
    return g
