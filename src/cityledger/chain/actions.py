"""What publishers, grantees, recipients and the admin do on chain besides publishing: release
operators, privacy budgets, cancelled access requests, rights answers, deletion obligations and
organisation profiles. The CLI (cli/action_cmds.py) and the demo seed call these.

Each checks its input here and lets the contract's own rules refuse the rest while estimating gas
(cityledger.chain.tx.transact raises TransactionFailed with the revert reason, before anything is
sent): bad input is one clear error and changes nothing."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from ..codes import MICRO_EPSILON, RIGHTS_OUTCOMES
from ..errors import CityLedgerError
from ..fingerprint.consent_tree import ConsentTree
from .deployments import Deployment, contract
from .tx import transact, transact_or_undo

UINT64_MAX = 2**64 - 1


def _checksum(address: str, what: str) -> str:
    if not isinstance(address, str) or not Web3.is_address(address):
        raise CityLedgerError(f"{what} {address!r} is not an address (0x followed by 40 hex digits)")
    if int(address, 16) == 0:
        raise CityLedgerError(f"{what} is the zero address")
    return Web3.to_checksum_address(address)


def _done(receipt: TxReceipt, **facts: Any) -> dict[str, Any]:
    return {**facts, "tx_hash": receipt["transactionHash"].to_0x_hex(), "block": receipt["blockNumber"]}


def _event(receipt: TxReceipt, c: Contract, name: str) -> dict[str, Any]:
    logs = c.events[name]().process_receipt(receipt, errors=DISCARD)
    if not logs:
        raise CityLedgerError(f"the transaction was mined but emitted no {name} (wrong contract address?)")
    return dict(logs[0]["args"])


def micro_epsilon(value: str | int | float | Decimal, what: str = "--epsilon") -> int:
    """A privacy budget in epsilon (a decimal such as "2.5") as the chain counts it: micro-epsilon."""
    try:
        eps = Decimal(str(value).strip())
    except InvalidOperation:
        raise CityLedgerError(f"{what} must be a number of epsilon such as 2.5, got {str(value)[:40]!r}") from None
    if not eps.is_finite() or eps < 0:
        raise CityLedgerError(f"{what} must be a finite epsilon of 0 or more, got {value}")
    micro = eps * MICRO_EPSILON
    if micro != micro.to_integral_value():
        raise CityLedgerError(f"{what} {value} has more than 6 decimals (budgets are kept in micro-epsilon)")
    if micro > UINT64_MAX:
        raise CityLedgerError(f"{what} {value} is above the largest budget the chain holds (2^64 - 1 micro-epsilon)")
    return int(micro)


# ---------------------------------------------------------------- publishers


def set_release_operator(
    w3: Web3, deployment: Deployment, publisher: LocalAccount, operator: str, allowed: bool, cfg=None
) -> dict[str, Any]:
    """Allow (or stop) `operator` to log the publisher's releases and private queries."""
    who = _checksum(operator, "the operator")
    access = contract(w3, deployment, "AccessRegistry", cfg)
    if who == publisher.address:
        raise CityLedgerError("a publisher logs its own releases: it need not name itself an operator")
    receipt = transact(w3, publisher, access.functions.set_release_operator(who, allowed))
    return _done(receipt, publisher=publisher.address, operator=who, allowed=allowed)


def set_privacy_budget(
    w3: Web3, deployment: Deployment, publisher: LocalAccount, access_id: int, epsilon: str | Decimal, cfg=None
) -> dict[str, Any]:
    """Set the epsilon a granted access's private answers may spend in all (never below what is spent)."""
    budget = micro_epsilon(epsilon)
    access = contract(w3, deployment, "AccessRegistry", cfg)
    spent = access.functions.privacy_budget(access_id).call()[1]
    if budget < spent:
        raise CityLedgerError(
            f"access {access_id} has already spent {Decimal(spent) / MICRO_EPSILON} epsilon: "
            "the budget cannot go below it"
        )
    receipt = transact(w3, publisher, access.functions.set_privacy_budget(access_id, budget))
    args = _event(receipt, access, "PrivacyBudgetSet")
    return _done(receipt, access_id=access_id, budget=args["budget"], spent=args["spent"])


def cancel_access_request(
    w3: Web3, deployment: Deployment, requester: LocalAccount, access_id: int, cfg=None
) -> dict[str, Any]:
    """Withdraw a pending access request (its requester only)."""
    access = contract(w3, deployment, "AccessRegistry", cfg)
    receipt = transact(w3, requester, access.functions.cancel_request(access_id))
    _event(receipt, access, "AccessCancelled")
    return _done(receipt, access_id=access_id, requester=requester.address)


