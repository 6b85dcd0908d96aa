"""RightsRegistry: filing, answering, withdrawing, deadlines."""

import boa
import pytest
from contracts_kit import DAY, ROLE_PUBLISHER, account, h, word

RESPONSE = 30 * DAY
FULFILLED, REFUSED, WITHDRAWN, REJECTED = 2, 3, 4, 5


def _file(s, citizen, kind=3, target_kind=1, target=None, details="d"):
    with s.as_(citizen):
        return s.rights.file_request(
            kind,
            target_kind,
            word(s.agency.address) if target is None else target,
            h(details) if details else b"\0" * 32,
        )


def test_file_against_publisher(system):
    s, c = system, system.citizens[0]
    assert s.rights.RESPONSE_PERIOD() == RESPONSE
    rid = _file(s, c)
    (ev,) = events_of(s)
    deadline = boa.env.timestamp + RESPONSE
    assert (
        ev.request_id,
        ev.citizen,
        ev.publisher,
        ev.kind,
        ev.target_kind,
        ev.target,
        ev.details_hash,
        ev.deadline,
    ) == (rid, c.address, s.agency.address, 3, 1, word(s.agency.address), h("d"), deadline)
    assert s.rights.request(rid) == (c.address, s.agency.address, 3, 1, word(s.agency.address), 1, deadline)
    assert s.rights.request_count() == 1
    assert s.rights.open_requests(c.address, s.agency.address) == 1


def events_of(s, name="RightsRequestFiled"):
    return [e for e in s.rights.get_logs() if type(e).__name__ == name]


def test_file_against_dataset_routes_to_its_publisher(system):
    s, c = system, system.citizens[0]
    did = s.register(s.business, "meters")
    rid = _file(s, c, kind=1, target_kind=2, target=word(did))
    deadline = boa.env.timestamp + RESPONSE
    assert s.rights.request(rid) == (c.address, s.business.address, 1, 2, word(did), 1, deadline)
    with s.as_(s.business):
        s.rights.answer_request(rid, FULFILLED, h("export"))
    assert s.rights.request(rid)[4:6] == (word(did), FULFILLED)
    assert s.rights.request(rid + 1) == ("0x" + "00" * 20, "0x" + "00" * 20, 0, 0, b"\0" * 32, 0, 0)


@pytest.mark.parametrize(
    "kind,tk,target,details,reason",
    [
        (0, 1, None, "d", "rights: unknown request kind"),
        (9, 1, None, "d", "rights: unknown request kind"),
        (1, 1, None, None, "rights: empty details hash"),
        (1, 0, None, "d", "rights: unknown target kind"),
        (1, 3, None, "d", "rights: unknown target kind"),
        (1, 1, b"\1" * 32, "d", "rights: target is not an address"),
        (1, 1, "researcher", "d", "rights: target is not a publisher"),
        (1, 2, 77, "d", "rights: unknown dataset"),
    ],
)
def test_file_rejects(system, kind, tk, target, details, reason):
    s, c = system, system.citizens[0]
    if target == "researcher":
        target = word(s.researcher.address)
    elif isinstance(target, int):
        target = word(target)
    with boa.reverts(reason):
        _file(s, c, kind, tk, target, details)
    assert s.rights.request_count() == 0


@pytest.mark.parametrize("outcome", [FULFILLED, REFUSED, REJECTED])
def test_answer(system, outcome):
    s, c = system, system.citizens[0]
    rid = _file(s, c)
    with s.as_(s.business), boa.reverts("rights: caller is not the responsible publisher"):
        s.rights.answer_request(rid, FULFILLED, h("a"))
    with s.as_(c), boa.reverts("rights: caller is not the responsible publisher"):
        s.rights.answer_request(rid, FULFILLED, h("a"))
    with s.as_(s.agency), boa.reverts("rights: empty answer hash"):
        s.rights.answer_request(rid, FULFILLED, b"\0" * 32)
    for bad in (0, 1, WITHDRAWN, 6, 255):
        with s.as_(s.agency), boa.reverts("rights: outcome must be 2, 3 or 5"):
            s.rights.answer_request(rid, bad, h("a"))
    with s.as_(s.agency):
        s.rights.answer_request(rid, outcome, h("a"))
    (ev,) = events_of(s, "RightsRequestAnswered")
    assert (ev.request_id, ev.citizen, ev.publisher, ev.outcome, ev.answer_hash, ev.late) == (
        rid,
        c.address,
        s.agency.address,
        outcome,
        h("a"),
        False,
    )
    assert s.rights.request(rid)[5] == outcome
    assert s.rights.open_requests(c.address, s.agency.address) == 0
    with s.as_(s.agency), boa.reverts("rights: request is not open"):
        s.rights.answer_request(rid, FULFILLED, h("a"))
    with s.as_(c), boa.reverts("rights: request is not open"):
        s.rights.withdraw_request(rid)
    with s.as_(s.agency), boa.reverts("rights: unknown request"):
        s.rights.answer_request(rid + 1, FULFILLED, h("a"))


