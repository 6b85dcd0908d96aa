"""The data room's files: open downloads (anyone), a publisher's upload, consent-filtered releases
served to their grantee through session-bound links, and the deliveries. docs/API.md "Data room"."""

from __future__ import annotations

import asyncio
import mimetypes
import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from ... import codes
from ...dataroom import delivery
from ...dataroom.files import HashMismatch, TooLarge, content_digest, key_of, parse_range, sanitise_name
from ...dataroom.owners import check_owner
from ...dataroom.pending import settle
from ...query import queries
from ...query import validate as v
from ...query.errors import CodedError, NotFound
from .. import schemas as s
from ..deps import Svc
from .auth import csrf_session, current_session, room_of
from .common import DatasetRef, PageNo, PageSize, dataset_ref, paged

router = APIRouter(tags=["data room"])

UPLOAD_ROUTE = re.compile(r"PUT /api/datasets/[^/]+/file")
UPLOAD_IDLE_TIMEOUT = 30.0  # seconds an upload may send nothing before it is dropped
FILE_HEADERS = {
    "Content-Digest": {"description": "sha-256=:<base64 of the SHA-256>: (RFC 9530)", "schema": {"type": "string"}},
    "ETag": {"description": "the SHA-256 in hex, quoted", "schema": {"type": "string"}},
    "Content-Disposition": {"description": "attachment; the sanitised file name", "schema": {"type": "string"}},
}
DOWNLOAD_ERRORS = s.error_responses(400, 403, 404, 410, 416, 422, 503)


def _media_type(doc: dict[str, Any] | None, name: str) -> str:
    """The version's dcat:mediaType when it is a plain type/subtype, else by the name's extension."""
    dist = doc.get("dcat:distribution") if isinstance(doc, dict) else None
    dist = dist[0] if isinstance(dist, list) and dist else dist
    media = dist.get("dcat:mediaType") if isinstance(dist, dict) else None
    if isinstance(media, str):
        media = media.rsplit("/media-types/", 1)[-1]
        if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", media):
            return media + ("; charset=utf-8" if media.startswith("text/") else "")
    guessed = mimetypes.guess_type(name)[0]
    return guessed or "application/octet-stream"


def _file_name(doc: dict[str, Any] | None, fallback: str) -> str:
    dist = doc.get("dcat:distribution") if isinstance(doc, dict) else None
    dist = dist[0] if isinstance(dist, list) and dist else dist
    title = dist.get("dct:title") if isinstance(dist, dict) else None
    return sanitise_name(title if isinstance(title, str) else None, fallback)


def file_answer(
    request: Request,
    files: Any,
    sha256: str,
    size: int,
    name: str,
    media_type: str,
    *,
    ranges: bool = True,
    extra: dict[str, str] | None = None,
) -> Response:
    """The stored file as the answer: digest, ETag, length, type, disposition; one byte range; HEAD
    and If-None-Match without reading it."""
    etag = f'"{key_of(sha256)}"'
    headers = {
        "Content-Digest": content_digest(sha256),
        "ETag": etag,
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}",
        **({"Accept-Ranges": "bytes"} if ranges else {}),
        **(extra or {}),
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    start, end, status = 0, size, 200
    if ranges:
        try:
            wanted = parse_range(request.headers.get("range"), size)
        except ValueError as exc:
            raise CodedError(
                f"{exc}", code="range_not_satisfiable", headers={"Content-Range": f"bytes */{size}"}
            ) from None
        if wanted is not None:
            start, end, status = wanted.start, wanted.end, 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if request.scope.get("cityledger.head"):  # HEAD: the headers only, the file is not read
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(
        iterate_in_threadpool(files.read(sha256, start, end)),
        status_code=status,
        headers=headers,
        media_type=media_type,
    )


