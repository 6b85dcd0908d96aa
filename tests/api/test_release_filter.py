"""The consent filter of a release, against the seeded store (no chain needed for the filtering)."""

from __future__ import annotations

import csv
import json

import pytest

from cityledger.datasets.store import MetadataStore
from cityledger.errors import CityLedgerError
from cityledger.fingerprint.consent_tree import consent_root
from cityledger.indexer.metadata import store_dir
from cityledger.indexer.store import make_engine
from cityledger.release import service
from cityledger.release.snapshots import SnapshotIndex

from .conftest import C1, C2, C3, C4, C5, FINALIZED, MKT, SCI, write_subject_csv


@pytest.fixture
def conn(seeded):
    engine = make_engine(seeded.url)
    with engine.connect() as c:
        yield c
    engine.dispose()


@pytest.fixture
def prep(conn, seeded):
    """service.prepare over the seeded store, reading metadata from its data folder's store."""
    store = MetadataStore(store_dir(seeded.data_dir))
    return lambda **kw: service.prepare(conn, store=store, **kw)


def subjects(prepared) -> list[str]:
    col = prepared.header.index("subject")
    return [row[col] for row in prepared.rows]


def test_default_block_is_the_finalized_one_and_revoked_citizens_are_out(prep, seeded):
    p = prep(access_id=1, purpose=SCI, file=seeded.dataset2_file)
    assert p.snapshot_block == FINALIZED
    # C1 (dataset scope, two rows) and C2 (publisher scope, grantee RS); C3 revoked at block 20,
    # C4 consented to marketing only, C5 never consented.
    assert subjects(p) == [C1, C2, C1]
    assert p.rows_in == 6 and p.subject_count == 2 and p.excluded_subjects == 3
    assert p.consent_root == "0x" + consent_root([C1, C2]).hex()


@pytest.mark.parametrize("block, present", [(15, True), (19, True), (20, False), (30, False)])
def test_a_citizen_revoked_before_the_block_is_never_in_it(prep, seeded, block, present):
    p = prep(access_id=1, purpose=SCI, file=seeded.dataset2_file, block=block)
    assert (C3 in subjects(p)) is present
    assert C4 not in subjects(p) and C5 not in subjects(p)


def test_a_snapshot_before_the_grant_is_refused(prep, seeded):
    # AccessRegistry refuses a snapshot older than the grant (block 15): so does the service, first.
    with pytest.raises(CityLedgerError, match="before access 1 was granted \\(block 15\\)"):
        prep(access_id=1, purpose=SCI, file=seeded.dataset2_file, block=14)


def test_nobody_consenting_is_nothing_to_release(prep, seeded, monkeypatch):
    # Dataset 2's file cannot be swapped (its hash is registered): the consent history is emptied instead.
    monkeypatch.setattr(service.queries, "consenting_citizens", lambda *a, **kw: set())
    with pytest.raises(CityLedgerError, match="nothing to release"):
        prep(access_id=1, purpose=SCI, file=seeded.dataset2_file)


def test_refusals(prep, seeded, tmp_path):
    with pytest.raises(CityLedgerError, match="granted for purpose ScientificResearch"):
        prep(access_id=1, purpose=MKT, file=seeded.dataset2_file)
    with pytest.raises(CityLedgerError, match="not live"):
        prep(access_id=2, purpose=MKT, file=seeded.dataset2_file)
    with pytest.raises(CityLedgerError, match="no access request 9"):
        prep(access_id=9, purpose=SCI, file=seeded.dataset2_file)
    other = tmp_path / "other.csv"
    write_subject_csv(other, [C1])
    with pytest.raises(CityLedgerError, match="is not dataset 2 of access 1"):
        prep(access_id=1, purpose=SCI, file=other)
    with pytest.raises(CityLedgerError, match="no such file"):
        prep(access_id=1, purpose=SCI, file=tmp_path / "missing.csv")
    with pytest.raises(CityLedgerError, match="past the last indexed block"):
        prep(access_id=1, purpose=SCI, file=seeded.dataset2_file, block=10_000)


def test_subject_column_is_required(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("visit,person\n1,0x" + "1" * 40 + "\n")
    with pytest.raises(CityLedgerError, match="no 'subject' column"):
        service.read_subject_table(f)


def test_a_bad_subject_is_named_by_its_line_in_the_file(tmp_path):
    # Blank lines are skipped but still counted: the message points at the line an editor shows.
    f = tmp_path / "x.csv"
    f.write_text("visit,subject\n1,0x" + "1" * 40 + "\n\n\n2,alice@example.org\n")
    with pytest.raises(CityLedgerError, match=r"x\.csv:5: subject"):
        service.read_subject_table(f)
    f.write_text("visit,subject\n\n1,0x" + "1" * 40 + ",extra\n")
    with pytest.raises(CityLedgerError, match=r"x\.csv:3: 3 fields, the header has 2"):
        service.read_subject_table(f)


def test_written_files_serve_proofs(prep, seeded, tmp_path):
    p = prep(access_id=1, purpose=SCI, file=seeded.dataset2_file)
    out, snap = service.write(p, tmp_path)
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["subject"] for r in rows] == [C1, C2, C1]
    data = json.loads(snap.read_text())
    assert data["consent_root"] == p.consent_root and data["snapshot_block"] == FINALIZED
    assert data["release_hash"] == p.release_hash
    index = SnapshotIndex(tmp_path)
    assert index.roots_of(C2) == {p.consent_root} and index.roots_of(C3) == set()
    # A tampered snapshot is never served.
    data["tree"]["tree"][0] = "0x" + "00" * 32
    snap.write_text(json.dumps(data))
    (tmp_path / "releases" / "snapshots" / "touch").write_text("")  # a change the index notices
    assert SnapshotIndex(tmp_path).roots_of(C2) == set()
