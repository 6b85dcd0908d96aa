"""The store's side of the DCAT-AP catalogue (api/routes/catalog.py, docs/CATALOG.md §10): pages
of dataset rows with their lineages, the catalogue's dates and operator, publisher kinds. Publisher
names are the organisation registry's: `queries.publisher_name`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from .. import codes
from ..indexer import models as m
from .queries import Row

D = m.Dataset.__table__
RE = m.RoleEvent.__table__
OE = m.OwnershipEvent.__table__
KIND_NAMES = {codes.KIND_AGENCY: "agency", codes.KIND_BUSINESS: "business"}


def publisher_kinds(conn: Connection, addresses: Iterable[str]) -> dict[str, str]:
    """address -> "agency" | "business": the kind of each address's latest publisher grant (from
    the role history, so a former publisher keeps the kind it published under)."""
    wanted = sorted({a.lower() for a in addresses})
    if not wanted:
        return {}
    rows = conn.execute(
        select(RE.c.account, RE.c.kind)
        .where(RE.c.account.in_(wanted), RE.c.role == codes.ROLE_PUBLISHER, RE.c.action == "grant")
        .order_by(RE.c.block_number, RE.c.log_index)
    ).all()
    return {account: KIND_NAMES[kind] for account, kind in rows if kind in KIND_NAMES}  # the last grant wins


def catalogue_page(conn: Connection, page: int, page_size: int) -> tuple[list[Row], int]:
    """(the page's dataset rows, oldest id first; how many versions the catalogue has)."""
    total = conn.execute(select(func.count()).select_from(D)).scalar_one()
    rows = conn.execute(select(D).order_by(D.c.id).limit(page_size).offset((page - 1) * page_size)).mappings().all()
    return list(rows), int(total)


def catalogue_dates(conn: Connection) -> tuple[int | None, int | None]:
    """(the first registration, the last change: a registration or a withdrawal), unix seconds."""
    first, last, withdrawn = conn.execute(
        select(func.min(D.c.registered_at), func.max(D.c.registered_at), func.max(D.c.withdrawn_at))
    ).one()
    changes = [t for t in (last, withdrawn) if t is not None]
    return first, max(changes) if changes else None


def catalogue_operator(conn: Connection) -> str | None:
    """The CityRoles admin (the city data office), which runs the catalogue; None before any transfer
    is indexed."""
    return conn.execute(
        select(OE.c.new_owner)
        .where(OE.c.event == "OwnershipTransferred")
        .order_by(OE.c.block_number.desc(), OE.c.log_index.desc())
        .limit(1)
    ).scalar()


def with_lineages(conn: Connection, rows: Sequence[Row]) -> list[Row]:
    """`rows` and every version of their lineages (followed through supersedes and successor), so
    that the chain facts of each know its lineage's first and newest versions. A few queries for a
    page: one per step along the longest lineage."""
    found: dict[int, Row] = {int(r["id"]): r for r in rows}
    asked: set[int] = set()
    todo = _links(found.values()) - found.keys()
    while todo:
        asked |= todo
        more = conn.execute(select(D).where(D.c.id.in_(sorted(todo)))).mappings().all()
        for r in more:
            found[int(r["id"])] = r
        # An id the index lacks (not possible on one chain, but never loop on it) is not asked again.
        todo = _links(more) - found.keys() - asked
    return list(found.values())


def _links(rows: Iterable[Row]) -> set[int]:
    return {int(r[k]) for r in rows for k in ("supersedes", "successor") if r[k]}


def dataset_rows(conn: Connection, dataset_id: int) -> list[Row]:
    """One version's row and its lineage's (empty when the index has no such version)."""
    row = conn.execute(select(D).where(D.c.id == dataset_id)).mappings().first()
    return with_lineages(conn, [row]) if row is not None else []


def registers_metadata(conn: Connection, metadata_hash: str) -> bool:
    """Whether some indexed version registered this metadata hash (0x form)."""
    return conn.execute(select(D.c.id).where(D.c.metadata_hash == metadata_hash).limit(1)).first() is not None


def index_position(conn: Connection) -> tuple[int, str] | None:
    """(last indexed block, its hash): what a cached catalogue answer is keyed by (a reorganisation
    to the same height changes the hash)."""
    row = conn.execute(select(m.Checkpoint.block_number, m.Checkpoint.block_hash).where(m.Checkpoint.id == 1)).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def chain_id(conn: Connection) -> int | None:
    return conn.execute(select(m.Checkpoint.chain_id).where(m.Checkpoint.id == 1)).scalar()
