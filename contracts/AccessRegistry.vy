# pragma version 0.4.3
"""
@title CityLedger access and release registry
@custom:contract-name AccessRegistry
@license MIT
@author CityLedger maintainers
@notice A researcher or publisher requests access to a dataset version for a purpose;
        the dataset's publisher grants it until an expiry or refuses; the requester may
        cancel a pending request; either side ends a granted one. The publisher, or a release
        operator it named (the data room), logs every release of data under a live access:
        the version released, how many subjects were included, the Merkle root of the
        consenting subjects' set, the block that consent snapshot was taken at and the
        k-anonymity achieved. For personal data the publisher may set a privacy budget
        (epsilon, pure differential privacy) per access; each differentially private answer
        is logged with the epsilon it spent, and no answer may take the spending past the
        budget, so anyone can check the budget from the events alone.
@dev Storage layout:
     - `_access[id]`: `requester | status << 160 | role << 164 | expiry << 168 | dataset_id << 208`
       (status and role 4 bits each, expiry 40 bits: to the year 36812, dataset ids 48 bits);
       `role` is the role bit the requester held and used when it asked (4 researcher,
       1 publisher): the access lives only while the grantee still holds it.
     - `_access_purpose[id]`: the purpose.
     - `_grant[id]`: `granted_block | budget << 64 | spent << 128`, written when the access is
       granted; budget and spent in micro-epsilon (1e-6).
     - `_operators[publisher][operator]`: whether `operator` may log releases and queries
       of `publisher`'s datasets.
     - `_release[id]`: `access_id | dataset_id << 64 | subject_count << 112 | snapshot_block << 144`.
     - `_release_commitment[id]`: `keccak256(abi_encode(consent_root, release_hash, k_anonymity))`;
       the three values themselves are in the ReleaseLogged event.
     - `_access_count`, `_release_count`, `_query_count`: the highest ids (a private query
       keeps nothing but its spending: the PrivateQueryLogged event is its record).
"""

from .modules import role_gate
from .modules import packing
from .modules import IDatasetRegistry

initializes: role_gate
exports: role_gate.roles

# @dev Access status codes.
REQUESTED: constant(uint256) = 1
GRANTED: constant(uint256) = 2
REFUSED: constant(uint256) = 3
ENDED: constant(uint256) = 4
CANCELLED: constant(uint256) = 5
# @dev Field positions in `_access`.
SHIFT_STATUS: constant(uint256) = 160
SHIFT_ROLE: constant(uint256) = 164
SHIFT_EXPIRY: constant(uint256) = 168
SHIFT_DATASET: constant(uint256) = 208
# @dev The status field of `_access`.
STATUS_MASK: constant(uint256) = 15 << 160
# @dev Keeps requester, role and dataset id; clears status and expiry.
KEEP_MASK: constant(uint256) = (2**160 - 1) | (15 << 164) | ((2**48 - 1) << 208)
# @dev Highest dataset id an access can name (48 bits).
MAX_DATASET: constant(uint256) = 2**48 - 1
# @dev Highest access or release id (64 bits in a release word).
MAX_ID: constant(uint256) = 2**64 - 1
# @dev Field positions in `_grant`.
SHIFT_BUDGET: constant(uint256) = 64
SHIFT_SPENT: constant(uint256) = 128
# @dev Field positions in `_release`.
SHIFT_RELEASE_DATASET: constant(uint256) = 64
SHIFT_RELEASE_COUNT: constant(uint256) = 112
SHIFT_RELEASE_SNAPSHOT: constant(uint256) = 144

# @dev Faults of a data flow under an access (`_flow_fault`); 0 is none.
FLOW_NOT_LIVE: constant(uint8) = 1
FLOW_GRANTEE_ROLE: constant(uint8) = 2
FLOW_PUBLISHER_ROLE: constant(uint8) = 3


# @dev An access was requested; `role` is the role bit the requester used (4 researcher, 1 publisher).
event AccessRequested:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    requester: indexed(address)
    purpose: bytes32
    terms_hash: bytes32
    role: uint256


