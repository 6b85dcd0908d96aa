"""ConsentRegistry: direct grants and revokes, EIP-712 signatures (wallet-compatible),
replay protection, ERC-1271 wallets, batches."""

import boa
import pytest
from boa.contracts.base_evm_contract import BoaError
from contracts_kit import (
    ANY_RESEARCHER,
    DAY,
    GRANT_TYPES,
    REVOKE_TYPES,
    SCOPE_DATASET,
    SCOPE_DOMAIN,
    SCOPE_PUBLISHER,
    account,
    deployer,
    events,
    grant_message,
    high_s,
    mock_wallet_deployer,
    purpose,
    word,
)
from eth_abi import encode
from eth_account.messages import encode_typed_data
from eth_utils import keccak

P = purpose()


def key_of(citizen, p=P, kind=SCOPE_DOMAIN, sid=None, grantee=ANY_RESEARCHER):
    sid = word(1) if sid is None else sid
    return keccak(encode(["address", "bytes32", "uint8", "bytes32", "address"], [citizen, p, kind, sid, grantee]))


def args(p=P, kind=SCOPE_DOMAIN, sid=None, grantee=ANY_RESEARCHER):
    return (p, kind, word(1) if sid is None else sid, grantee)


def test_direct_grant_and_revoke(system):
    s, c = system, system.citizens[0]
    expiry = boa.env.timestamp + 30 * DAY
    assert not s.consent.is_active(c.address, *args())
    with s.as_(c):
        key = s.consent.grant(*args(), expiry)
    (ev,) = events(s.consent, "ConsentGranted")
    assert key == key_of(c.address) == s.consent.consent_key(c.address, *args())
    assert (
        ev.key,
        ev.citizen,
        ev.purpose,
        ev.scope_kind,
        ev.scope_id,
        ev.grantee,
        ev.expiry,
        ev.nonce,
        ev.submitted_by,
    ) == (key, c.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER, expiry, 1, c.address)
    assert s.consent.is_active(c.address, *args())
    assert s.consent.consent(key) == (expiry, 1, boa.env.timestamp)
    with s.as_(c):
        s.consent.revoke(*args())
    (ev,) = events(s.consent, "ConsentRevoked")
    assert (ev.key, ev.citizen, ev.nonce, ev.submitted_by) == (key, c.address, 2, c.address)
    assert not s.consent.is_active(c.address, *args())
    assert s.consent.consent(key)[:2] == (0, 2)
    with s.as_(c), boa.reverts("consent: not active"):
        s.consent.revoke(*args())


def test_consent_expires(system):
    s, c = system, system.citizens[0]
    with s.as_(c):
        s.consent.grant(*args(), boa.env.timestamp + 100)
    boa.env.time_travel(seconds=99)
    assert s.consent.is_active(c.address, *args())
    boa.env.time_travel(seconds=1)
    assert not s.consent.is_active(c.address, *args())
    with s.as_(c), boa.reverts("consent: not active"):
        s.consent.revoke(*args())


def test_regrant_updates_expiry(system):
    s, c = system, system.citizens[0]
    with s.as_(c):
        s.consent.grant(*args(), boa.env.timestamp + 100)
        s.consent.grant(*args(), boa.env.timestamp + 50)
    assert s.consent.consent(key_of(c.address))[:2] == (boa.env.timestamp + 50, 2)


def test_keys_are_distinct(system):
    s, c = system, system.citizens[0]
    with s.as_(c):
        s.consent.grant(*args(), boa.env.timestamp + 100)
    assert not s.consent.is_active(s.citizens[1].address, *args())
    assert not s.consent.is_active(c.address, *args(p=purpose("Marketing")))
    assert not s.consent.is_active(c.address, *args(sid=word(2)))
    assert not s.consent.is_active(c.address, *args(grantee=s.researcher.address))
    assert not s.consent.is_active(c.address, *args(kind=SCOPE_DATASET))


