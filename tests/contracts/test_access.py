"""AccessRegistry: requests, grants, refusals, ends, and the release log."""

import boa
import pytest
from contracts_kit import DAY, MAX_SNAPSHOT_AGE, ROLE_PUBLISHER, ROLE_RESEARCHER, account, deployer, events, h, purpose
from eth_abi import encode
from eth_utils import keccak

P = purpose()
ROOT = h("consent-root")
ZERO = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture
def granted(system):
    """A dataset by the agency with access granted to the researcher for 10 days."""
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("terms"))
    with s.as_(s.agency):
        s.access.grant_access(aid, boa.env.timestamp + 10 * DAY)
    return s, did, aid


def test_request_grant_and_views(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("terms"))
    (ev,) = events(s.access, "AccessRequested")
    assert (ev.access_id, ev.dataset_id, ev.requester, ev.purpose, ev.terms_hash, ev.role) == (
        aid,
        did,
        s.researcher.address,
        P,
        h("terms"),
        ROLE_RESEARCHER,
    )
    assert s.access.access(aid) == (did, s.researcher.address, P, 1, 0)
    assert s.access.requester_role(aid) == ROLE_RESEARCHER and s.access.granted_block(aid) == 0
    assert not s.access.is_live(aid)
    expiry = boa.env.timestamp + 5 * DAY
    with s.as_(s.agency):
        s.access.grant_access(aid, expiry)
    (ev,) = events(s.access, "AccessGranted")
    assert (ev.access_id, ev.dataset_id, ev.grantee, ev.purpose, ev.expiry) == (
        aid,
        did,
        s.researcher.address,
        P,
        expiry,
    )
    assert s.access.access(aid) == (did, s.researcher.address, P, 2, expiry)
    assert s.access.granted_block(aid) == boa.env.evm.patch.block_number
    assert s.access.is_live(aid)
    assert s.access.access_count() == 1
    boa.env.time_travel(seconds=5 * DAY)
    assert not s.access.is_live(aid)


def test_business_publisher_may_request(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.business):
        aid = s.access.request_access(did, P, h("terms"))
    assert events(s.access, "AccessRequested")[0].role == ROLE_PUBLISHER
    assert s.access.access(aid)[1] == s.business.address
    assert s.access.requester_role(aid) == ROLE_PUBLISHER


@pytest.mark.parametrize("who", ["auditor", "citizen", "admin"])
def test_only_researchers_and_publishers_request(system, who):
    s = system
    did = s.register(s.agency, "census")
    acct = s.citizens[0] if who == "citizen" else getattr(s, who)
    with s.as_(acct), boa.reverts("access: caller is not a researcher or publisher"):
        s.access.request_access(did, P, h("t"))


def test_request_rejects(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher), boa.reverts("access: empty purpose"):
        s.access.request_access(did, b"\0" * 32, h("t"))
    with s.as_(s.researcher), boa.reverts("access: dataset is not active"):
        s.access.request_access(did + 1, P, h("t"))
    with s.as_(s.agency):
        s.datasets.withdraw(did, h("r"))
    with s.as_(s.researcher), boa.reverts("access: dataset is not active"):
        s.access.request_access(did, P, h("t"))


def test_grant_rejects(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("t"))
    with s.as_(s.business), boa.reverts("access: caller is not the dataset's publisher"):
        s.access.grant_access(aid, boa.env.timestamp + DAY)
    with s.as_(s.researcher), boa.reverts("access: caller is not the dataset's publisher"):
        s.access.grant_access(aid, boa.env.timestamp + DAY)
    with s.as_(s.agency), boa.reverts("access: expiry is in the past"):
        s.access.grant_access(aid, boa.env.timestamp)
    with s.as_(s.agency), boa.reverts("access: expiry too far in the future"):
        s.access.grant_access(aid, 2**40)
    with s.as_(s.agency), boa.reverts("access: unknown access"):
        s.access.grant_access(aid + 1, boa.env.timestamp + DAY)
    with s.as_(s.admin):
        s.roles.revoke_role(s.researcher.address, ROLE_RESEARCHER)
    with s.as_(s.agency), boa.reverts("access: requester no longer holds the role it requested with"):
        s.access.grant_access(aid, boa.env.timestamp + DAY)
    with s.as_(s.admin):
        s.roles.grant_role(s.researcher.address, ROLE_RESEARCHER, 0)
    with s.as_(s.agency):
        s.datasets.withdraw(did, h("r"))
    with s.as_(s.agency), boa.reverts("access: dataset is not active"):
        s.access.grant_access(aid, boa.env.timestamp + DAY)
    assert s.access.access(aid)[3] == 1


