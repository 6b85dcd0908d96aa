"""Fingerprint benchmarks: file hashing vs `sha256sum`, row Merkle root peak memory, proof verification.

    .venv/bin/python bench/fingerprint.py [--quick]

Full mode: a 1 GiB file and a 10-million-row CSV; quick: 128 MiB and 1 million rows. Files are made
in a temporary folder and deleted afterwards. Hashing throughput is the median of several runs of
each tool on the same (page-cached) file, alternating; the Merkle root runs in a fresh subprocess so
its peak RSS (getrusage ru_maxrss) is its own, next to the RSS of the same interpreter idling.
"""

from __future__ import annotations

import argparse
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
AREA = "fingerprint"
MIB = 1 << 20


def _row(metric, value, unit, *, baseline=None, baseline_value=None, ratio=None, target=None, met=None, note=None):
    return {
        "metric": metric,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "ratio": ratio,
        "target": target,
        "met": met,
        "note": note,
    }


def make_binary(path: Path, size: int) -> None:
    block = os.urandom(16 * MIB)  # random bytes repeated: hashing speed does not depend on content
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            fh.write(block[: min(left, len(block))])
            left -= len(block)


def make_csv(path: Path, rows: int) -> None:
    with open(path, "w", buffering=8 * MIB) as fh:
        fh.write("id,date,station,value,flag\n")
        for start in range(0, rows, 100_000):
            fh.write(
                "".join(
                    f"{i},2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},ST{i % 97},"
                    f"{(i * 7919) % 100000 / 1000:.3f},{'ok' if i % 3 else ''}\n"
                    for i in range(start, min(rows, start + 100_000))
                )
            )


def bench_hashing(tmp: Path, quick: bool) -> list[dict]:
    from cityledger.fingerprint import sha256_file

    size = (128 if quick else 1024) * MIB
    runs = 3 if quick else 5
    path = tmp / "blob.bin"
    make_binary(path, size)
    sha256_file(path)  # warm the page cache: both tools then read from memory
    ours, theirs = [], []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(["sha256sum", str(path)], check=True, capture_output=True, text=True).stdout
        theirs.append(time.perf_counter() - t)
        t = time.perf_counter()
        digest = sha256_file(path)
        ours.append(time.perf_counter() - t)
        assert out.split()[0] == digest.hex(), "sha256sum and sha256_file disagree"
    path.unlink()
    mine, ref = size / MIB / statistics.median(ours), size / MIB / statistics.median(theirs)
    ratio = mine / ref
    return [
        _row(
            f"SHA-256 of a {size // MIB} MiB file",
            round(mine, 1),
            "MiB/s",
            baseline="sha256sum (coreutils)",
            baseline_value=round(ref, 1),
            ratio=round(ratio, 3),
            target=">= 0.8 x sha256sum",
            met=ratio >= 0.8,
            note=f"median of {runs} runs each, page-cached file",
        )
    ]


CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {src!r})
from cityledger.fingerprint import rows_root
if {idle}:
    print(json.dumps({{"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
else:
    t = time.perf_counter()
    fp = rows_root({path!r})
    dt = time.perf_counter() - t
    print(json.dumps({{"seconds": dt, "rows": fp.count, "root": fp.root.hex(),
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def _child(path: Path, idle: bool) -> dict:
    code = CHILD.format(src=str(ROOT / "src"), path=str(path), idle=idle)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def bench_merkle(tmp: Path, quick: bool) -> tuple[list[dict], Path, int]:
    n = 1_000_000 if quick else 10_000_000
    path = tmp / "rows.csv"
    make_csv(path, n)
    idle = _child(path, idle=True)
    result = _child(path, idle=False)
    assert result["rows"] == n
    peak = result["maxrss_kb"] / 1024
    rows = [
        _row(
            f"Merkle root of a {n:,}-row CSV: peak RSS",
            round(peak, 1),
            "MiB",
            baseline="same interpreter, idle",
            baseline_value=round(idle["maxrss_kb"] / 1024, 1),
            ratio=round(peak / (idle["maxrss_kb"] / 1024), 2),
            target="< 300 MB",
            met=peak * MIB < 300e6,
            note=f"{path.stat().st_size / MIB:.0f} MiB file; streamed, O(log n) stack of subtree hashes",
        ),
        _row(
            f"Merkle root of a {n:,}-row CSV: throughput",
            round(n / result["seconds"]),
            "rows/s",
            note=f"{result['seconds']:.1f} s; CSV parse + canonical JSON + SHA-256 per row, one core",
        ),
    ]
    return rows, path, n


def bench_proofs(path: Path, n: int, quick: bool) -> list[dict]:
    from cityledger.fingerprint import ConsentTree, prove_row, verify_consent_proof, verify_row_proof
    from cityledger.fingerprint.hashing import parse_hash

    t = time.perf_counter()
    proof = prove_row(path, n // 2 + 1)
    gen = time.perf_counter() - t
    root = parse_hash(proof["root"])
    doc = json.loads(json.dumps(proof))
    assert verify_row_proof(doc, root)
    reps = 2000 if quick else 10000
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        verify_row_proof(doc, root)
        times.append(time.perf_counter() - t)
    med = statistics.median(times) * 1e3

    addrs = ["0x" + os.urandom(20).hex() for _ in range(10_000)]
    tree = ConsentTree.build(addrs)
    cproof = tree.proof(addrs[1234])
    ctimes = []
    for _ in range(reps // 4):
        t = time.perf_counter()
        verify_consent_proof(tree.root, addrs[1234], cproof)
        ctimes.append(time.perf_counter() - t)
    cmed = statistics.median(ctimes) * 1e3
    return [
        _row(
            f"row proof verification ({n:,}-row tree)",
            round(med, 4),
            "ms",
            target="< 1 ms",
            met=med < 1,
            note=f"median of {reps}; {len(proof['path'])} sibling hashes; parse + leaf + path, no file",
        ),
        _row(
            f"row proof generation ({n:,}-row tree)",
            round(gen, 2),
            "s",
            note="two streamed passes over the file (count, then one audit path), O(log n) memory",
        ),
        _row(
            "consent proof verification (10,000 addresses)",
            round(cmed, 4),
            "ms",
            target="< 1 ms",
            met=cmed < 1,
            note=f"OpenZeppelin-compatible keccak tree, {len(cproof)} siblings; median of {reps // 4}",
        ),
    ]


def run(quick: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cityledger-bench-fp-"))
    try:
        rows = bench_hashing(tmp, quick)
        merkle_rows, path, n = bench_merkle(tmp, quick)
        rows += merkle_rows
        rows += bench_proofs(path, n, quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "area": AREA,
        "title": "Dataset fingerprints: hashing, row Merkle roots, proofs",
        "rows": rows,
        "plots": [],
        "notes": [
            "Content hash = SHA-256 of the file bytes (hashlib/OpenSSL, 1 MiB readinto buffer); sha256sum is GNU "
            "coreutils on the same page-cached file, timed as a subprocess (its start-up, ~1 ms, is included).",
            "Row root: CSV rows in canonical form cityledger-rows-v2 (docs/FINGERPRINT.md), RFC 6962 tree over "
            "SHA-256.",
            f"Sizes: {'quick mode (128 MiB, 1M rows)' if quick else 'full mode (1 GiB, 10M rows)'}.",
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="128 MiB and 1M rows instead of 1 GiB and 10M rows")
    args = parser.parse_args()
    from run import record

    started = time.monotonic()
    result = run(args.quick)
    record(result, args.quick, time.monotonic() - started)  # bench/run.py: one place stamps and saves
    width = max(len(r["metric"]) for r in result["rows"])
    for r in result["rows"]:
        base = f"  vs {r['baseline']}: {r['baseline_value']} (ratio {r['ratio']})" if r["baseline"] else ""
        mark = "" if r["met"] is None else ("  [met]" if r["met"] else "  [NOT MET]")
        print(f"{r['metric']:<{width}}  {r['value']:>12} {r['unit']:<6}{base}  {r['target'] or ''}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