# @dev The dataset's publisher granted a requested access until `expiry`.
event AccessGranted:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    grantee: indexed(address)
    purpose: bytes32
    expiry: uint64


# @dev The dataset's publisher refused a requested access.
event AccessRefused:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    requester: indexed(address)
    reason_hash: bytes32


# @dev The requester withdrew its pending request.
event AccessCancelled:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    requester: indexed(address)


# @dev The publisher or the grantee ended a granted access.
event AccessEnded:
    access_id: indexed(uint256)
    dataset_id: indexed(uint256)
    ended_by: indexed(address)


# @dev A release of data under a live access (everything the commitment covers, in clear).
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
    k_anonymity: uint16
    logged_by: address


# @dev A publisher allowed or stopped an operator to log its releases and private queries.
event ReleaseOperatorSet:
    publisher: indexed(address)
    operator: indexed(address)
    allowed: bool


# @dev The dataset's publisher set the privacy budget of an access (micro-epsilon).
event PrivacyBudgetSet:
    access_id: indexed(uint256)
    budget: uint64
    spent: uint64


# @dev A differentially private answer under a live access: `spent_total` (<= `budget`) is
#      the access's spending after it.
event PrivateQueryLogged:
    query_id: indexed(uint256)
    access_id: indexed(uint256)
    grantee: indexed(address)
    dataset_id: uint256
    epsilon_spent: uint64
    spent_total: uint64
    budget: uint64
    query_hash: bytes32
    consent_root: bytes32
    snapshot_block: uint64
    subject_count: uint32
    logged_by: address


# @dev The DatasetRegistry every check of a version reads.
datasets: public(immutable(IDatasetRegistry))
# @dev How many blocks old a release's consent snapshot may be (deploy parameter).
max_snapshot_age: public(immutable(uint256))
# @dev access_id -> requester | status << 160 | role << 164 | expiry << 168 | dataset_id << 208.
_access: HashMap[uint256, uint256]
# @dev access_id -> purpose (keccak256 of a DPV purpose IRI).
_access_purpose: HashMap[uint256, bytes32]
# @dev access_id -> granted_block | budget << 64 | spent << 128 (0 until granted).
_grant: HashMap[uint256, uint256]
# @dev publisher -> operator -> may log its releases and private queries.
_operators: HashMap[address, HashMap[address, bool]]
# @dev The highest access id.
_access_count: uint256
# @dev release_id -> access_id | dataset_id << 64 | subject_count << 112 | snapshot_block << 144.
_release: HashMap[uint256, uint256]
# @dev release_id -> keccak256(abi_encode(consent_root, release_hash, k_anonymity)).
_release_commitment: HashMap[uint256, bytes32]
# @dev The highest release id.
_release_count: uint256
# @dev The highest private-query id.
_query_count: uint256


@deploy
def __init__(roles: address, datasets_: address, max_snapshot_age_: uint256):
    """
    @notice Deploys the access registry.
    @param roles The CityRoles address.
    @param datasets_ The DatasetRegistry address.
    @param max_snapshot_age_ How many blocks before a release its consent snapshot may be
           taken (deployment default 7200: a day of 12-second blocks).
    """
    assert datasets_ != empty(address), "access: datasets address is the zero address"
    assert max_snapshot_age_ != 0, "access: max snapshot age is zero"
    role_gate.__init__(roles)
    datasets = IDatasetRegistry(datasets_)
    max_snapshot_age = max_snapshot_age_


@internal
@view
def _load(access_id: uint256) -> uint256:
    """
    @dev The `_access` word of a known access (a requested access is never 0).
    """
    word: uint256 = self._access[access_id]
    assert word != 0, "access: unknown access"
    return word


@internal
@pure
def _status(word: uint256) -> uint256:
    """
    @dev The 4-bit status field of an `_access` word.
    """
    return (word >> SHIFT_STATUS) & packing.MASK4


