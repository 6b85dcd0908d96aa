# pragma version 0.4.3
"""
@title CityLedger consent registry
@notice A citizen grants consent for (purpose, scope, grantee) until an expiry and can
        revoke it; anyone may submit a grant or revoke carrying the citizen's EIP-712
        signature (so a citizen needs no ether). "Is this consent active now?" is one SLOAD.
@dev One slot per consent key: `expiry | nonce << 64 | granted_at << 128`. Active iff
     `block.timestamp < expiry`; revoke sets expiry to 0. The nonce is per key and every
     grant or revoke increments it, so a signature is usable once and a direct action by
     the citizen cancels any signature outstanding for that key. Events carry the nonce
     after the action.
"""

from .modules import role_gate
from .modules import packing
from .modules import IDatasetRegistry
from snekmate.utils import eip712_domain_separator as eip712
from snekmate.utils import signature_checker
from snekmate.utils import ecdsa

initializes: role_gate
initializes: eip712
exports: (role_gate.roles, eip712.eip712Domain)

SCOPE_DATASET: constant(uint8) = 1
SCOPE_PUBLISHER: constant(uint8) = 2
SCOPE_DOMAIN: constant(uint8) = 3
MAX_DOMAIN: constant(uint256) = 12
MAX_BATCH: constant(uint256) = 128

GRANT_TYPEHASH: constant(bytes32) = keccak256(
    "Grant(address citizen,bytes32 purpose,uint8 scopeKind,bytes32 scopeId,address grantee,uint64 expiry,uint64 nonce,uint256 deadline)"
)
REVOKE_TYPEHASH: constant(bytes32) = keccak256(
    "Revoke(address citizen,bytes32 purpose,uint8 scopeKind,bytes32 scopeId,address grantee,uint64 nonce,uint256 deadline)"
)

SHIFT_NONCE: constant(uint256) = 64
SHIFT_GRANTED_AT: constant(uint256) = 128
ONE_NONCE: constant(uint256) = 1 << 64


struct SignedGrant:
    citizen: address
    purpose: bytes32
    scope_kind: uint8
    scope_id: bytes32
    grantee: address
    expiry: uint64
    deadline: uint256
    signature: Bytes[65]


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


event ConsentRevoked:
    key: indexed(bytes32)
    citizen: indexed(address)
    purpose: indexed(bytes32)
    scope_kind: uint8
    scope_id: bytes32
    grantee: address
    nonce: uint64
    submitted_by: address


datasets: public(immutable(IDatasetRegistry))
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
def _check_terms(purpose: bytes32, scope_kind: uint8, scope_id: bytes32, expiry: uint64):
    # Arithmetic checks only: no external call on the hot path.
    assert purpose != empty(bytes32), "consent: empty purpose"
    if scope_kind == SCOPE_DATASET:
        assert scope_id != empty(bytes32), "consent: empty dataset scope"
    elif scope_kind == SCOPE_PUBLISHER:
        assert scope_id != empty(bytes32) and packing._is_address_word(scope_id), "consent: publisher scope is not an address"
    elif scope_kind == SCOPE_DOMAIN:
        domain: uint256 = convert(scope_id, uint256)
        assert domain >= 1 and domain <= MAX_DOMAIN, "consent: unknown domain"
    else:
        raise "consent: unknown scope kind"
    assert convert(expiry, uint256) > block.timestamp, "consent: expiry is in the past"


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
    assert slot & packing.MASK64 > block.timestamp, "consent: not active"
    # Expiry to 0, nonce + 1, granted_at kept.
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
def _check_signature(citizen: address, digest: bytes32, deadline: uint256, signature: Bytes[65]):
    assert block.timestamp <= deadline, "consent: signature deadline passed"
    assert citizen != empty(address), "consent: citizen is the zero address"
    if citizen.is_contract:
        # ERC-1271: the wallet decides what its signature looks like.
        assert signature_checker._is_valid_ERC1271_signature_now(citizen, digest, signature), "consent: invalid signature"
    else:
        # 65-byte r || s || v only; snekmate's ecdsa rejects high-s.
        assert len(signature) == 65, "consent: signature must be 65 bytes"
        assert ecdsa._recover_sig(digest, signature) == citizen, "consent: invalid signature"


