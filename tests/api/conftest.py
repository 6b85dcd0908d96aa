"""A store filled with realistic rows for the API tests, without a chain: decoded events go through
the indexer's own reducers and batch writer (the same path as a real sync), then the checkpoint.

The story (blocks are 12 s apart; block 35 onwards jumps 31 days, so a rights request is overdue):
  roles    agency publisher P1, business publisher P2, auditor AU, researcher RS
  datasets 1 (P1, health, personal) superseded by 2; 3 (P2, transport, public); 4 (P1, education) withdrawn
  consent  C1 ScientificResearch on dataset 2, any researcher (block 10)
           C2 ScientificResearch on publisher P1, grantee RS (block 11)
           C3 ScientificResearch on domain health, any researcher (block 12), revoked at block 20
           C4 Marketing on dataset 2, any researcher (block 13), expires before block 30
  access   1: RS on dataset 2 for ScientificResearch, requested 14, granted 15 (live); 2: RS on 3, refused
  release  1 of access 1 at block 25, snapshot of {C1, C2} at block 22 (file on disk)
  rights   1: C1 against P1, filed block 16, open -> overdue; 2: C2 on dataset 3, answered
  index    last block 40, finalized 38
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_utils import keccak

from cityledger import codes
from cityledger.fingerprint.consent_tree import ConsentTree
from cityledger.indexer import models as m
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch
from cityledger.release.snapshots import write_snapshot


def addr(n: int) -> str:
    return "0x" + format(n, "040x")


def h(label: str) -> str:
    return "0x" + keccak(text=label).hex()


def pad(value) -> str:
    return "0x" + (format(value, "064x") if isinstance(value, int) else value[2:].rjust(64, "0"))


P1, P2, AU, RS, OTHER = addr(0xA1), addr(0xB2), addr(0xC3), addr(0xD4), addr(0xE5)
C1, C2, C3, C4, C5 = (addr(0x1000 + i) for i in range(1, 6))
ANY = codes.ANY_RESEARCHER
SCI = "0x" + codes.purpose_hash("ScientificResearch").hex()
MKT = "0x" + codes.purpose_hash("Marketing").hex()
BASE_TS = 1_700_000_000
LAST_BLOCK = 40
FINALIZED = 38
MONTH = 31 * 24 * 3600
CLOSED_RPC = "http://127.0.0.1:9"


def ts_of(block: int) -> int:
    return BASE_TS + 12 * block + (MONTH if block >= 35 else 0)


def consent_key(citizen, purpose, kind, scope_id, grantee) -> str:
    from cityledger.api.relayer import consent_key_hex

    return consent_key_hex(citizen, purpose, kind, scope_id, grantee)


def write_subject_csv(path: Path, subjects: list[str]) -> str:
    """A small personal dataset: one row per visit, `subject` = pseudonymous address; returns sha256."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["visit_id", "subject", "clinic", "week"])
        for i, s in enumerate(subjects):
            w.writerow([i + 1, s, ["north", "south"][i % 2], 10 + i])
    return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Seeded:
    url: str
    data_dir: Path
    dataset2_file: Path
    keys: dict = field(default_factory=dict)
    release_root: str = ""


