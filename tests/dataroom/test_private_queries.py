"""Private aggregate answers through the data room (issue 19): the grantee's query is answered with
differential privacy over the consenting subjects' rows and logged on chain with its cost and hash;
every refusal (budget, nonce, another access, no declaration, another account, an ended grant) spends
nothing. The issue's seven bad-input cases (undeclared and unbounded columns, small groups, bad
epsilon, replayed or altered queries, a race for the last of a budget, an expired grant) are in
tests/reliability/test_private_query_attacks.py, on these fixtures."""

from __future__ import annotations

import json
import os

import pytest
from eth_account import Account

from cityledger import codes
from cityledger.chain.tx import transact
from cityledger.dataroom.room import OPERATOR_ACCOUNT
from cityledger.fingerprint.consent_tree import ConsentTree
from cityledger.privacy import parse_declaration, parse_query

from .conftest import sign_in
from .test_download import _publish
from .test_releases import SCI, _grant, _ready

EPS = 10**6
PRIVACY = {
    "cl:subjectColumn": "subject",
    "cl:sampledPopulation": "test subjects of the data room's private answers",
    "cl:k": 2,
    "cl:columns": [
        {"cl:name": "zone", "cl:type": "categorical", "cl:categories": ["A", "B"]},
        {"cl:name": "visits", "cl:type": "integer", "cl:lower": 0, "cl:upper": 20},
    ],
}
# The answered dataset's declaration: also an income column declared without bounds (a sum or mean of
# it is refused: tests/reliability/test_private_query_attacks.py).
ANSWERED = {**PRIVACY, "cl:columns": [*PRIVACY["cl:columns"], {"cl:name": "income", "cl:type": "numeric"}]}
CONSENTING = 12


def _registry(room):
    return room.chain.contract("AccessRegistry")


@pytest.fixture(scope="module")
def dataset(room, tmp_path_factory):
    """A personal dataset declaring cl:privacy: 12 consenting subjects and 3 rows of others; the data
    room's operator named by the publisher. Returns (dataset id, consenting addresses)."""
    w3, acc = room.chain.w3, room.chain.accounts
    subjects = [Account.create() for _ in range(CONSENTING)]
    others = ["0x" + os.urandom(20).hex() for _ in range(3)]
    salt = int.from_bytes(os.urandom(2), "big")
    rows = [f"{s.address.lower()},{'AB'[i % 2]},{(salt + i) % 21},{1000 * i}" for i, s in enumerate(subjects)]
    rows += [f"{o},A,20,5000" for o in others]
    data = ("subject,zone,visits,income\n" + "\n".join(rows) + "\n").encode()
    dataset_id = _publish(room, tmp_path_factory.mktemp("pq"), "answers.csv", data, personal=True, privacy=ANSWERED)
    _consent(room, dataset_id, subjects)
    transact(w3, acc[1], _registry(room).functions.set_release_operator(acc[OPERATOR_ACCOUNT].address, True))
    return dataset_id, [s.address.lower() for s in subjects]


def _consent(room, dataset_id: int, subjects: list) -> None:
    """Each subject (a funded key) consents to scientific research on the dataset by any researcher."""
    w3, consent = room.chain.w3, room.chain.contract("ConsentRegistry")
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    for s in subjects:
        w3.provider.make_request("anvil_setBalance", [s.address, hex(10**18)])
        transact(w3, s, consent.functions.grant(SCI, 1, dataset_id.to_bytes(32, "big"), codes.ANY_RESEARCHER, far))


def _access(room, dataset_id: int, budget: float | None, expiry: int | None = None) -> int:
    access_id = _grant(room, dataset_id, expiry)
    if budget is not None:
        transact(
            room.chain.w3,
            room.chain.accounts[1],
            _registry(room).functions.set_privacy_budget(access_id, int(budget * EPS)),
        )
    _ready(room)
    return access_id


def _researcher(room):
    c = room.client()
    sign_in(c, room.chain.accounts[4])
    return c