@internal
def _grant_by_sig(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    expiry: uint64,
    deadline: uint256,
    signature: Bytes[65],
) -> bytes32:
    self._check_terms(purpose, scope_kind, scope_id, expiry)
    key: bytes32 = self._key(citizen, purpose, scope_kind, scope_id, grantee)
    slot: uint256 = self._consents[key]
    digest: bytes32 = self._grant_digest(
        citizen, purpose, scope_kind, scope_id, grantee, expiry, (slot >> SHIFT_NONCE) & packing.MASK64, deadline
    )
    self._check_signature(citizen, digest, deadline, signature)
    return self._grant(citizen, purpose, scope_kind, scope_id, grantee, expiry, key, slot)


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
    self._check_terms(purpose, scope_kind, scope_id, expiry)
    key: bytes32 = self._key(msg.sender, purpose, scope_kind, scope_id, grantee)
    return self._grant(msg.sender, purpose, scope_kind, scope_id, grantee, expiry, key, self._consents[key])


@external
def revoke(purpose: bytes32, scope_kind: uint8, scope_id: bytes32, grantee: address):
    """
    @notice Revokes the caller's active consent at once. Reverts if it is not active.
    @param purpose keccak256 of a DPV purpose IRI.
    @param scope_kind 1 dataset, 2 publisher, 3 domain.
    @param scope_id The scope id the consent was granted with.
    @param grantee The grantee the consent was granted to.
    """
    key: bytes32 = self._key(msg.sender, purpose, scope_kind, scope_id, grantee)
    self._revoke(msg.sender, purpose, scope_kind, scope_id, grantee, key, self._consents[key])


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
    @dev Reverts on a passed deadline, a used or future nonce, a wrong signer, high-s,
         or a failed ERC-1271 check for a contract wallet.
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
    return self._grant_by_sig(citizen, purpose, scope_kind, scope_id, grantee, expiry, deadline, signature)


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
    self._check_signature(citizen, digest, deadline, signature)
    self._revoke(citizen, purpose, scope_kind, scope_id, grantee, key, slot)


@external
def grant_batch_by_sig(grants: DynArray[SignedGrant, MAX_BATCH]):
    """
    @notice Submits up to 128 signed grants in one transaction; all or nothing.
    @param grants The signed grants, applied in order (two grants of one key need
           consecutive nonces).
    """
    assert len(grants) != 0, "consent: empty batch"
    for g: SignedGrant in grants:
        self._grant_by_sig(g.citizen, g.purpose, g.scope_kind, g.scope_id, g.grantee, g.expiry, g.deadline, g.signature)


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
    return self._consents[self._key(citizen, purpose, scope_kind, scope_id, grantee)] & packing.MASK64 > block.timestamp


@internal
@view
def _active_any_grantee(citizen: address, purpose: bytes32, scope_kind: uint8, scope_id: bytes32, user: address, researcher: bool) -> bool:
    if user != empty(address) and self._active(citizen, purpose, scope_kind, scope_id, user):
        return True
    return researcher and self._active(citizen, purpose, scope_kind, scope_id, empty(address))


@external
@view
def is_covered(citizen: address, purpose: bytes32, dataset_id: uint256, user: address) -> bool:
    """
    @notice Whether `user` may use `citizen`'s data in dataset version `dataset_id` for
            `purpose` now: an active consent at dataset, publisher or domain scope, granted
            to `user` itself or to any researcher while `user` holds ROLE_RESEARCHER.
    @dev At most six consent SLOADs plus three role/dataset reads; no loop.
    @param citizen The data subject.
    @param purpose keccak256 of a DPV purpose IRI.
    @param dataset_id The dataset version (scope 1 matches this exact id).
    @param user The would-be user of the data.
    @return bool True if some active consent covers the use; False for an unknown dataset.
    """
    publisher: address = staticcall datasets.publisher_of(dataset_id)
    if publisher == empty(address):
        return False
    researcher: bool = role_gate._has_any(user, role_gate.ROLE_RESEARCHER)
    if self._active_any_grantee(citizen, purpose, SCOPE_DATASET, convert(dataset_id, bytes32), user, researcher):
        return True
    if self._active_any_grantee(citizen, purpose, SCOPE_PUBLISHER, convert(convert(convert(publisher, uint160), uint256), bytes32), user, researcher):
        return True
    domain: uint256 = convert(staticcall datasets.domain_of(dataset_id), uint256)
    return self._active_any_grantee(citizen, purpose, SCOPE_DOMAIN, convert(domain, bytes32), user, researcher)


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
