# pragma version 0.4.3
"""
@title CityLedger deletion obligations
@custom:contract-name DeletionRegistry
@license MIT
@author CityLedger maintainers
@notice Revocation follows the data (GDPR Art. 17(2), 19): when a data subject included in
        a release should no longer be in its recipient's hands, a deletion obligation names
        the release, its recipient (the grantee) and the subject's pseudonymous address,
        with a deadline 30 days on. The recipient confirms the deletion on chain (late
        confirmations are allowed and flagged); open obligations past their deadline are
        overdue for anyone to see.
        An obligation is requested by the subject itself, by the dataset's publisher or one
        of its release operators (e.g. after an erasure or objection request), or by anyone
        once the subject's consent no longer covers the use (revoked, expired, the dataset
        withdrawn, the grantee no longer a researcher). The subject must be proved a member
        of the release's consent snapshot, whose root, release hash and k must match the
        release's commitment in AccessRegistry.
@dev Storage layout:
     - `_obligation[id]`: `subject | release_id << 160`.
     - `_state[keccak256(abi_encode(release_id, subject))]`: `recipient | deadline << 160 |
       status << 200 | obligation_id << 208` (deadline 40 bits: to the year 36812; ids 48
       bits), one per (release, subject).
     - `_count`: the highest obligation id.
     Only pseudonymous addresses, ids and hashes are stored or logged.
"""

from .modules import IAccessRegistry
from .modules import IConsentRegistry
from .modules import IDatasetRegistry
from .modules import packing
from snekmate.utils import merkle_proof_verification as merkle

# @dev How long a recipient has to delete and confirm (as a rights request's answer).
DELETION_PERIOD: public(constant(uint256)) = 30 * 24 * 3600
# @dev Longest consent-snapshot proof accepted: a tree of up to 2**40 subjects.
MAX_PROOF: constant(uint256) = 40
# @dev Most obligations one `confirm_deletions` call confirms.
MAX_CONFIRM: constant(uint256) = 128
# @dev Obligation status codes.
OPEN: constant(uint256) = 1
CONFIRMED: constant(uint256) = 2
CONFIRMED_LATE: constant(uint256) = 3
# @dev Field positions in a `_state` word.
SHIFT_DEADLINE: constant(uint256) = 160
SHIFT_STATUS: constant(uint256) = 200
SHIFT_ID: constant(uint256) = 208
# @dev The status field of a `_state` word.
STATUS_MASK: constant(uint256) = 255 << 200
# @dev Highest obligation id (48 bits in a `_state` word).
MAX_ID: constant(uint256) = 2**48 - 1


# @dev An obligation was created: `recipient` must delete `subject`'s rows of the release.
event DeletionRequested:
    obligation_id: indexed(uint256)
    release_id: uint256
    recipient: indexed(address)
    subject: indexed(address)
    deadline: uint64
    requested_by: address


# @dev The recipient confirmed the deletion (`late`: after the deadline).
event DeletionConfirmed:
    obligation_id: indexed(uint256)
    release_id: uint256
    recipient: indexed(address)
    subject: indexed(address)
    evidence_hash: bytes32
    late: bool


# @dev The AccessRegistry whose releases obligations follow.
access: public(immutable(IAccessRegistry))
# @dev The ConsentRegistry that says whether a subject's consent still covers a use.
consent: public(immutable(IConsentRegistry))
# @dev The DatasetRegistry of the AccessRegistry (read at deployment): a dataset's publisher.
datasets: public(immutable(IDatasetRegistry))
# @dev obligation_id -> subject | release_id << 160.
_obligation: HashMap[uint256, uint256]
# @dev keccak256(abi_encode(release_id, subject)) -> recipient | deadline << 160 | status << 200 | id << 208.
_state: HashMap[bytes32, uint256]
# @dev The highest obligation id.
_count: uint256


