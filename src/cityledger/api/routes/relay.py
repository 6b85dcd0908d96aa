"""The signed-consent relayer: a citizen's EIP-712 grant or revoke, checked and submitted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from .. import schemas as s
from ..deps import Svc
from ..relayer import parse_request
from .common import ERRORS

router = APIRouter(tags=["relayer"])

RELAY_ERRORS = {**ERRORS, 429: {"model": s.ErrorBody}, 503: {"model": s.ErrorBody}}


def client_host(request: Request) -> str:
    # The peer address: behind a reverse proxy every client shares it (see docs/API.md).
    return request.client.host if request.client else "unknown"


@router.post("/api/relay/grant", response_model=s.RelayResult, responses=RELAY_ERRORS)
def relay_grant(request: Request, svc: Svc, body: Annotated[s.RelayGrant, Body()]) -> dict[str, str]:
    req = parse_request("grant", body.model_dump())
    return {"tx_hash": svc.relayer().relay(req, client_host(request))}


@router.post("/api/relay/revoke", response_model=s.RelayResult, responses=RELAY_ERRORS)
def relay_revoke(request: Request, svc: Svc, body: Annotated[s.RelayRevoke, Body()]) -> dict[str, str]:
    req = parse_request("revoke", body.model_dump())
    return {"tx_hash": svc.relayer().relay(req, client_host(request))}
