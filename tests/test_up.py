"""`cityledger up` (what `make run` runs), as a user runs it: a real process on free ports, in a
fresh data dir; everything must come up, answer, and stop cleanly, twice (the second time resuming
the devnet state, reusing the deployment and the index, and not repeating the demo). Killed with
SIGKILL, it takes its children with it, and the next `up` runs alone; the supervisor's pieces
(cli/supervise.py) on their own: a stale stack, a port taken by another program, a failing child."""

from __future__ import annotations

import dataclasses
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
from cityledger.testing import wait_for

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


def up_env(tmp_path) -> dict:
    """The environment of an `up` on free ports in a fresh data dir, whatever the caller's own keys."""
    env = {
        **os.environ,
        "CITYLEDGER_DATA_DIR": str(tmp_path / "data"),
        "CITYLEDGER_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
        "CITYLEDGER_RPC_URL": f"http://127.0.0.1:{free_port()}",
        "CITYLEDGER_API_PORT": str(free_port()),
    }
    for var in ("CITYLEDGER_DB_URL", "CITYLEDGER_PRIVATE_KEY", "CITYLEDGER_KEYSTORE", "CITYLEDGER_NETWORK"):
        env.pop(var, None)
    return env


def test_up_runs_the_whole_stack_and_resumes(tmp_path):
    env = up_env(tmp_path)
    rpc_port = int(env["CITYLEDGER_RPC_URL"].rsplit(":", 1)[1])
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
    # The data room's demo ran against the running stack (demo/seed.py dataroom_demo).
    for step in (
        "signed in to the data room",
        "downloaded open dataset",
        "served to the researcher",
        "private answer 1 (differential privacy, epsilon 1): mean trips_walk",
        "95 % interval",
        "consenting vs all rows on home_district: total variation",
        "spent 1.5 of 3, 1.5 left (logged on chain)",
        "opened deletion obligation",
        "deletion requested and confirmed",
    ):
        assert step in " ".join(out.split()), (step, out)
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
    # The private answer is not asked again (the head block did not move): the kept one is shown.
    assert "already answered: private answer 1" in " ".join(out_text.split()), out_text


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
        columns = {col: addresses[n].lower() for n, col in CONTRACT_COLUMNS.items()}
        row = {"id": 1, "chain_id": 31337, "block_number": 5, "block_hash": "0x" + "00" * 32, "start_block": 6}
        conn.execute(insert(Checkpoint), {**row, "confirmations": 2, "reorgs": 0, **columns})
    engine.dispose()
    assert store_matches(url, deployment)
    assert not store_matches(url, SimpleNamespace(chain_id=1, contracts=deployment.contracts))
    moved = dict(deployment.contracts, RightsRegistry={"address": "0x" + "ee" * 20})
    assert not store_matches(url, SimpleNamespace(chain_id=31337, contracts=moved))


def stack_processes(data_dir: Path) -> dict[str, list[int]]:
    """The live processes of the stack in `data_dir`, by kind: up, indexer, api, the data room's
    deletion loop (obligations), anvil."""
    kinds: dict[str, list[int]] = {"up": [], "indexer": [], "api": [], "obligations": [], "anvil": []}
    marker = f"CITYLEDGER_DATA_DIR={data_dir}".encode()
    for pid in (int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            ours = marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            zombie = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] == "Z"
        except OSError:
            continue
        if zombie:
            continue
        if any(str(data_dir / "devnet") in part.decode(errors="replace") for part in cmd):
            kinds["anvil"].append(pid)
        elif ours and b"cityledger" in cmd:
            kind = {b"up": "up", b"index": "indexer", b"serve": "api", b"dataroom": "obligations"}.get(
                cmd[3] if len(cmd) > 3 else b""
            )
            if kind:
                kinds[kind].append(pid)
    return kinds


def indexed_to_head(api: str) -> dict | None:
    """The API's status once the index has reached the node's head; None before (null included)."""
    status = httpx.get(f"{api}/api/status", timeout=10).json()
    last = status.get("last_indexed_block")
    return status if last is not None and last == status.get("head_block") else None


def test_a_killed_up_takes_its_children_and_the_next_runs_alone(tmp_path):
    # Was: SIGKILL left anvil, the indexer and the API running; the next `up` adopted the devnet,
    # restarted its API once a second ("api exited (3)": the orphan held the port) and ran a second
    # indexer on the same store.
    env = up_env(tmp_path)
    data = tmp_path / "data"
    ready = tmp_path / "ready.json"
    try:
        run_kill_and_rerun(env, data, ready, tmp_path)
    finally:  # whatever failed, no process of this test outlives it
        for pid in [pid for pids in stack_processes(data).values() for pid in pids]:
            os.kill(pid, signal.SIGKILL)