def _query(access_id: int, **fields) -> dict:
    return {"statistic": "count", "epsilon": "1", "access_id": access_id, "nonce": os.urandom(6).hex(), **fields}


def _spent(room, access_id: int) -> tuple[int, int]:
    budget, spent = _registry(room).functions.privacy_budget(access_id).call()
    return budget, spent


def test_an_answer_is_logged_on_chain_with_its_cost_and_hash(room, dataset):
    dataset_id, consenting = dataset
    access_id = _access(room, dataset_id, 3)
    c = _researcher(room)
    q = _query(access_id, statistic="mean", column="visits", epsilon="1.5", group_by=["zone"])
    r = c.post(f"/api/access/{access_id}/queries", json=q)
    assert r.status_code == 201, r.text
    a = r.json()
    want_hash = parse_query(q, parse_declaration(ANSWERED)).hash
    assert a["query_hash"] == want_hash and a["epsilon_micro"] == 1_500_000
    assert a["consenting_subjects"] == CONSENTING and a["subject_count"] == CONSENTING
    assert a["consent_root"] == "0x" + ConsentTree.build(consenting).root.hex()
    assert [g["key"] for g in a["groups"]] == [{"zone": "A"}, {"zone": "B"}]
    for g in a["groups"]:  # each answer comes with its interval
        if not g["suppressed"]:
            assert g["mean"]["low"] <= g["mean"]["value"] <= g["mean"]["high"]
    assert a["budget"] == {
        "budget": "3",
        "spent": "1.5",
        "remaining": "1.5",
        "budget_micro": 3 * EPS,
        "spent_micro": 1_500_000,
        "remaining_micro": 1_500_000,
    }
    assert "rows" not in a and consenting[0] not in r.text  # no row, no subject leaves

    # The chain records it: cost, hash, consent root and size, the operator, the spent total.
    registry = _registry(room)
    receipt = room.chain.w3.eth.get_transaction_receipt(a["tx_hash"])
    (event,) = registry.events.PrivateQueryLogged().process_receipt(receipt)
    args = event["args"]
    assert args["query_id"] == a["query_id"] and args["access_id"] == access_id and args["dataset_id"] == dataset_id
    assert args["epsilon_spent"] == 1_500_000 and "0x" + args["query_hash"].hex() == want_hash
    assert "0x" + args["consent_root"].hex() == a["consent_root"] and args["subject_count"] == CONSENTING
    assert args["logged_by"] == room.chain.accounts[OPERATOR_ACCOUNT].address
    assert _spent(room, access_id) == (3 * EPS, 1_500_000)

    # The index shows it on the access's queries and budget.
    _ready(room)
    listed = room.client().get(f"/api/access/{access_id}/queries").json()["items"]
    assert [x["query_hash"] for x in listed] == [want_hash]
    assert room.client().get(f"/api/access/{access_id}/budget").json()["spent_micro"] == 1_500_000


@pytest.mark.parametrize(
    ("fields", "code", "says"),
    [
        ({"epsilon": "2.5"}, "budget_exceeded", "has 2 of its budget 2 left"),
        ({"nonce": None}, "query_refused", "nonce"),
        ({"access_id": 999_999}, "query_refused", "access_id"),
        ({"representativeness": "0.1"}, "query_refused", "representativeness"),
    ],
)
def test_refusals_spend_nothing(room, dataset, fields, code, says, monkeypatch):
    access_id = _access(room, dataset[0], 2)

    def never(*_args, **_kwargs):
        raise AssertionError("a refused query read the file or computed")

    monkeypatch.setattr("cityledger.privacy.load_table", never)
    monkeypatch.setattr("cityledger.privacy.run_query", never)
    before = _registry(room).functions.query_count().call()
    q = {k: v for k, v in {**_query(access_id), **fields}.items() if v is not None}
    r = _researcher(room).post(f"/api/access/{access_id}/queries", json=q)
    assert r.json()["error"]["code"] == code, r.text
    assert r.status_code == (409 if code == "budget_exceeded" else 422)
    assert says in r.json()["error"]["message"]
    assert _registry(room).functions.query_count().call() == before
    assert _spent(room, access_id) == (2 * EPS, 0)


