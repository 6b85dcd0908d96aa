"""Shared pieces of the reliability suite: event generation, fresh re-index, an indexer child process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from cityledger.chain.accounts import RELAYER
from cityledger.indexer.compare import compare_stores, row_counts
from cityledger.indexer.events import CONTRACTS
from cityledger.indexer.loadgen import BulkGranter, mixed_activity
from cityledger.indexer.sync import Indexer

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
CHILD = str(Path(__file__).with_name("indexer_child.py"))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def addresses(chain) -> dict[str, str]:
    return {name: chain.deployment.address(name) for name in CONTRACTS}


def make_events(chain, bulk: int, *, rounds: int = 1, seed: int = 1) -> int:
    """Every event kind (mixed_activity) plus `bulk` consent grants; returns the events emitted."""
    events = mixed_activity(chain, rounds=rounds, seed=seed)
    if bulk:
        granter = BulkGranter(
            chain.rpc_url, chain.network.chain_id, chain.deployment.address("ConsentRegistry"),
            chain.accounts[RELAYER].address, citizens=512, seed=seed,
        )  # fmt: skip
        granter.submit(bulk)
        granter.rpc.close()
        events += bulk
    return events


def fresh_index(chain, db: Path, rpc_url: str | None = None, **kw) -> str:
    """A full re-index of the canonical chain into a new store; returns its URL."""
    if db.exists():
        raise FileExistsError(db)
    url = sqlite_url(db)
    ix = Indexer(url, rpc_url or chain.rpc_url, chain_id=chain.network.chain_id, addresses=addresses(chain),
                 start_block=chain.deployment.start_block, **kw)  # fmt: skip
    try:
        ix.catch_up()
    finally:
        ix.close()
    return url


def assert_same(store: str, reference: str) -> None:
    diffs = compare_stores(store, reference)
    assert not diffs, "store differs from a fresh re-index:\n" + "\n".join(diffs)
    # compare_stores must compare something: an empty reference would prove nothing.
    assert sum(row_counts(reference).values()) > 0


def child_command(chain, db_url: str, *, target_logs: int, rpc_url: str | None = None) -> list[str]:
    """An indexer catch-up in a child process (the Indexer class with small ranges: many commits)."""
    spec = {
        "db": db_url, "rpc": rpc_url or chain.rpc_url, "chain_id": chain.network.chain_id,
        "addresses": addresses(chain), "start_block": chain.deployment.start_block, "target_logs": target_logs,
    }  # fmt: skip
    return [PY, CHILD, json.dumps(spec)]


def cli_index_command(chain, db_url: str) -> tuple[list[str], dict]:
    """The real `cityledger index --once` command and the environment that points it at `chain`."""
    env = {**os.environ, **chain.env, "PYTHONPATH": str(ROOT / "src")}
    return [PY, "-m", "cityledger", "index", "--once", "--quiet", "--db", db_url, "--network", "devnet"], env


def run(cmd: list[str], env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def spawn(cmd: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