@router.get(
    "/api/datasets/{ref}/download",
    response_class=Response,
    responses={200: {"description": "the exact registered bytes", "headers": FILE_HEADERS}, **DOWNLOAD_ERRORS},
)
async def download(request: Request, svc: Svc, ref: DatasetRef) -> Response:
    """The exact registered bytes of an open dataset version (Range, HEAD, If-None-Match)."""
    with svc.engine.connect() as c:
        row = queries.dataset_row(c, dataset_ref(ref))
        if row["personal_data"]:
            raise CodedError(
                f"dataset {row['id']} holds personal data and is never served raw: a grantee with a live access "
                f"grant asks for a consent-filtered release (POST /api/access/{{access_id}}/releases)",
                code="personal_data",
            )
        if row["status"] == codes.STATUS_WITHDRAWN:
            raise CodedError(f"dataset {row['id']} was withdrawn by its publisher and is no longer served", code="gone")
        check_owner(c, row)  # another publisher's registration of these bytes serves nothing (owners.py)
    room = room_of(request)
    files = room.files
    size = await run_in_threadpool(files.size, row["content_hash"])
    if size is None:
        raise NotFound(
            f"dataset {row['id']} is registered, but its file is not in this data room's store: the publisher stores "
            "it with `cityledger publish` or PUT /api/datasets/{id}/file"
        )
    doc = await svc.metadata.fetch(row)
    name = _file_name(doc, f"dataset-{row['id']}")
    return file_answer(request, files, row["content_hash"], size, name, _media_type(doc, name))


class Stored(BaseModel):
    dataset_id: int
    sha256: s.Hash
    size: int
    stored: str = Field(description="new: stored now; already: the bytes were in the store")


async def _body_chunks(request: Request) -> AsyncIterator[bytes]:
    stream = request.stream().__aiter__()
    while True:
        try:
            async with asyncio.timeout(UPLOAD_IDLE_TIMEOUT):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise CodedError(
                f"the upload sent nothing for {UPLOAD_IDLE_TIMEOUT:g} s; nothing was stored", code="request_timeout"
            ) from None
        if chunk:
            yield chunk


