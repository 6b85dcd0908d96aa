"""RDF in and out: the media types the catalogue speaks, content negotiation, and parsing a
catalogue of unknown format (a harvested file or response)."""

from __future__ import annotations

import json

from rdflib import Graph

from ..errors import CityLedgerError
from .vocab import PREFIXES

JSON_LD = "application/ld+json"
TURTLE = "text/turtle"
RDF_XML = "application/rdf+xml"
N_TRIPLES = "application/n-triples"
# Served media type -> rdflib format; the first is the default (no Accept header, or */*).
FORMATS = {JSON_LD: "json-ld", TURTLE: "turtle", RDF_XML: "xml", N_TRIPLES: "nt"}
# Media types a client may ask for that name one of the above.
ALIASES = {"application/json": JSON_LD, "application/x-turtle": TURTLE, "application/xml": RDF_XML, "text/xml": RDF_XML}
EXTENSIONS = {
    ".jsonld": JSON_LD,
    ".json": JSON_LD,
    ".ttl": TURTLE,
    ".rdf": RDF_XML,
    ".xml": RDF_XML,
    ".owl": RDF_XML,
    ".nt": N_TRIPLES,
}


class NotAcceptable(CityLedgerError):
    """No media type the client accepts is one the catalogue serves (HTTP 406)."""


def negotiate(accept: str | None) -> str:
    """The media type to serve for an Accept header: the client's most preferred (q-values, then
    order) among FORMATS and ALIASES; JSON-LD when there is no header or it accepts anything."""
    if not accept or not accept.strip():
        return JSON_LD
    offers = list(FORMATS) + list(ALIASES)
    best: tuple[tuple[float, int, int], str] | None = None
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        wanted = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = wanted.split("/")[0]
        matches = [o for o in offers if wanted in (o, "*/*") or (wanted == f"{kind}/*" and o.startswith(kind + "/"))]
        if q <= 0 or not matches:
            continue
        # Higher q wins; at equal q an exact type beats a wildcard, then the header's order.
        rank = (q, 0 if "*" in wanted else 1, -position)
        if best is None or rank > best[0]:
            best = (rank, ALIASES.get(matches[0], matches[0]))
    if best is None:
        raise NotAcceptable(
            f"none of the accepted media types ({accept}) is served; the catalogue speaks {', '.join(FORMATS)}"
        )
    return best[1]


def serialize(graph: Graph, media_type: str = JSON_LD) -> bytes:
    """The graph in `media_type` (one of FORMATS or ALIASES), UTF-8. JSON-LD is compacted with the
    catalogue's prefixes, so JSON readers see dcat:..., dct:... keys."""
    media = ALIASES.get(media_type, media_type)
    if media not in FORMATS:
        raise NotAcceptable(f"cannot serialise as {media_type}; one of: {', '.join(FORMATS)}")
    if media == JSON_LD:
        context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
        data = graph.serialize(format="json-ld", context=context, auto_compact=True)
    else:
        data = graph.serialize(format=FORMATS[media])
    return data.encode("utf-8") if isinstance(data, str) else data


def guess_media_type(data: bytes, name: str | None = None, content_type: str | None = None) -> str:
    """The RDF media type of a document: its Content-Type, else its file extension, else its first bytes."""
    if content_type:
        media = ALIASES.get(content_type.split(";")[0].strip().lower(), content_type.split(";")[0].strip().lower())
        if media in FORMATS:
            return media
    if name:
        for ext, media in EXTENSIONS.items():
            if name.lower().split("?")[0].endswith(ext):
                return media
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return JSON_LD
    if head.startswith(b"<?xml") or head.startswith(b"<rdf:RDF"):
        return RDF_XML
    return TURTLE


def parse(data: bytes, name: str | None = None, content_type: str | None = None, base: str | None = None) -> Graph:
    """A graph from RDF bytes in any of FORMATS (relative IRIs resolved against `base`); one clear
    error when they are not that."""
    media = guess_media_type(data, name, content_type)
    g = Graph()
    try:
        if media == JSON_LD:
            json.loads(data)  # a clear "not JSON" before rdflib's less clear one
        g.parse(data=data, format=FORMATS[media], publicID=base)
    except Exception as exc:  # rdflib raises many kinds (SAX, BadSyntax, JSON, ValueError)
        where = name or "the document"
        raise CityLedgerError(f"{where} is not readable as {media}: {str(exc).splitlines()[0][:200]}") from None
    return g
