"""The signed-consent relayer: a citizen signs an EIP-712 Grant or Revoke with their wallet and
the relayer pays the gas. Every check the contract would make is made here first (signature,
signer, nonce, deadline, chain id, then an eth_call simulation), so that a bad request never
costs the relayer a transaction."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxParams

from ..chain.accounts import devnet_accounts
from ..chain.tx import fees, revert_reason
from ..config import Network
from ..query import validate as v
from ..query.errors import BadInput, RateLimited, Rejected, Unavailable
from ..signing import (  # the one EIP-712 definition
    GRANT_TYPES,
    REVOKE_TYPES,
    SECP256K1_N,
    domain,
    grant_message,
    revoke_message,
)

log = logging.getLogger("cityledger.relayer")

# ERC-1271: the selector of isValidSignature(bytes32,bytes), also the value it returns for a valid signature.
ERC1271_MAGIC = bytes.fromhex("1626ba7e")


@dataclass(frozen=True)
class SignedRequest:
    """A relay request after field validation (the form the checks and the contract use)."""

    action: str  # "grant" | "revoke"
    citizen: ChecksumAddress
    purpose: bytes
    scope_kind: int
    scope_id: bytes
    grantee: ChecksumAddress
    expiry: int | None
    deadline: int
    signature: bytes
    chain_id: int | None = None  # optional: lets a wrong-chain signature get a precise message
    nonce: int | None = None  # optional: lets a stale signature get a precise message


def parse_request(action: str, body: Mapping[str, Any]) -> SignedRequest:
    """Validate the JSON fields of a relay request (types already checked by the Pydantic model)."""
    kind = v.scope_kind(body["scope_kind"])
    if kind is None:
        raise BadInput("scope_kind is required (1 dataset, 2 publisher, 3 domain)")
    deadline = int(body["deadline"])
    if not 0 < deadline <= v.UINT256_MAX:
        raise BadInput("deadline must be a unix time in seconds (a positive integer)")
    expiry = None
    if action == "grant":
        expiry = int(body["expiry"])
        if not 0 < expiry <= v.UINT64_MAX:
            raise BadInput("expiry must be a unix time in seconds below 2^64")
    nonce = body.get("nonce")
    if nonce is not None and not 0 <= int(nonce) <= v.UINT64_MAX:
        raise BadInput("nonce must be between 0 and 2^64-1")
    return SignedRequest(
        action=action,
        citizen=to_checksum_address(v.address(body["citizen"], "citizen")),
        purpose=bytes.fromhex(v.purpose(body["purpose"])[2:]),
        scope_kind=kind,
        scope_id=bytes.fromhex(v.scope_id(kind, str(body["scope_id"]))[2:]),
        grantee=to_checksum_address(v.address(body["grantee"], "grantee")),
        expiry=expiry,
        deadline=deadline,
        signature=v.signature(body["signature"]),
        chain_id=body.get("chain_id"),
        nonce=None if nonce is None else int(nonce),
    )


def consent_key_hex(citizen: str, purpose: str, scope_kind: int, scope_id: str, grantee: str) -> str:
    """keccak256(abi_encode(citizen, purpose, scope_kind, scope_id, grantee)), as the contract (0x hex in and out)."""
    return (
        "0x"
        + keccak(
            abi_encode(
                ["address", "bytes32", "uint8", "bytes32", "address"],
                [citizen, bytes.fromhex(purpose[2:]), scope_kind, bytes.fromhex(scope_id[2:]), grantee],
            )
        ).hex()
    )


def consent_key(req: SignedRequest) -> bytes:
    return bytes.fromhex(
        consent_key_hex(req.citizen, "0x" + req.purpose.hex(), req.scope_kind, "0x" + req.scope_id.hex(), req.grantee)[
            2:
        ]
    )


def typed_digest(req: SignedRequest, *, chain_id: int, contract_address: str, nonce: int) -> bytes:
    """The EIP-712 digest the citizen's wallet signed (eth_signTypedData_v4)."""
    common = (req.citizen, req.purpose, req.scope_kind, req.scope_id, req.grantee)
    if req.action == "grant":
        if req.expiry is None:
            raise BadInput("expiry is required for a grant")
        message, types = grant_message(*common, req.expiry, nonce, req.deadline), GRANT_TYPES
    else:
        message, types = revoke_message(*common, nonce, req.deadline), REVOKE_TYPES
    return _hash_eip191_message(
        encode_typed_data(domain(chain_id, to_checksum_address(contract_address)), types, message)
    )


