"""EIP-712 consent signatures: the one definition of the typed data that ConsentRegistry verifies
(docs/CONTRACTS.md). The relayer, the demo, the tests and the benchmarks all sign and check with
these, through eth_account, exactly as a wallet's eth_signTypedData_v4 does."""

from __future__ import annotations

from eth_account import Account

DOMAIN_NAME = "CityLedger Consent"
DOMAIN_VERSION = "1"
# secp256k1 group order; a signature with s above half of it is the malleable twin (EIP-2).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

_CONSENT = [
    {"name": "citizen", "type": "address"},
    {"name": "purpose", "type": "bytes32"},
    {"name": "scopeKind", "type": "uint8"},
    {"name": "scopeId", "type": "bytes32"},
    {"name": "grantee", "type": "address"},
]
GRANT_TYPES = {
    "Grant": _CONSENT
    + [
        {"name": "expiry", "type": "uint64"},
        {"name": "nonce", "type": "uint64"},
        {"name": "deadline", "type": "uint256"},
    ]
}
REVOKE_TYPES = {"Revoke": _CONSENT + [{"name": "nonce", "type": "uint64"}, {"name": "deadline", "type": "uint256"}]}


def domain(chain_id: int, contract: str) -> dict:
    return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": str(contract)}


def _bytes32(value: bytes | str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value) if isinstance(value, str) else bytes(value)


def grant_message(
    citizen: str, purpose, scope_kind: int, scope_id, grantee: str, expiry: int, nonce: int, deadline: int
) -> dict:
    return {
        "citizen": citizen,
        "purpose": _bytes32(purpose),
        "scopeKind": scope_kind,
        "scopeId": _bytes32(scope_id),
        "grantee": grantee,
        "expiry": expiry,
        "nonce": nonce,
        "deadline": deadline,
    }


def revoke_message(citizen: str, purpose, scope_kind: int, scope_id, grantee: str, nonce: int, deadline: int) -> dict:
    return {
        "citizen": citizen,
        "purpose": _bytes32(purpose),
        "scopeKind": scope_kind,
        "scopeId": _bytes32(scope_id),
        "grantee": grantee,
        "nonce": nonce,
        "deadline": deadline,
    }


def sign(key, chain_id: int, contract: str, message: dict) -> bytes:
    """A 65-byte r‖s‖v signature of a Grant (message has expiry) or Revoke message, by a key or LocalAccount."""
    types = GRANT_TYPES if "expiry" in message else REVOKE_TYPES
    key = getattr(key, "key", key)
    return bytes(Account.sign_typed_data(key, domain(chain_id, contract), types, message).signature)
