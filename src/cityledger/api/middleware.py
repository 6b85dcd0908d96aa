"""Two ASGI middlewares for every answer: the security headers, and HEAD answered as GET.

Headers (on the page at /, its assets, /api/* and /docs alike):
- Content-Security-Policy: scripts, styles, fonts and fetches from this origin only (the Vite build
  is one module script and one stylesheet, no inline code; the wallet is the browser extension's,
  reached through window.ethereum, not by fetch), images also as data: URIs (the icon), no plugins,
  no <base>, forms posting only here, and `frame-ancestors 'none'`: no other site may frame the
  page, so nobody can lay a decoy over the consent buttons (clickjacking).
- X-Frame-Options: DENY, the same for browsers that predate frame-ancestors.
- X-Content-Type-Options: nosniff: a JSON answer is never run as a script or a style.
- Referrer-Policy: no-referrer: a citizen's address in the page's URL is not sent to other sites.
The API reference at /docs is the same except that Swagger UI sets inline styles (style-src
'unsafe-inline' there only; no inline script anywhere).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _csp(**over: str) -> str:
    return "; ".join(f"{name} {value}" for name, value in {**_POLICY, **over}.items())


PAGE_CSP = _csp()
DOCS_CSP = _csp(**{"style-src": "'self' 'unsafe-inline'"})

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _raw(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


# Encoded once: appended to every answer's headers (no app route sets any of them).
_RAW_PAGE = _raw(SECURITY_HEADERS)
_RAW_DOCS = _raw({**SECURITY_HEADERS, "Content-Security-Policy": DOCS_CSP})


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = _RAW_DOCS if path == "/docs" or path.startswith("/docs/") else _RAW_PAGE

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """HEAD answered as the GET of the same URL without its body (FastAPI routes answer GET only;
    HTTP says HEAD must work wherever GET does, with the same headers)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # The marker lets a file route answer the headers without reading the file.
        await self.app({**scope, "method": "GET", "cityledger.head": True}, receive, without_body)