def test_refuse(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("t"))
    with s.as_(s.researcher), boa.reverts("access: caller is not the dataset's publisher"):
        s.access.refuse_access(aid, h("no"))
    with s.as_(s.agency):
        s.access.refuse_access(aid, h("no"))
    (ev,) = events(s.access, "AccessRefused")
    assert (ev.access_id, ev.dataset_id, ev.requester, ev.reason_hash) == (aid, did, s.researcher.address, h("no"))
    assert s.access.access(aid)[3] == 3
    with s.as_(s.agency), boa.reverts("access: access is not in requested state"):
        s.access.grant_access(aid, boa.env.timestamp + DAY)
    with s.as_(s.agency), boa.reverts("access: access is not in requested state"):
        s.access.refuse_access(aid, h("no"))


def test_end_by_either_side(granted):
    s, did, aid = granted
    with s.as_(s.business), boa.reverts("access: caller is not the dataset's publisher"):
        s.access.end_access(aid)
    with s.as_(s.researcher):
        s.access.end_access(aid)
    (ev,) = events(s.access, "AccessEnded")
    assert (ev.access_id, ev.dataset_id, ev.ended_by) == (aid, did, s.researcher.address)
    assert s.access.access(aid)[3] == 4 and not s.access.is_live(aid)
    with s.as_(s.agency), boa.reverts("access: access is not granted"):
        s.access.end_access(aid)
    with s.as_(s.researcher):
        aid2 = s.access.request_access(did, P, h("t"))
    with s.as_(s.agency), boa.reverts("access: access is not granted"):
        s.access.end_access(aid2)
    with s.as_(s.agency):
        s.access.grant_access(aid2, boa.env.timestamp + DAY)
        s.access.end_access(aid2)
    assert s.access.access(aid2)[3] == 4


def _release(s, aid, did, count=3, root=ROOT, snap=None, rh=None, who=None, k=5):
    with s.as_(who or s.agency):
        return s.access.log_release(
            aid,
            did,
            count,
            root,
            boa.env.evm.patch.block_number if snap is None else snap,
            h("release") if rh is None else rh,
            k,
        )


def commitment(root, release_hash, k):
    return keccak(encode(["bytes32", "bytes32", "uint16"], [root, release_hash, k]))


def test_log_release(granted):
    s, did, aid = granted
    snap = boa.env.evm.patch.block_number
    rid = _release(s, aid, did, 42, ROOT, snap, k=7)
    (ev,) = events(s.access, "ReleaseLogged")
    assert (
        ev.release_id,
        ev.access_id,
        ev.grantee,
        ev.dataset_id,
        ev.purpose,
        ev.subject_count,
        ev.consent_root,
        ev.snapshot_block,
        ev.release_hash,
        ev.k_anonymity,
        ev.logged_by,
    ) == (rid, aid, s.researcher.address, did, P, 42, ROOT, snap, h("release"), 7, s.agency.address)
    assert s.access.release(rid) == (aid, did, 42, snap, commitment(ROOT, h("release"), 7))
    assert s.access.release_matches(rid, ROOT, h("release"), 7)
    for claim in [(h("other"), h("release"), 7), (ROOT, h("other"), 7), (ROOT, h("release"), 6)]:
        assert not s.access.release_matches(rid, *claim)
    assert not s.access.release_matches(rid + 1, ZERO, ZERO, 0)
    assert s.access.release(rid + 1) == (0, 0, 0, 0, ZERO)
    assert s.access.release_count() == 1


