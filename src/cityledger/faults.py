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

Added for issue 22 (public RPC providers, and the relayer's lost answers):

- `http429`: HTTP 429 Too Many Requests with `Retry-After` and a provider's JSON-RPC error body
  (both new kinds are in MORE_KINDS, outside chaos()'s default mix)
- `lost_answer`: forwarded to the upstream (which acts on it), then the connection is closed without
  the answer: the client cannot know whether its request happened
- `inject(kind, count, method=...)`: the fault hits the next `count` requests that call `method`
  (in a batch too) and no others
- `provider_limits(max_blocks=10_000, max_results=10_000)`: eth_getLogs as common public providers
  serve it: a range wider than `max_blocks` is refused ("exceed maximum block range: 10000", as
  geth-based providers say), an answer of more than `max_results` logs is replaced by Infura's
  "query returned more than 10000 results. Try with this block range [0x.., 0x..]."
- `rate_limit(per_second, burst)`: requests past a token bucket get `http429` (Retry-After: the
  seconds until the next token, at least 1)
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
# Issue 22's kinds, for inject() (and chaos() when named): apart, so that chaos()'s default mix, and the
# tests that expect each of KINDS in it, stay as they were.
MORE_KINDS = ("http429", "lost_answer")


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
        self._by_method: dict[str, deque[str]] = {}
        self._limits: tuple[int, int] | None = None  # provider_limits: (max_blocks, max_results)
        self._bucket: list[float] | None = None  # rate_limit: [per_second, burst, tokens, at]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def inject(self, kind: str, count: int = 1, method: str | None = None) -> None:
        """The next `count` requests fail with `kind` (with `method`: the next `count` calling it)."""
        if kind not in KINDS + MORE_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS + MORE_KINDS)}")
        with self._lock:
            if method is not None:
                self._by_method.setdefault(method, deque()).extend([kind] * count)
                return
            self._queue.extend([kind] * count)

    def chaos(self, rate: float, kinds: tuple[str, ...] = KINDS) -> None:
        """Fail each request with probability `rate`, with a kind drawn from `kinds` (rate 0: off)."""
        for k in kinds:
            if k not in KINDS + MORE_KINDS:
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
            self._by_method.clear()
            self._limits = None
            self._bucket = None

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

    def _next_fault(self, body: bytes = b"") -> str | None:
        with self._lock:
            if self._by_method:
                for method in _methods(body):
                    queued = self._by_method.get(method)
                    if queued:
                        return queued.popleft()
            if self._bucket is not None and not self._take():
                return "http429"
            if self._queue:
                return self._queue.popleft()
            if self._rate and self._rng.random() < self._rate:
                return self._rng.choice(self._kinds)
        return None

    # ------------------------------------------------------------ public-provider limits (issue 22)

    def provider_limits(self, max_blocks: int = 10_000, max_results: int = 10_000) -> None:
        """Until clear(): eth_getLogs refused over `max_blocks` blocks or `max_results` logs, in the
        words of public providers."""
        with self._lock:
            self._limits = (max_blocks, max_results)

    def rate_limit(self, per_second: float, burst: int | None = None) -> None:
        """Until clear(): requests beyond `per_second` (bursts of `burst`) are answered HTTP 429."""
        cap = float(burst if burst is not None else max(1, int(per_second)))
        with self._lock:
            self._bucket = [per_second, cap, cap, time.monotonic()]

    def _take(self) -> bool:  # under self._lock
        rate, cap, tokens, at = self._bucket or (0.0, 0.0, 0.0, 0.0)
        now = time.monotonic()
        tokens = min(cap, tokens + (now - at) * rate)
        ok = tokens >= 1
        self._bucket = [rate, cap, tokens - 1 if ok else tokens, now]
        return ok

    def retry_after(self) -> int:
        """Seconds until the rate limit has a token again (at least 1, as HTTP says whole seconds)."""
        with self._lock:
            if self._bucket is None or self._bucket[0] <= 0:
                return 1
            rate, _, tokens, _ = self._bucket
            return max(1, int((1 - tokens) / rate + 0.999))

    def _too_many(self, body: bytes) -> bytes:
        self.stats["rate_limited"] += 1
        err = {"code": -32005, "message": "project ID request rate exceeded", "data": {"see": "Retry-After"}}
        return _errors_for(body, err)

    def _over_range(self, body: bytes) -> bytes | None:
        """The provider's refusal of a single eth_getLogs wider than max_blocks, without asking the
        upstream (in a batch, _over_results refuses such a call and keeps the others' answers)."""
        limits = self._limits
        if limits is None or b"eth_getLogs" not in body:
            return None
        try:
            req = json.loads(body)
        except ValueError:
            return None
        if isinstance(req, list) or _logs_span(req) <= limits[0]:
            return None
        self.stats["range_refused"] += 1
        err = {"code": -32000, "message": f"exceed maximum block range: {limits[0]}"}
        return json.dumps({"jsonrpc": "2.0", "id": req.get("id"), "error": err}).encode()

    def _over_results(self, body: bytes, answer: bytes) -> bytes:
        """`answer` with each eth_getLogs result of more than max_results logs replaced by the error."""
        limits = self._limits
        if limits is None or b"eth_getLogs" not in body:
            return answer
        try:
            req, out = json.loads(body), json.loads(answer)
        except ValueError:
            return answer
        calls = {c.get("id"): c for c in (req if isinstance(req, list) else [req]) if isinstance(c, dict)}
        changed = False
        for item in out if isinstance(out, list) else [out]:
            call = calls.get(item.get("id")) if isinstance(item, dict) else None
            if call is None or call.get("method") != "eth_getLogs":
                continue
            span = _logs_span(call)
            if span > limits[0] or (isinstance(item.get("result"), list) and len(item["result"]) > limits[1]):
                first = int((call.get("params") or [{}])[0].get("fromBlock", "0x0"), 16)
                if span > limits[0]:
                    message = f"exceed maximum block range: {limits[0]}"
                    self.stats["range_refused"] += 1
                else:
                    last = int(item["result"][limits[1] - 1]["blockNumber"], 16)
                    message = (f"query returned more than {limits[1]} results. "
                               f"Try with this block range [{hex(first)}, {hex(max(first, last - 1))}].")  # fmt: skip
                    self.stats["results_refused"] += 1
                item.pop("result", None)
                item["error"] = {"code": -32005, "message": message}
                changed = True
        return json.dumps(out).encode() if changed else answer

    # ------------------------------------------------------------ serving

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:  # quiet: tests count faults in .stats
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _hang_up(self) -> None:
                """Close the connection without an answer."""
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._next_fault(body)
                proxy.stats["requests"] += 1
                if fault:
                    proxy.stats[fault] += 1
                if fault == "timeout":
                    time.sleep(proxy.hold)
                    self.close_connection = True
                    return
                if fault == "drop":
                    self._hang_up()
                    return
                if fault in ("http500", "http502", "http503"):
                    self._send(int(fault[4:]), b'{"error": "injected"}')
                    return
                if fault == "http429":
                    self._send(429, proxy._too_many(body), {"Retry-After": str(proxy.retry_after())})
                    return
                refused = proxy._over_range(body)
                if refused is not None:
                    self._send(200, refused)
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
                elif fault == "lost_answer":  # the upstream acted on it; its answer never arrives
                    self._hang_up()
                    return
                if proxy._limits is not None:
                    answer = proxy._over_results(body, answer)
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


def _methods(body: bytes) -> list[str]:
    """The JSON-RPC methods a request body calls (a batch: each)."""
    try:
        req = json.loads(body)
    except ValueError:
        return []
    return [c.get("method", "") for c in (req if isinstance(req, list) else [req]) if isinstance(c, dict)]


def _logs_span(call: object) -> int:
    """How many blocks an eth_getLogs call spans (0: another method, a block hash or tags only)."""
    if not isinstance(call, dict) or call.get("method") != "eth_getLogs":
        return 0
    params = call.get("params") or [{}]
    flt = params[0] if params and isinstance(params[0], dict) else {}
    try:
        return int(flt.get("toBlock"), 16) - int(flt.get("fromBlock"), 16) + 1
    except (TypeError, ValueError):
        return 0


def _errors_for(body: bytes, err: dict) -> bytes:
    """A JSON-RPC error answer to every call of a request body."""
    try:
        req = json.loads(body)
    except ValueError:
        req = {}
    if isinstance(req, list):
        return json.dumps([{"jsonrpc": "2.0", "id": r.get("id"), "error": err} for r in req]).encode()
    return json.dumps({"jsonrpc": "2.0", "id": req.get("id") if isinstance(req, dict) else None, "error": err}).encode()
