# pragma version 0.4.3
"""
@title CityLedger data-subject rights requests
@custom:contract-name RightsRegistry
@license MIT
@author CityLedger maintainers
@notice A citizen files a request (access, rectification, erasure, portability,
        restriction, objection, information, automated decision) against a publisher, or a former publisher, or a dataset,
        with a hash of its details; it is due 30 days later; the responsible publisher
        answers it: fulfilled, refused, or rejected as not from a data subject or manifestly
        unfounded or excessive (GDPR Art. 12(5)), counted apart. One citizen has at most
        MAX_OPEN_REQUESTS open requests to one publisher at a time. Whether a request is
        overdue is readable on chain.
@dev Storage layout:
     - `_request[id]`: `citizen | kind << 160 | target_kind << 168 | status << 176 | deadline << 184`.
     - `_party[id]`: `publisher | dataset_id << 160` (the target is the publisher itself or
       that dataset id, so it needs no slot of its own).
     - `_open[keccak256(abi_encode(citizen, publisher))]`: how many of the citizen's requests
       to that publisher are open.
     - `_count`: the highest request id.
     The details hash lives in the RightsRequestFiled event only.
"""

from .modules import role_gate
from .modules import packing
from .modules import IDatasetRegistry

initializes: role_gate
exports: role_gate.roles

# @dev How long a publisher has to answer (GDPR Art. 12(3): one month).
RESPONSE_PERIOD: public(constant(uint256)) = 30 * 24 * 3600
# @dev Most open requests one citizen may have to one publisher at a time.
MAX_OPEN_REQUESTS: public(constant(uint256)) = 16
# @dev Highest request kind: 1 access (GDPR Art. 15), 2 rectification (16), 3 erasure (17),
#      4 portability (20), 5 restriction (18), 6 objection (21), 7 information (13/14),
#      8 automated decision (22).
MAX_KIND: constant(uint8) = 8
# @dev Target kinds: a publisher (an address), a dataset (an id).
TARGET_PUBLISHER: constant(uint8) = 1
TARGET_DATASET: constant(uint8) = 2
# @dev Request status codes; 2, 3 and 5 are the outcomes of an answer.
OPEN: constant(uint256) = 1
FULFILLED: constant(uint256) = 2
REFUSED: constant(uint256) = 3
WITHDRAWN: constant(uint256) = 4
REJECTED: constant(uint256) = 5
# @dev Field positions in `_request`.
SHIFT_KIND: constant(uint256) = 160
SHIFT_TARGET_KIND: constant(uint256) = 168
SHIFT_STATUS: constant(uint256) = 176
SHIFT_DEADLINE: constant(uint256) = 184
# @dev The status field of `_request`.
STATUS_MASK: constant(uint256) = 255 << 176
# @dev The "ever held the publisher role" bit of a CityRoles word.
EVER_PUBLISHER: constant(uint256) = role_gate.ROLE_PUBLISHER << role_gate.EVER_SHIFT


# @dev A request was filed; the details hash is kept here only.
event RightsRequestFiled:
    request_id: indexed(uint256)
    citizen: indexed(address)
    publisher: indexed(address)
    kind: uint8
    target_kind: uint8
    target: bytes32
    details_hash: bytes32
    deadline: uint64


# @dev The responsible publisher answered (outcome 2 fulfilled, 3 refused, 5 rejected).
event RightsRequestAnswered:
    request_id: indexed(uint256)
    citizen: indexed(address)
    publisher: indexed(address)
    outcome: uint8
    answer_hash: bytes32
    late: bool


# @dev The citizen withdrew an open request.
event RightsRequestWithdrawn:
    request_id: indexed(uint256)
    citizen: indexed(address)
    publisher: indexed(address)


