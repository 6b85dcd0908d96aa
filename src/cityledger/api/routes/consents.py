"""Consent: counts per dataset, a citizen's consents and "who used my data", one consent's state,
its history and its receipt."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from ... import codes
from ...dataroom.owners import owns
from ...dataroom.profiles import file_population, with_shares
from ...query import queries, receipts
from ...query import validate as v
from ...query.errors import BadInput
from .. import schemas as s
from ..deps import Conn, Svc
from ..relayer import consent_key_hex
from .common import ERRORS, AsOf, DatasetRef, PageNo, PageSize, dataset_ref, maybe_slow, paged

router = APIRouter(tags=["consent"])


@router.get("/api/datasets/{ref}/consent-counts", response_model=s.ConsentCounts, responses=ERRORS)
async def consent_counts(c: Conn, svc: Svc, ref: DatasetRef, as_of_block: AsOf = None) -> dict[str, Any]:
    """Citizens with an active consent covering the dataset, per purpose, and for a personal dataset
    whose publisher declared cl:profileEpsilon, each purpose's share of the people in its file."""
    row = queries.dataset_row(c, dataset_ref(ref))
    counts = await maybe_slow(as_of_block, queries.dataset_consent_counts, c, row, as_of_block, svc.chain.timestamp)
    # Reads the dataset's description and its kept profile (small local files), never the data file.
    population, reason = await run_in_threadpool(file_population, svc.settings.data_dir, row, owns(c, row))
    return with_shares(counts, population, reason)


@router.get("/api/citizens/{address}/consents", response_model=s.Page[s.Consent], responses=ERRORS)
async def citizen_consents(
    c: Conn,
    svc: Svc,
    address: str,
    state: Annotated[str | None, Query(description="active | expired | revoked | all")] = None,
    as_of_block: AsOf = None,
    page: PageNo = 1,
    page_size: PageSize = 100,
) -> dict[str, Any]:
    st = v.choice(state, ("active", "expired", "revoked", "all"), "state")
    out = await maybe_slow(
        as_of_block,
        queries.citizen_consents,
        c,
        v.address(address, "citizen"),
        state=st,
        block=as_of_block,
        rpc_timestamp=svc.chain.timestamp,
        page=page,
        page_size=page_size,
    )
    return paged(out)


@router.get("/api/citizens/{address}/used", response_model=s.Page[s.UsedRelease], responses=ERRORS)
async def citizen_used(
    c: Conn, svc: Svc, address: str, page: PageNo = 1, page_size: PageSize = 100
) -> list[dict[str, Any]] | dict[str, Any]:
    return queries.used_by(c, svc.snapshots, v.address(address, "citizen"), page=page, page_size=page_size)


@router.get("/api/consents/check", response_model=s.ConsentCheck, responses=ERRORS)
async def consent_check(
    c: Conn,
    svc: Svc,
    citizen: Annotated[str, Query(description="citizen address")],
    purpose: Annotated[str, Query(description="DPV purpose name or 0x hash")],
    scope_kind: Annotated[str, Query(description="dataset | publisher | domain (or 1..3)")],
    scope_id: Annotated[str, Query(description="0x bytes32, or a dataset id / publisher address / domain")],
    grantee: Annotated[str, Query(description="grantee address (0x000...0: any researcher)")] = codes.ANY_RESEARCHER,
    as_of_block: AsOf = None,
) -> dict[str, Any]:
    kind = v.scope_kind(scope_kind)
    if kind is None:  # the parameter is required, so only an empty value gets here
        raise BadInput("scope_kind must be dataset, publisher or domain (1, 2 or 3), got ''")
    key = consent_key_hex(
        v.address(citizen, "citizen"),
        v.purpose(purpose),
        kind,
        v.scope_id(kind, scope_id),
        v.address(grantee, "grantee"),
    )
    return await maybe_slow(
        as_of_block, queries.consent_check, c, key=key, block=as_of_block, rpc_timestamp=svc.chain.timestamp
    )


ConsentKey = Annotated[str, PathParam(description="the consent key: 0x + 64 hex (`key` of a citizen's consents)")]


@router.get("/api/consents/{key}/history", response_model=s.ConsentHistory, responses=ERRORS)
async def consent_history(c: Conn, key: ConsentKey, page: PageNo = 1, page_size: PageSize = 100) -> dict[str, Any]:
    return receipts.consent_history(c, v.hash32(key, "key"), page=page, page_size=page_size)


@router.get(
    "/api/consents/{key}/receipt",
    response_class=Response,
    responses={
        200: {
            "description": "the consent receipt: ISO/IEC TS 27560 consent record, W3C DPV terms, JSON-LD "
            "(docs/RECEIPTS.md)",
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
        },
        **ERRORS,
    },
)
async def consent_receipt(c: Conn, svc: Svc, key: ConsentKey) -> Response:
    doc = receipts.consent_receipt(c, v.hash32(key, "key"), network=svc.settings.network.name)
    name = f"consent-receipt-{doc['header']['recordId'][2:10]}-{doc['events'][-1]['timestamp']}.jsonld"
    return Response(
        json.dumps(doc, indent=2, ensure_ascii=False),
        media_type="application/ld+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
