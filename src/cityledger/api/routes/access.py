"""Access requests and grants, and the releases logged under them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

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
    status: Annotated[str | None, Query(description="requested | granted | refused | ended")] = None,
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


@router.get("/api/releases", response_model=s.Page[s.Release], responses=ERRORS)
async def releases(
    c: Conn, dataset_id: DatasetId = None, grantee: str | None = None, page: PageNo = 1, page_size: PageSize = 20
) -> dict[str, Any]:
    return paged(
        queries.list_releases(
            c,
            dataset_id=dataset_id,
            grantee=v.address(grantee, "grantee") if grantee else None,
            page=page,
            page_size=page_size,
        )
    )
