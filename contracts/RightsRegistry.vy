# pragma version 0.4.3
"""
@title CityLedger data-subject rights requests
@notice A citizen files a request (access, rectification, erasure, portability,
        restriction, objection) against a publisher or a dataset with a hash of its
        details; it is due 30 days later; the responsible publisher answers it
        (fulfilled or refused, with a hash of the reasoning or of the export).
        Whether a request is overdue is readable on chain.
@dev Request: `citizen | kind << 160 | target_kind << 168 | status << 176 | deadline << 184`,
     `publisher | dataset_id << 160` (the target is the publisher itself or that dataset id, so
     it needs no slot of its own), and the details hash.
"""

from .modules import role_gate
from .modules import packing
from .modules import IDatasetRegistry

initializes: role_gate
exports: role_gate.roles

RESPONSE_PERIOD: public(constant(uint256)) = 30 * 24 * 3600
MAX_KIND: constant(uint8) = 6
TARGET_PUBLISHER: constant(uint8) = 1
TARGET_DATASET: constant(uint8) = 2
OPEN: constant(uint256) = 1
FULFILLED: constant(uint256) = 2
REFUSED: constant(uint256) = 3
WITHDRAWN: constant(uint256) = 4
SHIFT_KIND: constant(uint256) = 160
SHIFT_TARGET_KIND: constant(uint256) = 168
SHIFT_STATUS: constant(uint256) = 176
SHIFT_DEADLINE: constant(uint256) = 184
STATUS_MASK: constant(uint256) = 255 << 176


event RightsRequestFiled:
    request_id: indexed(uint256)
    citizen: indexed(address)
    publisher: indexed(address)
    kind: uint8
    target_kind: uint8
    target: bytes32
    details_hash: bytes32
    deadline: uint64


event RightsRequestAnswered:
    request_id: indexed(uint256)
    citizen: indexed(address)
    publisher: indexed(address)
    outcome: uint8
    answer_hash: bytes32
    late: bool


event RightsRequestWithdrawn:
    request_id: indexed(uint256)
    citizen: indexed(address)
    publisher: indexed(address)


datasets: public(immutable(IDatasetRegistry))
_request: HashMap[uint256, uint256]
# publisher | dataset_id << 160 (dataset_id 0 for a publisher target)
_party: HashMap[uint256, uint256]
_details: HashMap[uint256, bytes32]
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
@view
def _load_open(request_id: uint256) -> uint256:
    word: uint256 = self._request[request_id]
    assert word != 0, "rights: unknown request"
    assert (word >> SHIFT_STATUS) & packing.MASK8 == OPEN, "rights: request is not open"
    return word


@external
def file_request(kind: uint8, target_kind: uint8, target: bytes32, details_hash: bytes32) -> uint256:
    """
    @notice Files a rights request; anyone (the caller is the citizen). Due in 30 days.
    @param kind 1 access, 2 rectification, 3 erasure, 4 portability, 5 restriction, 6 objection.
    @param target_kind 1 publisher (target = left-padded address holding the publisher
           role), 2 dataset (target = a registered dataset id; its publisher answers).
    @param target The publisher or dataset.
    @param details_hash Hash of the request's details (kept off chain).
    @return uint256 The request id.
    """
    assert kind >= 1 and kind <= MAX_KIND, "rights: unknown request kind"
    assert details_hash != empty(bytes32), "rights: empty details hash"
    publisher: address = empty(address)
    if target_kind == TARGET_PUBLISHER:
        assert packing._is_address_word(target), "rights: target is not an address"
        publisher = convert(convert(convert(target, uint256), uint160), address)
        assert role_gate._has_any(publisher, role_gate.ROLE_PUBLISHER), "rights: target is not a publisher"
    elif target_kind == TARGET_DATASET:
        publisher = staticcall datasets.publisher_of(convert(target, uint256))
        assert publisher != empty(address), "rights: unknown dataset"
    else:
        raise "rights: unknown target kind"

    request_id: uint256 = self._count + 1
    self._count = request_id
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
    self._details[request_id] = details_hash
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
def answer_request(request_id: uint256, fulfilled: bool, answer_hash: bytes32):
    """
    @notice Answers an open request. The responsible publisher only; late answers are allowed and flagged.
    @param request_id The request id.
    @param fulfilled True: fulfilled (status 2); False: refused (status 3).
    @param answer_hash Hash of the reasoning or of the delivered export.
    """
    word: uint256 = self._load_open(request_id)
    publisher: address = packing._addr(self._party[request_id])
    assert publisher == msg.sender, "rights: caller is not the responsible publisher"
    assert answer_hash != empty(bytes32), "rights: empty answer hash"
    outcome: uint256 = REFUSED
    if fulfilled:
        outcome = FULFILLED
    self._request[request_id] = (word & ~STATUS_MASK) | (outcome << SHIFT_STATUS)
    log RightsRequestAnswered(
        request_id=request_id,
        citizen=packing._addr(word),
        publisher=publisher,
        outcome=convert(outcome, uint8),
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
    self._request[request_id] = (word & ~STATUS_MASK) | (WITHDRAWN << SHIFT_STATUS)
    log RightsRequestWithdrawn(request_id=request_id, citizen=msg.sender, publisher=packing._addr(self._party[request_id]))


@external
@view
def request(request_id: uint256) -> (address, address, uint8, uint8, bytes32, bytes32, uint8, uint64):
    """
    @notice One request; all zero if unknown.
    @param request_id The request id.
    @return citizen, publisher, kind, target_kind, target, details_hash, status
            (1 open, 2 fulfilled, 3 refused, 4 withdrawn), deadline.
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
        self._details[request_id],
        packing._u8(word, SHIFT_STATUS),
        packing._u64(word, SHIFT_DEADLINE),
    )


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
