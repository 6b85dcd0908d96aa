"""Organisation profiles (issue 20): the public document that names an accredited organisation.

A profile is a JSON-LD document with schema.org, FOAF and vCard terms: the organisation's name,
kind (agency, business, research institute, auditor), website, contact point and jurisdiction. It
lives in the content-addressed metadata store like DCAT metadata (its bytes are RFC 8785 canonical
JSON, its SHA-256 is the `profile_hash` the admin puts on chain with CityRoles.set_profile). It names
organisations only: their names are public; citizens hold no role, so they never get one, and the
contact point is an organisation's (a generic address or a web form), not a person's.

`profile_document` builds and checks one; `profile_fields` reads the fields back from a stored
document (the indexer's summary, the API), and refuses what a document registered by hand could hold.
"""

from __future__ import annotations

from typing import Any

from ..errors import CityLedgerError
from .text import Rule, clean_text

KINDS = {
    "agency": "schema:GovernmentOrganization",
    "business": "schema:Corporation",
    "research institute": "schema:ResearchOrganization",
    "auditor": "schema:Organization",
}
CONTEXT = {
    "schema": "https://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "cl": "https://cityledger.example/ns#",
    "schema:url": {"@type": "@id"},
}
PROFILE_TYPE = "cl:OrganisationProfile"
NAME, LINE = Rule(200), Rule(500)


def _text(value: Any, what: str, rule: Rule, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise CityLedgerError(f"the profile's {what} is required")
        return None
    text, problem = clean_text(value, rule)
    if problem:
        raise CityLedgerError(f"the profile's {what} is refused: {problem}")
    return text


def _website(value: Any) -> str | None:
    url = _text(value, "website", LINE)
    if url is not None and (not url.startswith(("https://", "http://")) or any(ch.isspace() for ch in url)):
        raise CityLedgerError(f"the profile's website must be an http(s) URL, got {url[:80]!r}")
    return url


def _contact(value: Any) -> str | None:
    contact = _text(value, "contact point", LINE)
    if contact is not None and not (contact.startswith(("https://", "http://", "mailto:")) or "@" in contact):
        raise CityLedgerError(
            "the profile's contact point must be an organisation's e-mail address or a contact page URL, "
            f"got {contact[:80]!r}"
        )
    return contact


def profile_document(
    *,
    name: str,
    kind: str,
    website: str | None = None,
    contact: str | None = None,
    jurisdiction: str | None = None,
) -> dict[str, Any]:
    """The JSON-LD profile of an organisation; one CityLedgerError naming the first field refused."""
    if kind not in KINDS:
        raise CityLedgerError(f"the profile's kind must be one of {', '.join(KINDS)}, got {kind!r}")
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": [PROFILE_TYPE, KINDS[kind], "foaf:Organization", "vcard:Organization"],
        "schema:name": _text(name, "name", NAME, required=True),
        "cl:kind": kind,
    }
    url = _website(website)
    if url is not None:
        doc["schema:url"] = url
    point = _contact(contact)
    if point is not None:
        email = point.removeprefix("mailto:") if "@" in point and not point.startswith("http") else None
        doc["schema:contactPoint"] = (
            {"@type": "schema:ContactPoint", "schema:email": email}
            if email
            else {"@type": "schema:ContactPoint", "schema:url": point}
        )
    place = _text(jurisdiction, "jurisdiction", LINE)
    if place is not None:
        doc["schema:areaServed"] = place
    return doc


def profile_fields(doc: Any) -> dict[str, str | None] | None:
    """(name, kind, website, contact, jurisdiction) of a stored profile document, or None when it is
    not a profile this module would write (the admin registers any hash; the store holds any JSON)."""
    if not isinstance(doc, dict) or PROFILE_TYPE not in (doc.get("@type") or []):
        return None
    point = doc.get("schema:contactPoint")
    contact = None
    if isinstance(point, dict):
        contact = point.get("schema:email") or point.get("schema:url")
    try:
        checked = profile_document(
            name=doc.get("schema:name"),  # type: ignore[arg-type]
            kind=doc.get("cl:kind"),  # type: ignore[arg-type]
            website=doc.get("schema:url"),
            contact=contact,
            jurisdiction=doc.get("schema:areaServed"),
        )
    except CityLedgerError:
        return None
    return {
        "name": checked["schema:name"],
        "kind": checked["cl:kind"],
        "website": checked.get("schema:url"),
        "contact": contact,
        "jurisdiction": checked.get("schema:areaServed"),
    }
