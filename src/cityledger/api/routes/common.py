"""Parameters and helpers that several routers use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Path as PathParam
from fastapi import Query
from starlette.concurrency import run_in_threadpool

from ...digits import is_decimal
from ...query import validate as v
from ...query.errors import BadInput
from .. import schemas as s

T = TypeVar("T")

# What a read route can answer besides 200 (503: the store is not there yet, or locked).
ERRORS = s.error_responses(400, 404, 422, 503)
PageNo = Annotated[int, Query(ge=1, le=10**9, description="page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=v.MAX_PAGE_SIZE, description=f"items per page (max {v.MAX_PAGE_SIZE})")]
AsOf = Annotated[int | None, Query(ge=0, le=v.ID_MAX, description="answer as of this block (default: last indexed)")]
DatasetRef = Annotated[str, PathParam(description="dataset id or 0x content hash")]


def dataset_ref(ref: str) -> int | str:
    ref = ref.strip()
    if is_decimal(ref):
        return v.positive_id(ref, "dataset id")
    if ref.startswith("0x"):
        return v.hash32(ref, "content hash")
    raise BadInput(f"dataset must be an id (1, 2, ...) or a 0x content hash, got {ref[:80]!r}")


def paged(out: dict[str, Any]) -> dict[str, Any]:
    return {k: out[k] for k in ("items", "page", "page_size", "total")}


# Point queries run on the event loop: a SQLite lookup takes well under a millisecond, and a
# thread hop per request (plus GIL hand-offs between pool threads) costs more than the query
# and makes the tail latency. Scans and anything that may call the node use the thread pool.
async def maybe_slow(as_of_block: int | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """As of an older block the answer replays history and may ask the node for a block's
    timestamp: that runs in the thread pool; the latest-block answer is a point lookup."""
    if as_of_block is None:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)
