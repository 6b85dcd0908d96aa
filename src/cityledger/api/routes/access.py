"""Access requests and grants, the releases logged under them (with the indexer's audit of each
release's consent claim), release operators, privacy budgets and private answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from ... import codes
from ...query import queries
from ...query import validate as v
from .. import schemas as s
from ..deps import Conn
from .common import ERRORS, PageNo, PageSize, paged

router = APIRouter(tags=["access"])

DatasetId = Annotated[int | None, Query(ge=1, le=v.ID_MAX)]


@router.get("/api/access", response_model=s.Page[s.Access], responses=ERRORS)
async def access(
    c: Conn,
    dataset_id: DatasetId = None,
    grantee: str | None = None,
    status: Annotated[str | None, Query(description="requested | granted | refused | ended | cancelled")] = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    return paged(
        queries.list_access(
            c,
            dataset_id=dataset_id,
            grantee=v.address(grantee, "grantee") if grantee else None,
            status=v.choice(status, tuple(codes.ACCESS_STATUS_NAMES.values()), "status"),
            page=page,
            page_size=page_size,
        )
    )


AUDIT = "verified | mismatch | unverifiable | no_subjects | pending"
AccessId = Annotated[int, PathParam(ge=1, le=v.ID_MAX, description="access id")]


@router.get("/api/access/{access_id}", response_model=s.Access, responses=ERRORS)
async def access_one(c: Conn, access_id: AccessId) -> dict[str, Any]:
    return queries.access_one(c, access_id)


@router.get("/api/releases", response_model=s.Page[s.Release], responses=ERRORS)
async def releases(
    c: Conn,
    dataset_id: DatasetId = None,
    grantee: str | None = None,
    audit: Annotated[str | None, Query(description=f"the audit of the release's consent claim: {AUDIT}")] = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    return paged(
        queries.list_releases(
            c,
            dataset_id=dataset_id,
            grantee=v.address(grantee, "grantee") if grantee else None,
            audit=v.choice(audit, tuple(AUDIT.split(" | ")), "audit"),
            page=page,
            page_size=page_size,
        )
    )


@router.get("/api/access/{access_id}/budget", response_model=s.Budget, responses=ERRORS)
async def budget(c: Conn, access_id: AccessId) -> dict[str, Any]:
    """The access's privacy budget, what its private answers spent and whether the spending checks."""
    return queries.access_budget(c, access_id)


@router.get("/api/access/{access_id}/queries", response_model=s.Page[s.PrivateQuery], responses=ERRORS)
async def private_queries(c: Conn, access_id: AccessId, page: PageNo = 1, page_size: PageSize = 20) -> dict[str, Any]:
    """The differentially private answers logged under the access, newest first, each audited."""
    return paged(queries.list_private_queries(c, access_id, page=page, page_size=page_size))


@router.get("/api/publishers/{address}/operators", response_model=s.Page[s.ReleaseOperator], responses=ERRORS)
async def operators(
    c: Conn,
    address: str,
    include_stopped: Annotated[bool, Query(description="also the operators the publisher stopped")] = False,
    page: PageNo = 1,
    page_size: PageSize = 100,
) -> dict[str, Any]:
    """The publisher's release operators (who may log its releases and private queries), in the
    order they were named."""
    who = v.address(address, "publisher")
    return paged(queries.release_operators(c, who, include_stopped=include_stopped, page=page, page_size=page_size))