def test_release_of_non_personal_data_has_no_subjects(system):
    s = system
    did = s.register(s.agency, "timetable", personal=False)
    aid = s.open_access(did)
    rid = _release(s, aid, did, 0, ZERO, k=0)
    assert s.access.release_matches(rid, ZERO, h("release"), 0)
    with boa.reverts("access: a release of non-personal data has no subjects"):
        _release(s, aid, did, 5, ROOT, k=0)
    with boa.reverts("access: a release of non-personal data has no subjects"):
        _release(s, aid, did, 0, ROOT, k=0)
    with boa.reverts("access: k-anonymity is only for personal data"):
        _release(s, aid, did, 0, ZERO, k=5)


def test_release_rejects(granted):
    s, did, aid = granted
    with boa.reverts("access: caller is not the dataset's publisher or its operator"):
        _release(s, aid, did, who=s.researcher)
    with boa.reverts("access: caller is not the dataset's publisher or its operator"):
        _release(s, aid, did, who=s.business)
    with boa.reverts("access: empty release hash"):
        _release(s, aid, did, rh=b"\0" * 32)
    for count, root in [(5, ZERO), (0, ROOT), (0, ZERO)]:
        with boa.reverts("access: a personal release needs its subject count and consent root"):
            _release(s, aid, did, count=count, root=root)
    with boa.reverts("access: snapshot block is in the future"):
        _release(s, aid, did, snap=boa.env.evm.patch.block_number + 1)
    with boa.reverts("access: unknown access"):
        _release(s, aid + 1, did)
    with s.as_(s.admin):
        s.roles.revoke_role(s.researcher.address, ROLE_RESEARCHER)
    with boa.reverts("access: grantee no longer holds the role it requested with"):
        _release(s, aid, did)
    assert s.access.release_count() == 0


def test_snapshot_bounds(system):
    """A snapshot is taken at or after the grant block and at most max_snapshot_age blocks ago."""
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("terms"))
    boa.env.evm.patch.block_number += 10
    with s.as_(s.agency):
        s.access.grant_access(aid, boa.env.timestamp + 10 * DAY)
    granted = s.access.granted_block(aid)
    for snap in (0, granted - 1):
        with boa.reverts("access: snapshot block is before the access was granted"):
            _release(s, aid, did, snap=snap)
    _release(s, aid, did, snap=granted)
    boa.env.evm.patch.block_number = granted + MAX_SNAPSHOT_AGE
    _release(s, aid, did, snap=granted)  # exactly max_snapshot_age blocks old
    boa.env.evm.patch.block_number += 1
    with boa.reverts("access: snapshot block is too old"):
        _release(s, aid, did, snap=granted)
    assert s.access.max_snapshot_age() == MAX_SNAPSHOT_AGE
    assert s.access.release_count() == 2


def test_max_snapshot_age_must_be_set(system):
    s = system
    with boa.reverts("access: max snapshot age is zero"):
        deployer("AccessRegistry").deploy(s.roles.address, s.datasets.address, 0)


@pytest.mark.parametrize("how", ["requested", "refused", "ended", "expired"])
def test_release_without_live_access_reverts(system, how):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("t"))
    with s.as_(s.agency):
        if how == "refused":
            s.access.refuse_access(aid, h("no"))
        elif how in ("ended", "expired"):
            s.access.grant_access(aid, boa.env.timestamp + DAY)
            if how == "ended":
                s.access.end_access(aid)
            else:
                boa.env.time_travel(seconds=DAY)
    with boa.reverts("access: access is not live"):
        _release(s, aid, did)
    assert s.access.release_count() == 0


