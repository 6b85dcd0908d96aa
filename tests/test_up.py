"""`cityledger up` (what `make run` runs), as a user runs it: a real process on free ports, in a
fresh data dir; everything must come up, answer, and stop cleanly, twice (the second time resuming
the devnet state, reusing the deployment and the index, and not repeating the demo)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cityledger.chain.devnet import free_port, probe

pytestmark = pytest.mark.anvil
ROOT = Path(__file__).resolve().parents[1]


def start_up(env: dict, ready: Path) -> subprocess.Popen:
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cityledger", "up", "--ready-file", str(ready)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"`cityledger up` did not become ready:\n{proc.stdout.read()}")
        time.sleep(0.5)
    return proc


def stop_up(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    return output


def test_up_runs_the_whole_stack_and_resumes(tmp_path):
    rpc_port, api_port = free_port(), free_port()
    env = {
        **os.environ,
        "CITYLEDGER_DATA_DIR": str(tmp_path / "data"),
        "CITYLEDGER_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
        "CITYLEDGER_RPC_URL": f"http://127.0.0.1:{rpc_port}",
        "CITYLEDGER_API_PORT": str(api_port),
    }
    env.pop("CITYLEDGER_DB_URL", None)
    ready = tmp_path / "ready.json"
    proc = start_up(env, ready)
    try:
        info = json.loads(ready.read_text())
        api = info["api"]
        status = httpx.get(f"{api}/api/status", timeout=10).json()
        assert status["chain_id"] == 31337 and status["rpc_reachable"]
        datasets = httpx.get(f"{api}/api/datasets", params={"page_size": 100}, timeout=10).json()
        titles = {d["dataset_id"] for d in datasets["items"]}
        assert len(titles) >= 5, datasets  # the vega-datasets files, a new version and the citizen dataset
        assert any(d["personal_data"] for d in datasets["items"])
        releases = httpx.get(f"{api}/api/releases", timeout=10).json()["items"]
        assert len(releases) == 1 and releases[0]["subject_count"] >= 1
        page = httpx.get(f"{api}/", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
        first_head = status["head_block"]
    finally:
        out = stop_up(proc)
    assert proc.returncode == 0, out
    assert probe(f"http://127.0.0.1:{rpc_port}") is None, "the devnet should stop with `up`"
    assert (tmp_path / "data" / "devnet" / "state.json").is_file()

    # Again: the state is reloaded, nothing is redeployed, published or released twice.
    proc = start_up(env, ready)
    try:
        status = httpx.get(f"{api}/api/status", timeout=10).json()
        assert status["head_block"] == first_head, "an idempotent demo sends no new transactions"
        assert status["last_indexed_block"] >= first_head
        assert len(httpx.get(f"{api}/api/releases", timeout=10).json()["items"]) == 1
        again = httpx.get(f"{api}/api/datasets", params={"page_size": 100}, timeout=10).json()
        assert {d["dataset_id"] for d in again["items"]} == titles
    finally:
        out_text = stop_up(proc)
    assert "already deployed" in out_text and "already released" in out_text, out_text


def test_up_reuses_a_store_only_for_the_deployment_it_indexes(tmp_path):
    # `up` keeps the index of the same deployment and re-indexes (--reset) one of another chain or
    # other contracts; the check is the indexer's own (sync.deployment_mismatch).
    from types import SimpleNamespace

    from sqlalchemy import insert

    from cityledger.cli.up_cmds import store_matches
    from cityledger.indexer.models import Checkpoint
    from cityledger.indexer.store import make_engine
    from cityledger.indexer.sync import CONTRACT_COLUMNS

    url = f"sqlite:///{tmp_path / 'store.db'}"
    addresses = {
        name: "0x" + f"{i + 10:02x}".upper() * 20 for i, name in enumerate(CONTRACT_COLUMNS)
    }  # record: upper-case hex
    deployment = SimpleNamespace(chain_id=31337, contracts={n: {"address": a} for n, a in addresses.items()})
    assert store_matches(url, deployment)  # missing store: nothing to reset (and now migrated)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Checkpoint), {"id": 1, "chain_id": 31337, "block_number": 5, "block_hash": "0x" + "00" * 32, "start_block": 6,
                                          "confirmations": 2, "reorgs": 0,
                                          **{col: addresses[n].lower() for n, col in CONTRACT_COLUMNS.items()}})  # fmt: skip
    engine.dispose()
    assert store_matches(url, deployment)
    assert not store_matches(url, SimpleNamespace(chain_id=1, contracts=deployment.contracts))
    moved = dict(deployment.contracts, RightsRegistry={"address": "0x" + "ee" * 20})
    assert not store_matches(url, SimpleNamespace(chain_id=31337, contracts=moved))
