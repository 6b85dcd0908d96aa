"""End-to-end lag: a consent grant mined on anvil -> the API answers that it is active.

For each store size (consent events already indexed), a fresh anvil gets the contracts and that many
bulk-signed grants; the indexer (following) and the API run as their own processes, as under
`cityledger up`. Then a citizen sends grants at a steady rate; for each, the clock starts when
eth_sendTransaction returns (anvil automines: the transaction is mined by then) and stops when
GET /api/consents/check says active. Reported: p50 and p95 per size, and a plot of growth.

    .venv/bin/python bench/lag.py [--quick]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

RATE_PER_S = 5  # steady arrival rate of the measured transactions


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def log_tail(path: Path, lines: int = 5) -> str:
    try:
        return " / ".join(path.read_text(errors="replace").strip().splitlines()[-lines:]) or "(empty log)"
    except OSError:
        return "(no log)"


def check_running(procs: dict[str, subprocess.Popen], workdir: Path, waiting_for: str) -> None:
    """A child that exited is the reason a wait will never end: say which, with its log."""
    for name, proc in procs.items():
        if proc.poll() is not None:
            tail = log_tail(workdir / f"{name}.log")
            raise RuntimeError(f"the {name} exited ({proc.returncode}) while waiting for {waiting_for}: {tail}")


def caught_up(client: httpx.Client, head: int) -> dict | None:
    """The API's status once the index has reached `head`; None while not yet. The status holds null
    until the indexer's first commit (a slow start after the API section): not yet, not a TypeError."""
    status = client.get("/api/status").json()
    last = status.get("last_indexed_block")
    return status if last is not None and last >= head else None


def served_active(client: httpx.Client, params: dict) -> bool:
    """Does the API answer that the consent is active (an error body is not yet)?"""
    return bool(client.get("/api/consents/check", params=params).json().get("active"))


# Not yet, while the API starts or restarts: no connection, or a body that is not JSON.
NOT_YET = (httpx.HTTPError, ValueError)


def measure(size: int, samples: int, workdir: Path) -> dict:
    from web3 import Web3

    from cityledger.chain.accounts import devnet_accounts
    from cityledger.chain.deploy import deploy_all
    from cityledger.chain.deployments import contract
    from cityledger.chain.devnet import Anvil, free_port
    from cityledger.chain.roles import seed_devnet_roles
    from cityledger.codes import SCOPE_DATASET, purpose_hash
    from cityledger.config import load_config
    from cityledger.indexer.loadgen import BulkGranter
    from cityledger.testing import wait_for

    workdir.mkdir(parents=True, exist_ok=True)
    api_port = free_port()
    with Anvil(port=free_port(), log_path=workdir / "anvil.log") as anvil:
        env = {
            **os.environ,
            "CITYLEDGER_RPC_URL": anvil.rpc_url,
            "CITYLEDGER_DATA_DIR": str(workdir / "data"),
            "CITYLEDGER_DEPLOYMENTS_DIR": str(workdir / "deployments"),
            "CITYLEDGER_DB_URL": f"sqlite:///{workdir / 'index.db'}",
        }
        os.environ.update({k: v for k, v in env.items() if k.startswith("CITYLEDGER_")})
        cfg = load_config(ROOT)
        net = cfg.network("devnet")
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 60}))
        accounts = devnet_accounts(net)
        deployment = deploy_all(w3, accounts[0], net, cfg)
        seed_devnet_roles(w3, deployment, accounts, cfg)
        consents = contract(w3, deployment, "ConsentRegistry", cfg)
        if size:
            BulkGranter(anvil.rpc_url, 31337, consents.address, accounts[5].address, citizens=512).submit(size)

        procs: dict[str, subprocess.Popen] = {}
        for name, args in (("indexer", ["index", "--quiet"]), ("api", ["serve", "--port", str(api_port)])):
            with (workdir / f"{name}.log").open("w") as log:
                procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "cityledger", *args], env=env, stdout=log, stderr=subprocess.STDOUT
                )
        base = f"http://127.0.0.1:{api_port}"
        try:
            head = w3.eth.block_number
            client = httpx.Client(base_url=base, timeout=5)
            what = f"the indexer to catch up on {size} events (block {head})"

            def ready():
                check_running(procs, workdir, what)
                return caught_up(client, head)

            wait_for(ready, timeout=900, what=what, interval=0.05, errors=NOT_YET)

            citizen = accounts[6].address
            purpose = purpose_hash("ScientificResearch")
            lags: list[float] = []
            next_at = time.monotonic()
            expiry = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
            for i in range(samples):
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += 1 / RATE_PER_S
                scope = (10_000 + i).to_bytes(32, "big")  # a fresh key each time: a new row must appear
                data = consents.encode_abi("grant", [purpose, SCOPE_DATASET, scope, accounts[4].address, expiry])
                w3.eth.send_transaction({"from": citizen, "to": consents.address, "data": data, "gas": 200_000})
                mined = time.monotonic()  # automine: eth_sendTransaction returns once the block is mined
                params = {
                    "citizen": citizen,
                    "purpose": "ScientificResearch",
                    "scope_kind": "dataset",
                    "scope_id": "0x" + scope.hex(),
                    "grantee": accounts[4].address,
                }
                wait_for(
                    lambda params=params: served_active(client, params),
                    timeout=30,
                    what=f"grant {i} to be served as active",
                    interval=0.005,
                    errors=NOT_YET,
                )
                lags.append((time.monotonic() - mined) * 1000)
        finally:
            for p in procs.values():
                p.terminate()
            for p in procs.values():
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
    return {
        "size": size,
        "samples": len(lags),
        "p50_ms": statistics.median(lags),
        "p95_ms": percentile(lags, 95),
        "max_ms": max(lags),
    }


