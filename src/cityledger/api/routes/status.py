"""Status and reference: where the index is, the deployment the page talks to, the DPV purposes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ... import codes
from ...chain.artifacts import load_artifact
from ...chain.deployments import load_deployment
from ...errors import CityLedgerError
from ...query import queries
from ...query.errors import NotFound
from .. import schemas as s
from ..deps import Conn, Svc
from .common import ERRORS

router = APIRouter(tags=["status"])


@router.get("/api/status", response_model=s.Status, responses=ERRORS)
def status(c: Conn, svc: Svc) -> dict[str, Any]:
    cfg = svc.settings
    return queries.index_status(c, svc.chain.head(), cfg.network, cfg.cfg.confirmations)


@router.get("/api/deployment", response_model=s.DeploymentInfo, responses=ERRORS)
def deployment(svc: Svc) -> dict[str, Any]:
    net, cfg = svc.settings.network, svc.settings.cfg
    try:
        dep = load_deployment(net.chain_id, cfg)
    except CityLedgerError as exc:
        raise NotFound(str(exc)) from None
    contracts = {}
    for name, info in dep.contracts.items():
        try:
            abi = load_artifact(name, cfg).abi
        except CityLedgerError:
            abi = []
        contracts[name] = {"address": info["address"], "abi": abi}
    return {
        "chain_id": dep.chain_id,
        "network": dep.network,
        "rpc_url": net.rpc_url,
        "start_block": dep.start_block,
        "contracts": contracts,
    }


@router.get("/api/purposes", response_model=list[s.Purpose])
async def purposes() -> list[dict[str, str]]:
    return [
        {"name": n, "label": label, "iri": codes.DPV + n, "hash": "0x" + codes.purpose_hash(n).hex()}
        for n, label in codes.PURPOSES.items()
    ]
