"""CityRoles: admin-only role management, publisher kinds, two-step admin transfer."""

import boa
import contracts_kit
import pytest
from contracts_kit import (
    KIND_AGENCY,
    KIND_BUSINESS,
    ROLE_AUDITOR,
    ROLE_PUBLISHER,
    ROLE_RESEARCHER,
    account,
    deploy_system,
    events,
    h,
)


def test_deploy_sets_admin_and_no_roles():
    with boa.env.anchor():
        s = deploy_system(grant_roles=False)
        assert s.roles.owner() == s.admin.address
        assert s.roles.pending_owner() == "0x" + "00" * 20
        assert s.roles.roles_of(s.agency.address) == 0
        assert s.datasets.roles() == s.roles.address


def test_deploy_with_another_admin_is_two_step():
    """A typo in the admin address at deployment loses nothing: the deployer stays admin
    until the named admin accepts."""
    with boa.env.anchor():
        deployer_, admin = account("deployer"), account("city-data-office")
        with boa.env.prank(deployer_.address):
            roles = contracts_kit.deployer("CityRoles").deploy(admin.address)
        (ev,) = events(roles, "OwnershipTransferStarted")
        assert (ev.previous_owner, ev.new_owner) == (deployer_.address, admin.address)
        assert roles.owner() == deployer_.address and roles.pending_owner() == admin.address
        with boa.env.prank(deployer_.address):
            roles.grant_role(account("x").address, ROLE_AUDITOR, 0)  # the deployer acts meanwhile
        with boa.env.prank(account("typo").address), boa.reverts("ownable_2step: caller is not the new owner"):
            roles.accept_ownership()
        with boa.env.prank(admin.address):
            roles.accept_ownership()
        assert roles.owner() == admin.address and roles.pending_owner() == "0x" + "00" * 20
        with boa.env.prank(deployer_.address), boa.reverts("roles: caller is not the admin"):
            roles.grant_role(account("y").address, ROLE_AUDITOR, 0)


def test_roles_ever_held_survive_revocation(system):
    s = system
    assert s.roles.has_held_role(s.agency.address, ROLE_PUBLISHER)
    assert not s.roles.has_held_role(s.researcher.address, ROLE_PUBLISHER)
    with s.as_(s.admin):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    assert not s.roles.has_role(s.agency.address, ROLE_PUBLISHER)
    assert s.roles.has_held_role(s.agency.address, ROLE_PUBLISHER)
    assert s.roles.roles_of(s.agency.address) == ROLE_PUBLISHER << 16
    assert not s.roles.has_held_role(s.agency.address, 0) and not s.roles.has_held_role(s.agency.address, 256)
    with s.as_(s.admin):
        s.roles.grant_role(s.agency.address, ROLE_PUBLISHER, KIND_BUSINESS)
    assert s.roles.roles_of(s.agency.address) == ROLE_PUBLISHER | (KIND_BUSINESS << 8) | (ROLE_PUBLISHER << 16)


def test_admin_cannot_be_zero():
    with boa.reverts("roles: admin is the zero address"):
        from contracts_kit import deployer

        deployer("CityRoles").deploy("0x" + "00" * 20)


def test_grant_each_role_and_read_back(system):
    s = system
    assert s.roles.roles_of(s.agency.address) == ROLE_PUBLISHER | (KIND_AGENCY << 8) | (ROLE_PUBLISHER << 16)
    assert s.roles.roles_of(s.business.address) == ROLE_PUBLISHER | (KIND_BUSINESS << 8) | (ROLE_PUBLISHER << 16)
    assert s.roles.publisher_kind(s.business.address) == KIND_BUSINESS
    assert s.roles.publisher_kind(s.auditor.address) == 0
    assert s.roles.has_role(s.auditor.address, ROLE_AUDITOR)
    assert s.roles.has_role(s.researcher.address, ROLE_RESEARCHER)
    assert not s.roles.has_role(s.researcher.address, ROLE_PUBLISHER)
    assert not s.roles.has_role(s.agency.address, 256)  # kind bits are not roles
    assert not s.roles.has_role(s.agency.address, 0)


def test_grant_emits_everything(system):
    s = system
    who = account("new")
    with s.as_(s.admin):
        s.roles.grant_role(who.address, ROLE_AUDITOR, 0)
    (ev,) = events(s.roles, "RoleGranted")
    assert (ev.account, ev.role, ev.kind, ev.granted_by) == (who.address, ROLE_AUDITOR, 0, s.admin.address)
    with s.as_(s.admin):
        s.roles.grant_role(who.address, ROLE_RESEARCHER, 0)
    assert s.roles.roles_of(who.address) == (ROLE_AUDITOR | ROLE_RESEARCHER) * (1 + (1 << 16))


@pytest.mark.parametrize("caller", ["agency", "auditor", "researcher", "citizen"])
def test_role_escalation_by_non_admin_fails(system, caller):
    s = system
    who = s.citizens[0] if caller == "citizen" else getattr(s, caller)
    before = s.roles.roles_of(who.address)
    with s.as_(who), boa.reverts("roles: caller is not the admin"):
        s.roles.grant_role(
            who.address,
            ROLE_AUDITOR if caller != "auditor" else ROLE_PUBLISHER,
            0 if caller != "auditor" else KIND_AGENCY,
        )
    with s.as_(who), boa.reverts("roles: caller is not the admin"):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    with s.as_(who), boa.reverts("ownable: caller is not the owner"):
        s.roles.transfer_ownership(who.address)
    assert s.roles.roles_of(who.address) == before
    assert s.roles.owner() == s.admin.address


