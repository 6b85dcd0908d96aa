"""Pydantic response and request models: the OpenAPI schema the web page and researchers read."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..query.errors import STATUS

T = TypeVar("T")

Address = str
Hash = str


def _error_body(status: int) -> type[BaseModel]:
    """The error body of one HTTP status: its `code` is one of the codes query.errors.STATUS gives
    that status (an enum in the OpenAPI schema, so a client can switch on it)."""
    codes = tuple(code for code, st in STATUS.items() if st == status)
    one_of: Any = Literal[codes]  # a Literal built from data: a type to pydantic, a value to mypy
    detail = create_model(
        f"Error{status}Detail",
        code=(one_of, Field(description="machine-readable: " + ", ".join(codes))),
        message=(str, Field(description="what was wrong and what to do")),
    )
    return create_model(f"Error{status}", error=(detail, ...))


ERROR_BODIES: dict[int, type[BaseModel]] = {status: _error_body(status) for status in sorted(set(STATUS.values()))}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: one error body per status it can answer."""
    return {
        status: {"model": ERROR_BODIES[status], "description": ", ".join(c for c, s in STATUS.items() if s == status)}
        for status in statuses
    }


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int


class ContractInfo(BaseModel):
    address: Address
    block: int | None = None


class Status(BaseModel):
    chain_id: int | None
    network: str | None
    rpc_reachable: bool
    head_block: int | None = Field(description="the node's latest block (None if the RPC does not answer)")
    last_indexed_block: int | None
    last_indexed_hash: Hash | None = None
    finalized_block: int | None = Field(description="the last block the index treats as final (head - confirmations)")
    confirmations: int
    lag: int | None = Field(description="head_block - last_indexed_block")
    contracts: dict[str, Address]
    consents_deferred_from: int | None = Field(
        None,
        description="a long catch-up is building the current consent state once at its end: the first block it "
        "does not reflect yet (consent questions are answered from the consent events meanwhile); null when current",
    )


class DeploymentInfo(BaseModel):
    chain_id: int
    network: str
    rpc_url: str
    start_block: int
    contracts: dict[str, dict[str, Any]] = Field(description="name -> {address, abi}")


class Purpose(BaseModel):
    name: str
    label: str
    iri: str
    hash: Hash


class Attestation(BaseModel):
    attestation_id: int
    dataset_id: int
    auditor: Address
    kind: str
    kind_code: int
    report_hash: Hash
    active: bool
    block_number: int
    tx_hash: Hash | None = None


Rating = Literal["excellent", "good", "sufficient", "bad"]


class QualitySummary(BaseModel):
    """The stored metadata quality score (docs/CATALOG.md §9), without reachability checks."""

    score: int
    max_score: int = Field(description="the applicable maximum: 405, or 355 for personal data (no download)")
    percent: int
    rating: Rating


class Dataset(BaseModel):
    dataset_id: int
    content_hash: Hash
    publisher: Address
    metadata_hash: Hash
    metadata_uri: str
    domain: str
    domain_code: int
    personal_data: bool
    version: int
    supersedes: int | None
    successor: int | None
    status: Literal["active", "superseded", "withdrawn"]
    withdrawn_reason_hash: Hash | None = None
    registered_block: int
    registered_at: int | None = Field(None, description="unix time of the registration block")
    tx_hash: Hash | None = None
    title: str | None = Field(None, description="dct:title of the verified DCAT document, when known")
    quality: QualitySummary | None = Field(
        None,
        description="the stored quality score; null when the document is not in this node's store or not scored yet",
    )


class DatasetDetail(Dataset):
    description: str | None = Field(None, description="dct:description of the verified DCAT document")
    metadata: dict[str, Any] | None = Field(
        None, description="the DCAT document, when it is in the local metadata store and hashes to metadata_hash"
    )
    attestations: list[Attestation] = Field([], description="the first 100 (see /attestations for the rest)")
    attestations_total: int = 0


class QualityDimension(BaseModel):
    score: int
    max: int


class QualityFix(BaseModel):
    points: int = Field(description="what the fix would add to the score")
    fix: str


class QualityIndicator(BaseModel):
    dimension: str
    name: str
    weight: int
    earned: int
    applicable: bool = Field(description="false: left out of the maximum (no download URL for personal data)")
    checked: bool = Field(description="false: reachability, not probed")
    fix: str | None
    publisher_input: bool = Field(description="decided by what the publisher gives at `cityledger publish`")