@deploy
def __init__(access_: address, consent_: address):
    """
    @notice Deploys the deletion registry.
    @param access_ The AccessRegistry address.
    @param consent_ The ConsentRegistry address.
    """
    assert access_ != empty(address), "deletion: access address is the zero address"
    assert consent_ != empty(address), "deletion: consent address is the zero address"
    access = IAccessRegistry(access_)
    consent = IConsentRegistry(consent_)
    datasets = IDatasetRegistry(staticcall IAccessRegistry(access_).datasets())


@internal
@pure
def _pair(release_id: uint256, subject: address) -> bytes32:
    return keccak256(abi_encode(release_id, subject))


@internal
@view
def _may_request(subject: address, dataset_id: uint256, recipient: address, purpose: bytes32) -> bool:
    """
    @dev The subject, the publisher or its operator always; anyone once the consent no
         longer covers the use. Cheapest check first.
    """
    if msg.sender == subject:
        return True
    publisher: address = staticcall datasets.publisher_of(dataset_id)
    if msg.sender == publisher or staticcall access.is_release_operator(publisher, msg.sender):
        return True
    return not staticcall consent.is_covered(subject, purpose, dataset_id, recipient)


@external
def request_deletion(
    release_id: uint256,
    subject: address,
    consent_root: bytes32,
    release_hash: bytes32,
    k_anonymity: uint16,
    proof: DynArray[bytes32, MAX_PROOF],
) -> uint256:
    """
    @notice Obliges the release's recipient to delete `subject`'s rows within 30 days.
    @dev `consent_root`, `release_hash` and `k_anonymity` are the release's, as its
         ReleaseLogged event says (checked against the commitment); `proof` is the
         OpenZeppelin StandardMerkleTree proof of `subject` in that consent root
         (leaf keccak256(keccak256(abi_encode(subject))), sorted pairs).
    @param release_id The release.
    @param subject The data subject's address.
    @param consent_root The release's consent root.
    @param release_hash The release's file hash.
    @param k_anonymity The release's k.
    @param proof The subject's membership proof.
    @return uint256 The obligation id.
    """
    assert subject != empty(address), "deletion: subject is the zero address"
    dataset_id: uint256 = 0
    recipient: address = empty(address)
    purpose: bytes32 = empty(bytes32)
    commitment: bytes32 = empty(bytes32)
    dataset_id, recipient, purpose, commitment = staticcall access.release_context(release_id)
    assert commitment != empty(bytes32), "deletion: unknown release"
    assert commitment == keccak256(abi_encode(consent_root, release_hash, k_anonymity)), "deletion: claim does not match the release"
    leaf: bytes32 = keccak256(keccak256(abi_encode(subject)))
    assert merkle._verify(proof, consent_root, leaf), "deletion: subject is not in the release"
    pair: bytes32 = self._pair(release_id, subject)
    assert self._state[pair] == 0, "deletion: already requested"
    assert self._may_request(subject, dataset_id, recipient, purpose), "deletion: the consent still covers the use"

    obligation_id: uint256 = self._count + 1
    assert obligation_id <= MAX_ID, "deletion: id space exhausted"
    self._count = obligation_id
    deadline: uint256 = block.timestamp + DELETION_PERIOD
    self._obligation[obligation_id] = convert(subject, uint256) | (release_id << 160)
    self._state[pair] = (
        convert(recipient, uint256) | (deadline << SHIFT_DEADLINE) | (OPEN << SHIFT_STATUS) | (obligation_id << SHIFT_ID)
    )
    log DeletionRequested(
        obligation_id=obligation_id,
        release_id=release_id,
        recipient=recipient,
        subject=subject,
        deadline=convert(deadline, uint64),
        requested_by=msg.sender,
    )
    return obligation_id


