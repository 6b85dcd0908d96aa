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
  release  1 of access 1 at block 25, snapshot of {C1, C2} at block 22 (published), k 0, logged by P1
           2 of access 1 at block 26, by operator OP, claims {C1, C3} (C3 revoked at 20): a lying publisher
           3 of access 1 at block 27, no snapshot published
  rights   1: C1 against P1, filed block 16, open -> overdue; 2: C2 on dataset 3, answered;
           3: OTHER against P2, filed 21, rejected (not a data subject) at block 23
  second round: profiles of P1 (document verified), P2 (document not in the store) and AU; P1 names
           operator OP (block 24), stops OTHER (block 24); access 3 requested by RS on dataset 2 and
           cancelled; a budget of 2 epsilon on access 1 and one private answer of 0.5 (block 28);
           P3 registers dataset 3's bytes again as dataset 5 (block 9); deletion obligations on
           release 1: C1 open (deadline past: overdue), C2 confirmed (block 37)
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
from cityledger.datasets.profiles import profile_document
from cityledger.datasets.store import MetadataStore
from cityledger.fingerprint.consent_tree import ConsentTree
from cityledger.indexer import models as m
from cityledger.indexer.metadata import enrich, enrich_profiles, store_dir
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch
from cityledger.release.audit import audit
from cityledger.release.snapshots import write_snapshot


def addr(n: int) -> str:
    return "0x" + format(n, "040x")


def h(label: str) -> str:
    return "0x" + keccak(text=label).hex()


def pad(value) -> str:
    return "0x" + (format(value, "064x") if isinstance(value, int) else value[2:].rjust(64, "0"))