class DatasetQuality(BaseModel):
    """A version's metadata quality after data.europa.eu's MQA (docs/CATALOG.md §9)."""

    dataset_id: int
    dataset: str = Field(description="the version's IRI ({base}/datasets/{id})")
    status: Literal["active", "superseded", "withdrawn"]
    score: int
    max_score: int
    percent: int
    rating: Rating
    dimensions: dict[str, QualityDimension]
    fixes: list[QualityFix] = Field(description="what to fix, the most valuable first")
    not_checked: list[str] = Field(description="indicators not probed (they earn nothing and need no fix)")
    conformance: list[str] = Field(description="DCAT-AP violations of the description, when any")
    indicators: list[QualityIndicator]
    metadata_available: bool = Field(description="whether the registered document is in this node's store")
    note: str | None = Field(None, description="what the score cannot say, when anything")


class PurposeCount(BaseModel):
    purpose: Hash
    purpose_name: str | None
    active: int = Field(description="distinct citizens with an active consent covering the dataset for this purpose")
    share: float | None = Field(
        None, description="active / population.estimate, at most 1; null when no population estimate is shown"
    )
    share_capped: bool | None = Field(
        None, description="the consents exceed the estimate (consents can come from people not in the file): share is 1"
    )


class PopulationEstimate(BaseModel):
    """The number of people in a personal file, from the data room's kept population profile:
    differentially private (noisy) at the declared cl:profileEpsilon, computed once per file."""

    estimate: int
    low: int = Field(description="the 95% interval of the exact number")
    high: int
    confidence: float
    column: str = Field(description="the declared categorical column whose counts were summed")
    epsilon: str | None = Field(description="cl:profileEpsilon, spent once on everyone in the file")


class ConsentCounts(BaseModel):
    dataset_id: int
    as_of_block: int
    counts: list[PurposeCount]
    population: PopulationEstimate | None = Field(
        None, description="people in the dataset's personal file (noisy); null with no_share_reason"
    )
    no_share_reason: str | None = Field(None, description="why no share is shown, in one sentence for a citizen")


State = Literal["registered", "superseded", "withdrawn"]


class Registration(BaseModel):
    dataset_id: int
    publisher: Address
    publisher_name: str | None = Field(
        None, description="the publisher's organisation name, when its profile is verified"
    )
    state: State
    version: int
    superseded_by: int | None = None
    latest_version: int
    registered_block: int
    registered_at: int | None = None
    tx_hash: Hash | None = None


class Verification(BaseModel):
    content_hash: Hash
    state: Literal["registered", "superseded", "withdrawn", "not_registered"] = Field(
        description="the best state among the registrations (registered, then superseded, then withdrawn)"
    )
    dataset_id: int | None = Field(None, description="the registration `state` describes (the first with that state)")
    superseded_by: int | None = None
    latest_version: int | None = None
    publisher: Address | None = None
    registered_block: int | None = None
    first_publisher: Address | None = Field(None, description="who registered these bytes first")
    registrations: list[Registration] = Field(
        [], description="every registration of the hash, earliest first: several publishers may register the same bytes"
    )


class ConsentTerms(BaseModel):
    """What a consent key stands for: who consents to what, for whom."""

    key: Hash
    citizen: Address
    purpose: Hash
    purpose_name: str | None
    scope_kind: str
    scope_kind_code: int
    scope_id: Hash
    grantee: Address
    any_researcher: bool


class Consent(ConsentTerms):
    expiry: int
    nonce: int
    state: Literal["active", "expired", "revoked"]
    granted_at: int | None = Field(description="block time of the latest grant")
    block_number: int
    submitted_by: Address | None = Field(
        None, description="who submitted the latest change, grant or revocation (see granted_by, revoked_by)"
    )
    first_granted_at: int | None = Field(None, description="block time of the first grant of this consent")
    granted_block: int | None = None
    granted_tx: Hash | None = None
    granted_by: Address | None = Field(None, description="who submitted the latest grant: the citizen or the relayer")
    valid_until: int | None = Field(None, description="expiry of the latest grant (`expiry` is 0 once revoked)")
    revoked_at: int | None = Field(None, description="block time of the revocation that ended the latest grant")
    revoked_block: int | None = None
    revoked_tx: Hash | None = None
    revoked_by: Address | None = Field(None, description="who submitted that revocation: the citizen or the relayer")


