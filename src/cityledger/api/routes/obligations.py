"""Deletion obligations: when a subject of a release revokes (or asks for erasure), the release's
recipient must confirm deletion on chain within 30 days; overdue ones are public."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...query import queries
from ...query import validate as v
from .. import schemas as s
from ..deps import Conn
from .common import ERRORS, PageNo, PageSize, paged

router = APIRouter(tags=["obligations"])


@router.get("/api/obligations", response_model=s.Page[s.Obligation], responses=ERRORS)
async def obligations(
    c: Conn,
    recipient: Annotated[str | None, Query(description="the release's recipient (the grantee)")] = None,
    subject: Annotated[str | None, Query(description="the subject's pseudonymous address")] = None,
    release_id: Annotated[int | None, Query(ge=1, le=v.ID_MAX, description="one release")] = None,
    status: Annotated[str | None, Query(description="open | confirmed | confirmed late")] = None,
    overdue: Annotated[bool, Query(description="only open obligations past their deadline")] = False,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    return paged(
        queries.list_obligations(
            c,
            recipient=v.address(recipient, "recipient") if recipient else None,
            subject=v.address(subject, "subject") if subject else None,
            release_id=release_id,
            status=v.choice(status, queries.OBLIGATION_STATUSES, "status"),
            overdue=overdue,
            page=page,
            page_size=page_size,
        )
    )
