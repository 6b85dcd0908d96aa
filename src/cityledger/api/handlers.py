"""Every error as {"error": {"code", "message"}}: the API's own errors, schema violations, unknown
routes and methods, an unreachable store or node, and (logged) bugs."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError, ProgrammingError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ..errors import CityLedgerError, NetworkError
from ..query import validate as v
from ..query.errors import DEFAULT_CODE, CodedError, status_of

log = logging.getLogger("cityledger.api")


def error_response(code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The error body; its status is the code's (query.errors.STATUS), so the two always agree."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status_of(code), headers=headers)


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
    return error_response(exc.code, exc.message, exc.headers)


async def _invalid(_req: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response("validation_error", _validation_message(exc))


async def _http(_req: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = DEFAULT_CODE.get(exc.status_code)
    if code is None:  # a status this API does not use: the nearest one that has a code
        log.warning("HTTP %s from the framework answered as %s", exc.status_code, 400 if exc.status_code < 500 else 500)
        code = "bad_request" if exc.status_code < 500 else "internal_error"
    message = exc.detail if isinstance(exc.detail, str) else "error"
    if exc.status_code == 404 and message == "Not Found":
        message = "no such route or file (the API is under /api; see /docs)"
    return error_response(code, message, getattr(exc, "headers", None))


async def _store_down(_req: Request, exc: Exception) -> JSONResponse:
    log.warning("store unavailable: %s", getattr(exc, "orig", exc))
    return error_response(
        "store_unavailable",
        "the index store cannot be read now (not created yet, not yet migrated by the indexer, or locked); retry",
    )


async def _node_down(_req: Request, exc: Exception) -> JSONResponse:
    return error_response("node_unavailable", str(exc))


async def _cityledger(_req: Request, exc: Exception) -> JSONResponse:
    return error_response("bad_request", str(exc))


async def _bug(_req: Request, exc: Exception) -> JSONResponse:  # a bug: logged with its traceback, a clean body
    log.exception("unhandled error", exc_info=exc)
    return error_response("internal_error", "internal error (logged); please report it")


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


class Cors(CORSMiddleware):
    """CORS for the page's own origin(s); a refused preflight is answered in the API's error format
    (Starlette's is plain text)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        cors = {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}
        refused = bytes(response.body).decode()
        return error_response("bad_request", f"{refused}: this API answers browsers on the page's own origin", cors)
