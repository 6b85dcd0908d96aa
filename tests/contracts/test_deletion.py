"""DeletionRegistry: revocation follows the data. Obligations for a release's recipient to
delete a subject's rows, proved against the release's consent snapshot (the same OpenZeppelin
StandardMerkleTree the release code builds), confirmed on chain, overdue for anyone to see."""

import boa
import pytest
from contracts_kit import (
    ANY_RESEARCHER,
    DAY,
    ROLE_RESEARCHER,
    SCOPE_DOMAIN,
    account,
    deployer,
    events,
    h,
    purpose,
    word,
)

from cityledger.fingerprint.consent_tree import ConsentTree

P = purpose()
PERIOD = 30 * DAY
OPEN, CONFIRMED, CONFIRMED_LATE = 1, 2, 3
ZERO = "0x" + "00" * 20


@pytest.fixture
def released(system):
    """A personal dataset (domain 1) released to the researcher with a snapshot of the
    citizens who consent (domain scope, any researcher) plus 20 other subjects."""
    s = system
    did = s.register(s.agency, "census", domain=1)
    for c in s.citizens:
        with s.as_(c):
            s.consent.grant(P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER, boa.env.timestamp + 100 * DAY)
    aid = s.open_access(did)
    tree = ConsentTree.build([c.address for c in s.citizens] + [account(f"subject{i}").address for i in range(20)])
    with s.as_(s.agency):
        rid = s.access.log_release(aid, did, len(tree), tree.root, boa.env.evm.patch.block_number, h("file"), 5)
    return s, rid, tree


def _request(s, rid, tree, subject, who, root=None, release_hash=None, k=5, proof=None):
    with s.as_(who):
        return s.deletion.request_deletion(
            rid,
            subject,
            tree.root if root is None else root,
            h("file") if release_hash is None else release_hash,
            k,
            tree.proof(subject) if proof is None else proof,
        )


def test_subject_requests_and_recipient_confirms(released):
    s, rid, tree = released
    c = s.citizens[0]
    oid = _request(s, rid, tree, c.address, c)
    (ev,) = events(s.deletion, "DeletionRequested")
    deadline = boa.env.timestamp + PERIOD
    assert (ev.obligation_id, ev.release_id, ev.recipient, ev.subject, ev.deadline, ev.requested_by) == (
        oid,
        rid,
        s.researcher.address,
        c.address,
        deadline,
        c.address,
    )
    assert s.deletion.obligation(oid) == (rid, s.researcher.address, c.address, deadline, OPEN)
    assert s.deletion.obligation_of(rid, c.address) == oid == s.deletion.obligation_count() == 1
    assert not s.deletion.is_overdue(oid)
    with s.as_(s.agency), boa.reverts("deletion: caller is not the recipient"):
        s.deletion.confirm_deletion(oid, h("deleted"))
    with s.as_(s.researcher), boa.reverts("deletion: empty evidence hash"):
        s.deletion.confirm_deletion(oid, b"\0" * 32)
    with s.as_(s.researcher):
        s.deletion.confirm_deletion(oid, h("deleted"))
    (ev,) = events(s.deletion, "DeletionConfirmed")
    assert (ev.obligation_id, ev.release_id, ev.recipient, ev.subject, ev.evidence_hash, ev.late) == (
        oid,
        rid,
        s.researcher.address,
        c.address,
        h("deleted"),
        False,
    )
    assert s.deletion.obligation(oid)[4] == CONFIRMED
    with s.as_(s.researcher), boa.reverts("deletion: obligation is not open"):
        s.deletion.confirm_deletion(oid, h("deleted"))
    with s.as_(c), boa.reverts("deletion: already requested"):
        _request(s, rid, tree, c.address, c)


def test_deadline_overdue_and_late_confirmation(released):
    s, rid, tree = released
    oid = _request(s, rid, tree, s.citizens[1].address, s.citizens[1])
    boa.env.time_travel(seconds=PERIOD)
    assert not s.deletion.is_overdue(oid)  # due at the deadline itself
    boa.env.time_travel(seconds=1)
    assert s.deletion.is_overdue(oid)
    with s.as_(s.researcher):
        s.deletion.confirm_deletion(oid, h("deleted late"))
    assert events(s.deletion, "DeletionConfirmed")[0].late is True
    assert s.deletion.obligation(oid)[4] == CONFIRMED_LATE and not s.deletion.is_overdue(oid)
    assert not s.deletion.is_overdue(oid + 1) and s.deletion.obligation(oid + 1) == (0, ZERO, ZERO, 0, 0)