def seed_store(folder: Path) -> Seeded:
    url = f"sqlite:///{folder / 'index.db'}"
    data_dir = folder / "data"
    migrate(url)
    engine = make_engine(url)
    ds2 = folder / "clinic_visits_v2.csv"
    ds2_hash = write_subject_csv(ds2, [C1, C2, C3, C4, C5, C1])
    seeded = Seeded(url=url, data_dir=data_dir, dataset2_file=ds2)
    log_index: dict[int, int] = {}
    batch = Batch()

    def ev(block: int, name: str, **args) -> None:
        i = log_index.get(block, 0)
        log_index[block] = i + 1
        batch.add(reduce(name, args, Ctx(block, i, h(f"tx{block}-{i}"), ts_of(block))))

    for account, role, kind in ((P1, 1, 1), (P2, 1, 2), (AU, 2, 0), (RS, 4, 0)):
        ev(2, "RoleGranted", account=account, role=role, kind=kind, granted_by=addr(0xAD))

    def register(block, did, pub, chash, domain, personal, version, supersedes):
        ev(
            block,
            "DatasetRegistered",
            dataset_id=did,
            publisher=pub,
            content_hash=chash,
            metadata_hash=h(f"meta{did}"),
            metadata_uri=f"ipfs://meta/{did}/clinic-visits.json" if domain == 1 else f"https://data.city/{did}.json",
            domain=domain,
            personal_data=personal,
            version=version,
            supersedes=supersedes,
        )

    register(3, 1, P1, h("clinic v1"), 1, True, 1, 0)
    register(4, 2, P1, ds2_hash, 1, True, 2, 1)
    register(5, 3, P2, h("bus trips"), 7, False, 1, 0)
    register(6, 4, P1, h("school places"), 2, False, 1, 0)
    ev(7, "DatasetWithdrawn", dataset_id=4, publisher=P1, reason_hash=h("wrong totals"))
    ev(8, "AttestationAdded", attestation_id=1, dataset_id=2, auditor=AU, kind=1, report_hash=h("report"))

    far = ts_of(LAST_BLOCK) + 365 * 24 * 3600
    consents = [
        (10, C1, SCI, 1, pad(2), ANY, far),
        (11, C2, SCI, 2, pad(P1), RS, far),
        (12, C3, SCI, 3, pad(1), ANY, far),
        (13, C4, MKT, 1, pad(2), ANY, ts_of(29)),
    ]
    for block, citizen, purpose, kind, scope, grantee, expiry in consents:
        key = consent_key(citizen, purpose, kind, scope, grantee)
        seeded.keys[citizen] = key
        ev(
            block,
            "ConsentGranted",
            key=key,
            citizen=citizen,
            purpose=purpose,
            scope_kind=kind,
            scope_id=scope,
            grantee=grantee,
            expiry=expiry,
            nonce=1,
            submitted_by=citizen,
        )
    ev(
        20,
        "ConsentRevoked",
        key=seeded.keys[C3],
        citizen=C3,
        purpose=SCI,
        scope_kind=3,
        scope_id=pad(1),
        grantee=ANY,
        nonce=2,
        submitted_by=addr(0x5E1A),
    )

    ev(14, "AccessRequested", access_id=1, dataset_id=2, requester=RS, purpose=SCI, terms_hash=h("terms"))
    ev(15, "AccessGranted", access_id=1, dataset_id=2, grantee=RS, purpose=SCI, expiry=far)
    ev(16, "AccessRequested", access_id=2, dataset_id=3, requester=RS, purpose=MKT, terms_hash=h("terms2"))
    ev(17, "AccessRefused", access_id=2, dataset_id=3, requester=RS, reason_hash=h("no"))

    tree = ConsentTree.build([C1, C2])
    seeded.release_root = "0x" + tree.root.hex()
    write_snapshot(data_dir, tree, {"snapshot_block": 22, "dataset_id": 2, "access_id": 1})
    ev(
        25,
        "ReleaseLogged",
        release_id=1,
        access_id=1,
        grantee=RS,
        dataset_id=2,
        purpose=SCI,
        subject_count=2,
        consent_root=seeded.release_root,
        snapshot_block=22,
        release_hash=h("release file"),
    )

    ev(
        16,
        "RightsRequestFiled",
        request_id=1,
        citizen=C1,
        publisher=P1,
        kind=3,
        target_kind=1,
        target=pad(P1),
        details_hash=h("erase me"),
        deadline=ts_of(16) + 30 * 24 * 3600,
    )
    ev(
        18,
        "RightsRequestFiled",
        request_id=2,
        citizen=C2,
        publisher=P2,
        kind=1,
        target_kind=2,
        target=pad(3),
        details_hash=h("my data"),
        deadline=ts_of(18) + 30 * 24 * 3600,
    )
    ev(
        19,
        "RightsRequestAnswered",
        request_id=2,
        citizen=C2,
        publisher=P2,
        outcome=2,
        answer_hash=h("export"),
        late=False,
    )

    with engine.begin() as conn:
        batch.flush(conn)
        conn.execute(
            m.Block.__table__.insert(),
            [
                {"number": n, "hash": h(f"b{n}"), "parent_hash": h(f"b{n - 1}"), "timestamp": ts_of(n)}
                for n in range(1, LAST_BLOCK + 1)
            ],
        )
        conn.execute(
            m.Checkpoint.__table__.insert(),
            {
                "id": 1,
                "chain_id": 31337,
                "block_number": LAST_BLOCK,
                "block_hash": h(f"b{LAST_BLOCK}"),
                "start_block": 1,
                "head_block": LAST_BLOCK + 2,
                "finalized_block": FINALIZED,
                "confirmations": 2,
                "roles_address": addr(1),
                "datasets_address": addr(2),
                "consents_address": addr(3),
                "access_address": addr(4),
                "rights_address": addr(5),
                "updated_at": ts_of(LAST_BLOCK),
                "reorgs": 0,
            },
        )
    engine.dispose()
    return seeded


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Seeded:
    return seed_store(tmp_path_factory.mktemp("api-store"))


@pytest.fixture(scope="session")
def client(seeded):
    from fastapi.testclient import TestClient

    from cityledger.api.app import create_app
    from cityledger.config import load_config

    # A closed port: the status route must report the node unreachable, quickly, without failing.
    mp = pytest.MonkeyPatch()
    mp.setenv("CITYLEDGER_RPC_URL", CLOSED_RPC)
    try:
        app = create_app(
            load_config(),
            db_url=seeded.url,
            data_dir=seeded.data_dir,
            cors_origins=["http://127.0.0.1:8000"],
            rpc_timeout=0.2,
        )
    finally:
        mp.undo()
    with TestClient(app) as c:
        yield c