@pytest.mark.parametrize(
    "p,kind,sid,expiry_delta,reason",
    [
        (b"\0" * 32, SCOPE_DOMAIN, word(1), 10, "consent: empty purpose"),
        (P, 0, word(1), 10, "consent: unknown scope kind"),
        (P, 4, word(1), 10, "consent: unknown scope kind"),
        (P, SCOPE_DOMAIN, word(0), 10, "consent: unknown domain"),
        (P, SCOPE_DOMAIN, word(13), 10, "consent: unknown domain"),
        (P, SCOPE_DATASET, word(0), 10, "consent: empty dataset scope"),
        (P, SCOPE_PUBLISHER, word(0), 10, "consent: publisher scope is not an address"),
        (P, SCOPE_PUBLISHER, b"\1" * 32, 10, "consent: publisher scope is not an address"),
        (P, SCOPE_DOMAIN, word(1), 0, "consent: expiry is in the past"),
    ],
)
def test_grant_rejects_bad_terms(system, p, kind, sid, expiry_delta, reason):
    s, c = system, system.citizens[0]
    with s.as_(c), boa.reverts(reason):
        s.consent.grant(p, kind, sid, ANY_RESEARCHER, boa.env.timestamp + expiry_delta)


def test_publisher_and_dataset_scopes(system):
    s, c = system, system.citizens[0]
    with s.as_(c):
        s.consent.grant(P, SCOPE_PUBLISHER, word(s.agency.address), s.researcher.address, boa.env.timestamp + 10)
        s.consent.grant(P, SCOPE_DATASET, word(7), ANY_RESEARCHER, boa.env.timestamp + 10)
    assert s.consent.is_active(c.address, P, SCOPE_PUBLISHER, word(s.agency.address), s.researcher.address)
    assert s.consent.is_active(c.address, P, SCOPE_DATASET, word(7), ANY_RESEARCHER)


# --- signatures ------------------------------------------------------------------------------------


def test_digest_matches_wallet_encoding(system):
    """The contract's digests are exactly what eth_signTypedData_v4 signs."""
    s, c = system, system.citizens[0]
    msg = grant_message(c.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER, 12345, 3, 99999)
    domain = {
        "name": "CityLedger Consent",
        "version": "1",
        "chainId": s.chain_id(),
        "verifyingContract": s.consent.address,
    }
    signable = encode_typed_data(domain, GRANT_TYPES, msg)
    wallet_digest = keccak(b"\x19\x01" + signable.header + signable.body)
    assert s.consent.grant_digest(c.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER, 12345, 3, 99999) == wallet_digest
    rmsg = {k: v for k, v in msg.items() if k != "expiry"}
    signable = encode_typed_data(domain, REVOKE_TYPES, rmsg)
    assert s.consent.revoke_digest(c.address, P, SCOPE_DOMAIN, word(1), ANY_RESEARCHER, 3, 99999) == keccak(
        b"\x19\x01" + signable.header + signable.body
    )
    d = s.consent.eip712Domain()
    assert (d[1], d[2], d[3], d[4]) == ("CityLedger Consent", "1", s.chain_id(), s.consent.address)


def test_grant_by_sig_by_relayer(system):
    s, c = system, system.citizens[0]
    relayer = account("relayer")
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    sig = s.sign_grant(c, expiry=expiry, deadline=deadline)
    with s.as_(relayer):
        key = s.consent.grant_by_sig(c.address, *args(), expiry, deadline, sig)
    (ev,) = events(s.consent, "ConsentGranted")
    assert (ev.citizen, ev.submitted_by, ev.nonce, ev.expiry) == (c.address, relayer.address, 1, expiry)
    assert s.consent.is_active(c.address, *args())
    assert s.consent.nonce_of(key) == 1
    # Used once: the same signature again is refused.
    with s.as_(relayer), boa.reverts("consent: invalid signature"):
        s.consent.grant_by_sig(c.address, *args(), expiry, deadline, sig)


def _grant_sig_call(s, c, sig, expiry, deadline, citizen=None):
    return s.consent.grant_by_sig(citizen or c.address, *args(), expiry, deadline, sig)