class ConsentChange(BaseModel):
    change: Literal["granted", "renewed", "revoked", "expired", "signatures_cancelled"]
    status: str | None = Field(
        description="the DPV status after it: dpv:ConsentGiven, dpv:RenewedConsentGiven, dpv:ConsentWithdrawn, "
        "dpv:ConsentExpired (None when signatures were cancelled)"
    )
    at: int = Field(description="unix time: the block's, or the expiry for 'expired'")
    block_number: int | None = Field(description="None for 'expired' (no transaction: time passed)")
    log_index: int | None
    tx_hash: Hash | None
    submitted_by: Address | None = Field(description="the citizen, or the relayer carrying the citizen's signature")
    by_relayer: bool | None
    expiry: int | None = Field(description="the grant's expiry (grants only)")
    nonce: int | None = Field(description="the key's nonce after the change")


class ConsentHistory(Page[ConsentChange], ConsentTerms):
    state: Literal["active", "expired", "revoked"]
    status: str = Field(description="dpv:ConsentGiven, dpv:ConsentWithdrawn or dpv:ConsentExpired")
    valid_until: int = Field(description="expiry of the latest grant")
    first_granted_at: int
    as_of_block: int
    as_of_time: int


class ConsentCheck(BaseModel):
    active: bool
    as_of_block: int
    key: Hash
    expiry: int | None
    state: Literal["active", "expired", "revoked", "never_granted"]


class Access(BaseModel):
    access_id: int
    dataset_id: int
    requester: Address
    requester_role: Literal["researcher", "publisher"] | None = Field(
        None, description="the role the access was requested with: it must still be held for the access to be live"
    )
    purpose: Hash
    purpose_name: str | None
    terms_hash: Hash | None
    status: Literal["requested", "granted", "refused", "ended", "cancelled"]
    expiry: int | None
    live: bool = Field(
        description="AccessRegistry.is_live: granted, unexpired, the grantee holds its role, the publisher its role"
    )
    requested_block: int
    granted_block: int | None = Field(None, description="the earliest block a release's consent snapshot may be at")


class Audit(BaseModel):
    """The indexer's check of a release's (or private query's) consent claim (docs/INDEXER.md)."""

    status: Literal["verified", "mismatch", "unverifiable", "no_subjects", "pending"] = Field(
        description="verified: every subject of the published snapshot had consent; mismatch: one did not, or the "
        "count differs; unverifiable: no snapshot published for the root; no_subjects: non-personal data; "
        "pending: not audited yet"
    )
    detail: str
    snapshot_hash: Hash | None = Field(
        None, description="SHA-256 of the snapshot document checked (GET /api/documents/{hash})"
    )
    lacking_consent: int | None = Field(None, description="subjects of the snapshot without a covering consent")


class Release(BaseModel):
    release_id: int
    access_id: int
    dataset_id: int
    grantee: Address
    purpose: Hash
    purpose_name: str | None
    subject_count: int
    consent_root: Hash
    snapshot_block: int
    release_hash: Hash
    k_anonymity: int | None = Field(
        None, description="the smallest group over the declared quasi-identifiers (0: none declared)"
    )
    logged_by: Address | None = Field(None, description="the publisher or one of its release operators")
    block_number: int
    timestamp: int | None = None
    tx_hash: Hash | None = None
    audit: Audit


class Obligation(BaseModel):
    obligation_id: int
    release_id: int
    recipient: Address
    subject: Address
    deadline: int
    status: Literal["open", "confirmed", "confirmed late"]
    overdue: bool = Field(description="open and past its deadline")
    requested_by: Address
    requested_block: int
    requested_at: int
    confirmed_block: int | None = None
    confirmed_at: int | None = None
    evidence_hash: Hash | None = None
    late: bool | None = None


class Delivery(BaseModel):
    delivery_id: int
    release_id: int
    access_id: int
    dataset_id: int
    recipient: Address
    delivered_at: int = Field(description="unix seconds")
    bytes: int
    sha256: Hash = Field(description="SHA-256 of the file served (the release hash on chain)")


class UsedRelease(Release):
    leaf: Hash = Field(description="the OpenZeppelin StandardMerkleTree leaf of the citizen's address")
    proof: list[Hash] = Field(description="sibling hashes from the leaf up to consent_root")
    deletion: Obligation | None = Field(None, description="the deletion obligation for the citizen's rows, if any")
    deliveries: list[Delivery] = Field(
        default_factory=list, description="each time the data room served the release file (newest first, at most 100)"
    )


