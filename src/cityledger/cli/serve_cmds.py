"""CLI command: serve (owned by api/): the HTTP API and the built web page, on 127.0.0.1 by default."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def serve_cmd(
    host: Annotated[str | None, typer.Option("--host", help="Interface (default: [api] host, 127.0.0.1)")] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port (default: [api] port, 8000)")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: [store] url)")] = None,
    network: Annotated[str | None, typer.Option("--network", "-n", help="A network of cityledger.toml")] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="Allowed browser origin (repeatable; default: the page's own)"),
    ] = None,
    relay_per_minute: Annotated[
        float, typer.Option("--relay-per-minute", min=0.1, help="Relayed requests per citizen a minute")
    ] = 6,
    header_timeout: Annotated[
        float | None,
        typer.Option("--header-timeout", help="Seconds for a request's headers ([api])"),
    ] = None,
    body_timeout: Annotated[
        float | None, typer.Option("--body-timeout", help="Seconds for a request body ([api])")
    ] = None,
    max_connections: Annotated[
        int | None, typer.Option("--max-connections", help="Open connections at most ([api])")
    ] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option("--max-body-bytes", help="Request body bytes at most ([api])")
    ] = None,
    public_base_url: Annotated[
        str | None,
        typer.Option(
            "--public-base-url", help="URL clients reach the API at: the catalogue's IRIs ([api] public_base_url)"
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Worker processes on the one port (the relayer stays one sender)")
    ] = 1,
) -> None:
    """Serve the query API (OpenAPI at /docs), the signed-consent relayer and the web page."""
    import os

    from ..api.server import ServeSpec, serve_spec
    from ..config import check_base_url

    given: dict[str, Any] = {
        "header_timeout": header_timeout,
        "body_timeout": body_timeout,
        "max_connections": max_connections,
        "max_body_bytes": max_body_bytes,
    }
    origins = cors_origin or (
        os.environ["CITYLEDGER_CORS_ORIGINS"].split(",") if os.environ.get("CITYLEDGER_CORS_ORIGINS") else None
    )
    public = check_base_url(public_base_url, "--public-base-url") if public_base_url else None
    spec = ServeSpec(
        host=host, port=port, db=db, network=network, cors_origins=origins, relay_per_minute=relay_per_minute,
        limits={k: v for k, v in given.items() if v is not None}, public_base_url=public,
    )  # fmt: skip
    serve_spec(spec, workers)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