@internal
def _confirm(obligation_id: uint256, evidence_hash: bytes32):
    """
    @dev Confirms one open obligation of the caller: status 2, or 3 after the deadline.
    """
    ob: uint256 = self._obligation[obligation_id]
    assert ob != 0, "deletion: unknown obligation"
    subject: address = packing._addr(ob)
    release_id: uint256 = ob >> 160
    pair: bytes32 = self._pair(release_id, subject)
    state: uint256 = self._state[pair]
    assert packing._addr(state) == msg.sender, "deletion: caller is not the recipient"
    assert (state >> SHIFT_STATUS) & packing.MASK8 == OPEN, "deletion: obligation is not open"
    late: bool = block.timestamp > (state >> SHIFT_DEADLINE) & packing.MASK40
    status: uint256 = CONFIRMED
    if late:
        status = CONFIRMED_LATE
    self._state[pair] = (state & ~STATUS_MASK) | (status << SHIFT_STATUS)
    log DeletionConfirmed(
        obligation_id=obligation_id,
        release_id=release_id,
        recipient=msg.sender,
        subject=subject,
        evidence_hash=evidence_hash,
        late=late,
    )


@external
def confirm_deletion(obligation_id: uint256, evidence_hash: bytes32):
    """
    @notice Confirms that the subject's rows were deleted. The recipient only; allowed
            after the deadline (flagged late).
    @param obligation_id The obligation.
    @param evidence_hash Hash of the recipient's deletion record (kept off chain).
    """
    assert evidence_hash != empty(bytes32), "deletion: empty evidence hash"
    self._confirm(obligation_id, evidence_hash)


@external
def confirm_deletions(obligation_ids: DynArray[uint256, MAX_CONFIRM], evidence_hash: bytes32):
    """
    @notice Confirms up to 128 obligations of the caller with one deletion record; all or
            nothing (only the recipient can touch its obligations, so no one else can make
            an entry fail).
    @param obligation_ids The obligations.
    @param evidence_hash Hash of the recipient's deletion record covering them all.
    """
    assert len(obligation_ids) != 0, "deletion: no obligations"
    assert evidence_hash != empty(bytes32), "deletion: empty evidence hash"
    for obligation_id: uint256 in obligation_ids:
        self._confirm(obligation_id, evidence_hash)


@external
@view
def obligation(obligation_id: uint256) -> (uint256, address, address, uint64, uint8):
    """
    @notice One obligation; all zero if unknown.
    @param obligation_id The obligation id.
    @return release_id, recipient, subject, deadline, status (1 open, 2 confirmed,
            3 confirmed late).
    """
    ob: uint256 = self._obligation[obligation_id]
    if ob == 0:
        return 0, empty(address), empty(address), 0, 0
    state: uint256 = self._state[self._pair(ob >> 160, packing._addr(ob))]
    return (
        ob >> 160,
        packing._addr(state),
        packing._addr(ob),
        convert((state >> SHIFT_DEADLINE) & packing.MASK40, uint64),
        packing._u8(state, SHIFT_STATUS),
    )


@external
@view
def obligation_of(release_id: uint256, subject: address) -> uint256:
    """
    @notice The obligation for `subject` in a release; 0 if none.
    @param release_id The release.
    @param subject The data subject.
    @return uint256 The obligation id.
    """
    return self._state[self._pair(release_id, subject)] >> SHIFT_ID


@external
@view
def is_overdue(obligation_id: uint256) -> bool:
    """
    @notice Whether the obligation is open and its deadline has passed.
    @param obligation_id The obligation id.
    @return bool True if overdue.
    """
    ob: uint256 = self._obligation[obligation_id]
    if ob == 0:
        return False
    state: uint256 = self._state[self._pair(ob >> 160, packing._addr(ob))]
    return (state >> SHIFT_STATUS) & packing.MASK8 == OPEN and block.timestamp > (state >> SHIFT_DEADLINE) & packing.MASK40


@external
@view
def obligation_count() -> uint256:
    """
    @notice The number of obligations created (the highest id).
    @return uint256 The count.
    """
    return self._count
