"""The consented share per purpose on the dataset page (issue 19 item 4): the public consent count over
the number of people in the file, as the data room's kept population profile counts them (noisy, at
the declared cl:profileEpsilon, computed once per file when a researcher's question first needs it,
never for a page view); capped at 100 %; none, with one sentence why, for a dataset without a kept
profile or without personal data, or whose bytes another publisher registered first. Nothing is read
from the file or spent to show it."""

from __future__ import annotations

import json
import os

import pytest
from eth_account import Account

from cityledger.dataroom.files import open_store
from cityledger.dataroom.profiles import kept_profile, profiles_dir, stored_table, with_shares
from cityledger.dataroom.room import OPERATOR_ACCOUNT
from cityledger.datasets.store import MetadataStore, metadata_dir
from cityledger.indexer.store import make_engine
from cityledger.privacy import parse_declaration
from cityledger.query import queries
from cityledger.release import service

from .test_download import _publish
from .test_private_queries import PRIVACY, _consent
from .test_releases import _ready

# The largest profile epsilon: the noise is almost never above 1 (scale about 0.1), so the estimate is
# within 2 of the exact number of people with overwhelming probability (about e^-20 otherwise).
PROFILED = {**PRIVACY, "cl:profileEpsilon": "10"}


def _file(subjects: list[str], others: int) -> bytes:
    rows = [f"{s},{'AB'[i % 2]},{i % 21}" for i, s in enumerate(subjects)]
    rows += [f"0x{os.urandom(20).hex()},A,{i % 21}" for i in range(others)]
    return ("subject,zone,visits\n" + "\n".join(rows) + "\n").encode()


def _counts(room, dataset_id: int) -> dict:
    r = room.client().get(f"/api/datasets/{dataset_id}/consent-counts")
    assert r.status_code == 200, r.text
    return r.json()


def _sci(doc: dict) -> dict:
    (row,) = [c for c in doc["counts"] if c["purpose_name"] == "ScientificResearch"]
    return row


def _profile_now(room, dataset_id: int) -> None:
    """What a researcher's first question with a representativeness report does: the population
    profile computed from the stored file at the declared epsilon, and kept (private.py)."""
    engine = make_engine(room.db_url)
    with engine.connect() as c:
        row = queries.dataset_row(c, dataset_id)
    engine.dispose()
    data_dir = room.cfg.data_dir
    decl = parse_declaration(service.privacy_declaration(row, MetadataStore(metadata_dir(data_dir=data_dir))))
    files = open_store(data_dir)
    load = lambda: stored_table(files, data_dir, row["content_hash"], decl)  # noqa: E731
    kept_profile(data_dir, row["content_hash"], row["metadata_hash"], decl, load)


def _spending(room) -> tuple[int, int, int]:
    """What showing a share must not change: the chain's private answers and releases, and the data
    room operator's sent transactions."""
    registry = room.chain.contract("AccessRegistry").functions
    operator = room.chain.accounts[OPERATOR_ACCOUNT].address
    return (
        registry.query_count().call(),
        registry.release_count().call(),
        room.chain.w3.eth.get_transaction_count(operator),
    )


def test_the_share_is_consents_over_the_kept_noisy_count_of_people(room, tmp_path, monkeypatch):
    subjects = [Account.create() for _ in range(12)]
    dataset_id = _publish(
        room, tmp_path, "share.csv", _file([s.address.lower() for s in subjects], 28), personal=True, privacy=PROFILED
    )
    _consent(room, dataset_id, subjects)
    _ready(room)
    kept = lambda: sorted(profiles_dir(room.cfg.data_dir).glob("*.json"))  # noqa: E731
    before, spending = kept(), _spending(room)

    # A page view before any researcher's question: the counts, no share, nothing computed.
    first = _counts(room, dataset_id)
    assert first["population"] is None and "not been estimated yet" in first["no_share_reason"]
    assert _sci(first)["active"] == 12 and _sci(first)["share"] is None and kept() == before

    _profile_now(room, dataset_id)
    doc = _counts(room, dataset_id)
    people = doc["population"]
    assert abs(people["estimate"] - 40) <= 2 and people["low"] <= people["estimate"] <= people["high"]
    assert people["epsilon"] == "10" and people["column"] == "zone" and people["confidence"] == 0.95
    sci = _sci(doc)
    assert sci["active"] == 12 and sci["share"] == round(12 / people["estimate"], 4) and sci["share_capped"] is False
    assert doc["no_share_reason"] is None
    (profile,) = set(kept()) - set(before)  # computed once, at the declared epsilon, and kept
    stored = profile.read_text()
    assert json.loads(stored)["epsilon"] == "10"

    # Asked again: the kept profile answers, the file is not read and nothing is computed or spent again.
    def never(*_args, **_kwargs):
        raise AssertionError("the population profile was computed again")

    monkeypatch.setattr("cityledger.privacy.population_profile", never)
    monkeypatch.setattr("cityledger.privacy.load_table", never)
    assert _counts(room, dataset_id) == doc
    assert profile.read_text() == stored and len(kept()) == len(before) + 1
    assert _spending(room) == spending


