"""The whole CityLedger stack for the browser tests, on free ports, in a temporary folder.

anvil -> contracts deployed, devnet roles granted -> a small known data set (datasets with two
versions, an attestation, consents, a logged release whose consent snapshot includes the test
citizen) -> the indexer following the chain -> the API serving frontend/dist.

Prints ONE JSON line on stdout when everything answers:
  {"api": "http://127.0.0.1:P", "rpc": "http://127.0.0.1:Q", "chain_id": 31337, "citizen": {...}, ...}
or {"error": "<why>"} (exit 1) when something does not start.
Tears everything down when stdin closes or on SIGTERM/SIGINT. Logs go to stderr.

Usage: .venv/bin/python tests/e2e/stack.py [--demo]
  --demo: seed the project's demo (cityledger.demo, real sample datasets) instead of the small
          known data set, to look at the page with realistic data (the tests do not use it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def log(*args) -> None:
    print("[stack]", *args, file=sys.stderr, flush=True)


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def seed(chain, folder: Path) -> dict:
    """A small known world: what the tests assert on (ids are deterministic on a fresh chain)."""
    from eth_utils import keccak

    from cityledger import codes
    from cityledger.chain.tx import transact
    from cityledger.datasets.metadata import Coverage, DatasetInfo
    from cityledger.datasets.registry import attest, publish
    from cityledger.datasets.store import MetadataStore
    from cityledger.fingerprint.consent_tree import ConsentTree
    from cityledger.release.snapshots import write_snapshot

    w3, acc, cfg = chain.w3, chain.accounts, chain.cfg
    agency, business, auditor, researcher = acc[1], acc[2], acc[3], acc[4]
    citizen, others = acc[6], acc[7:10]
    store = MetadataStore(cfg.data_dir / "metadata")
    files = folder / "files"
    files.mkdir()

    def csv(name: str, rows: list[str]) -> Path:
        p = files / name
        p.write_text("\n".join(rows) + "\n")
        return p

    hashes: dict[str, str] = {}

    def pub(account, path, title, domain, description, supersedes=0, personal=False) -> int:
        info = DatasetInfo(
            title=title,
            domain=domain,
            publisher=account.address,
            description=description,
            license="CC-BY-4.0",
            personal_data=personal,
            supersedes=supersedes,
            keywords=[domain],
            coverage=Coverage(temporal_start="2024-01-01", temporal_end="2024-12-31", spatial="CityLedger city"),
        )
        result = publish(w3, chain.deployment, account, path, info, store=store, cfg=cfg)
        hashes[result.dataset_id] = result.content_hash
        return result.dataset_id

    trips_v1 = csv("bus-trips-2024-v1.csv", ["route,trips", "1,120", "2,80"])
    trips_v2 = csv("bus-trips-2024-v2.csv", ["route,trips", "1,121", "2,80", "3,40"])
    ids = {
        "trips_v1": pub(agency, trips_v1, "Bus trips per route 2024", "transport", "Daily bus trips per route."),
    }
    ids["trips_v2"] = pub(
        agency,
        trips_v2,
        "Bus trips per route 2024",
        "transport",
        "Daily bus trips per route (corrected counts).",
        supersedes=ids["trips_v1"],
    )
    ids["energy"] = pub(
        business,
        csv("grid-load-2024.csv", ["hour,mw", "0,410", "1,395"]),
        "Electricity grid load 2024",
        "energy",
        "Hourly load on the city grid.",
    )
    ids["clinics"] = pub(
        agency,
        csv("clinic-visits-2024.csv", ["district,visits", "north,5120", "south,4410"]),
        "Clinic visits by district 2024",
        "health",
        "Visits to public clinics.",
        personal=True,
    )
    report = files / "quality-report.txt"
    report.write_text("Row counts checked against the source system.\n")
    attest(w3, chain.deployment, auditor, ids["trips_v2"], "quality", report, cfg)

    consents = chain.contract("ConsentRegistry")
    access = chain.contract("AccessRegistry")
    research = codes.purpose_hash("ScientificResearch")
    public_benefit = codes.purpose_hash("PublicBenefit")
    clinics_scope = ids["clinics"].to_bytes(32, "big")
    year = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    # The test citizen and three others consent to research on the clinic data; one also to public benefit.
    for person in (citizen, *others):
        transact(
            w3,
            person,
            consents.functions.grant(research, codes.SCOPE_DATASET, clinics_scope, codes.ANY_RESEARCHER, year),
        )
    transact(
        w3,
        others[0],
        consents.functions.grant(
            public_benefit, codes.SCOPE_DOMAIN, (8).to_bytes(32, "big"), codes.ANY_RESEARCHER, year
        ),
    )
    # A researcher obtains the clinic data; the release's consent snapshot includes the test citizen.
    transact(w3, researcher, access.functions.request_access(ids["clinics"], research, keccak(text="terms v1")))
    access_id = access.functions.access_count().call()
    transact(w3, agency, access.functions.grant_access(access_id, year))
    # The publisher keeps the snapshot's addresses off chain (as the release service does), so that
    # the API can hand each citizen a Merkle proof; only the root goes on chain.
    tree = ConsentTree.build([citizen.address, *(o.address for o in others)])
    snapshot = w3.eth.block_number
    release_hash = keccak(text="release 1")
    write_snapshot(
        cfg.data_dir,
        tree,
        {
            "snapshot_block": snapshot,
            "dataset_id": ids["clinics"],
            "access_id": access_id,
            "grantee": researcher.address,
            "purpose": "0x" + research.hex(),
            "release_hash": "0x" + release_hash.hex(),
        },
    )
    transact(
        w3,
        agency,
        # k 0: this test dataset declares no quasi-identifiers
        access.functions.log_release(access_id, ids["clinics"], len(tree.values), tree.root, snapshot, release_hash, 0),
    )
    return {
        "datasets": ids,
        "hashes": {name: hashes[i] for name, i in ids.items()},
        "files": {"trips_v1": str(trips_v1), "trips_v2": str(trips_v2)},
        "agency": agency.address,
        "business": business.address,
        "researcher": researcher.address,
    }


def main() -> int:
    from cityledger.chain.accounts import DEFAULT_MNEMONIC
    from cityledger.chain.devnet import Anvil, free_port
    from cityledger.config import load_config
    from cityledger.testing import build_devnet

    folder = Path(tempfile.mkdtemp(prefix="cityledger-e2e-"))
    procs: list[subprocess.Popen] = []
    anvil = Anvil(chain_id=31337, mnemonic=DEFAULT_MNEMONIC, cfg=load_config(ROOT), log_path=folder / "anvil.log")
    stop = threading.Event()

    def teardown(*_):
        stop.set()

    signal.signal(signal.SIGTERM, teardown)
    signal.signal(signal.SIGINT, teardown)
    try:
        anvil.start()
        chain = build_devnet(anvil, folder, load_config(ROOT))
        if "--demo" in sys.argv[1:]:
            from cityledger.demo.seed import seed_demo

            summary = seed_demo(chain.w3, chain.deployment, chain.accounts, chain.cfg.data_dir, cfg=chain.cfg)
            info = {"datasets": summary.datasets}
        else:
            info = seed(chain, folder)
        env = {
            **os.environ,
            **chain.env,
            "CITYLEDGER_ROOT": str(ROOT),
            "CITYLEDGER_DB_URL": f"sqlite:///{folder / 'index.db'}",
            "CITYLEDGER_METADATA_DIR": str(chain.cfg.data_dir / "metadata"),
        }
        venv = ROOT / ".venv" / "bin"
        api_port = free_port()
        for name, args in (
            ("indexer", [str(venv / "cityledger"), "index", "--poll", "0.1", "--quiet"]),
            # The app factory reads the same environment as the CLI (config() / load_config()).
            (
                "api",
                [
                    str(venv / "python"),
                    "-m",
                    "uvicorn",
                    "--factory",
                    "cityledger.api.app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(api_port),
                    "--log-level",
                    "warning",
                ],
            ),
        ):
            out = open(folder / f"{name}.log", "ab")
            procs.append(subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out))
        api = f"http://127.0.0.1:{api_port}"
        wait_http(f"{api}/api/status", proc=procs[1])
        # Ready when the indexer has caught up with the seeded chain.
        head = chain.w3.eth.block_number
        deadline = time.monotonic() + 60
        while True:
            with urllib.request.urlopen(f"{api}/api/status", timeout=2) as r:
                status = json.load(r)
            if int(status.get("last_indexed_block") or -1) >= head:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the indexer did not reach block {head}: {status}")
            time.sleep(0.2)
        citizen = chain.accounts[6]
        print(
            json.dumps(
                {
                    "api": api,
                    "rpc": anvil.rpc_url,
                    "chain_id": chain.network.chain_id,
                    "folder": str(folder),
                    "citizen": {"address": citizen.address, "key": citizen.key.hex()},
                    "relayer": chain.accounts[5].address,
                    "deployment": chain.deployment.contracts
                    and {k: v["address"] for k, v in chain.deployment.contracts.items()},
                    **info,
                }
            ),
            flush=True,
        )
        # Wait for the test runner to close our stdin (or a signal).
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        stop.wait()
        return 0
    except Exception as exc:  # a readable line for the test runner, then tear down
        log("failed:", repr(exc))
        for name in ("indexer", "api"):
            p = folder / f"{name}.log"
            if p.is_file():
                log(f"--- {name}.log ---\n" + p.read_text(errors="replace")[-3000:])
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        anvil.stop()


if __name__ == "__main__":
    sys.exit(main())
