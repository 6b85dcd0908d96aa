"""Data room benchmarks: download throughput of an open file, and the latency of a consent-filtered
release of 100,000 rows.

    .venv/bin/python bench/dataroom.py [--quick]

Download: a 1 GiB file of random bytes (quick: 256 MiB) is put in the data room's content-addressed
store and registered in a store of the indexer's schema as an open dataset; `cityledger serve`'s app
(one uvicorn process) serves it at /api/datasets/1/download, and `python -m http.server` serves the
same bytes from a folder; `curl` fetches each several times in the same run (alternately, to /dev/null)
and the median throughput of each is compared. Both on loopback, so the figure is the servers' cost,
not a network's.

Release: `release.service.prepare` (what POST /api/access/{id}/releases runs before logging on chain:
the consent query over the index, reading and checking the CSV, the consent filter, the k-anonymity
guard, the Merkle tree of the subjects, the filtered CSV) on a 100,000-row demo-shaped CSV whose
subjects all consent (100,000 consent events in the store), once for a dataset that declares the
demo's quasi-identifiers (k = 5) and once for the same file without a declaration. The on-chain log
is one transaction (bench/gas.py has its gas) and is left out.

Everything is written under a temporary folder, deleted at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
from fingerprint import _row  # noqa: E402  (one definition of the row bench/run.py renders)

AREA = "dataroom"
RELEASE_ROWS = 100_000
MiB = 1024 * 1024


def _random_file(path: Path, size: int) -> str:
    """A file of `size` random bytes; returns its 0x SHA-256."""
    h = hashlib.sha256()
    chunk = os.urandom(8 * MiB)
    with path.open("wb") as fh:
        left = size
        while left > 0:
            part = chunk[: min(left, len(chunk))]
            h.update(part)
            fh.write(part)
            left -= len(part)
    return "0x" + h.hexdigest()


def _curl(url: str) -> tuple[float, int]:
    """(seconds, bytes) of one `curl` fetch to /dev/null."""
    out = subprocess.run(
        ["curl", "-s", "-f", "-o", "/dev/null", "-w", "%{time_total} %{size_download}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def bench_download(tmp: Path, quick: bool) -> list[dict]:
    from api import SQLiteSink, build_store, start_server  # bench/api.py: the store loader and its server

    from cityledger.dataroom.files import LocalFileStore, put_file
    from cityledger.testing import wait_for

    size = (256 if quick else 1024) * MiB
    runs = 3 if quick else 5
    static = tmp / "static"
    static.mkdir()
    source = static / "open.bin"
    digest = _random_file(source, size)
    data_dir = tmp / "data"
    put_file(LocalFileStore(data_dir / "files"), source, digest)
    db = tmp / "index.db"
    build_store(SQLiteSink(db), 1, 1)  # dataset 1: open, active (build_store closes the sink)
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE datasets SET content_hash = ?, personal_data = 0, status = 1 WHERE id = 1", (digest,))
    api, api_port = start_server(f"sqlite:///{db}", data_dir)
    from api import free_port

    port = free_port()
    files = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(static)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        static_url = f"http://127.0.0.1:{port}/open.bin"
        wait_for(lambda: _curl(static_url), 30, "python -m http.server", 0.1, (subprocess.CalledProcessError,))
        room_url = f"http://127.0.0.1:{api_port}/api/datasets/1/download"
        ours, theirs = [], []
        for _ in range(runs):  # alternately, so both see the same machine load
            seconds, got = _curl(room_url)
            assert got == size, f"the data room served {got} bytes, not {size}"
            ours.append(size / seconds / MiB)
            seconds, got = _curl(static_url)
            assert got == size
            theirs.append(size / seconds / MiB)
    finally:
        for proc in (api, files):
            proc.terminate()
            proc.wait(timeout=10)
    room, base = statistics.median(ours), statistics.median(theirs)
    return [
        _row(
            f"download of a {size // MiB} MiB open file (GET /api/datasets/1/download, curl)",
            round(room),
            "MiB/s",
            baseline="python -m http.server, same file, curl",
            baseline_value=round(base),
            ratio=round(room / base, 2),
            note=f"median of {runs}; each run {', '.join(f'{x:.0f}' for x in ours)} vs "
            f"{', '.join(f'{x:.0f}' for x in theirs)} MiB/s",
        )
    ]


def _release_store(tmp: Path, subjects: list[str], content_hash: str) -> tuple[str, dict[int, str]]:
    """A store where datasets 1 (declaring the demo's quasi-identifiers) and 2 (declaring none) hold
    the same personal file, access 1 and 2 are granted on them, and every subject consents (a domain
    consent to the grantee). Returns (URL, metadata folder)."""
    from sqlalchemy import insert

    from cityledger import codes
    from cityledger.datasets.metadata import canonical_json
    from cityledger.datasets.store import MetadataStore
    from cityledger.demo import catalog
    from cityledger.indexer import models as m
    from cityledger.indexer.store import make_engine, migrate

    url = f"sqlite:///{tmp / 'release.db'}"
    migrate(url)
    store = MetadataStore(tmp / "metadata")
    docs = {
        1: {"@type": "dcat:Dataset", "dct:title": "k", "cl:privacy": catalog.CITIZEN.privacy},
        2: {"@type": "dcat:Dataset", "dct:title": "no declaration"},
    }
    grantee, publisher = "0x" + "d0" * 20, "0x" + "a0" * 20
    purpose = "0x" + codes.purpose_hash("ScientificResearch").hex()
    domain = codes.DOMAINS["transport"]
    base_ts, far = 1_700_000_000, 1_700_000_000 + 10 * 365 * 86400
    tx = "0x" + "00" * 32
    t = m.Base.metadata.tables
    engine = make_engine(url)
    with engine.begin() as conn:
        for i, doc in docs.items():
            digest, _ = store.put(doc)
            assert hashlib.sha256(canonical_json(doc)).digest() == digest
            stamp = {"registered_block": 1, "registered_at": base_ts, "registered_tx": tx}
            conn.execute(
                insert(t["datasets"]).values(
                    id=i, publisher=publisher, content_hash=content_hash, metadata_hash="0x" + digest.hex(),
                    metadata_uri=store.uri_of(digest), domain=domain, personal_data=True, version=1, status=1, **stamp,
                )
            )  # fmt: skip
            conn.execute(
                insert(t["access"]).values(
                    id=i, dataset_id=i, requester=grantee, purpose=purpose, terms_hash=tx, status=codes.ACCESS_GRANTED,
                    expiry=far, requested_block=2, requested_at=base_ts, requested_tx=tx, granted_block=2,
                    granted_at=base_ts, granted_tx=tx,
                )
            )  # fmt: skip
        scope = "0x" + domain.to_bytes(32, "big").hex()
        conn.execute(
            insert(t["consent_events"]),
            [
                {
                    "block_number": 3 + n // 1000, "log_index": n % 1000, "tx_hash": tx, "timestamp": base_ts,
                    "action": "grant", "key": "0x" + hashlib.sha256(s.encode()).hexdigest(), "citizen": s,
                    "purpose": purpose, "scope_kind": codes.SCOPE_DOMAIN, "scope_id": scope, "grantee": grantee,
                    "expiry": far, "nonce": 0, "submitted_by": s,
                }
                for n, s in enumerate(subjects)
            ],
        )  # fmt: skip
        last = 3 + len(subjects) // 1000 + 1
        zero = "0x" + "00" * 20
        conn.execute(
            insert(t["checkpoint"]).values(
                id=1, chain_id=31337, block_number=last, block_hash=tx, start_block=1, head_block=last + 2,
                finalized_block=last, confirmations=2, roles_address=zero, datasets_address=zero,
                consents_address=zero, access_address=zero, rights_address=zero, reorgs=0,
            )
        )  # fmt: skip
    engine.dispose()
    return url, {1: "k = 5 (the demo's declaration)", 2: "no quasi-identifier declared"}


def bench_release(tmp: Path, quick: bool) -> list[dict]:
    from privacy import make_table  # bench/privacy.py: the demo-shaped table

    from cityledger import codes
    from cityledger.datasets.store import MetadataStore
    from cityledger.indexer.store import make_engine
    from cityledger.release import service

    runs = 3 if quick else 5
    path = tmp / "citizens-100k.csv"
    subjects = make_table(path, RELEASE_ROWS)
    content_hash = "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
    url, kinds = _release_store(tmp, subjects, content_hash)
    purpose = "0x" + codes.purpose_hash("ScientificResearch").hex()
    engine = make_engine(url)
    rows, times = [], {}
    try:
        for access_id, label in kinds.items():
            walls, outs = [], None
            for _ in range(runs):
                started = time.perf_counter()
                with engine.connect() as conn:
                    prepared = service.prepare(
                        conn,
                        access_id=access_id,
                        purpose=purpose,
                        file=path,
                        rpc_timestamp=lambda n: 1_700_000_000 + n,
                        store=MetadataStore(tmp / "metadata"),
                    )
                    _ = prepared.release_hash, prepared.consent_root
                walls.append(time.perf_counter() - started)
                outs = prepared
            times[access_id] = statistics.median(walls)
            rows.append(
                _row(
                    f"release of {RELEASE_ROWS:,} rows, {label}",
                    round(times[access_id], 2),
                    "s",
                    note=f"median of {runs}; {len(outs.rows):,} rows out, {outs.subject_count:,} subjects, "
                    f"k on chain {outs.k_anonymity}",
                )
            )
    finally:
        engine.dispose()
    rows.append(
        _row(
            "the k-anonymity guard's share of a 100k-row release",
            round(times[1] - times[2], 2),
            "s",
            note="the difference of the two medians above",
        )
    )
    return rows


def run(quick: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cityledger-bench-dataroom-"))
    try:
        rows = bench_download(tmp, quick) + bench_release(tmp, quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "area": AREA,
        "title": "Data room: open downloads and consent-filtered releases",
        "command": ".venv/bin/python bench/dataroom.py" + (" --quick" if quick else ""),
        "rows": rows,
        "plots": [],
        "notes": [
            "Download: one uvicorn process (the app of `cityledger serve`) streaming the file from the content-"
            "addressed store in 1 MiB reads off the event loop, against Python's static file server on the same "
            "bytes; curl to /dev/null on loopback, alternately, median of the runs.",
            "Release: release.service.prepare on a 100,000-row demo-shaped CSV, every subject consenting (100,000 "
            "consent events in SQLite); the on-chain log_release (one transaction) and the file's move into the "
            "store are not counted.",
            f"Mode: {'quick (256 MiB file, 3 runs)' if quick else 'full (1 GiB file, 5 runs)'}.",
        ],
    }


def main() -> int:
    from run import record  # bench/run.py: one place stamps and saves

    started, quick = time.monotonic(), "--quick" in sys.argv
    result = record(run(quick), quick, time.monotonic() - started)
    for r in result["rows"]:
        base = f"  (baseline {r['baseline_value']}, x{r['ratio']})" if r["baseline"] else ""
        print(f"{r['metric']:<80} {r['value']:>9} {r['unit']}{base}")
    print(json.dumps({"area": AREA, "rows": len(result["rows"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
