# pragma version 0.4.3
"""
@title CityLedger dataset registry
@custom:contract-name DatasetRegistry
@license MIT
@author CityLedger maintainers
@notice Each registration is one dataset version with its own id (1, 2, 3, ...). A new
        version names the id it supersedes; only that version's publisher may supersede
        or withdraw it; history is linear. A content hash (SHA-256 of the file) is unique
        per publisher: another publisher registering the same bytes first blocks nobody,
        and a publisher may register bytes again once its earlier registration of them is
        withdrawn. Auditors attach attestations to active versions of others' datasets.
@dev Storage layout:
     - `_content[id]`: the version's content hash.
     - `_meta[id]`: `publisher | version << 160 | domain << 176 | status << 184 |
       personal << 188 | supersedes << 192 | successor << 224`.
     - `_index[keccak256(abi_encode(publisher, content_hash))]`: `dataset_id | lineage << 128`,
       the publisher's latest registration of those bytes and its lineage.
     - `_moved_lineage[id]`: the lineage of a withdrawn version whose `_index` entry a later
       registration of the same bytes by the same publisher took over (written only then).
     - `_count`: the highest dataset id.
     - `_attestations[id]`: `auditor | kind << 160 | active << 168 | dataset_id << 176`.
     - `_attestation_count`: the highest attestation id.
     A new version so costs three new slots and one changed slot (the predecessor's
     successor). The metadata hash and URI live in the event only.
"""

from .modules import role_gate
from .modules import packing

initializes: role_gate
exports: role_gate.roles

# @dev Highest domain code (docs/CONTRACTS.md "Codes").
MAX_DOMAIN: constant(uint8) = 12
# @dev Highest attestation kind (1 quality, 2 coverage, 3 provenance, 4 privacy review).
MAX_ATTESTATION_KIND: constant(uint8) = 4
# @dev Status codes of a version.
STATUS_ACTIVE: constant(uint256) = 1
STATUS_WITHDRAWN: constant(uint256) = 2
# @dev Ids fit the 32-bit `supersedes` and `successor` fields, versions the 16-bit field.
MAX_ID: constant(uint256) = 2**32 - 1
MAX_VERSION: constant(uint256) = 2**16 - 1

# @dev Field positions in `_meta`.
SHIFT_VERSION: constant(uint256) = 160
SHIFT_DOMAIN: constant(uint256) = 176
SHIFT_STATUS: constant(uint256) = 184
SHIFT_PERSONAL: constant(uint256) = 188
SHIFT_SUPERSEDES: constant(uint256) = 192
SHIFT_SUCCESSOR: constant(uint256) = 224
# @dev The status field of `_meta`.
STATUS_MASK: constant(uint256) = 15 << 184
# @dev The fields a release under an earlier version's access must not see change:
#      domain and personal flag.
TERMS_MASK: constant(uint256) = (255 << 176) | (15 << 188)
# @dev Position of the lineage in an `_index` word.
SHIFT_LINEAGE: constant(uint256) = 128

# @dev Field positions in `_attestations`.
SHIFT_ATT_KIND: constant(uint256) = 160
SHIFT_ATT_ACTIVE: constant(uint256) = 168
SHIFT_ATT_DATASET: constant(uint256) = 176


# @dev A version was registered; the metadata hash and URI are kept here only.
event DatasetRegistered:
    dataset_id: indexed(uint256)
    publisher: indexed(address)
    content_hash: indexed(bytes32)
    metadata_hash: bytes32
    metadata_uri: String[256]
    domain: uint8
    personal_data: bool
    version: uint32
    supersedes: uint256


# @dev A version was withdrawn by its publisher.
event DatasetWithdrawn:
    dataset_id: indexed(uint256)
    publisher: indexed(address)
    reason_hash: bytes32


# @dev An auditor attested a version.
event AttestationAdded:
    attestation_id: indexed(uint256)
    dataset_id: indexed(uint256)
    auditor: indexed(address)
    kind: uint8
    report_hash: bytes32


# @dev The attesting auditor revoked an attestation.
event AttestationRevoked:
    attestation_id: indexed(uint256)
    dataset_id: indexed(uint256)
    auditor: indexed(address)


