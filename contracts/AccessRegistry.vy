# pragma version 0.4.3
"""
@title CityLedger access and release registry
@notice A researcher or publisher requests access to a dataset version for a purpose;
        the dataset's publisher grants it until an expiry or refuses; either side ends
        it. The publisher logs every release of data under a live access: the version
        released, how many subjects were included, the Merkle root of the consenting
        subjects' set and the block that consent snapshot was taken at.
@dev Access: `requester | status << 160 | expiry << 168 | dataset_id << 208` (expiry 40 bits,
     good to the year 36812; dataset ids 48 bits), and the purpose.
     Release: `access_id | dataset_id << 64 | subject_count << 128 | snapshot_block << 160`,
     the consent root, the release hash.
"""

from .modules import role_gate
from .modules import packing
from .modules import IDatasetRegistry

initializes: role_gate
exports: role_gate.roles

REQUESTED: constant(uint256) = 1
GRANTED: constant(uint256) = 2
REFUSED: constant(uint256) = 3
ENDED: constant(uint256) = 4
SHIFT_STATUS: constant(uint256) = 160
SHIFT_EXPIRY: constant(uint256) = 168
SHIFT_DATASET: constant(uint256) = 208
MASK40: constant(uint256) = 2**40 - 1
MAX_DATASET: constant(uint256) = 2**48 - 1
# Keeps requester and dataset id; clears status and expiry.
KEEP_MASK: constant(uint256) = (2**160 - 1) | ((2**48 - 1) << 208)
# Requesters and grantees: researchers or publishers (businesses, agencies).
REQUESTER_ROLES: constant(uint256) = 5
MAX_ID: constant(uint256) = 2**64 - 1


event AccessRequested:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    requester: indexed(address)
    purpose: bytes32
    terms_hash: bytes32


event AccessGranted:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    grantee: indexed(address)
    purpose: bytes32
    expiry: uint64


event AccessRefused:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    requester: indexed(address)
    reason_hash: bytes32


event AccessEnded:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    ended_by: indexed(address)


event ReleaseLogged:
    release_id: indexed(uint256)
    access_id: indexed(uint256)
    grantee: indexed(address)
    dataset_id: uint256
    purpose: bytes32
    subject_count: uint32
    consent_root: bytes32
    snapshot_block: uint64
    release_hash: bytes32


datasets: public(immutable(IDatasetRegistry))
_access: HashMap[uint256, uint256]
_access_purpose: HashMap[uint256, bytes32]
_access_count: uint256
_release: HashMap[uint256, uint256]
_release_root: HashMap[uint256, bytes32]
_release_hash: HashMap[uint256, bytes32]
_release_count: uint256


@deploy
def __init__(roles: address, datasets_: address):
    """
    @notice Deploys the access registry.
    @param roles The CityRoles address.
    @param datasets_ The DatasetRegistry address.
    """
    assert datasets_ != empty(address), "access: datasets address is the zero address"
    role_gate.__init__(roles)
    datasets = IDatasetRegistry(datasets_)


@internal
@view
def _load(access_id: uint256) -> uint256:
    word: uint256 = self._access[access_id]
    assert word != 0, "access: unknown access"
    return word


@internal
@view
def _require_publisher(dataset_id: uint256):
    assert staticcall datasets.publisher_of(dataset_id) == msg.sender, "access: caller is not the dataset's publisher"


