"""The bias that consent introduces: how the consented rows differ from all rows on the declared
categorical columns (share per category, total variation distance), with the declared sampled
population beside it (docs/PRIVACY.md, "Representativeness").

The population side covers every row, consenting or not: for a personal dataset it is computed once
per dataset version with differential privacy (population_profile, at an epsilon the publisher states)
and kept; its noisy counts are safe to publish and to reuse for every report. The consented side is
exact for a release (the grantee holds those rows anyway) and noisy for an aggregate answer (the query
pays its `representativeness` epsilon).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

import opendp.prelude as dp
import polars as pl

from .accuracy import ALPHA, laplace_accuracy, sum_of_counts_accuracy
from .declaration import PrivacyDeclaration, decimal_text
from .engine import (
    CODE,
    DatasetTable,
    category_code,
    consent_filter,
    consent_series,
    noise_scales,
    release,
    table_from_rows,
)
from .errors import PrivacyError, QueryRefused
from .query import parse_epsilon


@dataclass(frozen=True)
class CategoryCounts:
    """Rows per declared category of each categorical column; exact (scale None) or each count with
    discrete Laplace noise of `scale[column]`."""

    counts: Mapping[str, Mapping[str, float]]
    scale: Mapping[str, float] | None
    epsilon: Decimal | None

    def interval(self, column: str, category: str, alpha: float) -> tuple[float, float]:
        n = self.counts[column][category]
        if self.scale is None:
            return n, n
        acc = laplace_accuracy(self.scale[column], alpha)
        return max(0.0, n - acc), max(0.0, n + acc)

    def to_json(self) -> dict:
        return {
            "epsilon": decimal_text(self.epsilon) if self.epsilon is not None else None,
            "scale": dict(self.scale) if self.scale is not None else None,
            "counts": {c: dict(v) for c, v in self.counts.items()},
        }


@dataclass(frozen=True)
class PopulationProfile(CategoryCounts):
    """Every row of a dataset version, per category: computed once and kept (see population_profile)."""

    sampled_population: str = ""

    def to_json(self) -> dict:
        return {**super().to_json(), "sampled_population": self.sampled_population}

    @classmethod
    def from_json(cls, doc: Mapping) -> PopulationProfile:
        """A stored profile back (its numbers are already private: nothing is spent)."""
        try:
            eps = doc.get("epsilon")
            return cls(
                counts={c: {k: float(n) for k, n in v.items()} for c, v in doc["counts"].items()},
                scale={c: float(s) for c, s in doc["scale"].items()} if doc.get("scale") is not None else None,
                epsilon=Decimal(eps) if eps is not None else None,
                sampled_population=str(doc.get("sampled_population", "")),
            )
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            raise PrivacyError(f"not a population profile ({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True)
class ProfileRows:
    """How many rows a population profile counted (docs/PRIVACY.md "The consented share"): the sum of
    one categorical column's counts, with a (1 - alpha) interval."""

    estimate: int
    low: int
    high: int
    column: str
    epsilon: Decimal | None

    def to_json(self) -> dict:
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "confidence": 1 - ALPHA,
            "column": self.column,
            "epsilon": decimal_text(self.epsilon) if self.epsilon is not None else None,
        }


def profile_rows(profile: CategoryCounts, alpha: float = ALPHA) -> ProfileRows:
    """The number of rows the profile counted: every column counts each row with a declared category
    once, so any column's sum estimates it; the one whose sum has the narrowest interval is used (its
    counts' noise scale and number of categories are public, so the choice reveals nothing). Only
    post-processing of the kept counts: nothing is spent."""
    best: ProfileRows | None = None
    for column, counts in profile.counts.items():
        total = sum(counts.values())  # the raw noisy counts: clamping each at 0 would bias the sum up
        acc = 0.0 if profile.scale is None else sum_of_counts_accuracy(profile.scale[column], len(counts), alpha)
        estimate = max(0, round(total))
        rows = ProfileRows(
            estimate, max(0, math.floor(total - acc)), max(0, math.ceil(total + acc)), column, profile.epsilon
        )
        if best is None or rows.high - rows.low < best.high - best.low:
            best = rows
    if best is None:
        raise PrivacyError("the profile counts no column")
    return best


def _counts(table: DatasetTable, frame: pl.DataFrame, epsilon: Decimal | None, max_length: int) -> CategoryCounts:
    decl = table.declaration
    columns = decl.categorical
    if not columns:
        raise QueryRefused("the declaration has no categorical column to compare")
    if epsilon is None:
        counts = {}
        for col in columns:
            seen = dict(frame.group_by(col.name).len().iter_rows())
            counts[col.name] = {c: float(seen.get(c, 0)) for c in col.categories}
        return CategoryCounts(counts, None, None)
    encoded = frame.select([category_code(c) for c in columns])
    base = pl.LazyFrame(schema=encoded.schema)
    plans = []
    for col in columns:
        keys = pl.LazyFrame({col.name: pl.Series(range(len(col.categories)), dtype=CODE)})
        agg = base.group_by(col.name).agg(dp.len(signed=True).alias("n"))
        plans.append(keys.join(agg, on=col.name, how="left", nulls_equal=True))
    results = release(encoded, decl.contributions, float(epsilon), plans, max_length)
    counts, scales = {}, {}
    for col, (released, measurement, _) in zip(columns, results, strict=True):
        values = {col.categories[code]: float(n) for code, n in released.select(col.name, "n").iter_rows()}
        counts[col.name] = {c: values[c] for c in col.categories}
        scales[col.name] = noise_scales(measurement)["n"][2]
    return CategoryCounts(counts, scales, epsilon)


