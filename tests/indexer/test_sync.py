"""The indexer against a real anvil: catch-up, follow, reorgs, crashes, RPC outages and restarts.

In every case the store must equal a fresh full re-index of the canonical chain, table by table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from eth_utils import keccak
from sqlalchemy import func, inspect, select

from cityledger.chain.accounts import AGENCY, CITIZENS, RELAYER
from cityledger.chain.tx import transact
from cityledger.codes import ANY_RESEARCHER, SCOPE_DATASET, SCOPE_DOMAIN, purpose_hash
from cityledger.indexer.compare import compare_stores, dump_table, row_counts
from cityledger.indexer.loadgen import BulkGranter, mixed_activity
from cityledger.indexer.models import Checkpoint, Consent, ConsentEvent, Dataset
from cityledger.indexer.rpc import NodeInconsistent
from cityledger.indexer.store import (
    BUILD_CACHE_KIB,
    CACHE_KIB,
    DEFERRABLE_TABLES,
    PAGE_SIZE,
    deferrable_indexes,
    drop_deferrable_indexes,
    make_engine,
    migrate,
    restore_indexes,
)
from cityledger.indexer.sync import Indexer

ROOT = Path(__file__).resolve().parents[2]
P = purpose_hash("ScientificResearch")


def make_indexer(chain, url: str, **kw) -> Indexer:
    kw.setdefault("poll_interval", 0.05)
    return Indexer.from_deployment(url, chain.rpc_url, chain.deployment, **kw)


def fresh_index(chain, stores) -> str:
    url = stores("fresh")
    ix = make_indexer(chain, url)
    ix.catch_up()
    ix.close()
    return url


def assert_equals_fresh(chain, stores, url: str) -> None:
    assert compare_stores(url, fresh_index(chain, stores)) == []


def checkpoint(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(select(Checkpoint)).mappings().first()
    engine.dispose()
    return dict(row) if row else {}


def bulk(chain, events: int, seed: int = 1) -> None:
    BulkGranter(
        chain.rpc_url,
        chain.network.chain_id,
        chain.deployment.address("ConsentRegistry"),
        chain.accounts[RELAYER].address,
        citizens=32,
        seed=seed,
    ).submit(events)


def chain_log_count(chain, name: str) -> int:
    return len(
        chain.w3.eth.get_logs(
            {"fromBlock": chain.deployment.start_block, "toBlock": "latest", "address": chain.contract(name).address}
        )
    )


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_mixed_activity_runs_past_the_open_request_cap(devnet):
    """Each round leaves one rights request open; with the same citizen every round the 17th round
    reverted ("too many open requests"), which broke the 20-takeover reliability run."""
    from cityledger.chain.accounts import AGENCY, CITIZENS

    rounds = 17  # RightsRegistry.MAX_OPEN_REQUESTS + 1
    assert mixed_activity(devnet, rounds=rounds) > 0
    rights = devnet.contract("RightsRegistry")
    agency = devnet.accounts[AGENCY].address
    open_counts = [rights.functions.open_requests(devnet.accounts[i].address, agency).call() for i in CITIZENS]
    assert sum(open_counts) == rounds and max(open_counts) - min(open_counts) <= 1


def test_catch_up_indexes_every_event_and_batching_does_not_matter(devnet, stores):
    mixed_activity(devnet, rounds=1)
    bulk(devnet, 400)
    url = stores("main")
    ix = make_indexer(devnet, url)
    ix.catch_up()
    head = devnet.w3.eth.block_number
    cp = checkpoint(url)
    assert cp["block_number"] == head and cp["head_block"] == head and cp["finalized_block"] == head - ix.confirmations
    ix.close()
    counts = row_counts(url)
    consent_logs = counts["consent_events"] + counts["signature_cancellations"] + counts["skipped_grants"]
    assert consent_logs == chain_log_count(devnet, "ConsentRegistry")
    assert counts["signature_cancellations"] == counts["skipped_grants"] == 1
    assert counts["releases"] == 1 and counts["rights_requests"] == 4 and counts["access"] == 4
    assert counts["profile_events"] == counts["budget_events"] == counts["private_queries"] == 1
    assert counts["operator_events"] == 2 and counts["deletion_obligations"] == 1
    # Tiny ranges and a tiny reorg window: many transactions and the prefetching deep path.
    small = stores("small")
    ix = make_indexer(devnet, small, target_logs=5, keep_blocks=4, commit_events=50)
    ix.catch_up()
    ix.close()
    assert compare_stores(url, small) == []
    # What the contracts say, the store says.
    ds = devnet.contract("DatasetRegistry")
    for row in dump_table(make_engine(url), "datasets"):
        on_chain = ds.functions.dataset(row[0]).call()
        assert (on_chain[5], on_chain[7] or None) == (row[11], row[9])  # status, successor
    consent = devnet.contract("ConsentRegistry")
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Consent.key, Consent.expiry, Consent.nonce)).all()
    engine.dispose()
    for key, expiry, nonce in rows[:50]:
        assert consent.functions.consent(bytes.fromhex(key[2:])).call()[:2] == [expiry, nonce]


def test_follow_sees_a_new_transaction(devnet, stores):
    url = stores()
    ix = make_indexer(devnet, url)
    ix.catch_up()
    thread = threading.Thread(target=ix.follow, daemon=True)
    thread.start()
    try:
        citizen = devnet.accounts[CITIZENS[0]]
        now = devnet.w3.eth.get_block("latest")["timestamp"]
        receipt = transact(
            devnet.w3,
            citizen,
            devnet.contract("ConsentRegistry").functions.grant(
                P, SCOPE_DOMAIN, (5).to_bytes(32, "big"), ANY_RESEARCHER, now + 3600
            ),
        )
        engine = make_engine(url)

        def seen():
            with engine.connect() as conn:
                return conn.execute(
                    select(Consent).where(Consent.granted_tx == receipt["transactionHash"].to_0x_hex())
                ).first()

        wait_for(seen, what="the grant in the store")
        assert checkpoint(url)["block_number"] >= receipt["blockNumber"]
        engine.dispose()
    finally:
        ix.stop_event.set()
        thread.join(10)
        ix.close()
    assert not thread.is_alive()


def _branch(chain, label: str, txs: int, revoke: bool) -> None:
    """Different transactions on each side of a fork."""
    w3 = chain.w3
    consent, ds = chain.contract("ConsentRegistry"), chain.contract("DatasetRegistry")
    now = w3.eth.get_block("latest")["timestamp"]
    for i in range(txs):
        c = chain.accounts[CITIZENS[i % 4]]
        transact(
            w3,
            c,
            consent.functions.grant(P, SCOPE_DOMAIN, (i % 12 + 1).to_bytes(32, "big"), ANY_RESEARCHER, now + 7200 + i),
        )
    if revoke:
        transact(
            w3,
            chain.accounts[CITIZENS[0]],
            consent.functions.revoke(P, SCOPE_DATASET, (2).to_bytes(32, "big"), ANY_RESEARCHER),
        )
    transact(
        w3,
        chain.accounts[AGENCY],
        ds.functions.register(keccak(text=label), keccak(text=label + "m"), f"ipfs://{label}", 1, False, 0),
    )


@pytest.mark.parametrize("new_branch_txs", [1, 8], ids=["shorter", "longer"])
def test_reorg_rolls_back_to_the_common_ancestor(devnet, stores, new_branch_txs):
    mixed_activity(devnet, rounds=1)  # citizen 0 holds an active consent on dataset 2
    url = stores()
    ix = make_indexer(devnet, url, confirmations=3)
    ix.catch_up()
    snapshot = devnet.snapshot()
    _branch(devnet, "A", txs=4, revoke=True)
    ix.catch_up()
    key = (
        devnet.contract("ConsentRegistry")
        .functions.consent_key(
            devnet.accounts[CITIZENS[0]].address, P, SCOPE_DATASET, (2).to_bytes(32, "big"), ANY_RESEARCHER
        )
        .call()
    )
    key = "0x" + key.hex()
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(Consent.expiry).where(Consent.key == key)).scalar_one() == 0
    devnet.revert(snapshot)
    _branch(devnet, "B", txs=new_branch_txs, revoke=False)
    ix.catch_up()
    ix.close()
    cp = checkpoint(url)
    assert cp["reorgs"] == 1 and cp["block_number"] == devnet.w3.eth.block_number
    with engine.connect() as conn:
        # The revocation only happened on the abandoned branch: the consent is active again.
        assert conn.execute(select(Consent.expiry, Consent.revoked_at).where(Consent.key == key)).one()[0] > 0
        uris = set(conn.execute(select(Dataset.metadata_uri)).scalars())
    engine.dispose()
    assert "ipfs://B" in uris and "ipfs://A" not in uris
    assert_equals_fresh(devnet, stores, url)


def test_crash_between_reduce_and_commit_loses_and_duplicates_nothing(devnet, stores):
    mixed_activity(devnet, rounds=1)
    bulk(devnet, 600)
    url = stores()
    ix = make_indexer(devnet, url, target_logs=40, keep_blocks=4, commit_events=100)
    calls = {"n": 0}

    def crash(result) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the deep (prefetching, several ranges per commit) path
            raise RuntimeError("injected crash before commit")

    ix.before_commit = crash
    with pytest.raises(RuntimeError, match="injected"):
        ix.catch_up()
    ix.close()
    stopped_at = checkpoint(url)["block_number"]
    assert devnet.deployment.start_block <= stopped_at < devnet.w3.eth.block_number
    ix = make_indexer(devnet, url, target_logs=40)
    ix.catch_up()
    ix.close()
    assert_equals_fresh(devnet, stores, url)


def test_sigkill_mid_catch_up_then_restart(devnet, stores):
    bulk(devnet, 3000)
    url = stores()
    head = devnet.w3.eth.block_number
    env = os.environ | devnet.env | {"PYTHONPATH": str(ROOT / "src")}
    cmd = [
        sys.executable,
        "-c",
        "from cityledger.cli import main; main()",
        "index",
        "--once",
        "--db",
        url,
        "--batch-logs",
        "10",
        "-q",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:

        def midway():
            try:
                n = checkpoint(url).get("block_number")
            except Exception:  # the store is still being created
                return None
            return n is not None and devnet.deployment.start_block < n < head

        wait_for(midway, timeout=60, what="the indexer to be mid catch-up")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    killed_at = checkpoint(url)["block_number"]
    assert killed_at < head
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert checkpoint(url)["block_number"] == head
    assert_equals_fresh(devnet, stores, url)


def test_rpc_outage_is_reported_and_a_restarted_anvil_is_followed(tmp_path, stores):
    from cityledger.chain.accounts import DEFAULT_MNEMONIC
    from cityledger.chain.devnet import Anvil
    from cityledger.config import load_config
    from cityledger.testing import build_devnet

    state = tmp_path / "anvil-state.json"
    node = Anvil(chain_id=31337, mnemonic=DEFAULT_MNEMONIC, cfg=load_config(), state_path=state).start()
    try:
        chain = build_devnet(node, tmp_path / "chain")
        url = stores()
        ix = make_indexer(chain, url, rpc_retries=1, rpc_timeout=2)
        ix.catch_up()
        errors: list[Exception] = []
        thread = threading.Thread(target=ix.follow, kwargs={"on_error": errors.append}, daemon=True)
        thread.start()
        port = node.port
        node.stop()  # SIGTERM: anvil dumps its state
        wait_for(lambda: checkpoint(url).get("rpc_error"), what="the outage in the status")
        # follow() records the error in the store, then calls on_error: wait for that too, not assume it
        wait_for(lambda: errors, what="the outage reported to on_error")
        assert thread.is_alive()
        node = Anvil(chain_id=31337, mnemonic=DEFAULT_MNEMONIC, cfg=load_config(), state_path=state, port=port).start()
        transact(
            chain.w3,
            chain.accounts[AGENCY],
            chain.contract("DatasetRegistry").functions.register(
                keccak(text="after"), keccak(text="m"), "ipfs://after", 2, False, 0
            ),
        )
        head = chain.w3.eth.block_number
        wait_for(
            lambda: (cp := checkpoint(url))["block_number"] == head and cp["rpc_error"] is None,
            what="catching up after the restart",
        )
        ix.stop_event.set()
        thread.join(10)
        ix.close()
        fresh = stores("fresh")
        ix = make_indexer(chain, fresh)
        ix.catch_up()
        ix.close()
        assert compare_stores(url, fresh) == []
        assert row_counts(url)["datasets"] == 1
    finally:
        node.stop()


def test_an_answer_is_bounded_whatever_the_chain_shape(devnet, stores, monkeypatch):
    # Issue 17: after a sparse prefix the range grew 8x per step and one eth_getLogs answer held
    # 156,238 logs (740 MB). Now a range grows at most 2x per step and an answer is read up to
    # max_response_bytes (cut at a block boundary), so no answer holds much more than that.
    from cityledger.indexer.rpc import Rpc

    mixed_activity(devnet, rounds=1)  # ~90 sparse blocks
    devnet.w3.provider.make_request("anvil_mine", [hex(400)])  # and a long empty stretch
    many_blocks(devnet, 12, 60)  # then dense: 12 blocks of 60 logs
    sizes: list[int] = []
    real = Rpc.get_logs

    def counted(self, *args, **kw):
        logs, to = real(self, *args, **kw)
        sizes.append(len(logs))
        return logs, to

    monkeypatch.setattr(Rpc, "get_logs", counted)
    url = stores()
    ix = make_indexer(devnet, url, target_logs=20, keep_blocks=4, commit_events=50)
    ix.catch_up()
    ix.close()
    mine = [devnet.w3.to_checksum_address(a) for a in ix.addresses.values()]
    every = devnet.w3.eth.get_logs({"fromBlock": devnet.deployment.start_block, "address": mine})
    assert sum(sizes) == len(every)  # each log fetched once: a cut answer's dropped blocks are not counted
    assert max(sizes) <= 1.5 * 20 + 60, sizes  # ~max_response_bytes, plus the block it was cut in
    assert ix.cut_answers > 0  # the dense stretch did come after a wide sparse range
    monkeypatch.undo()
    assert_equals_fresh(devnet, stores, url)


def test_a_node_missing_a_block_below_its_head_is_not_a_reorg(devnet, stores):
    # Issue 14: a node whose head is above a block it answers null for. Nothing stored is rolled
    # back or counted as a reorg; catch-up (what `index --once` runs) gives up after a few tries.
    from cityledger.faults import FaultProxy

    mixed_activity(devnet, rounds=1)
    url = stores()
    with FaultProxy(devnet.rpc_url) as proxy:
        ix = Indexer.from_deployment(url, proxy.url, devnet.deployment, rpc_retries=2)
        ix.catch_up()
        head = checkpoint(url)["block_number"]
        before = dump_table(make_engine(url), "consent_events")
        # 1. Idle at the head, and the node loses the checkpoint's own block.
        proxy.hide_blocks({head})
        with pytest.raises(NodeInconsistent, match=f"head is {head} but it has no block {head}"):
            ix.catch_up()
        # 2. New blocks above a missing one.
        devnet.w3.provider.make_request("anvil_mine", ["0x3"])
        proxy.hide_blocks({head + 1})
        requests = proxy.stats["requests"]
        with pytest.raises(NodeInconsistent, match=f"block {head + 1} is missing below head {head + 3}"):
            ix.catch_up()
        assert proxy.stats["requests"] - requests < 30, dict(proxy.stats)  # a few tries, not a spin
        cp = checkpoint(url)
        assert (cp["block_number"], cp["reorgs"]) == (head, 0)
        assert dump_table(make_engine(url), "consent_events") == before
        # 3. The node recovers.
        proxy.clear()
        ix.catch_up()
        ix.close()
    cp = checkpoint(url)
    assert (cp["block_number"], cp["reorgs"]) == (head + 3, 0)
    assert_equals_fresh(devnet, stores, url)


def test_a_node_without_the_block_before_the_deployment_is_waited_out(devnet, stores):
    # The first checkpoint sits on block start-1. A node at that height answering null for it
    # contradicts itself (the fault proxy's null_block chaos did this to a first step): the indexer
    # waits it out, it does not conclude "wrong RPC" and stop.
    from cityledger.faults import FaultProxy

    url = stores()
    with FaultProxy(devnet.rpc_url) as proxy:
        ix = Indexer.from_deployment(url, proxy.url, devnet.deployment, rpc_retries=2)
        proxy.hide_blocks({devnet.deployment.start_block - 1})
        with pytest.raises(NodeInconsistent, match=f"has no block {devnet.deployment.start_block - 1}"):
            ix.catch_up()
        proxy.clear()
        ix.catch_up()
        ix.close()
    assert checkpoint(url)["block_number"] == devnet.w3.eth.block_number


def test_cli_once_status_and_refusals(devnet, tmp_path):
    from typer.testing import CliRunner

    from cityledger.cli import app
    from cityledger.errors import CityLedgerError

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    done = runner.invoke(app, ["index", "--once", "--db", url, "-q"])
    assert done.exit_code == 0, done.output
    assert checkpoint(url)["block_number"] == devnet.w3.eth.block_number
    status = runner.invoke(app, ["index-status", "--db", url])
    assert status.exit_code == 0 and "roles" in status.output and "finalized_block" in status.output
    assert "node_inconsistent" in status.output
    # --log-json: stderr holds JSON lines only (no progress bar, the summary as a record).
    logged = runner.invoke(app, ["index", "--once", "--db", url, "--log-json"])
    assert logged.exit_code == 0, logged.output
    records = [json.loads(line) for line in logged.stderr.splitlines() if line.strip()]
    summary = next(r for r in records if r["msg"] == "caught up")
    assert summary["last"] == devnet.w3.eth.block_number and summary["events"] == 0 and summary["level"] == "info"
    bad = runner.invoke(app, ["index", "--once", "--db", url, "--poll", "0"])
    assert bad.exit_code == 2 and "'--poll'" in bad.output  # a usage error: cli/numbers.py ranges it
    # A store remembers its contracts: another deployment is refused, nothing written.
    other = dict(devnet.deployment.contracts)
    other["CityRoles"] = dict(other["CityRoles"], address="0x" + "11" * 20)
    before = checkpoint(url)
    ix = Indexer(
        url,
        devnet.rpc_url,
        chain_id=devnet.network.chain_id,
        addresses={n: c["address"] for n, c in other.items()},
        start_block=devnet.deployment.start_block,
    )
    with pytest.raises(CityLedgerError, match="other contract addresses"):
        ix.catch_up()
    assert checkpoint(url) == before
    # --reset forgets the other deployment and takes this one.
    ix.reset()
    ix.checkpoint()
    ix.close()
    assert checkpoint(url)["roles_address"] == "0x" + "11" * 20 and checkpoint(url)["leader"] == ix.lease.holder


# ---------------------------------------------------------------- deferred secondary indexes

DEFERRED = {ix.name for ix in deferrable_indexes()}


def index_names(url: str) -> set[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        names = {i["name"] for t in DEFERRABLE_TABLES for i in inspect(conn).get_indexes(t)}
    engine.dispose()
    return names


def many_blocks(chain, blocks: int, per_block: int) -> None:
    for seed in range(blocks):  # a granter per block: own citizens, so its signing nonces hold
        bulk(chain, per_block, seed=100 + seed)


def indexes_at_each_commit(chain, url: str, defer_indexes: int) -> list[set[str]]:
    """A catch-up in small transactions; the deferrable indexes the store had before each commit."""
    ix = make_indexer(chain, url, target_logs=40, keep_blocks=4, commit_events=100, defer_indexes=defer_indexes)
    seen: list[set[str]] = []
    ix.before_commit = lambda r: seen.append(index_names(url))
    ix.catch_up()
    ix.close()
    return seen


def test_long_catch_up_defers_the_consent_indexes_and_builds_them_at_the_end(devnet, stores):
    mixed_activity(devnet, rounds=1)
    many_blocks(devnet, 16, 40)
    url = stores()
    # defer_indexes=1: any deep catch-up counts as long; the default only defers from 20,000 events.
    seen = indexes_at_each_commit(devnet, url, defer_indexes=1)
    # Every commit of the catch-up, the reorg window's blocks included, runs without them; they are
    # built once it reaches the head.
    assert len(seen) > 3 and all(DEFERRED.isdisjoint(s) for s in seen)
    assert DEFERRED <= index_names(url)
    assert_equals_fresh(devnet, stores, url)
    # An exception mid catch-up (index deferred) still leaves the indexes built.
    url2 = stores("crashed")
    ix = make_indexer(devnet, url2, target_logs=40, keep_blocks=4, commit_events=100, defer_indexes=1)
    calls = {"n": 0}

    def crash(result) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            assert DEFERRED.isdisjoint(index_names(url2))
            raise RuntimeError("injected crash before commit")

    ix.before_commit = crash
    with pytest.raises(RuntimeError, match="injected"):
        ix.catch_up()
    ix.close()
    assert DEFERRED <= index_names(url2)


def test_a_deferred_catch_up_builds_consents_at_its_end_and_readers_use_the_events_meanwhile(devnet, stores):
    # Issue 17 (speed): a deep catch-up appends consent events only and builds `consents` once at its
    # end (one sorted INSERT ... SELECT instead of a random-key upsert per grant). Meanwhile the
    # checkpoint says so, and a consent question is answered from the events as of the checkpoint.
    from cityledger.query.queries import citizen_consents, consent_check

    mixed_activity(devnet, rounds=1)  # grants, re-grants, revokes, cancelled signatures: all rebuilt
    many_blocks(devnet, 16, 40)
    url = stores()
    ix = make_indexer(devnet, url, target_logs=40, keep_blocks=4, commit_events=100, defer_indexes=1)
    seen: list[tuple] = []

    def look(_result) -> None:
        engine = make_engine(url)
        with engine.connect() as conn:
            cp = conn.execute(select(Checkpoint)).mappings().one()
            kept = set(conn.execute(select(Consent.key)).scalars())
            # a key whose grant is stored (at or below the checkpoint) but not kept in `consents`
            granted = conn.execute(
                select(ConsentEvent.key, ConsentEvent.citizen).where(
                    ConsentEvent.action == "grant", ConsentEvent.block_number <= cp["block_number"]
                )
            ).all()
            missing = [(k, c) for k, c in granted if k not in kept]
            if cp["consents_deferred_from"] is not None and missing:
                key, citizen = missing[-1]
                answers = consent_check(conn, key=key), citizen_consents(conn, citizen)
                seen.append((cp["consents_deferred_from"], key, *answers))
        engine.dispose()

    ix.before_commit = look
    ix.catch_up()
    ix.close()
    assert seen, "no commit ran with `consents` deferred and behind its events"
    for _, key, check, listed in seen:
        assert check["state"] != "never_granted" and check["as_of_block"] > 0  # from the events, not `consents`
        assert key in {item["key"] for item in listed["items"]}
    assert checkpoint(url)["consents_deferred_from"] is None  # built, and marked current
    assert DEFERRED <= index_names(url)
    assert_equals_fresh(devnet, stores, url)  # row for row what the reducers keep


def test_a_reorg_met_by_a_deferred_catch_up_builds_first_then_rolls_back(devnet, stores, monkeypatch):
    # A deferred catch-up goes on deferring through the reorg window's blocks; a reorg met there
    # replays `consents` keys through the event indexes, so the indexer builds both before it rolls
    # back. The chain moves while the prefetch thread may already hold the next range of branch A.
    from cityledger.indexer import sync

    mixed_activity(devnet, rounds=1)
    many_blocks(devnet, 24, 40)  # the deep ranges reach into these: dense enough to defer
    snapshot, fork_block = devnet.snapshot(), devnet.w3.eth.block_number
    _branch(devnet, "A", txs=4, revoke=True)  # the window holds its blocks and some dense ones
    url = stores()
    ix = make_indexer(devnet, url, target_logs=40, keep_blocks=12, commit_events=100, defer_indexes=1)
    state = {"forked": False}

    def fork(result) -> None:  # at a commit that stores A's blocks: A is replaced by a longer B
        if not state["forked"] and result.to_block > fork_block:
            state["forked"] = True
            assert checkpoint(url)["consents_deferred_from"] is not None  # still deferring
            devnet.revert(snapshot)
            _branch(devnet, "B", txs=8, revoke=False)

    ix.before_commit = fork
    order: list[str] = []
    restore, rollback = sync.restore_indexes, sync.rollback_to
    monkeypatch.setattr(sync, "restore_indexes", lambda conn, **kw: order.append("build") or restore(conn, **kw))
    monkeypatch.setattr(sync, "rollback_to", lambda conn, a: order.append("rollback") or rollback(conn, a))
    ix.catch_up()
    ix.close()
    assert order[:2] == ["build", "rollback"]
    cp = checkpoint(url)
    assert state["forked"] and cp["reorgs"] == 1 and cp["block_number"] == devnet.w3.eth.block_number
    assert cp["consents_deferred_from"] is None and DEFERRED <= index_names(url)
    assert_equals_fresh(devnet, stores, url)


def test_the_prefetch_stops_where_the_chain_moved_and_the_steps_roll_back(devnet, stores, caplog):
    # The prefetch thread fetches the reorg window's ranges too, each chained to the one before. The
    # chain is replaced right after it fetched a range of branch A: the next range (branch B) does
    # not chain to it, so the prefetch stops there; the ranges before it are committed, and the step
    # after the prefetch finds the checkpoint's block changed and rolls back.
    import logging

    mixed_activity(devnet, rounds=1)
    many_blocks(devnet, 8, 40)
    snapshot, fork_block = devnet.snapshot(), devnet.w3.eth.block_number
    _branch(devnet, "A", txs=6, revoke=True)
    devnet.w3.provider.make_request("anvil_mine", [hex(4)])  # A's blocks are not the last range
    url = stores()
    ix = make_indexer(devnet, url, target_logs=40, max_span=2, keep_blocks=16, commit_events=100)
    fetch_headers, state = ix._fetch_headers, {"forked": False}

    def fetch_then_fork(frm, to, head, parent_hash, logs, rpc=None):
        out = fetch_headers(frm, to, head, parent_hash, logs, rpc)
        if rpc is not None and not state["forked"] and to > fork_block:  # the prefetch thread, a range of A
            state["forked"] = True
            devnet.revert(snapshot)
            _branch(devnet, "B", txs=12, revoke=False)
        return out

    ix._fetch_headers = fetch_then_fork
    with caplog.at_level(logging.INFO, logger="cityledger"):
        ix.catch_up()
    ix.close()
    assert state["forked"]
    assert any("the chain moved during the catch-up" in r.getMessage() for r in caplog.records)
    cp = checkpoint(url)
    assert cp["reorgs"] == 1 and cp["block_number"] == devnet.w3.eth.block_number
    assert_equals_fresh(devnet, stores, url)


def test_a_catch_up_keeps_every_header_of_the_reorg_window(devnet, stores):
    # The prefetch reaches the head: the window's blocks are stored as a step would store them (the
    # reorg check of the next step walks them back to a common ancestor).
    from cityledger.indexer.models import Block

    many_blocks(devnet, 12, 40)
    url = stores()
    ix = make_indexer(devnet, url, target_logs=40, keep_blocks=8, commit_events=100)
    ix.catch_up()
    ix.close()
    head = devnet.w3.eth.block_number
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = {n: h for n, h in conn.execute(select(Block.number, Block.hash))}
    engine.dispose()
    window = range(head - 7, head + 1)
    assert set(window) <= set(stored)
    assert all(stored[n] == devnet.w3.eth.get_block(n)["hash"].to_0x_hex() for n in window)


def test_a_deep_catch_up_holds_at_most_two_ranges_of_logs(devnet, stores):
    # Issue 17 (memory): the prefetch thread fetches the next range while one is reduced, never a
    # third while one waits in its queue, however slow the writer is.
    many_blocks(devnet, 16, 40)
    url = stores()
    ix = make_indexer(devnet, url, target_logs=40, keep_blocks=4, commit_events=100)
    fetched, reduced, ahead = [0], [0], []
    fetch_logs, reduce = ix._fetch_logs, ix._reduce

    def counted_fetch(*args, **kw):
        out = fetch_logs(*args, **kw)
        fetched[0] += 1
        return out

    def slow_reduce(*args, **kw):
        reduced[0] += 1
        time.sleep(0.1)  # the prefetch thread has time to run ahead, if it may
        ahead.append(fetched[0] - reduced[0])  # ranges fetched beyond the one being reduced
        return reduce(*args, **kw)

    ix._fetch_logs, ix._reduce = counted_fetch, slow_reduce
    ix.catch_up()
    ix.close()
    assert len(ahead) > 5 and max(ahead) == 1  # the next range was fetched meanwhile, no more
    assert_equals_fresh(devnet, stores, url)


def test_a_sparse_start_then_a_dense_stretch_defers_the_indexes_once_the_density_shows(devnet, stores):
    # Issue 17: judged only on the first transaction (sparse blocks, then the first dense ones), the
    # deferral never came and the whole dense stretch kept its indexes row by row (twice as slow).
    bulk(devnet, 5, seed=90)
    devnet.w3.provider.make_request("anvil_mine", [hex(400)])
    bulk(devnet, 5, seed=91)
    many_blocks(devnet, 24, 40)
    url = stores()
    seen = indexes_at_each_commit(devnet, url, defer_indexes=200)
    assert DEFERRED <= seen[0]  # the first transaction, mostly empty blocks: too sparse to defer
    assert any(DEFERRED.isdisjoint(s) for s in seen[1:])  # a later, dense one: deferred from then on
    assert DEFERRED <= index_names(url)
    assert_equals_fresh(devnet, stores, url)


def test_an_index_build_runs_on_a_small_cache_and_gives_the_connection_back_as_it_was(tmp_path):
    # The build lowers the page cache (it also bounds SQLite's in-memory sort: the peak memory of a
    # long catch-up) and spills its sort to a file; the pooled connection must get its settings back.
    from sqlalchemy import event

    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    with engine.begin() as conn:
        drop_deferrable_indexes(conn)
    seen = []

    def pragmas(cursor) -> tuple:
        return tuple(cursor.connection.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "temp_store"))

    def before(conn, cursor, statement, *_):
        if statement.lstrip().startswith("CREATE INDEX"):
            seen.append(pragmas(cursor))

    event.listen(engine, "before_cursor_execute", before)
    with engine.begin() as conn:
        assert sorted(restore_indexes(conn)) == sorted(DEFERRED)
        after = pragmas(conn.connection.dbapi_connection.cursor())
    assert len(seen) == len(DEFERRED) and set(seen) == {(-BUILD_CACHE_KIB, 1)}  # temp_store 1: FILE
    assert after == (-CACHE_KIB, 2)  # 2: MEMORY
    assert DEFERRED <= {i["name"] for t in DEFERRABLE_TABLES for i in inspect(engine).get_indexes(t)}
    engine.dispose()


def test_a_new_store_gets_large_pages_and_an_existing_one_keeps_its_own(tmp_path):
    # Issue 17: 16 KiB pages for a new store (a bulk load writes and sorts a quarter as many pages);
    # a store made with SQLite's default 4 KiB opens, migrates and writes as before.
    import sqlite3

    def page_size(path: Path) -> int:
        with sqlite3.connect(path) as c:
            return c.execute("PRAGMA page_size").fetchone()[0]

    new = tmp_path / "new.db"
    engine = make_engine(f"sqlite:///{new}")
    migrate(engine)
    engine.dispose()
    assert PAGE_SIZE == 16_384 and page_size(new) == PAGE_SIZE
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as c:
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("CREATE TABLE t (x)")
    assert page_size(old) == 4096
    engine = make_engine(f"sqlite:///{old}")
    migrate(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    engine.dispose()
    assert page_size(old) == 4096


def test_a_deep_catch_up_hands_freed_heap_back_after_each_commit_and_after_the_index_build(devnet, stores, monkeypatch):
    # Freed ranges and rows stay in the process until malloc_trim, and the next range, the index build
    # and the reorg window's ranges grew on top of them: the 1M-event peak then depended on timing.
    from cityledger.indexer import sync

    many_blocks(devnet, 12, 40)
    url = stores()
    events: list[str] = []
    monkeypatch.setattr(sync, "_MALLOC_TRIM", lambda pad: events.append("trim") or 1)
    ix = make_indexer(devnet, url, target_logs=40, keep_blocks=4, commit_events=100, defer_indexes=1)
    ix.before_commit = lambda r: events.append("commit")
    restore, deep_phase = sync.restore_indexes, ix._catch_up_deep
    monkeypatch.setattr(sync, "restore_indexes", lambda conn, **kw: events.append("build") or restore(conn, **kw))
    ix._catch_up_deep = lambda progress: (deep_phase(progress), events.append("deep ranges done"))[0]
    ix.catch_up()
    ix.close()
    deep = events[: events.index("deep ranges done")]  # then the steps to a moved head, then the build
    assert deep.count("commit") > 2
    # every deep commit is followed by a trim before the next commit; the build comes after one
    assert all(deep[i + 1] == "trim" for i, e in enumerate(deep) if e == "commit")
    assert "trim" in events[events.index("build") + 1 :]
    assert DEFERRED <= index_names(url)


def test_trim_heap_is_a_no_op_without_malloc_trim(monkeypatch):
    from cityledger.indexer import sync

    monkeypatch.setattr(sync, "_MALLOC_TRIM", None)
    sync.trim_heap()  # musl, macOS: nothing to call, nothing raised


CHILD = """
import json, sys, time
from cityledger.indexer.sync import Indexer
a = json.loads(sys.argv[1])
ix = Indexer(a["url"], a["rpc"], chain_id=a["chain_id"], addresses=a["addresses"], start_block=a["start"],
             target_logs=20, keep_blocks=4, commit_events=40, defer_indexes=1)
