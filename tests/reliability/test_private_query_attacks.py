# ruff: noqa: F811 (the fixtures of tests/dataroom are imported by name, and tests take them as arguments)
"""Bad input and attacks on private answers (issue 19, "Bad input and attacks"), through the data
room on a real chain and the real indexer: each is refused with one clear error and nothing spent: the
access's budget and spent epsilon on chain, the chain's count of logged answers and the index's answers
of the access are compared before and after. The fixtures and the rest of the flow are
tests/dataroom/test_private_queries.py's; RELIABILITY.md lists these."""

from __future__ import annotations

import threading

import pytest
from dataroom.conftest import room  # noqa: F401 (a fixture of tests/dataroom)
from dataroom.test_private_queries import EPS, _access, _query, _registry, _researcher, dataset  # noqa: F401
from dataroom.test_releases import _ready

import cityledger.privacy
from cityledger.privacy import parse_query


def _record(room, access_id: int, *, index: bool = True) -> tuple:
    """What a refused query must not change: the access's (budget, spent) on chain, the number of
    answers logged on chain, and the access's answers in the index (brought up to the chain first;
    not inside a chain snapshot that is reverted afterwards: the index would see a reorg)."""
    logged = None
    if index:
        _ready(room)
        logged = [q["query_hash"] for q in room.client().get(f"/api/access/{access_id}/queries").json()["items"]]
    registry = _registry(room).functions
    return tuple(registry.privacy_budget(access_id).call()), registry.query_count().call(), logged


def _refused(answer, status: int, code: str, says: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and says in error["message"], error
    assert "\n" not in error["message"]  # one clear sentence


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"statistic": "sum", "column": "age"}, "age"),  # an undeclared column
        ({"statistic": "sum", "column": "subject"}, "subject"),  # the subject column is never a value
        ({"statistic": "mean", "column": "income"}, "'income' has no declared bounds"),  # an unbounded column
        ({"statistic": "sum", "column": "income"}, "'income' has no declared bounds"),
        ({"epsilon": "-1"}, "above 0"),
        ({"epsilon": "0"}, "above 0"),
        ({"epsilon": "NaN"}, "finite"),
    ],
)
def test_a_query_the_declaration_refuses_reads_and_spends_nothing(room, dataset, fields, says, monkeypatch):
    access_id = _access(room, dataset[0], 2)

    def never(*_args, **_kwargs):
        raise AssertionError("a refused query read the file or computed")

    monkeypatch.setattr("cityledger.privacy.load_table", never)
    monkeypatch.setattr("cityledger.privacy.run_query", never)
    before = _record(room, access_id)
    r = _researcher(room).post(f"/api/access/{access_id}/queries", json=_query(access_id, **fields))
    _refused(r, 422, "query_refused", says)
    assert "nothing was spent" in r.json()["error"]["message"]
    assert _record(room, access_id) == before == ((2 * EPS, 0), before[1], [])


def test_a_group_by_that_would_leak_small_groups_is_refused(room, dataset):
    # At epsilon 0.01 a group needs a noisy count far above the 12 consenting subjects to be shown (k plus
    # the noise's accuracy): every group would be suppressed, so the query is refused before it runs.
    access_id = _access(room, dataset[0], 2)
    before = _record(room, access_id)
    q = _query(access_id, epsilon="0.01", group_by=["zone"])
    r = _researcher(room).post(f"/api/access/{access_id}/queries", json=q)
    _refused(r, 422, "query_refused", "every group would be suppressed")
    assert _record(room, access_id) == before and before[0] == (2 * EPS, 0)


def test_a_replayed_query_is_refused(room, dataset):
    access_id = _access(room, dataset[0], 3)
    c = _researcher(room)
    q = _query(access_id, epsilon="1.5")
    assert c.post(f"/api/access/{access_id}/queries", json=q).status_code == 201
    before = _record(room, access_id)
    assert before[0] == (3 * EPS, 1_500_000) and len(before[2]) == 1
    # The same query again, from another session too: refused, nothing spent.
    for client in (c, _researcher(room)):
        _refused(client.post(f"/api/access/{access_id}/queries", json=q), 409, "query_replayed", "a replay is refused")
        assert _record(room, access_id) == before
    # A new nonce is a new question, answered and spent.
    fresh = c.post(f"/api/access/{access_id}/queries", json={**q, "nonce": "another"})
    assert fresh.status_code == 201, fresh.text
    assert _record(room, access_id)[0] == (3 * EPS, 3 * EPS)


def test_a_query_altered_after_its_budget_was_reserved_is_refused(room, dataset, monkeypatch):
    # The data room reserves the budget under the query's hash, then runs it with reserved_hash: a query
    # changed in between (here, asking for ten times the epsilon) is refused by the engine, unrun.
    access_id = _access(room, dataset[0], 2)
    real = cityledger.privacy.run_query

    def altered(query, table, consenting, **kwargs):
        doc = {**query.to_json(), "epsilon": "10"}
        return real(parse_query(doc, table.declaration), table, consenting, **kwargs)

    monkeypatch.setattr("cityledger.privacy.run_query", altered)
    before = _record(room, access_id)
    r = _researcher(room).post(f"/api/access/{access_id}/queries", json=_query(access_id))
    _refused(r, 422, "query_refused", "the query was altered")
    assert _record(room, access_id) == before and before[0] == (2 * EPS, 0)


def test_two_answers_racing_for_the_last_of_a_budget(room, dataset):
    access_id = _access(room, dataset[0], 1)
    clients = [_researcher(room), _researcher(room)]  # two sessions, as from two tabs or machines
    start = threading.Barrier(2)
    answers: list = [None, None]

    def ask(i: int) -> None:
        start.wait()
        answers[i] = clients[i].post(f"/api/access/{access_id}/queries", json=_query(access_id))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    _refused(next(a for a in answers if a.status_code == 409), 409, "budget_exceeded", "nothing was computed or spent")
    # Exactly one answer spent and is recorded: the loser left no trace.
    (budget, spent), _, logged = _record(room, access_id)
    winner = next(a for a in answers if a.status_code == 201).json()
    assert (budget, spent) == (EPS, EPS) and logged == [winner["query_hash"]]


def test_an_expired_grant_is_refused(room, dataset):
    w3 = room.chain.w3
    access_id = _access(room, dataset[0], 5, expiry=w3.eth.get_block("latest")["timestamp"] + 3600)
    c = _researcher(room)
    snapshot = room.chain.snapshot()
    try:
        w3.provider.make_request("evm_increaseTime", [7200])
        w3.provider.make_request("evm_mine", [])
        before = _record(room, access_id, index=False)
        r = c.post(f"/api/access/{access_id}/queries", json=_query(access_id))
        _refused(r, 403, "access_not_live", str(access_id))
        assert _record(room, access_id, index=False) == before and before[0] == (5 * EPS, 0)
    finally:
        room.chain.revert(snapshot)
    assert _record(room, access_id)[2] == []  # and the index holds no answer of it
