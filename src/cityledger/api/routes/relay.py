"""The signed-consent relayer: a citizen's EIP-712 grant or revoke, checked and submitted; and where a
relayed transaction stands."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from ...query import validate as v
from ...query.errors import NotFound
from .. import schemas as s
from ..deps import Conn, Svc
from ..relay_store import find_relayed
from ..relayer import parse_request
from .common import ERRORS

router = APIRouter(tags=["relayer"])

# 408/413 come from the body limits (api/limits.py), 429 from the rate limits, 503 when no node.
RELAY_ERRORS = s.error_responses(400, 408, 413, 422, 429, 503)


class RelayStatus(BaseModel):
    """A relayed request as the relayer's outbox has it (checked every few seconds)."""

    tx_hash: s.Hash = Field(description="the transaction that carries it now (a fee bump signs a new one)")
    hashes: list[s.Hash] = Field(description="every transaction it was sent as, oldest first")
    status: Literal["pending", "mined", "reverted", "failed"]
    action: Literal["grant", "revoke"]
    citizen: s.Address
    nonce: int = Field(description="the relayer account's nonce")
    attempts: int
    block_number: int | None = Field(description="where it was mined (null until then)")
    created_at: int
    sent_at: int = Field(description="the latest broadcast (unix seconds)")
    error: str | None


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


@router.get("/api/relay/tx/{tx_hash}", response_model=RelayStatus, responses=ERRORS)
async def relay_status(c: Conn, tx_hash: str) -> dict[str, Any]:
    # From the store alone (a point lookup, on the event loop): no node or relayer key needed.
    found = find_relayed(c, v.hash32(tx_hash, "tx_hash"))
    if found is None:
        raise NotFound(f"no relayed transaction {tx_hash.lower()} on this relayer")
    return found