def recover_signer(digest: bytes, signature: bytes) -> str:
    """ecrecover of a 65-byte r||s||v signature, refusing what the contract refuses."""
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v_ = signature[64]
    if v_ not in (27, 28):
        raise Rejected("signature v must be 27 or 28", code="bad_signature")
    if not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        raise Rejected("signature r or s is out of range", code="bad_signature")
    if s > SECP256K1_N // 2:
        raise Rejected(
            "signature has a high s value (malleable form); sign again with a standard wallet", code="bad_signature"
        )
    try:
        return str(Account._recover_hash(digest, vrs=(v_, r, s)))
    except Exception:  # eth_keys raises BadSignature for points not on the curve
        raise Rejected("signature does not recover to any address", code="bad_signature") from None


class TokenBucket:
    """Per-key token bucket: `per_minute` requests a minute with bursts up to `burst`."""

    def __init__(self, per_minute: float, burst: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(1, int(per_minute)))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token; returns 0 when allowed, else the seconds until the next token."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > 100_000:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate if self.rate > 0 else 3600.0

    def _prune(self, now: float) -> None:
        # A bucket that would be full again carries no information.
        full_after = self.capacity / self.rate if self.rate > 0 else float("inf")
        for key, (_, last) in list(self._buckets.items()):
            if now - last > full_after:
                del self._buckets[key]


def _charge(bucket: TokenBucket, key: str, message: str) -> None:
    """Take a token from `key`'s bucket or refuse with 429 and Retry-After."""
    wait = bucket.take(key)
    if wait:
        raise RateLimited(f"{message}; retry in {wait:.0f} s", headers={"Retry-After": str(max(1, round(wait)))})


def relayer_account(network: Network | None) -> LocalAccount | None:
    """Devnet: account 5 of the mnemonic; otherwise the key in CITYLEDGER_RELAYER_KEY; else None."""
    key = os.environ.get("CITYLEDGER_RELAYER_KEY")
    if key:
        try:
            account: LocalAccount = Account.from_key(key)
        except Exception:
            raise Unavailable("CITYLEDGER_RELAYER_KEY is not a valid private key") from None
        return account
    if network is not None and network.devnet:
        return devnet_accounts(network)[5]
    return None


