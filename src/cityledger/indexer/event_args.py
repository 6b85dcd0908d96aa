"""The decoded arguments of each event the indexer reads: one TypedDict per event, what its reducer
takes.

Generated from the compiled ABIs by `python -m cityledger.indexer.events` (events.py): do not edit.
tests/indexer/test_reducers.py fails when this file differs from the contracts."""

from __future__ import annotations

from typing import TypedDict

# (contract, event, ((argument, ABI type, indexed), ...)) for every non-anonymous event.
EVENTS: tuple[tuple[str, str, tuple[tuple[str, str, bool], ...]], ...] = (
    ('CityRoles', 'RoleGranted', (
        ('account', 'address', True),
        ('role', 'uint256', False),
        ('kind', 'uint8', False),
        ('granted_by', 'address', True),
    )),
    ('CityRoles', 'RoleRevoked', (
        ('account', 'address', True),
        ('role', 'uint256', False),
        ('revoked_by', 'address', True),
    )),
    ('CityRoles', 'ProfileUpdated', (
        ('account', 'address', True),
        ('profile_hash', 'bytes32', False),
        ('profile_uri', 'string', False),
        ('updated_by', 'address', True),
    )),
    ('CityRoles', 'OwnershipTransferStarted', (
        ('previous_owner', 'address', True),
        ('new_owner', 'address', True),
    )),
    ('CityRoles', 'OwnershipTransferred', (
        ('previous_owner', 'address', True),
        ('new_owner', 'address', True),
    )),
    ('DatasetRegistry', 'DatasetRegistered', (
        ('dataset_id', 'uint256', True),
        ('publisher', 'address', True),
        ('content_hash', 'bytes32', True),
        ('metadata_hash', 'bytes32', False),
        ('metadata_uri', 'string', False),
        ('domain', 'uint8', False),
        ('personal_data', 'bool', False),
        ('version', 'uint32', False),
        ('supersedes', 'uint256', False),
    )),
    ('DatasetRegistry', 'DatasetWithdrawn', (
        ('dataset_id', 'uint256', True),
        ('publisher', 'address', True),
        ('reason_hash', 'bytes32', False),
    )),
    ('DatasetRegistry', 'AttestationAdded', (
        ('attestation_id', 'uint256', True),
        ('dataset_id', 'uint256', True),
        ('auditor', 'address', True),
        ('kind', 'uint8', False),
        ('report_hash', 'bytes32', False),
    )),
    ('DatasetRegistry', 'AttestationRevoked', (
        ('attestation_id', 'uint256', True),
        ('dataset_id', 'uint256', True),
        ('auditor', 'address', True),
    )),
    ('ConsentRegistry', 'ConsentGranted', (
        ('key', 'bytes32', True),
        ('citizen', 'address', True),
        ('purpose', 'bytes32', True),
        ('scope_kind', 'uint8', False),
        ('scope_id', 'bytes32', False),
        ('grantee', 'address', False),
        ('expiry', 'uint64', False),
        ('nonce', 'uint64', False),
        ('submitted_by', 'address', False),
    )),
    ('ConsentRegistry', 'ConsentRevoked', (
        ('key', 'bytes32', True),
        ('citizen', 'address', True),
        ('purpose', 'bytes32', True),
        ('scope_kind', 'uint8', False),
        ('scope_id', 'bytes32', False),
        ('grantee', 'address', False),
        ('nonce', 'uint64', False),
        ('submitted_by', 'address', False),
    )),
    ('ConsentRegistry', 'SignaturesCancelled', (
        ('key', 'bytes32', True),
        ('citizen', 'address', True),
        ('nonce', 'uint64', False),
    )),
    ('ConsentRegistry', 'SignedGrantSkipped', (
        ('index', 'uint256', False),
        ('citizen', 'address', True),
        ('key', 'bytes32', True),
        ('reason', 'uint8', False),
    )),
    ('AccessRegistry', 'AccessRequested', (
        ('access_id', 'uint256', True),
        ('dataset_id', 'uint256', True),
        ('requester', 'address', True),
        ('purpose', 'bytes32', False),
        ('terms_hash', 'bytes32', False),
        ('role', 'uint256', False),
    )),
    ('AccessRegistry', 'AccessGranted', (
        ('access_id', 'uint256', True),
        ('dataset_id', 'uint256', True),
        ('grantee', 'address', True),
        ('purpose', 'bytes32', False),
        ('expiry', 'uint64', False),
    )),
    ('AccessRegistry', 'AccessRefused', (
        ('access_id', 'uint256', True),
        ('dataset_id', 'uint256', True),
        ('requester', 'address', True),
        ('reason_hash', 'bytes32', False),
    )),
    ('AccessRegistry', 'AccessCancelled', (
        ('access_id', 'uint256', True),
        ('dataset_id', 'uint256', True),
        ('requester', 'address', True),
    )),
    ('AccessRegistry', 'AccessEnded', (
        ('access_id', 'uint256', True),
        ('dataset_id', 'uint256', True),
        ('ended_by', 'address', True),
    )),
    ('AccessRegistry', 'ReleaseLogged', (
        ('release_id', 'uint256', True),
        ('access_id', 'uint256', True),
        ('grantee', 'address', True),
        ('dataset_id', 'uint256', False),
        ('purpose', 'bytes32', False),
        ('subject_count', 'uint32', False),
        ('consent_root', 'bytes32', False),
        ('snapshot_block', 'uint64', False),
        ('release_hash', 'bytes32', False),
        ('k_anonymity', 'uint16', False),
        ('logged_by', 'address', False),
    )),
    ('AccessRegistry', 'ReleaseOperatorSet', (
        ('publisher', 'address', True),
        ('operator', 'address', True),
        ('allowed', 'bool', False),
    )),
    ('AccessRegistry', 'PrivacyBudgetSet', (
        ('access_id', 'uint256', True),
        ('budget', 'uint64', False),
        ('spent', 'uint64', False),
    )),
    ('AccessRegistry', 'PrivateQueryLogged', (
        ('query_id', 'uint256', True),
        ('access_id', 'uint256', True),
        ('grantee', 'address', True),
        ('dataset_id', 'uint256', False),
        ('epsilon_spent', 'uint64', False),
        ('spent_total', 'uint64', False),
        ('budget', 'uint64', False),
        ('query_hash', 'bytes32', False),
        ('consent_root', 'bytes32', False),
        ('snapshot_block', 'uint64', False),
        ('subject_count', 'uint32', False),
        ('logged_by', 'address', False),
    )),
    ('RightsRegistry', 'RightsRequestFiled', (
        ('request_id', 'uint256', True),
        ('citizen', 'address', True),
        ('publisher', 'address', True),
        ('kind', 'uint8', False),
        ('target_kind', 'uint8', False),
        ('target', 'bytes32', False),
        ('details_hash', 'bytes32', False),
        ('deadline', 'uint64', False),
    )),
    ('RightsRegistry', 'RightsRequestAnswered', (
        ('request_id', 'uint256', True),
        ('citizen', 'address', True),
        ('publisher', 'address', True),
        ('outcome', 'uint8', False),
        ('answer_hash', 'bytes32', False),
        ('late', 'bool', False),
    )),
    ('RightsRegistry', 'RightsRequestWithdrawn', (
        ('request_id', 'uint256', True),
        ('citizen', 'address', True),
        ('publisher', 'address', True),
    )),
    ('DeletionRegistry', 'DeletionRequested', (
        ('obligation_id', 'uint256', True),
        ('release_id', 'uint256', False),
        ('recipient', 'address', True),
        ('subject', 'address', True),
        ('deadline', 'uint64', False),
        ('requested_by', 'address', False),
    )),
    ('DeletionRegistry', 'DeletionConfirmed', (
        ('obligation_id', 'uint256', True),
        ('release_id', 'uint256', False),
        ('recipient', 'address', True),
        ('subject', 'address', True),
        ('evidence_hash', 'bytes32', False),
        ('late', 'bool', False),
    )),
)


