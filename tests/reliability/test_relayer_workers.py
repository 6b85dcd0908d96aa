"""The relayer across API workers (issue 22 item 1): `cityledger serve --workers N` against one store.

Every worker relays from the same account. Signed grants and revokes (and duplicates of some of them)
arrive at once on new connections, so the kernel spreads them over the workers; then each request is
mined exactly once (one ConsentGranted / ConsentRevoked per request, one relayer transaction per
request, consecutive nonces, every hash a client was answered is a mined transaction, nothing
reverted), and a citizen's rate limit and a client's invalid-request limit are one limit, not one per
worker. PostgreSQL (4 workers, 200 grants) and SQLite (2 workers, fewer: one file lock, one writer).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
from eth_account import Account
from sqlalchemy import create_engine, func, select, text

from cityledger import codes
from cityledger.chain.accounts import RELAYER
from cityledger.indexer.relay_models import RelayRequest
from cityledger.indexer.store import make_engine, migrate
from cityledger.signing import grant_message, revoke_message, sign
from cityledger.testing import wait_for

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get(
    "CITYLEDGER_TEST_PG_URL", "postgresql+psycopg://cityledger:cityledger@127.0.0.1:5432/cityledger"
)
SCI = "0x" + codes.purpose_hash("ScientificResearch").hex()
HEALTH = "0x" + format(codes.DOMAINS["health"], "064x")
ANY = codes.ANY_RESEARCHER
PER_MINUTE = 5  # the servers' --relay-per-minute: a burst of 5, then one token every 12 s


def pg_available() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def store(request, tmp_path):
    """A migrated store (the indexer migrates it in production): a fresh PostgreSQL schema or SQLite file."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'index.db'}"
        migrate(url)
        yield request.param, url
        return
    if not pg_available():
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    schema = f"relay_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"
    migrate(url)
    try:
        yield request.param, url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


class Workers:
    """`cityledger serve --workers N` on a free port, in a process group of its own (stopped, also
    its workers, whatever happens)."""

    def __init__(self, chain, db_url: str, workers: int):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, **chain.env, "PYTHONPATH": str(ROOT / "src")}
        cmd = [sys.executable, "-m", "cityledger", "serve", "--port", str(self.port), "--db", db_url,
               "--workers", str(workers), "--relay-per-minute", str(PER_MINUTE)]  # fmt: skip
        self.log = open(chain.cfg.data_dir.parent / "serve.log", "w+b")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # fmt: skip
        try:
            wait_for(self._up, 90, "cityledger serve --workers to answer", interval=0.2)
        except AssertionError:
            self.stop()
            raise

    def _up(self) -> bool:
        assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {self.output()[-3000:]}"
        try:
            return self.request("GET", "/api/status")[0] == 200
        except OSError:
            return False

    def request(self, method: str, path: str, body: dict | None = None, source: str = "127.0.0.1") -> tuple[int, dict]:
        """One request on a new connection (so that successive requests may reach any worker), from
        the loopback address `source` (the API's rate limits know a client by its address)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(source, 0))
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, path, payload, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"{}")
        finally:
            conn.close()

    def post_all(self, bodies: list[tuple[str, dict]], source: str = "127.0.0.1") -> list[tuple[int, dict]]:
        """Every body at once (48 at a time), each on its own connection."""
        with ThreadPoolExecutor(max_workers=48) as pool:
            return list(pool.map(lambda b: self.request("POST", f"/api/relay/{b[0]}", b[1], source), bodies))

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn's supervisor stops its workers
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything left of the group
        except ProcessLookupError:
            pass
        self.proc.wait(5)
        self.log.close()


class Signer:
    """Signs grants and revokes of the devnet's ConsentRegistry for any citizen key."""

    def __init__(self, chain):
        self.chain_id = chain.network.chain_id
        self.consent = chain.contract("ConsentRegistry")
        now = chain.w3.eth.get_block("latest")["timestamp"]
        self.expiry, self.deadline = now + 365 * 86400, now + 3600

    def grant(self, citizen, nonce: int = 0, scope: str = HEALTH, purpose: str = SCI) -> tuple[str, dict]:
        fields = {"citizen": citizen.address, "purpose": purpose, "scope_kind": 3, "scope_id": scope,
                  "grantee": ANY, "expiry": self.expiry, "deadline": self.deadline}  # fmt: skip
        msg = grant_message(citizen.address, purpose, 3, scope, ANY, self.expiry, nonce, self.deadline)
        return "grant", {**fields, "signature": "0x" + sign(citizen, self.chain_id, self.consent.address, msg).hex()}

    def revoke(self, citizen, nonce: int = 1) -> tuple[str, dict]:
        fields = {"citizen": citizen.address, "purpose": SCI, "scope_kind": 3, "scope_id": HEALTH,
                  "grantee": ANY, "deadline": self.deadline}  # fmt: skip
        msg = revoke_message(citizen.address, SCI, 3, HEALTH, ANY, nonce, self.deadline)
        return "revoke", {**fields, "signature": "0x" + sign(citizen, self.chain_id, self.consent.address, msg).hex()}