def test_no_budget_set_admits_no_answer(room, dataset):
    access_id = _access(room, dataset[0], None)
    r = _researcher(room).post(f"/api/access/{access_id}/queries", json=_query(access_id))
    assert r.status_code == 409 and r.json()["error"]["code"] == "budget_exceeded"


def test_a_dataset_without_a_declaration_answers_nothing(room, dataset, tmp_path):
    w3 = room.chain.w3
    rows = f"subject,visits\n{room.chain.accounts[6].address.lower()},{int.from_bytes(os.urandom(2), 'big')}\n"
    plain = _publish(room, tmp_path, "plain.csv", rows.encode(), personal=True)
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    consent = room.chain.contract("ConsentRegistry")
    transact(
        w3,
        room.chain.accounts[6],
        consent.functions.grant(SCI, 1, plain.to_bytes(32, "big"), codes.ANY_RESEARCHER, far),
    )
    access_id = _access(room, plain, 5)
    r = _researcher(room).post(f"/api/access/{access_id}/queries", json=_query(access_id))
    assert r.status_code == 422 and "declares no cl:privacy" in r.json()["error"]["message"], r.text
    assert _spent(room, access_id) == (5 * EPS, 0)


def test_only_the_grantee_of_a_live_access_is_answered(room, dataset):
    access_id = _access(room, dataset[0], 5)
    for who in (1, 9):  # the publisher, a citizen
        c = room.client()
        sign_in(c, room.chain.accounts[who])
        r = c.post(f"/api/access/{access_id}/queries", json=_query(access_id))
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    assert room.client().post(f"/api/access/{access_id}/queries", json=_query(access_id)).status_code == 401

    # Ended on chain, not yet in the index: refused from the chain.
    transact(room.chain.w3, room.chain.accounts[1], _registry(room).functions.end_access(access_id))
    r = _researcher(room).post(f"/api/access/{access_id}/queries", json=_query(access_id))
    assert r.status_code == 403 and r.json()["error"]["code"] == "access_not_live", r.text
    assert _spent(room, access_id) == (5 * EPS, 0)


def test_cli_private_query_signs_in_and_prints_the_answer(room, dataset, cli, through_app, tmp_path):
    access_id = _access(room, dataset[0], 8)
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"statistic": "count", "epsilon": "3", "group_by": ["zone"]}))
    code, out, err = cli("private-query", access_id, "--query", path, "--api", "http://testserver")
    assert code == 0, err
    assert "count, epsilon 3 (95% intervals):" in out and "zone=A: count" in out
    assert "budget: spent 3 of 8, 5 left" in out
    # Run again: a fresh nonce, a new question, spent again; --json gives the whole answer.
    code, out, err = cli("private-query", access_id, "--query", path, "--api", "http://testserver", "--json")
    assert code == 0, err
    assert json.loads(out)["budget"]["spent_micro"] == 6 * EPS == _spent(room, access_id)[1]

    # A refusal is one line, and nothing is spent.
    path.write_text(json.dumps({"statistic": "count", "epsilon": "5"}))
    code, out, err = cli("private-query", access_id, "--query", path, "--api", "http://testserver")
    assert code == 1 and "has 2 of its budget 8 left" in err, err
    path.write_text("[1]")
    code, _, err = cli("private-query", access_id, "--query", path, "--api", "http://testserver")
    assert code == 1 and "a query is a JSON object" in err
    assert _spent(room, access_id) == (8 * EPS, 6 * EPS)


