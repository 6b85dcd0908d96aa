"""A fault-injecting JSON-RPC proxy on loopback, for reliability tests and benchmarks.

`FaultProxy(upstream)` listens on 127.0.0.1 (a free port) and forwards every POST body to the
upstream node. Faults are injected per request, either a fixed queue (`inject("http500", 3)`:
the next three requests fail that way) or at random (`chaos(0.2, kinds)`), and every fault is
counted in `.stats` so a test can prove the faults really happened:

- `timeout`: the request is held `hold` seconds (longer than the client's timeout), then dropped
- `http500` / `http502` / `http503`: an HTTP error status with a short body
- `drop`: the connection is closed without any answer
- `malformed`: HTTP 200 with a body that is not JSON
- `truncated`: HTTP 200 with the upstream's answer cut in half (invalid JSON)
- `rpc_error`: HTTP 200 with a JSON-RPC error object (a node-side failure)
- `null_block`: forwarded, but every `eth_getBlockByNumber` of a numbered block in the request
  answers `null` (a node whose head is above a block it cannot return: issue 14 saw anvil report
  head 91 and null for block 82 after back-to-back `anvil_reorg`s)

`hide_blocks(numbers)` makes the `null_block` fault last: until `clear()`, those blocks answer null
to `eth_getBlockByNumber` (in batches too) while `eth_blockNumber` still reports the real head.

When the upstream itself does not answer (the node is down), the proxy answers HTTP 502, as a
load balancer in front of a dead node would.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("timeout", "http500", "http502", "http503", "drop", "malformed", "truncated", "rpc_error", "null_block")


class FaultProxy:
    def __init__(self, upstream: str, *, hold: float = 3.0, seed: int = 0, upstream_timeout: float = 30.0):
        self.upstream = upstream
        self.hold = hold
        self.upstream_timeout = upstream_timeout
        self.stats: Counter = Counter()
        self._queue: deque[str] = deque()
        self._rate = 0.0
        self._kinds: tuple[str, ...] = ()
        self._hidden: frozenset[int] = frozenset()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def inject(self, kind: str, count: int = 1) -> None:
        """The next `count` requests fail with `kind`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
        with self._lock:
            self._queue.extend([kind] * count)

    def chaos(self, rate: float, kinds: tuple[str, ...] = KINDS) -> None:
        """Fail each request with probability `rate`, with a kind drawn from `kinds` (rate 0: off)."""
        for k in kinds:
            if k not in KINDS:
                raise ValueError(f"unknown fault {k!r}")
        with self._lock:
            self._rate, self._kinds = rate, tuple(kinds)

    def hide_blocks(self, numbers) -> None:
        """Until clear(): `eth_getBlockByNumber` answers null for these block numbers (the node's head,
        its logs and every other block are untouched)."""
        with self._lock:
            self._hidden = frozenset(int(n) for n in numbers)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._rate = 0.0
            self._hidden = frozenset()

    def _nulled(self, body: bytes, answer: bytes, every: bool) -> bytes:
        """`answer` with the result of each numbered eth_getBlockByNumber call set to null: every one
        (a `null_block` fault) or those of hidden blocks."""
        hidden = self._hidden
        try:
            req, out = json.loads(body), json.loads(answer)
        except ValueError:
            return answer
        calls = req if isinstance(req, list) else [req]
        nulled = set()
        for call in calls:
            if not isinstance(call, dict) or call.get("method") != "eth_getBlockByNumber":
                continue
            block = (call.get("params") or [None])[0]
            try:
                number = int(block, 16)  # "latest", "finalized": not a numbered block
            except (TypeError, ValueError):
                continue
            if every or number in hidden:
                nulled.add(call.get("id"))
        if not nulled:
            return answer
        for item in out if isinstance(out, list) else [out]:
            if isinstance(item, dict) and item.get("id") in nulled and "result" in item:
                item["result"] = None
                self.stats["blocks_nulled"] += 1
        return json.dumps(out).encode()

    def _next_fault(self) -> str | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self._rate and self._rng.random() < self._rate:
                return self._rng.choice(self._kinds)
        return None

    # ------------------------------------------------------------ serving

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:  # quiet: tests count faults in .stats
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._next_fault()
                proxy.stats["requests"] += 1
                if fault:
                    proxy.stats[fault] += 1
                if fault == "timeout":
                    time.sleep(proxy.hold)
                    self.close_connection = True
                    return
                if fault == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if fault in ("http500", "http502", "http503"):
                    self._send(int(fault[4:]), b'{"error": "injected"}')
                    return
                if fault == "malformed":
                    self._send(200, b"<html>not json</html>")
                    return
                if fault == "rpc_error":
                    try:
                        req = json.loads(body)
                    except ValueError:
                        req = {}
                    err = {"code": -32000, "message": "injected node failure"}
                    if isinstance(req, list):
                        out = [{"jsonrpc": "2.0", "id": r.get("id"), "error": err} for r in req]
                    else:
                        out = {"jsonrpc": "2.0", "id": req.get("id"), "error": err}
                    self._send(200, json.dumps(out).encode())
                    return
                try:
                    up = urllib.request.Request(proxy.upstream, data=body, headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(up, timeout=proxy.upstream_timeout) as resp:
                        answer = resp.read()
                        status = resp.status
                except urllib.error.HTTPError as exc:
                    answer, status = exc.read(), exc.code
                except (OSError, urllib.error.URLError):
                    proxy.stats["upstream_down"] += 1
                    self._send(502, b'{"error": "upstream unreachable"}')
                    return
                if fault == "truncated":
                    answer = answer[: max(1, len(answer) // 2)]
                elif fault == "null_block" or proxy._hidden:
                    answer = proxy._nulled(body, answer, every=fault == "null_block")
                self._send(status, answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