def plot(results: list[dict], path: Path) -> Path | None:
    path.parent.mkdir(exist_ok=True)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.6))
    sizes = [r["size"] for r in results]
    ax.plot(sizes, [r["p50_ms"] for r in results], marker="o", label="p50")
    ax.plot(sizes, [r["p95_ms"] for r in results], marker="o", label="p95")
    ax.axhline(1000, color="grey", linestyle="--", linewidth=1, label="1 s target (p95)")
    ax.set_xscale("log")
    ax.set_xlabel("consent events already in the store")
    ax.set_ylabel("mined -> served by API (ms)")
    ax.set_title("End-to-end lag while following")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(quick: bool) -> dict:
    # Full mode stops at 300k: generating 1M signed grants on anvil alone takes ~15 min here.
    sizes = [1_000, 10_000, 30_000] if quick else [10_000, 100_000, 300_000]
    samples = 40 if quick else 150
    results = []
    with tempfile.TemporaryDirectory(prefix="cityledger-lag-") as tmp:
        for size in sizes:
            results.append(measure(size, samples, Path(tmp) / str(size)))
            print(
                f"  {size:>9,} events in store: p50 {results[-1]['p50_ms']:.0f} ms, p95 {results[-1]['p95_ms']:.0f} ms",
                flush=True,
            )
    png = plot(results, ROOT / "bench" / "results" / "lag_scaling.png")  # bench/run.py keeps it in bench/plots
    rows = []
    for r in results:
        rows.append(
            {
                "metric": f"lag p50, {r['size']:,} events in store",
                "value": r["p50_ms"],
                "unit": "ms",
                "baseline": None,
                "baseline_value": None,
                "ratio": None,
                "target": None,
                "met": None,
                "note": f"{r['samples']} grants at {RATE_PER_S}/s",
            }
        )
        rows.append(
            {
                "metric": f"lag p95, {r['size']:,} events in store",
                "value": r["p95_ms"],
                "unit": "ms",
                "baseline": None,
                "baseline_value": None,
                "ratio": None,
                "target": "< 1000 ms",
                "met": r["p95_ms"] < 1000,
                "note": f"max {r['max_ms']:.0f} ms",
            }
        )
    return {
        "area": "lag",
        "title": "End-to-end lag: mined transaction to row served by the API",
        "command": f".venv/bin/python bench/lag.py{' --quick' if quick else ''}",
        "rows": rows,
        "plots": [str(png)] if png else [],
        "notes": [
            "Indexer (`cityledger index`, 0.1 s head poll) and API (`cityledger serve`) run as separate "
            "processes on SQLite, as under `cityledger up`; the load is one citizen sending direct grants."
        ],
    }


if __name__ == "__main__":
    from run import record  # bench/run.py: one place stamps and saves

    started, quick = time.monotonic(), "--quick" in sys.argv
    result = record(run(quick), quick, time.monotonic() - started)
    for row in result["rows"]:
        print(f"{row['metric']:<45} {row['value']:>8.1f} {row['unit']}  {row.get('note') or ''}")
