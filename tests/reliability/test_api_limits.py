"""API limits, from the OpenAPI schema: every list route paginated with a hard page-size cap,
CORS only for the page's origin on every route, and the relayer's abuse limits. Then hostile
requests against a real `cityledger serve` process: deeply nested, oversized and many-keyed bodies,
clients trickling headers or bodies, more connections than allowed; the process answers afterwards.

(tests/api/test_fuzz_schema.py, the API engineer's, runs schemathesis over the whole schema.)"""

from __future__ import annotations

import hashlib
import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from cityledger import codes
from cityledger.api.app import create_app
from cityledger.dataroom.models import Delivery
from cityledger.fingerprint.consent_tree import ConsentTree
from cityledger.indexer.models import Checkpoint
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch
from cityledger.query.validate import MAX_PAGE_SIZE
from cityledger.release.snapshots import write_snapshot
from cityledger.signing import grant_message, sign

N = MAX_PAGE_SIZE + 30  # more rows than one page of every list
PAGE_ORIGIN = "http://127.0.0.1:8000"
SCI = "0x" + codes.purpose_hash("ScientificResearch").hex()
PUB, AUD, RES, CIT = ("0x" + format(n, "040x") for n in (0xA1, 0xC3, 0xD4, 0x1001))


FIFO_DIGEST = hashlib.sha256(b"a FIFO, not a document").hexdigest()


def h(n: int, label: str = "") -> str:
    return "0x" + format(abs(hash((label, n))) % (1 << 255) + 1, "064x")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """N rows in every list: one lineage of N versions, N attestations, consents, access, releases, rights."""
    folder = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{folder / 'index.db'}"
    migrate(url)
    batch, block = Batch(), [0]
    # One consent snapshot holding the citizen, shared by every release: N entries in the citizen's "used" list.
    root = write_snapshot(folder, ConsentTree.build([CIT]), {"snapshot_block": 1}).stem

    def ev(name, **args):
        block[0] += 1
        batch.add(reduce(name, args, Ctx(block[0], 0, h(block[0], "tx"), 1_700_000_000 + 12 * block[0])))

    ev("RoleGranted", account=PUB, role=1, kind=1, granted_by=PUB)
    ev("RoleGranted", account=AUD, role=2, kind=0, granted_by=PUB)
    ev("RoleGranted", account=RES, role=4, kind=0, granted_by=PUB)
    for i in range(1, N + 1):
        ev("DatasetRegistered", dataset_id=i, publisher=PUB, content_hash=h(i, "c"), metadata_hash=h(i, "m"),
           metadata_uri=f"ipfs://meta/{i}", domain=1, personal_data=False, version=i, supersedes=i - 1)  # fmt: skip
    for i in range(1, N + 1):
        ev("AttestationAdded", attestation_id=i, dataset_id=N, auditor=AUD, kind=1, report_hash=h(i, "r"))
        ev("ConsentGranted", key=h(i, "k"), citizen=CIT, purpose=SCI, scope_kind=3, scope_id="0x" + format(1, "064x"),
           grantee="0x" + format(i, "040x"), expiry=2_000_000_000, nonce=1, submitted_by=CIT)  # fmt: skip
        ev("AccessRequested", access_id=i, dataset_id=N, requester=RES, purpose=SCI, terms_hash=h(i, "t"), role=4)
        ev("AccessGranted", access_id=i, dataset_id=N, grantee=RES, purpose=SCI, expiry=2_000_000_000)
        ev("ReleaseLogged", release_id=i, access_id=i, grantee=RES, dataset_id=N, purpose=SCI, subject_count=0,
           consent_root=root, snapshot_block=block[0], release_hash=h(i, "rel"), k_anonymity=0,
           logged_by=PUB)  # fmt: skip
        ev("RightsRequestFiled", request_id=i, citizen=CIT, publisher=PUB, kind=1, target_kind=1,
           target="0x" + PUB[2:].rjust(64, "0"), details_hash=h(i, "d"), deadline=2_000_000_000)  # fmt: skip
        # One consent renewed N times: N changes in its history.
        ev("ConsentGranted", key=h(0, "history"), citizen=CIT, purpose=SCI, scope_kind=3,
           scope_id="0x" + format(1, "064x"), grantee="0x" + "ee" * 20, expiry=2_000_000_000 + i, nonce=i,
           submitted_by=CIT)  # fmt: skip
        # The second round's lists: private answers of access 1, deletion obligations, organisations,
        # and the release operators of the address the routes are asked about.
        ev("PrivateQueryLogged", query_id=i, access_id=1, grantee=RES, dataset_id=N, epsilon_spent=1,
           spent_total=i, budget=10**6, query_hash=h(i, "q"), consent_root=root, snapshot_block=block[0],
           subject_count=1, logged_by=PUB)  # fmt: skip
        ev("DeletionRequested", obligation_id=i, release_id=i, recipient=RES, subject=CIT, deadline=2_000_000_000,
           requested_by=CIT)  # fmt: skip
        ev("RoleGranted", account="0x" + format(0xF000 + i, "040x"), role=4, kind=0, granted_by=PUB)
        ev("ReleaseOperatorSet", publisher=CIT, operator="0x" + format(0xE000 + i, "040x"), allowed=True)
    # One more dataset, whose metadata store entry is a FIFO: reading it blocks until a writer comes.
    (folder / "metadata").mkdir(exist_ok=True)  # the snapshot above is published there too
    os.mkfifo(folder / "metadata" / f"{FIFO_DIGEST}.json")
    ev("DatasetRegistered", dataset_id=N + 1, publisher=PUB, content_hash=h(0, "c"), metadata_hash="0x" + FIFO_DIGEST,
       metadata_uri="cityledger://metadata/" + FIFO_DIGEST, domain=1, personal_data=False, version=1,
       supersedes=0)  # fmt: skip
    engine = make_engine(url)
    with engine.begin() as conn:
        batch.flush(conn)
        # The data room's deliveries (its own table, not events): N servings of release 1's file.
        conn.execute(insert(Delivery), [
            {"release_id": 1, "access_id": 1, "dataset_id": N, "recipient": RES, "delivered_at": 1_700_000_000 + i,
             "bytes": 10, "sha256": h(1, "rel")} for i in range(N)
        ])  # fmt: skip
        conn.execute(insert(Checkpoint), [{
            "id": 1, "chain_id": 31337, "block_number": block[0], "block_hash": h(block[0], "b"), "start_block": 1,
            "head_block": block[0], "finalized_block": block[0], "confirmations": 2, "reorgs": 0,
            **{c: "0x" + format(i + 1, "040x") for i, c in enumerate(
                ("roles_address", "datasets_address", "consents_address", "access_address", "rights_address",
                 "deletion_address"))},
        }])  # fmt: skip
    engine.dispose()
    return url, folder


