"""Security headers on the page, its assets, /api/* (answers and errors) and /docs; HEAD answered
wherever GET is; /docs served from this server only (no CDN, no external favicon)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from cityledger.api.app import create_app

from .conftest import C1

EXPECTED = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


@pytest.fixture(scope="module")
def site(seeded, tmp_path_factory):
    """The app with a (stand-in) built page and Swagger UI files, as `npm run build` leaves them."""
    dist = tmp_path_factory.mktemp("dist")
    (dist / "index.html").write_text(
        '<!doctype html><title>CityLedger</title><script type="module" src="./assets/a.js">'
    )
    (dist / "assets").mkdir()
    (dist / "assets" / "a.js").write_text("export {};")
    (dist / "swagger-ui").mkdir()
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        (dist / "swagger-ui" / name).write_text("/* stand-in */")
    return TestClient(create_app(db_url=seeded.url, data_dir=seeded.data_dir, frontend_dir=dist))


def get_paths(client) -> list[str]:
    paths = client.get("/openapi.json").json()["paths"]
    concrete = {"{ref}": "2", "{address}": C1, "{content_hash}": "0x" + "ab" * 32}
    out = []
    for path, ops in paths.items():
        if "get" in ops:
            for name, value in concrete.items():
                path = path.replace(name, value)
            out.append(path)
    return out


def assert_secure(resp, where: str) -> None:
    for name, value in EXPECTED.items():
        assert resp.headers.get(name) == value, (where, name, dict(resp.headers))
    csp = dict(part.strip().split(" ", 1) for part in resp.headers["content-security-policy"].split(";"))
    assert csp["frame-ancestors"] == "'none'" and csp["script-src"] == "'self'", (where, csp)
    assert csp["object-src"] == "'none'" and csp["default-src"] == "'self'", (where, csp)


def test_every_answer_carries_the_security_headers(site):
    urls = [
        "/",
        "/index.html",
        "/assets/a.js",
        "/docs",
        "/docs/init.js",
        "/docs/assets/swagger-ui.css",
        "/openapi.json",
    ]
    urls += get_paths(site) + ["/api/datasets/99", "/api/nowhere", "/api/datasets?page_size=1000"]
    assert len(urls) > 20
    for url in urls:
        assert_secure(site.get(url), url)
    assert_secure(
        site.post("/api/relay/grant", content=b"[" * 40, headers={"content-type": "application/json"}), "POST"
    )
    assert_secure(site.post("/api/datasets"), "405")
    # Only /docs allows inline styles (Swagger UI sets them); nothing allows inline scripts.
    assert "'unsafe-inline'" not in site.get("/").headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in site.get("/docs").headers["content-security-policy"]


def test_head_is_answered_wherever_get_is(site):
    for url in get_paths(site) + ["/", "/docs", "/openapi.json", "/api/datasets/99"]:
        got, head = site.get(url), site.head(url)
        assert head.status_code == got.status_code, (url, head.status_code, got.status_code)
        assert head.content == b"" and head.headers.get("content-length") == got.headers.get("content-length"), url
        assert_secure(head, f"HEAD {url}")
    # A POST route: GET and HEAD get the API's 405, not the page's "no such file" (the page is at /).
    assert site.get("/api/relay/grant").json()["error"]["code"] == "method_not_allowed"
    relay = site.head("/api/relay/grant")
    assert relay.status_code == 405 and relay.content == b""


def test_docs_are_self_hosted(site, seeded, tmp_path):
    page = site.get("/docs").text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), page  # no CDN, no external favicon
    assert '<link rel="icon" href="data:,">' in page and "/docs/assets/swagger-ui-bundle.js" in page
    assert "<script>" not in page  # the start-up script is a file (/docs/init.js): no inline script
    assert "SwaggerUIBundle" in site.get("/docs/init.js").text
    # Without the page's build: a page saying where the schema is, still nothing external.
    bare = TestClient(create_app(db_url=seeded.url, data_dir=seeded.data_dir, frontend_dir=tmp_path))
    text = bare.get("/docs").text
    assert "/openapi.json" in text and "npm run build" in text and "//" not in text.replace("<!doctype", "")
