"""Datasets: search, one version, its lineage and attestations, and verification of a hash."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from ...query import quality, queries
from ...query import validate as v
from .. import schemas as s
from ..deps import Conn, Svc
from .common import ERRORS, DatasetRef, PageNo, PageSize, dataset_ref, paged

router = APIRouter(tags=["datasets"])

SEARCH = (
    "words of the DCAT title, description or keywords (case-insensitive), text of the metadata URI, "
    "or a 0x content-hash prefix"
)
MIN_QUALITY = (
    "stored metadata quality score at least this: a percent 0..100, or a rating (sufficient, good, excellent: "
    "that or better); datasets without a stored score are left out"
)


@router.get("/api/datasets", response_model=s.Page[s.Dataset], responses=ERRORS)
def datasets(
    c: Conn,
    q: Annotated[str | None, Query(max_length=200, description=SEARCH)] = None,
    domain: Annotated[str | None, Query(description="domain name (health, ...) or code 1..12")] = None,
    publisher: Annotated[str | None, Query(description="publisher address")] = None,
    status: Annotated[str | None, Query(description="active | superseded | withdrawn | all")] = None,
    since: Annotated[str | None, Query(description="registered at or after (unix time or ISO date)")] = None,
    until: Annotated[str | None, Query(description="registered before (unix time or ISO date)")] = None,
    min_quality: Annotated[str | None, Query(max_length=20, description=MIN_QUALITY)] = None,
    sort: Annotated[Literal["newest", "quality"], Query(description="newest first, or best quality first")] = "newest",
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    st = v.choice(status, ("active", "superseded", "withdrawn", "all"), "status")
    return paged(
        queries.list_datasets(
            c,
            q=q,
            domain=v.domain(domain),
            publisher=v.address(publisher, "publisher") if publisher else None,
            status=None if st == "all" else st,
            since=queries.parse_time(since, "since"),
            until=queries.parse_time(until, "until"),
            min_quality=quality.min_quality(min_quality),
            sort=sort,
            page=page,
            page_size=page_size,
        )
    )


@router.get("/api/datasets/{ref}", response_model=s.DatasetDetail, responses=ERRORS)
async def dataset(svc: Svc, ref: DatasetRef) -> dict[str, Any]:
    key = dataset_ref(ref)
    # The DCAT document is read off the event loop, bounded in size and time (api/metadata.py), and
    # no store connection is held while waiting for it: with all pooled connections held by waiting
    # requests, the next request's checkout would block the event loop itself.
    with svc.engine.connect() as c:
        row = queries.dataset_row(c, key)
    doc = await svc.metadata.fetch(row)
    with svc.engine.connect() as c:
        return queries.dataset_detail(c, row, doc)


@router.get("/api/datasets/{ref}/versions", response_model=s.Page[s.Dataset], responses=ERRORS)
async def dataset_versions(c: Conn, ref: DatasetRef, page: PageNo = 1, page_size: PageSize = 100) -> dict[str, Any]:
    return queries.page_of(queries.versions(c, dataset_ref(ref)), page, page_size)


@router.get("/api/datasets/{ref}/attestations", response_model=s.Page[s.Attestation], responses=ERRORS)
async def dataset_attestations(c: Conn, ref: DatasetRef, page: PageNo = 1, page_size: PageSize = 100) -> dict[str, Any]:
    return paged(queries.attestations(c, dataset_ref(ref), page=page, page_size=page_size))


@router.get("/api/verify/{content_hash}", response_model=s.Verification, responses=ERRORS)
async def verify(c: Conn, content_hash: str) -> dict[str, Any]:
    return queries.verify(c, v.hash32(content_hash, "content_hash"))
