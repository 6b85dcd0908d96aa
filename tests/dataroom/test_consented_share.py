"""The consented share per purpose on the dataset page (issue 19 item 4): the public consent count over
the number of people in the file, as the data room's kept population profile counts them (noisy, at
the declared cl:profileEpsilon, computed once per file); capped at 100 %; none, with one sentence why,
for a dataset without a profile or without personal data. Nothing is spent on chain to show it."""

from __future__ import annotations

import json
import os

import pytest
from eth_account import Account

from cityledger.dataroom.profiles import profiles_dir, with_shares
from cityledger.dataroom.room import OPERATOR_ACCOUNT

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


def test_a_file_this_node_does_not_hold_shows_no_share(room, tmp_path):
    subjects = [Account.create()]
    data = _file([subjects[0].address.lower()], 3)
    dataset_id = _publish(room, tmp_path, "elsewhere.csv", data, personal=True, stored=False, privacy=PROFILED)
    _ready(room)
    doc = _counts(room, dataset_id)
    assert doc["population"] is None and "does not hold the dataset's file" in doc["no_share_reason"]


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