def test_signature_rejections(system):
    s, c = system, system.citizens[0]
    now = boa.env.timestamp
    expiry, deadline = now + 10 * DAY, now + DAY
    good = s.sign_grant(c, expiry=expiry, deadline=deadline)
    cases = {
        "wrong chain": s.sign_grant(c, expiry=expiry, deadline=deadline, chain_id=s.chain_id() + 1),
        "wrong contract": s.sign_grant(c, expiry=expiry, deadline=deadline, contract=s.access.address),
        "wrong signer": s.sign_grant(s.citizens[1], citizen=c.address, expiry=expiry, deadline=deadline),
        "future nonce": s.sign_grant(c, expiry=expiry, deadline=deadline, nonce=1),
        "other expiry": s.sign_grant(c, expiry=expiry + 1, deadline=deadline),
        "revoke type": s.sign_revoke(c, deadline=deadline),
    }
    for sig in cases.values():
        with boa.reverts("consent: invalid signature"):
            _grant_sig_call(s, c, sig, expiry, deadline)
    with boa.reverts("ecdsa: invalid signature `s` value"):
        _grant_sig_call(s, c, high_s(good), expiry, deadline)
    with boa.reverts("consent: signature must be 65 bytes"):
        _grant_sig_call(s, c, good[:64], expiry, deadline)
    with boa.reverts():  # v not 27/28: ecrecover yields nothing
        _grant_sig_call(s, c, good[:64] + b"\x01", expiry, deadline)
    with boa.reverts("consent: citizen is the zero address"):
        _grant_sig_call(s, c, good, expiry, deadline, citizen=ANY_RESEARCHER)
    assert not s.consent.is_active(c.address, *args())
    # The untouched good signature still works, before its deadline.
    _grant_sig_call(s, c, good, expiry, deadline)
    assert s.consent.is_active(c.address, *args())


def test_deadline(system):
    s, c = system, system.citizens[0]
    now = boa.env.timestamp
    expiry, deadline = now + 10 * DAY, now + 100
    sig = s.sign_grant(c, expiry=expiry, deadline=deadline)
    boa.env.time_travel(seconds=101)
    with boa.reverts("consent: signature deadline passed"):
        _grant_sig_call(s, c, sig, expiry, deadline)
    sig = s.sign_grant(c, expiry=expiry, deadline=boa.env.timestamp)  # deadline == now is still valid
    _grant_sig_call(s, c, sig, expiry, boa.env.timestamp)


def test_signature_bound_to_chain_id(system):
    """A signature made for this chain stops working if the contract runs on another chain id."""
    s, c = system, system.citizens[0]
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    sig = s.sign_grant(c, expiry=expiry, deadline=deadline)
    old = boa.env.evm.patch.chain_id
    boa.env.evm.patch.chain_id = old + 5
    try:
        with boa.reverts("consent: invalid signature"):
            _grant_sig_call(s, c, sig, expiry, deadline)
        assert s.consent.eip712Domain()[3] == old + 5
        sig5 = s.sign_grant(c, expiry=expiry, deadline=deadline)  # signed for the new chain id
        _grant_sig_call(s, c, sig5, expiry, deadline)
    finally:
        boa.env.evm.patch.chain_id = old


def test_signature_bound_to_contract(system):
    s, c = system, system.citizens[0]
    other = deployer("ConsentRegistry").deploy(s.roles.address, s.datasets.address)
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    sig = s.sign_grant(c, expiry=expiry, deadline=deadline)
    with boa.reverts("consent: invalid signature"):
        other.grant_by_sig(c.address, *args(), expiry, deadline, sig)
    _grant_sig_call(s, c, sig, expiry, deadline)


def test_direct_action_cancels_outstanding_signature(system):
    s, c = system, system.citizens[0]
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    sig = s.sign_grant(c, expiry=expiry, deadline=deadline)
    with s.as_(c):
        s.consent.grant(*args(), boa.env.timestamp + 5)
        s.consent.revoke(*args())
    with boa.reverts("consent: invalid signature"):
        _grant_sig_call(s, c, sig, expiry, deadline)
    assert not s.consent.is_active(c.address, *args())


def test_revoke_by_sig(system):
    s, c = system, system.citizens[0]
    relayer = account("relayer")
    with s.as_(c):
        s.consent.grant(*args(), boa.env.timestamp + 10 * DAY)
    deadline = boa.env.timestamp + DAY
    stale = s.sign_revoke(c, nonce=0, deadline=deadline)
    with boa.reverts("consent: invalid signature"):
        s.consent.revoke_by_sig(c.address, *args(), deadline, stale)
    with boa.reverts("consent: invalid signature"):
        s.consent.revoke_by_sig(
            c.address, *args(), deadline, s.sign_revoke(s.citizens[1], citizen=c.address, nonce=1, deadline=deadline)
        )
    sig = s.sign_revoke(c, nonce=1, deadline=deadline)
    with boa.reverts("ecdsa: invalid signature `s` value"):
        s.consent.revoke_by_sig(c.address, *args(), deadline, high_s(sig))
    with s.as_(relayer):
        s.consent.revoke_by_sig(c.address, *args(), deadline, sig)
    (ev,) = events(s.consent, "ConsentRevoked")
    assert (ev.citizen, ev.submitted_by, ev.nonce) == (c.address, relayer.address, 2)
    assert not s.consent.is_active(c.address, *args())
    with boa.reverts("consent: invalid signature"):
        s.consent.revoke_by_sig(c.address, *args(), deadline, sig)
    # A signed revoke of an inactive consent reverts too.
    with boa.reverts("consent: not active"):
        s.consent.revoke_by_sig(c.address, *args(), deadline, s.sign_revoke(c, nonce=2, deadline=deadline))
    boa.env.time_travel(seconds=DAY + 1)
    with s.as_(c):
        s.consent.grant(*args(), boa.env.timestamp + 10 * DAY)
    late = s.sign_revoke(c, nonce=3, deadline=boa.env.timestamp - 1)
    with boa.reverts("consent: signature deadline passed"):
        s.consent.revoke_by_sig(c.address, *args(), boa.env.timestamp - 1, late)


