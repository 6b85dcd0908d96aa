"""Property-based fuzz of the whole OpenAPI schema (schemathesis): no input gives a 5xx, every
4xx carries the {"error": {"code", "message"}} body. The relayer runs against a real devnet, so
its routes are fuzzed too (random signatures must be refused before any transaction)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from cityledger.api.app import create_app
from cityledger.config import load_config
from cityledger.query.errors import STATUS


class LateApp:
    """The ASGI app under test, chosen by a fixture: the schema is loaded at import (parametrize
    needs it), the store and the devnet exist only once the fixtures run."""

    def __init__(self):
        # The schema does not depend on the store: a store that is never opened serves it.
        self.app = create_app(
            load_config(), db_url=f"sqlite:///{Path(tempfile.gettempdir()) / 'cityledger-schema-only.db'}"
        )

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


TARGET = LateApp()
schema = schemathesis.openapi.from_asgi("/openapi.json", TARGET)
OPENAPI = TARGET.app.openapi()


def documented_codes(path: str, method: str) -> dict[int, list[str]]:
    """status -> the error codes the OpenAPI schema lists for one operation."""
    out = {}
    for status, answer in OPENAPI["paths"][path][method.lower()]["responses"].items():
        ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
        if ref.startswith("#/components/schemas/Error"):
            detail = OPENAPI["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["error"]["$ref"]
            code = OPENAPI["components"]["schemas"][detail.rsplit("/", 1)[1]]["properties"]["code"]
            out[int(status)] = code.get("enum") or [code["const"]]  # one code: a `const`
    return out


@pytest.fixture
def live_app(devnet, seeded):
    previous = TARGET.app
    TARGET.app = create_app(
        devnet.cfg, db_url=seeded.url, data_dir=seeded.data_dir, relay_per_minute=100_000, relay_burst=100_000
    )
    yield
    TARGET.app = previous


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_clean_error_bodies(case, devnet, live_app):
    relayer = devnet.accounts[5].address
    sent_before = devnet.w3.eth.get_transaction_count(relayer)
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
        assert body["error"]["message"]
        # The status and the code agree, and the operation documents both (405 is no operation's).
        assert STATUS[body["error"]["code"]] == response.status_code, body
        if response.status_code != 405:
            documented = documented_codes(case.path, case.method)
            assert body["error"]["code"] in documented.get(response.status_code, ()), (case.path, body, documented)
    if case.path.startswith("/api/relay/"):
        # Random signatures never recover to the citizen: nothing may have been sent.
        assert devnet.w3.eth.get_transaction_count(relayer) == sent_before
