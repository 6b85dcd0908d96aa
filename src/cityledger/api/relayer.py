"""The signed-consent relayer: a citizen signs an EIP-712 Grant or Revoke with their wallet and
the relayer pays the gas. Every check the contract would make is made here first (signature,
signer, nonce, deadline, chain id, then an eth_estimateGas simulation), so that a bad request never
costs the relayer a transaction.

Every API worker relays from the same account as one sender: the nonce, the outbox of signed
transactions and the rate limits are in the store (relay_store.py), and a nonce is allocated, signed,
recorded and sent under one lock. `check_outbox` (every worker runs it every few seconds; one at a
time) settles what was mined, broadcasts again what the node lost, and replaces with higher fees what
stays unmined too long."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import requests
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import TransactionNotFound
from web3.types import TxParams

from ..chain.accounts import devnet_accounts
from ..chain.tx import fees, revert_reason
from ..config import Network, RelayerSettings
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
from .relay_store import FAILED, MINED, REVERTED, Outbox, Outgoing, RelayStore

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


@dataclass(frozen=True)
class Checked:
    """A request whose signature is the citizen's: the consent key, the nonce signed, the digest."""

    key: bytes
    nonce: int
    digest: bytes


@dataclass(frozen=True)
class Submission:
    """A request that would succeed now: the contract call's data, its gas, and the market's fees."""

    data: str
    gas: int
    fees: dict[str, int]


# How the node answered a broadcast.
SENT, NONCE_USED, REFUSED, UNKNOWN = "sent", "nonce_used", "refused", "unknown"