@internal
@view
def _flow_fault(word: uint256, publisher: address) -> uint8:
    """
    @dev What every data flow under an access needs, read from its `_access` word and the
         granted version's publisher: granted and unexpired, the grantee still holding the
         role it requested with, the publisher still accredited. `is_live` is this == 0.
    """
    if self._status(word) != GRANTED or (word >> SHIFT_EXPIRY) & packing.MASK40 <= block.timestamp:
        return FLOW_NOT_LIVE
    if not role_gate._has_any(packing._addr(word), (word >> SHIFT_ROLE) & packing.MASK4):
        return FLOW_GRANTEE_ROLE
    if not role_gate._has_any(publisher, role_gate.ROLE_PUBLISHER):
        return FLOW_PUBLISHER_ROLE
    return 0


@internal
@view
def _require_flow(word: uint256, publisher: address):
    fault: uint8 = self._flow_fault(word, publisher)
    assert fault != FLOW_NOT_LIVE, "access: access is not live"
    assert fault != FLOW_GRANTEE_ROLE, "access: grantee no longer holds the role it requested with"
    assert fault != FLOW_PUBLISHER_ROLE, "access: publisher no longer holds the publisher role"


@internal
@view
def _require_snapshot(
    grant: uint256, snapshot_block: uint64, personal: bool, subject_count: uint32, consent_root: bytes32
):
    """
    @dev The bounds a consent snapshot claim must keep (the contract cannot see the rows):
         taken at or after the grant, not after this block, at most `max_snapshot_age`
         blocks old; subjects and a root iff the version holds personal data.
    """
    snapshot: uint256 = convert(snapshot_block, uint256)
    assert snapshot <= block.number, "access: snapshot block is in the future"
    assert snapshot >= grant & packing.MASK64, "access: snapshot block is before the access was granted"
    assert block.number - snapshot <= max_snapshot_age, "access: snapshot block is too old"
    if personal:
        assert subject_count != 0 and consent_root != empty(bytes32), "access: a personal release needs its subject count and consent root"
    else:
        assert subject_count == 0 and consent_root == empty(bytes32), "access: a release of non-personal data has no subjects"


@internal
@view
def _require_flow_of(access_id: uint256, dataset_id: uint256) -> (uint256, bool):
    """
    @dev The checks a release and a private query share: the caller is the publisher of the
         granted version or one of its operators, the access is live (`_flow_fault`), and
         `dataset_id` is the granted version or a later active one with the same terms.
    @return The `_access` word and whether the version holds personal data.
    """
    word: uint256 = self._load(access_id)
    publisher: address = empty(address)
    in_lineage: bool = False
    same_terms: bool = False
    active: bool = False
    personal: bool = False
    publisher, in_lineage, same_terms, active, personal = staticcall datasets.version_facts(
        word >> SHIFT_DATASET, dataset_id
    )
    if msg.sender != publisher:
        assert self._operators[publisher][msg.sender], "access: caller is not the dataset's publisher or its operator"
    self._require_flow(word, publisher)
    assert in_lineage, "access: dataset is not the granted version or a later one"
    assert active, "access: dataset is not active"
    assert same_terms, "access: the version changed domain or personal flag; request access again"
    return word, personal


@external
def set_release_operator(operator: address, allowed: bool):
    """
    @notice Allows (or stops) `operator` to log releases and private queries of the
            caller's datasets, e.g. the data room's key, so the publisher's own key need not
            sit in a server. An operator can do nothing else. Allowing needs the publisher
            role; stopping only that the caller once held it.
    @param operator The operator's address.
    @param allowed True to allow, False to stop.
    """
    assert operator != empty(address), "access: operator is the zero address"
    held: uint256 = role_gate._roles_of(msg.sender)
    if allowed:
        assert held & role_gate.ROLE_PUBLISHER != 0, "access: caller is not a publisher"
    else:
        assert held & (role_gate.ROLE_PUBLISHER << role_gate.EVER_SHIFT) != 0, "access: caller is not a publisher"
    self._operators[msg.sender][operator] = allowed
    log ReleaseOperatorSet(publisher=msg.sender, operator=operator, allowed=allowed)