@pytest.fixture(scope="module")
def client(store):
    url, folder = store
    from cityledger.config import load_config

    app = create_app(load_config(), db_url=url, data_dir=folder, cors_origins=[PAGE_ORIGIN], rpc_timeout=0.2)
    return TestClient(app, raise_server_exceptions=False)


def concrete(path: str) -> str:
    path = path.replace("{ref}", str(N)).replace("{address}", CIT).replace("{content_hash}", h(1, "c"))
    path = path.replace("{key}", h(0, "history"))
    return path.replace("{access_id}", "1").replace("{sha256}", "0x" + FIFO_DIGEST)


def list_routes(client) -> tuple[list[str], list[str]]:
    """(paged GET routes, GET routes answering a bare JSON array) from the OpenAPI schema."""
    paged, arrays = [], []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        op = ops.get("get")
        if not op:
            continue
        # A JSON-LD document (a consent receipt) is one object, never a bare array; a document or file
        # route answers raw bytes (JSON, text, a file), a catalogue route RDF (JSON-LD, Turtle, ...):
        # no schema to read.
        schema = op["responses"]["200"].get("content", {}).get("application/json", {}).get("schema", {})
        params = {p["name"] for p in op.get("parameters", [])}
        if "page_size" in params:
            paged.append(path)
        elif schema.get("type") == "array":
            arrays.append(path)
    return paged, arrays


def schema_of(client) -> dict:
    return client.get("/openapi.json").json()


def test_every_paged_route_caps_the_page_size(client):
    paged, _ = list_routes(client)
    assert len(paged) >= 6, paged
    for path in paged:
        url = concrete(path)
        for bad in (
            {"page_size": MAX_PAGE_SIZE + 1},
            {"page_size": 0},
            {"page_size": 10**9},
            {"page": 0},
            {"page_size": "x"},
        ):
            r = client.get(url, params=bad)
            assert 400 <= r.status_code < 500 and "error" in r.json(), (path, bad, r.status_code, r.text[:200])
        if "401" in schema_of(client)["paths"][path]["get"]["responses"]:
            # A signed-in grantee's own list (GET /api/access/{id}/answers): capped as above, and
            # nothing without a session; its pages are tests/dataroom/test_private_queries.py's.
            assert client.get(url).json()["error"]["code"] == "not_signed_in", path
            continue
        full = client.get(url, params={"page_size": MAX_PAGE_SIZE}).json()
        assert len(full["items"]) == MAX_PAGE_SIZE and full["total"] >= N, (path, full["total"])
        second = client.get(url, params={"page_size": MAX_PAGE_SIZE, "page": 2}).json()
        assert len(second["items"]) == full["total"] - MAX_PAGE_SIZE, path
        default = client.get(url).json()
        assert len(default["items"]) == default["page_size"] <= MAX_PAGE_SIZE, path


