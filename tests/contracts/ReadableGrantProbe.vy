# pragma version 0.4.3
"""
@title EIP-712 readability probe (measurement only; never deployed)
@custom:contract-name ReadableGrantProbe
@license MIT
@author CityLedger maintainers
@notice Checks a signed consent `Grant` exactly as ConsentRegistry does (digest + ECDSA),
        once with today's type and once with a type that also carries two human-readable
        strings a wallet would show (a purpose label and a dataset title), so bench/gas.py
        can measure what the readable fields cost per signed grant.
@dev Storage layout: `checked`, a counter each check bumps (so both checks write alike).
"""

from snekmate.utils import eip712_domain_separator as eip712

initializes: eip712

# @dev Today's Grant type (ConsentRegistry.GRANT_TYPEHASH).
GRANT_TYPEHASH: constant(bytes32) = keccak256(
    "Grant(address citizen,bytes32 purpose,uint8 scopeKind,bytes32 scopeId,address grantee,uint64 expiry,uint64 nonce,uint256 deadline)"
)
# @dev The same type with a purpose label and a dataset title (EIP-712 hashes each string).
READABLE_TYPEHASH: constant(bytes32) = keccak256(
    "Grant(address citizen,bytes32 purpose,string purposeLabel,uint8 scopeKind,bytes32 scopeId,string datasetTitle,address grantee,uint64 expiry,uint64 nonce,uint256 deadline)"
)

# @dev How many signatures were checked.
checked: public(uint256)


@deploy
def __init__():
    """
    @notice Deploys the probe with ConsentRegistry's EIP-712 domain name and version.
    """
    eip712.__init__("CityLedger Consent", "1")


@internal
def _accept(citizen: address, digest: bytes32, signature: Bytes[65]):
    r: uint256 = extract32(signature, 0, output_type=uint256)
    s: uint256 = extract32(signature, 32, output_type=uint256)
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    assert ecrecover(digest, v, r, s) == citizen, "probe: invalid signature"
    self.checked += 1


@external
def check(
    citizen: address,
    purpose: bytes32,
    scope_kind: uint8,
    scope_id: bytes32,
    grantee: address,
    expiry: uint64,
    nonce: uint64,
    deadline: uint256,
    signature: Bytes[65],
):
    """
    @notice Checks a signature of today's Grant type.
    """
    digest: bytes32 = eip712._hash_typed_data_v4(
        keccak256(abi_encode(GRANT_TYPEHASH, citizen, purpose, scope_kind, scope_id, grantee, expiry, nonce, deadline))
    )
    self._accept(citizen, digest, signature)


@external
def check_readable(
    citizen: address,
    purpose: bytes32,
    purpose_label: String[128],
    scope_kind: uint8,
    scope_id: bytes32,
    dataset_title: String[256],
    grantee: address,
    expiry: uint64,
    nonce: uint64,
    deadline: uint256,
    signature: Bytes[65],
):
    """
    @notice Checks a signature of the Grant type with a purpose label and a dataset title.
    """
    digest: bytes32 = eip712._hash_typed_data_v4(
        keccak256(
            abi_encode(
                READABLE_TYPEHASH,
                citizen,
                purpose,
                keccak256(purpose_label),
                scope_kind,
                scope_id,
                keccak256(dataset_title),
                grantee,
                expiry,
                nonce,
                deadline,
            )
        )
    )
    self._accept(citizen, digest, signature)
