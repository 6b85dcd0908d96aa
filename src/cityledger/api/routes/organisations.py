"""Organisations: the accredited publishers, auditors and research institutes by address, with the
names of their verified profile documents (issue 20). Citizens are no organisations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...query import queries
from ...query import validate as v
from .. import schemas as s
from ..deps import Conn
from .common import ERRORS, PageNo, PageSize

router = APIRouter(tags=["organisations"])

ADDRESSES = (
    f"resolve these addresses (repeat the parameter, at most {queries.MAX_ORGANISATIONS}): the answer lists the "
    "organisations among them, in that order, as {items}; without it, a page of every organisation"
)


@router.get("/api/organisations", response_model=s.Page[s.Organisation] | s.Organisations, responses=ERRORS)
async def organisations(
    c: Conn,
    address: Annotated[list[str] | None, Query(description=ADDRESSES)] = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    if address:
        return {"items": queries.organisations(c, [v.address(a, "address") for a in address])}
    return queries.list_organisations(c, page=page, page_size=page_size)


@router.get("/api/organisations/{address}", response_model=s.Organisation, responses=ERRORS)
async def organisation(c: Conn, address: str) -> dict[str, Any]:
    return queries.organisation(c, v.address(address, "address"))