P1, P2, AU, RS, OTHER = addr(0xA1), addr(0xB2), addr(0xC3), addr(0xD4), addr(0xE5)
P3, OP = addr(0xF6), addr(0x0F)
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
    lying_root: str = ""
    profiles: dict = field(default_factory=dict)  # account -> profile hash


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

    for account, role, kind in ((P1, 1, 1), (P2, 1, 2), (AU, 2, 0), (RS, 4, 0), (P3, 1, 2)):
        ev(2, "RoleGranted", account=account, role=role, kind=kind, granted_by=addr(0xAD))
    store = MetadataStore(store_dir(data_dir))
    profiles = {
        P1: profile_document(
            name="Northbridge City Health Office",
            kind="agency",
            website="https://health.northbridge.example",
            contact="data-office@northbridge.example",
            jurisdiction="Northbridge, Utopia",
        ),
        P2: profile_document(name="Lumen Transit Ltd", kind="business"),
        AU: profile_document(name="Civic Data Audit Cooperative", kind="auditor"),
    }
    for account, doc in profiles.items():
        digest, _ = store.put(doc)
        if account == P2:
            store.remove(digest)  # registered on chain, but its document is not in this store
        seeded.profiles[account] = "0x" + digest.hex()
        uri = f"cityledger://metadata/{digest.hex()}"
        ev(
            3,
            "ProfileUpdated",
            account=account,
            profile_hash="0x" + digest.hex(),
            profile_uri=uri,
            updated_by=addr(0xAD),
        )

    def register(block, did, pub, chash, domain, personal, version, supersedes, meta=None):
        ev(
            block,
            "DatasetRegistered",
            dataset_id=did,
            publisher=pub,
            content_hash=chash,
            metadata_hash=meta[0] if meta else h(f"meta{did}"),
            metadata_uri=meta[1]
            if meta
            else (f"ipfs://meta/{did}/clinic-visits.json" if domain == 1 else f"https://data.city/{did}.json"),
            domain=domain,
            personal_data=personal,
            version=version,
            supersedes=supersedes,
        )

    register(3, 1, P1, h("clinic v1"), 1, True, 1, 0)
    # Dataset 2's document is in the store (a release reads its privacy declaration: it declares none).
    ds2_meta, _ = store.put({"@type": "dcat:Dataset", "dct:title": "Clinic visits (version 2)"})
    register(4, 2, P1, ds2_hash, 1, True, 2, 1, meta=("0x" + ds2_meta.hex(), store.uri_of(ds2_meta)))
    register(5, 3, P2, h("bus trips"), 7, False, 1, 0)
    register(6, 4, P1, h("school places"), 2, False, 1, 0)
    ev(7, "DatasetWithdrawn", dataset_id=4, publisher=P1, reason_hash=h("wrong totals"))
    register(9, 5, P3, h("bus trips"), 7, False, 1, 0)  # the same bytes as dataset 3, another publisher
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

    ev(14, "AccessRequested", access_id=1, dataset_id=2, requester=RS, purpose=SCI, terms_hash=h("terms"), role=4)
    ev(15, "AccessGranted", access_id=1, dataset_id=2, grantee=RS, purpose=SCI, expiry=far)
    ev(16, "AccessRequested", access_id=2, dataset_id=3, requester=RS, purpose=MKT, terms_hash=h("terms2"), role=4)
    ev(17, "AccessRefused", access_id=2, dataset_id=3, requester=RS, reason_hash=h("no"))
    ev(18, "AccessRequested", access_id=3, dataset_id=2, requester=RS, purpose=MKT, terms_hash=h("terms3"), role=4)
    ev(19, "AccessCancelled", access_id=3, dataset_id=2, requester=RS)
    ev(24, "ReleaseOperatorSet", publisher=P1, operator=OTHER, allowed=True)
    ev(24, "ReleaseOperatorSet", publisher=P1, operator=OP, allowed=True)
    ev(24, "ReleaseOperatorSet", publisher=P1, operator=OTHER, allowed=False)

    def release(block: int, release_id: int, subjects: list[str], publish: bool, logged_by: str) -> str:
        tree = ConsentTree.build(subjects)
        if publish:
            write_snapshot(data_dir, tree, {"snapshot_block": 22, "dataset_id": 2, "access_id": 1})
        root = "0x" + tree.root.hex()
        ev(
            block,
            "ReleaseLogged",
            release_id=release_id,
            access_id=1,
            grantee=RS,
            dataset_id=2,
            purpose=SCI,
            subject_count=len(subjects),
            consent_root=root,
            snapshot_block=22,
            release_hash=h(f"release file {release_id}"),
            k_anonymity=0,
            logged_by=logged_by,
        )
        return root

    seeded.release_root = release(25, 1, [C1, C2], True, P1)
    seeded.lying_root = release(26, 2, [C1, C3], True, OP)  # C3 revoked at block 20: no consent at 22
    release(27, 3, [C1, C2, C5], False, P1)  # no snapshot published: unverifiable

    ev(27, "PrivacyBudgetSet", access_id=1, budget=2_000_000, spent=0)
    consent_set = ConsentTree.build([C1, C2])
    ev(
        28,
        "PrivateQueryLogged",
        query_id=1,
        access_id=1,
        grantee=RS,
        dataset_id=2,
        epsilon_spent=500_000,
        spent_total=500_000,
        budget=2_000_000,
        query_hash=h("count by clinic"),
        consent_root="0x" + consent_set.root.hex(),
        snapshot_block=22,
        subject_count=2,
        logged_by=OP,
    )
    for obligation_id, subject in ((1, C1), (2, C2)):
        ev(
            30,
            "DeletionRequested",
            obligation_id=obligation_id,
            release_id=1,
            recipient=RS,
            subject=subject,
            deadline=ts_of(30) + 30 * 24 * 3600,
            requested_by=subject,
        )
    ev(
        37,
        "DeletionConfirmed",
        obligation_id=2,
        release_id=1,
        recipient=RS,
        subject=C2,
        evidence_hash=h("gone"),
        late=True,
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
    ev(
        21,
        "RightsRequestFiled",
        request_id=3,
        citizen=OTHER,
        publisher=P2,
        kind=8,
        target_kind=1,
        target=pad(P2),
        details_hash=h("spam"),
        deadline=ts_of(21) + 30 * 24 * 3600,
    )
    ev(
        23,
        "RightsRequestAnswered",
        request_id=3,
        citizen=OTHER,
        publisher=P2,
        outcome=5,
        answer_hash=h("no"),
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
                "deletion_address": addr(6),
                "updated_at": ts_of(LAST_BLOCK),
                "reorgs": 0,
            },
        )
    # What the indexer's after-commit hook derives: profile summaries and the release audits.
    enrich(engine, store_dir(data_dir))
    enrich_profiles(engine, store_dir(data_dir))
    audit(engine, data_dir, timestamp=ts_of)
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
