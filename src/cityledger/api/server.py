"""`cityledger serve`: the API under uvicorn, bounded against slow and numerous clients.

uvicorn closes idle keep-alive connections, but nothing bounds a client that trickles its request
headers a byte at a time, nor how many connections are open: 2,000 such clients were held for
minutes, each holding a file descriptor. GuardedH11Protocol (uvicorn's h11 protocol plus two
checks) answers 408 and closes a connection whose headers are not complete `header_timeout`
seconds after its first byte (or after the connection opened), and answers 503 and closes at once
any connection past `max_connections`. The body's own timeout and size are the app's (limits.py),
so they hold under any server.

The process's recursion limit is the one configured ([api] recursion_limit), set after every import
and checked again on each request: py_ecc (imported with py-evm) sets it to 100000 at import, which
let the C JSON decoder overflow the C stack on a deeply nested body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from http import HTTPStatus
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..config import ApiLimits
from ..query.errors import status_of
from .middleware import SECURITY_HEADERS

log = logging.getLogger("cityledger.api")


def raw_error(code: str, message: str) -> bytes:
    """A complete HTTP/1.1 error response in the API's body format, for the connection level
    (no request was parsed, so the app cannot answer); it closes the connection."""
    status = status_of(code)
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "content-type: application/json"]
    head += [f"{name}: {value}" for name, value in SECURITY_HEADERS.items()]
    head += [f"content-length: {len(body)}", "connection: close", "", ""]
    return "\r\n".join(head).encode("latin-1") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header read timeout and a connection cap (set by `serve`)."""

    header_timeout: float = 10.0
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._close_with("overloaded", f"more than {self.max_connections} open connections; retry shortly")
            return
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_timer()  # the headers are complete

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # A request h11 cannot parse (bad syntax, headers over its 16 KiB): in the API's format.
        self._close_with("bad_request", f"not a valid HTTP/1.1 request: {msg}")

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._close_with("request_timeout", f"the request headers did not arrive within {self.header_timeout:g} s")

    def _close_with(self, code: str, message: str) -> None:
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.write(raw_error(code, message))
            self.transport.close()


class RecursionGuard:
    """Keeps the process's recursion limit at the configured value: an import during a request
    (py_ecc's sets 100000) is undone before the next request is handled, and logged."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if sys.getrecursionlimit() != self.limit:
            log.warning(
                "recursion limit was changed to %d (an import?); reset to %d", sys.getrecursionlimit(), self.limit
            )
            sys.setrecursionlimit(self.limit)
        await self.app(scope, receive, send)


def guarded_protocol(limits: ApiLimits) -> type[GuardedH11Protocol]:
    """The protocol class with this server's bounds (uvicorn builds one per connection)."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": limits.header_timeout, "max_connections": limits.max_connections},
    )


def serve(app: ASGIApp, host: str, port: int, limits: ApiLimits) -> None:
    """Run `app` on host:port until interrupted, with the bounds above."""
    sys.setrecursionlimit(limits.recursion_limit)
    uvicorn.run(
        RecursionGuard(app, limits.recursion_limit),
        host=host,
        port=port,
        http=guarded_protocol(limits),
        log_level="info",
        access_log=False,
    )