# Bare-array routes whose length is bounded by construction, not by the data.
BOUNDED_BY_CODE = {
    "/api/purposes": len(codes.PURPOSES),
    "/api/stats/domains": len(codes.DOMAINS),
}


def test_bounded_array_routes(client):
    _, arrays = list_routes(client)
    for path, bound in BOUNDED_BY_CODE.items():
        assert path in arrays
        assert len(client.get(path).json()) <= bound
    # The timeline: one row per day, at most `days` (capped at 3650) rows.
    assert client.get("/api/stats/consent-timeline", params={"days": 3651}).status_code == 422


def test_every_other_array_route_is_capped(client):
    _, arrays = list_routes(client)
    unbounded = [p for p in arrays if p not in BOUNDED_BY_CODE and p != "/api/stats/consent-timeline"]
    too_long = {p: len(client.get(concrete(p)).json()) for p in unbounded}
    assert all(n <= MAX_PAGE_SIZE for n in too_long.values()), f"uncapped list routes: {too_long}"


def test_cors_only_the_page_origin_on_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, ops in paths.items():
        url = concrete(path)
        for method in ops:
            pre = client.options(
                url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": method.upper()}
            )
            assert "access-control-allow-origin" not in pre.headers, (path, method)
            good = client.options(url, headers={"Origin": PAGE_ORIGIN, "Access-Control-Request-Method": method.upper()})
            assert good.headers.get("access-control-allow-origin") == PAGE_ORIGIN, (path, method, good.status_code)
            if method == "get":
                r = client.get(url, headers={"Origin": "https://evil.example"})
                assert "access-control-allow-origin" not in r.headers and r.status_code < 500, (path, r.status_code)
                assert (
                    client.get(url, headers={"Origin": PAGE_ORIGIN}).headers.get("access-control-allow-origin")
                    == PAGE_ORIGIN
                )


# ------------------------------------------------------------------ relayer abuse


def _signed_body(devnet, citizen, nonce: int, *, signer=None) -> dict:
    consent = devnet.contract("ConsentRegistry")
    now = devnet.w3.eth.get_block("latest")["timestamp"]
    health = "0x" + format(1, "064x")
    fields = {"citizen": citizen.address, "purpose": SCI, "scope_kind": 3, "scope_id": health,
              "grantee": codes.ANY_RESEARCHER, "expiry": now + 86400 * 365, "deadline": now + 3600}  # fmt: skip
    msg = grant_message(
        citizen.address, SCI, 3, health, codes.ANY_RESEARCHER, fields["expiry"], nonce, fields["deadline"]
    )
    return {**fields, "signature": "0x" + sign(signer or citizen, devnet.w3.eth.chain_id, consent.address, msg).hex()}


def _migrated(tmp_path) -> str:
    """A migrated store: the relayer keeps its outbox and rate limits there."""
    url = f"sqlite:///{tmp_path / 'i.db'}"
    migrate(url)
    return url


def test_relayer_spends_nothing_on_bad_or_replayed_signatures(devnet, tmp_path):
    app = create_app(devnet.cfg, db_url=_migrated(tmp_path), data_dir=tmp_path, relay_per_minute=600, relay_burst=50)
    c = TestClient(app, raise_server_exceptions=False)
    citizen, other = devnet.accounts[6], devnet.accounts[7]
    relayer = devnet.accounts[5].address
    sent = devnet.w3.eth.get_transaction_count(relayer)
    bad = [_signed_body(devnet, citizen, 0, signer=other), _signed_body(devnet, citizen, 5),
           {**_signed_body(devnet, citizen, 0), "signature": "0x" + "00" * 65}]  # fmt: skip
    for body in bad:
        r = c.post("/api/relay/grant", json=body)
        assert 400 <= r.status_code < 500 and r.status_code != 429, r.text
    assert devnet.w3.eth.get_transaction_count(relayer) == sent
    good = _signed_body(devnet, citizen, 0)
    ok = c.post("/api/relay/grant", json=good)
    assert ok.status_code == 200, ok.text
    devnet.w3.eth.wait_for_transaction_receipt(ok.json()["tx_hash"], timeout=30)
    assert devnet.w3.eth.get_transaction_count(relayer) == sent + 1
    replay = c.post("/api/relay/grant", json=good)
    assert 400 <= replay.status_code < 500, replay.text
    assert devnet.w3.eth.get_transaction_count(relayer, "pending") == sent + 1


