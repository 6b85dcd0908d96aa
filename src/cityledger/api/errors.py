"""Errors the API turns into 4xx bodies {"error": {"code", "message"}}.

They are CityLedgerErrors too, so the CLI (which shares the query functions) prints them on one
line and exits 1."""

from __future__ import annotations

from ..errors import CityLedgerError


class ApiError(CityLedgerError):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, headers=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.headers = headers or {}


class BadInput(ApiError):
    status = 400
    code = "bad_request"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Rejected(ApiError):
    """The relayer refuses a request (bad signature, stale nonce, past deadline, simulation revert)."""

    status = 422
    code = "rejected"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class Unavailable(ApiError):
    """A dependency (store, RPC) is not reachable: the client may retry later."""

    status = 503
    code = "unavailable"