def classify_send_error(exc: Exception) -> tuple[str, str, str | None]:
    """(outcome, reason, Retry-After) of a failed eth_sendRawTransaction. A JSON-RPC error is the
    node's answer; so is an HTTP 4xx (a 429 is a provider's rate limit, with its Retry-After). A
    timeout or a lost connection may or may not have delivered it: UNKNOWN, so it is kept and sent
    again (sending the same signed bytes twice is harmless)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None and 400 <= exc.response.status_code < 500:
        return REFUSED, f"HTTP {exc.response.status_code} from the node", exc.response.headers.get("Retry-After")
    if isinstance(exc, requests.RequestException | OSError | TimeoutError):
        return UNKNOWN, str(exc)[:300] or type(exc).__name__, None
    reason = revert_reason(exc)[:300]
    low = reason.lower()
    if any(s in low for s in ("already known", "known transaction", "already imported", "alreadyknown")):
        return SENT, reason, None
    if any(s in low for s in ("nonce too low", "nonce has already been used", "underpriced", "nonce is too low")):
        return NONCE_USED, reason, None
    return REFUSED, reason, None


def bumped_fees(row: Mapping[str, Any], market: Mapping[str, int], cap: int) -> dict[str, int] | None:
    """The fees of a replacement: 12.5 % above the stuck attempt's (nodes want at least 10 % more on
    both fields) and at least what the market asks now, at most `cap` wei per gas. None when the cap
    leaves no room to replace."""
    if row["tip"] is None:  # a legacy (pre-London) transaction
        price = min(max(-(-row["max_fee"] * 9 // 8), market.get("gasPrice", 0)), cap)
        return {"gasPrice": price} if price > row["max_fee"] else None
    tip = max(-(-row["tip"] * 9 // 8), market.get("maxPriorityFeePerGas", 0))
    max_fee = min(max(-(-row["max_fee"] * 9 // 8), market.get("maxFeePerGas", 0), tip), cap)
    tip = min(tip, max_fee)
    if max_fee <= row["max_fee"] or tip <= row["tip"]:
        return None
    return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip}


class Relayer:
    """Checks and submits signed grants and revokes from one relayer account, as one sender across
    every API worker that shares the store (relay_store.py).

    Two rate limits, kept in the store so that they hold across workers: a valid signature is
    charged to its citizen (`per_minute`, `burst`); an invalid submission is charged to the client
    that sent it (`invalid_per_minute`, `invalid_burst`, by default the same figures). So junk naming
    a victim never uses up the victim's quota, and a client sending junk is answered 429 after its
    burst."""

    def __init__(
        self,
        w3: Web3,
        consent_contract: Contract,
        account: LocalAccount,
        *,
        store: RelayStore | None = None,
        settings: RelayerSettings | None = None,
        per_minute: float = 6,
        burst: int | None = None,
        invalid_per_minute: float | None = None,
        invalid_burst: int | None = None,
    ):
        self.w3 = w3
        self.contract = consent_contract
        self.account = account
        self.store = store
        self.settings = settings or RelayerSettings()
        self.chain_id = w3.eth.chain_id
        capacity = burst if burst is not None else max(1, int(per_minute))
        self.limits = (float(per_minute), capacity)
        self.invalid_limits = (
            float(per_minute if invalid_per_minute is None else invalid_per_minute),
            capacity if invalid_burst is None else invalid_burst,
        )
        self._pruned = 0.0
        self._tip: tuple[float, int] = (-60.0, 0)  # (when asked, the node's suggested tip)

    def _store(self) -> RelayStore:
        if self.store is None:
            raise Unavailable("the relayer has no store for its outbox")
        return self.store

    def _charge(self, key: str, limits: tuple[float, int], message: str) -> None:
        """Take a token from `key`'s bucket or refuse with 429 and Retry-After."""
        wait = self._store().take(key, *limits)
        if wait:
            raise RateLimited(f"{message}; retry in {wait:.0f} s", headers={"Retry-After": str(max(1, round(wait)))})

    def relay(self, req: SignedRequest, client: str | None = None) -> str:
        """Check and submit; `client` (the sender's IP address) is charged for an invalid signature."""
        try:
            checked = self.check_signature(req)
        except Rejected:
            self._charge(
                f"client:{client or 'unknown'}", self.invalid_limits, "too many invalid relay requests from this client"
            )
            raise
        self._charge(f"citizen:{req.citizen.lower()}", self.limits, f"too many relay requests for {req.citizen}")
        # Already in the outbox (a double click, a retry)? Then before simulating it again: a pending
        # request may already have moved the consent's nonce in the node's pending state.
        same = self._store().in_outbox(self.contract.address, "0x" + checked.key.hex(), checked.nonce)
        if same is not None:
            return self._same_request(same, checked)
        return self._submit(req, checked, self.check_submission(req))

    @staticmethod
    def _same_request(same: Mapping[str, Any], checked: Checked) -> str:
        """The hash of the outbox's request if it is this one; a different request for the same consent
        at the same nonce is refused (only one of the two could be mined)."""
        if same["digest"] == "0x" + checked.digest.hex():
            return str(same["tx_hash"])
        raise Rejected(
            f"another signed {same['action']} of this consent at nonce {checked.nonce} is already being "
            f"relayed (tx {same['tx_hash']}); sign again once it is mined",
            code="stale_nonce",
        )

    def check(self, req: SignedRequest) -> Submission:
        """Everything the contract checks, locally and by eth_estimateGas; returns the call and its gas."""
        self.check_signature(req)
        return self.check_submission(req)

    def check_signature(self, req: SignedRequest) -> Checked:
        """Is the signature the citizen's for this request at the key's current nonce, this chain
        and this contract? One nonce read (and a code read) from the node, the rest local."""
        if req.chain_id is not None and int(req.chain_id) != self.chain_id:
            raise Rejected(
                f"signed for chain {req.chain_id} but this relayer submits to chain {self.chain_id}",
                code="wrong_chain",
            )
        key = consent_key(req)
        nonce = self.contract.functions.nonce_of(key).call()
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
        return Checked(key=key, nonce=int(nonce), digest=digest)

    def check_submission(self, req: SignedRequest) -> Submission:
        """For a validly signed request: deadline, expiry, and an eth_estimateGas of the contract
        function from the relayer (a simulation: a revert is refused with its reason)."""
        head = self.w3.eth.get_block("latest")
        if req.deadline <= head["timestamp"]:
            raise Rejected(f"deadline {req.deadline} has passed (chain time {head['timestamp']})", code="expired")
        if req.expiry is not None and req.expiry <= head["timestamp"]:
            raise Rejected(
                f"the consent's expiry {req.expiry} is not after chain time {head['timestamp']}: "
                "sign a grant that ends in the future",
                code="expired",
            )
        data = self._calldata(req)
        call = {"from": self.account.address, "to": self.contract.address, "data": data}
        try:
            gas = self.w3.eth.estimate_gas(cast(TxParams, call))
        except Exception as exc:  # ContractLogicError carries the revert reason
            raise Rejected(f"the contract would reject it: {revert_reason(exc)[:300]}", code="would_revert") from None
        # A fifth more than the estimate: another transaction of the same consent mined first can
        # change which storage slots are new. Unused gas is not paid for.
        return Submission(data=data, gas=int(gas) * 6 // 5, fees=self._fees(head))

    def _fees(self, head: Mapping[str, Any]) -> dict[str, int]:
        """chain.tx.fees from a head block already read, with the node's tip asked at most every 10 s."""
        if head.get("baseFeePerGas") is None:  # a pre-London chain
            return {"gasPrice": int(self.w3.eth.gas_price)}
        at, tip = self._tip
        if time.monotonic() - at > 10:
            try:
                tip = int(self.w3.eth.max_priority_fee)
            except Exception:
                tip = Web3.to_wei(1, "gwei")
            self._tip = (time.monotonic(), tip)
        return {"maxFeePerGas": 2 * int(head["baseFeePerGas"]) + tip, "maxPriorityFeePerGas": tip}

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

    def _calldata(self, req: SignedRequest) -> str:
        common = [req.citizen, req.purpose, req.scope_kind, req.scope_id, req.grantee]
        if req.action == "grant":
            return str(self.contract.encode_abi("grant_by_sig", [*common, req.expiry, req.deadline, req.signature]))
        return str(self.contract.encode_abi("revoke_by_sig", [*common, req.deadline, req.signature]))

    # ------------------------------------------------------------------ sending

    def _sign(self, tx: dict[str, Any]) -> tuple[str, str]:
        signed = self.account.sign_transaction(tx)
        return "0x" + bytes(signed.hash).hex(), "0x" + bytes(signed.raw_transaction).hex()

    def _broadcast(self, raw: str) -> tuple[str, str, str | None]:
        try:
            self.w3.eth.send_raw_transaction(HexStr(raw))
        except Exception as exc:
            return classify_send_error(exc)
        return SENT, "", None

    def _pending_count(self) -> int:
        try:
            return int(self.w3.eth.get_transaction_count(self.account.address, "pending"))
        except Exception as exc:
            raise Unavailable(f"the node does not answer: {str(exc)[:200]}") from None

    def _submit(self, req: SignedRequest, checked: Checked, sub: Submission) -> str:
        """Allocate a nonce, sign, record and send, holding the sender lock; the transaction's hash.

        The same signed request twice (a double click, a retry, two workers) is one transaction: the
        second gets the first's hash. A different request for the same consent at the same nonce,
        while the first is pending, is refused (only one of them could be mined)."""
        base = {"to": self.contract.address, "data": sub.data, "value": 0, "gas": sub.gas, "chainId": self.chain_id,
                **sub.fees}  # fmt: skip
        key, digest = "0x" + checked.key.hex(), "0x" + checked.digest.hex()
        with self._store().sender_lock() as box:
            assert box is not None  # a waiting lock always yields the outbox
            same, stored = box.prepare(self.contract.address, key, checked.nonce)
            if same is not None:  # another worker relayed it since in_outbox looked
                return self._same_request(same, checked)
            # The store's next nonce; the node's count only for a relayer the store has not seen yet, or
            # when the node says the nonce is used (the key also signed elsewhere).
            nonce = self._pending_count() if stored is None else stored
            fee_cap, tip = sub.fees.get("maxFeePerGas", sub.fees.get("gasPrice")), sub.fees.get("maxPriorityFeePerGas")
            for _ in range(3):
                tx_hash, raw = self._sign({**base, "nonce": nonce})
                request_id = box.record(Outgoing(
                    nonce=nonce, contract=self.contract.address, action=req.action, citizen=req.citizen,
                    consent_key=key, consent_nonce=checked.nonce, digest=digest, data=sub.data,
                    gas=sub.gas, max_fee=int(fee_cap or 0), tip=None if tip is None else int(tip), tx_hash=tx_hash,
                    raw=raw,
                ))  # fmt: skip
                outcome, reason, retry_after = self._broadcast(raw)
                if outcome == SENT:
                    return tx_hash
                if outcome == UNKNOWN:
                    # Recorded and signed: the outbox check sends it again until it is mined.
                    log.warning("relay of %s: the node's answer was lost (%s); kept to re-broadcast", tx_hash, reason)
                    return tx_hash
                if outcome == NONCE_USED:  # another user of the relayer key took the nonce
                    log.warning("relayer nonce %d is taken on the node (%s); taking the next free one", nonce, reason)
                    nonce = max(nonce + 1, self._pending_count())
                    box.forget(request_id, nonce)
                    continue
                box.forget(request_id, nonce)
                log.warning("relay submission refused by the node: %s", reason)
                headers = {"Retry-After": retry_after} if retry_after else None
                raise Unavailable(f"could not submit the transaction: {reason}", headers=headers)
        raise Unavailable("could not find a free relayer nonce on the node; retry in a few seconds")

    # ------------------------------------------------------------------ the outbox check

    def check_outbox(self, *, wait: bool = False) -> Counter[str]:
        """One pass over the outbox, holding the sender lock (wait=False: skip the pass if another
        worker is sending or checking). Requests whose nonce the chain has used are settled (mined or
        reverted, by their attempts' receipts; a nonce another user of the key took is sent again on
        a new one); a pending one the node does not know is broadcast again; one unmined for
        `replace_after` seconds is replaced with higher fees. Returns what it did, counted."""
        done: Counter[str] = Counter()
        with self._store().sender_lock(wait=wait) as box:
            if box is None:
                return done
            rows = box.pending()
            if not rows:
                return done
            used = int(self.w3.eth.get_transaction_count(self.account.address, "latest"))
            for row in rows:
                if row["nonce"] < used:
                    done[self._settle(box, row)] += 1
                elif self._unknown(row["tx_hash"]):
                    outcome, reason, _ = self._broadcast(row["raw"])
                    if outcome == SENT:
                        box.touch(row["id"])
                    else:
                        log.warning("re-broadcast of relay %s: %s (%s)", row["tx_hash"], outcome, reason)
                    done["rebroadcast"] += 1
                elif time.time() - row["sent_at"] >= self.settings.replace_after:
                    done[self._bump(box, row)] += 1
        return done

    def _unknown(self, tx_hash: str) -> bool:
        try:
            self.w3.eth.get_transaction(HexStr(tx_hash))
        except TransactionNotFound:
            return True
        return False

    def _settle(self, box: Outbox, row: dict[str, Any]) -> str:
        for tx_hash in row["hashes"]:
            try:
                receipt = self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                continue
            status = MINED if receipt["status"] == 1 else REVERTED
            box.settle(row["id"], status, tx_hash=tx_hash, block=int(receipt["blockNumber"]))
            if status == REVERTED:
                log.warning(
                    "relayed %s %s reverted on chain (block %s)", row["action"], tx_hash, receipt["blockNumber"]
                )
            return status
        return self._resend(box, row)

    def _resend(self, box: Outbox, row: dict[str, Any]) -> str:
        """The request's nonce was used by a transaction that is none of its attempts (the relayer key
        signed elsewhere): send it again on a new nonce if it would still succeed."""
        to = to_checksum_address(row["contract"])
        try:
            gas = self.w3.eth.estimate_gas({"from": self.account.address, "to": to, "data": row["data"]})
        except Exception as exc:
            error = f"relayer nonce {row['nonce']} was used by another transaction; now: {revert_reason(exc)[:200]}"
            box.settle(row["id"], FAILED, error=error)
            return FAILED
        nonce = max(box.next_nonce() or 0, self._pending_count())
        market = fees(self.w3)
        tx = {"from": self.account.address, "to": to, "data": row["data"], "value": 0, "gas": int(gas) * 6 // 5,
              "nonce": nonce, "chainId": self.chain_id, **market}  # fmt: skip
        tx_hash, raw = self._sign(tx)
        fee_cap = int(market.get("maxFeePerGas", market.get("gasPrice", 0)))
        box.replace(row, tx_hash=tx_hash, raw=raw, max_fee=fee_cap, tip=market.get("maxPriorityFeePerGas"),
                    nonce=nonce)  # fmt: skip
        outcome, reason, _ = self._broadcast(raw)
        if outcome in (REFUSED, NONCE_USED):
            box.restore(row, tx_hash, next_nonce=nonce)
            log.warning("re-send of relay %s on nonce %d refused: %s", row["tx_hash"], nonce, reason)
        return "resent"

    def _bump(self, box: Outbox, row: dict[str, Any]) -> str:
        cap = int(self.settings.max_fee_gwei * 10**9)
        new = bumped_fees(row, fees(self.w3), cap)
        if new is None:
            log.warning(
                "relay %s (nonce %d) unmined and at the fee cap of %g gwei ([relayer] max_fee_gwei): waiting",
                row["tx_hash"], row["nonce"], self.settings.max_fee_gwei,
            )  # fmt: skip
            return "at_cap"
        tx = {"from": self.account.address, "to": to_checksum_address(row["contract"]), "data": row["data"],
              "value": 0, "gas": row["gas"], "nonce": row["nonce"], "chainId": self.chain_id, **new}  # fmt: skip
        tx_hash, raw = self._sign(tx)
        fee_cap = new.get("maxFeePerGas", new.get("gasPrice", 0))
        box.replace(row, tx_hash=tx_hash, raw=raw, max_fee=fee_cap, tip=new.get("maxPriorityFeePerGas"))
        outcome, reason, _ = self._broadcast(raw)
        if outcome in (REFUSED, NONCE_USED):  # mined meanwhile, or the node wants more: the old attempt stands
            box.restore(row, tx_hash)
            log.warning("fee bump of relay %s refused: %s", row["tx_hash"], reason)
            return "bump_refused"
        log.info("relay %s unmined after %gs: replaced by %s (max fee %d wei)", row["tx_hash"],
                 self.settings.replace_after, tx_hash, fee_cap)  # fmt: skip
        return "replaced"

    def prune_limits(self) -> None:
        """Drop the rate-limit buckets that are full again (at most once a minute)."""
        now = time.monotonic()
        if now - self._pruned < 60:
            return
        self._pruned = now
        store = self._store()
        store.prune_limits("citizen:", *self.limits)
        store.prune_limits("client:", *self.invalid_limits)
