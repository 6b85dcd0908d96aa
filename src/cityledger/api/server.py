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

`--workers N` runs N worker processes on one listening socket (uvicorn's supervisor restarts one that
dies). Each builds its own app from the same ServeSpec (passed in the environment, as the workers are
spawned, not forked); the bounds above are per worker. What must hold across workers, the relayer's
nonce, outbox and rate limits, is in the store (relay_store.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..config import ApiLimits, Config, config
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


SPEC_ENV = "CITYLEDGER_SERVE_SPEC"


@dataclass(frozen=True)
class ServeSpec:
    """What `cityledger serve` was asked for: every worker builds its app from it."""

    host: str | None = None
    port: int | None = None
    db: str | None = None
    network: str | None = None
    cors_origins: list[str] | None = None
    relay_per_minute: float = 6
    limits: dict[str, Any] = field(default_factory=dict)  # [api] bounds given as options
    public_base_url: str | None = None  # --public-base-url, already checked

    def config(self) -> Config:
        cfg = config()
        limits = dataclasses.replace(cfg.api_limits, **self.limits)
        cfg = dataclasses.replace(
            cfg, api_host=self.host or cfg.api_host, api_port=self.port or cfg.api_port, api_limits=limits
        )
        return dataclasses.replace(cfg, public_base_url=self.public_base_url) if self.public_base_url else cfg

    def app(self, cfg: Config) -> ASGIApp:
        from .app import create_app

        return create_app(
            cfg, db_url=self.db, network=self.network, cors_origins=self.cors_origins,
            relay_per_minute=self.relay_per_minute,
        )  # fmt: skip


def serve_spec(spec: ServeSpec, workers: int = 1) -> None:
    """Serve what `spec` describes with `workers` processes, until interrupted."""
    cfg = spec.config()
    app = spec.app(cfg)  # also with workers: a bad store URL or network is one error here, not N
    if workers == 1:
        # Everything loaded so far lives as long as the process: keep it out of the GC's scans.
        gc.collect()
        gc.freeze()
        serve(app, cfg.api_host, cfg.api_port, cfg.api_limits)
        return
    del app
    os.environ[SPEC_ENV] = json.dumps(dataclasses.asdict(spec))
    sys.setrecursionlimit(cfg.api_limits.recursion_limit)
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        workers=workers,
        host=cfg.api_host,
        port=cfg.api_port,
        http=f"{__name__}:GuardedH11Protocol",
        log_level="info",
        access_log=False,
    )


def worker_app() -> ASGIApp:
    """The app of one worker process (uvicorn calls it in each worker): the spec from the environment,
    this worker's protocol bounds and recursion limit."""
    spec = ServeSpec(**json.loads(os.environ[SPEC_ENV]))
    cfg = spec.config()
    GuardedH11Protocol.header_timeout = cfg.api_limits.header_timeout
    GuardedH11Protocol.max_connections = cfg.api_limits.max_connections
    app = RecursionGuard(spec.app(cfg), cfg.api_limits.recursion_limit)
    sys.setrecursionlimit(cfg.api_limits.recursion_limit)
    gc.collect()
    gc.freeze()
    return app
