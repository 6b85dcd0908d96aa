"""A lean JSON-RPC client for the indexer: one keep-alive HTTP session, batch calls, retries.

No web3 middleware per call: logs come back as plain dicts and are decoded by events.py.
Transient failures (connection refused, timeouts, HTTP 5xx, node errors) are retried with
exponential backoff; when the attempts run out an RpcUnavailable is raised, which the sync loop
reports (status + log line) and outlives. Errors that say a log query is too large are raised at
once as RangeTooLarge so the caller can shrink the block range instead of waiting.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from ..errors import NetworkError

log = logging.getLogger("cityledger.indexer")
T = TypeVar("T")
Params = list[Any]

# Phrases of "this getLogs query is too big" across clients (geth, erigon, alchemy, infura, anvil).
_TOO_LARGE = ("too many", "limit exceeded", "range", "exceed", "response size", "query returned more than", "timeout")


class RpcUnavailable(NetworkError):
    """The RPC did not answer after all retries."""


class NodeInconsistent(RpcUnavailable):
    """The node answers but contradicts itself: its head is above a block it cannot return, or a
    block's logs and header disagree while everything indexed is still canonical. Waited out with
    backoff like an outage, and reported apart from one (checkpoint.node_inconsistent)."""


class RpcError(NetworkError):
    """The node answered with a JSON-RPC error."""


class RangeTooLarge(RpcError):
    """eth_getLogs refused or timed out on the block range."""


class Rpc:
    def __init__(
        self, url: str, timeout: float = 30.0, retries: int = 5, backoff: float = 0.1, max_backoff: float = 5.0
    ):
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session = requests.Session()
        self.session.headers["Content-Type"] = "application/json"
        self._ids = itertools.count(1)
        self.calls = 0

    def close(self) -> None:
        self.session.close()

    def _post(self, payload: dict[str, Any] | list[dict[str, Any]], timeout: float | None) -> Any:
        self.calls += 1
        resp = self.session.post(self.url, data=json.dumps(payload), timeout=timeout or self.timeout)
        if resp.status_code >= 500 or resp.status_code == 429:
            raise requests.ConnectionError(f"HTTP {resp.status_code}")
        if resp.status_code >= 400 and not resp.content:
            raise RpcError(f"HTTP {resp.status_code} from {self.url}")
        return resp.json()

    def _with_retries(self, fn: Callable[[], T], what: str, retries: int | None = None) -> T:
        attempts = self.retries if retries is None else retries
        delay = self.backoff
        for attempt in range(attempts + 1):
            try:
                return fn()
            except RangeTooLarge:
                raise
            except (requests.RequestException, ValueError, RpcError) as exc:
                if attempt == attempts:
                    reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                    raise RpcUnavailable(
                        f"RPC {self.url} failed on {what} after {attempts + 1} attempts: {reason}"
                    ) from None
                log.debug("rpc %s failed (%s), retry in %.2fs", what, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def call(
        self, method: str, params: Params | None = None, *, timeout: float | None = None, retries: int | None = None
    ) -> Any:
        def once() -> Any:
            data = self._post(
                {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []}, timeout
            )
            if "error" in data:
                msg = str(data["error"].get("message", data["error"]))
                if method == "eth_getLogs" and any(p in msg.lower() for p in _TOO_LARGE):
                    raise RangeTooLarge(msg)
                raise RpcError(f"{method}: {msg}")
            return data["result"]

        return self._with_retries(once, method, retries)

    def batch(self, calls: list[tuple[str, Params]], *, retries: int | None = None) -> list[Any]:
        """Results of several calls in one HTTP request, in order."""
        if not calls:
            return []

        def once() -> list[Any]:
            first = next(self._ids)
            payload = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
            for _ in range(len(calls) - 1):
                next(self._ids)
            data = self._post(payload, None)
            if not isinstance(data, list):
                raise RpcError(f"batch answered with {str(data)[:200]}")
            by_id = {d.get("id"): d for d in data}
            out = []
            for i, (m, _) in enumerate(calls):
                d = by_id.get(first + i)
                if d is None or "error" in d:
                    raise RpcError(f"{m}: {(d or {}).get('error', 'no answer in batch')}")
                out.append(d["result"])
            return out

        return self._with_retries(once, f"batch of {len(calls)}", retries)

    # ------------------------------------------------------------ typed helpers

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self, retries: int | None = None) -> int:
        return int(self.call("eth_blockNumber", retries=retries), 16)

    def header(self, number: int) -> dict[str, Any] | None:
        header: dict[str, Any] | None = self.call("eth_getBlockByNumber", [hex(number), False])
        return header

    def headers(self, numbers: list[int], chunk: int = 500) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        for i in range(0, len(numbers), chunk):
            out += self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers[i : i + chunk]])
        return out

    def get_logs(
        self, addresses: list[str], from_block: int, to_block: int, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        params = [{"fromBlock": hex(from_block), "toBlock": hex(to_block), "address": addresses}]
        try:
            logs: list[dict[str, Any]] = self.call(
                "eth_getLogs", params, timeout=timeout, retries=2 if to_block > from_block else None
            )
            return logs
        except RpcUnavailable as exc:
            if to_block > from_block and "timed out" in str(exc).lower():
                raise RangeTooLarge(str(exc)) from None
            raise