def test_the_replay_check_reads_the_chain_only_past_the_finalized_index(room, dataset):
    """Answers up to the index's finalized block come from the index; the chain's logs are read from
    the block after it only. Reading them from the grant block made a provider with eth_getLogs range
    caps refuse the check (503) once the grant was 10,000 blocks old."""
    from sqlalchemy import create_engine, select

    from cityledger.dataroom.private import logged_hashes
    from cityledger.indexer.models import Checkpoint

    access_id = _access(room, dataset[0], 2)
    q = _query(access_id)
    assert _researcher(room).post(f"/api/access/{access_id}/queries", json=q).status_code == 201
    room.mine(3)
    room.index()
    asked: list[int] = []

    class Logs:  # the chain's side, recording the range asked for; it holds nothing past the index
        def get_logs(self, from_block, argument_filters):
            asked.append(from_block)
            return []

    class Registry:
        class events:
            PrivateQueryLogged = Logs

    engine = create_engine(room.db_url)
    try:
        with engine.connect() as conn:
            final = conn.execute(select(Checkpoint.finalized_block)).scalar()
        granted = _registry(room).functions.granted_block(access_id).call()
        hashes = logged_hashes(engine, Registry(), access_id, granted)
    finally:
        engine.dispose()
    assert parse_query(q, parse_declaration(ANSWERED)).hash in hashes  # from the index
    assert asked == [final + 1] and final + 1 > granted


def test_representativeness_reports_beside_an_answer_and_a_release(room, dataset, tmp_path):
    # (`dataset`: its fixture names the data room's operator for the publisher)
    # A dataset declaring cl:profileEpsilon: the population profile is computed once (at that epsilon,
    # over every row, consenting or not) and kept; each answer asking for a report spends its own
    # epsilon on the consented side only, and gets the comparison per declared categorical column.
    from cityledger.dataroom.profiles import profiles_dir

    subjects = [Account.create() for _ in range(CONSENTING)]
    rows = [f"{s.address.lower()},{'AB'[i % 2]},{i % 21}" for i, s in enumerate(subjects)]
    rows += [f"0x{os.urandom(20).hex()},A,3" for _ in range(12)]  # others: all in zone A
    data = ("subject,zone,visits\n" + "\n".join(rows) + "\n").encode()
    declared = {**PRIVACY, "cl:profileEpsilon": "1"}
    dataset_id = _publish(room, tmp_path, "report.csv", data, personal=True, privacy=declared)
    _consent(room, dataset_id, subjects)
    access_id = _access(room, dataset_id, 4)
    c = _researcher(room)
    kept = lambda: sorted(profiles_dir(room.cfg.data_dir).glob("*.json"))  # noqa: E731
    before = kept()

    r = c.post(f"/api/access/{access_id}/queries", json=_query(access_id, representativeness="0.5"))
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["epsilon_micro"] == 1_500_000 and _spent(room, access_id) == (4 * EPS, 1_500_000)
    report = a["representativeness"]
    assert report["population_epsilon"] == "1" and report["consented_epsilon"] == "0.5"
    assert report["sampled_population"] == PRIVACY["cl:sampledPopulation"]
    (zone,) = report["columns"]
    assert zone["column"] == "zone" and [x["category"] for x in zone["categories"]] == ["A", "B"]
    assert zone["total_variation_low"] <= zone["total_variation"] <= zone["total_variation_high"]
    (profile,) = set(kept()) - set(before)
    stored = profile.read_text()
    assert json.loads(stored)["epsilon"] == "1"

    # Asked again: the kept profile is reused (nothing more is spent on the people who never consented).
    again = c.post(f"/api/access/{access_id}/queries", json=_query(access_id, representativeness="0.5"))
    assert again.status_code == 201, again.text
    assert len(kept()) == len(before) + 1 and profile.read_text() == stored
    assert again.json()["representativeness"]["columns"][0]["column"] == "zone"

    # A release of the same access: its rows counted exactly (the grantee holds them) against the same
    # kept profile, which is not computed again.
    rel = c.post(f"/api/access/{access_id}/releases", json={})
    assert rel.status_code == 201, rel.text
    report = rel.json()["representativeness"]
    assert report["population_epsilon"] == "1" and report["consented_epsilon"] is None
    (zone,) = report["columns"]
    assert {x["category"]: x["consented_share"] for x in zone["categories"]} == {"A": 0.5, "B": 0.5}
    assert report["not_compared"] == []
    assert len(kept()) == len(before) + 1 and profile.read_text() == stored


