"""Citizens' rights requests, with the overdue ones, and their statistics (rejected apart)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ... import codes
from ...query import queries
from ...query import validate as v
from .. import schemas as s
from ..deps import Conn
from .common import ERRORS, PageNo, PageSize, paged

router = APIRouter(tags=["rights"])


@router.get("/api/citizens/{address}/rights", response_model=s.Page[s.RightsRequest], responses=ERRORS)
async def citizen_rights(c: Conn, address: str, page: PageNo = 1, page_size: PageSize = 100) -> dict[str, Any]:
    return paged(queries.list_rights(c, citizen=v.address(address, "citizen"), page=page, page_size=page_size))


@router.get("/api/rights", response_model=s.Page[s.RightsRequest], responses=ERRORS)
async def rights(
    c: Conn,
    publisher: str | None = None,
    status: Annotated[str | None, Query(description="open | fulfilled | refused | withdrawn | rejected")] = None,
    overdue: bool = False,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    return paged(
        queries.list_rights(
            c,
            publisher=v.address(publisher, "publisher") if publisher else None,
            status=v.choice(status, tuple(codes.RIGHTS_STATUS_NAMES.values()), "status"),
            overdue=overdue,
            page=page,
            page_size=page_size,
        )
    )


@router.get("/api/stats/rights", response_model=s.RightsStats, responses=ERRORS)
async def rights_stats(
    c: Conn, publisher: Annotated[str | None, Query(description="one publisher (default: all)")] = None
) -> dict[str, Any]:
    """Rights requests by outcome: rejected ones (not from a data subject, or manifestly unfounded or
    excessive) apart from refusals, overdue ones apart from the open ones in time."""
    return queries.rights_stats(c, v.address(publisher, "publisher") if publisher else None)