class RoleGrantedArgs(TypedDict):
    """CityRoles.RoleGranted"""

    account: str
    role: int
    kind: int
    granted_by: str


class RoleRevokedArgs(TypedDict):
    """CityRoles.RoleRevoked"""

    account: str
    role: int
    revoked_by: str


class ProfileUpdatedArgs(TypedDict):
    """CityRoles.ProfileUpdated"""

    account: str
    profile_hash: str
    profile_uri: str
    updated_by: str


class OwnershipTransferStartedArgs(TypedDict):
    """CityRoles.OwnershipTransferStarted"""

    previous_owner: str
    new_owner: str


class OwnershipTransferredArgs(TypedDict):
    """CityRoles.OwnershipTransferred"""

    previous_owner: str
    new_owner: str


class DatasetRegisteredArgs(TypedDict):
    """DatasetRegistry.DatasetRegistered"""

    dataset_id: int
    publisher: str
    content_hash: str
    metadata_hash: str
    metadata_uri: str
    domain: int
    personal_data: bool
    version: int
    supersedes: int


class DatasetWithdrawnArgs(TypedDict):
    """DatasetRegistry.DatasetWithdrawn"""

    dataset_id: int
    publisher: str
    reason_hash: str


class AttestationAddedArgs(TypedDict):
    """DatasetRegistry.AttestationAdded"""

    attestation_id: int
    dataset_id: int
    auditor: str
    kind: int
    report_hash: str


