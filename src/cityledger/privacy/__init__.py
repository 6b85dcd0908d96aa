"""The privacy engine: differentially private aggregate answers over consented rows, k-anonymity
guards on row releases, and the representativeness report. See docs/PRIVACY.md.

The names below are the public interface. A typical aggregate answer:

    decl = parse_declaration(metadata_doc)                  # the dataset's cl:privacy
    query = parse_query(request_json, decl)                 # refusals happen here, nothing read
    reserve(access_id, query.hash, query.cost_micro)        # the caller's budget reservation
    answer = run_query(query, load_table(path, decl), consenting, reserved_hash=query.hash)
    log_query(access_id, dataset_id, answer.cost_micro, answer.query_hash, consent_root, ...)
"""

from .accuracy import ALPHA
from .declaration import (
    CATEGORICAL,
    DEFAULT_K,
    INTEGER,
    KEY,
    NUMERIC,
    Column,
    Level,
    PrivacyDeclaration,
    parse_declaration,
)
from .engine import (
    Answer,
    DatasetTable,
    Estimate,
    GroupAnswer,
    QuantileEstimate,
    consent_filter,
    load_table,
    run_query,
    suppression_threshold,
    table_from_rows,
)
from .errors import DeclarationError, KAnonymityRefused, PrivacyError, QueryAltered, QueryRefused
from .kanonymity import KAnonymity, k_anonymize
from .query import MAX_EPSILON, MICRO, Query, parse_epsilon, parse_query, query_cost, query_hash
from .representativeness import (
    CategoryCounts,
    PopulationProfile,
    ProfileRows,
    RepresentativenessReport,
    consented_counts,
    population_profile,
    profile_rows,
    release_report,
    representativeness,
)

__all__ = [
    "ALPHA",
    "CATEGORICAL",
    "DEFAULT_K",
    "INTEGER",
    "KEY",
    "MAX_EPSILON",
    "MICRO",
    "NUMERIC",
    "Answer",
    "CategoryCounts",
    "Column",
    "DatasetTable",
    "DeclarationError",
    "Estimate",
    "GroupAnswer",
    "KAnonymity",
    "KAnonymityRefused",
    "Level",
    "PopulationProfile",
    "PrivacyDeclaration",
    "PrivacyError",
    "ProfileRows",
    "QuantileEstimate",
    "Query",
    "QueryAltered",
    "QueryRefused",
    "RepresentativenessReport",
    "consent_filter",
    "consented_counts",
    "k_anonymize",
    "load_table",
    "parse_declaration",
    "parse_epsilon",
    "parse_query",
    "population_profile",
    "profile_rows",
    "query_cost",
    "query_hash",
    "release_report",
    "representativeness",
    "run_query",
    "suppression_threshold",
    "table_from_rows",
]