def answer_rights_request(
    w3: Web3,
    deployment: Deployment,
    publisher: LocalAccount,
    request_id: int,
    outcome: str,
    answer: bytes,
    store: Any,
    cfg=None,
) -> dict[str, Any]:
    """Answer a rights request: the answer document (text, Markdown or JSON) goes into the
    content-addressed store (a datasets.store.MetadataStore) and its SHA-256 on chain, so the citizen's
    page can fetch it (GET /api/documents/{hash}) and check it. Outcome fulfilled, refused or rejected
    (not from a data subject, or manifestly unfounded or excessive: counted apart)."""
    if outcome not in RIGHTS_OUTCOMES:
        raise CityLedgerError(f"outcome must be one of {', '.join(RIGHTS_OUTCOMES)}, got {outcome!r}")
    rights = contract(w3, deployment, "RightsRegistry", cfg)
    citizen, responsible, *_ = rights.functions.request(request_id).call()
    if int(citizen, 16) == 0:
        raise CityLedgerError(f"there is no rights request {request_id} on this chain")
    if responsible != publisher.address:
        raise CityLedgerError(f"rights request {request_id} is for {responsible} to answer, not {publisher.address}")
    # Kept even if the answer is refused: content-addressed, it is right for any answer with these bytes.
    digest = store.put_text(answer)
    receipt = transact(w3, publisher, rights.functions.answer_request(request_id, RIGHTS_OUTCOMES[outcome], digest))
    args = _event(receipt, rights, "RightsRequestAnswered")
    return _done(receipt, request_id=request_id, outcome=outcome, answer_hash="0x" + digest.hex(), late=args["late"])


# ---------------------------------------------------------------- deletion obligations


def release_claim(w3: Web3, deployment: Deployment, release_id: int, cfg=None) -> dict[str, Any]:
    """The ReleaseLogged arguments of a release (its root, hash and k live in the event only)."""
    access = contract(w3, deployment, "AccessRegistry", cfg)
    logs = access.events.ReleaseLogged().get_logs(
        from_block=deployment.start_block, argument_filters={"release_id": release_id}
    )
    if not logs:
        raise CityLedgerError(f"there is no release {release_id} on this chain")
    return dict(logs[0]["args"])


def request_deletion(
    w3: Web3,
    deployment: Deployment,
    account: LocalAccount,
    release_id: int,
    subject: str,
    snapshot: ConsentTree,
    cfg=None,
) -> dict[str, Any]:
    """Open a deletion obligation for one subject of a release: the release's claim (root, hash, k)
    is read from its ReleaseLogged event, the subject's Merkle proof from the release's consent
    snapshot (release/snapshots.read_snapshot). The subject, the publisher or its operator may always
    ask; anyone may once the consent no longer covers the use (DeletionRegistry's rule)."""
    who = _checksum(subject, "the subject")
    claim = release_claim(w3, deployment, release_id, cfg)
    if snapshot.root != bytes(claim["consent_root"]):
        raise CityLedgerError(f"the snapshot given is not release {release_id}'s (another consent root)")
    if who not in snapshot:
        raise CityLedgerError(f"{who} is not a subject of release {release_id} (not in its consent snapshot)")
    deletion = contract(w3, deployment, "DeletionRegistry", cfg)
    call = deletion.functions.request_deletion(
        release_id, who, claim["consent_root"], claim["release_hash"], claim["k_anonymity"], snapshot.proof(who)
    )
    receipt = transact(w3, account, call)
    args = _event(receipt, deletion, "DeletionRequested")
    return _done(
        receipt,
        obligation_id=args["obligation_id"],
        release_id=release_id,
        recipient=args["recipient"],
        subject=who,
        deadline=args["deadline"],
    )


def confirm_deletions(
    w3: Web3, deployment: Deployment, recipient: LocalAccount, obligation_ids: list[int], evidence: bytes, cfg=None
) -> dict[str, Any]:
    """The recipient confirms it deleted the rows of these obligations (all or nothing); the
    evidence's SHA-256 (e.g. a deletion log) goes on chain, the evidence stays with the recipient."""
    if not obligation_ids:
        raise CityLedgerError("name at least one deletion obligation to confirm")
    if len(obligation_ids) > 128:
        raise CityLedgerError(f"at most 128 obligations per confirmation, not {len(obligation_ids)}")
    evidence_hash = hashlib.sha256(evidence).digest()
    deletion = contract(w3, deployment, "DeletionRegistry", cfg)
    fn = (
        deletion.functions.confirm_deletion(obligation_ids[0], evidence_hash)
        if len(obligation_ids) == 1
        else deletion.functions.confirm_deletions(obligation_ids, evidence_hash)
    )
    receipt = transact(w3, recipient, fn)
    late = [
        int(lg["args"]["obligation_id"])
        for lg in deletion.events.DeletionConfirmed().process_receipt(receipt, errors=DISCARD)
        if lg["args"]["late"]
    ]
    return _done(receipt, obligations=obligation_ids, evidence_hash="0x" + evidence_hash.hex(), late=late)


# ---------------------------------------------------------------- organisations


def set_profile(
    w3: Web3, deployment: Deployment, admin: LocalAccount, account: str, document: dict[str, Any], store: Any, cfg=None
) -> dict[str, Any]:
    """Publish an organisation's profile: the (checked) document, datasets.profiles, into the
    content-addressed store, its SHA-256 and URI on chain (CityRoles.set_profile: the admin only, for
    an account that holds or held a role)."""
    who = _checksum(account, "the organisation")
    roles = contract(w3, deployment, "CityRoles", cfg)
    if not roles.functions.roles_of(who).call():
        raise CityLedgerError(
            f"{who} has never held a role: profiles are for accredited organisations (citizens have none)"
        )
    digest, written = store.put(document)
    receipt = transact_or_undo(
        w3,
        admin,
        roles.functions.set_profile(who, digest, store.uri_of(digest)),
        lambda: written and store.remove(digest),
    )
    return _done(receipt, account=who, profile_hash="0x" + digest.hex(), profile_uri=store.uri_of(digest))