def test_a_release_does_not_compare_a_column_it_generalised(room, dataset, tmp_path):
    # (`dataset`: its fixture names the data room's operator for the publisher.) The zone must go
    # ("*") for 6 + 6 consenting rows to be 7-anonymous: its released labels are not the profile's
    # categories, so the report names it instead of comparing it.
    subjects = [Account.create() for _ in range(CONSENTING)]
    rows = [f"{s.address.lower()},{'AB'[i % 2]},{i % 21}" for i, s in enumerate(subjects)]
    data = ("subject,zone,visits\n" + "\n".join(rows) + "\n").encode()
    zone = {**PRIVACY["cl:columns"][0], "cl:quasiIdentifier": True, "cl:hierarchy": ["*"]}
    declared = {**PRIVACY, "cl:k": 7, "cl:profileEpsilon": "1", "cl:columns": [zone, PRIVACY["cl:columns"][1]]}
    dataset_id = _publish(room, tmp_path, "coarse.csv", data, personal=True, privacy=declared)
    _consent(room, dataset_id, subjects)
    access_id = _access(room, dataset_id, None)
    rel = _researcher(room).post(f"/api/access/{access_id}/releases", json={})
    assert rel.status_code == 201, rel.text
    assert rel.json()["k_anonymity"] == CONSENTING
    report = rel.json()["representativeness"]
    assert report["columns"] == [] and report["not_compared"] == ["zone"]


class Crash(Exception):
    """The API process dying at a chosen point (the test client re-raises it)."""


def test_an_answer_whose_epsilon_was_spent_is_kept_through_a_crash_and_given_back_not_recomputed(
    room, dataset, monkeypatch
):
    from cityledger.dataroom import private

    access_id = _access(room, dataset[0], 4)
    c = _researcher(room)
    q = _query(access_id, statistic="mean", column="visits", epsilon="1")
    real_keep = private._keep
    with monkeypatch.context() as m:  # log_query is mined, then the API dies before it answers
        m.setattr(private, "_keep", lambda *a, **k: (_ for _ in ()).throw(Crash("died after the log")))
        with pytest.raises(Crash):
            c.post(f"/api/access/{access_id}/queries", json=q)
    assert _spent(room, access_id) == (4 * EPS, EPS)  # the epsilon is gone on chain

    # The same question again (same nonce): refused as a replay, pointing at the kept answer, nothing spent.
    kept_calls = []
    monkeypatch.setattr(private, "_keep", lambda *a, **k: kept_calls.append(1) or real_keep(*a, **k))
    again = c.post(f"/api/access/{access_id}/queries", json=q)
    assert again.status_code == 409 and again.json()["error"]["code"] == "query_replayed", again.text
    want = parse_query(q, parse_declaration(ANSWERED)).hash
    assert f"GET /api/access/{access_id}/answers?query_hash={want}" in again.json()["error"]["message"]
    assert kept_calls == [1]  # the settle before the check completed the kept answer from its receipt
    assert _spent(room, access_id) == (4 * EPS, EPS)

    # The grantee reads it back: the answer computed before the crash, with its on-chain record.
    got = c.get(f"/api/access/{access_id}/answers", params={"query_hash": want})
    assert got.status_code == 200, got.text
    [a] = got.json()["items"]
    assert a["query_hash"] == want and a["epsilon_micro"] == EPS and a["budget"]["spent_micro"] == EPS
    on_chain = (
        _registry(room).events.PrivateQueryLogged().get_logs(from_block=0, argument_filters={"access_id": access_id})
    )
    assert [int(e["args"]["query_id"]) for e in on_chain] == [a["query_id"]]
    assert a["tx_hash"] == "0x" + bytes(on_chain[0]["transactionHash"]).hex()
    # Only its grantee: another account's session gets 403, no session 401.
    other = room.client()
    sign_in(other, room.chain.accounts[5])
    assert other.get(f"/api/access/{access_id}/answers").status_code == 403
    assert room.client().get(f"/api/access/{access_id}/answers").status_code == 401
    assert c.get(f"/api/access/{access_id}/answers", params={"query_hash": "0x12"}).status_code == 400
    # A normal answer is kept too, newest first.
    fresh = c.post(f"/api/access/{access_id}/queries", json=_query(access_id))
    assert fresh.status_code == 201, fresh.text
    listed = c.get(f"/api/access/{access_id}/answers").json()
    assert listed["total"] == 2 and [x["query_id"] for x in listed["items"]] == [
        fresh.json()["query_id"],
        a["query_id"],
    ]
    assert listed["items"][0] == fresh.json()