def _epsilon(epsilon: Decimal | str | None) -> Decimal | None:
    return None if epsilon is None else parse_epsilon(str(epsilon) if isinstance(epsilon, Decimal) else epsilon)


def population_profile(table: DatasetTable, epsilon: Decimal | str | None) -> PopulationProfile:
    """Every row's category counts, noisy at `epsilon` (for a personal dataset: this touches people
    who never consented, so compute it once per dataset version and keep it), or exact when epsilon
    is None (only for a dataset without personal data)."""
    eps = _epsilon(epsilon)
    frame = consent_filter(table, None)
    counts = _counts(table, frame, eps, table.row_count)
    return PopulationProfile(counts.counts, counts.scale, counts.epsilon, table.declaration.sampled_population)


def consented_counts(
    table: DatasetTable, consenting: Collection[str] | pl.Series | None, epsilon: Decimal | str | None
) -> CategoryCounts:
    """The consented rows' category counts: exact when epsilon is None (a release: the grantee holds the
    rows), else noisy at `epsilon` (an aggregate answer)."""
    eps = _epsilon(epsilon)
    frame = consent_filter(table, consenting)
    n = (
        table.row_count
        if consenting is None
        else table.declaration.contributions * consent_series(consenting).n_unique()
    )
    return _counts(table, frame, eps, n)


@dataclass(frozen=True)
class ColumnReport:
    column: str
    tvd: float
    tvd_low: float
    tvd_high: float
    categories: tuple[dict, ...]


@dataclass(frozen=True)
class RepresentativenessReport:
    """How the consented rows differ from all rows, per declared categorical column."""

    sampled_population: str
    population_epsilon: Decimal | None
    consented_epsilon: Decimal | None
    columns: tuple[ColumnReport, ...]

    def to_json(self) -> dict:
        def eps(e: Decimal | None) -> str | None:
            return decimal_text(e) if e is not None else None

        return {
            "sampled_population": self.sampled_population,
            "population_epsilon": eps(self.population_epsilon),
            "consented_epsilon": eps(self.consented_epsilon),
            "confidence": 1 - ALPHA,
            "columns": [
                {
                    "column": c.column,
                    "total_variation": round(c.tvd, 4),
                    "total_variation_low": round(c.tvd_low, 4),
                    "total_variation_high": round(c.tvd_high, 4),
                    "categories": list(c.categories),
                }
                for c in self.columns
            ],
        }


def _shares(side: CategoryCounts, column: str, categories: list[str], alpha: float):
    """Per category: (share, low, high), the range over every count inside its interval."""
    point = {c: max(0.0, side.counts[column][c]) for c in categories}
    box = {c: side.interval(column, c, alpha) for c in categories}
    total = sum(point.values())
    lows, highs = sum(b[0] for b in box.values()), sum(b[1] for b in box.values())
    out = {}
    for c in categories:
        lo, hi = box[c]
        share = point[c] / total if total > 0 else 0.0
        low = lo / (lo + highs - box[c][1]) if lo > 0 else 0.0
        high = hi / (hi + lows - box[c][0]) if hi > 0 else 0.0
        out[c] = (share, low, min(1.0, high))
    return out


def representativeness(
    population: PopulationProfile, consented: CategoryCounts, alpha: float = ALPHA
) -> RepresentativenessReport:
    """Share per category among all rows and among consented rows, their difference, and the total
    variation distance (half the sum of absolute differences: 0 identical, 1 disjoint). With noisy
    counts each column's intervals hold together with probability 1 - alpha (Bonferroni over its
    counts); the distance's interval is the range over those intervals."""
    columns = []
    for column, pop_counts in population.counts.items():
        if column not in consented.counts:
            raise PrivacyError(f"the consented counts have no column '{column}' (another declaration?)")
        categories = list(pop_counts)
        per_count = alpha / (2 * len(categories))
        p = _shares(population, column, categories, per_count)
        q = _shares(consented, column, categories, per_count)
        tvd = sum(abs(p[c][0] - q[c][0]) for c in categories) / 2
        low = sum(max(0.0, p[c][1] - q[c][2], q[c][1] - p[c][2]) for c in categories) / 2
        high = sum(max(abs(p[c][2] - q[c][1]), abs(q[c][2] - p[c][1])) for c in categories) / 2
        cats = tuple(
            {
                "category": c,
                "population_share": round(p[c][0], 4),
                "consented_share": round(q[c][0], 4),
                "difference": round(q[c][0] - p[c][0], 4),
            }
            for c in categories
        )
        columns.append(ColumnReport(column, tvd, min(low, tvd), min(1.0, max(high, tvd)), cats))
    return RepresentativenessReport(
        sampled_population=population.sampled_population,
        population_epsilon=population.epsilon,
        consented_epsilon=consented.epsilon,
        columns=tuple(columns),
    )


def release_report(
    population: PopulationProfile, header: list[str], rows: list[list[str]], declaration: PrivacyDeclaration
) -> RepresentativenessReport:
    """The report for a consent-filtered release: its rows counted exactly against the population."""
    table = table_from_rows(header, rows, declaration)
    return representativeness(population, consented_counts(table, None, None))
