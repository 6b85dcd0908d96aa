# pragma version 0.4.3
"""
@title CityLedger consent registry
@custom:contract-name ConsentRegistry
@license MIT
@author CityLedger maintainers
@notice A citizen grants consent for (purpose, scope, grantee) until an expiry and can
        revoke it; anyone may submit a grant or revoke carrying the citizen's EIP-712
        signature (so a citizen needs no ether). "Is this consent active now?" is one SLOAD.
        A citizen cancels every signature still outstanding for a key with
        `cancel_signatures`, whether or not the consent is active.
@dev Storage layout:
     - `_consents[key]`: `expiry | nonce << 64 | granted_at << 128`, one slot per consent
       key `keccak256(abi_encode(citizen, purpose, scope_kind, scope_id, grantee))`.
       Active iff `block.timestamp < expiry`; revoke sets expiry to 0. The nonce is per key:
       every grant, revoke or cancel_signatures increments it, so a signature is usable
       once and cancelling invalidates every signature made for the current nonce.
     - snekmate `eip712_domain_separator` immutables (domain "CityLedger Consent", "1").
     Events carry the nonce after the action.
     Signatures: a 65-byte `r || s || v` signature is first tried as the citizen's own key
     (ECDSA, low-s only); if that fails and the citizen has code (a contract wallet, or an
     EOA delegated under EIP-7702), its ERC-1271 `isValidSignature` decides, with at most
     WALLET_CHECK_GAS gas, as OpenZeppelin's SignatureChecker does.
"""

from .modules import role_gate
from .modules import packing
from .modules import IDatasetRegistry
from snekmate.utils import eip712_domain_separator as eip712

initializes: role_gate
initializes: eip712
exports: (role_gate.roles, eip712.eip712Domain)

# @dev Consent scope kinds: one dataset version, every dataset of a publisher, a domain.
SCOPE_DATASET: constant(uint8) = 1
SCOPE_PUBLISHER: constant(uint8) = 2
SCOPE_DOMAIN: constant(uint8) = 3
# @dev Highest domain code (docs/CONTRACTS.md "Codes").
MAX_DOMAIN: constant(uint256) = 12
# @dev Most signed grants in one batch (the applied-entries bitmap has a bit for each).
MAX_BATCH: constant(uint256) = 128
# @dev Gas given to a contract wallet's ERC-1271 check: a Safe multisig or a passkey wallet
#      on the P-256 precompile needs well under it; a wallet that burns gas wastes no more.
WALLET_CHECK_GAS: public(constant(uint256)) = 100_000
# @dev Gas the call to a wallet needs beside the gas it forwards (cold account, memory).
WALLET_CALL_OVERHEAD: constant(uint256) = 5_000
# @dev ERC-1271 magic value (`isValidSignature` selector).
ERC1271_MAGIC: constant(bytes4) = 0x1626BA7E
# @dev secp256k1 n / 2: a signature with a larger `s` is the malleable twin (EIP-2).
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168

# @dev EIP-712 type hash of a signed grant (docs/CONTRACTS.md; src/cityledger/signing.py signs it).
GRANT_TYPEHASH: constant(bytes32) = keccak256(
    "Grant(address citizen,bytes32 purpose,uint8 scopeKind,bytes32 scopeId,address grantee,uint64 expiry,uint64 nonce,uint256 deadline)"
)
# @dev EIP-712 type hash of a signed revoke.
REVOKE_TYPEHASH: constant(bytes32) = keccak256(
    "Revoke(address citizen,bytes32 purpose,uint8 scopeKind,bytes32 scopeId,address grantee,uint64 nonce,uint256 deadline)"
)

# @dev Field positions in a consent slot, and one nonce step.
SHIFT_NONCE: constant(uint256) = 64
SHIFT_GRANTED_AT: constant(uint256) = 128
ONE_NONCE: constant(uint256) = 1 << 64

