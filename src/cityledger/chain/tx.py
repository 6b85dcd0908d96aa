"""Sign, send and wait for a transaction from a local account, with the revert reason on failure."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError
from web3.types import TxReceipt

from ..errors import CityLedgerError

RECEIPT_TIMEOUT = 120

# One lock per sender: the nonce is read from the node's pending count and the transaction is
# mined before the lock is released, so sequential and threaded callers never reuse a nonce, and
# a devnet reverted to a snapshot (nonces going back) needs no cache invalidation.
_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


class TransactionFailed(CityLedgerError):
    """The transaction reverted (or was refused by the node). `.reason` is the revert reason."""

    def __init__(self, message: str, reason: str | None = None, receipt: TxReceipt | None = None, tx_hash=None):
        super().__init__(message)
        self.reason = reason
        self.receipt = receipt
        self.tx_hash = tx_hash


ERROR_STRING = "0x08c379a0"  # the selector of Error(string): a revert with a reason
# How clients word a revert around the reason: geth and anvil ("execution reverted: r"), Hardhat
# ("Error: VM Exception while processing transaction: reverted with reason string 'r'").
REVERT_WORDS = (
    re.compile(r"^execution reverted:? ?(.*)$", re.S),
    re.compile(r"^(?:Error: )?VM Exception while processing transaction: reverted with reason string '(.*)'$", re.S),
)


def _error_data(exc: Exception) -> dict:
    """The `data` object of the node's JSON-RPC error answer ({} if it sent none, or a plain value:
    then under "data")."""
    resp = getattr(exc, "rpc_response", None)
    err = resp.get("error") if isinstance(resp, dict) else None
    if not isinstance(err, dict) or "data" not in err:
        return {}
    return err["data"] if isinstance(err["data"], dict) else {"data": err["data"]}


def _error_string(exc: Exception) -> str | None:
    """The reason of an Error(string) revert in the data the node sent with its error, if any.
    Hardhat answers a reverted eth_call with code -32603 and the data one level down
    ({"data": {"message": ..., "data": "0x08c379a0..."}}), which web3 does not decode."""
    data = _error_data(exc).get("data", getattr(exc, "data", None))
    if not (isinstance(data, str) and data.startswith(ERROR_STRING)):
        return None
    try:
        return str(abi_decode(["string"], bytes.fromhex(data[len(ERROR_STRING) :]))[0])
    except (ValueError, DecodingError):
        return None


def revert_reason(exc: Exception) -> str:
    """The contract's reason from a web3 error: 'roles: caller is not a publisher', not the prefix."""
    if isinstance(exc, ContractCustomError):
        return f"custom error {exc.data if isinstance(exc.data, str) else exc}"
    decoded = _error_string(exc)
    if decoded is not None:
        return decoded
    msg = getattr(exc, "message", None) or (exc.args[0] if exc.args else str(exc))
    if isinstance(msg, dict):
        msg = msg.get("message", str(msg))
    msg = str(msg)
    for words in REVERT_WORDS:  # in turn: web3 may put geth's words before Hardhat's
        found = words.match(msg.strip())
        if found:
            msg = found.group(1)
    return msg.strip() or "reverted without a reason"


def _label(contract_function) -> str:
    fn = getattr(contract_function, "fn_name", None) or getattr(contract_function, "abi_element_identifier", None)
    if fn is None:
        return "deployment"
    return str(fn)


def fees(w3: Web3) -> dict:
    """EIP-1559 fees: twice the latest base fee (room for six full blocks) plus the node's tip."""
    base = w3.eth.get_block("latest").get("baseFeePerGas")
    try:
        tip = w3.eth.max_priority_fee
    except Exception:
        tip = Web3.to_wei(1, "gwei")
    if base is None:  # a pre-London chain
        return {"gasPrice": w3.eth.gas_price}
    return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}


def transact(
    w3: Web3,
    account: LocalAccount,
    contract_function,
    *,
    gas: int | None = None,
    value: int = 0,
    on_signed: Callable[[str, int], None] | None = None,
) -> TxReceipt:
    """Build, sign, send and wait for `contract_function` (a bound function or a constructor).

    `on_signed(tx_hash, nonce)` runs after signing and before sending: a caller records there what it
    must find again after a crash (it raises: nothing is sent).

    Raises TransactionFailed with the contract's revert reason when gas estimation reverts or
    the mined transaction reverted (the call is replayed at the parent block to get the reason)."""
    label = _label(contract_function)
    with _locks[account.address]:
        params = {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "chainId": w3.eth.chain_id,
            "value": value,
            **fees(w3),
        }
        if gas is not None:
            params["gas"] = gas
        try:
            tx = contract_function.build_transaction(params)
        except (ContractLogicError, ContractCustomError) as exc:
            reason = revert_reason(exc)
            raise TransactionFailed(f"{label} reverted: {reason}", reason=reason) from None
        except Web3RPCError as exc:
            reason = revert_reason(exc)
            raise TransactionFailed(f"{label} refused by the node: {reason}", reason=reason) from None
        signed = account.sign_transaction(tx)
        if on_signed is not None:
            on_signed(signed.hash.to_0x_hex(), int(tx["nonce"]))
        try:
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        except (ContractLogicError, Web3RPCError, ValueError) as exc:
            if _error_data(exc).get("txHash") != signed.hash.to_0x_hex():
                reason = revert_reason(exc)
                raise TransactionFailed(f"{label} refused by the node: {reason}", reason=reason) from None
            # Hardhat's automine answers a send that reverted with an error naming it: it was mined.
            tx_hash = signed.hash
        try:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT, poll_latency=0.05)
        except TimeExhausted:
            raise TransactionFailed(
                f"{label}: transaction {tx_hash.to_0x_hex()} not mined within {RECEIPT_TIMEOUT}s", tx_hash=tx_hash
            ) from None
    if receipt["status"] != 1:
        reason = _replay_reason(w3, tx, receipt)
        raise TransactionFailed(
            f"{label} reverted: {reason} (tx {tx_hash.to_0x_hex()})", reason=reason, receipt=receipt, tx_hash=tx_hash
        )
    return receipt


def transact_or_undo(w3: Web3, account: LocalAccount, contract_function, undo: Callable[[], None]) -> TxReceipt:
    """`transact`, running `undo` (remove what the transaction would have referenced, e.g. a document
    it names by hash) only when the transaction cannot land: never signed, refused by the node, or
    reverted when mined. Interrupted (Ctrl-C) or timed out after the send, it may still be mined, so
    nothing is undone: a document a mined transaction names must stay."""
    signed: list[str] = []
    try:
        return transact(w3, account, contract_function, on_signed=lambda tx_hash, _nonce: signed.append(tx_hash))
    except BaseException as exc:
        failed = isinstance(exc, TransactionFailed) and (exc.receipt is not None or exc.tx_hash is None)
        if not signed or failed:
            undo()
        raise


def _replay_reason(w3: Web3, tx: dict, receipt: TxReceipt) -> str:
    call = {k: tx[k] for k in ("from", "to", "data", "value", "gas") if k in tx}
    try:
        w3.eth.call(call, block_identifier=max(receipt["blockNumber"] - 1, 0))
    except (ContractLogicError, ContractCustomError, Web3RPCError) as exc:
        return revert_reason(exc)
    except Exception as exc:  # the node cannot replay (pruned state): say so rather than guess
        return f"reason unavailable ({type(exc).__name__})"
    if receipt["gasUsed"] >= call.get("gas", 1 << 64):
        return "out of gas"
    return "reverted without a reason"