# @dev keccak256(abi_encode(publisher, content_hash)) -> dataset_id | lineage << 128.
_index: HashMap[bytes32, uint256]
# @dev dataset_id -> content hash.
_content: HashMap[uint256, bytes32]
# @dev dataset_id -> the packed record (see the layout above).
_meta: HashMap[uint256, uint256]
# @dev dataset_id -> lineage, for a withdrawn version whose `_index` entry was taken over.
_moved_lineage: HashMap[uint256, uint256]
# @dev The highest dataset id.
_count: uint256
# @dev attestation_id -> auditor | kind << 160 | active << 168 | dataset_id << 176.
_attestations: HashMap[uint256, uint256]
# @dev The highest attestation id.
_attestation_count: uint256


@deploy
def __init__(roles: address):
    """
    @notice Deploys the registry against the CityRoles contract at `roles`.
    @param roles The CityRoles address.
    """
    role_gate.__init__(roles)


@internal
@pure
def _key(publisher: address, content_hash: bytes32) -> bytes32:
    return keccak256(abi_encode(publisher, content_hash))


@internal
@pure
def _active(meta: uint256) -> bool:
    """
    @dev Whether a `_meta` word is a registered version that is not withdrawn.
    """
    return meta != 0 and (meta >> SHIFT_STATUS) & packing.MASK4 == STATUS_ACTIVE


@internal
@view
def _lineage(dataset_id: uint256, meta: uint256) -> uint256:
    """
    @dev The lineage of a registered version from its `_meta` word: its `_index` entry,
         or `_moved_lineage` if a later registration of the same bytes took that entry.
    """
    entry: uint256 = self._index[self._key(packing._addr(meta), self._content[dataset_id])]
    if entry & packing.MASK128 == dataset_id:
        return entry >> SHIFT_LINEAGE
    return self._moved_lineage[dataset_id]


@external
def register(
    content_hash: bytes32,
    metadata_hash: bytes32,
    metadata_uri: String[256],
    domain: uint8,
    personal_data: bool,
    supersedes: uint256,
) -> uint256:
    """
    @notice Registers a dataset version. Publisher role only.
    @dev With `supersedes != 0` the new version continues that version's lineage:
         the caller must be its publisher and it must not already have a successor.
         The caller may not hold an active registration of the same bytes.
    @param content_hash SHA-256 of the file's bytes.
    @param metadata_hash Hash of the DCAT metadata JSON.
    @param metadata_uri Where the DCAT metadata JSON lives.
    @param domain Domain code 1..12.
    @param personal_data Whether the dataset holds personal data.
    @param supersedes The id of the version this one replaces, or 0 for a new dataset.
    @return uint256 The new version's id.
    """
    assert role_gate._has_any(msg.sender, role_gate.ROLE_PUBLISHER), "datasets: caller is not a publisher"
    assert content_hash != empty(bytes32), "datasets: empty content hash"
    assert metadata_hash != empty(bytes32), "datasets: empty metadata hash"
    assert domain >= 1 and domain <= MAX_DOMAIN, "datasets: unknown domain"
    key: bytes32 = self._key(msg.sender, content_hash)
    prior: uint256 = self._index[key]
    if prior != 0:
        prior_id: uint256 = prior & packing.MASK128
        assert not self._active(self._meta[prior_id]), "datasets: content hash already registered by this publisher"
        # The withdrawn version keeps its lineage where lineage_of finds it.
        self._moved_lineage[prior_id] = prior >> SHIFT_LINEAGE

    new_id: uint256 = self._count + 1
    assert new_id <= MAX_ID, "datasets: id space exhausted"
    version: uint256 = 1
    lineage: uint256 = new_id
    if supersedes != 0:
        prev: uint256 = self._meta[supersedes]
        assert prev != 0, "datasets: unknown dataset"
        assert packing._addr(prev) == msg.sender, "datasets: caller is not the dataset's publisher"
        assert prev >> SHIFT_SUCCESSOR == 0, "datasets: version already superseded"
        version = ((prev >> SHIFT_VERSION) & packing.MASK16) + 1
        assert version <= MAX_VERSION, "datasets: too many versions"
        lineage = self._lineage(supersedes, prev)
        self._meta[supersedes] = prev | (new_id << SHIFT_SUCCESSOR)

    self._count = new_id
    self._content[new_id] = content_hash
    self._index[key] = new_id | (lineage << SHIFT_LINEAGE)
    self._meta[new_id] = (
        convert(msg.sender, uint256)
        | (version << SHIFT_VERSION)
        | (convert(domain, uint256) << SHIFT_DOMAIN)
        | (STATUS_ACTIVE << SHIFT_STATUS)
        | (convert(personal_data, uint256) << SHIFT_PERSONAL)
        | (supersedes << SHIFT_SUPERSEDES)
    )
    log DatasetRegistered(
        dataset_id=new_id,
        publisher=msg.sender,
        content_hash=content_hash,
        metadata_hash=metadata_hash,
        metadata_uri=metadata_uri,
        domain=domain,
        personal_data=personal_data,
        version=convert(version, uint32),
        supersedes=supersedes,
    )
    return new_id