def relayer_transactions(w3, relayer: str, start_block: int) -> list[dict]:
    """Every transaction the relayer account sent, mined from `start_block` on, with its receipt's status."""
    out = []
    for number in range(start_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == relayer:
                status = w3.eth.get_transaction_receipt(tx["hash"])["status"]
                out.append({"hash": "0x" + tx["hash"].hex(), "nonce": tx["nonce"], "status": status})
    return out


@pytest.mark.timeout(240)
def test_concurrent_relays_on_many_workers_are_each_mined_once(devnet, store):
    backend, url = store
    workers, grants, revokes = (4, 200, 100) if backend == "postgresql" else (2, 40, 20)
    w3, consent = devnet.w3, devnet.contract("ConsentRegistry")
    relayer = devnet.accounts[RELAYER].address
    rng = random.Random(22)
    citizens = [Account.from_key(rng.randbytes(32)) for _ in range(grants)]
    signer = Signer(devnet)
    first_nonce, first_block = w3.eth.get_transaction_count(relayer), w3.eth.block_number + 1
    server = Workers(devnet, url, workers)
    started = time.monotonic()
    try:
        # Every grant, plus a second copy of one in five (a double click reaching another worker).
        bodies = [signer.grant(c) for c in citizens]
        bodies += [bodies[i] for i in range(0, grants, 5)]
        rng.shuffle(bodies)
        answers = server.post_all(bodies)
        refused = [a["error"]["code"] for s, a in answers if s != 200]
        # A copy that arrives once its original is mined is a replay (the consent's nonce moved on):
        # refused before sending, and charged to the client (past its burst: 429).
        assert set(refused) <= {"bad_signature", "would_revert", "rate_limited"}, Counter(refused)
        granted = {a["tx_hash"] for s, a in answers if s == 200}
        assert len(granted) == grants, f"{len(granted)} distinct transactions for {grants} grants"

        # Then revokes of some of them, while grants of new keys of others arrive (nonce 0 again).
        more = [signer.grant(c, scope="0x" + format(codes.DOMAINS["transport"], "064x")) for c in citizens[:revokes]]
        mixed = [signer.revoke(c) for c in citizens[:revokes]] + more
        wait_for(lambda: w3.eth.get_transaction_count(relayer) == first_nonce + grants, 60, "the grants mined")
        rng.shuffle(mixed)
        answers2 = server.post_all(mixed)
        assert [s for s, _ in answers2] == [200] * len(mixed), [a for s, a in answers2 if s != 200][:5]
        answered = granted | {a["tx_hash"] for _, a in answers2}
        total = grants + 2 * revokes
        assert len(answered) == total
        wait_for(lambda: w3.eth.get_transaction_count(relayer) == first_nonce + total, 60, "every relay mined")
        relay_seconds = time.monotonic() - started

        # On chain: one event per request, from the relayer, and nothing else.
        grants_seen = consent.events.ConsentGranted().get_logs(from_block=first_block)
        revokes_seen = consent.events.ConsentRevoked().get_logs(from_block=first_block)
        assert len(grants_seen) == grants + revokes and len(revokes_seen) == revokes
        assert Counter(e["args"]["citizen"] for e in grants_seen) == Counter(
            [c.address for c in citizens] + [c.address for c in citizens[:revokes]]
        )
        assert {e["args"]["submitted_by"] for e in grants_seen + revokes_seen} == {relayer}
        sent = relayer_transactions(w3, relayer, first_block)
        assert len(sent) == total and all(t["status"] == 1 for t in sent)
        assert sorted(t["nonce"] for t in sent) == list(range(first_nonce, first_nonce + total))  # no gap, no twin
        assert {t["hash"] for t in sent} == answered  # what clients were told is what was mined

        # The outbox: one row per request, spread over the workers, settled by the outbox checks.
        engine = make_engine(url)
        with engine.connect() as conn:
            by_worker = dict(
                conn.execute(select(RelayRequest.worker, func.count()).group_by(RelayRequest.worker)).all()
            )
        engine.dispose()
        assert sum(by_worker.values()) == total
        assert len(by_worker) >= 2, f"every request reached one worker: {by_worker}"
        wait_for(lambda: server.request("GET", f"/api/relay/tx/{sent[-1]['hash']}")[1].get("status") == "mined",
                 20, "the outbox check to settle the last relay")  # fmt: skip

        # Rate limits are the store's, one per citizen and one per client across all workers.
        # A citizen with 11 valid grants at once (one per other domain), from a client of its own.
        busy = Account.from_key(rng.randbytes(32))
        flood = [
            signer.grant(busy, scope="0x" + format(d, "064x"))
            for d in codes.DOMAINS.values()
            if d != codes.DOMAINS["health"]
        ]
        flood_answers = Counter(s for s, _ in server.post_all(flood, source="127.0.0.8"))
        assert flood_answers == {200: PER_MINUTE, 429: len(flood) - PER_MINUTE}, flood_answers
        junk = [("grant", {**signer.grant(c)[1], "signature": "0x" + "11" * 65}) for c in citizens[:12]]
        junk_answers = Counter(s for s, _ in server.post_all(junk, source="127.0.0.9"))
        assert junk_answers == {422: PER_MINUTE, 429: len(junk) - PER_MINUTE}, junk_answers
    finally:
        server.stop()
    print(f"{backend}: {workers} workers, {total} relays in {relay_seconds:.1f} s; per worker {by_worker}")
