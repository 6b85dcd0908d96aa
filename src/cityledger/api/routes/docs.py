"""The interactive API reference at /docs: Swagger UI from this server, never from a CDN (a city's
intranet deployment cannot reach one). Its files come with the page's build (`npm run build` copies
npm's swagger-ui-dist into frontend/dist/swagger-ui/, served at /docs/assets/); the start-up script
is a file too, so the Content-Security-Policy needs no inline script."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

ASSETS = "/docs/assets"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CityLedger API reference</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
  <noscript>The reference needs JavaScript; the schema is at <a href="/openapi.json">/openapi.json</a>.</noscript>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"""
MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>CityLedger API reference</title><link rel="icon" href="data:,"></head>
<body>
  <h1>CityLedger API reference</h1>
  <p>The interactive reference comes with the page's build (<code>npm run build</code>, or
  <code>make run</code>), which this server has not got. The OpenAPI schema is at
  <a href="/openapi.json">/openapi.json</a>; docs/API.md describes every route.</p>
</body>
</html>
"""
INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


def docs_router(assets_available: bool) -> APIRouter:
    """The /docs routes; without the built assets /docs says where the schema is instead."""
    out = APIRouter(include_in_schema=False)

    @out.get("/docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse(PAGE if assets_available else MISSING)

    @out.get("/docs/init.js")
    async def docs_init() -> Response:
        return Response(INIT, media_type="text/javascript")

    return out
