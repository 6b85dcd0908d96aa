"""Aggregate figures for the page's charts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...query import queries
from .. import schemas as s
from ..deps import Conn
from .common import ERRORS

router = APIRouter(tags=["stats"])


@router.get("/api/stats/domains", response_model=list[s.DomainStat])
def stats_domains(c: Conn) -> list[dict[str, Any]]:
    return queries.domain_stats(c)


@router.get("/api/stats/consent-timeline", response_model=list[s.TimelinePoint], responses=ERRORS)
def stats_timeline(c: Conn, days: Annotated[int | None, Query(ge=1, le=3650)] = None) -> list[dict[str, Any]]:
    return queries.consent_timeline(c, days)