@pytest.mark.parametrize(
    "role,kind,reason",
    [
        (0, 0, "roles: unknown role"),
        (3, 0, "roles: unknown role"),
        (8, 0, "roles: unknown role"),
        (256, 0, "roles: unknown role"),
        (ROLE_PUBLISHER, 0, "roles: publisher kind must be 1 or 2"),
        (ROLE_PUBLISHER, 3, "roles: publisher kind must be 1 or 2"),
        (ROLE_AUDITOR, 1, "roles: kind is only for publishers"),
        (ROLE_RESEARCHER, 2, "roles: kind is only for publishers"),
    ],
)
def test_grant_rejects_bad_role_or_kind(system, role, kind, reason):
    s = system
    with s.as_(s.admin), boa.reverts(reason):
        s.roles.grant_role(s.citizens[0].address, role, kind)


def test_grant_twice_and_zero_account_fail(system):
    s = system
    with s.as_(s.admin), boa.reverts("roles: account already has the role"):
        s.roles.grant_role(s.agency.address, ROLE_PUBLISHER, KIND_BUSINESS)
    with s.as_(s.admin), boa.reverts("roles: account is the zero address"):
        s.roles.grant_role("0x" + "00" * 20, ROLE_AUDITOR, 0)
    assert s.roles.publisher_kind(s.agency.address) == KIND_AGENCY


def test_revoke_clears_role_and_kind(system):
    s = system
    with s.as_(s.admin):
        s.roles.grant_role(s.agency.address, ROLE_AUDITOR, 0)
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    (ev,) = events(s.roles, "RoleRevoked")
    assert (ev.account, ev.role, ev.revoked_by) == (s.agency.address, ROLE_PUBLISHER, s.admin.address)
    assert s.roles.roles_of(s.agency.address) == ROLE_AUDITOR | ((ROLE_AUDITOR | ROLE_PUBLISHER) << 16)
    assert s.roles.publisher_kind(s.agency.address) == 0
    with s.as_(s.admin), boa.reverts("roles: account does not have the role"):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    with s.as_(s.admin), boa.reverts("roles: unknown role"):
        s.roles.revoke_role(s.agency.address, 6)
    # A revoked publisher can be re-accredited with another kind.
    with s.as_(s.admin):
        s.roles.grant_role(s.agency.address, ROLE_PUBLISHER, KIND_BUSINESS)
    assert s.roles.publisher_kind(s.agency.address) == KIND_BUSINESS


def test_two_step_admin_transfer(system):
    s = system
    new = account("new-admin")
    with s.as_(s.admin):
        s.roles.transfer_ownership(new.address)
    assert s.roles.pending_owner() == new.address
    assert s.roles.owner() == s.admin.address  # not yet
    with s.as_(s.citizens[0]), boa.reverts("ownable_2step: caller is not the new owner"):
        s.roles.accept_ownership()
    with s.as_(new):
        s.roles.accept_ownership()
    assert s.roles.owner() == new.address
    assert s.roles.pending_owner() == "0x" + "00" * 20
    with s.as_(s.admin), boa.reverts("roles: caller is not the admin"):
        s.roles.grant_role(s.citizens[0].address, ROLE_AUDITOR, 0)
    with s.as_(new):
        s.roles.grant_role(s.citizens[0].address, ROLE_AUDITOR, 0)


def test_admin_cannot_be_renounced(system):
    assert not hasattr(system.roles, "renounce_ownership")
    assert "renounce_ownership" not in [f["name"] for f in system.roles.abi if f.get("type") == "function"]


def test_organisation_profiles(system):
    """The admin publishes an organisation's profile (hash + URI, the document off chain);
    only accounts that hold or held a role have one: never a citizen."""
    s = system
    assert s.roles.profile_of(s.agency.address) == b"\0" * 32
    with s.as_(s.admin):
        s.roles.set_profile(s.agency.address, h("profile v1"), "cityledger://metadata/profile-v1.json")
    (ev,) = events(s.roles, "ProfileUpdated")
    assert (ev.account, ev.profile_hash, ev.profile_uri, ev.updated_by) == (
        s.agency.address,
        h("profile v1"),
        "cityledger://metadata/profile-v1.json",
        s.admin.address,
    )
    assert s.roles.profile_of(s.agency.address) == h("profile v1")
    with s.as_(s.admin):
        s.roles.set_profile(s.agency.address, h("profile v2"), "cityledger://metadata/profile-v2.json")
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
        s.roles.set_profile(s.agency.address, h("profile v3"), "")  # a former publisher keeps a name
    assert s.roles.profile_of(s.agency.address) == h("profile v3")
    with s.as_(s.agency), boa.reverts("roles: caller is not the admin"):
        s.roles.set_profile(s.agency.address, h("self-made"), "")
    with s.as_(s.admin), boa.reverts("roles: account has never held a role"):
        s.roles.set_profile(s.citizens[0].address, h("a person"), "")
    with s.as_(s.admin), boa.reverts("roles: empty profile hash"):
        s.roles.set_profile(s.auditor.address, b"\0" * 32, "")
    assert s.roles.profile_of(s.citizens[0].address) == b"\0" * 32
