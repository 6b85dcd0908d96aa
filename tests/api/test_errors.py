"""HTTP status and error code agree everywhere: one table (query.errors.STATUS) gives each code its
status, the OpenAPI schema lists per status exactly the codes of that status, and docs/API.md's
table says the same. (test_fuzz_schema.py checks the answers themselves against the schema.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cityledger.query.errors import STATUS, BadInput, CodedError, NotFound, RateLimited, Rejected, Unavailable

ROOT = Path(__file__).resolve().parents[2]


def error_schemas(schema: dict) -> list[tuple[str, str, int, list[str]]]:
    """(path, method, status, codes) for every error answer an operation documents."""
    out = []
    components = schema["components"]["schemas"]
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                detail = components[ref]["properties"]["error"]["$ref"].rsplit("/", 1)[1]
                code = components[detail]["properties"]["code"]  # one code: a `const`
                out.append((path, method, int(status), code.get("enum") or [code["const"]]))
    return out


def test_the_schema_lists_for_each_status_exactly_its_codes(client):
    documented = error_schemas(client.get("/openapi.json").json())
    assert len(documented) > 40  # every route documents its errors
    for path, method, status, codes in documented:
        assert codes == [c for c, s in STATUS.items() if s == status], (path, method, status, codes)
    relay = {status for path, _, status, _ in documented if path == "/api/relay/grant"}
    assert {400, 408, 413, 422, 429, 503} <= relay


def test_docs_api_md_table_is_the_code_table():
    section = (ROOT / "docs" / "API.md").read_text().split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d{3}) \| (.+?) \|", section, re.M)
    documented = {code: int(status) for status, cell in rows for code in re.findall(r"`([a-z_]+)`", cell)}
    assert documented == STATUS


def test_an_error_takes_its_status_from_its_code():
    assert (BadInput("x").status, NotFound("x").status, RateLimited("x").status, Unavailable("x").status) == (
        400,
        404,
        429,
        503,
    )
    assert Rejected("late", code="expired").status == 422
    assert CodedError("gone", code="node_unavailable").status == 503
    with pytest.raises(ValueError, match="422"):
        Rejected("x", code="bad_request")  # a relayer refusal is never a 400 in disguise
    with pytest.raises(ValueError, match="no status"):
        CodedError("x", code="teapot")


@pytest.mark.parametrize(
    "path",
    [
        "/api/datasets?domain=%C2%B2",  # '²': str.isdigit() is true, int() refuses it (hypothesis found it)
        "/api/datasets/%C2%B2",
        "/api/datasets?status=%C2%B2",
        "/api/stats/datasets?domain=%D9%A3%C2%B2",
        "/catalog?page=%C2%B2",
    ],
)
def test_unicode_digits_are_bad_input_not_a_server_error(client, path):
    answer = client.get(path)
    assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)


def test_a_unicode_digit_content_length_is_refused_cleanly(client):
    # Straight to the ASGI app: HTTP clients refuse to send a non-ASCII header; a server in front might not.
    import asyncio

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/relay/grant",
        "raw_path": b"/api/relay/grant",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", "\u00b2".encode("latin-1"))],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(client.app(scope, receive, send))
    assert 400 <= sent[0]["status"] < 500, sent[0]