def test_erc1271_wallet(system):
    s = system
    owner = account("wallet-owner")
    wallet = mock_wallet_deployer().deploy(owner.address)
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    # Signed by someone else: the wallet says no.
    bad = s.sign_grant(s.citizens[0], citizen=wallet.address, expiry=expiry, deadline=deadline)
    with boa.reverts("consent: invalid signature"):
        s.consent.grant_by_sig(wallet.address, *args(), expiry, deadline, bad)
    sig = s.sign_grant(owner, citizen=wallet.address, expiry=expiry, deadline=deadline)
    s.consent.grant_by_sig(wallet.address, *args(), expiry, deadline, sig)
    assert s.consent.is_active(wallet.address, *args())
    # The nonce still protects a wallet whose check accepts anything.
    wallet.set_approve_all(True)
    deadline2 = boa.env.timestamp + DAY
    s.consent.revoke_by_sig(wallet.address, *args(), deadline2, b"\x01")
    assert not s.consent.is_active(wallet.address, *args())
    with boa.reverts("consent: signature deadline passed"):
        s.consent.grant_by_sig(wallet.address, *args(), expiry, boa.env.timestamp - 1, b"")
    # A contract without isValidSignature is never valid.
    with boa.reverts("consent: invalid signature"):
        s.consent.grant_by_sig(s.roles.address, *args(), expiry, deadline, sig)


def _signed(s, citizen, nonce=0, sid=1, expiry=None, deadline=None, signer=None):
    expiry = expiry or boa.env.timestamp + 10 * DAY
    deadline = deadline or boa.env.timestamp + DAY
    sig = s.sign_grant(
        signer or citizen, citizen=citizen.address, scope_id=word(sid), expiry=expiry, nonce=nonce, deadline=deadline
    )
    return (citizen.address, P, SCOPE_DOMAIN, word(sid), ANY_RESEARCHER, expiry, deadline, sig)


def test_batch_grants(system):
    s = system
    batch = [_signed(s, c) for c in s.citizens] + [_signed(s, s.citizens[0], nonce=1, sid=1)]
    batch.append(_signed(s, s.citizens[1], sid=2))
    s.consent.grant_batch_by_sig(batch)
    evs = events(s.consent, "ConsentGranted")
    assert len(evs) == len(batch)
    assert [e.nonce for e in evs] == [1, 1, 1, 1, 2, 1]
    for c in s.citizens:
        assert s.consent.is_active(c.address, *args())
    assert s.consent.is_active(s.citizens[1].address, *args(sid=word(2)))


# fault codes of SignedGrantSkipped.reason (docs/CONTRACTS.md)
DEADLINE, LENGTH, HIGH_S, BAD_SIGNATURE, EXPIRY = 1, 3, 4, 5, 11