# @dev The DatasetRegistry a dataset target's publisher is read from.
datasets: public(immutable(IDatasetRegistry))
# @dev request_id -> citizen | kind << 160 | target_kind << 168 | status << 176 | deadline << 184.
_request: HashMap[uint256, uint256]
# @dev request_id -> publisher | dataset_id << 160 (dataset_id 0 for a publisher target).
_party: HashMap[uint256, uint256]
# @dev keccak256(abi_encode(citizen, publisher)) -> open requests between them.
_open: HashMap[bytes32, uint256]
# @dev The highest request id.
_count: uint256


@deploy
def __init__(roles: address, datasets_: address):
    """
    @notice Deploys the rights registry.
    @param roles The CityRoles address.
    @param datasets_ The DatasetRegistry address.
    """
    assert datasets_ != empty(address), "rights: datasets address is the zero address"
    role_gate.__init__(roles)
    datasets = IDatasetRegistry(datasets_)


@internal
@pure
def _pair(citizen: address, publisher: address) -> bytes32:
    return keccak256(abi_encode(citizen, publisher))


@internal
@view
def _load_open(request_id: uint256) -> uint256:
    """
    @dev The `_request` word of a known request whose status field is OPEN.
    """
    word: uint256 = self._request[request_id]
    assert word != 0, "rights: unknown request"
    assert (word >> SHIFT_STATUS) & packing.MASK8 == OPEN, "rights: request is not open"
    return word


@internal
def _close(request_id: uint256, word: uint256, publisher: address, status: uint256):
    """
    @dev Sets an open request's status and frees its place in the citizen's open count.
    """
    self._request[request_id] = (word & ~STATUS_MASK) | (status << SHIFT_STATUS)
    pair: bytes32 = self._pair(packing._addr(word), publisher)
    self._open[pair] = self._open[pair] - 1


@external
def file_request(kind: uint8, target_kind: uint8, target: bytes32, details_hash: bytes32) -> uint256:
    """
    @notice Files a rights request; anyone (the caller is the citizen). Due in 30 days.
    @param kind 1 access, 2 rectification, 3 erasure, 4 portability, 5 restriction, 6 objection,
           7 information (the right to be informed), 8 automated decision (not to be subject
           to a decision based solely on automated processing).
    @param target_kind 1 publisher (target = left-padded address that holds or once held
           the publisher role), 2 dataset (target = a registered dataset id; its publisher answers).
    @param target The publisher or dataset.
    @param details_hash Hash of the request's details (kept off chain).
    @return uint256 The request id.
    """
    assert kind >= 1 and kind <= MAX_KIND, "rights: unknown request kind"
    assert details_hash != empty(bytes32), "rights: empty details hash"
    publisher: address = empty(address)
    if target_kind == TARGET_PUBLISHER:
        assert packing._is_address_word(target), "rights: target is not an address"
        publisher = packing._word_address(target)
        # A former publisher still holds the data it published: it answers too.
        assert role_gate._roles_of(publisher) & EVER_PUBLISHER != 0, "rights: target is not a publisher"
    elif target_kind == TARGET_DATASET:
        publisher = staticcall datasets.publisher_of(convert(target, uint256))
        assert publisher != empty(address), "rights: unknown dataset"
    else:
        raise "rights: unknown target kind"
    pair: bytes32 = self._pair(msg.sender, publisher)
    open_count: uint256 = self._open[pair] + 1
    assert open_count <= MAX_OPEN_REQUESTS, "rights: too many open requests to this publisher"

    request_id: uint256 = self._count + 1
    self._count = request_id
    self._open[pair] = open_count
    deadline: uint256 = block.timestamp + RESPONSE_PERIOD
    self._request[request_id] = (
        convert(msg.sender, uint256)
        | (convert(kind, uint256) << SHIFT_KIND)
        | (convert(target_kind, uint256) << SHIFT_TARGET_KIND)
        | (OPEN << SHIFT_STATUS)
        | (deadline << SHIFT_DEADLINE)
    )
    party: uint256 = convert(publisher, uint256)
    if target_kind == TARGET_DATASET:
        # A registered id is below 2**32 (DatasetRegistry), so it fits the 96 bits left.
        party |= convert(target, uint256) << 160
    self._party[request_id] = party
    log RightsRequestFiled(
        request_id=request_id,
        citizen=msg.sender,
        publisher=publisher,
        kind=kind,
        target_kind=target_kind,
        target=target,
        details_hash=details_hash,
        deadline=convert(deadline, uint64),
    )
    return request_id


