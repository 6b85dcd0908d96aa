"""The HTTP API (FastAPI): read-only queries over the index, the signed-consent relayer, and the
built web page at /.

This module only assembles the app: middleware, error handlers (handlers.py), the routers of
routes/ (one per area) and the static page. What the routes share lives on `app.state.services`
(state.py), reached through the typed dependencies of deps.py.

Errors are always {"error": {"code", "message"}}, the status given by the code (query.errors.STATUS):
400 bad input, 404 unknown id or route, 405, 408/413 slow or large bodies, 422 schema violations and
relayer refusals, 429 rate limit, 503 store or node unreachable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from ..config import Config, load_config
from ..dataroom.room import CSRF_HEADER, DataRoom
from .handlers import Cors, install_error_handlers
from .limits import BodyLimits
from .middleware import HeadAsGet, SecurityHeaders
from .relayer import Relayer
from .routes import ROUTERS
from .routes.dataroom import UPLOAD_ROUTE
from .routes.docs import ASSETS, docs_router
from .state import ApiSettings, Services

DESCRIPTION = (
    "Datasets, consent, access, releases and rights requests of a city, from the on-chain index. "
    'Read-only except the signed-consent relayer. Errors: {"error": {"code", "message"}}.'
)


def default_origins(cfg: Config) -> list[str]:
    """The page's own origin: the API's host and port, and localhost on that port."""
    return [f"http://{cfg.api_host}:{cfg.api_port}", f"http://localhost:{cfg.api_port}"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.services.close()


def create_app(
    cfg: Config | None = None,
    *,
    db_url: str | None = None,
    network: str | None = None,
    data_dir: Path | None = None,
    frontend_dir: Path | None = None,
    cors_origins: list[str] | None = None,
    relayer: Relayer | None = None,
    relay_per_minute: float = 6,
    relay_burst: int | None = None,
    rpc_timeout: float = 1.0,
) -> FastAPI:
    """The API for a config (default: the project's), store URL, network and data folder."""
    cfg = cfg or load_config()
    settings = ApiSettings(
        cfg=cfg,
        network=cfg.network(network),
        db_url=db_url or cfg.db_url,
        data_dir=Path(data_dir or cfg.data_dir),
        frontend_dir=Path(frontend_dir) if frontend_dir else cfg.root / "frontend" / "dist",
        cors_origins=cors_origins if cors_origins is not None else default_origins(cfg),
        relay_per_minute=relay_per_minute,
        relay_burst=relay_burst,
        rpc_timeout=rpc_timeout,
    )
    app = FastAPI(
        title="CityLedger API", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    # Built here (nothing connects before first use) so that a bad store URL fails at start-up and
    # an app driven without its lifespan (a TestClient outside `with`) works the same.
    app.state.services = Services(settings, relayer)
    app.state.dataroom = DataRoom(cfg, settings.network, settings.data_dir)
    # The last added is the outermost: CORS headers also go on the body limits' refusals, and the
    # security headers on everything.
    # A publisher's file upload streams its body to the store under its own limit (routes/dataroom.py).
    app.add_middleware(BodyLimits, limits=cfg.api_limits, streamed=UPLOAD_ROUTE)
    app.add_middleware(
        Cors,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT"],
        allow_headers=["Content-Type", CSRF_HEADER],
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)
    install_error_handlers(app)
    for router in ROUTERS:
        # The routers' own routes, not include_router: this FastAPI resolves an included router's
        # routes through a wrapper on every request (~10 % more calls for a point query).
        app.router.routes.extend(router.routes)
    mount_pages(app, settings.frontend_dir)
    return app


def mount_pages(app: FastAPI, dist: Path) -> None:
    """The API reference at /docs (its Swagger UI files from the page's build) and the page at /."""
    swagger = dist / "swagger-ui"
    app.include_router(docs_router(assets_available=(swagger / "swagger-ui-bundle.js").is_file()))
    if swagger.is_dir():
        app.mount(ASSETS, StaticFiles(directory=swagger), name="docs-assets")
    if (dist / "index.html").is_file():
        app.router.routes.append(PageMount("/", app=StaticFiles(directory=dist, html=True), name="frontend"))


class PageMount(Mount):
    """The page at /, but never for /api/...: there an unknown route is the API's 404, and a known
    route with another method its 405 (a mount at / would answer both with a missing file)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)