# @dev Fault codes of a signed grant or revoke (the `reason` of SignedGrantSkipped); 0 is none.
FAULT_DEADLINE: constant(uint8) = 1
FAULT_CITIZEN: constant(uint8) = 2
FAULT_LENGTH: constant(uint8) = 3
FAULT_HIGH_S: constant(uint8) = 4
FAULT_SIGNATURE: constant(uint8) = 5
FAULT_PURPOSE: constant(uint8) = 6
FAULT_DATASET_SCOPE: constant(uint8) = 7
FAULT_PUBLISHER_SCOPE: constant(uint8) = 8
FAULT_DOMAIN: constant(uint8) = 9
FAULT_SCOPE_KIND: constant(uint8) = 10
FAULT_EXPIRY: constant(uint8) = 11


# @dev One entry of `grant_batch_by_sig`: the arguments of `grant_by_sig`.
struct SignedGrant:
    citizen: address
    purpose: bytes32
    scope_kind: uint8
    scope_id: bytes32
    grantee: address
    expiry: uint64
    deadline: uint256
    signature: Bytes[65]


# @dev A consent was granted or re-granted; `submitted_by` is the citizen or the relayer.
event ConsentGranted:
    key: indexed(bytes32)
    citizen: indexed(address)
    purpose: indexed(bytes32)
    scope_kind: uint8
    scope_id: bytes32
    grantee: address
    expiry: uint64
    nonce: uint64
    submitted_by: address


# @dev A consent was revoked; `submitted_by` is the citizen or the relayer.
event ConsentRevoked:
    key: indexed(bytes32)
    citizen: indexed(address)
    purpose: indexed(bytes32)
    scope_kind: uint8
    scope_id: bytes32
    grantee: address
    nonce: uint64
    submitted_by: address


# @dev The citizen invalidated every outstanding signature for `key` (expiry and
#      granted_at unchanged); `nonce` is the nonce a new signature must carry.
event SignaturesCancelled:
    key: indexed(bytes32)
    citizen: indexed(address)
    nonce: uint64


# @dev Entry `index` of a batch was not applied (`reason`: a fault code, docs/CONTRACTS.md).
event SignedGrantSkipped:
    index: uint256
    citizen: indexed(address)
    key: indexed(bytes32)
    reason: uint8


# @dev The DatasetRegistry `is_covered` reads a version's publisher, domain and status from.
datasets: public(immutable(IDatasetRegistry))
# @dev consent key -> expiry | nonce << 64 | granted_at << 128.
_consents: HashMap[bytes32, uint256]


@deploy
def __init__(roles: address, datasets_: address):
    """
    @notice Deploys the consent registry; EIP-712 domain "CityLedger Consent" version "1".
    @param roles The CityRoles address.
    @param datasets_ The DatasetRegistry address.
    """
    assert datasets_ != empty(address), "consent: datasets address is the zero address"
    role_gate.__init__(roles)
    eip712.__init__("CityLedger Consent", "1")
    datasets = IDatasetRegistry(datasets_)


@internal
@pure
def _key(citizen: address, purpose: bytes32, scope_kind: uint8, scope_id: bytes32, grantee: address) -> bytes32:
    return keccak256(abi_encode(citizen, purpose, scope_kind, scope_id, grantee))


@internal
@view
def _terms_fault(purpose: bytes32, scope_kind: uint8, scope_id: bytes32, expiry: uint64) -> uint8:
    # Arithmetic checks only: no external call on the hot path.
    if purpose == empty(bytes32):
        return FAULT_PURPOSE
    if scope_kind == SCOPE_DATASET:
        if scope_id == empty(bytes32):
            return FAULT_DATASET_SCOPE
    elif scope_kind == SCOPE_PUBLISHER:
        if scope_id == empty(bytes32) or not packing._is_address_word(scope_id):
            return FAULT_PUBLISHER_SCOPE
    elif scope_kind == SCOPE_DOMAIN:
        domain: uint256 = convert(scope_id, uint256)
        if domain < 1 or domain > MAX_DOMAIN:
            return FAULT_DOMAIN
    else:
        return FAULT_SCOPE_KIND
    if convert(expiry, uint256) <= block.timestamp:
        return FAULT_EXPIRY
    return 0


