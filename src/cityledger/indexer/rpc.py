"""A lean JSON-RPC client for the indexer: one keep-alive HTTP session, batch calls, retries.

No web3 middleware per call: logs come back as plain dicts and are decoded by events.py.
Transient failures (connection refused, timeouts, HTTP 5xx and 429, node errors) are retried with
exponential backoff, a 429 not before its Retry-After (at most a minute); when the attempts run
out an RpcUnavailable is raised, which the sync loop reports (status + log line) and outlives.
Errors that say a log query is too large are raised at once as RangeTooLarge so the caller can
shrink the block range instead of waiting.
"""

from __future__ import annotations

import codecs
import datetime
import email.utils
import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import requests

from ..digits import is_decimal
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


class RateLimited(requests.ConnectionError):
    """HTTP 429: retried like an outage, but not before the provider's Retry-After (capped)."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


MAX_RETRY_AFTER = 60.0  # a provider asking for longer is retried after a minute (the attempts still run out)


def retry_after_seconds(value: str | None) -> float:
    """Retry-After as seconds (RFC 9110: whole seconds or an HTTP date); 0 when absent or unreadable."""
    if not value:
        return 0.0
    value = value.strip()
    if is_decimal(value):
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:  # an HTTP date is GMT; a zone-less one is read as such
        when = when.replace(tzinfo=datetime.UTC)
    return min(max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds()), MAX_RETRY_AFTER)


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
        _check_status(resp, self.url)
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
                wait = max(delay, getattr(exc, "retry_after", 0.0))  # a 429's Retry-After, at the least
                log.debug("rpc %s failed (%s), retry in %.2fs", what, exc, wait)
                time.sleep(wait)
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
        self,
        addresses: list[str],
        from_block: int,
        to_block: int,
        *,
        max_bytes: int | None = None,
        timeout: float | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """The logs of the addresses in [from_block, to_block], and the last block they cover.

        With `max_bytes`, an answer longer than that is not read to its end: the logs of the blocks
        before the last block it reached are kept (a node sends logs in block order) and the cover
        ends there, below `to_block`. The first block is always read whole (its logs are bounded by
        the block gas limit). So one answer never holds much more than `max_bytes` of JSON, whatever
        the range turned out to hold (docs/INDEXER.md, Memory)."""
        params = [{"fromBlock": hex(from_block), "toBlock": hex(to_block), "address": addresses}]

        def once() -> tuple[list[dict[str, Any]], int]:
            payload = {"jsonrpc": "2.0", "id": next(self._ids), "method": "eth_getLogs", "params": params}
            data, cut = self._post_capped(payload, timeout, max_bytes)
            if cut is not None:
                logs, last = cut
                return logs, to_block if last < 0 else last
            if "error" in data:
                msg = str(data["error"].get("message", data["error"]))
                if any(p in msg.lower() for p in _TOO_LARGE):
                    raise RangeTooLarge(msg)
                raise RpcError(f"eth_getLogs: {msg}")
            return data["result"], to_block

        try:
            return self._with_retries(once, "eth_getLogs", 2 if to_block > from_block else None)
        except RpcUnavailable as exc:
            if to_block > from_block and "timed out" in str(exc).lower():
                raise RangeTooLarge(str(exc)) from None
            raise

    def _post_capped(
        self, payload: dict[str, Any], timeout: float | None, max_bytes: int | None
    ) -> tuple[Any, tuple[list[dict[str, Any]], int] | None]:
        """(the parsed answer, None), or (None, (logs, last block)) for an answer cut after max_bytes."""
        if max_bytes is None:
            return self._post(payload, timeout), None
        self.calls += 1
        resp = self.session.post(self.url, data=json.dumps(payload), timeout=timeout or self.timeout, stream=True)
        try:
            _check_status(resp, self.url)
            body = bytearray()
            chunks = resp.iter_content(1 << 18)
            for chunk in chunks:
                body += chunk
                if len(body) > max_bytes:
                    rest = itertools.chain([bytes(body[max_bytes:])], chunks)
                    return None, _cut_logs(body[:max_bytes], rest)
            return json.loads(body), None
        finally:
            resp.close()  # a cut answer's rest is never read: the connection is dropped


def _check_status(resp: requests.Response, url: str) -> None:
    if resp.status_code == 429:
        raise RateLimited("HTTP 429", retry_after_seconds(resp.headers.get("Retry-After")))
    if resp.status_code >= 500:
        raise requests.ConnectionError(f"HTTP {resp.status_code}")
    if resp.status_code >= 400 and not resp.content:
        raise RpcError(f"HTTP {resp.status_code} from {url}")


_RESULT = re.compile(rb'"result"\s*:\s*\[')
_BETWEEN = re.compile(r"[\s,]*")


class _LogReader:
    """The complete log objects at the start of a (cut) eth_getLogs answer, parsed as bytes come."""

    def __init__(self, head: bytearray):
        found = _RESULT.search(head)
        if found is None:
            raise RpcError(f"eth_getLogs answered {bytes(head[:120])!r}...: not a list of logs")
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.text, self.pos = self.utf8.decode(bytes(head[found.end() :])), 0
        self.logs: list[dict[str, Any]] = []
        self.done = False  # the closing ] was reached: the whole answer is here
        self.blocks = 0  # distinct blocks among the logs
        self.parse()

    def parse(self, blocks: int | None = None) -> None:
        """Parse the complete objects read so far (stopping at the first log of block number
        `blocks` counted from the first, if given)."""
        decoder, text = json.JSONDecoder(), self.text
        while blocks is None or self.blocks < blocks:
            self.pos = _BETWEEN.match(text, self.pos).end()  # type: ignore[union-attr]  # matches ""
            if text.startswith("]", self.pos):
                self.done = True
                return
            try:
                log, self.pos = decoder.raw_decode(text, self.pos)
            except json.JSONDecodeError:
                return  # the next object is not complete yet
            if not self.logs or log["blockNumber"] != self.logs[-1]["blockNumber"]:
                self.blocks += 1
            self.logs.append(log)

    def feed(self, chunk: bytes) -> None:
        """More of the answer, read only while the first block is not complete: parsed up to the
        first log of the second block."""
        self.text, self.pos = self.text[self.pos :] + self.utf8.decode(chunk), 0
        self.parse(blocks=2)


def _cut_logs(head: bytearray, rest: Iterator[bytes]) -> tuple[list[dict[str, Any]], int]:
    """The logs of the complete blocks at the start of an answer of which `head` was read, and the
    last of those blocks. Only if `head` holds part of the first block is more of `rest` read."""
    reader = _LogReader(head)
    while not reader.done and reader.blocks < 2:
        chunk = next(rest, None)
        if chunk is None:
            raise RpcError("eth_getLogs answer ended in the middle")
        reader.feed(chunk)
    logs = reader.logs
    if reader.done:  # the answer was complete after all (its end came with the first block)
        return logs, -1
    last = logs[-1]["blockNumber"]  # its logs may go on past what was read: dropped
    keep = len(logs)
    while logs[keep - 1]["blockNumber"] == last:
        keep -= 1
    del logs[keep:]
    return logs, int(last, 16) - 1