def run_kill_and_rerun(env: dict, data: Path, ready: Path, tmp_path: Path) -> None:
    from cityledger.chain.deployments import load_deployment
    from cityledger.config import load_config
    from cityledger.indexer.compare import compare_stores
    from cityledger.indexer.sync import Indexer

    proc = start_up(env, ready)
    first = stack_processes(data)
    assert {k: len(v) for k, v in first.items()} == {"up": 1, "indexer": 1, "api": 1, "obligations": 1, "anvil": 1}, (
        first
    )
    proc.kill()  # SIGKILL: no clean-up of its own
    proc.wait(10)
    wait_for(lambda: not any(stack_processes(data).values()), 30, "the children of the killed `up` to exit")

    proc = start_up(env, ready)
    try:
        api = json.loads(ready.read_text())["api"]
        time.sleep(3)  # a restart loop would show within this
        running = stack_processes(data)
        assert {k: len(v) for k, v in running.items()} == {
            "up": 1,
            "indexer": 1,
            "api": 1,
            "obligations": 1,
            "anvil": 1,
        }, running
        status = wait_for(lambda: indexed_to_head(api), 60, "the index to reach the head")
        cfg = dataclasses.replace(load_config(ROOT), deployments_dir=tmp_path / "deployments")
        fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
        ix = Indexer.from_deployment(fresh, env["CITYLEDGER_RPC_URL"], load_deployment(31337, cfg))
        try:
            ix.catch_up()
        finally:
            ix.close()
        assert compare_stores(f"sqlite:///{data / 'index.db'}", fresh) == []
        assert status["last_indexed_block"] == httpx.get(f"{api}/api/status", timeout=10).json()["head_block"]
    finally:
        out = stop_up(proc)
    assert proc.returncode == 0, out
    assert "restarting" not in out, out
    assert not any(stack_processes(data).values())


def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)


def entry(pid: int) -> dict:
    from cityledger.cli.supervise import started_at

    return {"pid": pid, "started": started_at(pid)}


def test_a_stale_stack_is_stopped_and_said(tmp_path):
    from cityledger.cli.supervise import StackFile, clear_stale_stack

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_up = entry(gone.pid)
    gone.wait()
    orphan, stranger = sleeper(), sleeper()
    try:
        stack = StackFile(tmp_path)
        # The stranger's pid with another start time: a pid reused by another program, never signalled.
        stack.path.write_text(json.dumps({
            "up": dead_up, "api": "http://127.0.0.1:1", "devnet": None,
            "children": {"api": entry(orphan.pid), "indexer": {**entry(stranger.pid), "started": 1}},
        }))  # fmt: skip
        said, adopted = clear_stale_stack(stack)
        assert said == [f"stopped the api (pid {orphan.pid}) left running by a killed `up`"] and not adopted
        assert orphan.wait(5) is not None and stranger.poll() is None
        assert not stack.path.exists() and clear_stale_stack(stack) == ([], False)
    finally:
        for proc in (orphan, stranger):
            proc.kill()
            proc.wait()


def test_a_running_up_is_not_started_twice(tmp_path):
    from cityledger.cli.supervise import StackFile, clear_stale_stack
    from cityledger.errors import CityLedgerError

    stack = StackFile(tmp_path)
    stack.path.write_text(json.dumps({"up": entry(os.getpid()), "children": {}, "devnet": None, "api": "x"}))
    with pytest.raises(CityLedgerError, match=f"already running here .*pid {os.getpid()}"):
        clear_stale_stack(stack)
    assert stack.path.exists()


def test_a_port_taken_by_another_program_is_one_error(tmp_path):
    import socket

    from cityledger.cli.supervise import Children
    from cityledger.errors import CityLedgerError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        children = Children(tmp_path, s.getsockname()[1], on_change=lambda: None)
        with pytest.raises(CityLedgerError, match="taken by another program, not by this `up`"):
            children.spawn("api", [sys.executable, "-c", "pass"])
    assert children.procs == {}


def test_a_failing_child_is_restarted_with_backoff_not_once_a_second(tmp_path):
    from cityledger.cli.supervise import Children

    starts, said = [], []
    children = Children(tmp_path, free_port(), on_change=lambda: starts.append(time.monotonic()))
    children.spawn("indexer", [sys.executable, "-c", "raise SystemExit(3)"])
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            children.check(said.append)
            time.sleep(0.05)
    finally:
        children.stop()
    assert 2 <= len(starts) <= 3, said  # started, then again after 1 s and 2 s (4 s next): not 6 times
    assert [line.split(" in ")[1].split("s ")[0] for line in said[:2]] == ["1", "2"], said
    assert all(line.startswith("indexer exited (3) after") for line in said)
