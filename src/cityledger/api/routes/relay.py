"""The signed-consent relayer: a citizen's EIP-712 grant or revoke, checked and submitted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from .. import schemas as s
from ..deps import Svc
from ..relayer import parse_request

router = APIRouter(tags=["relayer"])

# 408/413 come from the body limits (api/limits.py), 429 from the rate limits, 503 when no node.
RELAY_ERRORS = s.error_responses(400, 408, 413, 422, 429, 503)


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