class Relayer:
    """Checks and submits signed grants and revokes from one relayer account.

    Two rate limits: a valid signature is charged to its citizen (`per_minute`, `burst`); an
    invalid submission is charged to the client that sent it (`invalid_per_minute`,
    `invalid_burst`, by default the same figures). So junk naming a victim never uses up the
    victim's quota, and a client sending junk is answered 429 after its burst."""

    def __init__(
        self,
        w3: Web3,
        consent_contract: Contract,
        account: LocalAccount,
        *,
        per_minute: float = 6,
        burst: int | None = None,
        invalid_per_minute: float | None = None,
        invalid_burst: int | None = None,
    ):
        self.w3 = w3
        self.contract = consent_contract
        self.account = account
        self.chain_id = w3.eth.chain_id
        self.limiter = TokenBucket(per_minute, burst)
        self.invalid_limiter = TokenBucket(
            per_minute if invalid_per_minute is None else invalid_per_minute,
            burst if invalid_burst is None else invalid_burst,
        )
        self._send_lock = threading.Lock()

    def relay(self, req: SignedRequest, client: str | None = None) -> str:
        """Check and submit; `client` (the sender's IP address) is charged for an invalid signature."""
        try:
            self.check_signature(req)
        except Rejected:
            _charge(self.invalid_limiter, client or "unknown", "too many invalid relay requests from this client")
            raise
        _charge(self.limiter, req.citizen, f"too many relay requests for {req.citizen}")
        fn = self.check_submission(req)
        return self._submit(fn)

    def check(self, req: SignedRequest) -> ContractFunction:
        """Everything the contract checks, locally and by eth_call; returns the contract call."""
        self.check_signature(req)
        return self.check_submission(req)

    def check_signature(self, req: SignedRequest) -> None:
        """Is the signature the citizen's for this request at the key's current nonce, this chain
        and this contract? One nonce read (and a code read) from the node, the rest local."""
        if req.chain_id is not None and int(req.chain_id) != self.chain_id:
            raise Rejected(
                f"signed for chain {req.chain_id} but this relayer submits to chain {self.chain_id}",
                code="wrong_chain",
            )
        nonce = self.contract.functions.nonce_of(consent_key(req)).call()
        if req.nonce is not None and req.nonce != nonce:
            raise Rejected(
                f"nonce {req.nonce} is not current (the consent's nonce is {nonce}): already used or replaced",
                code="stale_nonce",
            )
        digest = typed_digest(req, chain_id=self.chain_id, contract_address=self.contract.address, nonce=nonce)
        if self.w3.eth.get_code(req.citizen):
            self._check_erc1271(req, digest)
        else:
            signer = recover_signer(digest, req.signature)
            if signer != req.citizen:
                raise Rejected(
                    "signature is not the citizen's for this request at the current nonce, chain "
                    f"{self.chain_id} and contract {self.contract.address} (recovered {signer}): "
                    "wrong signer, replayed, or signed for another chain or contract",
                    code="bad_signature",
                )

    def check_submission(self, req: SignedRequest) -> ContractFunction:
        """For a validly signed request: deadline, expiry, and an eth_call of the contract function."""
        head = self.w3.eth.get_block("latest")
        if req.deadline <= head["timestamp"]:
            raise Rejected(f"deadline {req.deadline} has passed (chain time {head['timestamp']})", code="expired")
        if req.expiry is not None and req.expiry <= head["timestamp"]:
            raise Rejected(
                f"the consent's expiry {req.expiry} is not after chain time {head['timestamp']}: "
                "sign a grant that ends in the future",
                code="expired",
            )
        fn = self._call(req)
        try:
            fn.call({"from": self.account.address})
        except Exception as exc:  # ContractLogicError carries the revert reason
            raise Rejected(f"the contract would reject it: {revert_reason(exc)[:300]}", code="would_revert") from None
        return fn

    def _check_erc1271(self, req: SignedRequest, digest: bytes) -> None:
        data = ERC1271_MAGIC + abi_encode(["bytes32", "bytes"], [digest, req.signature])
        try:
            out = bytes(self.w3.eth.call({"to": req.citizen, "data": data}))
        except Exception:
            out = b""
        if bytes(out[:4]) != ERC1271_MAGIC:
            raise Rejected(
                "the citizen's contract wallet does not accept this signature (ERC-1271)", code="bad_signature"
            )

    def _call(self, req: SignedRequest) -> ContractFunction:
        f = self.contract.functions
        common = (req.citizen, req.purpose, req.scope_kind, req.scope_id, req.grantee)
        if req.action == "grant":
            return f.grant_by_sig(*common, req.expiry, req.deadline, req.signature)
        return f.revoke_by_sig(*common, req.deadline, req.signature)

    def _submit(self, fn: ContractFunction) -> str:
        # One sender, so transactions are built and sent one at a time (nonce order).
        with self._send_lock:
            sender = self.account.address
            try:
                params = {
                    "from": sender,
                    "chainId": self.chain_id,
                    "nonce": self.w3.eth.get_transaction_count(sender, "pending"),
                    **fees(self.w3),
                }
                tx = fn.build_transaction(cast(TxParams, params))
                signed = self.account.sign_transaction(cast(dict[str, Any], tx))
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Exception as exc:
                log.warning("relay submission failed: %s", exc)
                raise Unavailable(f"could not submit the transaction: {revert_reason(exc)[:300]}") from None
        return "0x" + bytes(tx_hash).hex()
