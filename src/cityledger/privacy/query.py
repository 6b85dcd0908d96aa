"""Aggregate queries: a small JSON document, checked against the declaration, with one canonical form
and its hash (docs/PRIVACY.md, "Queries").

The hash is what goes on chain with each answer (AccessRegistry.log_query's query_hash), and the cost
(micro-epsilon, the on-chain unit) is known from the document alone, before any data is read: the
caller reserves the cost under the hash, then runs exactly that query (run_query checks the hash).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from .declaration import CATEGORICAL, INTEGER, Column, PrivacyDeclaration, decimal_text, parse_decimal
from .errors import QueryRefused

QUERY_VERSION = 1
STATISTICS = ("count", "sum", "mean", "quantiles", "histogram")
CATEGORICAL_OPS = ("eq", "ne", "in", "not_in")
NUMERIC_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "between")
MICRO = 10**6  # the on-chain unit: epsilon is recorded in micro-epsilon
MAX_EPSILON = Decimal(10)  # per query: above this an answer is close to exact, whatever the budget
MAX_QUERY_BYTES = 16 * 1024
MAX_GROUPS = 10_000
MAX_GROUP_BY = 3
MAX_FILTERS = 16
MAX_QUANTILES = 20
MAX_BINS = 100
DEFAULT_BINS = 10
FIELDS = {
    "version",
    "statistic",
    "epsilon",
    "column",
    "group_by",
    "filters",
    "quantiles",
    "bins",
    "representativeness",
    "dataset_id",
    "access_id",
    "nonce",
}


@dataclass(frozen=True)
class Filter:
    """One condition; a query keeps the rows that meet all of its filters."""

    column: str
    op: str
    values: tuple[str, ...] | tuple[Decimal, ...]

    def to_json(self) -> dict:
        values = [v if isinstance(v, str) else decimal_text(v) for v in self.values]
        value: object = values if self.op in ("in", "not_in", "between") else values[0]
        return {"column": self.column, "op": self.op, "value": value}


@dataclass(frozen=True)
class Query:
    """A checked query. `canonical` is the bytes that are hashed; build one with parse_query."""

    statistic: str
    epsilon: Decimal
    column: str | None
    group_by: tuple[str, ...]
    filters: tuple[Filter, ...]
    quantiles: tuple[Decimal, ...]
    bins: tuple[Decimal, ...]
    representativeness: Decimal | None
    dataset_id: int | None
    access_id: int | None
    nonce: str | None
    canonical: bytes

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical bytes, 0x-hex: the query_hash logged on chain."""
        return "0x" + hashlib.sha256(self.canonical).hexdigest()

    @property
    def cost_micro(self) -> int:
        """What running it spends, in micro-epsilon: the answer's epsilon plus the report's, if asked."""
        return to_micro(self.epsilon) + (to_micro(self.representativeness) if self.representativeness else 0)

    def to_json(self) -> dict:
        return json.loads(self.canonical)


def to_micro(epsilon: Decimal) -> int:
    return int(epsilon * MICRO)


def _number(value: object, where: str) -> Decimal:
    # JSON clients send numbers; a float is taken at its shortest repr ("0.1"), never its binary value.
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QueryRefused(f"{where} must be a finite number, not {value}")
        value = repr(value)
        if "e" in value or "E" in value:
            raise QueryRefused(f"{where} must be written without an exponent ({value})")
    if isinstance(value, str) and value.strip().lstrip("+-").lower() in ("nan", "inf", "infinity"):
        raise QueryRefused(f"{where} must be a finite number, not {value}")
    return parse_decimal(value, where, QueryRefused)


def parse_epsilon(value: object, where: str = "epsilon") -> Decimal:
    """A privacy loss: > 0, at most MAX_EPSILON, in whole micro-epsilon (the on-chain unit)."""
    if value is None:
        raise QueryRefused(f'{where} is required (the privacy loss this answer may spend, e.g. "0.5")')
    eps = _number(value, where)
    if eps <= 0:
        raise QueryRefused(
            f"{where} must be above 0, not {decimal_text(eps)} (an answer with no privacy loss is noise)"
        )
    if eps > MAX_EPSILON:
        raise QueryRefused(f"{where} {decimal_text(eps)} is above the per-query maximum {MAX_EPSILON}")
    if eps * MICRO != int(eps * MICRO):
        raise QueryRefused(f"{where} {eps} has more than 6 decimals (budgets are kept in micro-epsilon)")
    return eps