@pytest.mark.parametrize(
    "bad,reason",
    [
        ("wrong signer", BAD_SIGNATURE),
        ("replayed", BAD_SIGNATURE),
        ("deadline", DEADLINE),
        ("expiry", EXPIRY),
        ("high-s", HIGH_S),
        ("short", LENGTH),
    ],
)
def test_batch_skips_what_cannot_be_applied(system, bad, reason):
    """Finding 4: an entry that cannot be applied is skipped with an event; the rest apply."""
    s = system
    batch = [_signed(s, c) for c in s.citizens[:3]]
    if bad == "wrong signer":
        batch.append(_signed(s, s.citizens[3], signer=s.citizens[0]))
    elif bad == "replayed":
        batch.append(batch[0])
    elif bad == "deadline":
        batch.append(_signed(s, s.citizens[3], deadline=boa.env.timestamp - 1))
    elif bad == "expiry":
        batch.append(_signed(s, s.citizens[3], expiry=boa.env.timestamp))
    else:
        g = _signed(s, s.citizens[3])
        batch.append(g[:-1] + ((high_s(g[-1]) if bad == "high-s" else g[-1][:64]),))
    batch.append(_signed(s, s.citizens[3], sid=5))
    applied = s.consent.grant_batch_by_sig(batch)
    (skipped,) = events(s.consent, "SignedGrantSkipped")
    assert len(events(s.consent, "ConsentGranted")) == 4
    assert applied == 0b10111
    bad_entry = batch[3]
    assert (skipped.index, skipped.citizen, skipped.key, skipped.reason) == (
        3,
        bad_entry[0],
        key_of(bad_entry[0], sid=bad_entry[3]),
        reason,
    )
    for c in s.citizens[:3]:
        assert s.consent.is_active(c.address, *args())
    assert not s.consent.is_active(s.citizens[3].address, *args())
    assert s.consent.is_active(s.citizens[3].address, *args(sid=word(5)))
    assert s.consent.nonce_of(key_of(s.citizens[3].address)) == 0  # the skipped entry changed nothing


def test_batch_of_only_bad_entries_applies_nothing(system):
    s = system
    g = _signed(s, s.citizens[0], deadline=boa.env.timestamp - 1)
    assert s.consent.grant_batch_by_sig([g, g]) == 0
    assert [e.reason for e in events(s.consent, "SignedGrantSkipped")] == [DEADLINE, DEADLINE]
    assert s.consent.nonce_of(key_of(s.citizens[0].address)) == 0


def test_batch_limits(system):
    s = system
    with boa.reverts("consent: empty batch"):
        s.consent.grant_batch_by_sig([])
    g = _signed(s, s.citizens[0])
    with pytest.raises(BoaError):  # 129 entries do not fit the ABI type
        s.consent.grant_batch_by_sig([g] * 129)


def test_is_covered_across_scopes_and_grantees(system):
    s, c = system, system.citizens[0]
    did = s.register(s.agency, "census", domain=7)
    other = s.register(s.business, "meters", domain=4)
    outsider = account("outsider").address
    later = boa.env.timestamp + 10 * DAY
    assert not s.consent.is_covered(c.address, P, did, s.researcher.address)
    with s.as_(c):
        s.consent.grant(P, SCOPE_DOMAIN, word(7), ANY_RESEARCHER, later)
    assert s.consent.is_covered(c.address, P, did, s.researcher.address)
    assert not s.consent.is_covered(c.address, P, did, s.business.address)  # not a researcher
    assert not s.consent.is_covered(c.address, P, did, outsider)
    assert not s.consent.is_covered(c.address, P, other, s.researcher.address)  # other domain
    assert not s.consent.is_covered(c.address, purpose("Marketing"), did, s.researcher.address)
    assert not s.consent.is_covered(c.address, P, 99, s.researcher.address)  # unknown dataset
    with s.as_(s.admin):
        s.roles.revoke_role(s.researcher.address, 4)
    assert not s.consent.is_covered(c.address, P, did, s.researcher.address)
    with s.as_(c):
        s.consent.grant(P, SCOPE_PUBLISHER, word(s.business.address), s.business.address, later)
        s.consent.grant(P, SCOPE_DATASET, word(did), outsider, later)
    assert s.consent.is_covered(c.address, P, other, s.business.address)
    assert not s.consent.is_covered(c.address, P, did, s.business.address)
    assert s.consent.is_covered(c.address, P, did, outsider)
    assert not s.consent.is_covered(c.address, P, other, outsider)
    boa.env.time_travel(seconds=10 * DAY)
    assert not s.consent.is_covered(c.address, P, did, outsider)
    assert not s.consent.is_covered(c.address, P, other, s.business.address)


# --- cancelling signatures (finding 3) --------------------------------------------------------------