@internal
@pure
def _require_no_fault(fault: uint8):
    # One revert string per fault code (the strings predate the codes; clients match them).
    if fault == 0:
        return
    assert fault != FAULT_DEADLINE, "consent: signature deadline passed"
    assert fault != FAULT_CITIZEN, "consent: citizen is the zero address"
    assert fault != FAULT_LENGTH, "consent: signature must be 65 bytes"
    assert fault != FAULT_HIGH_S, "ecdsa: invalid signature `s` value"
    assert fault != FAULT_PURPOSE, "consent: empty purpose"
    assert fault != FAULT_DATASET_SCOPE, "consent: empty dataset scope"
    assert fault != FAULT_PUBLISHER_SCOPE, "consent: publisher scope is not an address"
    assert fault != FAULT_DOMAIN, "consent: unknown domain"
    assert fault != FAULT_SCOPE_KIND, "consent: unknown scope kind"
    assert fault != FAULT_EXPIRY, "consent: expiry is in the past"
    raise "consent: invalid signature"


@internal
def _grant(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    expiry: uint64,
    key: bytes32,
    slot: uint256,
) -> bytes32:
    """
    @dev Writes a consent slot: the new expiry, the nonce + 1, granted_at = now.
    """
    nonce: uint256 = ((slot >> SHIFT_NONCE) & packing.MASK64) + 1
    self._consents[key] = convert(expiry, uint256) | (nonce << SHIFT_NONCE) | (block.timestamp << SHIFT_GRANTED_AT)
    log ConsentGranted(
        key=key,
        citizen=citizen,
        purpose=purpose,
        scope_kind=scope_kind,
        scope_id=scope_id,
        grantee=grantee,
        expiry=expiry,
        nonce=convert(nonce, uint64),
        submitted_by=msg.sender,
    )
    return key


@internal
def _revoke(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    key: bytes32,
    slot: uint256,
):
    """
    @dev Ends an active consent slot: expiry 0, the nonce + 1, granted_at kept.
    """
    assert slot & packing.MASK64 > block.timestamp, "consent: not active"
    updated: uint256 = (slot & ~packing.MASK64) + ONE_NONCE
    self._consents[key] = updated
    log ConsentRevoked(
        key=key,
        citizen=citizen,
        purpose=purpose,
        scope_kind=scope_kind,
        scope_id=scope_id,
        grantee=grantee,
        nonce=convert((updated >> SHIFT_NONCE) & packing.MASK64, uint64),
        submitted_by=msg.sender,
    )


@internal
@view
def _grant_digest(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    expiry: uint64,
    nonce: uint256,
    deadline: uint256,
) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(abi_encode(GRANT_TYPEHASH, citizen, purpose, scope_kind, scope_id, grantee, expiry, nonce, deadline))
    )


@internal
@view
def _revoke_digest(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    nonce: uint256,
    deadline: uint256,
) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(abi_encode(REVOKE_TYPEHASH, citizen, purpose, scope_kind, scope_id, grantee, nonce, deadline))
    )


@internal
@view
def _wallet_accepts(wallet: address, digest: bytes32, signature: Bytes[65]) -> bool:
    # The relayer must leave the wallet its whole allowance: a check starved by the
    # transaction's own gas limit would look like a bad signature and be skipped.
    assert msg.gas > WALLET_CHECK_GAS + WALLET_CHECK_GAS // 63 + WALLET_CALL_OVERHEAD, "consent: not enough gas for a wallet's signature check"
    success: bool = False
    answer: Bytes[32] = b""
    success, answer = raw_call(
        wallet,
        abi_encode(digest, signature, method_id=ERC1271_MAGIC),
        max_outsize=32,
        gas=WALLET_CHECK_GAS,
        is_static_call=True,
        revert_on_failure=False,
    )
    return success and len(answer) == 32 and convert(answer, bytes32) == convert(ERC1271_MAGIC, bytes32)


