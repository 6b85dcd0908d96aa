"""AccessRegistry: requests, grants, refusals, ends, and the release log."""

import boa
import pytest
from contracts_kit import DAY, ROLE_PUBLISHER, ROLE_RESEARCHER, events, h, purpose

P = purpose()
ROOT = h("consent-root")


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
    assert (ev.access_id, ev.dataset_id, ev.requester, ev.purpose, ev.terms_hash) == (
        aid,
        did,
        s.researcher.address,
        P,
        h("terms"),
    )
    assert s.access.access(aid) == (did, s.researcher.address, P, 1, 0)
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
    assert s.access.is_live(aid)
    assert s.access.access_count() == 1
    boa.env.time_travel(seconds=5 * DAY)
    assert not s.access.is_live(aid)


def test_business_publisher_may_request(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.business):
        aid = s.access.request_access(did, P, h("terms"))
    assert s.access.access(aid)[1] == s.business.address


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
    with s.as_(s.agency), boa.reverts("access: requester no longer holds a role"):
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


def _release(s, aid, did, count=3, root=ROOT, snap=None, rh=None, who=None):
    with s.as_(who or s.agency):
        return s.access.log_release(
            aid,
            did,
            count,
            root,
            boa.env.evm.patch.block_number if snap is None else snap,
            h("release") if rh is None else rh,
        )


def test_log_release(granted):
    s, did, aid = granted
    snap = boa.env.evm.patch.block_number
    rid = _release(s, aid, did, 42, ROOT, snap)
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
    ) == (rid, aid, s.researcher.address, did, P, 42, ROOT, snap, h("release"))
    assert s.access.release(rid) == (aid, did, 42, ROOT, snap, h("release"))
    assert s.access.release_count() == 1
    # A release without personal subjects needs no root.
    _release(s, aid, did, 0, b"\0" * 32)


def test_release_rejects(granted):
    s, did, aid = granted
    with boa.reverts("access: caller is not the dataset's publisher"):
        _release(s, aid, did, who=s.researcher)
    with boa.reverts("access: caller is not the dataset's publisher"):
        _release(s, aid, did, who=s.business)
    with boa.reverts("access: empty release hash"):
        _release(s, aid, did, rh=b"\0" * 32)
    with boa.reverts("access: consent root required"):
        _release(s, aid, did, count=5, root=b"\0" * 32)
    with boa.reverts("access: snapshot block is in the future"):
        _release(s, aid, did, snap=boa.env.evm.patch.block_number + 1)
    with boa.reverts("access: unknown access"):
        _release(s, aid + 1, did)
    with s.as_(s.admin):
        s.roles.revoke_role(s.researcher.address, ROLE_RESEARCHER)
    with boa.reverts("access: grantee no longer holds a role"):
        _release(s, aid, did)
    assert s.access.release_count() == 0


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


def test_release_needs_publisher_of_granted_dataset_even_after_role_loss(granted):
    s, did, aid = granted
    with s.as_(s.admin):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    # The record stays the publisher's; only new registrations need the role.
    _release(s, aid, did)
    assert s.access.release_count() == 1
