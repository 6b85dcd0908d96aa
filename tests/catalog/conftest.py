"""Shared set-up of the catalogue tests: the demo's registered documents built offline (as
`cityledger.demo.seed` publishes them) with made-up chain facts, and version 1 documents as
CityLedger wrote them before schema version 2 (tests/catalog/v1/, bytes kept as registered)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from eth_account import Account

from cityledger.catalog.facts import ChainFacts
from cityledger.chain.devnet import DEFAULT_MNEMONIC
from cityledger.datasets.fingerprints import fingerprint_file
from cityledger.datasets.metadata import Coverage, DatasetInfo, build_metadata, metadata_hash
from cityledger.demo import catalog as demo
from cityledger.demo import seed

V1 = Path(__file__).parent / "v1"
BASE = "https://data.city.example"
T0 = 1_735_689_600  # 2025-01-01T00:00:00Z

Account.enable_unaudited_hdwallet_features()
ACCOUNTS = [Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(10)]
KINDS = {1: "agency", 2: "business"}


def dataset_info(**kw) -> DatasetInfo:
    """A publisher's description of a small table, complete unless `kw` says otherwise."""
    base = dict(
        title="Bicycle counters",
        domain="transport",
        publisher=ACCOUNTS[1].address,
        description="Daily counts at 12 counters",
        license="CC-BY-4.0",
        coverage=Coverage("2024-01-01", "2024-12-31", "Ghent, Belgium"),
        keywords=["bicycles"],
    )
    return DatasetInfo(**(base | kw))


def v1_document(name: str) -> dict:
    """A version 1 document exactly as registered (its canonical bytes are the file)."""
    return json.loads((V1 / f"{name}.json").read_bytes())


def facts_for(doc: dict, dataset_id: int, **kw) -> ChainFacts:
    """Chain facts agreeing with `doc` (its hash, content hash, publisher, personal flag)."""
    publisher = doc["dct:publisher"]["cl:address"]
    base = ChainFacts(
        dataset_id=dataset_id,
        publisher=publisher,
        content_hash=doc["cl:contentHash"],
        metadata_hash="0x" + metadata_hash(doc).hex(),
        metadata_uri="cityledger://metadata/" + metadata_hash(doc).hex(),
        registered_at=T0 + 3600 * dataset_id,
        version=1,
        domain=doc.get("cl:domainCode") or doc["dcat:theme"]["cl:domainCode"],
        personal_data=doc["cl:personalData"],
        chain_id=31337,
        registered_block=10 + dataset_id,
        registered_tx="0x" + f"{dataset_id:064x}",
    )
    return replace(base, **kw)


def registered_document(path: Path, info: DatasetInfo) -> dict:
    """The document `cityledger publish` registers for this file (datasets.registry.publish)."""
    fp = fingerprint_file(path)
    return build_metadata(
        info,
        file_name=fp.path.name,
        content_hash=fp.content_hash,
        byte_size=fp.byte_size,
        media=fp.media_type,
        record_count=fp.rows.count if fp.rows else None,
        rows_root=fp.rows.root if fp.rows else None,
        canonical_form=fp.rows.canonical_form if fp.rows else None,
    )


def _demo_document(monkeypatch, path: Path, ds: demo.DemoDataset, **kw) -> dict:
    """The document the demo registers for `path`: seed's own _publish describes the dataset, and
    publish is replaced by building the document offline."""
    built = []

    def offline_publish(w3, deployment, account, path, info, *, store, files=None, cfg=None):
        built.append(registered_document(path, info))
        return SimpleNamespace(already_registered=True, dataset_id=0)

    monkeypatch.setattr(seed, "publish", offline_publish)
    seed._publish(None, None, ACCOUNTS[ds.publisher], path, ds, None, seed.SeedSummary(), None, **kw)
    return built[0]


@pytest.fixture(scope="session")
def demo_entries(tmp_path_factory) -> list[tuple[str, dict, ChainFacts]]:
    """(key, registered document, chain facts) of every dataset the demo publishes, in its order:
    ids 1-4 the public files, 5 seattle-weather version 2 (superseding 1), 6 the citizen dataset.
    Made-up chain facts: 1 is superseded by 5, and la-riots (3) is withdrawn to show the mark."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        out = [(ds.key, _demo_document(mp, demo.vega_file(ds.file), ds)) for ds in demo.PUBLIC]
        v2 = folder / "seattle-weather-v2.csv"
        v2.write_bytes(demo.seattle_v2_bytes())
        corrected = _demo_document(mp, v2, demo.PUBLIC[0], supersedes=1, description=demo.SEATTLE_V2_DESCRIPTION)
        out.append(("seattle-weather-v2", corrected))
        citizen = folder / "citizen-mobility-synthetic.csv"
        citizen.write_bytes(demo.citizen_bytes([a.address for a in ACCOUNTS[6:10]]))
        out.append((demo.CITIZEN.key, _demo_document(mp, citizen, demo.CITIZEN)))
    entries = []
    publishers = {ds.key: ds.publisher for ds in [*demo.PUBLIC, demo.CITIZEN]} | {"seattle-weather-v2": 1}
    for dataset_id, (key, doc) in enumerate(out, start=1):
        kw: dict = {"publisher_kind": KINDS[publishers[key]], "lineage": 1 if key.startswith("seattle") else dataset_id}
        if key == "seattle-weather":
            kw |= {"successor": 5, "latest": 5}
        if key == "seattle-weather-v2":
            kw |= {"version": 2, "supersedes": 1, "latest": 5}
        if key == "la-riots":
            kw |= {"withdrawn_at": T0 + 86_400 * 30}
        entries.append((key, doc, facts_for(doc, dataset_id, **kw)))
    return entries


class Files:
    """A tiny HTTP server on 127.0.0.1 serving `routes` (path, with or without its query -> bytes,
    or an int status)."""

    def __init__(self):
        routes: dict[str, bytes | int] = {}
        self.routes = routes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                body = routes.get(self.path, routes.get(self.path.split("?")[0], 404))
                if isinstance(body, int):
                    self.send_error(body)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def files():
    served = Files()
    try:
        yield served
    finally:
        served.close()


def closed_port_url(path: str = "/x.csv") -> str:
    """A URL nothing listens on (a port just released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