@internal
@view
def _signature_fault(citizen: address, digest: bytes32, deadline: uint256, signature: Bytes[65]) -> uint8:
    """
    @dev 0 if `signature` is the citizen's for `digest` before `deadline`, else a fault code.
         ECDSA first (a contract's address has no key, so this is safe), then ERC-1271 if
         the citizen has code. Never reverts but for a transaction short of gas.
    """
    if block.timestamp > deadline:
        return FAULT_DEADLINE
    if citizen == empty(address):
        return FAULT_CITIZEN
    fault: uint8 = FAULT_LENGTH
    if len(signature) == 65:
        s: uint256 = extract32(signature, 32, output_type=uint256)
        fault = FAULT_HIGH_S
        if s <= HALF_N:
            fault = FAULT_SIGNATURE
            r: uint256 = extract32(signature, 0, output_type=uint256)
            v: uint256 = convert(slice(signature, 64, 1), uint256)
            if ecrecover(digest, v, r, s) == citizen:
                return 0
    if citizen.is_contract:
        if self._wallet_accepts(citizen, digest, signature):
            return 0
        return FAULT_SIGNATURE
    return fault


@internal
@view
def _signed_grant_fault(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    expiry: uint64,
    deadline: uint256,
    signature: Bytes[65],
    slot: uint256,
) -> uint8:
    """
    @dev 0 if the signed grant may be applied to the consent in `slot`, else a fault code.
    """
    fault: uint8 = self._terms_fault(purpose, scope_kind, scope_id, expiry)
    if fault != 0:
        return fault
    digest: bytes32 = self._grant_digest(
        citizen, purpose, scope_kind, scope_id, grantee, expiry, (slot >> SHIFT_NONCE) & packing.MASK64, deadline
    )
    return self._signature_fault(citizen, digest, deadline, signature)


@external
def grant(purpose: bytes32, scope_kind: uint8, scope_id: bytes32, grantee: address, expiry: uint64) -> bytes32:
    """
    @notice Grants (or re-grants with a new expiry) the caller's consent.
    @param purpose keccak256 of a DPV purpose IRI.
    @param scope_kind 1 dataset, 2 publisher, 3 domain.
    @param scope_id Dataset id, left-padded publisher address, or domain code.
    @param grantee One address, or the zero address for any accredited researcher.
    @param expiry Unix time the consent ends; must be in the future.
    @return bytes32 The consent key.
    """
    self._require_no_fault(self._terms_fault(purpose, scope_kind, scope_id, expiry))
    key: bytes32 = self._key(msg.sender, purpose, scope_kind, scope_id, grantee)
    return self._grant(msg.sender, purpose, scope_kind, scope_id, grantee, expiry, key, self._consents[key])


@external
def revoke(purpose: bytes32, scope_kind: uint8, scope_id: bytes32, grantee: address):
    """
    @notice Revokes the caller's active consent at once. Reverts if it is not active
            (`cancel_signatures` invalidates signatures of an inactive consent).
    @param purpose keccak256 of a DPV purpose IRI.
    @param scope_kind 1 dataset, 2 publisher, 3 domain.
    @param scope_id The scope id the consent was granted with.
    @param grantee The grantee the consent was granted to.
    """
    key: bytes32 = self._key(msg.sender, purpose, scope_kind, scope_id, grantee)
    self._revoke(msg.sender, purpose, scope_kind, scope_id, grantee, key, self._consents[key])


@external
def cancel_signatures(purpose: bytes32, scope_kind: uint8, scope_id: bytes32, grantee: address):
    """
    @notice Invalidates every signed grant or revoke the caller made for this consent and
            not yet submitted, whether the consent is active, expired, revoked or never
            granted. Its expiry and grant time do not change.
    @dev Increments the key's nonce; a new signature must carry the new nonce.
    @param purpose keccak256 of a DPV purpose IRI.
    @param scope_kind 1 dataset, 2 publisher, 3 domain.
    @param scope_id The scope id of the signed consent.
    @param grantee The grantee of the signed consent.
    """
    key: bytes32 = self._key(msg.sender, purpose, scope_kind, scope_id, grantee)
    updated: uint256 = self._consents[key] + ONE_NONCE
    self._consents[key] = updated
    log SignaturesCancelled(key=key, citizen=msg.sender, nonce=packing._u64(updated, SHIFT_NONCE))


