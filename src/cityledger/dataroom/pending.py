"""What the data room's operator signed but has not yet seen mined: a release's `log_release`, a
private answer's `log_query`. Each is recorded before it is sent (its transaction hash and nonce,
and what the grantee is owed), so a crash, a receipt that came too late or a grantee who hung up
loses nothing: whoever holds the operator's sending turn next settles the record with the node.

- mined and succeeded: the work is kept as if the request had finished;
- reverted, or the operator's nonce has passed it with no receipt (never sent, or replaced): dropped,
  and nothing was logged;
- no receipt and the nonce still free: it waits.

docs/DATAROOM.md "Nothing is lost between the log and the record".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from web3 import Web3
from web3.exceptions import TransactionNotFound

from ..query.errors import Unavailable
from .sender import sender_lease

log = logging.getLogger("cityledger.dataroom")

Row = Mapping[str, Any]


@dataclass(frozen=True)
class PendingKind:
    """One kind of recorded work: its rows for an operator (each with tx_hash, operator, nonce), what
    keeps one whose transaction was mined (given the receipt), and what drops one."""

    name: str
    rows: Callable[[str], Sequence[Row]]
    finish: Callable[[Row, Any], None]
    drop: Callable[[Row], None]


def outcome(w3: Web3, tx_hash: str, sender: str, nonce: int) -> tuple[str, Any]:
    """Where a signed transaction stands: ("mined", receipt), ("reverted", receipt), ("dropped", None)
    when the sender's nonce went to another transaction, or ("waiting", None)."""
    receipt = _receipt(w3, tx_hash)
    if receipt is None and w3.eth.get_transaction_count(Web3.to_checksum_address(sender)) > nonce:
        receipt = _receipt(w3, tx_hash)  # mined since the first look, or another took the nonce
        if receipt is None:
            return "dropped", None
    if receipt is None:
        return "waiting", None
    return ("mined" if receipt["status"] == 1 else "reverted"), receipt


def _receipt(w3: Web3, tx_hash: str) -> Any:
    try:
        return w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return None


def settle(
    engine: Engine, w3: Web3, operator: str, kinds: Sequence[PendingKind], *, locked: bool = False
) -> dict[str, int]:
    """Settle every recorded piece of work of `operator`: counts of "made", "dropped" and "waiting".
    Takes the operator's sending turn (so it never meets a request's own record half done) unless the
    caller holds it (`locked`); when the turn is busy it settles nothing now (all zero)."""
    operator = operator.lower()
    todo = [(kind, row) for kind in kinds for row in kind.rows(operator)]
    done = {"made": 0, "dropped": 0, "waiting": 0}
    if not todo:
        return done
    if not locked:
        try:
            with sender_lease(engine, operator, wait=0):
                return settle(engine, w3, operator, kinds, locked=True)
        except Unavailable:
            return done
    for kind, row in todo:
        try:
            state, receipt = outcome(w3, row["tx_hash"], row["operator"], row["nonce"])
            if state == "mined":
                kind.finish(row, receipt)
                done["made"] += 1
            elif state == "waiting":
                done["waiting"] += 1
            else:
                kind.drop(row)
                done["dropped"] += 1
        except Exception as exc:  # a node or store that does not answer: the record waits for the next look
            log.warning("pending %s (tx %s) not settled yet: %s", kind.name, row["tx_hash"], exc)
            done["waiting"] += 1
    return done
