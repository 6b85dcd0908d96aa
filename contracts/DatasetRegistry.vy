# pragma version 0.4.3
"""
@title CityLedger dataset registry
@notice Each registration is one dataset version with its own id (1, 2, 3, ...). A new
        version names the id it supersedes; only that version's publisher may supersede
        or withdraw it; history is linear. A content hash (SHA-256 of the file) can be
        registered once, ever. Auditors attach attestations to active versions.
@dev Storage per version: the content hash; one packed word
     `publisher | version << 160 | domain << 176 | status << 184 | personal << 188 | supersedes << 192 | successor << 224`;
     and the content-hash index word `dataset_id | lineage << 128`. A new version so costs
     three new slots and one changed slot (the predecessor's successor). The metadata hash
     and URI live in the event only.
"""

from .modules import role_gate
from .modules import packing

initializes: role_gate
exports: role_gate.roles

MAX_DOMAIN: constant(uint8) = 12
MAX_ATTESTATION_KIND: constant(uint8) = 4
STATUS_ACTIVE: constant(uint256) = 1
STATUS_WITHDRAWN: constant(uint256) = 2
# Ids fit the 32-bit `supersedes` and `successor` fields, versions the 16-bit field.
MAX_ID: constant(uint256) = 2**32 - 1
MAX_VERSION: constant(uint256) = 2**16 - 1
MASK4: constant(uint256) = 15
MASK16: constant(uint256) = 2**16 - 1

SHIFT_VERSION: constant(uint256) = 160
SHIFT_DOMAIN: constant(uint256) = 176
SHIFT_STATUS: constant(uint256) = 184
SHIFT_PERSONAL: constant(uint256) = 188
SHIFT_SUPERSEDES: constant(uint256) = 192
SHIFT_SUCCESSOR: constant(uint256) = 224
STATUS_MASK: constant(uint256) = 15 << 184

SHIFT_ATT_KIND: constant(uint256) = 160
SHIFT_ATT_ACTIVE: constant(uint256) = 168
SHIFT_ATT_DATASET: constant(uint256) = 176


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


event DatasetWithdrawn:
    dataset_id: indexed(uint256)
    publisher: indexed(address)
    reason_hash: bytes32


event AttestationAdded:
    attestation_id: indexed(uint256)
    dataset_id: indexed(uint256)
    auditor: indexed(address)
    kind: uint8
    report_hash: bytes32


event AttestationRevoked:
    attestation_id: indexed(uint256)
    dataset_id: indexed(uint256)
    auditor: indexed(address)


# content hash -> dataset_id | lineage << 128
_index: HashMap[bytes32, uint256]
_content: HashMap[uint256, bytes32]
_meta: HashMap[uint256, uint256]
_count: uint256
# auditor | kind << 160 | active << 168 | dataset_id << 176
_attestations: HashMap[uint256, uint256]
_attestation_count: uint256


@deploy
def __init__(roles: address):
    """
    @notice Deploys the registry against the CityRoles contract at `roles`.
    @param roles The CityRoles address.
    """
    role_gate.__init__(roles)


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
    @param content_hash SHA-256 of the file's bytes; registrable once, ever.
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
    assert self._index[content_hash] == 0, "datasets: content hash already registered"

    new_id: uint256 = self._count + 1
    assert new_id <= MAX_ID, "datasets: id space exhausted"
    version: uint256 = 1
    lineage: uint256 = new_id
    if supersedes != 0:
        prev: uint256 = self._meta[supersedes]
        assert prev != 0, "datasets: unknown dataset"
        assert packing._addr(prev) == msg.sender, "datasets: caller is not the dataset's publisher"
        assert prev >> SHIFT_SUCCESSOR == 0, "datasets: version already superseded"
        version = ((prev >> SHIFT_VERSION) & MASK16) + 1
        assert version <= MAX_VERSION, "datasets: too many versions"
        lineage = self._index[self._content[supersedes]] >> 128
        self._meta[supersedes] = prev | (new_id << SHIFT_SUCCESSOR)

    self._count = new_id
    self._content[new_id] = content_hash
    self._index[content_hash] = new_id | (lineage << 128)
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
    @notice Withdraws a dataset version. Only its publisher; once.
    @param dataset_id The version's id.
    @param reason_hash Hash of the published reason.
    """
    meta: uint256 = self._meta[dataset_id]
    assert meta != 0, "datasets: unknown dataset"
    assert packing._addr(meta) == msg.sender, "datasets: caller is not the dataset's publisher"
    assert (meta >> SHIFT_STATUS) & MASK4 == STATUS_ACTIVE, "datasets: dataset already withdrawn"
    self._meta[dataset_id] = (meta & ~STATUS_MASK) | (STATUS_WITHDRAWN << SHIFT_STATUS)
    log DatasetWithdrawn(dataset_id=dataset_id, publisher=msg.sender, reason_hash=reason_hash)


@external
def attest(dataset_id: uint256, kind: uint8, report_hash: bytes32) -> uint256:
    """
    @notice Attaches an attestation to an active dataset version. Auditor role only.
    @param dataset_id The version's id.
    @param kind 1 quality, 2 coverage, 3 provenance, 4 privacy review.
    @param report_hash Hash of the audit report.
    @return uint256 The attestation id.
    """
    assert role_gate._has_any(msg.sender, role_gate.ROLE_AUDITOR), "datasets: caller is not an auditor"
    assert kind >= 1 and kind <= MAX_ATTESTATION_KIND, "datasets: unknown attestation kind"
    assert report_hash != empty(bytes32), "datasets: empty report hash"
    assert self._is_active(dataset_id), "datasets: dataset is not active"
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
    @notice Revokes an attestation. Only the auditor who made it; once.
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


@internal
@view
def _is_active(dataset_id: uint256) -> bool:
    meta: uint256 = self._meta[dataset_id]
    return meta != 0 and (meta >> SHIFT_STATUS) & MASK4 == STATUS_ACTIVE


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
        convert((meta >> SHIFT_VERSION) & MASK16, uint32),
        packing._u8(meta, SHIFT_DOMAIN),
        (meta >> SHIFT_PERSONAL) & MASK4 == 1,
        convert((meta >> SHIFT_STATUS) & MASK4, uint8),
        (meta >> SHIFT_SUPERSEDES) & packing.MASK32,
        meta >> SHIFT_SUCCESSOR,
    )


@external
@view
def dataset_id_of(content_hash: bytes32) -> uint256:
    """
    @notice The id of the version registered with `content_hash`; 0 if none.
    @param content_hash SHA-256 of the file's bytes.
    @return uint256 The dataset version id.
    """
    return self._index[content_hash] & packing.MASK128


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
    return self._is_active(dataset_id)


@external
@view
def lineage_of(dataset_id: uint256) -> uint256:
    """
    @notice The id of the first version of this version's lineage (itself for a first
            version); 0 if unknown. Two versions are of the same dataset iff equal.
    @param dataset_id The version's id.
    @return uint256 The lineage's first version id.
    """
    if self._meta[dataset_id] == 0:
        return 0
    return self._index[self._content[dataset_id]] >> 128


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
    @notice One attestation; all zero if unknown.
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