def test_an_answer_whose_log_never_left_spends_nothing_and_is_forgotten(room, dataset, monkeypatch):
    from sqlalchemy import create_engine, func, select

    from cityledger.dataroom import private
    from cityledger.dataroom.models import StoredAnswer
    from cityledger.dataroom.obligations import follow_once

    access_id = _access(room, dataset[0], 2)
    c = _researcher(room)
    q = _query(access_id)
    real_transact = private.transact

    def dies_before_sending(w3, account, fn, **kwargs):
        def recorded_then_crash(tx_hash, nonce):
            kwargs["on_signed"](tx_hash, nonce)
            raise Crash("died between signing and sending")

        return real_transact(w3, account, fn, **{**kwargs, "on_signed": recorded_then_crash})

    with monkeypatch.context() as m:
        m.setattr(private, "transact", dies_before_sending)
        with pytest.raises(Crash):
            c.post(f"/api/access/{access_id}/queries", json=q)
    engine = create_engine(room.db_url)

    def stored() -> int:
        with engine.connect() as conn:
            table = StoredAnswer.__table__
            return conn.execute(select(func.count()).select_from(table).where(table.c.access_id == access_id)).scalar()

    try:
        assert stored() == 1 and _spent(room, access_id) == (2 * EPS, 0)
        # Asked again while its transaction is neither mined nor replaced: 503, nothing computed.
        busy = c.post(f"/api/access/{access_id}/queries", json=q)
        assert busy.status_code == 503 and "being logged" in busy.json()["error"]["message"], busy.text
        # The operator's next transaction takes the nonce: the deletion loop's pass forgets the answer.
        w3, operator = room.chain.w3, room.chain.accounts[OPERATOR_ACCOUNT]
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": operator.address, "to": operator.address, "value": 0})
        )
        passed = follow_once(engine, w3, room.chain.deployment, operator, room.cfg.data_dir, room.cfg)
        assert passed.pending == {"made": 0, "dropped": 1, "waiting": 0}
        assert stored() == 0 and _spent(room, access_id) == (2 * EPS, 0)
    finally:
        engine.dispose()
    # Now the same question is simply answered, and spent once.
    r = c.post(f"/api/access/{access_id}/queries", json=q)
    assert r.status_code == 201, r.text
    assert _spent(room, access_id) == (2 * EPS, EPS)


def test_cli_private_query_asked_again_with_its_nonce_shows_the_kept_answer(room, dataset, cli, through_app, tmp_path):
    access_id = _access(room, dataset[0], 3)
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"statistic": "count", "epsilon": "1", "nonce": "kept-" + os.urandom(4).hex()}))
    code, first, err = cli("private-query", access_id, "--query", path, "--api", "http://testserver", "--json")
    assert code == 0, err
    code, out, err = cli("private-query", access_id, "--query", path, "--api", "http://testserver")
    assert code == 0, err
    assert "asked before with this nonce" in out and "budget: spent 1 of 3, 2 left" in out
    assert _spent(room, access_id) == (3 * EPS, EPS)
    code, again, err = cli("private-query", access_id, "--query", path, "--api", "http://testserver", "--json")
    assert code == 0, err
    assert {**json.loads(first), "replayed": True} == json.loads(again)
