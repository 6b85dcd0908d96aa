"""A consent's history and its receipt, both built from the consent events alone.

History: every change to one consent key, oldest first: granted, renewed (a grant while the
previous one was still in force), revoked, expired (no event on chain: the grant in force reached
its expiry, as the contract's `block.timestamp < expiry` says) and signatures
cancelled. Each change says who submitted it: the citizen, or the relayer carrying the citizen's
signature.

Receipt: the consent record of ISO/IEC TS 27560 (header, processing, parties, events) in JSON-LD
with W3C DPV terms (purpose, status dpv:ConsentGiven / ConsentWithdrawn / ConsentExpired, legal
basis dpv:Consent) and the Kantara Consent Receipt fields 27560 covers; docs/RECEIPTS.md.

Check: `check_receipt(claimed, truth)` compares a receipt with one built from the chain (the CLI,
cli/receipt_cmds.py) or from the index (tests; the page does the same in frontend/src/receipt.ts):
every on-chain fact must match (INVALID names the first field that does not), and a receipt whose
consent has changed since is OUTDATED. One builder makes both sides, so they cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import codes
from ..digits import is_decimal
from ..indexer import models as m
from . import validate as v
from .errors import NotFound
from .queries import SCOPE_NAMES, dataset_row, page_of, publisher_name, resolve_block

CE = m.ConsentEvent.__table__
SC = m.SignatureCancellation.__table__
CP = m.Checkpoint.__table__

Out = dict[str, Any]
Event = Mapping[str, Any]  # a consent event: a consent_events row, or the same fields decoded from a log
NameOf = Callable[[str], str | None]  # an organisation's public name by address (None: unknown)

SCHEMA_VERSION = "cityledger-consent-receipt-1"
KANTARA_VERSION = "KI-CR-v1.1.0"
CL = "https://cityledger.example/ns#"
# The record's status (27560 "consent status") and each event's, as DPV terms.
GIVEN, RENEWED, WITHDRAWN, EXPIRED = (
    "dpv:ConsentGiven",
    "dpv:RenewedConsentGiven",
    "dpv:ConsentWithdrawn",
    "dpv:ConsentExpired",
)
STATE_OF_STATUS = {GIVEN: "active", WITHDRAWN: "revoked", EXPIRED: "expired"}
CHANGE_STATUS = {"granted": GIVEN, "renewed": RENEWED, "revoked": WITHDRAWN, "expired": EXPIRED}
# The contract's actions as the indexer names them, and the change each starts from.
CHANGE_OF_ACTION = {"grant": "granted", "revoke": "revoked", "cancel": "signatures_cancelled"}
# A unix time past year 9999 (uint64 "forever" expiries) has no calendar date.
MAX_DATE_TS = 253_402_300_799

CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "dpv": "https://w3id.org/dpv#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "cl": CL,
    # 27560's sections group the record's fields; in RDF they are properties of the record itself.
    "header": "@nest",
    "processing": "@nest",
    "parties": "@nest",
    "conformsTo": {"@id": "dct:conformsTo", "@type": "@id"},
    "schemaVersion": "cl:schemaVersion",
    "recordId": "dct:identifier",
    "receiptId": "cl:receiptId",
    "issued": {"@id": "dct:issued", "@type": "xsd:dateTime"},
    "asOfBlock": {"@id": "cl:asOfBlock", "@type": "xsd:integer"},
    "language": "dct:language",
    "jurisdiction": "dpv:hasJurisdiction",
    "applicableLaw": {"@id": "dpv:hasApplicableLaw", "@type": "@id"},
    "dataSubject": "dpv:hasDataSubject",
    "address": "cl:address",
    "name": "rdfs:label",
    "label": "rdfs:label",
    "purpose": "dpv:hasPurpose",
    "purposeHash": "cl:purposeHash",
    "legalBasis": {"@id": "dpv:hasLegalBasis", "@type": "@id"},
    "scope": "cl:scope",
    "kind": "cl:kind",
    "scopeId": "cl:scopeId",
    "datasetId": {"@id": "cl:datasetId", "@type": "xsd:integer"},
    "title": "dct:title",
    "publisher": "dct:publisher",
    "domain": "cl:domain",
    "recipient": "dpv:hasRecipient",
    "anyAccreditedResearcher": {"@id": "cl:anyAccreditedResearcher", "@type": "xsd:boolean"},
    "validUntil": {"@id": "dct:valid", "@type": "xsd:dateTime"},
    "expiry": {"@id": "cl:expiry", "@type": "xsd:integer"},
    "controllers": "dpv:hasDataController",
    "recipients": "dpv:hasRecipient",
    "events": {"@id": "cl:events", "@container": "@list"},
    "change": "cl:change",
    "status": {"@id": "dpv:hasConsentStatus", "@type": "@id"},
    "time": {"@id": "dpv:isIndicatedAtTime", "@type": "xsd:dateTime"},
    "timestamp": {"@id": "cl:timestamp", "@type": "xsd:integer"},
    "indicatedBy": "dpv:isIndicatedBy",
    "method": "dpv:hasIndicationMethod",
    "submittedBy": "cl:submittedBy",
    "byRelayer": {"@id": "cl:byRelayer", "@type": "xsd:boolean"},
    "nonce": {"@id": "cl:nonce", "@type": "xsd:integer"},
    "chain": "cl:chain",
    "chainId": {"@id": "cl:chainId", "@type": "xsd:integer"},
    "network": "cl:network",
    "contract": "cl:contract",
    "consentKey": "cl:consentKey",
    "transactionHash": "cl:transactionHash",
    "blockNumber": {"@id": "cl:blockNumber", "@type": "xsd:integer"},
    "logIndex": {"@id": "cl:logIndex", "@type": "xsd:integer"},
    "summary": "dct:description",
    "kantara": {"@id": "cl:kantaraConsentReceipt", "@type": "@json"},
}


# ---------------------------------------------------------------- history


def iso(ts: int | None) -> str | None:
    """A unix time as ISO 8601 UTC ('2027-12-01T23:59:59Z'); None when it has no calendar date."""
    if ts is None or ts < 0 or ts > MAX_DATE_TS:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _change(kind: str, e: Event) -> Out:
    return {
        "change": kind,
        "status": CHANGE_STATUS.get(kind),
        "at": int(e["timestamp"]),
        "block_number": int(e["block_number"]),
        "log_index": int(e["log_index"]),
        "tx_hash": e["tx_hash"],
        "submitted_by": e["submitted_by"],
        "by_relayer": e["submitted_by"] != e["citizen"],
        "expiry": int(e["expiry"]) if e["action"] == "grant" else None,
        "nonce": int(e["nonce"]),
    }


def _expired(expiry: int) -> Out:
    # No transaction: the grant in force reached its expiry.
    return {
        "change": "expired",
        "status": EXPIRED,
        "at": expiry,
        "block_number": None,
        "log_index": None,
        "tx_hash": None,
        "submitted_by": None,
        "by_relayer": None,
        "expiry": None,
        "nonce": None,
    }


def consent_changes(events: Sequence[Event], now: int) -> list[Out]:
    """Every change of one consent, oldest first, from its events (in chain order) and the chain's
    time `now`. A grant is in force at time t iff t < its expiry (the contract's rule)."""
    out: list[Out] = []
    in_force_until: int | None = None  # expiry of the grant in force
    for e in events:
        t = int(e["timestamp"])
        if in_force_until is not None and in_force_until <= t:
            out.append(_expired(in_force_until))
            in_force_until = None
        action = e["action"]
        if action == "grant":
            out.append(_change("renewed" if in_force_until is not None else "granted", e))
            in_force_until = int(e["expiry"])
        elif action == "revoke":
            out.append(_change("revoked", e))
            in_force_until = None
        else:  # signatures cancelled: the nonce moves on, the consent does not change
            out.append(_change(CHANGE_OF_ACTION.get(action, str(action)), e))
    if in_force_until is not None and in_force_until <= now:
        out.append(_expired(in_force_until))
    return out


def record_status(changes: Sequence[Out]) -> str | None:
    """The record's status after these changes (None before any grant)."""
    for c in reversed(changes):
        if c["status"] is not None:
            return WITHDRAWN if c["status"] == WITHDRAWN else EXPIRED if c["status"] == EXPIRED else GIVEN
    return None


def _events_of(conn: Connection, key: str) -> list[Any]:
    """The key's grants and revokes, and its signature cancellations, in chain order."""
    rows: list[Any] = list(conn.execute(select(CE).where(CE.c.key == key)).mappings())
    if not rows:
        raise NotFound(f"no consent with key {key} in the index")
    # Only the citizen can cancel (the contract keys on msg.sender): the citizen submitted it.
    cancels = select(SC, SC.c.citizen.label("submitted_by")).where(SC.c.key == key)
    rows += [{**r, "action": "cancel", "expiry": 0} for r in conn.execute(cancels).mappings()]
    return sorted(rows, key=lambda r: (r["block_number"], r["log_index"]))


def _last_grant(events: Sequence[Event]) -> Event:
    for e in reversed(events):
        if e["action"] == "grant":
            return e
    raise NotFound(f"consent {events[0]['key']} has never been granted")


def consent_history(conn: Connection, key: str, *, page: int = 1, page_size: int = 100) -> Out:
    """One consent and a page of its changes, oldest first, as of the last indexed block."""
    events = _events_of(conn, key)
    block, now = resolve_block(conn, None)
    changes = consent_changes(events, now)
    grant = _last_grant(events)
    first = next(e for e in events if e["action"] == "grant")
    status = record_status(changes) or GIVEN  # a grant is there (_last_grant), so a status is too
    return {
        **_identity(grant),
        "state": STATE_OF_STATUS[status],
        "status": status,
        "valid_until": int(grant["expiry"]),
        "first_granted_at": int(first["timestamp"]),
        "as_of_block": block,
        "as_of_time": now,
        **page_of(changes, page, page_size),
    }


def _identity(e: Event) -> Out:
    return {
        "key": e["key"],
        "citizen": e["citizen"],
        "purpose": e["purpose"],
        "purpose_name": v.purpose_name(e["purpose"]),
        "scope_kind": SCOPE_NAMES.get(int(e["scope_kind"]), str(e["scope_kind"])),
        "scope_kind_code": int(e["scope_kind"]),
        "scope_id": e["scope_id"],
        "grantee": e["grantee"],
        "any_researcher": e["grantee"] == codes.ANY_RESEARCHER,
    }


# ---------------------------------------------------------------- receipt


@dataclass(frozen=True)
class ChainMeta:
    """Where the consent lives: the chain and the ConsentRegistry contract (lowercase address)."""

    chain_id: int
    contract: str
    network: str | None = None


@dataclass(frozen=True)
class ScopeInfo:
    """What the index knows about a dataset scope (descriptive: not checked against the chain)."""

    title: str | None = None
    publisher: str | None = None
    domain: int | None = None
    personal_data: bool | None = None


def _node(address: str) -> str:
    return f"urn:cityledger:address:{address}"


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def _party(address: str, name_of: NameOf, role: str) -> Out:
    return {"@id": _node(address), "@type": role, "address": address, "name": name_of(address)}


def _purpose(purpose_hash: str) -> Out:
    name = v.purpose_name(purpose_hash)
    return {
        "@id": f"dpv:{name}" if name else f"urn:cityledger:purpose:{purpose_hash}",
        "label": codes.PURPOSES.get(name or "", None),
        "purposeHash": purpose_hash,
    }


def _scope(kind: int, scope_id: str, info: ScopeInfo | None, name_of: NameOf) -> Out:
    out: Out = {"kind": SCOPE_NAMES.get(kind, str(kind)), "scopeId": scope_id}
    number = int(scope_id, 16)
    if kind == codes.SCOPE_DATASET:
        out["datasetId"] = number
        if info is not None:
            out["title"] = info.title
            out["publisher"] = _party(info.publisher, name_of, "dpv:DataController") if info.publisher else None
            out["domain"] = codes.DOMAIN_NAMES.get(info.domain) if info.domain is not None else None
    elif kind == codes.SCOPE_PUBLISHER:
        out["publisher"] = _party("0x" + scope_id[-40:], name_of, "dpv:DataController")
    elif kind == codes.SCOPE_DOMAIN:
        out["domain"] = codes.DOMAIN_NAMES.get(number, str(number))
    return out


def scope_words(scope: Out) -> str:
    """The scope in words: 'Clinic visits' (dataset #4), every dataset of X, every health dataset."""
    kind = scope.get("kind")
    if kind == "dataset":
        title = scope.get("title")
        return f"'{title}' (dataset #{scope['datasetId']})" if title else f"dataset #{scope['datasetId']}"
    if kind == "publisher":
        pub = scope["publisher"]
        return f"every dataset of {pub['name'] or 'the organisation at ' + _short(pub['address'])}"
    if kind == "domain":
        return f"every {str(scope['domain']).replace('_', ' ')} dataset"
    return f"scope {scope.get('scopeId')}"


def _recipient_words(recipient: Out, first: bool = True) -> str:
    """Who may use the data, to start a sentence (`first`) or inside one."""
    if recipient["anyAccreditedResearcher"]:
        return "Any accredited researcher" if first else "any accredited researcher"
    return recipient["name"] or f"{'The' if first else 'the'} organisation at {_short(recipient['address'])}"


def _date_words(ts: int) -> str:
    when = iso(ts)
    return f"{when[:10]} (UTC)" if when else "no end date"


def summary(status: str | None, recipient: Out, scope: Out, purpose: Out, valid_until: int, changed_at: int) -> str:
    """One plain sentence of what the consent allows now (English, dates in UTC)."""
    what = scope_words(scope)
    why = (purpose["label"] or "the purpose " + purpose["purposeHash"]).lower()
    no_longer = f"{_recipient_words(recipient, first=False)} may no longer use your data in {what} for {why}."
    if status == WITHDRAWN:
        return f"You withdrew this consent on {_date_words(changed_at)}: {no_longer}"
    if status == EXPIRED:
        return f"This consent ended on {_date_words(valid_until)}: {no_longer}"
    until = f"until {_date_words(valid_until)}" if iso(valid_until) else "with no end date"
    who = _recipient_words(recipient)
    return f"{who} may use your data in {what} for {why} {until}. You can revoke at any time, free of charge."


def _method(c: Out) -> str | None:
    if c["submitted_by"] is None:
        return None
    if c["by_relayer"]:
        return "EIP-712 signature in the citizen's wallet, submitted by the city's relayer"
    return "transaction from the citizen's wallet"


def _receipt_event(c: Out, citizen: str) -> Out:
    return {
        "change": c["change"],
        "status": c["status"],
        "time": iso(c["at"]),
        "timestamp": c["at"],
        "blockNumber": c["block_number"],
        "transactionHash": c["tx_hash"],
        "logIndex": c["log_index"],
        # The citizen indicates every change they make, also when the relayer submits it.
        "indicatedBy": _node(citizen) if c["submitted_by"] is not None else None,
        "submittedBy": c["submitted_by"],
        "byRelayer": c["by_relayer"],
        "method": _method(c),
        "expiry": c["expiry"],
        "nonce": c["nonce"],
    }


def build_receipt(
    events: Sequence[Event],
    chain: ChainMeta,
    as_of_block: int,
    as_of_time: int,
    *,
    scope_info: ScopeInfo | None = None,
    name_of: NameOf | None = None,
) -> Out:
    """The receipt of one consent from its events (chain order) as of a block and its time."""
    names: NameOf = name_of or (lambda _address: None)
    grant = _last_grant(events)
    citizen, key = grant["citizen"], grant["key"]
    changes = consent_changes(events, as_of_time)
    status = record_status(changes)
    last_nonce = max(int(e["nonce"]) for e in events)
    record = f"urn:cityledger:consent:{chain.chain_id}:{chain.contract}:{key}"
    purpose = _purpose(grant["purpose"])
    scope = _scope(int(grant["scope_kind"]), grant["scope_id"], scope_info, names)
    any_researcher = grant["grantee"] == codes.ANY_RESEARCHER
    recipient = {
        **_party(grant["grantee"], names, "dpv:Recipient"),
        "anyAccreditedResearcher": any_researcher,
    }
    if any_researcher:
        recipient["name"] = "Any accredited researcher"
    publisher = scope.get("publisher")
    controllers = [publisher] if publisher else []
    expiry = int(grant["expiry"])
    last_change = next(c for c in reversed(changes) if c["status"] is not None)
    domain = scope.get("domain")
    sensitive = domain == "health"  # GDPR Art. 9: data concerning health is a special category
    receipt_id = f"{record}:{last_nonce}:{(status or '').removeprefix('dpv:')}"
    return {
        "@context": CONTEXT,
        "@id": record,
        "@type": "dpv:ConsentRecord",
        "conformsTo": ["https://w3id.org/dpv/schema/dpv-27560#receipt-record", CL + SCHEMA_VERSION],
        "header": {
            "schemaVersion": SCHEMA_VERSION,
            "recordId": key,
            "receiptId": receipt_id,
            "issued": iso(as_of_time),
            "asOfBlock": as_of_block,
            "language": "en",
            "jurisdiction": "EU",
            "applicableLaw": "eu-gdpr:GDPR",
        },
        "dataSubject": {"@id": _node(citizen), "@type": "dpv:DataSubject", "address": citizen},
        "processing": {
            "purpose": purpose,
            "legalBasis": ["dpv:Consent", "eu-gdpr:A6-1-a"],
            "scope": scope,
            "recipient": recipient,
            "expiry": expiry,
            "validUntil": iso(expiry),
        },
        "parties": {"controllers": controllers, "recipients": [recipient]},
        "events": [_receipt_event(c, citizen) for c in changes],
        "status": status,
        "chain": {
            "chainId": chain.chain_id,
            "network": chain.network,
            "contract": chain.contract,
            "consentKey": key,
            "transactionHash": grant["tx_hash"],
            "blockNumber": int(grant["block_number"]),
            "logIndex": int(grant["log_index"]),
        },
        "summary": summary(status, recipient, scope, purpose, expiry, last_change["at"]),
        "kantara": {
            "version": KANTARA_VERSION,
            "jurisdiction": "EU",
            "consentTimestamp": int(grant["timestamp"]),
            "collectionMethod": _method(_change("granted", grant)),
            "consentReceiptID": receipt_id,
            "language": "en",
            "piiPrincipalId": citizen,
            "piiControllers": [
                {"piiController": p["name"] or p["address"], "address": p["address"], "onBehalf": False}
                for p in controllers
            ],
            "policyUrl": None,
            "services": [
                {
                    "service": f"Use of your data in {scope_words(scope)}",
                    "purposes": [
                        {
                            "purpose": purpose["label"] or purpose["purposeHash"],
                            "purposeCategory": [purpose["@id"]],
                            "consentType": "EXPLICIT",
                            "piiCategory": [f"Personal data about you in {scope_words(scope)}"],
                            "primaryPurpose": True,
                            "termination": f"On {iso(expiry) or 'no date'}, or when you revoke it",
                            "thirdPartyDisclosure": True,
                            "thirdPartyName": _recipient_words(recipient),
                        }
                    ],
                }
            ],
            "sensitive": sensitive,
            "spiCat": ["health"] if sensitive else [],
        },
    }


def consent_receipt(conn: Connection, key: str, *, network: str | None = None, name_of: NameOf | None = None) -> Out:
    """The receipt of one consent from the index, as of the last indexed block; organisations named
    from their verified profiles unless `name_of` says otherwise."""
    events = _events_of(conn, key)
    if name_of is None:
        name_of = functools.partial(publisher_name, conn)
    block, now = resolve_block(conn, None)
    cp = conn.execute(select(CP.c.chain_id, CP.c.consents_address).where(CP.c.id == 1)).first()
    if cp is None:  # events without a checkpoint cannot happen: the indexer writes both at once
        raise NotFound("the index has no checkpoint yet")
    grant = _last_grant(events)
    info = None
    if int(grant["scope_kind"]) == codes.SCOPE_DATASET:
        try:
            row = dataset_row(conn, int(grant["scope_id"], 16))
        except NotFound:  # a consent may name a dataset id the index has not seen (the contract allows it)
            row = None
        if row is not None:
            info = ScopeInfo(row["title"], row["publisher"], row["domain"], bool(row["personal_data"]))
    chain = ChainMeta(int(cp.chain_id), cp.consents_address, network)
    return build_receipt(events, chain, block, now, scope_info=info, name_of=name_of)


# ---------------------------------------------------------------- check


# The facts a receipt states about the chain (or derives from it alone), by path. Identity facts
# must equal the truth's; each event's facts must equal the truth's event at the same place; the
# anchor (the latest grant) and the status must agree with the receipt's own events.
IDENTITY_FACTS = (
    "@id",
    "header.recordId",
    "chain.chainId",
    "chain.contract",
    "chain.consentKey",
    "dataSubject.address",
    "processing.purpose.purposeHash",
    "processing.purpose.@id",
    "processing.scope.kind",
    "processing.scope.scopeId",
    "processing.recipient.address",
    "processing.recipient.anyAccreditedResearcher",
)
EVENT_FACTS = (
    "change",
    "status",
    "timestamp",
    "time",
    "blockNumber",
    "transactionHash",
    "logIndex",
    "submittedBy",
    "byRelayer",
    "expiry",
    "nonce",
)
# Anchor fact -> the field of the receipt's latest grant event it must equal.
ANCHOR_FACTS = {
    "chain.transactionHash": "transactionHash",
    "chain.blockNumber": "blockNumber",
    "chain.logIndex": "logIndex",
    "processing.expiry": "expiry",
}

MISSING = object()  # what fact() gives for a path the document lacks


def fact(doc: Any, path: str) -> Any:
    """The value at a dotted path ('events' items by index: 'events.2.nonce'); MISSING if absent."""
    node = doc
    for part in path.split("."):
        if isinstance(node, list) and is_decimal(part) and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def _same(a: Any, b: Any) -> bool:
    # Addresses and hashes compare in any case; a bool is not the number 1.
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Verdict:
    """VALID, OUTDATED (genuine, but the consent changed since) or INVALID (`field` contradicts)."""

    verdict: str
    field: str | None
    reason: str

    def to_json(self) -> Out:
        return {"verdict": self.verdict, "field": self.field, "reason": self.reason}


def _invalid(path: str, claimed: Any, truth: Any) -> Verdict:
    said = "nothing" if claimed is MISSING else repr(claimed)
    real = "nothing" if truth is MISSING else repr(truth)
    return Verdict("INVALID", path, f"{path} says {said}; the chain says {real}")


def check_receipt(claimed: Any, truth: Out) -> Verdict:
    """Compare a receipt with the truth (a receipt built from the chain or the index now)."""
    if not isinstance(claimed, dict):
        return Verdict("INVALID", "", "a receipt is a JSON object")
    for path in IDENTITY_FACTS:
        a, b = fact(claimed, path), fact(truth, path)
        if a is MISSING or not _same(a, b):
            return _invalid(path, a, b)
    mine, real = claimed.get("events"), truth["events"]
    if not isinstance(mine, list) or not mine:
        return Verdict("INVALID", "events", "events must list the consent's changes")
    for i, event in enumerate(mine):
        if i >= len(real):
            return Verdict("INVALID", f"events.{i}", f"events.{i}: the chain has no such change")
        for name in EVENT_FACTS:
            a, b = fact(event, name), real[i].get(name, MISSING)
            if a is MISSING or not _same(a, b):
                return _invalid(f"events.{i}.{name}", a, b)
    grants = [e for e in mine if e.get("change") in ("granted", "renewed")]
    if not grants:
        return Verdict("INVALID", "events", "events: a consent starts with a grant")
    for path, name in ANCHOR_FACTS.items():
        a, b = fact(claimed, path), grants[-1].get(name)
        if a is MISSING or not _same(a, b):
            return Verdict("INVALID", path, f"{path} says {a!r}; the receipt's latest grant says {b!r}")
    until = iso(grants[-1].get("expiry"))
    if not _same(fact(claimed, "processing.validUntil"), until):
        return Verdict("INVALID", "processing.validUntil", f"processing.validUntil is not the expiry {until!r}")
    status = record_status([{"status": e.get("status")} for e in mine])
    if not _same(claimed.get("status"), status):
        return Verdict("INVALID", "status", f"status says {claimed.get('status')!r}; its own events say {status!r}")
    if len(real) > len(mine):
        newer = real[len(mine)]
        return Verdict(
            "OUTDATED",
            None,
            f"the consent changed since this receipt was issued ({newer['change']} at {newer['time']}): "
            f"it is now {truth['status']}; get an updated receipt",
        )
    return Verdict("VALID", None, f"every on-chain fact matches; the consent is {status} now")