ix.before_commit = lambda r: time.sleep(0.05)
ix.catch_up()
"""


def test_sigkill_while_indexes_are_deferred_then_restart(devnet, stores):

    from cityledger.indexer.events import CONTRACTS

    many_blocks(devnet, 30, 40)
    url = stores()
    head = devnet.w3.eth.block_number
    args = {
        "url": url,
        "rpc": devnet.rpc_url,
        "chain_id": devnet.network.chain_id,
        "start": devnet.deployment.start_block,
        "addresses": {n: devnet.deployment.address(n) for n in CONTRACTS},
    }
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:

        def midway():
            try:
                n = checkpoint(url).get("block_number")
                return (
                    n is not None
                    and devnet.deployment.start_block < n < head - 4
                    and DEFERRED.isdisjoint(index_names(url))
                )
            except Exception:  # the store is still being created
                return False

        wait_for(midway, timeout=60, what="the indexer to be mid catch-up with its indexes deferred")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    assert DEFERRED.isdisjoint(index_names(url))
    # The store still answers (without the indexes), and a restart (not deferring) builds them.
    engine = make_engine(url)
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(ConsentEvent).where(ConsentEvent.citizen != "")).scalar_one()
            > 0
        )
    engine.dispose()
    ix = make_indexer(devnet, url)
    ix.catch_up()
    ix.close()
    assert DEFERRED <= index_names(url)
    assert checkpoint(url)["block_number"] == head
    assert_equals_fresh(devnet, stores, url)
