"""The findings of the contract review (issue 15), each pinned: every test here failed on the
contracts as they were reviewed, and passes once the finding is fixed or decided (docs/CONTRACTS.md,
"Threat model")."""

import boa
from contracts_kit import (
    ANY_RESEARCHER,
    DAY,
    ROLE_PUBLISHER,
    ROLE_RESEARCHER,
    SCOPE_DATASET,
    SCOPE_DOMAIN,
    account,
    deployer,
    events,
    h,
    mock_wallet_deployer,
    purpose,
    word,
)

P = purpose()
ROOT = h("consent-root")


def _granted(s, requester=None, personal=True):
    did = s.register(s.agency, "census", personal=personal)
    return did, s.open_access(did, requester)


def _release(s, aid, did, count=3, root=ROOT, snap=None, who=None):
    with s.as_(who or s.agency):
        return s.access.log_release(
            aid, did, count, root, boa.env.evm.patch.block_number if snap is None else snap, h("release"), 0
        )


# --- 1. content-hash squatting --------------------------------------------------------------------


def test_f1_squatter_cannot_block_the_real_publisher(system):
    s = system
    squatted = s.register(s.business, "city-census.csv")  # front-run or registered ahead of time
    real = s.register(s.agency, "city-census.csv")  # the real publisher still registers its file
    assert real != squatted
    assert s.datasets.dataset(real)[1] == s.agency.address


def test_f1_publisher_may_republish_a_withdrawn_file(system):
    s = system
    first = s.register(s.agency, "budget.csv")
    with s.as_(s.agency):
        s.datasets.withdraw(first, h("published by mistake"))
    again = s.register(s.agency, "budget.csv")
    assert again == first + 1 and s.datasets.is_active(again)


# --- 2. release claims ----------------------------------------------------------------------------


def test_f2_snapshot_block_zero_is_refused(system):
    s = system
    did, aid = _granted(s)
    with boa.reverts("access: snapshot block is before the access was granted"):
        _release(s, aid, did, snap=0)


def test_f2_snapshot_before_the_grant_is_refused(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("terms"))
    before = boa.env.evm.patch.block_number
    boa.env.evm.patch.block_number += 5
    with s.as_(s.agency):
        s.access.grant_access(aid, boa.env.timestamp + 10 * DAY)
    with boa.reverts("access: snapshot block is before the access was granted"):
        _release(s, aid, did, snap=before)


def test_f2_personal_release_without_subjects_is_refused(system):
    s = system
    did, aid = _granted(s, personal=True)
    with boa.reverts("access: a personal release needs its subject count and consent root"):
        _release(s, aid, did, count=0, root=b"\0" * 32)


def test_f2_non_personal_release_with_subjects_is_refused(system):
    s = system
    did, aid = _granted(s, personal=False)
    with boa.reverts("access: a release of non-personal data has no subjects"):
        _release(s, aid, did, count=1000, root=ROOT)


# --- 3. a citizen cannot cancel an outstanding signature --------------------------------------------


def test_f3_citizen_cancels_a_signature_for_an_inactive_consent(system):
    s, c = system, system.citizens[0]
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + 100 * DAY
    sig = s.sign_grant(c, expiry=expiry, deadline=deadline)  # never submitted, consent never granted
    with s.as_(c):
        s.consent.cancel_signatures(P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER)
    with boa.reverts("consent: invalid signature"):
        s.consent.grant_by_sig(c.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER, expiry, deadline, sig)


# --- 4. one entry sinks a relayer's batch ---------------------------------------------------------


def test_f4_batch_of_100_survives_a_front_run_entry_and_a_gas_burning_wallet(system):
    s = system
    owner = account("burner-owner")
    wallet = mock_wallet_deployer().deploy(owner.address)
    wallet.set_burn(True)
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    citizens = [account(f"batch-citizen-{i}") for i in range(99)]
    batch = [
        (
            c.address,
            P,
            SCOPE_DOMAIN,
            word(1),
            ANY_RESEARCHER,
            expiry,
            deadline,
            s.sign_grant(c, expiry=expiry, deadline=deadline),
        )
        for c in citizens
    ]
    burn = s.sign_grant(owner, citizen=wallet.address, expiry=expiry, deadline=deadline)
    batch.insert(50, (wallet.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER, expiry, deadline, burn))
    s.consent.grant_by_sig(*batch[7])  # anyone submits one public entry first
    applied = s.consent.grant_batch_by_sig(batch, gas=6_000_000)
    assert applied == (1 << 100) - 1 - (1 << 7) - (1 << 50)
    assert [(e.index, e.citizen) for e in events(s.consent, "SignedGrantSkipped")] == [
        (7, citizens[7].address),
        (50, wallet.address),
    ]
    assert len(events(s.consent, "ConsentGranted")) == 98
    # The hostile wallet cost the batch its allowance, not the batch's gas.
    assert s.consent._computation.get_gas_used() < 98 * 40_000 + 150_000
    assert all(s.consent.is_active(c.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER) for c in citizens)


# --- 5. a de-accredited publisher keeps its data flows -----------------------------------------------