def _id(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise QueryRefused(f"{where} must be a whole number between 0 and 2^64 - 1")
    return value


def _filter(raw: object, decl: PrivacyDeclaration, i: int) -> Filter:
    where = f"filters[{i}]"
    if not isinstance(raw, Mapping) or set(raw) - {"column", "op", "value"}:
        raise QueryRefused(f"{where} must be an object with column, op and value")
    col = decl.column(raw.get("column"), "filter on")
    op = raw.get("op")
    value = raw.get("value")
    if col.type == CATEGORICAL:
        if op not in CATEGORICAL_OPS:
            raise QueryRefused(f"{where}: op on categorical column '{col.name}' is one of {', '.join(CATEGORICAL_OPS)}")
        items = value if op in ("in", "not_in") else [value]
        if not isinstance(items, list) or not items:
            raise QueryRefused(f"{where}: op {op} takes a non-empty list of categories")
        for v in items:
            if v not in col.categories:
                raise QueryRefused(f"{where}: {v!r} is not a declared category of '{col.name}'")
        return Filter(col.name, op, tuple(sorted(set(items))))
    if op not in NUMERIC_OPS:
        raise QueryRefused(f"{where}: op on numeric column '{col.name}' is one of {', '.join(NUMERIC_OPS)}")
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise QueryRefused(f"{where}: between takes [low, high]")
        low, high = (_number(v, f"{where}: value") for v in value)
        if low > high:
            raise QueryRefused(f"{where}: between's low ({low}) is above its high ({high})")
        return Filter(col.name, op, (low, high))
    return Filter(col.name, op, (_number(value, f"{where}: value"),))


def _measured(decl: PrivacyDeclaration, doc: Mapping, statistic: str) -> Column:
    if doc.get("column") is None:
        raise QueryRefused(f"{statistic} needs a column (one of: {', '.join(decl.columns)})")
    col = decl.column(doc.get("column"), statistic)
    if statistic == "histogram":
        return col
    if not col.numeric:
        raise QueryRefused(f"{statistic} needs an integer or numeric column; '{col.name}' is categorical")
    if not col.bounded:
        raise QueryRefused(
            f"column '{col.name}' has no declared bounds: {statistic} needs them (the noise is scaled to "
            "the bounds; an unbounded column would let one person move the answer without limit)"
        )
    return col


def _levels(raw: object) -> tuple[Decimal, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUANTILES:
        raise QueryRefused(f'quantiles must be a list of 1 to {MAX_QUANTILES} levels, e.g. ["0.25", "0.5"]')
    levels = sorted({_number(q, "quantiles") for q in raw})
    for q in levels:
        if not Decimal(0) < q < Decimal(1) or q != q.quantize(Decimal("0.0001")):
            raise QueryRefused(f"quantile level {q} must lie strictly between 0 and 1, with at most 4 decimals")
    return tuple(levels)


def _bins(raw: object, col: Column) -> tuple[Decimal, ...]:
    if raw is None:
        if not col.bounded:
            raise QueryRefused(f"column '{col.name}' has no declared bounds: give the histogram's bins (edges)")
        assert col.lower is not None and col.upper is not None
        step = (col.upper - col.lower) / DEFAULT_BINS
        if col.type == INTEGER:
            defaults = {(col.lower + i * step).to_integral_value() for i in range(1, DEFAULT_BINS)}
        else:
            defaults = {(col.lower + i * step).normalize() for i in range(1, DEFAULT_BINS)}
        return tuple(sorted(e for e in defaults if col.lower < e < col.upper))
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BINS - 1:
        raise QueryRefused(f"bins must be a list of 1 to {MAX_BINS - 1} increasing edges")
    edges = [_number(b, "bins") for b in raw]
    if any(a >= b for a, b in pairwise(edges)):
        raise QueryRefused("bins must be strictly increasing")
    return tuple(edges)


def parse_query(doc: Mapping | str | bytes, declaration: PrivacyDeclaration) -> Query:
    """Check a query against the declaration and give its canonical form. Everything is refused here,
    before any data is read: undeclared columns, unbounded numeric columns, bad epsilon, too many groups."""
    doc = _load(doc)
    unknown = set(doc) - FIELDS
    if unknown:
        raise QueryRefused(f"unknown query field(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(FIELDS))})")
    if doc.get("version", QUERY_VERSION) != QUERY_VERSION:
        raise QueryRefused(f"query version {doc.get('version')!r} is not supported (this engine reads {QUERY_VERSION})")
    statistic = doc.get("statistic")
    if statistic not in STATISTICS:
        raise QueryRefused(f"statistic must be one of {', '.join(STATISTICS)}, not {statistic!r}")
    epsilon = parse_epsilon(doc.get("epsilon"))
    report = doc.get("representativeness")
    report_eps = None if report is None else parse_epsilon(report, "representativeness")
    if report_eps is not None and not declaration.categorical:
        raise QueryRefused("representativeness needs declared categorical columns; this dataset declares none")

    column = None
    if statistic == "count":
        if doc.get("column") is not None:
            raise QueryRefused("count counts rows: it takes no column (narrow the rows with filters instead)")
    else:
        column = _measured(declaration, doc, statistic)
    if doc.get("quantiles") is not None and statistic != "quantiles":
        raise QueryRefused("quantiles (the levels) is only for statistic quantiles")
    levels = _levels(doc.get("quantiles")) if statistic == "quantiles" else ()
    bins: tuple[Decimal, ...] = ()
    if doc.get("bins") is not None and not (statistic == "histogram" and column is not None and column.numeric):
        raise QueryRefused("bins are only for a histogram of an integer or numeric column")
    if statistic == "histogram" and column is not None and column.numeric:
        bins = _bins(doc.get("bins"), column)

    group_by = doc.get("group_by") or []
    if not isinstance(group_by, list) or len(group_by) > MAX_GROUP_BY:
        raise QueryRefused(f"group_by must be a list of at most {MAX_GROUP_BY} categorical columns")
    groups = 1
    for name in group_by:
        col = declaration.column(name, "group by")
        if col.type != CATEGORICAL:
            raise QueryRefused(
                f"group_by needs categorical columns with a declared category set; '{col.name}' is {col.type} "
                "(use a histogram with bins for numeric columns)"
            )
        groups *= len(col.categories)
    if len(set(group_by)) != len(group_by) or (column is not None and column.name in group_by):
        raise QueryRefused("group_by names each column once, and not the measured column")
    if statistic == "histogram" and column is not None:
        groups *= len(column.categories) if column.type == CATEGORICAL else len(bins) + 1
    if groups > MAX_GROUPS:
        raise QueryRefused(f"the query has {groups} groups; at most {MAX_GROUPS} (fewer columns or categories)")

    raw_filters = doc.get("filters") or []
    if not isinstance(raw_filters, list) or len(raw_filters) > MAX_FILTERS:
        raise QueryRefused(f"filters must be a list of at most {MAX_FILTERS} conditions")
    filters = tuple(_filter(f, declaration, i) for i, f in enumerate(raw_filters))
    filters = tuple(sorted(set(filters), key=lambda f: json.dumps(f.to_json(), sort_keys=True)))

    nonce = doc.get("nonce")
    if nonce is not None and (not isinstance(nonce, str) or not 1 <= len(nonce) <= 100 or not nonce.isprintable()):
        raise QueryRefused("nonce must be printable text of 1 to 100 characters")
    query = Query(
        statistic=statistic,
        epsilon=epsilon,
        column=column.name if column else None,
        group_by=tuple(group_by),
        filters=filters,
        quantiles=levels,
        bins=bins,
        representativeness=report_eps,
        dataset_id=_id(doc.get("dataset_id"), "dataset_id"),
        access_id=_id(doc.get("access_id"), "access_id"),
        nonce=nonce,
        canonical=b"",
    )
    return _with_canonical(query)


def _with_canonical(q: Query) -> Query:
    out: dict = {"version": QUERY_VERSION, "statistic": q.statistic, "epsilon": decimal_text(q.epsilon)}
    optional = {
        "column": q.column,
        "group_by": list(q.group_by) or None,
        "filters": [f.to_json() for f in q.filters] or None,
        "quantiles": [decimal_text(x) for x in q.quantiles] or None,
        "bins": [decimal_text(x) for x in q.bins] or None,
        "representativeness": decimal_text(q.representativeness) if q.representativeness else None,
        "dataset_id": q.dataset_id,
        "access_id": q.access_id,
        "nonce": q.nonce,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    canonical = json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Query(**{**q.__dict__, "canonical": canonical})


def _reject_constant(name: str) -> None:
    raise QueryRefused(f"the query holds {name}: numbers must be finite")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:  # two parsers could read two different queries under one hash
            raise QueryRefused(f"the query names field '{key}' twice")
        out[key] = value
    return out


def _load(doc: Mapping | str | bytes) -> Mapping:
    if isinstance(doc, (str, bytes)):
        if len(doc) > MAX_QUERY_BYTES:
            raise QueryRefused(f"the query is larger than {MAX_QUERY_BYTES} bytes")
        try:
            doc = json.loads(doc, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
        except (ValueError, RecursionError) as exc:
            raise QueryRefused(f"the query is not valid JSON: {exc}") from None
    if not isinstance(doc, Mapping):
        raise QueryRefused("a query is a JSON object")
    return doc


def query_hash(doc: Mapping | str | bytes, declaration: PrivacyDeclaration) -> str:
    """The 0x-hex SHA-256 of the query's canonical form (what is reserved and logged on chain)."""
    return parse_query(doc, declaration).hash


def query_cost(doc: Mapping | str | bytes, declaration: PrivacyDeclaration) -> int:
    """The micro-epsilon the query will spend, from the document alone: reserve this before running."""
    return parse_query(doc, declaration).cost_micro