@pytest.mark.parametrize("state", ["never granted", "active", "expired", "revoked"])
def test_cancel_signatures_in_any_state(system, state):
    s, c = system, system.citizens[0]
    expiry = boa.env.timestamp + 5 * DAY
    if state != "never granted":
        with s.as_(c):
            s.consent.grant(*args(), expiry)
        if state == "revoked":
            with s.as_(c):
                s.consent.revoke(*args())
        elif state == "expired":
            boa.env.time_travel(seconds=5 * DAY)
    key = key_of(c.address)
    before = s.consent.consent(key)
    deadline = boa.env.timestamp + 100 * DAY
    grant_sig = s.sign_grant(c, nonce=before[1], expiry=boa.env.timestamp + 9 * DAY, deadline=deadline)
    revoke_sig = s.sign_revoke(c, nonce=before[1], deadline=deadline)
    with s.as_(c):
        s.consent.cancel_signatures(*args())
    (ev,) = events(s.consent, "SignaturesCancelled")
    assert (ev.key, ev.citizen, ev.nonce) == (key, c.address, before[1] + 1)
    assert s.consent.consent(key) == (before[0], before[1] + 1, before[2])  # expiry, granted_at kept
    assert s.consent.is_active(c.address, *args()) == (state == "active")
    with boa.reverts("consent: invalid signature"):
        s.consent.grant_by_sig(c.address, *args(), boa.env.timestamp + 9 * DAY, deadline, grant_sig)
    if state == "active":
        with boa.reverts("consent: invalid signature"):
            s.consent.revoke_by_sig(c.address, *args(), deadline, revoke_sig)
    # A signature for the new nonce works.
    fresh = s.sign_grant(c, nonce=before[1] + 1, expiry=boa.env.timestamp + 9 * DAY, deadline=deadline)
    s.consent.grant_by_sig(c.address, *args(), boa.env.timestamp + 9 * DAY, deadline, fresh)
    assert s.consent.is_active(c.address, *args())


def test_cancel_signatures_touches_only_the_callers_key(system):
    s, c, other = system, system.citizens[0], system.citizens[1]
    deadline = boa.env.timestamp + DAY
    expiry = boa.env.timestamp + 9 * DAY
    sig = s.sign_grant(other, expiry=expiry, deadline=deadline)
    with s.as_(c):
        s.consent.cancel_signatures(*args())
    assert s.consent.nonce_of(key_of(other.address)) == 0
    s.consent.grant_by_sig(other.address, *args(), expiry, deadline, sig)


# --- wallets: EIP-7702, gas cap --------------------------------------------------------------------


def test_eip7702_delegated_eoa_signs_with_its_own_key(system):
    """An EOA delegated under EIP-7702 has code; its key still signs for it (ECDSA is tried
    first), and its delegated code may accept other signatures through ERC-1271."""
    s, c = system, system.citizens[0]
    wallet = mock_wallet_deployer().deploy(ANY_RESEARCHER)  # code that approves nothing
    boa.env.set_code(c.address, boa.env.get_code(wallet.address))
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    s.consent.grant_by_sig(c.address, *args(), expiry, deadline, s.sign_grant(c, expiry=expiry, deadline=deadline))
    assert s.consent.is_active(c.address, *args())
    other = s.sign_revoke(s.citizens[1], citizen=c.address, nonce=1, deadline=deadline)
    with boa.reverts("consent: invalid signature"):
        s.consent.revoke_by_sig(c.address, *args(), deadline, other)


def test_wallet_check_gets_a_bounded_allowance(system):
    """A wallet that burns gas costs the transaction at most WALLET_CHECK_GAS; the call is
    refused outright when the transaction leaves less than that allowance."""
    s = system
    assert s.consent.WALLET_CHECK_GAS() == 100_000
    owner = account("wallet-owner")
    wallet = mock_wallet_deployer().deploy(owner.address)
    expiry, deadline = boa.env.timestamp + 10 * DAY, boa.env.timestamp + DAY
    sig = s.sign_grant(owner, citizen=wallet.address, expiry=expiry, deadline=deadline)
    with boa.reverts("consent: not enough gas for a wallet's signature check"):
        s.consent.grant_by_sig(wallet.address, *args(), expiry, deadline, sig, gas=90_000)
    wallet.set_burn(True)
    with boa.reverts("consent: invalid signature"):
        s.consent.grant_by_sig(wallet.address, *args(), expiry, deadline, sig, gas=1_000_000)
    assert s.consent._computation.get_gas_used() < 100_000 + 40_000
    wallet.set_burn(False)
    s.consent.grant_by_sig(wallet.address, *args(), expiry, deadline, sig, gas=1_000_000)
    assert s.consent.is_active(wallet.address, *args())
