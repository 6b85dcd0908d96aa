"""The bounded client: http(s) only, a size cap, error statuses and dead hosts as clear errors."""

from __future__ import annotations

import pytest

from cityledger.catalog.fetch import FetchError, Limits, client, download, fetch_bytes, probe

from .conftest import closed_port_url


def test_limits_and_errors(files, tmp_path):
    files.routes["/big.csv"] = b"x" * 5000
    files.routes["/gone.csv"] = 404
    with client(Limits(timeout=5)) as http:
        got = download(f"{files.base}/big.csv", http, tmp_path, Limits(max_bytes=5000))
        assert got.byte_size == 5000 and got.path.read_bytes() == b"x" * 5000
        with pytest.raises(FetchError, match="5000 bytes, over the limit of 4999"):
            download(f"{files.base}/big.csv", http, tmp_path, Limits(max_bytes=4999))
        assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["big.csv"]  # nothing half-written kept
        with pytest.raises(FetchError, match="HTTP 404") as exc:
            fetch_bytes(f"{files.base}/gone.csv", http)
        assert exc.value.status == 404
        with pytest.raises(FetchError, match="is not an http\\(s\\) URL"):
            fetch_bytes("file:///etc/passwd", http)
        with pytest.raises(FetchError, match="ConnectError"):
            fetch_bytes(closed_port_url(), http)
        answer = probe(f"{files.base}/gone.csv", http)
        assert not answer.ok and answer.status == 404 and answer.sha256 is None