def test_release_of_versions(granted):
    s, did, aid = granted
    v2 = s.register(s.agency, "census-v2", supersedes=did)
    _release(s, aid, v2)
    other = s.register(s.agency, "unrelated")
    with boa.reverts("access: dataset is not the granted version or a later one"):
        _release(s, aid, other)
    with boa.reverts("access: dataset is not the granted version or a later one"):
        _release(s, aid, 999)
    # An earlier version of the granted one is not covered.
    with s.as_(s.researcher):
        aid2 = s.access.request_access(v2, P, h("t"))
    with s.as_(s.agency):
        s.access.grant_access(aid2, boa.env.timestamp + DAY)
    with boa.reverts("access: dataset is not the granted version or a later one"):
        _release(s, aid2, did)
    with s.as_(s.agency):
        s.datasets.withdraw(v2, h("bad"))
    with boa.reverts("access: dataset is not active"):
        _release(s, aid, v2)


def test_deaccredited_publisher_winds_down(system):
    """Without the publisher role: no new grants and no data flows, but refusing, ending
    and withdrawing still work (finding 5)."""
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        live, pending, other = (s.access.request_access(did, P, h("t")) for _ in range(3))
    with s.as_(s.agency):
        s.access.grant_access(live, boa.env.timestamp + 10 * DAY)
    assert s.access.is_live(live)
    with s.as_(s.admin):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    assert not s.access.is_live(live)
    with s.as_(s.agency), boa.reverts("access: publisher no longer holds the publisher role"):
        s.access.grant_access(pending, boa.env.timestamp + DAY)
    with boa.reverts("access: publisher no longer holds the publisher role"):
        _release(s, live, did)
    with s.as_(s.agency):
        s.access.refuse_access(pending, h("closing down"))
        s.access.end_access(live)
        s.datasets.withdraw(did, h("closing down"))
    assert [s.access.access(a)[3] for a in (live, pending, other)] == [4, 3, 1]
    # Re-accredited: the flows resume under a new grant.
    with s.as_(s.admin):
        s.roles.grant_role(s.agency.address, ROLE_PUBLISHER, 1)
    assert not s.access.is_live(live)


def test_is_live_agrees_with_release_on_roles(system):
    """The grantee must keep the role it requested with; another role it holds does not do."""
    s = system
    dual = s.dual()
    did = s.register(s.agency, "census")
    with s.as_(dual):
        aid = s.access.request_access(did, P, h("t"))
    assert s.access.requester_role(aid) == ROLE_RESEARCHER  # researcher wins when both are held
    with s.as_(s.agency):
        s.access.grant_access(aid, boa.env.timestamp + DAY)
    assert s.access.is_live(aid)
    with s.as_(s.admin):
        s.roles.revoke_role(dual.address, ROLE_RESEARCHER)
    assert not s.access.is_live(aid)
    with boa.reverts("access: grantee no longer holds the role it requested with"):
        _release(s, aid, did)
    with s.as_(s.admin):
        s.roles.grant_role(dual.address, ROLE_RESEARCHER, 0)
    assert s.access.is_live(aid)
    _release(s, aid, did)
    assert not s.access.is_live(aid + 1)  # unknown


def test_cancel_request(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("t"))
    with s.as_(s.agency), boa.reverts("access: caller is not the requester"):
        s.access.cancel_request(aid)
    with s.as_(s.researcher):
        s.access.cancel_request(aid)
    (ev,) = events(s.access, "AccessCancelled")
    assert (ev.access_id, ev.dataset_id, ev.requester) == (aid, did, s.researcher.address)
    assert s.access.access(aid)[3] == 5
    with s.as_(s.researcher), boa.reverts("access: access is not in requested state"):
        s.access.cancel_request(aid)
    with s.as_(s.agency), boa.reverts("access: access is not in requested state"):
        s.access.grant_access(aid, boa.env.timestamp + DAY)
    with s.as_(s.researcher), boa.reverts("access: unknown access"):
        s.access.cancel_request(aid + 1)
    with s.as_(s.researcher):
        granted = s.access.request_access(did, P, h("t"))
    with s.as_(s.agency):
        s.access.grant_access(granted, boa.env.timestamp + DAY)
    with s.as_(s.researcher), boa.reverts("access: access is not in requested state"):
        s.access.cancel_request(granted)