class AttestationRevokedArgs(TypedDict):
    """DatasetRegistry.AttestationRevoked"""

    attestation_id: int
    dataset_id: int
    auditor: str


class ConsentGrantedArgs(TypedDict):
    """ConsentRegistry.ConsentGranted"""

    key: str
    citizen: str
    purpose: str
    scope_kind: int
    scope_id: str
    grantee: str
    expiry: int
    nonce: int
    submitted_by: str


class ConsentRevokedArgs(TypedDict):
    """ConsentRegistry.ConsentRevoked"""

    key: str
    citizen: str
    purpose: str
    scope_kind: int
    scope_id: str
    grantee: str
    nonce: int
    submitted_by: str


class SignaturesCancelledArgs(TypedDict):
    """ConsentRegistry.SignaturesCancelled"""

    key: str
    citizen: str
    nonce: int


class SignedGrantSkippedArgs(TypedDict):
    """ConsentRegistry.SignedGrantSkipped"""

    index: int
    citizen: str
    key: str
    reason: int


class AccessRequestedArgs(TypedDict):
    """AccessRegistry.AccessRequested"""

    access_id: int
    dataset_id: int
    requester: str
    purpose: str
    terms_hash: str
    role: int


class AccessGrantedArgs(TypedDict):
    """AccessRegistry.AccessGranted"""

    access_id: int
    dataset_id: int
    grantee: str
    purpose: str
    expiry: int


class AccessRefusedArgs(TypedDict):
    """AccessRegistry.AccessRefused"""

    access_id: int
    dataset_id: int
    requester: str
    reason_hash: str


class AccessCancelledArgs(TypedDict):
    """AccessRegistry.AccessCancelled"""

    access_id: int
    dataset_id: int
    requester: str


class AccessEndedArgs(TypedDict):
    """AccessRegistry.AccessEnded"""

    access_id: int
    dataset_id: int
    ended_by: str


class ReleaseLoggedArgs(TypedDict):
    """AccessRegistry.ReleaseLogged"""

    release_id: int
    access_id: int
    grantee: str
    dataset_id: int
    purpose: str
    subject_count: int
    consent_root: str
    snapshot_block: int
    release_hash: str
    k_anonymity: int
    logged_by: str


class ReleaseOperatorSetArgs(TypedDict):
    """AccessRegistry.ReleaseOperatorSet"""

    publisher: str
    operator: str
    allowed: bool


class PrivacyBudgetSetArgs(TypedDict):
    """AccessRegistry.PrivacyBudgetSet"""

    access_id: int
    budget: int
    spent: int


class PrivateQueryLoggedArgs(TypedDict):
    """AccessRegistry.PrivateQueryLogged"""

    query_id: int
    access_id: int
    grantee: str
    dataset_id: int
    epsilon_spent: int
    spent_total: int
    budget: int
    query_hash: str
    consent_root: str
    snapshot_block: int
    subject_count: int
    logged_by: str


class RightsRequestFiledArgs(TypedDict):
    """RightsRegistry.RightsRequestFiled"""

    request_id: int
    citizen: str
    publisher: str
    kind: int
    target_kind: int
    target: str
    details_hash: str
    deadline: int


class RightsRequestAnsweredArgs(TypedDict):
    """RightsRegistry.RightsRequestAnswered"""

    request_id: int
    citizen: str
    publisher: str
    outcome: int
    answer_hash: str
    late: bool


class RightsRequestWithdrawnArgs(TypedDict):
    """RightsRegistry.RightsRequestWithdrawn"""

    request_id: int
    citizen: str
    publisher: str


class DeletionRequestedArgs(TypedDict):
    """DeletionRegistry.DeletionRequested"""

    obligation_id: int
    release_id: int
    recipient: str
    subject: str
    deadline: int
    requested_by: str


class DeletionConfirmedArgs(TypedDict):
    """DeletionRegistry.DeletionConfirmed"""

    obligation_id: int
    release_id: int
    recipient: str
    subject: str
    evidence_hash: str
    late: bool
