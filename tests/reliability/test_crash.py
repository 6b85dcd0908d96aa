"""Crash safety: SIGKILL the indexer at random points of a catch-up; every restart ends equal to a
fresh full re-index, table by table.

The indexer runs as a real child process (tests/reliability/indexer_child.py: the Indexer class
with small block ranges, so the catch-up commits once per block or so); the last restart is the
real `cityledger index --once` command. After each kill the store as the kill left it is copied and
caught up on its own, and compared with the reference: so every kill point is checked, not only
the last one."""

from __future__ import annotations

import random
import shutil
import sqlite3
import time

import pytest

from cityledger.indexer.sync import Indexer

from .helpers import (
    addresses,
    assert_same,
    child_command,
    cli_index_command,
    fresh_index,
    make_events,
    run,
    spawn,
    sqlite_url,
)


def checkpoint_block(db) -> int | None:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute("SELECT block_number FROM checkpoint WHERE id = 1").fetchone()
        finally:
            con.close()
        return row[0] if row else None
    except sqlite3.Error:
        return None


def copy_store(src, dst) -> None:
    for suffix in ("", "-wal", "-shm"):
        if (src.parent / (src.name + suffix)).exists():
            shutil.copyfile(src.parent / (src.name + suffix), dst.parent / (dst.name + suffix))


def crash_run(devnet, tmp_path, *, bulk: int, kills: int, seed: int) -> dict:
    rng = random.Random(seed)
    emitted = make_events(devnet, bulk, seed=seed)
    head = devnet.w3.eth.block_number
    ref = fresh_index(devnet, tmp_path / "ref.db")
    db = tmp_path / "crash.db"
    url = sqlite_url(db)
    first = devnet.deployment.start_block
    # Kill points: distinct random blocks of the catch-up, in order, each plus a few ms of jitter
    # so the kill lands inside a range's fetch or write, not just after a commit.
    targets = sorted(rng.sample(range(first, head - 1), kills))
    kill_log = []
    for i, target in enumerate(targets):
        proc = spawn(child_command(devnet, url, target_logs=100))
        killed_at = None
        while proc.poll() is None:
            cp = checkpoint_block(db)
            if cp is not None and cp >= target:
                time.sleep(rng.uniform(0, 0.03))
                cp = checkpoint_block(db)
                proc.kill()
                proc.wait()
                killed_at = cp
                break
            time.sleep(0.003)
        if killed_at is None:
            err = proc.stderr.read()
            assert proc.returncode == 0, f"indexer child failed before kill {i}: {err[-2000:]}"
            continue  # finished before reaching the target: not a kill
        assert proc.returncode == -9
        kill_log.append(killed_at)
        # Check this kill point on its own: a restart from exactly this store must equal the reference.
        probe = tmp_path / f"probe{i}.db"
        copy_store(db, probe)
        ix = Indexer(sqlite_url(probe), devnet.rpc_url, chain_id=devnet.network.chain_id, addresses=addresses(devnet),
                     start_block=first, migrate_store=True)  # fmt: skip
        try:
            ix.catch_up()
        finally:
            ix.close()
        assert_same(sqlite_url(probe), ref)
        for suffix in ("", "-wal", "-shm"):
            (probe.parent / (probe.name + suffix)).unlink(missing_ok=True)
    # The final restart is the real CLI command.
    cmd, env = cli_index_command(devnet, url)
    done = run(cmd, env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_same(url, ref)
    return {"events": emitted, "blocks": head - first + 1, "kills": kill_log}


def test_sigkill_during_catch_up_quick(devnet, tmp_path):
    out = crash_run(devnet, tmp_path, bulk=5000, kills=3, seed=11)
    # All three kills must have landed mid-catch-up, at three different checkpoints at most.
    assert len(out["kills"]) == 3, out


@pytest.mark.long
def test_sigkill_during_catch_up_long(devnet, tmp_path):
    out = crash_run(devnet, tmp_path, bulk=50_000, kills=20, seed=12)
    print(f"crash long: {out['events']} events over {out['blocks']} blocks, kills at checkpoints {out['kills']}")
    assert len(out["kills"]) >= 18, out  # a kill target the child passes in one commit is skipped, not counted