def test_the_share_is_capped_when_consents_exceed_the_estimate(room, tmp_path):
    # Twelve people consent to research on a file of three rows: consents can come from people who are
    # not in the file (a consent is given to a dataset, not to a row).
    subjects = [Account.create() for _ in range(12)]
    dataset_id = _publish(
        room, tmp_path, "few.csv", _file([s.address.lower() for s in subjects[:3]], 0), personal=True, privacy=PROFILED
    )
    _consent(room, dataset_id, subjects)
    _ready(room)
    _profile_now(room, dataset_id)
    doc = _counts(room, dataset_id)
    assert doc["population"]["estimate"] <= 5
    assert _sci(doc) == {**_sci(doc), "active": 12, "share": 1.0, "share_capped": True}


@pytest.mark.parametrize(
    ("personal", "privacy", "says"),
    [
        (True, PRIVACY, "has not declared a privacy-protected count"),  # no cl:profileEpsilon
        (True, None, "has not declared a privacy-protected count"),  # no cl:privacy at all
        (True, {**PROFILED, "cl:contributionsPerSubject": 3}, "several rows"),
        (False, None, "not about individual people"),
    ],
)
def test_no_share_without_a_kept_count_of_people(room, tmp_path, personal, privacy, says):
    subjects = [Account.create() for _ in range(2)]
    data = _file([s.address.lower() for s in subjects], 4)
    dataset_id = _publish(room, tmp_path, "plain.csv", data, personal=personal, privacy=privacy)
    _consent(room, dataset_id, subjects)
    _ready(room)
    before = sorted(profiles_dir(room.cfg.data_dir).glob("*.json"))
    doc = _counts(room, dataset_id)
    assert doc["population"] is None and says in doc["no_share_reason"]
    assert _sci(doc) == {**_sci(doc), "active": 2, "share": None, "share_capped": None}  # the counts stay
    assert sorted(profiles_dir(room.cfg.data_dir).glob("*.json")) == before  # nothing computed


def test_a_page_view_never_reads_the_file_nor_computes_a_profile(room, tmp_path, monkeypatch):
    # Stored or not, a page view reads no data file: a file this node does not hold shows the counts.
    def never(*_args, **_kwargs):
        raise AssertionError("a page view read the data file or computed a profile")

    monkeypatch.setattr("cityledger.privacy.population_profile", never)
    monkeypatch.setattr("cityledger.privacy.load_table", never)
    subject = Account.create().address.lower()
    for stored in (True, False):
        data = _file([subject], 3 + stored)  # other bytes each time
        dataset_id = _publish(
            room, tmp_path, f"view-{stored}.csv", data, personal=True, stored=stored, privacy=PROFILED
        )
        _ready(room)
        doc = _counts(room, dataset_id)
        assert doc["population"] is None and "not been estimated yet" in doc["no_share_reason"]


def test_a_kept_profile_that_cannot_be_read_shows_no_share(room, tmp_path):
    subjects = [Account.create()]
    dataset_id = _publish(room, tmp_path, "torn.csv", _file([subjects[0].address.lower()], 3), personal=True,
                          privacy=PROFILED)  # fmt: skip
    _ready(room)
    _profile_now(room, dataset_id)
    engine = make_engine(room.db_url)
    with engine.connect() as c:
        row = queries.dataset_row(c, dataset_id)
    engine.dispose()
    (path,) = profiles_dir(room.cfg.data_dir).glob(f"{row['content_hash'][2:]}-*.json")
    path.write_text("{not json")
    doc = _counts(room, dataset_id)
    assert doc["population"] is None and "cannot be read" in doc["no_share_reason"]


def test_bad_dataset_refs_keep_their_errors(room):
    unknown = room.client().get(f"/api/datasets/0x{'ab' * 32}/consent-counts")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found", unknown.text
    malformed = room.client().get("/api/datasets/0x12zz/consent-counts")
    assert malformed.status_code in (400, 422) and "0x12zz" in malformed.json()["error"]["message"], malformed.text


def test_an_empty_estimate_shares_nothing():
    counts = {"counts": [{"active": 0}, {"active": 2}]}
    people = {"estimate": 0, "low": 0, "high": 3}
    out = with_shares(counts, people, None)
    assert [(c["share"], c["share_capped"]) for c in out["counts"]] == [(0.0, False), (1.0, True)]