@external
def answer_request(request_id: uint256, outcome: uint8, answer_hash: bytes32):
    """
    @notice Answers an open request. The responsible publisher only (also a former
            publisher); late answers are allowed and flagged.
    @param request_id The request id.
    @param outcome 2 fulfilled, 3 refused, 5 rejected: not from a data subject, or
           manifestly unfounded or excessive (counted apart from refusals).
    @param answer_hash SHA-256 of the answer document (reasoning or delivered export),
           kept in the content-addressed store.
    """
    word: uint256 = self._load_open(request_id)
    publisher: address = packing._addr(self._party[request_id])
    assert publisher == msg.sender, "rights: caller is not the responsible publisher"
    status: uint256 = convert(outcome, uint256)
    assert status == FULFILLED or status == REFUSED or status == REJECTED, "rights: outcome must be 2, 3 or 5"
    assert answer_hash != empty(bytes32), "rights: empty answer hash"
    self._close(request_id, word, publisher, status)
    log RightsRequestAnswered(
        request_id=request_id,
        citizen=packing._addr(word),
        publisher=publisher,
        outcome=outcome,
        answer_hash=answer_hash,
        late=block.timestamp > (word >> SHIFT_DEADLINE),
    )


@external
def withdraw_request(request_id: uint256):
    """
    @notice Withdraws an open request. The citizen who filed it only.
    @param request_id The request id.
    """
    word: uint256 = self._load_open(request_id)
    assert packing._addr(word) == msg.sender, "rights: caller is not the citizen"
    publisher: address = packing._addr(self._party[request_id])
    self._close(request_id, word, publisher, WITHDRAWN)
    log RightsRequestWithdrawn(request_id=request_id, citizen=msg.sender, publisher=publisher)


@external
@view
def request(request_id: uint256) -> (address, address, uint8, uint8, bytes32, uint8, uint64):
    """
    @notice One request; all zero if unknown. Its details hash is in RightsRequestFiled.
    @param request_id The request id.
    @return citizen, publisher, kind, target_kind, target, status (1 open, 2 fulfilled,
            3 refused, 4 withdrawn, 5 rejected), deadline.
    """
    word: uint256 = self._request[request_id]
    party: uint256 = self._party[request_id]
    target: uint256 = party & packing.MASK160
    if (word >> SHIFT_TARGET_KIND) & packing.MASK8 == convert(TARGET_DATASET, uint256):
        target = party >> 160
    return (
        packing._addr(word),
        packing._addr(party),
        packing._u8(word, SHIFT_KIND),
        packing._u8(word, SHIFT_TARGET_KIND),
        convert(target, bytes32),
        packing._u8(word, SHIFT_STATUS),
        packing._u64(word, SHIFT_DEADLINE),
    )


@external
@view
def open_requests(citizen: address, publisher: address) -> uint256:
    """
    @notice How many of `citizen`'s requests to `publisher` are open (at most MAX_OPEN_REQUESTS).
    @param citizen The citizen.
    @param publisher The publisher.
    @return uint256 The count.
    """
    return self._open[self._pair(citizen, publisher)]


@external
@view
def is_overdue(request_id: uint256) -> bool:
    """
    @notice Whether the request is open and its deadline has passed.
    @param request_id The request id.
    @return bool True if overdue.
    """
    word: uint256 = self._request[request_id]
    return (word >> SHIFT_STATUS) & packing.MASK8 == OPEN and block.timestamp > (word >> SHIFT_DEADLINE)


@external
@view
def request_count() -> uint256:
    """
    @notice The number of requests filed (the highest id).
    @return uint256 The count.
    """
    return self._count
