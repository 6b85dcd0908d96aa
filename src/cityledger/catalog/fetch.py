"""Bounded reads of remote documents and files: http(s) only, a timeout on every step, a size cap
enforced while reading (a Content-Length can lie or be absent), a bounded number of redirects.

Used by harvesting (catalogues and their distributions) and by the quality score's reachability
checks. Nothing here follows file:// or other schemes; local files are the caller's decision."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

from ..digits import is_decimal
from ..errors import CityLedgerError

USER_AGENT = "CityLedger-catalogue/1 (+https://cityledger.example)"
CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 512 << 20  # a distribution; catalogues use CATALOGUE_LIMITS
    timeout: float = 30.0  # seconds per connect / read / write step
    max_redirects: int = 5


CATALOGUE_LIMITS = Limits(max_bytes=64 << 20)


class FetchError(CityLedgerError):
    """A URL that could not be read within the limits (unreachable, an error status, too big, too slow)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def check_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise FetchError(f"'{url}' is not an http(s) URL")
    return url


def client(limits: Limits = Limits()) -> httpx.Client:
    """An httpx client with the limits' timeout and redirect bound (close it, or use it in `with`)."""
    return httpx.Client(
        timeout=httpx.Timeout(limits.timeout),
        follow_redirects=True,
        max_redirects=limits.max_redirects,
        headers={"User-Agent": USER_AGENT},
    )


@contextmanager
def _stream(
    http: httpx.Client, url: str, limits: Limits, accept: str | None = None
) -> Iterator[tuple[httpx.Response, Iterator[bytes]]]:
    check_url(url)
    headers = {"Accept": accept} if accept else {}
    try:
        with http.stream("GET", url, headers=headers) as response:
            if response.status_code >= 400:
                raise FetchError(f"{url}: HTTP {response.status_code}", response.status_code)
            if response.url.scheme not in ("http", "https"):  # pragma: no cover - httpx speaks only http(s)
                raise FetchError(f"{url}: redirected to a non-http(s) URL")
            declared = response.headers.get("content-length")
            if declared and is_decimal(declared) and int(declared) > limits.max_bytes:
                raise FetchError(f"{url}: {int(declared)} bytes, over the limit of {limits.max_bytes}")

            def chunks() -> Iterator[bytes]:
                seen = 0
                for chunk in response.iter_bytes(CHUNK):
                    seen += len(chunk)
                    if seen > limits.max_bytes:
                        raise FetchError(f"{url}: more than {limits.max_bytes} bytes, over the limit")
                    yield chunk

            yield response, chunks()
    except httpx.TooManyRedirects:
        raise FetchError(f"{url}: more than {limits.max_redirects} redirects") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url}: no answer within {limits.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None


def fetch_bytes(
    url: str, http: httpx.Client, limits: Limits = CATALOGUE_LIMITS, accept: str | None = None
) -> tuple[bytes, str | None]:
    """(body, Content-Type) of a GET, within the limits."""
    with _stream(http, url, limits, accept) as (response, chunks):
        return b"".join(chunks), response.headers.get("content-type")


@dataclass(frozen=True)
class Download:
    path: Path  # a temporary file: the caller removes it
    sha256: bytes
    byte_size: int


def download(
    url: str, http: httpx.Client, dest_dir: Path, limits: Limits = Limits(), name: str | None = None
) -> Download:
    """Stream `url` into a new file under `dest_dir`, hashing as it goes. The file keeps the URL's
    file name (its extension decides the media type and whether rows are fingerprinted)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    base = name or Path(urlparse(url).path).name or "download"
    folder = Path(tempfile.mkdtemp(dir=dest_dir, prefix="dl-"))
    path = folder / base
    digest = hashlib.sha256()
    size = 0
    try:
        with _stream(http, url, limits) as (_, chunks), open(path, "wb") as fh:
            for chunk in chunks:
                digest.update(chunk)
                fh.write(chunk)
                size += len(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        os.rmdir(folder)
        raise
    return Download(path, digest.digest(), size)


@dataclass(frozen=True)
class Probe:
    """Whether a URL answered (2xx after redirects, within the limits) and, when read, its body's SHA-256."""

    url: str
    ok: bool
    status: int | None = None
    sha256: bytes | None = None
    error: str | None = None


def probe(url: str, http: httpx.Client, limits: Limits = Limits(), read_body: bool = False) -> Probe:
    """GET `url` (some servers refuse HEAD); with `read_body` the whole body is hashed (bounded),
    else only the status is read. Never raises for the URL's own failures: they are the answer."""
    try:
        with _stream(http, url, limits) as (response, chunks):
            digest = None
            if read_body:
                h = hashlib.sha256()
                for chunk in chunks:
                    h.update(chunk)
                digest = h.digest()
            return Probe(url, True, response.status_code, digest)
    except FetchError as exc:
        return Probe(url, False, exc.status, None, str(exc))