@external
def request_access(dataset_id: uint256, purpose: bytes32, terms_hash: bytes32) -> uint256:
    """
    @notice Requests access to an active dataset version for a purpose. Researcher or
            publisher role; the researcher role is the one used if the caller holds both.
    @param dataset_id The dataset version.
    @param purpose keccak256 of a DPV purpose IRI.
    @param terms_hash Hash of the proposed terms of use.
    @return uint256 The access id.
    """
    held: uint256 = role_gate._roles_of(msg.sender)
    role: uint256 = role_gate.ROLE_RESEARCHER
    if held & role_gate.ROLE_RESEARCHER == 0:
        assert held & role_gate.ROLE_PUBLISHER != 0, "access: caller is not a researcher or publisher"
        role = role_gate.ROLE_PUBLISHER
    assert purpose != empty(bytes32), "access: empty purpose"
    assert dataset_id <= MAX_DATASET and staticcall datasets.is_active(dataset_id), "access: dataset is not active"
    access_id: uint256 = self._access_count + 1
    assert access_id <= MAX_ID, "access: id space exhausted"
    self._access_count = access_id
    self._access[access_id] = (
        convert(msg.sender, uint256) | (REQUESTED << SHIFT_STATUS) | (role << SHIFT_ROLE) | (dataset_id << SHIFT_DATASET)
    )
    self._access_purpose[access_id] = purpose
    log AccessRequested(
        access_id=access_id, dataset_id=dataset_id, requester=msg.sender, purpose=purpose, terms_hash=terms_hash, role=role
    )
    return access_id


@external
def cancel_request(access_id: uint256):
    """
    @notice Withdraws a pending request. The requester only.
    @param access_id The access id.
    """
    word: uint256 = self._load(access_id)
    assert packing._addr(word) == msg.sender, "access: caller is not the requester"
    assert self._status(word) == REQUESTED, "access: access is not in requested state"
    self._access[access_id] = (word & ~STATUS_MASK) | (CANCELLED << SHIFT_STATUS)
    log AccessCancelled(access_id=access_id, dataset_id=word >> SHIFT_DATASET, requester=msg.sender)