class RightsRequest(BaseModel):
    request_id: int
    citizen: Address
    publisher: Address
    kind: str
    target_kind: Literal["publisher", "dataset"]
    target: Hash
    details_hash: Hash
    status: Literal["open", "fulfilled", "refused", "withdrawn", "rejected"]
    deadline: int
    overdue: bool
    answer_hash: Hash | None = Field(None, description="SHA-256 of the answer document (GET /api/documents/{hash})")
    late: bool | None = None
    filed_block: int
    filed_at: int | None = Field(None, description="block time of the filing")
    answered_block: int | None = None
    answered_at: int | None = Field(None, description="block time of the answer (None while open)")


class RightsStats(BaseModel):
    publisher: Address | None = Field(description="the publisher counted (null: all)")
    total: int
    open: int = Field(description="open and within the deadline")
    overdue: int = Field(description="open and past the deadline")
    fulfilled: int
    refused: int
    rejected: int = Field(
        description="not from a data subject, or manifestly unfounded or excessive: apart from refusals"
    )
    withdrawn: int
    answered: int
    answered_late: int


class Organisation(BaseModel):
    address: Address
    name: str | None = Field(description="from the verified profile document; null without one")
    kind: Literal["agency", "business", "research institute", "auditor"] | None = None
    website: str | None = None
    contact: str | None = Field(None, description="the organisation's contact point (e-mail or web page)")
    jurisdiction: str | None = None
    roles: list[Literal["publisher", "auditor", "researcher"]]
    ever_roles: list[Literal["publisher", "auditor", "researcher"]]
    publisher_kind: Literal["agency", "business"] | None = None
    profile_hash: Hash | None = Field(None, description="SHA-256 of the profile document (GET /api/documents/{hash})")
    profile_uri: str | None = None
    profile_block: int | None = None
    verified: bool = Field(description="the profile document is in this store and hashes to profile_hash")


class Organisations(BaseModel):
    items: list[Organisation]


class ReleaseOperator(BaseModel):
    publisher: Address
    operator: Address
    operator_name: str | None = None
    allowed: bool
    effective: bool = Field(description="allowed and the publisher still holds its role")
    since_block: int
    since: int
    tx_hash: Hash


class Budget(BaseModel):
    access_id: int
    dataset_id: int
    grantee: Address
    budget: str = Field(description="epsilon, as a decimal")
    spent: str
    remaining: str
    budget_micro: int = Field(description="micro-epsilon, as on chain")
    spent_micro: int
    queries: int
    set: bool = Field(description="a budget was ever set (0 admits no query)")
    consistent: bool = Field(description="every logged answer's running total checks against the budget in force")
    updated_block: int | None = None


class PrivateQuery(BaseModel):
    query_id: int
    access_id: int
    grantee: Address
    dataset_id: int
    epsilon_spent: str
    epsilon_spent_micro: int
    spent_total: str
    budget: str
    query_hash: Hash
    consent_root: Hash
    snapshot_block: int
    subject_count: int
    logged_by: Address
    block_number: int
    timestamp: int
    tx_hash: Hash
    audit: Audit


class DomainStat(BaseModel):
    domain: str
    domain_code: int
    datasets: int


class TimelinePoint(BaseModel):
    day: str
    grants: int
    revocations: int


class _RelayBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    citizen: str = Field(description="the citizen's address (the signer)")
    purpose: str = Field(description="DPV purpose name (ScientificResearch) or its 0x keccak hash")
    scope_kind: int = Field(ge=1, le=3, description="1 dataset, 2 publisher, 3 domain")
    scope_id: str = Field(description="bytes32 as 0x + 64 hex (or a dataset id / publisher address / domain)")
    grantee: str = Field(description="grantee address; 0x000...0 = any accredited researcher")
    deadline: int = Field(gt=0, description="unix time after which the signature is void")
    signature: str = Field(description="65-byte r||s||v EIP-712 signature, 0x + 130 hex")
    chain_id: int | None = Field(None, description="optional: the chain id signed for (a clearer error on mismatch)")
    nonce: int | None = Field(None, ge=0, description="optional: the nonce signed (a clearer error when stale)")


class RelayGrant(_RelayBase):
    expiry: int = Field(gt=0, description="unix time the consent ends")


class RelayRevoke(_RelayBase):
    pass


class RelayResult(BaseModel):
    tx_hash: Hash