def test_release_of_a_version_with_other_terms_needs_new_access(system):
    s = system
    did = s.register(s.agency, "census", domain=7)
    aid = s.open_access(did)
    v2 = s.register(s.agency, "census-health", domain=1, supersedes=did)
    with boa.reverts("access: the version changed domain or personal flag; request access again"):
        _release(s, aid, v2)
    v3 = s.register(s.agency, "census-back", domain=7, supersedes=v2)
    _release(s, aid, v3)  # same terms as the granted version again


# --- release operators (the data room logs for a publisher) -------------------------------------------


def test_release_operator(granted):
    s, did, aid = granted
    room = account("data-room")
    assert not s.access.is_release_operator(s.agency.address, room.address)
    with s.as_(s.agency):
        s.access.set_release_operator(room.address, True)
    (ev,) = events(s.access, "ReleaseOperatorSet")
    assert (ev.publisher, ev.operator, ev.allowed) == (s.agency.address, room.address, True)
    assert s.access.is_release_operator(s.agency.address, room.address)
    rid = _release(s, aid, did, who=room)
    assert events(s.access, "ReleaseLogged")[0].logged_by == room.address
    # An operator of one publisher is nobody to another's datasets, and can do nothing else.
    other = s.register(s.business, "meters")
    with s.as_(s.researcher):
        pending = s.access.request_access(other, P, h("t"))
    with s.as_(room), boa.reverts("access: caller is not the dataset's publisher"):
        s.access.grant_access(pending, boa.env.timestamp + DAY)
    with s.as_(room), boa.reverts("access: caller is not the dataset's publisher"):
        s.access.end_access(aid)
    with s.as_(room), boa.reverts("access: caller is not the dataset's publisher"):
        s.access.set_privacy_budget(aid, 1_000_000)
    with s.as_(s.agency):
        s.access.set_release_operator(room.address, False)
    assert not s.access.is_release_operator(s.agency.address, room.address)
    with boa.reverts("access: caller is not the dataset's publisher or its operator"):
        _release(s, aid, did, who=room)
    assert s.access.release_count() == rid


def test_release_operator_rules(system):
    s = system
    room = account("data-room")
    with s.as_(s.agency), boa.reverts("access: operator is the zero address"):
        s.access.set_release_operator("0x" + "00" * 20, True)
    for who in (s.researcher, s.citizens[0]):
        for allowed in (True, False):
            with s.as_(who), boa.reverts("access: caller is not a publisher"):
                s.access.set_release_operator(room.address, allowed)
    with s.as_(s.agency):
        s.access.set_release_operator(room.address, True)
    with s.as_(s.admin):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    # A former publisher may stop its operators, not name new ones; its operators log nothing.
    with s.as_(s.agency), boa.reverts("access: caller is not a publisher"):
        s.access.set_release_operator(account("other-room").address, True)
    with s.as_(s.agency):
        s.access.set_release_operator(room.address, False)
    assert not s.access.is_release_operator(s.agency.address, room.address)


# --- privacy budgets and private queries ---------------------------------------------------------


def _query(s, aid, did, eps, who=None, count=40, root=ROOT, snap=None, qh=None):
    with s.as_(who or s.agency):
        return s.access.log_query(
            aid,
            did,
            eps,
            h("query") if qh is None else qh,
            root,
            boa.env.evm.patch.block_number if snap is None else snap,
            count,
        )