@external
def request_access(dataset_id: uint256, purpose: bytes32, terms_hash: bytes32) -> uint256:
    """
    @notice Requests access to an active dataset version for a purpose. Researcher or publisher role.
    @param dataset_id The dataset version.
    @param purpose keccak256 of a DPV purpose IRI.
    @param terms_hash Hash of the proposed terms of use.
    @return uint256 The access id.
    """
    assert role_gate._has_any(msg.sender, REQUESTER_ROLES), "access: caller is not a researcher or publisher"
    assert purpose != empty(bytes32), "access: empty purpose"
    assert dataset_id <= MAX_DATASET and staticcall datasets.is_active(dataset_id), "access: dataset is not active"
    access_id: uint256 = self._access_count + 1
    assert access_id <= MAX_ID, "access: id space exhausted"
    self._access_count = access_id
    self._access[access_id] = convert(msg.sender, uint256) | (REQUESTED << SHIFT_STATUS) | (dataset_id << SHIFT_DATASET)
    self._access_purpose[access_id] = purpose
    log AccessRequested(
        access_id=access_id, dataset_id=dataset_id, requester=msg.sender, purpose=purpose, terms_hash=terms_hash
    )
    return access_id


@external
def grant_access(access_id: uint256, expiry: uint64):
    """
    @notice Grants a requested access until `expiry`. The dataset's publisher only.
    @dev The requester must still hold a researcher or publisher role and the dataset
         must still be active.
    @param access_id The access id.
    @param expiry Unix time the access ends; must be in the future.
    """
    word: uint256 = self._load(access_id)
    dataset_id: uint256 = word >> SHIFT_DATASET
    self._require_publisher(dataset_id)
    assert (word >> SHIFT_STATUS) & packing.MASK8 == REQUESTED, "access: access is not in requested state"
    assert convert(expiry, uint256) > block.timestamp, "access: expiry is in the past"
    assert convert(expiry, uint256) <= MASK40, "access: expiry too far in the future"
    requester: address = packing._addr(word)
    assert role_gate._has_any(requester, REQUESTER_ROLES), "access: requester no longer holds a role"
    assert staticcall datasets.is_active(dataset_id), "access: dataset is not active"
    self._access[access_id] = (word & KEEP_MASK) | (GRANTED << SHIFT_STATUS) | (convert(expiry, uint256) << SHIFT_EXPIRY)
    log AccessGranted(
        access_id=access_id,
        dataset_id=dataset_id,
        grantee=requester,
        purpose=self._access_purpose[access_id],
        expiry=expiry,
    )


@external
def refuse_access(access_id: uint256, reason_hash: bytes32):
    """
    @notice Refuses a requested access. The dataset's publisher only.
    @param access_id The access id.
    @param reason_hash Hash of the published reason.
    """
    word: uint256 = self._load(access_id)
    dataset_id: uint256 = word >> SHIFT_DATASET
    self._require_publisher(dataset_id)
    assert (word >> SHIFT_STATUS) & packing.MASK8 == REQUESTED, "access: access is not in requested state"
    self._access[access_id] = (word & KEEP_MASK) | (REFUSED << SHIFT_STATUS)
    log AccessRefused(access_id=access_id, dataset_id=dataset_id, requester=packing._addr(word), reason_hash=reason_hash)


@external
def end_access(access_id: uint256):
    """
    @notice Ends a granted access (expired or not). The dataset's publisher or the grantee.
    @param access_id The access id.
    """
    word: uint256 = self._load(access_id)
    dataset_id: uint256 = word >> SHIFT_DATASET
    assert (word >> SHIFT_STATUS) & packing.MASK8 == GRANTED, "access: access is not granted"
    if packing._addr(word) != msg.sender:
        self._require_publisher(dataset_id)
    # Keep the expiry for the record; the status alone ends liveness.
    self._access[access_id] = (word & ~(packing.MASK8 << SHIFT_STATUS)) | (ENDED << SHIFT_STATUS)
    log AccessEnded(access_id=access_id, dataset_id=dataset_id, ended_by=msg.sender)


@internal
@view
def _is_live(word: uint256) -> bool:
    return (word >> SHIFT_STATUS) & packing.MASK8 == GRANTED and (word >> SHIFT_EXPIRY) & MASK40 > block.timestamp