def test_deadline_and_overdue(system):
    s, c = system, system.citizens[0]
    rid = _file(s, c)
    assert not s.rights.is_overdue(rid)
    boa.env.time_travel(seconds=RESPONSE)
    assert not s.rights.is_overdue(rid)  # due at the deadline itself
    boa.env.time_travel(seconds=1)
    assert s.rights.is_overdue(rid)
    assert not s.rights.is_overdue(rid + 1)
    with s.as_(s.agency):
        s.rights.answer_request(rid, REFUSED, h("late answer"))
    (ev,) = events_of(s, "RightsRequestAnswered")
    assert ev.late is True
    assert not s.rights.is_overdue(rid)


def test_withdraw(system):
    s, c = system, system.citizens[0]
    rid = _file(s, c)
    with s.as_(s.citizens[1]), boa.reverts("rights: caller is not the citizen"):
        s.rights.withdraw_request(rid)
    with s.as_(s.agency), boa.reverts("rights: caller is not the citizen"):
        s.rights.withdraw_request(rid)
    with s.as_(c):
        s.rights.withdraw_request(rid)
    (ev,) = events_of(s, "RightsRequestWithdrawn")
    assert (ev.request_id, ev.citizen, ev.publisher) == (rid, c.address, s.agency.address)
    assert s.rights.request(rid)[5] == WITHDRAWN
    assert s.rights.open_requests(c.address, s.agency.address) == 0
    boa.env.time_travel(seconds=RESPONSE + 1)
    assert not s.rights.is_overdue(rid)
    with s.as_(s.agency), boa.reverts("rights: request is not open"):
        s.rights.answer_request(rid, FULFILLED, h("a"))


def test_open_requests_per_publisher_are_bounded(system):
    """One address can keep at most MAX_OPEN_REQUESTS open to one publisher (finding 7);
    other publishers, other citizens and closed requests are not counted."""
    s, c = system, system.citizens[0]
    limit = s.rights.MAX_OPEN_REQUESTS()
    assert limit == 16
    did = s.register(s.agency, "census")
    ids = [_file(s, c, details=f"d{i}") for i in range(limit - 1)]
    ids.append(_file(s, c, target_kind=2, target=word(did)))  # a dataset target counts for its publisher
    assert s.rights.open_requests(c.address, s.agency.address) == limit
    with boa.reverts("rights: too many open requests to this publisher"):
        _file(s, c)
    with boa.reverts("rights: too many open requests to this publisher"):
        _file(s, c, target_kind=2, target=word(did))
    assert s.rights.request_count() == limit
    _file(s, c, target=word(s.business.address))  # another publisher
    _file(s, s.citizens[1])  # another citizen
    with s.as_(s.agency):
        s.rights.answer_request(ids[0], REJECTED, h("manifestly excessive"))
    with s.as_(c):
        s.rights.withdraw_request(ids[1])
    _file(s, c)
    _file(s, c)
    with boa.reverts("rights: too many open requests to this publisher"):
        _file(s, c)


def test_file_against_former_publisher(system):
    """A former publisher still holds the data it published: it can be asked, and answers (finding 8)."""
    s, c = system, system.citizens[0]
    with s.as_(s.admin):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    rid = _file(s, c)
    assert s.rights.request(rid)[1] == s.agency.address
    with s.as_(s.agency):
        s.rights.answer_request(rid, FULFILLED, h("erased"))
    never = account("never-a-publisher")
    with boa.reverts("rights: target is not a publisher"):
        _file(s, c, target=word(never.address))


@pytest.mark.parametrize("kind", [7, 8])
def test_information_and_automated_decision_kinds(system, kind):
    """7: the right to be informed (GDPR Art. 13/14); 8: not to be subject to a decision based
    solely on automated processing (Art. 22)."""
    s, c = system, system.citizens[0]
    rid = _file(s, c, kind=kind)
    assert s.rights.request(rid)[2] == kind
    with s.as_(s.agency):
        s.rights.answer_request(rid, FULFILLED, h("answer document"))
    assert s.rights.request(rid)[5] == FULFILLED