def test_who_may_request(released):
    """The subject, the publisher or its operator always; anyone else only once the consent
    no longer covers the use."""
    s, rid, tree = released
    stranger, room = account("stranger"), account("data-room")
    subject = s.citizens[2]
    with boa.reverts("deletion: the consent still covers the use"):
        _request(s, rid, tree, subject.address, stranger)
    with boa.reverts("deletion: the consent still covers the use"):
        _request(s, rid, tree, subject.address, room)
    with boa.reverts("deletion: the consent still covers the use"):
        _request(s, rid, tree, subject.address, s.researcher)
    _request(s, rid, tree, subject.address, s.agency)  # e.g. after an erasure request
    with s.as_(s.agency):
        s.access.set_release_operator(room.address, True)
    _request(s, rid, tree, s.citizens[3].address, room)
    # Revocation: now anyone (the data room, the indexer, a watchdog) can make it follow the data.
    other = s.citizens[0]
    with s.as_(other):
        s.consent.revoke(P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER)
    oid = _request(s, rid, tree, other.address, stranger)
    assert events(s.deletion, "DeletionRequested")[0].requested_by == stranger.address
    assert s.deletion.obligation(oid)[1:3] == (s.researcher.address, other.address)


def test_grantee_losing_its_role_ends_the_coverage(released):
    s, rid, tree = released
    with s.as_(s.admin):
        s.roles.revoke_role(s.researcher.address, ROLE_RESEARCHER)
    # The consents were to "any researcher": a de-accredited recipient is no longer covered.
    oid = _request(s, rid, tree, s.citizens[1].address, account("stranger"))
    assert s.deletion.obligation(oid)[4] == OPEN


def test_claims_and_proofs_are_checked(released):
    s, rid, tree = released
    c = s.citizens[0]
    outsider = account("not-in-the-release")
    with boa.reverts("deletion: claim does not match the release"):
        _request(s, rid, tree, c.address, c, root=h("another root"))
    with boa.reverts("deletion: claim does not match the release"):
        _request(s, rid, tree, c.address, c, release_hash=h("another file"))
    with boa.reverts("deletion: claim does not match the release"):
        _request(s, rid, tree, c.address, c, k=6)
    with boa.reverts("deletion: unknown release"):
        _request(s, rid + 1, tree, c.address, c)
    with boa.reverts("deletion: subject is not in the release"):
        _request(s, rid, tree, outsider.address, outsider, proof=tree.proof(c.address))
    with boa.reverts("deletion: subject is not in the release"):
        _request(s, rid, tree, c.address, c, proof=tree.proof(c.address)[:-1])
    with boa.reverts("deletion: subject is the zero address"):
        _request(s, rid, tree, ZERO, c, proof=[])
    assert s.deletion.obligation_count() == 0


def test_release_without_subjects_has_no_obligations(system):
    s = system
    did = s.register(s.agency, "timetable", personal=False)
    aid = s.open_access(did)
    with s.as_(s.agency):
        rid = s.access.log_release(aid, did, 0, b"\0" * 32, boa.env.evm.patch.block_number, h("file"), 0)
    with s.as_(s.citizens[0]), boa.reverts("deletion: subject is not in the release"):
        s.deletion.request_deletion(rid, s.citizens[0].address, b"\0" * 32, h("file"), 0, [])


def test_single_subject_release(system):
    """A tree of one leaf: the root is the leaf and the proof is empty."""
    s, c = system, system.citizens[0]
    aid = s.open_access(s.register(s.agency, "census"))
    tree = ConsentTree.build([c.address])
    with s.as_(s.agency):
        rid = s.access.log_release(
            aid, s.access.access(aid)[0], 1, tree.root, boa.env.evm.patch.block_number, h("file"), 0
        )
    with s.as_(c):
        oid = s.deletion.request_deletion(rid, c.address, tree.root, h("file"), 0, [])
    assert s.deletion.obligation(oid)[2] == c.address


def test_confirm_many_at_once(released):
    s, rid, tree = released
    ids = [_request(s, rid, tree, c.address, c) for c in s.citizens]
    with s.as_(s.researcher), boa.reverts("deletion: no obligations"):
        s.deletion.confirm_deletions([], h("deleted"))
    with s.as_(s.researcher), boa.reverts("deletion: unknown obligation"):
        s.deletion.confirm_deletions(ids + [99], h("deleted"))
    assert all(s.deletion.obligation(i)[4] == OPEN for i in ids)  # all or nothing
    with s.as_(s.researcher):
        s.deletion.confirm_deletions(ids, h("deleted"))
    assert [e.obligation_id for e in events(s.deletion, "DeletionConfirmed")] == ids
    assert all(s.deletion.obligation(i)[4] == CONFIRMED for i in ids)
    with s.as_(s.researcher), boa.reverts("deletion: obligation is not open"):
        s.deletion.confirm_deletions(ids[:1], h("deleted"))


def test_constructor_reads_the_dataset_registry(system):
    assert system.deletion.datasets() == system.datasets.address
    assert (system.deletion.access(), system.deletion.consent()) == (system.access.address, system.consent.address)


def test_constructor_rejects_zero_addresses(system):
    with boa.reverts("deletion: access address is the zero address"):
        deployer("DeletionRegistry").deploy(ZERO, system.consent.address)
    with boa.reverts("deletion: consent address is the zero address"):
        deployer("DeletionRegistry").deploy(system.access.address, ZERO)