@external
def log_release(
    access_id: uint256,
    dataset_id: uint256,
    subject_count: uint32,
    consent_root: bytes32,
    snapshot_block: uint64,
    release_hash: bytes32,
) -> uint256:
    """
    @notice Logs one release of data under a live access. The dataset's publisher only.
    @dev `dataset_id` is the granted version or a later active version of its lineage
         (same publisher by construction). The grantee must still hold a researcher or
         publisher role. A release with subjects needs a consent root.
    @param access_id The live access the release is made under.
    @param dataset_id The dataset version released.
    @param subject_count How many data subjects the release includes.
    @param consent_root Merkle root of the consenting subjects' set (the consent snapshot).
    @param snapshot_block The block the consent snapshot was taken at (<= this block).
    @param release_hash Hash of the released file.
    @return uint256 The release id.
    """
    word: uint256 = self._load(access_id)
    granted_id: uint256 = word >> SHIFT_DATASET
    self._require_publisher(granted_id)
    assert self._is_live(word), "access: access is not live"
    assert release_hash != empty(bytes32), "access: empty release hash"
    assert subject_count == 0 or consent_root != empty(bytes32), "access: consent root required"
    assert convert(snapshot_block, uint256) <= block.number, "access: snapshot block is in the future"
    if dataset_id != granted_id:
        assert dataset_id > granted_id, "access: dataset is not the granted version or a later one"
        assert staticcall datasets.lineage_of(dataset_id) == staticcall datasets.lineage_of(granted_id), "access: dataset is not the granted version or a later one"
    assert staticcall datasets.is_active(dataset_id), "access: dataset is not active"
    grantee: address = packing._addr(word)
    assert role_gate._has_any(grantee, REQUESTER_ROLES), "access: grantee no longer holds a role"

    release_id: uint256 = self._release_count + 1
    self._release_count = release_id
    self._release[release_id] = (
        access_id
        | (dataset_id << 64)
        | (convert(subject_count, uint256) << 128)
        | (convert(snapshot_block, uint256) << 160)
    )
    self._release_root[release_id] = consent_root
    self._release_hash[release_id] = release_hash
    log ReleaseLogged(
        release_id=release_id,
        access_id=access_id,
        grantee=grantee,
        dataset_id=dataset_id,
        purpose=self._access_purpose[access_id],
        subject_count=subject_count,
        consent_root=consent_root,
        snapshot_block=snapshot_block,
        release_hash=release_hash,
    )
    return release_id


@external
@view
def access(access_id: uint256) -> (uint256, address, bytes32, uint8, uint64):
    """
    @notice One access record; all zero if unknown.
    @param access_id The access id.
    @return dataset_id, requester, purpose, status (1 requested, 2 granted, 3 refused,
            4 ended), expiry (0 until granted).
    """
    word: uint256 = self._access[access_id]
    return (
        word >> SHIFT_DATASET,
        packing._addr(word),
        self._access_purpose[access_id],
        packing._u8(word, SHIFT_STATUS),
        convert((word >> SHIFT_EXPIRY) & MASK40, uint64),
    )


@external
@view
def is_live(access_id: uint256) -> bool:
    """
    @notice Whether the access is granted and not yet expired.
    @param access_id The access id.
    @return bool True if live.
    """
    return self._is_live(self._access[access_id])


@external
@view
def release(release_id: uint256) -> (uint256, uint256, uint32, bytes32, uint64, bytes32):
    """
    @notice One release record; all zero if unknown.
    @param release_id The release id.
    @return access_id, dataset_id, subject_count, consent_root, snapshot_block, release_hash.
    """
    word: uint256 = self._release[release_id]
    return (
        word & packing.MASK64,
        (word >> 64) & packing.MASK64,
        packing._u32(word, 128),
        self._release_root[release_id],
        packing._u64(word, 160),
        self._release_hash[release_id],
    )


@external
@view
def access_count() -> uint256:
    """
    @notice The number of access requests (the highest id).
    @return uint256 The count.
    """
    return self._access_count


@external
@view
def release_count() -> uint256:
    """
    @notice The number of releases logged (the highest id).
    @return uint256 The count.
    """
    return self._release_count
