"""The read queries over the indexer's store, shared by the HTTP API and the CLI.

Every function takes a SQLAlchemy Connection and already-validated arguments (see validate.py)
and returns plain dicts shaped as the API's response models (api/schemas.py). The store is read-only here.

"As of block B": the consent history (`consent_events`, append-only) is replayed up to B; a consent
is active at B iff its last event at or before B is a grant whose expiry is after B's timestamp,
as the contract's `block.timestamp < expiry`. Without a block, the current-state tables answer as
of the last indexed block.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any, Protocol

from sqlalchemy import ColumnElement, FromClause, RowMapping, Select, Subquery, and_, bindparam, func, or_, select
from sqlalchemy.engine import Connection

from .. import codes
from ..config import Network
from ..digits import is_decimal
from ..indexer import models as m
from ..indexer.metadata import summary
from ..indexer.quality import SCORE_OF
from ..indexer.sync import CONTRACT_COLUMNS
from . import validate as v
from .errors import BadInput, NotFound
from .quality import SCORE_COLUMNS, quality_out, scores_of, with_quality

D = m.Dataset.__table__
DM = m.DatasetMetadata.__table__
A = m.Attestation.__table__
C = m.Consent.__table__
CE = m.ConsentEvent.__table__
AC = m.Access.__table__
R = m.Release.__table__
RR = m.RightsRequest.__table__
RE = m.RoleEvent.__table__
ROLES = m.Role.__table__
PE = m.ProfileEvent.__table__
PD = m.ProfileDocument.__table__
OE = m.OperatorEvent.__table__
BE = m.BudgetEvent.__table__
Q = m.PrivateQuery.__table__
AU = m.ReleaseAudit.__table__
DO = m.DeletionObligation.__table__
CP = m.Checkpoint.__table__
B = m.Block.__table__
DL = m.Base.metadata.tables["dataroom_deliveries"]  # the data room's (dataroom/models.py)

# Hot statements built once: SQLAlchemy then reuses their cache keys and compiled forms, which is
# most of the cost of a point query (the SQLite lookup itself takes tens of microseconds).
_CHECKPOINT = select(CP).where(CP.c.id == 1)
_LAST_BLOCK = select(CP.c.block_number).where(CP.c.id == 1)
_LAST_BLOCK_STATE = select(CP.c.block_number, CP.c.consents_deferred_from).where(CP.c.id == 1)
_BLOCK_TS = select(B.c.timestamp).where(B.c.number == bindparam("n"))
# A dataset row with the DCAT summary the indexer stored for its metadata hash (NULLs when none).
_WITH_SUMMARY = D.outerjoin(DM, DM.c.metadata_hash == D.c.metadata_hash)
# ... and its stored quality score (query/quality.py), for one version.
_DATASET_COLUMNS = select(D, DM.c.title, DM.c.description, *SCORE_COLUMNS).select_from(
    _WITH_SUMMARY.outerjoin(m.DatasetQuality.__table__, SCORE_OF)
)
_DATASET_BY_ID = _DATASET_COLUMNS.where(D.c.id == bindparam("ref"))
# Several publishers may register the same bytes: a hash names its first registration here
# (verify() lists them all).
_DATASET_BY_HASH = _DATASET_COLUMNS.where(D.c.content_hash == bindparam("ref")).order_by(D.c.id).limit(1)
_CONSENTS_OF = select(C).where(C.c.citizen == bindparam("citizen")).order_by(C.c.granted_block.desc())
_CONSENT_BY_KEY = select(C.c.expiry, C.c.revoked_block).where(C.c.key == bindparam("key"))
_LIVES_OF = (
    select(CE.c.key, CE.c.action, CE.c.block_number, CE.c.timestamp, CE.c.tx_hash, CE.c.expiry, CE.c.submitted_by)
    .where(CE.c.citizen == bindparam("citizen"), CE.c.block_number <= bindparam("block"))
    .order_by(CE.c.block_number, CE.c.log_index)
)
# An organisation's profile is its latest ProfileUpdated; its name, that document's (when verified).
_PROFILE_OF = (
    select(PE)
    .where(PE.c.account == bindparam("account"))
    .order_by(PE.c.block_number.desc(), PE.c.log_index.desc())
    .limit(1)
)
_PROFILE_DOCUMENT = select(PD).where(PD.c.profile_hash == bindparam("profile_hash"))

Row = RowMapping  # a store row
Out = dict[str, Any]  # an answer, shaped as the API's response models
RpcTimestamp = Callable[[int], int] | None  # a block's timestamp from the node, when the index lacks it
MetadataLoader = Callable[[Row], dict[str, Any] | None]  # a dataset row -> its verified DCAT document


class Snapshots(Protocol):
    """The consent snapshots on disk (release.snapshots.SnapshotIndex)."""

    def roots_of(self, address: str) -> set[str]: ...

    def proof(self, consent_root: str, address: str) -> tuple[str, list[str]]: ...


SCOPE_NAMES = {v_: k for k, v_ in codes.SCOPES.items()}
ROLE_NAMES = {bit: name for name, bit in codes.ROLES.items()}
ZERO = codes.ANY_RESEARCHER


def page_of(items: list[Out], page: int, page_size: int) -> Out:
    """One page of a list already built in Python (lineages, snapshot proofs)."""
    start = (page - 1) * page_size
    return {"items": items[start : start + page_size], "page": page, "page_size": page_size, "total": len(items)}


def _paged(conn: Connection, query: Select[Any], order: list[Any], page: int, page_size: int) -> Out:
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = conn.execute(query.order_by(*order).limit(page_size).offset((page - 1) * page_size)).mappings().all()
    return {"rows": rows, "page": page, "page_size": page_size, "total": total}


# ---------------------------------------------------------------- sync state and time


def checkpoint(conn: Connection) -> Out | None:
    row = conn.execute(_CHECKPOINT).mappings().first()
    return dict(row) if row else None


def index_status(conn: Connection, head: int | None, network: Network, confirmations: int) -> Out:
    """Where the index is against the node: `head` from the RPC (None if it does not answer; then
    the head the indexer saw last)."""
    cp = checkpoint(conn)
    reachable = head is not None
    if head is None and cp is not None:
        head = cp["head_block"]
    last = cp["block_number"] if cp else None
    finalized = cp["finalized_block"] if cp else None
    if cp and reachable:
        finalized = min(last, max(head - cp["confirmations"], 0))
    return {
        "chain_id": cp["chain_id"] if cp else network.chain_id,
        "network": network.name,
        "rpc_reachable": reachable,
        "head_block": head,
        "last_indexed_block": last,
        "last_indexed_hash": cp["block_hash"] if cp else None,
        "finalized_block": finalized,
        "confirmations": cp["confirmations"] if cp else confirmations,
        "lag": (head - last) if head is not None and last is not None else None,
        # A store made before a contract existed has no address for it (it indexes another deployment).
        "contracts": {name: cp[col] for name, col in CONTRACT_COLUMNS.items() if cp[col]} if cp else {},
        "consents_deferred_from": cp["consents_deferred_from"] if cp else None,
    }


def block_timestamp(conn: Connection, block: int, rpc_timestamp: RpcTimestamp = None) -> int:
    """The timestamp of an indexed block: the blocks table (recent window), else the node
    (`rpc_timestamp(block)`), else the latest indexed event at or before it (a lower bound)."""
    ts = conn.execute(_BLOCK_TS, {"n": block}).scalar()
    if ts is not None:
        return int(ts)
    if rpc_timestamp is not None:
        try:
            return int(rpc_timestamp(block))
        except Exception:  # the node is down or pruned: fall back to the index
            pass
    best = None
    for table, col in ((CE, CE.c.timestamp), (RE, RE.c.timestamp), (R, R.c.timestamp), (D, D.c.registered_at)):
        bcol = table.c.block_number if "block_number" in table.c else table.c.registered_block
        t = conn.execute(select(func.max(col)).where(bcol <= block)).scalar()
        if t is not None and (best is None or t > best):
            best = t
    if best is None:
        raise BadInput(f"block {block}: its timestamp is unknown (not in the index and the node does not answer)")
    return int(best)


def resolve_block(conn: Connection, block: int | None, rpc_timestamp: RpcTimestamp = None) -> tuple[int, int]:
    """(block, timestamp) for an "as of" query: the last indexed block by default; a block past
    the index is refused (the answer would be a guess)."""
    block, ts, _ = _resolve(conn, block, rpc_timestamp)
    return block, ts


def _resolve(conn: Connection, block: int | None, rpc_timestamp: RpcTimestamp = None) -> tuple[int, int, bool]:
    """(block, timestamp, whether the current-state tables answer: the last indexed block, and a
    `consents` that a deep catch-up is not deferring; else the event tables answer as of the block)."""
    row = conn.execute(_LAST_BLOCK_STATE).first()
    last, deferred = (None, None) if row is None else (row[0], row[1])
    if last is None:
        if block is None:
            return 0, int(time.time()), True
        raise BadInput("the index is empty: no block can be queried yet")
    if block is None:
        block = last
    elif block > last:
        raise BadInput(
            f"as_of_block {block} is past the last indexed block {last}; retry when the indexer has caught up"
        )
    return block, block_timestamp(conn, block, rpc_timestamp), block == last and deferred is None


# ---------------------------------------------------------------- organisations


def profile_event(conn: Connection, address: str) -> Row | None:
    """The latest ProfileUpdated of an account (its current profile hash and URI), if any."""
    return conn.execute(_PROFILE_OF, {"account": address}).mappings().first()


def profile_document(conn: Connection, profile_hash: str) -> Row | None:
    """The fields the indexer read from a verified profile document with this hash, if any."""
    return conn.execute(_PROFILE_DOCUMENT, {"profile_hash": profile_hash}).mappings().first()


def _roles_of(conn: Connection, address: str) -> tuple[list[str], list[str], str | None]:
    """(roles held now, roles ever held, publisher kind) of an account, from the role tables."""
    held = conn.execute(select(ROLES.c.role, ROLES.c.kind).where(ROLES.c.account == address)).all()
    ever = set(
        conn.execute(select(RE.c.role).where(RE.c.account == address, RE.c.action == "grant").distinct()).scalars()
    )
    now = {role for role, _ in held}
    kind = next((k for role, k in held if role == codes.ROLE_PUBLISHER and k), None)
    names = [ROLE_NAMES[r] for r in sorted(ROLE_NAMES) if r in now]
    ever_names = [ROLE_NAMES[r] for r in sorted(ROLE_NAMES) if r in ever]
    kinds = {v_: k_ for k_, v_ in codes.PUBLISHER_KINDS.items()}
    return names, ever_names, kinds.get(kind) if kind else None


def account_roles(conn: Connection, address: str) -> tuple[list[str], str | None]:
    """(roles held now, verified organisation name) of a signed-in account, from the index."""
    roles, _, _ = _roles_of(conn, address)
    event = profile_event(conn, address)
    doc = profile_document(conn, event["profile_hash"]) if event is not None else None
    return roles, doc["name"] if doc else None


def organisation(conn: Connection, address: str) -> Out:
    """An organisation by address: its roles (now and ever held) and its current profile, with the
    profile document's fields when the indexer verified that document (`verified`); NotFound for an
    address that never held a role and has no profile (a citizen, or nobody)."""
    roles, ever, kind = _roles_of(conn, address)
    event = profile_event(conn, address)
    if not ever and event is None:
        raise NotFound(f"{address} is not an organisation: it has never held a role and has no profile")
    doc = profile_document(conn, event["profile_hash"]) if event is not None else None
    return {
        "address": address,
        "name": doc["name"] if doc else None,
        "kind": doc["kind"] if doc else None,
        "website": doc["website"] if doc else None,
        "contact": doc["contact"] if doc else None,
        "jurisdiction": doc["jurisdiction"] if doc else None,
        "roles": roles,
        "ever_roles": ever,
        "publisher_kind": kind,
        "profile_hash": event["profile_hash"] if event else None,
        "profile_uri": event["profile_uri"] if event else None,
        "profile_block": event["block_number"] if event else None,
        "verified": doc is not None,
    }


MAX_ORGANISATIONS = 100  # addresses resolved in one call


def organisations(conn: Connection, addresses: list[str]) -> list[Out]:
    """The organisations among `addresses` (at most MAX_ORGANISATIONS), in the order given; an address
    that is no organisation is left out."""
    if len(addresses) > MAX_ORGANISATIONS:
        raise BadInput(f"at most {MAX_ORGANISATIONS} addresses per call, got {len(addresses)}")
    out = []
    for address in dict.fromkeys(addresses):
        try:
            out.append(organisation(conn, address))
        except NotFound:
            continue
    return out


def list_organisations(conn: Connection, page: int = 1, page_size: int = 20) -> Out:
    """Every organisation (an account that held a role or has a profile), by address."""
    accounts = select(RE.c.account.label("account")).union(select(PE.c.account)).subquery()
    query = select(accounts.c.account)
    out = _paged(conn, query, [accounts.c.account], page, page_size)
    out["items"] = [organisation(conn, r["account"]) for r in out.pop("rows")]
    return out


def publisher_name(conn: Connection, address: str) -> str | None:
    """The name of an organisation (a publisher, auditor, research institute...): from its current
    profile document, when the indexer has verified that document against the hash on chain; None
    otherwise (no profile, or its document is not in this machine's store). Citizens have no profile."""
    event = profile_event(conn, address)
    if event is None:
        return None
    doc = profile_document(conn, event["profile_hash"])
    return doc["name"] if doc is not None else None


# ---------------------------------------------------------------- datasets


def dataset_status(row: Row) -> str:
    if row["status"] == codes.STATUS_WITHDRAWN:
        return "withdrawn"
    return "superseded" if row["successor"] is not None else "active"


def dataset_out(row: Row) -> Out:
    return {
        "dataset_id": row["id"],
        "content_hash": row["content_hash"],
        "publisher": row["publisher"],
        "metadata_hash": row["metadata_hash"],
        "metadata_uri": row["metadata_uri"],
        "domain": codes.DOMAIN_NAMES.get(row["domain"], str(row["domain"])),
        "domain_code": row["domain"],
        "personal_data": bool(row["personal_data"]),
        "version": row["version"],
        "supersedes": row["supersedes"],
        "successor": row["successor"],
        "status": dataset_status(row),
        "withdrawn_reason_hash": row["withdrawn_reason"],
        "registered_block": row["registered_block"],
        "registered_at": row["registered_at"],
        "tx_hash": row["registered_tx"],
        "title": row.get("title"),  # present when the query joined the DCAT summary
        "quality": quality_out(row),  # present when the query joined the stored score
    }


def parse_time(value: str | None, name: str) -> int | None:
    """A unix time in seconds or an ISO date/time (UTC unless it says otherwise)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if is_decimal(text):
        if int(text) > v.ID_MAX:
            raise BadInput(f"{name} is too large for a unix time: {text[:40]}")
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{name} must be a unix time or an ISO date (2024-05-31), got {text[:40]!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp())


def list_datasets(
    conn: Connection,
    *,
    q: str | None = None,
    domain: int | None = None,
    publisher: str | None = None,
    status: str | None = None,
    since: int | None = None,
    until: int | None = None,
    min_quality: Fraction | None = None,
    sort: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Out:
    query = select(D, DM.c.title).select_from(_WITH_SUMMARY)
    if q:
        text = q.strip()
        if text.lower().startswith("0x"):
            query = query.where(D.c.content_hash.startswith(text.lower()))
        elif text:
            # The DCAT title, description and keywords (stored casefolded by the indexer) or the URI.
            # A substring LIKE scans the datasets: fine at city scale (docs/API.md has the scale path).
            query = query.where(
                or_(
                    DM.c.search_text.contains(text.casefold(), autoescape=True),
                    func.lower(D.c.metadata_uri).contains(text.lower(), autoescape=True),
                )
            )
    if domain is not None:
        query = query.where(D.c.domain == domain)
    if publisher:
        query = query.where(D.c.publisher == publisher)
    if status == "active":
        query = query.where(D.c.status == codes.STATUS_ACTIVE, D.c.successor.is_(None))
    elif status == "superseded":
        query = query.where(D.c.successor.is_not(None))
    elif status == "withdrawn":
        query = query.where(D.c.status == codes.STATUS_WITHDRAWN)
    if since is not None:
        query = query.where(D.c.registered_at >= since)
    if until is not None:
        query = query.where(D.c.registered_at < until)
    query, order = with_quality(query, min_quality, sort)
    out = _paged(conn, query, order, page, page_size)
    rows = out.pop("rows")
    out["items"] = [dataset_out(r) | {"quality": q} for r, q in zip(rows, scores_of(conn, rows), strict=True)]
    return out


def _dataset_row(conn: Connection, ref: int | str) -> Row:
    """A dataset row by id (int) or by content hash (0x str); NotFound otherwise."""
    if isinstance(ref, str):
        row = conn.execute(_DATASET_BY_HASH, {"ref": ref}).mappings().first()
        what = f"content hash {ref}"
    else:
        row = conn.execute(_DATASET_BY_ID, {"ref": ref}).mappings().first()
        what = f"id {ref}"
    if row is None:
        raise NotFound(f"no dataset with {what} in the index")
    return row


def attestation_out(row: Row) -> Out:
    return {
        "attestation_id": row["id"],
        "dataset_id": row["dataset_id"],
        "auditor": row["auditor"],
        "kind": codes.ATTESTATION_KIND_NAMES.get(row["kind"], str(row["kind"])),
        "kind_code": row["kind"],
        "report_hash": row["report_hash"],
        "active": bool(row["active"]),
        "block_number": row["added_block"],
        "tx_hash": row["added_tx"],
    }


def attestations(conn: Connection, ref: int | str, page: int = 1, page_size: int = 100) -> Out:
    """A page of the attestations of one version, oldest first."""
    return _attestations_of(conn, _dataset_row(conn, ref)["id"], page, page_size)


def _attestations_of(conn: Connection, dataset_id: int, page: int, page_size: int) -> Out:
    out = _paged(conn, select(A).where(A.c.dataset_id == dataset_id), [A.c.id], page, page_size)
    out["items"] = [attestation_out(r) for r in out.pop("rows")]
    return out


def dataset(conn: Connection, ref: int | str, metadata_loader: MetadataLoader | None = None) -> Out:
    """One version with its first attestations and its verified DCAT document (from the loader)."""
    row = dataset_row(conn, ref)
    return dataset_detail(conn, row, metadata_loader(row) if metadata_loader else None)


def dataset_row(conn: Connection, ref: int | str) -> Row:
    """A dataset row by id (int) or content hash (0x str), with its DCAT summary; NotFound otherwise."""
    return _dataset_row(conn, ref)


def dataset_detail(conn: Connection, row: Row, doc: dict[str, Any] | None) -> Out:
    """`dataset`'s answer for a row and its document (the API reads the document off its loop)."""
    out = dataset_out(row)
    # The first page only: /attestations pages through the rest.
    first = _attestations_of(conn, row["id"], page=1, page_size=v.MAX_PAGE_SIZE)
    out["attestations"], out["attestations_total"] = first["items"], first["total"]
    out["metadata"] = doc
    if doc is not None:
        info = summary(doc)
        out["title"], out["description"] = info["title"], info["description"]
    else:  # the summary the indexer verified against the same hash (the file may be elsewhere now)
        out["title"], out["description"] = row["title"], row["description"]
    return out


def versions(conn: Connection, ref: int | str) -> list[Out]:
    """The whole lineage of a version, oldest first (supersedes links back, successor links forward)."""
    row = _dataset_row(conn, ref)
    chain = [row]
    seen = {row["id"]}
    while chain[0]["supersedes"] is not None and chain[0]["supersedes"] not in seen:
        prev = conn.execute(_DATASET_BY_ID, {"ref": chain[0]["supersedes"]}).mappings().first()
        if prev is None:
            break
        seen.add(prev["id"])
        chain.insert(0, prev)
    while chain[-1]["successor"] is not None and chain[-1]["successor"] not in seen:
        nxt = conn.execute(_DATASET_BY_ID, {"ref": chain[-1]["successor"]}).mappings().first()
        if nxt is None:
            break
        seen.add(nxt["id"])
        chain.append(nxt)
    return [dataset_out(r) for r in chain]


# The state of a hash is its best registration's (docs/CONTRACTS.md: several publishers may register it).
VERIFY_ORDER = ("registered", "superseded", "withdrawn")


def verify(conn: Connection, content_hash: str) -> Out:
    """Every registration of a content hash, the earliest first, each with its publisher (and its
    organisation's name), state and latest version. `state` and the single-registration fields
    (`dataset_id`, `superseded_by`, ...) describe the first registration with the best state, for
    clients that show one verdict; `first_publisher` registered the bytes first. None is "the" source."""
    rows = conn.execute(select(D).where(D.c.content_hash == content_hash).order_by(D.c.id)).mappings().all()
    if not rows:
        return {"content_hash": content_hash, "state": "not_registered", "registrations": []}
    registrations = []
    for row in rows:
        state = dataset_status(row)
        latest = versions(conn, row["id"])[-1]["dataset_id"] if row["successor"] is not None else row["id"]
        registrations.append(
            {
                "dataset_id": row["id"],
                "publisher": row["publisher"],
                "publisher_name": publisher_name(conn, row["publisher"]),
                "state": "registered" if state == "active" else state,
                "version": row["version"],
                "superseded_by": row["successor"],
                "latest_version": latest,
                "registered_block": row["registered_block"],
                "registered_at": row["registered_at"],
                "tx_hash": row["registered_tx"],
            }
        )
    best = min(registrations, key=lambda r: VERIFY_ORDER.index(r["state"]))
    return {
        "content_hash": content_hash,
        "state": best["state"],
        "dataset_id": best["dataset_id"],
        "superseded_by": best["superseded_by"],
        "latest_version": best["latest_version"],
        "publisher": best["publisher"],
        "registered_block": best["registered_block"],
        "first_publisher": registrations[0]["publisher"],
        "registrations": registrations,
    }


# ---------------------------------------------------------------- consent


def covering_scopes(ds_row: Row) -> list[tuple[int, str]]:
    """The (scope_kind, scope_id) pairs whose consent covers a dataset version."""
    return [
        (codes.SCOPE_DATASET, v.pad32(int(ds_row["id"]))),
        (codes.SCOPE_PUBLISHER, v.pad32(ds_row["publisher"])),
        (codes.SCOPE_DOMAIN, v.pad32(int(ds_row["domain"]))),
    ]


def _scope_filter(table: FromClause, scopes: list[tuple[int, str]]) -> ColumnElement[bool]:
    return or_(*[and_(table.c.scope_kind == k, table.c.scope_id == s) for k, s in scopes])


def _latest_events(conn_where: list[ColumnElement[bool]], block: int) -> Subquery:
    """A subquery: the last consent event per key at or before `block`, among events matching."""
    ranked = (
        select(
            CE,
            func.row_number()
            .over(partition_by=CE.c.key, order_by=(CE.c.block_number.desc(), CE.c.log_index.desc()))
            .label("rn"),
        )
        .where(CE.c.block_number <= block, *conn_where)
        .subquery()
    )
    return select(ranked).where(ranked.c.rn == 1).subquery()


def consent_state(action: str, expiry: int, now: int) -> str:
    if action == "revoke" or expiry == 0:
        return "revoked"
    return "active" if now < expiry else "expired"


def consent_out(row: Row, state: str, block_number: int, granted_at: int | None) -> Out:
    return {
        "key": row["key"],
        "citizen": row["citizen"],
        "purpose": row["purpose"],
        "purpose_name": v.purpose_name(row["purpose"]),
        "scope_kind": SCOPE_NAMES.get(row["scope_kind"], str(row["scope_kind"])),
        "scope_kind_code": row["scope_kind"],
        "scope_id": row["scope_id"],
        "grantee": row["grantee"],
        "any_researcher": row["grantee"] == ZERO,
        "expiry": row["expiry"],
        "nonce": row["nonce"],
        "state": state,
        "granted_at": granted_at,
        "block_number": block_number,
        "submitted_by": row["submitted_by"],
    }


def dataset_consent_counts(
    conn: Connection, ref: int | str | Row, block: int | None, rpc_timestamp: RpcTimestamp = None
) -> Out:
    """Citizens with at least one active consent covering the dataset, per purpose, as of a block.
    `ref` is an id, a content hash or a dataset row already read (the API reads it once)."""
    row = ref if isinstance(ref, RowMapping) else _dataset_row(conn, ref)
    block, now, latest = _resolve(conn, block, rpc_timestamp)
    scopes = covering_scopes(row)
    if latest:
        query = (
            select(C.c.purpose, func.count(func.distinct(C.c.citizen)))
            .where(_scope_filter(C, scopes), C.c.expiry > now)
            .group_by(C.c.purpose)
        )
    else:
        last = _latest_events([_scope_filter(CE, scopes)], block)
        query = (
            select(last.c.purpose, func.count(func.distinct(last.c.citizen)))
            .where(last.c.action == "grant", last.c.expiry > now)
            .group_by(last.c.purpose)
        )
    counts = [
        {"purpose": p, "purpose_name": v.purpose_name(p), "active": n}
        for p, n in sorted(conn.execute(query).all(), key=lambda t: (-t[1], t[0]))
    ]
    return {"dataset_id": row["id"], "as_of_block": block, "counts": counts}


def _last_block(conn: Connection) -> int | None:
    return conn.execute(_LAST_BLOCK).scalar()


def citizen_consents(
    conn: Connection,
    citizen: str,
    *,
    state: str | None = None,
    block: int | None = None,
    rpc_timestamp: RpcTimestamp = None,
    page: int = 1,
    page_size: int = 100,
) -> Out:
    block, now, latest = _resolve(conn, block, rpc_timestamp)
    if latest:
        rows = conn.execute(_CONSENTS_OF, {"citizen": citizen}).mappings().all()
        items = [
            consent_out(
                r,
                consent_state(
                    "revoke" if r["revoked_block"] is not None and r["expiry"] == 0 else "grant", r["expiry"], now
                ),
                r["updated_block"],
                r["granted_at"],
            )
            for r in rows
        ]
    else:
        last = _latest_events([CE.c.citizen == citizen], block)
        rows = conn.execute(select(last).order_by(last.c.block_number.desc())).mappings().all()
        items = [
            consent_out(
                r, consent_state(r["action"], r["expiry"], now), r["block_number"], _granted_at(conn, r["key"], block)
            )
            for r in rows
        ]
    if state and state != "all":
        items = [i for i in items if i["state"] == state]
    out = page_of(items, page, page_size)
    lives = _lives(conn, citizen, block)
    for item in out["items"]:
        item.update(lives.get(item["key"], {}))
    return {**out, "as_of_block": block}


def _lives(conn: Connection, citizen: str, block: int) -> dict[str, Out]:
    """Per consent key of a citizen, up to `block`, who submitted what: the latest grant (and the
    first one), and the revocation that ended it, if any. Each from its own event: the consents
    table keeps only the latest submitter, which showed a relayer's revocation as if it had made
    the grant."""
    rows = conn.execute(_LIVES_OF, {"citizen": citizen, "block": block}).mappings()
    lives: dict[str, Out] = {}
    for r in rows:
        life = lives.setdefault(r["key"], {"first_granted_at": r["timestamp"] if r["action"] == "grant" else None})
        if r["action"] == "grant":
            life["first_granted_at"] = life["first_granted_at"] or r["timestamp"]
            life.update(
                granted_at=r["timestamp"],
                granted_block=r["block_number"],
                granted_tx=r["tx_hash"],
                granted_by=r["submitted_by"],
                valid_until=r["expiry"],
                revoked_at=None,
                revoked_block=None,
                revoked_tx=None,
                revoked_by=None,
            )
        elif r["action"] == "revoke":
            life.update(
                revoked_at=r["timestamp"],
                revoked_block=r["block_number"],
                revoked_tx=r["tx_hash"],
                revoked_by=r["submitted_by"],
            )
    return lives


def _granted_at(conn: Connection, key: str, block: int) -> int | None:
    return conn.execute(
        select(func.max(CE.c.timestamp)).where(CE.c.key == key, CE.c.action == "grant", CE.c.block_number <= block)
    ).scalar()


def consent_check(conn: Connection, *, key: str, block: int | None = None, rpc_timestamp: RpcTimestamp = None) -> Out:
    """Is the consent with this key active as of a block (the contract's is_active, from the index)."""
    block, now, latest = _resolve(conn, block, rpc_timestamp)
    if latest:
        row = conn.execute(_CONSENT_BY_KEY, {"key": key}).first()
        action = None if row is None else ("revoke" if row.expiry == 0 else "grant")
        expiry = None if row is None else row.expiry
    else:
        row = conn.execute(
            select(CE.c.action, CE.c.expiry)
            .where(CE.c.key == key, CE.c.block_number <= block)
            .order_by(CE.c.block_number.desc(), CE.c.log_index.desc())
            .limit(1)
        ).first()
        action = None if row is None else row.action
        expiry = None if row is None else row.expiry
    state = "never_granted" if action is None or expiry is None else consent_state(action, expiry, now)
    return {"active": state == "active", "as_of_block": block, "key": key, "expiry": expiry, "state": state}


def held_role(conn: Connection, account: str, role: int, block: int | None) -> bool:
    """Whether `account` held `role` at `block` (None: now), from the role history."""
    query = select(RE.c.action).where(RE.c.account == account, RE.c.role == role)
    if block is not None:
        query = query.where(RE.c.block_number <= block)
    last = conn.execute(query.order_by(RE.c.block_number.desc(), RE.c.log_index.desc()).limit(1)).scalar()
    return last == "grant"


def consenting_citizens(
    conn: Connection, *, dataset_row: Row, purpose: str, grantee: str, block: int, now: int
) -> set[str]:
    """Citizens whose consent, as of `block`, covers (dataset, purpose, grantee): scope the dataset,
    its publisher or its domain; grantee the address itself or ANY_RESEARCHER if it held the
    researcher role at that block."""
    grantees = [grantee]
    if grantee != ZERO and held_role(conn, grantee, codes.ROLE_RESEARCHER, block):
        grantees.append(ZERO)
    latest = _latest_events(
        [_scope_filter(CE, covering_scopes(dataset_row)), CE.c.purpose == purpose, CE.c.grantee.in_(grantees)], block
    )
    rows = conn.execute(select(latest.c.citizen).where(latest.c.action == "grant", latest.c.expiry > now)).scalars()
    return set(rows)


def consent_timeline(conn: Connection, days: int | None = None) -> list[Out]:
    day = (CE.c.timestamp // 86400).label("day")
    query = select(day, CE.c.action, func.count()).group_by(day, CE.c.action).order_by(day)
    if days:
        last = conn.execute(select(func.max(CE.c.timestamp))).scalar() or 0
        query = query.where(CE.c.timestamp >= last - days * 86400)
    points: dict[int, Out] = {}
    for d, action, n in conn.execute(query):
        p = points.setdefault(int(d), {"day": _day(int(d)), "grants": 0, "revocations": 0})
        p["grants" if action == "grant" else "revocations"] += n
    return list(points.values())


def _day(day_number: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day_number)).isoformat()


# ---------------------------------------------------------------- access, releases, rights


def holds_role(conn: Connection, account: str, role: int) -> bool:
    """Whether `account` holds `role` now (the current-state roles table)."""
    return (
        conn.execute(select(ROLES.c.role).where(ROLES.c.account == account, ROLES.c.role == role)).first() is not None
    )


def access_out(row: Row, now: int, conn: Connection | None = None) -> Out:
    """An access request. `live` is what AccessRegistry.is_live says: granted and unexpired, and
    (given a connection) the grantee still holds the role it requested with and the granted
    version's publisher still holds the publisher role."""
    status = codes.ACCESS_STATUS_NAMES.get(row["status"], "requested")
    live = row["status"] == codes.ACCESS_GRANTED and row["expiry"] is not None and now < row["expiry"]
    if live and conn is not None:
        publisher = conn.execute(select(D.c.publisher).where(D.c.id == row["dataset_id"])).scalar()
        live = (not row["role"] or holds_role(conn, row["requester"], row["role"])) and (
            publisher is not None and holds_role(conn, publisher, codes.ROLE_PUBLISHER)
        )
    return {
        "access_id": row["id"],
        "dataset_id": row["dataset_id"],
        "requester": row["requester"],
        "requester_role": ROLE_NAMES.get(row["role"]) if row["role"] else None,
        "purpose": row["purpose"],
        "purpose_name": v.purpose_name(row["purpose"]),
        "terms_hash": row["terms_hash"],
        "status": status,
        "expiry": row["expiry"],
        "live": live,
        "requested_block": row["requested_block"],
        "granted_block": row["granted_block"],
    }


def now_ts(conn: Connection) -> int:
    """The chain's time as of the last indexed block (what the contracts' block.timestamp said)."""
    last = _last_block(conn)
    if last is None:
        return int(time.time())
    return block_timestamp(conn, last)


def list_access(
    conn: Connection,
    *,
    dataset_id: int | None = None,
    grantee: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Out:
    query = select(AC)
    if dataset_id is not None:
        query = query.where(AC.c.dataset_id == dataset_id)
    if grantee:
        query = query.where(AC.c.requester == grantee)
    if status:
        query = query.where(AC.c.status == {n: c for c, n in codes.ACCESS_STATUS_NAMES.items()}[status])
    out = _paged(conn, query, [AC.c.id.desc()], page, page_size)
    now = now_ts(conn)
    out["items"] = [access_out(r, now, conn) for r in out.pop("rows")]
    return out


def access_one(conn: Connection, access_id: int) -> Out:
    row = conn.execute(select(AC).where(AC.c.id == access_id)).mappings().first()
    if row is None:
        raise NotFound(f"no access request with id {access_id} in the index")
    return access_out(row, now_ts(conn), conn)


def audit_out(row: Row | None) -> Out:
    """The indexer's audit of a release's (or private query's) consent claim (release/audit.py)."""
    if row is None or row.get("audit_status") is None:
        return {"status": "pending", "detail": "not audited yet", "snapshot_hash": None, "lacking_consent": None}
    return {
        "status": row["audit_status"],
        "detail": row["audit_detail"],
        "snapshot_hash": row["audit_snapshot_hash"],
        "lacking_consent": row["audit_lacking_consent"],
    }


def _with_audit(table: FromClause, kind: str) -> Select[Any]:
    """Rows of `releases` or `private_queries` with their current audit (an outer join on id and tx)."""
    on = and_(AU.c.kind == kind, AU.c.id == table.c.id, AU.c.tx_hash == table.c.tx_hash)
    return select(
        table,
        AU.c.status.label("audit_status"),
        AU.c.detail.label("audit_detail"),
        AU.c.snapshot_hash.label("audit_snapshot_hash"),
        AU.c.lacking_consent.label("audit_lacking_consent"),
    ).select_from(table.outerjoin(AU, on))


def release_out(row: Row) -> Out:
    return {
        "release_id": row["id"],
        "access_id": row["access_id"],
        "dataset_id": row["dataset_id"],
        "grantee": row["grantee"],
        "purpose": row["purpose"],
        "purpose_name": v.purpose_name(row["purpose"]),
        "subject_count": row["subject_count"],
        "consent_root": row["consent_root"],
        "snapshot_block": row["snapshot_block"],
        "release_hash": row["release_hash"],
        "k_anonymity": row["k_anonymity"],
        "logged_by": row["logged_by"],
        "block_number": row["block_number"],
        "timestamp": row["timestamp"],
        "tx_hash": row["tx_hash"],
        "audit": audit_out(row),
    }


def list_releases(
    conn: Connection,
    *,
    dataset_id: int | None = None,
    grantee: str | None = None,
    audit: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Out:
    query = _with_audit(R, "release")
    if dataset_id is not None:
        query = query.where(R.c.dataset_id == dataset_id)
    if grantee:
        query = query.where(R.c.grantee == grantee)
    if audit == "pending":
        query = query.where(AU.c.status.is_(None))
    elif audit:
        query = query.where(AU.c.status == audit)
    out = _paged(conn, query, [R.c.id.desc()], page, page_size)
    out["items"] = [release_out(r) for r in out.pop("rows")]
    return out


def releases_with_roots(conn: Connection, roots: Iterable[str]) -> list[Out]:
    roots = list(roots)
    if not roots:
        return []
    query = _with_audit(R, "release").where(R.c.consent_root.in_(roots)).order_by(R.c.id.desc())
    return [release_out(r) for r in conn.execute(query).mappings().all()]


def used_by(
    conn: Connection, snapshots: Snapshots, citizen: str, page: int = 1, page_size: int | None = None
) -> list[Out] | Out:
    """Releases whose consent snapshot (files on disk, see release/snapshots.py) holds the citizen,
    newest first, each with the citizen's leaf and Merkle proof against the on-chain consent_root, the
    indexer's audit of the release's claim, and the deletion obligation for the citizen, if any.
    With a page_size: one page {items, page, page_size, total}, proofs built for that page only."""
    releases = releases_with_roots(conn, snapshots.roots_of(citizen))
    out = None if page_size is None else page_of(releases, page, page_size)
    for rel in releases if out is None else out["items"]:
        rel["leaf"], rel["proof"] = snapshots.proof(rel["consent_root"], citizen)
        rel["deletion"] = _obligation_of(conn, rel["release_id"], citizen)
        rel["deliveries"] = deliveries_of(conn, rel["release_id"])
    return releases if out is None else out


def delivery_out(row: Row) -> Out:
    return {
        "delivery_id": row["id"],
        "release_id": row["release_id"],
        "access_id": row["access_id"],
        "dataset_id": row["dataset_id"],
        "recipient": row["recipient"],
        "delivered_at": row["delivered_at"],
        "bytes": row["bytes"],
        "sha256": row["sha256"],
    }


MAX_DELIVERIES_SHOWN = 100  # per release on "who used my data" (the list route pages all of them)


def deliveries_of(conn: Connection, release_id: int) -> list[Out]:
    """The data room's servings of a release file, newest first (at most MAX_DELIVERIES_SHOWN)."""
    query = select(DL).where(DL.c.release_id == release_id).order_by(DL.c.id.desc()).limit(MAX_DELIVERIES_SHOWN)
    return [delivery_out(r) for r in conn.execute(query).mappings()]


def list_deliveries(
    conn: Connection,
    *,
    recipient: str | None = None,
    release_id: int | None = None,
    access_id: int | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Out:
    """Deliveries of release files by the data room, newest first."""
    equals = {"recipient": recipient, "release_id": release_id, "access_id": access_id}
    query = select(DL).where(*(DL.c[k] == v_ for k, v_ in equals.items() if v_ is not None))
    out = _paged(conn, query, [DL.c.id.desc()], page, page_size)
    out["items"] = [delivery_out(r) for r in out.pop("rows")]
    return out


# ---------------------------------------------------------------- release operators, budgets, private queries


def release_operators(
    conn: Connection, publisher: str, *, include_stopped: bool = False, page: int = 1, page_size: int = 100
) -> Out:
    """A page of a publisher's release operators, in the order they were named: the latest
    ReleaseOperatorSet of each (publisher, operator)."""
    ranked = (
        select(
            OE,
            func.row_number()
            .over(partition_by=OE.c.operator, order_by=(OE.c.block_number.desc(), OE.c.log_index.desc()))
            .label("rn"),
        )
        .where(OE.c.publisher == publisher)
        .subquery()
    )
    query = select(ranked).where(ranked.c.rn == 1)
    if not include_stopped:
        query = query.where(ranked.c.allowed.is_(True))
    out = _paged(conn, query, [ranked.c.block_number, ranked.c.log_index], page, page_size)
    publisher_holds = holds_role(conn, publisher, codes.ROLE_PUBLISHER)
    out["items"] = [
        {
            "publisher": publisher,
            "operator": r["operator"],
            "operator_name": publisher_name(conn, r["operator"]),
            "allowed": bool(r["allowed"]),
            # Operators act only while their publisher holds the role (docs/CONTRACTS.md, Operators).
            "effective": bool(r["allowed"]) and publisher_holds,
            "since_block": r["block_number"],
            "since": r["timestamp"],
            "tx_hash": r["tx_hash"],
        }
        for r in out.pop("rows")
    ]
    return out


def epsilon(micro: int | None) -> str | None:
    """Micro-epsilon as a decimal epsilon ("2.5"), exact (the chain counts in 1e-6 epsilon)."""
    if micro is None:
        return None
    whole, frac = divmod(int(micro), codes.MICRO_EPSILON)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def private_query_out(row: Row) -> Out:
    return {
        "query_id": row["id"],
        "access_id": row["access_id"],
        "grantee": row["grantee"],
        "dataset_id": row["dataset_id"],
        "epsilon_spent": epsilon(row["epsilon_spent"]),
        "epsilon_spent_micro": row["epsilon_spent"],
        "spent_total": epsilon(row["spent_total"]),
        "budget": epsilon(row["budget"]),
        "query_hash": row["query_hash"],
        "consent_root": row["consent_root"],
        "snapshot_block": row["snapshot_block"],
        "subject_count": row["subject_count"],
        "logged_by": row["logged_by"],
        "block_number": row["block_number"],
        "timestamp": row["timestamp"],
        "tx_hash": row["tx_hash"],
        "audit": audit_out(row),
    }


def access_budget(conn: Connection, access_id: int) -> Out:
    """An access's privacy budget and what its private answers spent: the latest PrivacyBudgetSet or
    PrivateQueryLogged, whichever came last (both carry budget and spending), and whether the logged
    spending never exceeded the budget in force (each answer's running total checked, in log order)."""
    access = access_one(conn, access_id)
    budget_events = conn.execute(select(BE).where(BE.c.access_id == access_id)).mappings().all()
    answers = conn.execute(select(Q).where(Q.c.access_id == access_id)).mappings().all()
    events = sorted(
        [("budget", r) for r in budget_events] + [("query", r) for r in answers],
        key=lambda e: (e[1]["block_number"], e[1]["log_index"]),
    )
    budget = spent = 0
    consistent = True
    for kind, r in events:
        if kind == "budget":
            budget = r["budget"]
            consistent = consistent and r["spent"] == spent
        else:
            consistent = consistent and r["spent_total"] == spent + r["epsilon_spent"] <= r["budget"] == budget
            spent = r["spent_total"]
    last = events[-1][1] if events else None
    return {
        "access_id": access_id,
        "dataset_id": access["dataset_id"],
        "grantee": access["requester"],
        "budget": epsilon(budget),
        "spent": epsilon(spent),
        "remaining": epsilon(max(budget - spent, 0)),
        "budget_micro": budget,
        "spent_micro": spent,
        "queries": len(answers),
        "set": bool(budget_events),
        "consistent": consistent,
        "updated_block": last["block_number"] if last else None,
    }


def list_private_queries(conn: Connection, access_id: int, page: int = 1, page_size: int = 20) -> Out:
    access_one(conn, access_id)  # NotFound for an unknown access
    out = _paged(conn, _with_audit(Q, "query").where(Q.c.access_id == access_id), [Q.c.id.desc()], page, page_size)
    out["items"] = [private_query_out(r) for r in out.pop("rows")]
    return out


# ---------------------------------------------------------------- deletion obligations


def obligation_out(row: Row, now: int) -> Out:
    return {
        "obligation_id": row["id"],
        "release_id": row["release_id"],
        "recipient": row["recipient"],
        "subject": row["subject"],
        "deadline": row["deadline"],
        "status": codes.DELETION_STATUS_NAMES.get(row["status"], "open"),
        "overdue": row["status"] == codes.DELETION_OPEN and now > row["deadline"],
        "requested_by": row["requested_by"],
        "requested_block": row["requested_block"],
        "requested_at": row["requested_at"],
        "confirmed_block": row["confirmed_block"],
        "confirmed_at": row["confirmed_at"],
        "evidence_hash": row["evidence_hash"],
        "late": row["late"],
    }


def _obligation_of(conn: Connection, release_id: int, subject: str) -> Out | None:
    row = conn.execute(select(DO).where(DO.c.release_id == release_id, DO.c.subject == subject)).mappings().first()
    return obligation_out(row, now_ts(conn)) if row is not None else None


OBLIGATION_STATUSES = ("open", "confirmed", "confirmed late")


def list_obligations(
    conn: Connection,
    *,
    recipient: str | None = None,
    subject: str | None = None,
    release_id: int | None = None,
    status: str | None = None,
    overdue: bool = False,
    page: int = 1,
    page_size: int = 20,
) -> Out:
    """Deletion obligations, newest first; `overdue`: open and past the deadline (like rights requests)."""
    code = {n: c for c, n in codes.DELETION_STATUS_NAMES.items()}[status] if status else None
    equals = {"recipient": recipient, "subject": subject, "release_id": release_id}
    return _deadline_page(conn, DO, equals, code, codes.DELETION_OPEN, overdue, obligation_out, page, page_size)


def _deadline_page(
    conn: Connection,
    table: FromClause,
    equals: dict[str, Any],
    status: int | None,
    open_status: int,
    overdue: bool,
    out: Callable[[Row, int], Out],
    page: int,
    page_size: int,
) -> Out:
    """A page of rows with a deadline (rights requests, deletion obligations), newest first: those
    whose columns equal the values given (None or "": any), with that status; `overdue`: still open
    and past the deadline, as of the last indexed block."""
    now = now_ts(conn)
    query = select(table).where(*(table.c[k] == v for k, v in equals.items() if v not in (None, "")))
    if status is not None:
        query = query.where(table.c.status == status)
    if overdue:
        query = query.where(table.c.status == open_status, table.c.deadline < now)
    res = _paged(conn, query, [table.c.id.desc()], page, page_size)
    res["items"] = [out(r, now) for r in res.pop("rows")]
    return res


# ---------------------------------------------------------------- rights requests


def rights_out(row: Row, now: int) -> Out:
    return {
        "request_id": row["id"],
        "citizen": row["citizen"],
        "publisher": row["publisher"],
        "kind": codes.RIGHTS_KIND_NAMES.get(row["kind"], str(row["kind"])),
        "target_kind": "publisher" if row["target_kind"] == codes.TARGET_PUBLISHER else "dataset",
        "target": row["target"],
        "details_hash": row["details_hash"],
        "status": codes.RIGHTS_STATUS_NAMES.get(row["status"], "open"),
        "deadline": row["deadline"],
        "overdue": row["status"] == codes.RIGHTS_OPEN and now > row["deadline"],
        "answer_hash": row["answer_hash"],
        "late": row["late"],
        "filed_block": row["filed_block"],
        "filed_at": row["filed_at"],
        "answered_block": row["answered_block"],
        "answered_at": row["answered_at"],
    }


def list_rights(
    conn: Connection,
    *,
    citizen: str | None = None,
    publisher: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    page: int = 1,
    page_size: int = 20,
) -> Out:
    code = {n: c for c, n in codes.RIGHTS_STATUS_NAMES.items()}[status] if status else None
    equals = {"citizen": citizen, "publisher": publisher}
    return _deadline_page(conn, RR, equals, code, codes.RIGHTS_OPEN, overdue, rights_out, page, page_size)


def rights_stats(conn: Connection, publisher: str | None = None) -> Out:
    """Rights requests by outcome, per publisher or for all: rejected ones (not from a data subject,
    or manifestly unfounded or excessive) counted apart from refusals, and overdue ones apart from the
    open ones in time. `answered_late` counts answers given after the deadline."""
    now = now_ts(conn)
    query = select(RR.c.status, (RR.c.deadline < now).label("past"), RR.c.late, func.count()).group_by(
        RR.c.status, "past", RR.c.late
    )
    if publisher:
        query = query.where(RR.c.publisher == publisher)
    counts = dict.fromkeys(("open", "overdue", "fulfilled", "refused", "rejected", "withdrawn"), 0)
    late = total = 0
    for status, past, was_late, n in conn.execute(query):
        name = codes.RIGHTS_STATUS_NAMES.get(status, "open")
        key = "overdue" if name == "open" and past else name
        counts[key] += n
        total += n
        late += n if was_late else 0
    answered = counts["fulfilled"] + counts["refused"] + counts["rejected"]
    return {"publisher": publisher, "total": total, **counts, "answered": answered, "answered_late": late}


def domain_stats(conn: Connection) -> list[Out]:
    rows = conn.execute(select(D.c.domain, func.count()).group_by(D.c.domain).order_by(D.c.domain)).all()
    return [{"domain": codes.DOMAIN_NAMES.get(d, str(d)), "domain_code": d, "datasets": n} for d, n in rows]