def test_privacy_budget_and_queries(granted):
    s, did, aid = granted
    assert s.access.privacy_budget(aid) == (0, 0)
    with boa.reverts("access: privacy budget exceeded"):  # no budget set: nothing to spend
        _query(s, aid, did, 1)
    with s.as_(s.agency):
        s.access.set_privacy_budget(aid, 1_000_000)  # epsilon 1
    (ev,) = events(s.access, "PrivacyBudgetSet")
    assert (ev.access_id, ev.budget, ev.spent) == (aid, 1_000_000, 0)
    qid = _query(s, aid, did, 300_000)
    (ev,) = events(s.access, "PrivateQueryLogged")
    snap = boa.env.evm.patch.block_number
    assert (
        ev.query_id,
        ev.access_id,
        ev.grantee,
        ev.dataset_id,
        ev.epsilon_spent,
        ev.spent_total,
        ev.budget,
        ev.query_hash,
        ev.consent_root,
        ev.snapshot_block,
        ev.subject_count,
        ev.logged_by,
    ) == (
        qid,
        aid,
        s.researcher.address,
        did,
        300_000,
        300_000,
        1_000_000,
        h("query"),
        ROOT,
        snap,
        40,
        s.agency.address,
    )
    assert s.access.query_count() == qid == 1
    room = account("data-room")
    with s.as_(s.agency):
        s.access.set_release_operator(room.address, True)
    _query(s, aid, did, 700_000, who=room)  # exactly the rest of the budget
    assert s.access.privacy_budget(aid) == (1_000_000, 1_000_000)
    with boa.reverts("access: privacy budget exceeded"):
        _query(s, aid, did, 1)
    with s.as_(s.agency), boa.reverts("access: budget below what is already spent"):
        s.access.set_privacy_budget(aid, 999_999)
    with s.as_(s.agency):
        s.access.set_privacy_budget(aid, 2_000_000)
    assert events(s.access, "PrivacyBudgetSet")[0].spent == 1_000_000
    _query(s, aid, did, 1_000_000)
    with boa.reverts("access: privacy budget exceeded"):
        _query(s, aid, did, 2**64 - 1)  # no overflow past the budget
    assert s.access.privacy_budget(aid) == (2_000_000, 2_000_000)
    assert s.access.query_count() == 3


def test_query_rejects(granted):
    s, did, aid = granted
    with s.as_(s.agency):
        s.access.set_privacy_budget(aid, 10_000_000)
    with boa.reverts("access: caller is not the dataset's publisher or its operator"):
        _query(s, aid, did, 1, who=s.researcher)
    with boa.reverts("access: epsilon spent is zero"):
        _query(s, aid, did, 0)
    with boa.reverts("access: empty query hash"):
        _query(s, aid, did, 1, qh=ZERO)
    with boa.reverts("access: a personal release needs its subject count and consent root"):
        _query(s, aid, did, 1, count=0)
    with boa.reverts("access: a personal release needs its subject count and consent root"):
        _query(s, aid, did, 1, root=ZERO)
    with boa.reverts("access: snapshot block is before the access was granted"):
        _query(s, aid, did, 1, snap=s.access.granted_block(aid) - 1)
    with boa.reverts("access: snapshot block is in the future"):
        _query(s, aid, did, 1, snap=boa.env.evm.patch.block_number + 1)
    with s.as_(s.researcher):
        s.access.end_access(aid)
    with boa.reverts("access: access is not live"):
        _query(s, aid, did, 1)
    with s.as_(s.agency), boa.reverts("access: access is not granted"):
        s.access.set_privacy_budget(aid, 20_000_000)
    assert s.access.query_count() == 0 and s.access.privacy_budget(aid) == (10_000_000, 0)


def test_budgets_and_queries_are_for_personal_data(system):
    s = system
    did = s.register(s.agency, "timetable", personal=False)
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("t"))
    with s.as_(s.agency), boa.reverts("access: access is not granted"):
        s.access.set_privacy_budget(aid, 1)
    with s.as_(s.agency):
        s.access.grant_access(aid, boa.env.timestamp + DAY)
    with s.as_(s.agency), boa.reverts("access: privacy budgets are for personal data"):
        s.access.set_privacy_budget(aid, 1)
    with boa.reverts("access: private queries are for personal data"):
        _query(s, aid, did, 1)


def test_release_context(granted):
    s, did, aid = granted
    rid = _release(s, aid, did, k=3)
    assert s.access.release_context(rid) == (did, s.researcher.address, P, commitment(ROOT, h("release"), 3))
    assert s.access.release_context(rid + 1) == (0, ZERO_ADDRESS, ZERO, ZERO)
