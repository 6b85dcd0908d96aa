"""Request bodies under bounds, before anything parses them (ASGI middleware).

A body larger than `max_body_bytes` is answered 413 without being read (by its Content-Length) or as
soon as the bytes received pass the limit (chunked); the whole body must arrive within
`body_timeout` seconds (else 408: a client trickling its body holds nothing for long); and a JSON
body nested deeper than `max_json_depth` or with more than `max_json_items` members and items is
answered 400 before `json.loads` sees it. The stdlib's C decoder recurses once per level and
trusts the recursion limit to stop it: with py_ecc's 100000 (set when py-evm is imported) a 200 KB
body of brackets overflowed the C stack and killed the process. Only POST, PUT and PATCH bodies
are read here; the API's other methods never read a body, so theirs is only size-checked.
"""

from __future__ import annotations

import asyncio
import re
from itertools import accumulate

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import ApiLimits
from ..digits import is_decimal
from .handlers import error_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# So that the unread rest of a refused body is never parsed as the next request.
CLOSE = {"Connection": "close"}

_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # an escaped character inside a string (\" or \\ ...)
_STRING = re.compile(rb'"[^"]*"')  # linear once escapes are gone: each quote is a real delimiter
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
for _b in b"[{":
    _STEP[_b] = 1
for _b in b"]}":
    _STEP[_b] = -1


def json_shape_problem(body: bytes, max_depth: int, max_items: int) -> str | None:
    """Why a JSON body is refused before parsing (too deep, too many values), or None. Linear in
    the body's size: strings are removed first, so brackets and commas inside them do not count;
    an unclosed bracket counts (the decoder recurses into it before it finds the end)."""
    bare = _STRING.sub(b"", _ESCAPE.sub(b"", body))
    if bare.count(b",") >= max_items:
        return f"the JSON body has more than {max_items} members and array items"
    brackets = bare.translate(None, _NOT_BRACKETS)
    opened = brackets.count(b"[") + brackets.count(b"{")
    if opened > max_depth and max(accumulate(map(_STEP.__getitem__, brackets))) > max_depth:
        return f"the JSON body is nested deeper than {max_depth} levels"
    return None


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class BodyLimits:
    """`streamed`: a pattern of (method, path) the app reads as a stream under its own bounds (a file
    upload: "PUT /api/datasets/1/file"); its body passes untouched."""

    def __init__(self, app: ASGIApp, limits: ApiLimits, streamed: re.Pattern[str] | None = None):
        self.app = app
        self.limits = limits
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            self.streamed is not None and self.streamed.fullmatch(f"{scope['method']} {scope['path']}")
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if declared is None and not chunked:
            await self.app(scope, receive, send)  # no body
            return
        limit = self.limits.max_body_bytes
        if declared is not None and (not is_decimal(declared) or int(declared) > limit):
            await self._refuse(scope, receive, send, "payload_too_large", f"{declared[:20]} bytes")
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                body = await self._read(receive, limit)
        except TimeoutError:
            message = f"the request body did not arrive within {self.limits.body_timeout:g} s"
            await error_response("request_timeout", message, CLOSE)(scope, receive, send)
            return
        except _TooLarge:
            await self._refuse(scope, receive, send, "payload_too_large", "more bytes")
            return
        except _Disconnected:
            return  # the client went away: nobody to answer
        problem = json_shape_problem(body, self.limits.max_json_depth, self.limits.max_json_items)
        if problem:
            await error_response("bad_request", problem + " (refused before parsing)", CLOSE)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, code: str, size: str) -> None:
        message = f"request bodies are limited to {self.limits.max_body_bytes} bytes; this one has {size}"
        await error_response(code, message, CLOSE)(scope, receive, send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the app the body already read, then the client's later messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