def test_f5_deaccredited_publisher_cannot_grant_or_release(system):
    s = system
    did, aid = _granted(s)
    with s.as_(s.researcher):
        pending = s.access.request_access(did, P, h("terms"))
    with s.as_(s.admin):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    with s.as_(s.agency), boa.reverts("access: publisher no longer holds the publisher role"):
        s.access.grant_access(pending, boa.env.timestamp + DAY)
    with boa.reverts("access: publisher no longer holds the publisher role"):
        _release(s, aid, did)


# --- 6. is_live ignores role revocation; the requester's role is ambiguous ------------------------------


def test_f6_access_is_not_live_once_the_grantee_lost_its_role(system):
    s = system
    _, aid = _granted(s)
    with s.as_(s.admin):
        s.roles.revoke_role(s.researcher.address, ROLE_RESEARCHER)
    assert not s.access.is_live(aid)


def test_f6_role_used_at_request_time_is_the_one_that_counts(system):
    s = system
    dual = s.dual()
    did, aid = _granted(s, requester=dual)  # requested as a researcher
    with s.as_(s.admin):
        s.roles.revoke_role(dual.address, ROLE_RESEARCHER)
    assert not s.access.is_live(aid)
    with boa.reverts("access: grantee no longer holds the role it requested with"):
        _release(s, aid, did)


# --- 7. anyone can make any publisher look non-compliant ---------------------------------------------


def test_f7_one_address_cannot_flood_a_publisher(system):
    s = system
    spammer = account("spammer")
    with s.as_(spammer), boa.reverts("rights: too many open requests to this publisher"):
        for i in range(200):
            s.rights.file_request(1, 1, word(s.agency.address), h(f"spam {i}"))


# --- 8. citizens cannot file against a former publisher ---------------------------------------------


def test_f8_request_against_a_former_publisher(system):
    s, c = system, system.citizens[0]
    s.register(s.agency, "census")
    with s.as_(s.admin):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    with s.as_(c):
        rid = s.rights.file_request(3, 1, word(s.agency.address), h("erase me"))
    assert s.rights.request(rid)[1] == s.agency.address


# --- points to decide ----------------------------------------------------------------------------


def test_decided_withdrawn_dataset_covers_no_use(system):
    s, c = system, system.citizens[0]
    did = s.register(s.agency, "census")
    with s.as_(c):
        s.consent.grant(P, SCOPE_DATASET, word(did), s.researcher.address, boa.env.timestamp + DAY)
    with s.as_(s.agency):
        s.datasets.withdraw(did, h("wrong file"))
    assert not s.consent.is_covered(c.address, P, did, s.researcher.address)


def test_decided_new_version_with_other_personal_flag_needs_new_access(system):
    s = system
    did, aid = _granted(s, personal=False)
    v2 = s.register(s.agency, "census-with-names", personal=True, supersedes=did)
    with boa.reverts("access: the version changed domain or personal flag; request access again"):
        _release(s, aid, v2)


def test_decided_publisher_cannot_attest_its_own_dataset(system):
    s = system
    with s.as_(s.admin):
        s.roles.grant_role(s.agency.address, 2, 0)  # the agency is also an auditor
    did = s.register(s.agency, "census")
    with s.as_(s.agency), boa.reverts("datasets: auditor is the dataset's publisher"):
        s.datasets.attest(did, 1, h("self-review"))


def test_decided_requester_cancels_its_pending_request(system):
    s = system
    did = s.register(s.agency, "census")
    with s.as_(s.researcher):
        aid = s.access.request_access(did, P, h("terms"))
        s.access.cancel_request(aid)
    with s.as_(s.agency), boa.reverts("access: access is not in requested state"):
        s.access.grant_access(aid, boa.env.timestamp + DAY)


def test_decided_admin_at_deployment_must_accept(system):
    s = system
    typo = account("admin-with-a-typo")
    with s.as_(s.admin):
        roles = deployer("CityRoles").deploy(typo.address)
    # The deployer keeps the admin role until the named admin accepts it (two steps).
    assert roles.owner() == s.admin.address and roles.pending_owner() == typo.address


def test_decided_eip7702_delegated_eoa_signs_with_its_key(system):
    s, c = system, system.citizens[0]
    # Under EIP-7702 an EOA has code (here: a wallet that approves nothing); its own key still signs.
    boa.env.set_code(c.address, boa.env.get_code(mock_wallet_deployer().deploy(ANY_RESEARCHER).address))
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    sig = s.sign_grant(c, expiry=expiry, deadline=deadline)
    s.consent.grant_by_sig(c.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER, expiry, deadline, sig)
    assert s.consent.is_active(c.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER)


# --- gas -----------------------------------------------------------------------------------------


def test_gas_release_is_kept_as_one_commitment(system):
    # Root and hash were two slots (~44k gas) for data the event already carries; one commitment
    # slot is checkable against what the event says.
    s = system
    did, aid = _granted(s)
    rid = _release(s, aid, did)
    assert s.access.release_matches(rid, ROOT, h("release"), 0)
    assert not s.access.release_matches(rid, ROOT, h("another file"), 0)
