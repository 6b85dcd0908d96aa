"""Every error as {"error": {"code", "message"}}: the API's own errors, schema violations, unknown
routes and methods, an unreachable store or node, and (logged) bugs."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import CityLedgerError, NetworkError
from ..query import validate as v
from ..query.errors import CodedError

log = logging.getLogger("cityledger.api")


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body")) or "request"
        msg = err.get("msg", "invalid")
        if err.get("type") == "less_than_equal" and loc.endswith("page_size"):
            msg = f"must be at most {v.MAX_PAGE_SIZE} (the page-size limit)"
        given = err.get("input")
        if given is not None and not isinstance(given, (dict, list)):
            msg += f" (got {str(given)[:40]!r})"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts) or "invalid request"


async def _api_error(_req: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CodedError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _invalid(_req: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "validation_error", _validation_message(exc))


async def _http(_req: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "error"
    if exc.status_code == 404 and message == "Not Found":
        message = "no such route or file (the API is under /api; see /docs)"
    return error_response(exc.status_code, code, message, getattr(exc, "headers", None))


async def _store_down(_req: Request, exc: Exception) -> JSONResponse:
    log.warning("store unavailable: %s", getattr(exc, "orig", exc))
    return error_response(
        503,
        "store_unavailable",
        "the index store cannot be read now (not created yet, not yet migrated by the indexer, or locked); retry",
    )


async def _node_down(_req: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "node_unavailable", str(exc))


async def _cityledger(_req: Request, exc: Exception) -> JSONResponse:
    return error_response(400, "bad_request", str(exc))


async def _bug(_req: Request, exc: Exception) -> JSONResponse:  # a bug: logged with its traceback, a clean body
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error (logged); please report it")


def install_error_handlers(app: FastAPI) -> None:
    # Starlette picks the handler of the nearest class in the exception's MRO: CodedError before
    # CityLedgerError, NetworkError before CityLedgerError.
    app.add_exception_handler(CodedError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _store_down)
    app.add_exception_handler(ProgrammingError, _store_down)
    app.add_exception_handler(NetworkError, _node_down)
    app.add_exception_handler(CityLedgerError, _cityledger)
    app.add_exception_handler(Exception, _bug)