@external
def grant_access(access_id: uint256, expiry: uint64):
    """
    @notice Grants a requested access until `expiry`. The dataset's publisher only, while
            it holds the publisher role.
    @dev The requester must still hold the role it requested with and the dataset must
         still be active. Records the grant block (the earliest consent snapshot allowed).
    @param access_id The access id.
    @param expiry Unix time the access ends; must be in the future.
    """
    word: uint256 = self._load(access_id)
    dataset_id: uint256 = word >> SHIFT_DATASET
    publisher: address = empty(address)
    domain: uint8 = 0
    personal: bool = False
    active: bool = False
    publisher, domain, personal, active = staticcall datasets.facts(dataset_id)
    assert publisher == msg.sender, "access: caller is not the dataset's publisher"
    assert self._status(word) == REQUESTED, "access: access is not in requested state"
    assert convert(expiry, uint256) > block.timestamp, "access: expiry is in the past"
    assert convert(expiry, uint256) <= packing.MASK40, "access: expiry too far in the future"
    assert role_gate._has_any(msg.sender, role_gate.ROLE_PUBLISHER), "access: publisher no longer holds the publisher role"
    requester: address = packing._addr(word)
    assert role_gate._has_any(requester, (word >> SHIFT_ROLE) & packing.MASK4), "access: requester no longer holds the role it requested with"
    assert active, "access: dataset is not active"
    self._access[access_id] = (word & KEEP_MASK) | (GRANTED << SHIFT_STATUS) | (convert(expiry, uint256) << SHIFT_EXPIRY)
    self._grant[access_id] = block.number
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
    @notice Refuses a requested access. The dataset's publisher only (also after losing
            the publisher role: winding down).
    @param access_id The access id.
    @param reason_hash Hash of the published reason.
    """
    word: uint256 = self._load(access_id)
    dataset_id: uint256 = word >> SHIFT_DATASET
    assert staticcall datasets.publisher_of(dataset_id) == msg.sender, "access: caller is not the dataset's publisher"
    assert self._status(word) == REQUESTED, "access: access is not in requested state"
    self._access[access_id] = (word & ~STATUS_MASK) | (REFUSED << SHIFT_STATUS)
    log AccessRefused(access_id=access_id, dataset_id=dataset_id, requester=packing._addr(word), reason_hash=reason_hash)


@external
def end_access(access_id: uint256):
    """
    @notice Ends a granted access (expired or not). The dataset's publisher (also after
            losing the publisher role) or the grantee.
    @param access_id The access id.
    """
    word: uint256 = self._load(access_id)
    dataset_id: uint256 = word >> SHIFT_DATASET
    assert self._status(word) == GRANTED, "access: access is not granted"
    if packing._addr(word) != msg.sender:
        assert staticcall datasets.publisher_of(dataset_id) == msg.sender, "access: caller is not the dataset's publisher"
    # Keep the expiry for the record; the status alone ends liveness.
    self._access[access_id] = (word & ~STATUS_MASK) | (ENDED << SHIFT_STATUS)
    log AccessEnded(access_id=access_id, dataset_id=dataset_id, ended_by=msg.sender)


@external
def log_release(
    access_id: uint256,
    dataset_id: uint256,
    subject_count: uint32,
    consent_root: bytes32,
    snapshot_block: uint64,
    release_hash: bytes32,
    k_anonymity: uint16,
) -> uint256:
    """
    @notice Logs one release of data under a live access. The dataset's publisher or one of
            its release operators.
    @dev `dataset_id` is the granted version or a later active version of its lineage
         (same publisher by construction) with the same domain and personal flag. The
         snapshot is taken at or after the grant and at most `max_snapshot_age` blocks
         ago. A personal version needs subjects and a consent root; a non-personal one
         neither, and k = 0.
    @param access_id The live access the release is made under.
    @param dataset_id The dataset version released.
    @param subject_count How many data subjects the release includes.
    @param consent_root Merkle root of the consenting subjects' set (the consent snapshot).
    @param snapshot_block The block the consent snapshot was taken at.
    @param release_hash SHA-256 of the released file.
    @param k_anonymity The k achieved over the declared quasi-identifiers (0: none declared).
    @return uint256 The release id.
    """
    word: uint256 = 0
    personal: bool = False
    word, personal = self._require_flow_of(access_id, dataset_id)
    assert release_hash != empty(bytes32), "access: empty release hash"
    self._require_snapshot(self._grant[access_id], snapshot_block, personal, subject_count, consent_root)
    assert personal or k_anonymity == 0, "access: k-anonymity is only for personal data"

    release_id: uint256 = self._release_count + 1
    self._release_count = release_id
    self._release[release_id] = (
        access_id
        | (dataset_id << SHIFT_RELEASE_DATASET)
        | (convert(subject_count, uint256) << SHIFT_RELEASE_COUNT)
        | (convert(snapshot_block, uint256) << SHIFT_RELEASE_SNAPSHOT)
    )
    self._release_commitment[release_id] = keccak256(abi_encode(consent_root, release_hash, k_anonymity))
    log ReleaseLogged(
        release_id=release_id,
        access_id=access_id,
        grantee=packing._addr(word),
        dataset_id=dataset_id,
        purpose=self._access_purpose[access_id],
        subject_count=subject_count,
        consent_root=consent_root,
        snapshot_block=snapshot_block,
        release_hash=release_hash,
        k_anonymity=k_anonymity,
        logged_by=msg.sender,
    )
    return release_id


@external
def set_privacy_budget(access_id: uint256, epsilon_budget: uint64):
    """
    @notice Sets the privacy budget of a granted access to personal data. The dataset's
            publisher only (not an operator). No role check: a publisher without the role
            can set a budget but nothing can spend it (`log_query` checks the role).
    @param access_id The access id.
    @param epsilon_budget The total epsilon the grantee's answers may spend, in
           micro-epsilon (1e-6); never below what is already spent.
    """
    word: uint256 = self._load(access_id)
    publisher: address = empty(address)
    domain: uint8 = 0
    personal: bool = False
    active: bool = False
    publisher, domain, personal, active = staticcall datasets.facts(word >> SHIFT_DATASET)
    assert publisher == msg.sender, "access: caller is not the dataset's publisher"
    assert self._status(word) == GRANTED, "access: access is not granted"
    assert personal, "access: privacy budgets are for personal data"
    grant: uint256 = self._grant[access_id]
    spent: uint256 = (grant >> SHIFT_SPENT) & packing.MASK64
    assert convert(epsilon_budget, uint256) >= spent, "access: budget below what is already spent"
    self._grant[access_id] = (grant & ~(packing.MASK64 << SHIFT_BUDGET)) | (convert(epsilon_budget, uint256) << SHIFT_BUDGET)
    log PrivacyBudgetSet(access_id=access_id, budget=epsilon_budget, spent=convert(spent, uint64))


@external
def log_query(
    access_id: uint256,
    dataset_id: uint256,
    epsilon_spent: uint64,
    query_hash: bytes32,
    consent_root: bytes32,
    snapshot_block: uint64,
    subject_count: uint32,
) -> uint256:
    """
    @notice Logs one differentially private answer under a live access to personal data
            and spends its epsilon from the access's budget. The dataset's publisher or one
            of its release operators. Same version and snapshot rules as `log_release`.
    @param access_id The live access the answer is given under.
    @param dataset_id The dataset version the answer was computed over.
    @param epsilon_spent The answer's epsilon in micro-epsilon (1e-6); not 0.
    @param query_hash Hash of the query as asked (its canonical form).
    @param consent_root Merkle root of the consenting subjects whose rows the answer used.
    @param snapshot_block The block that consent snapshot was taken at.
    @param subject_count How many subjects' rows the answer used.
    @return uint256 The query id.
    """
    word: uint256 = 0
    personal: bool = False
    word, personal = self._require_flow_of(access_id, dataset_id)
    assert personal, "access: private queries are for personal data"
    assert epsilon_spent != 0, "access: epsilon spent is zero"
    assert query_hash != empty(bytes32), "access: empty query hash"
    grant: uint256 = self._grant[access_id]
    self._require_snapshot(grant, snapshot_block, True, subject_count, consent_root)
    budget: uint256 = (grant >> SHIFT_BUDGET) & packing.MASK64
    total: uint256 = ((grant >> SHIFT_SPENT) & packing.MASK64) + convert(epsilon_spent, uint256)
    assert total <= budget, "access: privacy budget exceeded"
    self._grant[access_id] = (grant & ~(packing.MASK64 << SHIFT_SPENT)) | (total << SHIFT_SPENT)
    query_id: uint256 = self._query_count + 1
    self._query_count = query_id
    log PrivateQueryLogged(
        query_id=query_id,
        access_id=access_id,
        grantee=packing._addr(word),
        dataset_id=dataset_id,
        epsilon_spent=epsilon_spent,
        spent_total=convert(total, uint64),
        budget=convert(budget, uint64),
        query_hash=query_hash,
        consent_root=consent_root,
        snapshot_block=snapshot_block,
        subject_count=subject_count,
        logged_by=msg.sender,
    )
    return query_id


@external
@view
def access(access_id: uint256) -> (uint256, address, bytes32, uint8, uint64):
    """
    @notice One access record; all zero if unknown.
    @param access_id The access id.
    @return dataset_id, requester, purpose, status (1 requested, 2 granted, 3 refused,
            4 ended, 5 cancelled), expiry (0 until granted).
    """
    word: uint256 = self._access[access_id]
    return (
        word >> SHIFT_DATASET,
        packing._addr(word),
        self._access_purpose[access_id],
        convert(self._status(word), uint8),
        convert((word >> SHIFT_EXPIRY) & packing.MASK40, uint64),
    )


@external
@view
def requester_role(access_id: uint256) -> uint256:
    """
    @notice The role bit the requester used (4 researcher, 1 publisher); 0 if unknown.
    @param access_id The access id.
    @return uint256 The role bit the grantee must keep holding.
    """
    return (self._access[access_id] >> SHIFT_ROLE) & packing.MASK4


@external
@view
def granted_block(access_id: uint256) -> uint64:
    """
    @notice The block the access was granted in (the earliest consent snapshot a release
            under it may claim); 0 until granted.
    @param access_id The access id.
    @return uint64 The block number.
    """
    return packing._u64(self._grant[access_id], 0)


@external
@view
def is_live(access_id: uint256) -> bool:
    """
    @notice Whether data may flow under the access now, exactly as `log_release` checks
            the access: granted and not expired, the grantee still holding the role it
            requested with, and the dataset's publisher still holding the publisher role.
    @param access_id The access id.
    @return bool True if live.
    """
    word: uint256 = self._access[access_id]
    if self._status(word) != GRANTED:
        return False
    return self._flow_fault(word, staticcall datasets.publisher_of(word >> SHIFT_DATASET)) == 0


@external
@view
def release(release_id: uint256) -> (uint256, uint256, uint32, uint64, bytes32):
    """
    @notice One release record; all zero if unknown. The consent root, release hash and
            k are in the ReleaseLogged event; `release_matches` checks them.
    @param release_id The release id.
    @return access_id, dataset_id, subject_count, snapshot_block, commitment.
    """
    word: uint256 = self._release[release_id]
    return (
        word & packing.MASK64,
        (word >> SHIFT_RELEASE_DATASET) & packing.MASK48,
        packing._u32(word, SHIFT_RELEASE_COUNT),
        packing._u64(word, SHIFT_RELEASE_SNAPSHOT),
        self._release_commitment[release_id],
    )


@external
@view
def release_matches(release_id: uint256, consent_root: bytes32, release_hash: bytes32, k_anonymity: uint16) -> bool:
    """
    @notice Whether a release was logged with exactly this consent root, release hash and k.
    @param release_id The release id.
    @param consent_root The claimed consent root.
    @param release_hash The claimed release hash.
    @param k_anonymity The claimed k.
    @return bool True iff they match the release's commitment.
    """
    commitment: bytes32 = self._release_commitment[release_id]
    return commitment != empty(bytes32) and commitment == keccak256(abi_encode(consent_root, release_hash, k_anonymity))


@external
@view
def release_context(release_id: uint256) -> (uint256, address, bytes32, bytes32):
    """
    @notice What a release concerns, in one call (for DeletionRegistry); all zero if unknown.
    @param release_id The release id.
    @return dataset_id, grantee (the recipient), purpose, commitment.
    """
    word: uint256 = self._release[release_id]
    access_id: uint256 = word & packing.MASK64
    return (
        (word >> SHIFT_RELEASE_DATASET) & packing.MASK48,
        packing._addr(self._access[access_id]),
        self._access_purpose[access_id],
        self._release_commitment[release_id],
    )


@external
@view
def is_release_operator(publisher: address, operator: address) -> bool:
    """
    @notice Whether `operator` may log releases and private queries of `publisher`'s datasets.
    @param publisher The publisher.
    @param operator The operator.
    @return bool True if allowed.
    """
    return self._operators[publisher][operator]


@external
@view
def privacy_budget(access_id: uint256) -> (uint64, uint64):
    """
    @notice The privacy budget of an access and how much of it is spent (micro-epsilon).
    @param access_id The access id.
    @return budget, spent.
    """
    grant: uint256 = self._grant[access_id]
    return packing._u64(grant, SHIFT_BUDGET), packing._u64(grant, SHIFT_SPENT)


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


@external
@view
def query_count() -> uint256:
    """
    @notice The number of private queries logged (the highest id).
    @return uint256 The count.
    """
    return self._query_count
