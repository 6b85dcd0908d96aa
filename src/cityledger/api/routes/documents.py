"""The public documents whose SHA-256 is on chain, by that hash: organisation profiles, rights
answers, release consent snapshots and DCAT metadata, from the content-addressed store. A client
checks the bytes against the hash it read from the chain (Content-Digest says it too)."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from ...datasets.store import MAX_DOCUMENT_BYTES, MetadataStore
from ...errors import CityLedgerError
from ...query import validate as v
from ...query.errors import NotFound
from ..deps import Svc
from ..metadata import store_dir
from .common import ERRORS

router = APIRouter(tags=["documents"])

DocumentHash = Annotated[str, PathParam(description="the document's SHA-256, 0x + 64 hex digits")]
OK = {
    "description": "the document's exact bytes: JSON (application/json) or UTF-8 text (text/plain), never HTML",
    "content": {"application/json": {}, "text/plain": {}},
    "headers": {
        "Content-Digest": {"description": "sha-256=:<base64 of the SHA-256>: (RFC 9530)", "schema": {"type": "string"}},
        "ETag": {"description": "the SHA-256 in hex, quoted", "schema": {"type": "string"}},
    },
}


@router.get("/api/documents/{sha256}", response_class=Response, responses={200: OK, **ERRORS})
async def document(svc: Svc, request: Request, sha256: DocumentHash) -> Response:
    """A document of the content-addressed store by its SHA-256 (at most 1 MiB; 404 when absent)."""
    digest = bytes.fromhex(v.hash32(sha256, "sha256")[2:])
    etag = f'"{digest.hex()}"'
    store = MetadataStore(store_dir(svc.settings.data_dir))
    try:  # a bounded read of a regular file, off the event loop
        found = await run_in_threadpool(store.document, digest, MAX_DOCUMENT_BYTES)
    except CityLedgerError as exc:  # larger than the cap, or altered: never served
        raise NotFound(f"document 0x{digest.hex()} is not served: {exc}") from None
    if found is None:
        raise NotFound(f"no document with SHA-256 0x{digest.hex()} in this store")
    data, media_type = found
    headers = {
        "Content-Digest": f"sha-256=:{base64.b64encode(digest).decode()}:",
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable",  # content-addressed: never changes
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=media_type, headers=headers)
