"""The small integer codes the contracts use (docs/CONTRACTS.md), with their names.

One place for them, so the CLI, the indexer, the API and the web page agree."""

from __future__ import annotations

from eth_utils import keccak

ROLE_PUBLISHER = 1
ROLE_AUDITOR = 2
ROLE_RESEARCHER = 4
ROLES = {"publisher": ROLE_PUBLISHER, "auditor": ROLE_AUDITOR, "researcher": ROLE_RESEARCHER}
# CityRoles.roles_of(a) = roles | publisher_kind << KIND_SHIFT | roles_ever_held << EVER_SHIFT
KIND_SHIFT = 8
EVER_SHIFT = 16

KIND_AGENCY = 1
KIND_BUSINESS = 2
PUBLISHER_KINDS = {"agency": KIND_AGENCY, "business": KIND_BUSINESS}

DOMAINS = {
    "health": 1,
    "education": 2,
    "agriculture": 3,
    "energy": 4,
    "public_safety": 5,
    "civil_administration": 6,
    "transport": 7,
    "environment": 8,
    "economy": 9,
    "housing": 10,
    "culture": 11,
    "other": 12,
}
DOMAIN_NAMES = {v: k for k, v in DOMAINS.items()}

STATUS_ACTIVE = 1
STATUS_WITHDRAWN = 2

SCOPE_DATASET = 1
SCOPE_PUBLISHER = 2
SCOPE_DOMAIN = 3
SCOPES = {"dataset": SCOPE_DATASET, "publisher": SCOPE_PUBLISHER, "domain": SCOPE_DOMAIN}

ANY_RESEARCHER = "0x0000000000000000000000000000000000000000"

ATTESTATION_KINDS = {"quality": 1, "coverage": 2, "provenance": 3, "privacy_review": 4}
ATTESTATION_KIND_NAMES = {v: k for k, v in ATTESTATION_KINDS.items()}

ACCESS_REQUESTED, ACCESS_GRANTED, ACCESS_REFUSED, ACCESS_ENDED, ACCESS_CANCELLED = 1, 2, 3, 4, 5
ACCESS_STATUS_NAMES = {1: "requested", 2: "granted", 3: "refused", 4: "ended", 5: "cancelled"}

RIGHTS_KINDS = {
    "access": 1,  # GDPR Art. 15
    "rectification": 2,  # Art. 16
    "erasure": 3,  # Art. 17
    "portability": 4,  # Art. 20
    "restriction": 5,  # Art. 18
    "objection": 6,  # Art. 21
    "information": 7,  # Art. 13/14: the right to be informed
    "automated_decision": 8,  # Art. 22: not to be subject to a decision based solely on automated processing
}
RIGHTS_KIND_NAMES = {v: k for k, v in RIGHTS_KINDS.items()}
TARGET_PUBLISHER, TARGET_DATASET = 1, 2
RIGHTS_OPEN, RIGHTS_FULFILLED, RIGHTS_REFUSED, RIGHTS_WITHDRAWN, RIGHTS_REJECTED = 1, 2, 3, 4, 5
# 5 "rejected": not from a data subject, or manifestly unfounded or excessive (GDPR Art. 12(5))
RIGHTS_STATUS_NAMES = {1: "open", 2: "fulfilled", 3: "refused", 4: "withdrawn", 5: "rejected"}
RIGHTS_OUTCOMES = {"fulfilled": RIGHTS_FULFILLED, "refused": RIGHTS_REFUSED, "rejected": RIGHTS_REJECTED}
RESPONSE_PERIOD = 30 * 24 * 3600
MAX_OPEN_REQUESTS = 16  # per (citizen, publisher)

# AccessRegistry: privacy budgets and private queries count epsilon in micro-epsilon (pure epsilon-DP).
MICRO_EPSILON = 1_000_000  # units per epsilon 1.0

# DeletionRegistry: a deletion obligation is due 30 days after it is requested.
DELETION_OPEN, DELETION_CONFIRMED, DELETION_CONFIRMED_LATE = 1, 2, 3
DELETION_STATUS_NAMES = {1: "open", 2: "confirmed", 3: "confirmed late"}
DELETION_PERIOD = 30 * 24 * 3600

# ConsentRegistry: why grant_batch_by_sig skipped an entry (SignedGrantSkipped.reason)
SIGNED_GRANT_FAULTS = {
    1: "signature deadline passed",
    2: "citizen is the zero address",
    3: "signature must be 65 bytes",
    4: "signature s value too high",
    5: "invalid signature (wrong signer, used or future nonce, other chain or contract, wallet refused)",
    6: "empty purpose",
    7: "empty dataset scope",
    8: "publisher scope is not an address",
    9: "unknown domain",
    10: "unknown scope kind",
    11: "expiry is in the past",
}

# W3C Data Privacy Vocabulary purposes (https://w3id.org/dpv): the IRI is hashed on chain.
DPV = "https://w3id.org/dpv#"
PURPOSES = {
    "ScientificResearch": "Scientific research",
    "AcademicResearch": "Academic research",
    "NonCommercialResearch": "Non-commercial research",
    "CommercialResearch": "Commercial research",
    "PublicBenefit": "Public benefit",
    "ServiceOptimisation": "Service optimisation",
    "ServiceProvision": "Service provision",
    "ResearchAndDevelopment": "Research and development",
    "PersonalisedBenefits": "Personalised benefits",
    "ImproveHealthcare": "Improve healthcare",
    "EnforceSecurity": "Enforce security",
    "Marketing": "Marketing",
}


def purpose_hash(name_or_iri: str) -> bytes:
    """keccak256 of a DPV purpose IRI; a bare name is taken as a DPV term."""
    iri = name_or_iri if "://" in name_or_iri else DPV + name_or_iri
    return keccak(text=iri)


PURPOSE_BY_HASH = {purpose_hash(name): name for name in PURPOSES}