def test_junk_for_a_citizen_does_not_lock_the_citizen_out(devnet, tmp_path):
    app = create_app(devnet.cfg, db_url=_migrated(tmp_path), data_dir=tmp_path, relay_per_minute=2, relay_burst=2)
    c = TestClient(app, raise_server_exceptions=False)
    victim = devnet.accounts[8]
    junk = {**_signed_body(devnet, victim, 0), "signature": "0x" + "11" * 65}
    codes_seen = [c.post("/api/relay/grant", json=junk).status_code for _ in range(5)]
    assert 429 in codes_seen  # the limiter works for the sender of junk...
    genuine = c.post("/api/relay/grant", json=_signed_body(devnet, victim, 0))
    assert genuine.status_code == 200, f"the victim's own valid grant: {genuine.status_code} {genuine.text}"


# ------------------------------------------------------------------ a real server, hostile clients

ROOT = Path(__file__).resolve().parents[2]
# `cityledger serve` after importing py_ecc, as any process does that has py-evm imported: py_ecc sets
# the recursion limit to 100000, and the C JSON decoder then overflowed the C stack (a segfault).
WITH_PY_ECC = "import py_ecc, sys; from cityledger.cli import main; sys.argv[0] = 'cityledger'; main()"


class Server:
    """`cityledger serve` on a free port against `store_url`, stopped by close()."""

    def __init__(self, store_url: str, *options: str, python_code: str | None = None, env: dict | None = None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CITYLEDGER_RPC_URL": "http://127.0.0.1:9", **(env or {})}
        entry = ["-c", python_code] if python_code else ["-m", "cityledger"]
        args = ["serve", "--port", str(self.port), "--db", store_url, *options]
        self.proc = subprocess.Popen([sys.executable, *entry, *args], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.answers():
            assert self.proc.poll() is None, self.proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "cityledger serve did not start within 60 s"
            time.sleep(0.2)

    def answers(self, timeout: float = 5) -> bool:
        try:
            return self.get("/api/status", timeout)[0] == 200
        except OSError:
            return False

    def get(self, path: str, timeout: float = 10) -> tuple[int, dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
            return r.status, json.loads(r.read())

    def post(self, body: bytes, *, chunked: bool = False) -> tuple[int, dict]:
        """POST /api/relay/grant over a raw socket (the whole body sent, the answer read)."""
        head = "POST /api/relay/grant HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        if chunked:
            payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in _chunks(body, 65536)) + b"0\r\n\r\n"
            head += "Transfer-Encoding: chunked\r\n\r\n"
        else:
            payload, head = body, head + f"Content-Length: {len(body)}\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            s.sendall(head.encode())
            # Piece by piece, stopping once the server has answered (it refuses before reading all).
            for piece in _chunks(payload, 16384):
                if select.select([s], [], [], 0.01)[0]:
                    break
                try:
                    s.sendall(piece)
                except OSError:
                    break
            return _read_answer(s)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _read_answer(s: socket.socket) -> tuple[int, dict]:
    raw = b""
    while b"\r\n\r\n" not in raw or len(raw.split(b"\r\n\r\n", 1)[1]) < _length(raw):
        chunk = s.recv(65536)
        if not chunk:
            break
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(raw: bytes) -> int:
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


@pytest.fixture
def server(store):
    started: list[Server] = []

    def start(*options: str, python_code: str | None = None, env: dict | None = None) -> Server:
        started.append(Server(store[0], *options, python_code=python_code, env=env))
        return started[-1]

    yield start
    for srv in started:
        srv.close()


def test_hostile_bodies_do_not_crash_or_stall_a_real_server(server):
    # A body limit above the 200 KB of the request, so that the nesting check itself is what
    # stops it (with the default 16 KiB limit the size alone does).
    srv = server("--max-body-bytes", "300000", python_code=WITH_PY_ECC)
    nested = b"[" * 100_000 + b"]" * 100_000
    for path_body, chunked in ((nested, False), (nested, True), (b'{"a":' * 20_000 + b"1" + b"}" * 20_000, False)):
        status, answer = srv.post(path_body, chunked=chunked)
        assert (status, answer["error"]["code"]) == (400, "bad_request"), answer
        assert "nested deeper than 32 levels" in answer["error"]["message"]
        assert srv.proc.poll() is None and srv.answers()
    # Oversized: refused by its Content-Length before it is read, or while a chunked one arrives.
    big = b" " * 10_000_000
    started = time.monotonic()
    assert srv.post(big)[1]["error"]["code"] == "payload_too_large"
    assert srv.post(big, chunked=True)[1]["error"]["code"] == "payload_too_large"
    assert time.monotonic() - started < 10
    # Many keys: past the member bound refused before parsing; under it, the schema refuses them.
    many = json.dumps({f"k{i}": 0 for i in range(5000)}).encode()
    status, answer = srv.post(many)
    assert (status, answer["error"]["code"]) == (400, "bad_request") and "more than 1024" in answer["error"]["message"]
    status, answer = srv.post(json.dumps({f"k{i}": 0 for i in range(1000)}).encode())
    assert (status, answer["error"]["code"]) == (422, "validation_error")
    # Strings full of brackets are not nesting.
    status, answer = srv.post(json.dumps({"citizen": "[" * 50_000}).encode())
    assert (status, answer["error"]["code"]) == (422, "validation_error")
    assert srv.proc.poll() is None and srv.answers()


def _trickle(sockets: list[socket.socket], data: bytes, seconds: float) -> dict[int, tuple[float, bytes]]:
    """Send `data` a byte at a time to every socket, round-robin every 0.2 s, until each has been
    answered and closed by the server or `seconds` pass; returns {index: (seconds taken, answer)}."""
    started, done, sent = time.monotonic(), {}, 0
    for s in sockets:
        s.setblocking(False)
    while len(done) < len(sockets) and time.monotonic() - started < seconds:
        for i, s in enumerate(sockets):
            if i in done:
                continue
            try:
                answer = s.recv(4096)
                done[i] = (time.monotonic() - started, answer)
                continue
            except BlockingIOError:
                pass
            except OSError:
                done[i] = (time.monotonic() - started, b"")
                continue
            if sent < len(data):
                try:
                    s.send(data[sent : sent + 1])
                except OSError:
                    pass
        sent += 1
        time.sleep(0.2)
    return done


def test_slow_and_numerous_clients_are_bounded_on_a_real_server(server):
    srv = server("--header-timeout", "1", "--body-timeout", "1", "--max-connections", "64")
    # 40 clients trickling request headers: each answered 408 and closed after ~1 s.
    slow_headers = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(40)]
    assert srv.answers()  # a normal client is served meanwhile
    done = _trickle(slow_headers, b"GET /api/status HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 200, 8)
    assert len(done) == 40, f"{40 - len(done)} header tricklers still open after 8 s"
    assert all(answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer for _, answer in done.values())
    assert max(t for t, _ in done.values()) < 4
    # 10 clients trickling a body after complete headers: 408 after ~1 s.
    slow_bodies = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(10)]
    head = b"POST /api/relay/grant HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    for s in slow_bodies:
        s.sendall(head)
    done = _trickle(slow_bodies, b"{" + b" " * 499, 8)
    assert len(done) == 10 and all(b" 408 " in a.split(b"\r\n")[0] for _, a in done.values()), done
    # More connections than allowed: those past 64 are answered 503 at once and closed.
    idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(90)]
    time.sleep(0.5)
    refused = []
    for s in idle:
        s.settimeout(0.05)
        try:
            refused.append(s.recv(4096))
        except TimeoutError:
            pass
    overloaded = [a for a in refused if a.startswith(b"HTTP/1.1 503") and b"overloaded" in a]
    assert len(overloaded) >= 90 - 64, [a[:40] for a in refused]
    for s in slow_headers + slow_bodies + idle:
        s.close()
    time.sleep(1.5)  # the idle ones' header timeouts have fired
    assert srv.proc.poll() is None and srv.answers()


def test_one_publishers_metadata_uri_cannot_freeze_a_real_server(server, store):
    """A dataset whose metadata store entry blocks on open (a FIFO; a publisher's "/proc/kmsg" URI did
    the same before paths were never opened): its page answers without the document, in bounded
    time, and every other route keeps answering meanwhile and afterwards."""
    srv = server(env={"CITYLEDGER_METADATA_DIR": str(store[1] / "metadata")})
    with ThreadPoolExecutor(1) as pool:
        visitor = pool.submit(srv.get, f"/api/datasets/{N + 1}", 15)
        time.sleep(0.2)
        started = time.monotonic()
        assert srv.answers(timeout=3) and time.monotonic() - started < 3
        status, page = visitor.result(timeout=15)
    assert status == 200 and page["metadata"] is None and page["dataset_id"] == N + 1
    started = time.monotonic()
    assert srv.get(f"/api/datasets/{N + 1}")[1]["metadata"] is None and time.monotonic() - started < 3
    assert srv.answers()
