"""The indexer's JSON-RPC client and a provider's HTTP 429: it waits the Retry-After it is given
(it used to retry after its own 0.1 s backoff, which a provider counts against the client)."""

from __future__ import annotations

import email.utils
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cityledger.indexer import rpc as rpc_module
from cityledger.indexer.rpc import MAX_RETRY_AFTER, Rpc, RpcUnavailable, retry_after_seconds


class Provider:
    """A loopback JSON-RPC endpoint that answers 429 (with `retry_after`) `refusals` times, then 0x2a."""

    def __init__(self, retry_after: str | None, refusals: int = 1):
        self.retry_after, self.refusals, self.seen = retry_after, refusals, 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.seen += 1
                if provider.seen <= provider.refusals:
                    payload = json.dumps({"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32005,
                                          "message": "rate exceeded"}}).encode()  # fmt: skip
                    self.send_response(429)
                    if provider.retry_after is not None:
                        self.send_header("Retry-After", provider.retry_after)
                else:
                    payload = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": "0x2a"}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sleeps(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(rpc_module.time, "sleep", waited.append)
    return waited


def test_a_429_is_retried_after_its_retry_after(sleeps):
    with Provider("3") as url:
        client = Rpc(url, retries=2, backoff=0.1)
        assert client.call("eth_blockNumber") == "0x2a"
        client.close()
    assert sleeps == [3.0]


def test_a_429_without_retry_after_backs_off_as_before(sleeps):
    with Provider(None, refusals=2) as url:
        client = Rpc(url, retries=3, backoff=0.1)
        assert client.call("eth_blockNumber") == "0x2a"
        client.close()
    assert sleeps == [0.1, 0.2]


def test_a_429_on_every_attempt_still_runs_out(sleeps):
    with Provider("1", refusals=10) as url:
        client = Rpc(url, retries=2, backoff=0.1)
        with pytest.raises(RpcUnavailable, match="after 3 attempts: HTTP 429"):
            client.call("eth_blockNumber")
        client.close()
    assert sleeps == [1.0, 1.0]


def test_retry_after_forms():
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds("86400") == MAX_RETRY_AFTER  # capped: the attempts decide, not the provider
    assert retry_after_seconds(None) == retry_after_seconds("") == retry_after_seconds("soon") == 0.0
    assert retry_after_seconds("²") == 0.0  # not a number int() reads
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8.0 <= retry_after_seconds(in_ten) <= 10.0
    assert retry_after_seconds(email.utils.formatdate(time.time() - 100, usegmt=True)) == 0.0