@external
def withdraw(dataset_id: uint256, reason_hash: bytes32):
    """
    @notice Withdraws a dataset version. Only its publisher, with or without the
            publisher role (winding down); once.
    @param dataset_id The version's id.
    @param reason_hash Hash of the published reason.
    """
    meta: uint256 = self._meta[dataset_id]
    assert meta != 0, "datasets: unknown dataset"
    assert packing._addr(meta) == msg.sender, "datasets: caller is not the dataset's publisher"
    assert self._active(meta), "datasets: dataset already withdrawn"
    self._meta[dataset_id] = (meta & ~STATUS_MASK) | (STATUS_WITHDRAWN << SHIFT_STATUS)
    log DatasetWithdrawn(dataset_id=dataset_id, publisher=msg.sender, reason_hash=reason_hash)


@external
def attest(dataset_id: uint256, kind: uint8, report_hash: bytes32) -> uint256:
    """
    @notice Attaches an attestation to an active dataset version. Auditor role only, and
            never the dataset's own publisher (one account may hold both roles).
    @param dataset_id The version's id.
    @param kind 1 quality, 2 coverage, 3 provenance, 4 privacy review.
    @param report_hash Hash of the audit report.
    @return uint256 The attestation id.
    """
    assert role_gate._has_any(msg.sender, role_gate.ROLE_AUDITOR), "datasets: caller is not an auditor"
    assert kind >= 1 and kind <= MAX_ATTESTATION_KIND, "datasets: unknown attestation kind"
    assert report_hash != empty(bytes32), "datasets: empty report hash"
    meta: uint256 = self._meta[dataset_id]
    assert self._active(meta), "datasets: dataset is not active"
    assert packing._addr(meta) != msg.sender, "datasets: auditor is the dataset's publisher"
    att_id: uint256 = self._attestation_count + 1
    self._attestation_count = att_id
    self._attestations[att_id] = (
        convert(msg.sender, uint256)
        | (convert(kind, uint256) << SHIFT_ATT_KIND)
        | (1 << SHIFT_ATT_ACTIVE)
        | (dataset_id << SHIFT_ATT_DATASET)
    )
    log AttestationAdded(
        attestation_id=att_id, dataset_id=dataset_id, auditor=msg.sender, kind=kind, report_hash=report_hash
    )
    return att_id


@external
def revoke_attestation(attestation_id: uint256):
    """
    @notice Revokes an attestation. Only the auditor who made it; once. Allowed on a
            withdrawn version too (attestations stay as history otherwise).
    @param attestation_id The attestation id.
    """
    att: uint256 = self._attestations[attestation_id]
    assert att != 0, "datasets: unknown attestation"
    assert packing._addr(att) == msg.sender, "datasets: caller is not the attesting auditor"
    assert (att >> SHIFT_ATT_ACTIVE) & 1 == 1, "datasets: attestation already revoked"
    self._attestations[attestation_id] = att & ~(1 << SHIFT_ATT_ACTIVE)
    log AttestationRevoked(
        attestation_id=attestation_id, dataset_id=att >> SHIFT_ATT_DATASET, auditor=msg.sender
    )


@external
@view
def dataset(dataset_id: uint256) -> (bytes32, address, uint32, uint8, bool, uint8, uint256, uint256):
    """
    @notice One dataset version. Reverts if unknown.
    @param dataset_id The version's id.
    @return content_hash, publisher, version, domain, personal_data, status (1 active,
            2 withdrawn), supersedes (0: first version), successor (0: latest).
    """
    meta: uint256 = self._meta[dataset_id]
    assert meta != 0, "datasets: unknown dataset"
    return (
        self._content[dataset_id],
        packing._addr(meta),
        convert((meta >> SHIFT_VERSION) & packing.MASK16, uint32),
        packing._u8(meta, SHIFT_DOMAIN),
        (meta >> SHIFT_PERSONAL) & packing.MASK4 == 1,
        convert((meta >> SHIFT_STATUS) & packing.MASK4, uint8),
        (meta >> SHIFT_SUPERSEDES) & packing.MASK32,
        meta >> SHIFT_SUCCESSOR,
    )