@router.put(
    "/api/datasets/{ref}/file",
    response_model=Stored,
    status_code=201,
    responses={
        200: {"model": Stored, "description": "already stored"},
        **s.error_responses(400, 401, 403, 404, 408, 413, 422, 503),
    },
    openapi_extra={
        "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
async def upload(request: Request, svc: Svc, ref: DatasetRef) -> Response:
    """The publisher stores a version's file: streamed, hashed while streaming, kept only if its bytes
    hash to the registered content hash and are at most `max_upload_bytes`."""
    session = await run_in_threadpool(csrf_session, request, svc)
    with svc.engine.connect() as c:
        row = queries.dataset_row(c, dataset_ref(ref))
        if row["publisher"] != session.address:
            raise CodedError(
                f"only dataset {row['id']}'s publisher {row['publisher']} stores its file; you are {session.address}",
                code="forbidden",
            )
        check_owner(c, row)  # bytes first registered by another publisher are theirs (owners.py)
    room = room_of(request)
    limit = room.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise CodedError(
            f"uploads are limited to {limit} bytes; this one has {declared[:20]}",
            code="payload_too_large",
            headers={"Connection": "close"},
        )
    files = room.files
    answer = {"dataset_id": row["id"], "sha256": row["content_hash"]}
    size = await run_in_threadpool(files.size, row["content_hash"])
    if size is not None:
        return JSONResponse({**answer, "size": size, "stored": "already"}, status_code=200)
    writer = await run_in_threadpool(files.writer, row["content_hash"], limit)
    try:
        async for chunk in _body_chunks(request):
            writer.write(chunk)  # a local write of one chunk; the hash runs while it streams
        await run_in_threadpool(writer.commit)
    except TooLarge as exc:
        raise CodedError(
            str(exc) + "; nothing was stored", code="payload_too_large", headers={"Connection": "close"}
        ) from None
    except HashMismatch as exc:
        raise CodedError(str(exc), code="hash_mismatch") from None
    finally:
        writer.abort()  # a no-op after commit; removes the temporary file on any failure
    return JSONResponse({**answer, "size": writer.size, "stored": "new"}, status_code=201)


# ---------------------------------------------------------------- releases to grantees

AccessId = Annotated[int, PathParam(ge=1, le=v.ID_MAX, description="access id")]
ReleaseId = Annotated[int, PathParam(ge=1, le=v.ID_MAX, description="release id")]
RELEASE_ERRORS = s.error_responses(400, 401, 403, 404, 408, 413, 422, 503)  # 408/413: the body limits


class Link(BaseModel):
    url: str = Field(description="GET it with the same session's cookie")
    expires_at: int


class ReleaseDelivery(BaseModel):
    release_id: int
    tx_hash: s.Hash
    access_id: int
    dataset_id: int
    snapshot_block: int
    rows_in: int
    rows_out: int
    subject_count: int
    k_anonymity: int
    representativeness: dict[str, Any] | None = Field(
        None,
        description="how the released rows differ from all rows per declared categorical column, against the "
        "population profile kept at the declaration's cl:profileEpsilon (docs/PRIVACY.md section 7); null without one",
    )
    release_hash: s.Hash
    consent_root: s.Hash
    snapshot_hash: s.Hash
    size: int
    logged_by: s.Address
    link: Link


class NoFields(BaseModel):
    model_config = ConfigDict(extra="forbid")


@router.post(
    "/api/access/{access_id}/releases", response_model=ReleaseDelivery, status_code=201, responses=RELEASE_ERRORS
)
def request_release(
    request: Request, svc: Svc, access_id: AccessId, body: Annotated[NoFields | None, Body()] = None
) -> dict[str, Any]:
    """The signed-in grantee's consent-filtered release of a live access, as of the last finalized
    block, logged on chain by the data room's release operator; with a download link for this session."""
    return _as_grantee(request, svc, delivery.make_release, access_id, room_of(request).link_ttl)


def _as_grantee(
    request: Request, svc: Svc, act: Callable[..., dict[str, Any]], access_id: int, *rest: Any
) -> dict[str, Any]:
    """Run a grantee's action (a release, a private answer) with the session (CSRF checked), the store,
    the chain and the data room's operator key."""
    session = csrf_session(request, svc)
    room = room_of(request)
    settings = svc.settings
    return act(
        svc.engine,
        settings.cfg,
        settings.network,
        settings.data_dir,
        room.files,
        svc.chain.w3(),
        room.operator(),
        session,
        access_id,
        *rest,
    )


class AnswerBudget(BaseModel):
    budget: str = Field(description="epsilon, as a decimal")
    spent: str
    remaining: str
    budget_micro: int = Field(description="micro-epsilon, as on chain")
    spent_micro: int
    remaining_micro: int


class PrivateAnswer(BaseModel):
    """A differentially private answer (docs/PRIVACY.md "The answer and its accuracy") and its on-chain record."""

    query_hash: s.Hash
    statistic: str
    column: str | None
    epsilon: str
    epsilon_micro: int = Field(description="what this answer spent, micro-epsilon")
    confidence: float = Field(description="of every low-high interval")
    rows_used: dict[str, Any] | None = Field(description="noisy, with its interval; null when all is suppressed")
    consenting_subjects: int | None
    threshold: int
    suppressed_groups: int
    groups: list[dict[str, Any]] = Field(
        description="per group: key, suppressed, count and the statistic, each value/low/high"
    )
    mechanisms: list[dict[str, Any]]
    representativeness: dict[str, Any] | None
    notes: list[str]
    query_id: int
    access_id: int
    dataset_id: int
    snapshot_block: int
    consent_root: s.Hash
    subject_count: int = Field(description="size of the consent set the answer ran over (public)")
    tx_hash: s.Hash
    logged_by: s.Address
    budget: AnswerBudget


QUERY_ERRORS = s.error_responses(400, 401, 403, 404, 408, 409, 413, 422, 503)
QUERY_EXAMPLE = {
    "statistic": "mean",
    "column": "trips_walk",
    "epsilon": "0.5",
    "group_by": ["home_district"],
    "access_id": 1,
    "nonce": "b3f1c2",
}


@router.post("/api/access/{access_id}/queries", response_model=PrivateAnswer, status_code=201, responses=QUERY_ERRORS)
def private_query(
    request: Request,
    svc: Svc,
    access_id: AccessId,
    body: Annotated[dict[str, Any], Body(description="the query (docs/PRIVACY.md)", examples=[QUERY_EXAMPLE])],
) -> dict[str, Any]:
    """The signed-in grantee's differentially private answer over the consenting subjects' rows, as of
    the last finalized block; its epsilon spent from the access's on-chain budget by `log_query`."""
    from ...dataroom.private import answer_query

    return _as_grantee(request, svc, answer_query, access_id, body)


@router.get(
    "/api/access/{access_id}/answers",
    response_model=s.Page[PrivateAnswer],
    responses=s.error_responses(400, 401, 403, 404, 422, 503),
)
def stored_answers(
    request: Request,
    svc: Svc,
    access_id: AccessId,
    query_hash: Annotated[str | None, Query(description="one query's answer (0x bytes32)")] = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    """The private answers the data room gave you, the signed-in grantee, under this access (newest
    first), also after its access ended: an answer whose epsilon was spent is never lost to a crash or
    a dropped connection (one whose log is still being mined: 503, ask again in a moment)."""
    from ...dataroom.private import stored_answers

    wanted = v.hash32(query_hash, "query_hash") if query_hash is not None else None
    session = current_session(request, svc)
    with svc.engine.connect() as conn:
        access = conn.execute(select(queries.AC).where(queries.AC.c.id == access_id)).mappings().first()
    if access is None:
        raise NotFound(f"no access request {access_id} in the index")
    operator = room_of(request).operator().address
    registry = _access_registry(svc)
    kept = stored_answers(
        svc.engine,
        svc.chain.w3(),
        registry,
        operator,
        access,
        session,
        query_hash=wanted,
        page=page,
        page_size=page_size,
    )
    return paged(kept)


@router.post("/api/releases/{release_id}/links", response_model=Link, status_code=201, responses=RELEASE_ERRORS)
def release_link(request: Request, svc: Svc, release_id: ReleaseId) -> dict[str, Any]:
    """A new short-lived download link to a release the data room made, for its grantee's session."""
    session = csrf_session(request, svc)
    try:
        with svc.engine.connect() as conn:
            rel = delivery.link_for(conn, release_id, session)
    except NotFound:
        # A release logged just before the API died is kept now if its log was mined (delivery.py).
        room, w3 = room_of(request), svc.chain.w3()
        kind = delivery.pending_releases(svc.engine, _access_registry(svc), room.files, svc.settings.data_dir)
        if not settle(svc.engine, w3, room.operator().address, [kind])["made"]:
            raise
        with svc.engine.connect() as conn:
            rel = delivery.link_for(conn, release_id, session)
    delivery.live_on_chain(svc.chain.w3(), _access_registry(svc), rel["access_id"])
    with svc.engine.begin() as conn:
        return delivery.new_link(conn, release_id, session, room_of(request).link_ttl)


@router.get(
    "/api/releases/{release_id}/file",
    response_class=Response,
    responses={
        200: {"description": "the release file", "headers": FILE_HEADERS},
        **s.error_responses(400, 401, 403, 404, 410, 422, 503),
    },
)
def release_file(
    request: Request,
    svc: Svc,
    release_id: ReleaseId,
    link: Annotated[str, Query(max_length=100, description="the token of a link made for this session")],
) -> Response:
    """The release file, to the session its link was made for, while the access is live (checked on
    chain now); each serving is recorded as a delivery."""
    session = current_session(request, svc)
    room = room_of(request)
    with svc.engine.connect() as conn:
        rel = delivery.check_link(conn, release_id, link, session)
        delivery.grantee_access(conn, rel["access_id"], session)
    registry = _access_registry(svc)
    delivery.live_on_chain(svc.chain.w3(), registry, rel["access_id"])
    size = room.files.size(rel["sha256"])
    if size is None:
        raise NotFound(f"release {release_id}'s file is no longer in the store")
    answer = file_answer(
        request,
        room.files,
        rel["sha256"],
        size,
        f"release-{release_id}.csv",
        "text/csv; charset=utf-8",
        ranges=False,
        extra={"Cache-Control": "no-store"},
    )
    if answer.status_code == 200 and not request.scope.get("cityledger.head"):
        with svc.engine.begin() as conn:
            delivery.record_delivery(conn, rel, session.address)
    return answer


def _access_registry(svc: Svc) -> Any:
    from ...chain.deployments import contract, load_deployment
    from ...errors import CityLedgerError
    from ...query.errors import Unavailable

    cfg, net = svc.settings.cfg, svc.settings.network
    try:
        dep = load_deployment(net.chain_id, cfg)
    except CityLedgerError as exc:
        raise Unavailable(str(exc)) from None
    return contract(svc.chain.w3(), dep, "AccessRegistry", cfg)


@router.get("/api/deliveries", response_model=s.Page[s.Delivery], responses=s.error_responses(400, 422, 503))
async def deliveries(
    svc: Svc,
    recipient: str | None = None,
    release_id: Annotated[int | None, Query(ge=1, le=v.ID_MAX)] = None,
    access_id: Annotated[int | None, Query(ge=1, le=v.ID_MAX)] = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    """Every serving of a release file by the data room (who, when, which release, bytes, SHA-256)."""
    with svc.engine.connect() as c:
        return paged(
            queries.list_deliveries(
                c,
                recipient=v.address(recipient, "recipient") if recipient else None,
                release_id=release_id,
                access_id=access_id,
                page=page,
                page_size=page_size,
            )
        )
