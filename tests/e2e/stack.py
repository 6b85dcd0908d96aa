"""The whole CityLedger stack for the browser tests, on free ports, in a temporary folder.

anvil -> contracts deployed, devnet roles granted -> a small known data set (datasets with two
versions, an attestation, consents, a logged release whose consent snapshot includes the test
citizen; the data room's files, its release operator and a deletion obligation for the researcher)
-> the indexer following the chain -> the API serving frontend/dist, its public URL its own origin
(the sign-in's domain).

Prints ONE JSON line on stdout when everything answers:
  {"api": "http://127.0.0.1:P", "rpc": "http://127.0.0.1:Q", "chain_id": 31337, "citizen": {...}, ...}
or {"error": "<why>"} (exit 1) when something does not start.
Tears everything down when stdin closes or on SIGTERM/SIGINT. Logs go to stderr.

Usage: .venv/bin/python tests/e2e/stack.py [--demo]
  --demo: seed the project's demo (cityledger.demo, real sample datasets) instead of the small
          known data set, to look at the page with realistic data (the tests do not use it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the hostile publisher calls its dataset (U+202E: right-to-left override).
HOSTILE_TITLE = "rtl\u202etxt.exe <img src=x onerror=alert(1)> report"


# The clinic data's declaration for private questions and releases (docs/PRIVACY.md): k 2, so that its
# four consenting subjects can be asked about at all, and their releases (two per district) are
# 2-anonymous over the district unchanged; a population profile at epsilon 1 for representativeness.
CLINIC_PRIVACY = {
    "@type": "cl:PrivacyDeclaration",
    "cl:version": 1,
    "cl:subjectColumn": "subject",
    "cl:k": 2,
    "cl:profileEpsilon": "1",
    "cl:sampledPopulation": "Test data: six pseudonymous patients of the city's public clinics in 2024.",
    "cl:columns": [
        {
            "cl:name": "district",
            "cl:type": "categorical",
            "cl:categories": ["north", "south"],
            "cl:quasiIdentifier": True,
        },
        {"cl:name": "visits", "cl:type": "integer", "cl:lower": 0, "cl:upper": 20},
    ],
}
PRIVACY_BUDGET = 16  # epsilon: a count at 4 and a mean at 8 (and 1 for its comparison) fit, then 5 more does not


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
    from eth_account import Account
    from eth_utils import keccak

    from cityledger import codes
    from cityledger.chain.actions import set_profile
    from cityledger.chain.tx import transact
    from cityledger.dataroom.files import open_store
    from cityledger.dataroom.profiles import kept_profile
    from cityledger.dataroom.room import OPERATOR_ACCOUNT
    from cityledger.datasets.metadata import Coverage, DatasetInfo
    from cityledger.datasets.profiles import profile_document
    from cityledger.datasets.registry import attest, publish
    from cityledger.datasets.store import MetadataStore
    from cityledger.fingerprint.consent_tree import ConsentTree
    from cityledger.privacy import load_table, parse_declaration
    from cityledger.release.snapshots import write_snapshot

    w3, acc, cfg = chain.w3, chain.accounts, chain.cfg
    agency, business, auditor, researcher = acc[1], acc[2], acc[3], acc[4]
    citizen, others = acc[6], acc[7:10]
    store = MetadataStore(cfg.data_dir / "metadata")
    # The data room's file store: every published file is kept there (open ones are downloadable).
    room_files = open_store(cfg.data_dir)
    # Organisations' public profiles (the admin publishes them), so the page shows names; the
    # business has none, so its address stands, as for any organisation without a profile.
    profiles = {
        agency.address: ("City Services Agency", "agency"),
        researcher.address: ("Transport Research Institute", "research institute"),
        auditor.address: ("Civic Data Audit", "auditor"),
    }
    for account, (name, kind) in profiles.items():
        set_profile(w3, chain.deployment, acc[0], account, profile_document(name=name, kind=kind), store, cfg)
    files = folder / "files"
    files.mkdir()

    def csv(name: str, rows: list[str]) -> Path:
        p = files / name
        p.write_text("\n".join(rows) + "\n")
        return p

    hashes: dict[str, str] = {}

    def pub(account, path, title, domain, description, supersedes=0, personal=False, privacy=None) -> int:
        info = DatasetInfo(
            title=title,
            domain=domain,
            publisher=account.address,
            description=description,
            license="CC-BY-4.0",
            personal_data=personal,
            privacy=privacy,
            supersedes=supersedes,
            keywords=[domain],
            coverage=Coverage(temporal_start="2024-01-01", temporal_end="2024-12-31", spatial="CityLedger city"),
        )
        result = publish(w3, chain.deployment, account, path, info, store=store, cfg=cfg, files=room_files)
        hashes[result.dataset_id] = result.content_hash
        if privacy is not None and "cl:profileEpsilon" in privacy:
            # What a researcher's first question with a representativeness report does: the file's
            # population profile, computed once and kept (a page view never computes it).
            decl = parse_declaration(privacy)
            kept_profile(cfg.data_dir, result.content_hash, result.metadata_hash, decl, lambda: load_table(path, decl))
        return result.dataset_id

    trips_v1 = csv("bus-trips-2024-v1.csv", ["route,trips", "1,120", "2,80"])
    trips_v2 = csv("bus-trips-2024-v2.csv", ["route,trips", "1,121", "2,80", "3,40"])
    ids = {
        "trips_v1": pub(agency, trips_v1, "Bus trips per route 2024", "transport", "Daily bus trips per route."),
    }
    ids["energy"] = pub(
        business,
        csv("grid-load-2024.csv", ["hour,mw", "0,410", "1,395"]),
        "Electricity grid load 2024",
        "energy",
        "Hourly load on the city grid.",
    )
    # A citizen of no other test: consents, is in a release, then revokes (the researcher's obligation).
    # Two of them: one obligation is confirmed in time, the other after its deadline (the suite's last test).
    leavers = [Account.from_key(keccak(text=f"cityledger e2e: citizen who revokes {i}")) for i in (1, 2)]
    for leaver in leavers:
        w3.eth.send_transaction({"from": acc[0].address, "to": leaver.address, "value": 10**18})
    # Personal data: one row per pseudonymous subject (the release keeps the consenting ones' rows).
    subjects = [citizen, *others, *leavers]
    ids["clinics"] = pub(
        agency,
        csv(
            "clinic-visits-2024.csv",
            [
                "subject,district,visits",
                *(f"{p.address.lower()},{('north', 'south')[i % 2]},{3 + i}" for i, p in enumerate(subjects)),
            ],
        ),
        "Clinic visits by district 2024",
        "health",
        "Visits to public clinics.",
        personal=True,
        privacy=CLINIC_PRIVACY,
    )
    # The correction comes later, so its dataset number (4) is not its version number (2).
    ids["trips_v2"] = pub(
        agency,
        trips_v2,
        "Bus trips per route 2024",
        "transport",
        "Daily bus trips per route (corrected counts).",
        supersedes=ids["trips_v1"],
    )
    # A publisher that bypasses `cityledger publish` (which refuses such text) and registers its own
    # DCAT document: a right-to-left override, markup and a 20,000-character word. The page must
    # show them as inert, isolated, wrapped text.
    hostile = {
        "@context": {"dct": "http://purl.org/dc/terms/", "dcat": "http://www.w3.org/ns/dcat#"},
        "@type": "dcat:Dataset",
        "dct:title": HOSTILE_TITLE,
        "dct:description": "A" * 20_000,
        "dcat:keyword": ["culture"],
    }
    digest, _ = store.put(hostile)
    hostile_file = csv("museum-visits.csv", ["month,visits", "1,300"])
    registry = chain.contract("DatasetRegistry")
    transact(
        w3,
        business,
        registry.functions.register(
            hashlib.sha256(hostile_file.read_bytes()).digest(),
            digest,
            f"cityledger://metadata/{digest.hex()}",
            codes.DOMAINS["culture"],
            False,
            0,
        ),
    )
    ids["hostile"] = registry.functions.dataset_count().call()
    hashes[ids["hostile"]] = "0x" + hashlib.sha256(hostile_file.read_bytes()).hexdigest()
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
    # The test citizen's second consent for the same purpose (two cards, two "withdraw" buttons).
    transact(
        w3,
        citizen,
        consents.functions.grant(
            research, codes.SCOPE_DOMAIN, codes.DOMAINS["transport"].to_bytes(32, "big"), researcher.address, year
        ),
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
    # The researcher's private questions (researcher.mjs) spend from this budget.
    transact(w3, agency, access.functions.set_privacy_budget(access_id, PRIVACY_BUDGET * 10**6))

    def release(tree: ConsentTree, label: str, k: int) -> bytes:
        """A release of the clinic data to the researcher over `tree`'s subjects, logged on chain; the
        publisher keeps the snapshot's addresses off chain (as the release service does), so that the
        API can hand each citizen a Merkle proof: only the root goes on chain. Returns its hash."""
        snapshot = w3.eth.block_number
        release_hash = keccak(text=label)
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
            access.functions.log_release(
                access_id, ids["clinics"], len(tree.values), tree.root, snapshot, release_hash, k
            ),
        )
        return release_hash

    # k 2: two of its four subjects in each district (its declaration's quasi-identifier)
    release(ConsentTree.build([citizen.address, *(o.address for o in others)]), "release 1", 2)
    # The data room logs the releases it makes with its own key: the agency names it its release operator.
    transact(w3, agency, access.functions.set_release_operator(acc[OPERATOR_ACCOUNT].address, True))
    # A second release, of the leavers' consenting rows only; then they revoke, so the researcher owes
    # the deletion of their rows: its open obligations (each names only the release and the
    # pseudonymous address).
    for leaver in leavers:
        transact(
            w3,
            leaver,
            consents.functions.grant(research, codes.SCOPE_DATASET, clinics_scope, codes.ANY_RESEARCHER, year),
        )
    small = ConsentTree.build([leaver.address for leaver in leavers])
    small_hash = release(small, "release 2", 0)
    release_id = access.functions.release_count().call()
    deletions = chain.contract("DeletionRegistry")
    for leaver in leavers:
        transact(
            w3, leaver, consents.functions.revoke(research, codes.SCOPE_DATASET, clinics_scope, codes.ANY_RESEARCHER)
        )
        transact(
            w3,
            agency,
            deletions.functions.request_deletion(
                release_id, leaver.address, small.root, small_hash, 0, small.proof(leaver.address)
            ),
        )
    return {
        "datasets": ids,
        "hashes": {name: hashes[i] for name, i in ids.items()},
        "files": {"trips_v1": str(trips_v1), "trips_v2": str(trips_v2)},
        "agency": agency.address,
        "business": business.address,
        "researcher": researcher.address,
        "researcher_key": researcher.key.hex(),
        "leavers": [leaver.address for leaver in leavers],
        "access_id": access_id,
        "privacy_budget": PRIVACY_BUDGET,
        "auditor": auditor.address,
        "hostile_title": HOSTILE_TITLE,
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
        api_port = free_port()
        env = {
            **os.environ,
            **chain.env,
            "CITYLEDGER_ROOT": str(ROOT),
            # The catalogue's IRIs under the address it is served at (uvicorn, not `serve --port`).
            "CITYLEDGER_PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
            "CITYLEDGER_DB_URL": f"sqlite:///{folder / 'index.db'}",
            "CITYLEDGER_METADATA_DIR": str(chain.cfg.data_dir / "metadata"),
        }
        venv = ROOT / ".venv" / "bin"
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
                    # The content-addressed store the API serves /api/documents from.
                    "metadata_dir": env["CITYLEDGER_METADATA_DIR"],
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
        # The chain's and the store's files go with the stack (each browser run made one more folder);
        # CITYLEDGER_E2E_KEEP=1 keeps them to read after a failure.
        if not os.environ.get("CITYLEDGER_E2E_KEEP"):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
