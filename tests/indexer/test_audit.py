"""The audit of release claims (release/audit.py) on synthetic stores: each status, private queries
recomputed outright, a rollback taking an audit with its release, and the reconciliation at start
(a reset store, a snapshot published late)."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from sqlalchemy import select, update

from cityledger import codes
from cityledger.fingerprint.consent_tree import ConsentTree
from cityledger.indexer.models import Release, ReleaseAudit
from cityledger.indexer.reducers import Ctx, reduce
from cityledger.indexer.reorg import rollback_to
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch
from cityledger.release.audit import Auditor, audit
from cityledger.release.snapshots import write_snapshot

PUB, RS, ADMIN = ("0x" + f"{n:040x}" for n in (0xA1, 0xD4, 0xAD))
C = ["0x" + f"{0x1000 + i:040x}" for i in range(5)]
SCI = "0x" + codes.purpose_hash("ScientificResearch").hex()
ZERO = "0x" + "00" * 32


def h(label: str) -> str:
    return "0x" + keccak(text=label).hex()


def ts(block: int) -> int:
    return 1_700_000_000 + 12 * block


class Chain:
    """A store fed with events through the reducers (the indexer's own path)."""

    def __init__(self, url: str):
        migrate(url)
        self.engine = make_engine(url)
        self.logs: dict[int, int] = {}

    def ev(self, block: int, name: str, **args) -> None:
        i = self.logs.get(block, 0)
        self.logs[block] = i + 1
        batch = Batch()
        batch.add(reduce(name, args, Ctx(block, i, h(f"tx{block}-{i}-{name}"), ts(block))))
        with self.engine.begin() as conn:
            batch.flush(conn)

    def release(self, block: int, release_id: int, subjects: list[str], snapshot: int = 6, **over) -> str:
        root = "0x" + ConsentTree.build(subjects).root.hex() if subjects else ZERO
        args = dict(
            release_id=release_id,
            access_id=1,
            grantee=RS,
            dataset_id=1,
            purpose=SCI,
            subject_count=len(subjects),
            consent_root=root,
            snapshot_block=snapshot,
            release_hash=h(f"file {release_id}"),
            k_anonymity=0,
            logged_by=PUB,
        )
        self.ev(block, "ReleaseLogged", **(args | over))
        return root

    def audits(self) -> dict[tuple[str, int], str]:
        with self.engine.connect() as conn:
            return {(r.kind, r.id): r.status for r in conn.execute(select(ReleaseAudit))}


@pytest.fixture
def chain(stores) -> Chain:
    """Dataset 1 (personal, PUB, health); consents of C0 (dataset scope, any researcher) and C1
    (publisher scope, grantee RS) at block 3; C2 granted at 3 and revoked at 5; C3 for marketing;
    RS a researcher; access 1 granted at block 4."""
    c = Chain(stores())
    c.ev(1, "RoleGranted", account=PUB, role=1, kind=1, granted_by=ADMIN)
    c.ev(1, "RoleGranted", account=RS, role=4, kind=0, granted_by=ADMIN)
    c.ev(
        2,
        "DatasetRegistered",
        dataset_id=1,
        publisher=PUB,
        content_hash=h("file"),
        metadata_hash=h("meta"),
        metadata_uri="ipfs://m",
        domain=1,
        personal_data=True,
        version=1,
        supersedes=0,
    )
    pad = lambda v: "0x" + (format(v, "064x") if isinstance(v, int) else v[2:].rjust(64, "0"))  # noqa: E731
    grants = [
        (C[0], SCI, 1, pad(1), codes.ANY_RESEARCHER),
        (C[1], SCI, 2, pad(PUB), RS),
        (C[2], SCI, 3, pad(1), codes.ANY_RESEARCHER),
        (C[3], "0x" + codes.purpose_hash("Marketing").hex(), 1, pad(1), codes.ANY_RESEARCHER),
    ]
    for citizen, purpose, kind, scope, grantee in grants:
        args = dict(citizen=citizen, purpose=purpose, scope_kind=kind, scope_id=scope, grantee=grantee)
        c.ev(3, "ConsentGranted", key=h(str(args)), expiry=ts(10**6), nonce=1, submitted_by=citizen, **args)
    args = dict(citizen=C[2], purpose=SCI, scope_kind=3, scope_id=pad(1), grantee=codes.ANY_RESEARCHER)
    c.ev(5, "ConsentRevoked", key=h(str(args)), nonce=2, submitted_by=C[2], **args)
    c.ev(4, "AccessRequested", access_id=1, dataset_id=1, requester=RS, purpose=SCI, terms_hash=h("t"), role=4)
    c.ev(4, "AccessGranted", access_id=1, dataset_id=1, grantee=RS, purpose=SCI, expiry=ts(10**6))
    return c


def publish(tmp_path, subjects: list[str]) -> None:
    write_snapshot(tmp_path, ConsentTree.build(subjects), {"snapshot_block": 6})


def test_each_status(chain, tmp_path):
    publish(tmp_path, [C[0], C[1]])
    chain.release(7, 1, [C[0], C[1]])  # honest
    publish(tmp_path, [C[0], C[2]])
    chain.release(7, 2, [C[0], C[2]])  # C2 revoked at block 5, before the snapshot at 6
    chain.release(8, 3, [C[0], C[1], C[4]])  # nothing published
    publish(tmp_path, [C[0]])
    chain.release(8, 4, [C[0]], subject_count=3)  # the count is a lie
    chain.release(9, 5, [])  # non-personal
    assert audit(chain.engine, tmp_path, timestamp=ts) == 5
    assert chain.audits() == {
        ("release", 1): "verified",
        ("release", 2): "mismatch",
        ("release", 3): "unverifiable",
        ("release", 4): "mismatch",
        ("release", 5): "no_subjects",
    }
    with chain.engine.connect() as conn:
        two = conn.execute(select(ReleaseAudit).where(ReleaseAudit.id == 2)).mappings().one()
    assert two["lacking_consent"] == 1 and C[2] in two["detail"] and two["snapshot_hash"].startswith("0x")
    # The same snapshot as of a block before C2 revoked: then it was covered.
    chain.release(9, 6, [C[0], C[2]], snapshot=4)
    audit(chain.engine, tmp_path, blocks=(9, 9), timestamp=ts)
    assert chain.audits()[("release", 6)] == "verified"


def test_a_snapshot_file_that_is_not_the_roots_is_unverifiable(chain, tmp_path):
    root = chain.release(7, 1, [C[0], C[1]])
    publish(tmp_path, [C[0]])
    # Someone puts another subject set's snapshot under this root's name: it does not rebuild to it.
    honest = tmp_path / "releases" / "snapshots" / f"0x{ConsentTree.build([C[0]]).root.hex()}.json"
    honest.rename(tmp_path / "releases" / "snapshots" / f"{root}.json")
    audit(chain.engine, tmp_path, timestamp=ts)
    assert chain.audits() == {("release", 1): "unverifiable"}


def test_private_queries_are_recomputed_outright(chain, tmp_path):
    consenting = ConsentTree.build([C[0], C[1]])  # C2 revoked at 5, C3 consented to marketing
    base = dict(access_id=1, grantee=RS, dataset_id=1, epsilon_spent=10, budget=100, query_hash=h("q"), logged_by=PUB)
    chain.ev(7, "PrivateQueryLogged", query_id=1, spent_total=10, consent_root="0x" + consenting.root.hex(),
             snapshot_block=6, subject_count=2, **base)  # fmt: skip
    chain.ev(7, "PrivateQueryLogged", query_id=2, spent_total=20, consent_root="0x" + consenting.root.hex(),
             snapshot_block=6, subject_count=3, **base)  # fmt: skip
    audit(chain.engine, tmp_path, timestamp=ts)
    assert chain.audits() == {("query", 1): "verified", ("query", 2): "mismatch"}


def test_rollback_takes_the_audit_with_its_release_and_start_reconciles(chain, tmp_path):
    publish(tmp_path, [C[0], C[1]])
    chain.release(7, 1, [C[0], C[1]])
    chain.release(9, 2, [C[0]])
    auditor = Auditor(chain.engine, tmp_path, timestamp=ts)
    auditor.run()
    assert chain.audits() == {("release", 1): "verified", ("release", 2): "unverifiable"}
    with chain.engine.begin() as conn:
        rollback_to(conn, 8)
    assert chain.audits() == {("release", 1): "verified"}
    # A store reset under the audits (another release 1 in another transaction): dropped at start.
    with chain.engine.begin() as conn:
        conn.execute(update(Release).where(Release.id == 1).values(tx_hash=h("another chain")))
    publish(tmp_path, [C[0]])  # and release 2's snapshot published late: checked at the next start
    chain.release(9, 2, [C[0]])
    Auditor(chain.engine, tmp_path, timestamp=ts).run()
    assert chain.audits() == {("release", 1): "verified", ("release", 2): "verified"}
    with chain.engine.connect() as conn:
        txs = {r.id: r.tx_hash for r in conn.execute(select(ReleaseAudit))}
    assert txs[1] == h("another chain")


def test_a_failing_audit_never_stops_indexing(chain, tmp_path, monkeypatch, caplog):
    import cityledger.release.audit as mod

    chain.release(7, 1, [C[0]])
    monkeypatch.setattr(mod, "read_snapshot", lambda *a: (_ for _ in ()).throw(OSError("disk gone")))
    auditor = Auditor(chain.engine, tmp_path, timestamp=ts)
    assert auditor.run() is None and auditor.backfill_due
    assert "release audit failed" in caplog.text
