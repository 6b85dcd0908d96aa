"""Errors of the read floor (queries, validation, the relayer's checks), each with a machine-readable
code and the HTTP status the API answers it with ({"error": {"code", "message"}}).

They are CityLedgerErrors too, so the CLI (which shares the query functions) prints them on one
line and exits 1."""

from __future__ import annotations

from ..errors import CityLedgerError


class CodedError(CityLedgerError):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.headers = headers or {}


class BadInput(CodedError):
    status = 400
    code = "bad_request"


class NotFound(CodedError):
    status = 404
    code = "not_found"


class Rejected(CodedError):
    """The relayer refuses a request (bad signature, stale nonce, past deadline, simulation revert)."""

    status = 422
    code = "rejected"


class RateLimited(CodedError):
    status = 429
    code = "rate_limited"


class Unavailable(CodedError):
    """A dependency (store, RPC) is not reachable: the client may retry later."""

    status = 503
    code = "unavailable"