@external
def grant_by_sig(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    expiry: uint64,
    deadline: uint256,
    signature: Bytes[65],
) -> bytes32:
    """
    @notice Submits a grant signed by `citizen` (EIP-712 `Grant`, the key's current nonce).
    @dev Reverts on bad terms, a passed deadline, a used or future nonce, a wrong signer,
         high-s, or a failed ERC-1271 check for a contract wallet.
    @param citizen The consenting citizen (an EOA or an ERC-1271 wallet).
    @param purpose keccak256 of a DPV purpose IRI.
    @param scope_kind 1 dataset, 2 publisher, 3 domain.
    @param scope_id The scope id.
    @param grantee One address, or the zero address for any accredited researcher.
    @param expiry Unix time the consent ends.
    @param deadline Last Unix time the signature may be used.
    @param signature 65 bytes r || s || v (or the wallet's ERC-1271 signature).
    @return bytes32 The consent key.
    """
    key: bytes32 = self._key(citizen, purpose, scope_kind, scope_id, grantee)
    slot: uint256 = self._consents[key]
    self._require_no_fault(
        self._signed_grant_fault(citizen, purpose, scope_kind, scope_id, grantee, expiry, deadline, signature, slot)
    )
    return self._grant(citizen, purpose, scope_kind, scope_id, grantee, expiry, key, slot)


@external
def revoke_by_sig(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    deadline: uint256,
    signature: Bytes[65],
):
    """
    @notice Submits a revoke signed by `citizen` (EIP-712 `Revoke`, the key's current nonce).
    @param citizen The citizen whose consent ends.
    @param purpose keccak256 of a DPV purpose IRI.
    @param scope_kind 1 dataset, 2 publisher, 3 domain.
    @param scope_id The scope id.
    @param grantee The grantee.
    @param deadline Last Unix time the signature may be used.
    @param signature 65 bytes r || s || v (or the wallet's ERC-1271 signature).
    """
    key: bytes32 = self._key(citizen, purpose, scope_kind, scope_id, grantee)
    slot: uint256 = self._consents[key]
    digest: bytes32 = self._revoke_digest(
        citizen, purpose, scope_kind, scope_id, grantee, (slot >> SHIFT_NONCE) & packing.MASK64, deadline
    )
    self._require_no_fault(self._signature_fault(citizen, digest, deadline, signature))
    self._revoke(citizen, purpose, scope_kind, scope_id, grantee, key, slot)


@external
def grant_batch_by_sig(grants: DynArray[SignedGrant, MAX_BATCH]) -> uint256:
    """
    @notice Submits up to 128 signed grants in one transaction. An entry that cannot be
            applied (bad terms, deadline passed, used or wrong nonce, bad signature, a
            wallet that refuses or runs out of its gas) is skipped with SignedGrantSkipped;
            the others are applied, so no entry can sink the batch.
    @param grants The signed grants, applied in order (two grants of one key need
           consecutive nonces).
    @return uint256 Bitmap of the applied entries (bit i set: entry i applied).
    """
    assert len(grants) != 0, "consent: empty batch"
    applied: uint256 = 0
    for i: uint256 in range(len(grants), bound=MAX_BATCH):
        g: SignedGrant = grants[i]
        key: bytes32 = self._key(g.citizen, g.purpose, g.scope_kind, g.scope_id, g.grantee)
        slot: uint256 = self._consents[key]
        fault: uint8 = self._signed_grant_fault(
            g.citizen, g.purpose, g.scope_kind, g.scope_id, g.grantee, g.expiry, g.deadline, g.signature, slot
        )
        if fault == 0:
            self._grant(g.citizen, g.purpose, g.scope_kind, g.scope_id, g.grantee, g.expiry, key, slot)
            applied |= 1 << i
        else:
            log SignedGrantSkipped(index=i, citizen=g.citizen, key=key, reason=fault)
    return applied


@external
@pure
def consent_key(citizen: address, purpose: bytes32, scope_kind: uint8, scope_id: bytes32, grantee: address) -> bytes32:
    """
    @notice The consent key: keccak256(abi_encode(citizen, purpose, scope_kind, scope_id, grantee)).
    @return bytes32 The key.
    """
    return self._key(citizen, purpose, scope_kind, scope_id, grantee)


