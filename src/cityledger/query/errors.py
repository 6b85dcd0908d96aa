"""Errors of the read floor (queries, validation, the relayer's checks), each with a machine-readable
code and the HTTP status the API answers it with ({"error": {"code", "message"}}).

STATUS is the one mapping from code to status: an error takes its status from its code, so the two
cannot disagree (docs/API.md's table and the OpenAPI schema are tested against it). They are
CityLedgerErrors too, so the CLI (which shares the query functions) prints them on one line and
exits 1."""

from __future__ import annotations

from ..errors import CityLedgerError

STATUS: dict[str, int] = {
    "bad_request": 400,
    "not_signed_in": 401,
    "siwe_expired": 401,
    "siwe_nonce": 401,
    "siwe_domain": 401,
    "siwe_uri": 401,
    "siwe_chain": 401,
    "siwe_signature": 401,
    "csrf": 403,
    "forbidden": 403,
    "access_not_live": 403,
    "personal_data": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "request_timeout": 408,
    "gone": 410,
    "payload_too_large": 413,
    "range_not_satisfiable": 416,
    "validation_error": 422,
    "hash_mismatch": 422,
    "release_refused": 422,
    "bad_signature": 422,
    "stale_nonce": 422,
    "wrong_chain": 422,
    "expired": 422,
    "would_revert": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "store_unavailable": 503,
    "node_unavailable": 503,
    "unavailable": 503,
    "overloaded": 503,
}

# The code of a status when nothing more specific is known (e.g. an HTTP error raised by Starlette).
DEFAULT_CODE: dict[int, str] = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    410: "gone",
    413: "payload_too_large",
    416: "range_not_satisfiable",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def status_of(code: str) -> int:
    """The HTTP status of an error code (a code outside STATUS is a bug, not a client's error)."""
    try:
        return STATUS[code]
    except KeyError:
        raise ValueError(f"error code {code!r} has no status in query.errors.STATUS") from None


class CodedError(CityLedgerError):
    """An error with a code of STATUS; `headers` go with the HTTP answer (e.g. Retry-After)."""

    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.status = status_of(self.code)
        self.headers = headers or {}


class BadInput(CodedError):
    code = "bad_request"


class NotFound(CodedError):
    code = "not_found"


class Rejected(CodedError):
    """The relayer refuses a signed request before sending anything; the code says why
    (bad_signature, stale_nonce, wrong_chain, expired, would_revert)."""

    def __init__(self, message: str, *, code: str):
        if status_of(code) != 422:
            raise ValueError(f"a relayer refusal is a 422, not {code!r}")
        super().__init__(message, code=code)


class RateLimited(CodedError):
    code = "rate_limited"


class Unavailable(CodedError):
    """A dependency (store, RPC) is not reachable: the client may retry later."""

    code = "unavailable"