@external
@view
def dataset_id_of(publisher: address, content_hash: bytes32) -> uint256:
    """
    @notice The id of `publisher`'s latest registration of `content_hash`; 0 if none.
            Other publishers may have registered the same bytes (see their
            DatasetRegistered events); each registration names its own publisher.
    @param publisher The publisher.
    @param content_hash SHA-256 of the file's bytes.
    @return uint256 The dataset version id.
    """
    return self._index[self._key(publisher, content_hash)] & packing.MASK128


@external
@view
def facts(dataset_id: uint256) -> (address, uint8, bool, bool):
    """
    @notice What the other registries check about a version, in one call (one SLOAD).
    @param dataset_id The version's id.
    @return publisher (empty if unknown), domain, personal_data, active.
    """
    meta: uint256 = self._meta[dataset_id]
    return (packing._addr(meta), packing._u8(meta, SHIFT_DOMAIN), (meta >> SHIFT_PERSONAL) & 1 == 1, self._active(meta))


@external
@view
def version_facts(granted_id: uint256, dataset_id: uint256) -> (address, bool, bool, bool, bool):
    """
    @notice What a release or query of version `dataset_id` under an access granted for
            version `granted_id` must check, in one call.
    @param granted_id The version the access was granted for.
    @param dataset_id The version released (the granted one or a later one).
    @return publisher of `granted_id` (empty if unknown); in_lineage: `dataset_id` is
            `granted_id` or a later version of its lineage; same_terms: same domain and
            personal flag as `granted_id`; active: `dataset_id` is not withdrawn;
            personal: `dataset_id` holds personal data.
    """
    granted: uint256 = self._meta[granted_id]
    meta: uint256 = granted
    in_lineage: bool = granted != 0
    if dataset_id != granted_id:
        meta = self._meta[dataset_id]
        in_lineage = (
            in_lineage
            and meta != 0
            and dataset_id > granted_id
            and self._lineage(dataset_id, meta) == self._lineage(granted_id, granted)
        )
    return (
        packing._addr(granted),
        in_lineage,
        granted & TERMS_MASK == meta & TERMS_MASK,
        self._active(meta),
        (meta >> SHIFT_PERSONAL) & 1 == 1,
    )


@external
@view
def publisher_of(dataset_id: uint256) -> address:
    """
    @notice The publisher of a dataset version; the zero address if unknown.
    @param dataset_id The version's id.
    @return address The publisher.
    """
    return packing._addr(self._meta[dataset_id])


@external
@view
def domain_of(dataset_id: uint256) -> uint8:
    """
    @notice The domain code of a dataset version; 0 if unknown.
    @param dataset_id The version's id.
    @return uint8 The domain code.
    """
    return packing._u8(self._meta[dataset_id], SHIFT_DOMAIN)


@external
@view
def is_active(dataset_id: uint256) -> bool:
    """
    @notice Whether the version is registered and not withdrawn (superseded versions stay active).
    @param dataset_id The version's id.
    @return bool True if active.
    """
    return self._active(self._meta[dataset_id])


@external
@view
def lineage_of(dataset_id: uint256) -> uint256:
    """
    @notice The id of the first version of this version's lineage (itself for a first
            version); 0 if unknown. Two versions are of the same dataset iff equal.
    @param dataset_id The version's id.
    @return uint256 The lineage's first version id.
    """
    meta: uint256 = self._meta[dataset_id]
    if meta == 0:
        return 0
    return self._lineage(dataset_id, meta)


@external
@view
def dataset_count() -> uint256:
    """
    @notice The number of registered versions (the highest id).
    @return uint256 The count.
    """
    return self._count


@external
@view
def attestation(attestation_id: uint256) -> (uint256, address, uint8, bool):
    """
    @notice One attestation; all zero if unknown. An attestation of a version that was
            later withdrawn stays as it was (history); read the version's status beside it.
    @param attestation_id The attestation id.
    @return dataset_id, auditor, kind, active.
    """
    att: uint256 = self._attestations[attestation_id]
    return (
        att >> SHIFT_ATT_DATASET,
        packing._addr(att),
        packing._u8(att, SHIFT_ATT_KIND),
        (att >> SHIFT_ATT_ACTIVE) & 1 == 1,
    )


@external
@view
def attestation_count() -> uint256:
    """
    @notice The number of attestations made (the highest id).
    @return uint256 The count.
    """
    return self._attestation_count