@external
@view
def is_active(citizen: address, purpose: bytes32, scope_kind: uint8, scope_id: bytes32, grantee: address) -> bool:
    """
    @notice Whether this exact consent is active now (one SLOAD). For grantee = zero
            address the user must also hold ROLE_RESEARCHER at the time of use.
    @return bool True iff granted, not revoked and not expired.
    """
    return self._active(citizen, purpose, scope_kind, scope_id, grantee)


@internal
@view
def _active(citizen: address, purpose: bytes32, scope_kind: uint8, scope_id: bytes32, grantee: address) -> bool:
    """
    @dev Whether the consent's slot holds an expiry (its low 64 bits) after now.
    """
    return self._consents[self._key(citizen, purpose, scope_kind, scope_id, grantee)] & packing.MASK64 > block.timestamp


@external
@view
def is_covered(citizen: address, purpose: bytes32, dataset_id: uint256, user: address) -> bool:
    """
    @notice Whether `user` may use `citizen`'s data in dataset version `dataset_id` for
            `purpose` now: the version is active (not withdrawn) and an active consent at
            dataset, publisher or domain scope is granted to `user` itself or to any
            researcher while `user` holds ROLE_RESEARCHER.
    @dev At most six consent SLOADs plus two role/dataset reads; no unbounded loop.
    @param citizen The data subject.
    @param purpose keccak256 of a DPV purpose IRI.
    @param dataset_id The dataset version (scope 1 matches this exact id).
    @param user The would-be user of the data.
    @return bool True if some active consent covers the use; False for an unknown or
            withdrawn dataset.
    """
    publisher: address = empty(address)
    domain: uint8 = 0
    personal: bool = False
    active: bool = False
    publisher, domain, personal, active = staticcall datasets.facts(dataset_id)
    if not active:
        return False
    scopes: bytes32[3] = [
        convert(dataset_id, bytes32),
        packing._address_word(publisher),
        convert(convert(domain, uint256), bytes32),
    ]
    # The consents granted to the user itself first: no role read if one of them covers.
    if user != empty(address):
        for i: uint256 in range(3):
            if self._active(citizen, purpose, convert(i + 1, uint8), scopes[i], user):
                return True
    if not role_gate._has_any(user, role_gate.ROLE_RESEARCHER):
        return False
    for i: uint256 in range(3):
        if self._active(citizen, purpose, convert(i + 1, uint8), scopes[i], empty(address)):
            return True
    return False


@external
@view
def consent(key: bytes32) -> (uint64, uint64, uint64):
    """
    @notice The stored consent for `key`.
    @param key The consent key.
    @return expiry (0 after a revoke), nonce, granted_at (time of the latest grant).
    """
    slot: uint256 = self._consents[key]
    return (packing._u64(slot, 0), packing._u64(slot, SHIFT_NONCE), packing._u64(slot, SHIFT_GRANTED_AT))


@external
@view
def nonce_of(key: bytes32) -> uint64:
    """
    @notice The nonce the next signed grant or revoke of `key` must carry.
    @param key The consent key.
    @return uint64 The nonce.
    """
    return packing._u64(self._consents[key], SHIFT_NONCE)


@external
@view
def grant_digest(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    expiry: uint64,
    nonce: uint64,
    deadline: uint256,
) -> bytes32:
    """
    @notice The EIP-712 digest a citizen signs for a `Grant`.
    @return bytes32 The digest.
    """
    return self._grant_digest(citizen, purpose, scope_kind, scope_id, grantee, expiry, convert(nonce, uint256), deadline)


@external
@view
def revoke_digest(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    nonce: uint64,
    deadline: uint256,
) -> bytes32:
    """
    @notice The EIP-712 digest a citizen signs for a `Revoke`.
    @return bytes32 The digest.
    """
    return self._revoke_digest(citizen, purpose, scope_kind, scope_id, grantee, convert(nonce, uint256), deadline)
