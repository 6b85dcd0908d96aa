"""Differentially private answers over consented rows ("compute-to-data"), with OpenDP on polars.

The pipeline of one answer (docs/PRIVACY.md, "How an answer is computed"):

1. the table: the dataset file read with the declared column types, rows without a subject dropped,
   at most `contributions` rows per subject (file order) (load_table, once per file);
2. the consent filter: the rows whose subject is in the consenting set;
3. the query's filters, and the grouping columns encoded as category numbers;
4. OpenDP: `make_private_lazyframe` over a plan of `dp.len`, `dp.sum`, `dp.quantile` (per group,
   the groups joined onto the declared key set so that every group is answered, empty or not), run
   in a `dp.Context.compositor` whose budget is the query's epsilon;
5. post-processing: intervals, means, suppression of groups whose noisy count is below the threshold.

Steps 1 to 3 run in plain polars before OpenDP sees the data. Each is a row-by-row function with
public parameters (the consent set is public on chain, filters and categories are in the query and the
declaration) or, for the per-subject cap, changes at most `contributions` rows when one subject is added
or removed; so OpenDP's guarantee for a change of `contributions` rows is the guarantee per subject.
Doing them outside OpenDP keeps the data handed to OpenDP to the few numeric columns a query needs
(it is serialised to OpenDP's Rust core on every answer) and allows filters OpenDP's plan language
lacks (is_in, is_between).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import cast

import opendp.prelude as dp
import polars as pl
from opendp.extras.polars import DPExpr

from .accuracy import ALPHA, laplace_accuracy, mean_interval, quantile_rank_error, sum_of_counts_accuracy
from .declaration import CATEGORICAL, INTEGER, Column, PrivacyDeclaration, decimal_text
from .errors import DeclarationError, PrivacyError, QueryAltered, QueryRefused
from .query import Filter, Query

dp.enable_features("contrib")

SUBJECT = "__subject"
CODE = pl.UInt32  # category numbers handed to OpenDP (strings would be slower to hand over)


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class DatasetTable:
    """A dataset's usable rows with the declared column types: the subject as SUBJECT (lower case), rows
    without a subject dropped, at most `contributions` rows per subject (file order). The cap does not
    depend on consent (a subject's rows are all in or all out), so it is applied once, here."""

    declaration: PrivacyDeclaration
    frame: pl.DataFrame
    row_count: int  # rows in the file (public: the registered metadata records it)
    source: str = ""


def _typed(frame: pl.DataFrame, decl: PrivacyDeclaration, source: str) -> DatasetTable:
    missing = [c for c in [decl.subject_column, *decl.columns] if c not in frame.columns]
    if missing:
        raise DeclarationError(
            f"{source}: declared column(s) {', '.join(missing)} not in the file "
            f"(columns: {', '.join(frame.columns)[:200]})"
        )
    exprs = [pl.col(decl.subject_column).cast(pl.String).str.strip_chars().str.to_lowercase().alias(SUBJECT)]
    for col in decl.columns.values():
        text = pl.col(col.name).cast(pl.String)
        if col.type == CATEGORICAL:  # an empty field is a missing value, as the CSV reader has it
            exprs.append(pl.when(text != "").then(text).alias(col.name))
        elif col.type == INTEGER:
            exprs.append(text.str.strip_chars().cast(pl.Int64, strict=False).alias(col.name))
        else:  # unparseable, NaN and infinite values are missing values
            x = text.str.strip_chars().cast(pl.Float64, strict=False)
            exprs.append(pl.when(x.is_finite()).then(x).alias(col.name))
    typed = frame.select(exprs).filter(pl.col(SUBJECT).is_not_null() & (pl.col(SUBJECT) != ""))
    # the privacy unit promises at most `contributions` rows per subject: enforce it whatever the file holds
    if typed.height != typed.get_column(SUBJECT).n_unique():
        typed = typed.filter(pl.int_range(pl.len()).over(SUBJECT) < decl.contributions)
    return DatasetTable(decl, typed, frame.height, source)


def load_table(path: str | Path, declaration: PrivacyDeclaration) -> DatasetTable:
    """Read a CSV/TSV (delimiter as the release reads it: `;` when the header has more of them than
    commas) or Parquet file with the declared column types. Values that do not parse are missing."""
    path = Path(path)
    if not path.is_file():
        raise PrivacyError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
        else:
            with path.open(encoding="utf-8-sig") as fh:
                first = fh.readline()
            sep = "\t" if path.suffix.lower() == ".tsv" else (";" if first.count(";") > first.count(",") else ",")
            frame = pl.read_csv(path, infer_schema=False, separator=sep)
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as exc:
        raise PrivacyError(f"{path.name}: not a readable table ({type(exc).__name__})") from None
    return _typed(frame, declaration, path.name)


def table_from_rows(
    header: Sequence[str], rows: Iterable[Sequence[str]], declaration: PrivacyDeclaration
) -> DatasetTable:
    """The same table from rows already in memory (as the release service holds them)."""
    frame = pl.DataFrame([list(r) for r in rows], schema=[(h, pl.String) for h in header], orient="row")
    return _typed(frame, declaration, "rows")


def consent_filter(table: DatasetTable, consenting: Collection[str] | pl.Series | None) -> pl.DataFrame:
    """The rows whose subject is in `consenting` (None: every row, for datasets with no consent to check)."""
    if consenting is None:
        return table.frame
    return _semi_join(table.frame, consent_series(consenting))


def consent_series(consenting: Collection[str] | pl.Series) -> pl.Series:
    """The consent set as a polars column of lower-case addresses (a polars Series is taken as it is:
    a million Python strings take about a second to convert)."""
    series = consenting if isinstance(consenting, pl.Series) else pl.Series(list(consenting), dtype=pl.String)
    return series.cast(pl.String).str.to_lowercase().alias(SUBJECT)


def _semi_join(frame: pl.DataFrame, subjects: pl.Series) -> pl.DataFrame:
    # a semi join: polars' is_in is about ten times slower on a million addresses
    return frame.join(subjects.to_frame(), on=SUBJECT, how="semi")


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Estimate:
    """A released number and the 95% interval that holds its exact value (low = high: exact)."""

    value: float
    low: float
    high: float

    def to_json(self) -> dict:
        return {"value": _num(self.value), "low": _num(self.low), "high": _num(self.high)}


@dataclass(frozen=True)
class QuantileEstimate:
    """A DP quantile: one of the candidates, and the range of levels it lies in with 95% confidence
    (besides the candidates' own spacing)."""

    level: Decimal
    value: float
    level_low: float
    level_high: float
    rank_error_rows: float

    def to_json(self) -> dict:
        return {
            "level": decimal_text(self.level),
            "value": _num(self.value),
            "level_low": round(self.level_low, 4),
            "level_high": round(self.level_high, 4),
            "rank_error_rows": round(self.rank_error_rows, 1),
        }


@dataclass(frozen=True)
class GroupAnswer:
    """One group's answer; a suppressed group carries its key only."""

    key: dict[str, str]
    suppressed: bool
    count: Estimate | None = None
    sum: Estimate | None = None
    mean: Estimate | None = None
    quantiles: tuple[QuantileEstimate, ...] = ()

    def to_json(self) -> dict:
        out: dict = {"key": self.key, "suppressed": self.suppressed}
        for name in ("count", "sum", "mean"):
            est = getattr(self, name)
            if est is not None:
                out[name] = est.to_json()
        if self.quantiles:
            out["quantiles"] = [q.to_json() for q in self.quantiles]
        return out


@dataclass(frozen=True)
class Answer:
    """A differentially private answer: what the researcher sees, and what the chain records."""

    query_hash: str
    statistic: str
    column: str | None
    epsilon: Decimal
    cost_micro: int
    groups: tuple[GroupAnswer, ...]
    rows_used: Estimate | None  # noisy: None when the whole answer is suppressed
    threshold: int
    consenting_subjects: int | None
    mechanisms: tuple[dict, ...]
    representativeness: dict | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def suppressed_groups(self) -> int:
        return sum(g.suppressed for g in self.groups)

    def to_json(self) -> dict:
        return {
            "query_hash": self.query_hash,
            "statistic": self.statistic,
            "column": self.column,
            "epsilon": decimal_text(self.epsilon),
            "epsilon_micro": self.cost_micro,
            "confidence": 1 - ALPHA,
            "rows_used": self.rows_used.to_json() if self.rows_used else None,
            "consenting_subjects": self.consenting_subjects,
            "threshold": self.threshold,
            "suppressed_groups": self.suppressed_groups,
            "groups": [g.to_json() for g in self.groups],
            "mechanisms": list(self.mechanisms),
            "representativeness": self.representativeness,
            "notes": list(self.notes),
        }


def _num(x: float) -> float | int:
    if isinstance(x, int) or (math.isfinite(x) and x == int(x) and abs(x) < 2**53):
        return int(x)
    return round(x, 6)


# ---------------------------------------------------------------- OpenDP


def _calibrate(domain, d_in: int, epsilon: float, plan: pl.LazyFrame):
    """The measurement of `plan` whose privacy loss at `d_in` is at most `epsilon`. The loss of
    make_private_lazyframe is inversely proportional to its global scale, so one probe at scale 1
    gives the scale; OpenDP's own privacy map then confirms it (nudged up for float rounding). This
    replaces the Context's binary search (about a thousand constructions, ~2 s) by two or three."""

    def make(scale: float):
        return dp.m.make_private_lazyframe(
            domain, dp.symmetric_distance(), dp.max_divergence(), plan, global_scale=scale
        )

    scale = make(1.0).map(d_in) / epsilon
    for attempt in range(60):
        m = make(scale)
        if m.map(d_in) <= epsilon:
            return m, scale
        scale *= 1 + 1e-12 * 4**attempt
    raise PrivacyError("could not calibrate the noise to the epsilon (please report this query)")


def release(
    frame: pl.DataFrame, d_in: int, epsilon: float, plans: Sequence[pl.LazyFrame], max_length: int
) -> list[tuple[pl.DataFrame, object, float]]:
    """Run `plans` over `frame` in one OpenDP compositor of `epsilon`, split evenly; per plan the
    released frame, its measurement and its global scale."""
    context = dp.Context.compositor(
        data=frame.lazy(),
        privacy_unit=(dp.symmetric_distance(), d_in),
        privacy_loss=(dp.max_divergence(), epsilon),
        split_evenly_over=len(plans),
        margins=[dp.polars.Margin(by=[], max_length=max(1, max_length))],
    )
    domain = context.accountant.input_domain
    share = epsilon / len(plans)
    out = []
    for plan in plans:
        m, scale = _calibrate(domain, d_in, share, plan)
        out.append((context(m).collect(), m, scale))
    return out


def noise_scales(measurement) -> dict[str, tuple[str, str, float]]:
    """Output column -> (aggregate, distribution, scale), from OpenDP's summary of the measurement."""
    summary = dp.summarize_polars_measurement(measurement)
    return {r["column"]: (r["aggregate"], r["distribution"], r["scale"]) for r in summary.iter_rows(named=True)}


# ---------------------------------------------------------------- one query


def _filter_expr(f: Filter) -> pl.Expr:
    col = pl.col(f.column)
    vals = [v if isinstance(v, str) else float(v) for v in f.values]
    ops = {
        "eq": lambda: col == vals[0],
        "ne": lambda: col != vals[0],
        "in": lambda: col.is_in(vals),
        "not_in": lambda: ~col.is_in(vals),
        "lt": lambda: col < vals[0],
        "le": lambda: col <= vals[0],
        "gt": lambda: col > vals[0],
        "ge": lambda: col >= vals[0],
        "between": lambda: col.is_between(vals[0], vals[1]),
    }
    return ops[f.op]()


def category_code(col: Column) -> pl.Expr:
    """The declared category's number (0-based, declaration order); null for anything undeclared."""
    return (
        pl.col(col.name)
        .replace_strict(list(col.categories), list(range(len(col.categories))), default=None, return_dtype=CODE)
        .alias(col.name)
    )


def _bin_code(col: Column, edges: Sequence[Decimal]) -> pl.Expr:
    x = pl.col(col.name)
    above = pl.sum_horizontal([(x > float(e)).cast(CODE) for e in edges])
    return pl.when(x.is_not_null()).then(above).otherwise(None).cast(CODE).alias(col.name)


def bin_labels(edges: Sequence[Decimal]) -> list[str]:
    """Bin i holds values in (edge[i-1], edge[i]]; the first and last are open-ended."""
    texts = [decimal_text(e) for e in edges]
    middle = [f"({a}, {b}]" for a, b in pairwise(texts)]
    return [f"<= {texts[0]}", *middle, f"> {texts[-1]}"]


@dataclass(frozen=True)
class _Grouping:
    columns: list[str]  # grouping columns in the OpenDP frame (encoded)
    labels: list[list[str]]  # per column: code -> text
    keys: pl.DataFrame | None  # every combination of codes (the public key set)


def _grouping(q: Query, decl: PrivacyDeclaration) -> tuple[_Grouping, list[pl.Expr]]:
    names, labels, exprs = [], [], []
    for name in q.group_by:
        col = decl.columns[name]
        names.append(name)
        labels.append(list(col.categories))
        exprs.append(category_code(col))
    if q.statistic == "histogram":
        col = decl.columns[q.column]  # type: ignore[index]
        names.append(col.name)
        if col.type == CATEGORICAL:
            labels.append(list(col.categories))
            exprs.append(category_code(col))
        else:
            labels.append(bin_labels(q.bins))
            exprs.append(_bin_code(col, q.bins))
    if not names:
        return _Grouping([], [], None), exprs
    keys = pl.DataFrame({names[0]: pl.Series(range(len(labels[0])), dtype=CODE)})
    for name, lab in zip(names[1:], labels[1:], strict=True):
        keys = keys.join(pl.DataFrame({name: pl.Series(range(len(lab)), dtype=CODE)}), how="cross")
    return _Grouping(names, labels, keys), exprs


def _measured_bounds(col: Column) -> tuple[int, int] | tuple[float, float]:
    assert col.lower is not None and col.upper is not None
    if col.type == INTEGER:
        return int(col.lower), int(col.upper)
    return float(col.lower), float(col.upper)


def _candidates(col: Column) -> list[float]:
    # OpenDP annotates floats but needs the column's own type: ints for an integer column
    return cast("list[float]", col.candidates())


def _aggregates(q: Query, col: Column | None) -> list[pl.Expr]:
    aggs = [dp.len(signed=True).alias("n")]
    if q.statistic in ("sum", "mean"):
        assert col is not None
        aggs.append(DPExpr(pl.col(col.name)).sum(_measured_bounds(col)).alias("s"))
    for i, level in enumerate(q.quantiles):
        assert col is not None
        aggs.append(DPExpr(pl.col(col.name)).quantile(float(level), _candidates(col)).alias(f"q{i}"))
    return aggs


def _score_unit(col: Column, level: Decimal, max_length: int) -> float:
    """Integer score units per row of OpenDP's quantile score (see accuracy.quantile_rank_error): from
    OpenDP's privacy map of the same quantile alone, whose loss is 2 * sensitivity / scale and whose
    sensitivity is max(q, 1 - q) rows in score units."""
    dtype = pl.Int64 if col.type == INTEGER else pl.Float64
    domain = dp.with_margin(
        dp.domain_of(pl.LazyFrame(schema={col.name: dtype}), infer=True),
        dp.polars.Margin(by=[], max_length=max(1, max_length)),
    )
    plan = pl.LazyFrame(schema={col.name: dtype}).select(
        DPExpr(pl.col(col.name)).quantile(float(level), _candidates(col))
    )
    single = dp.m.make_private_lazyframe(domain, dp.symmetric_distance(), dp.max_divergence(), plan, global_scale=1.0)
    eps1 = single.map(1)
    score_scale = noise_scales(single)[col.name][2]
    return eps1 * score_scale / (2 * max(float(level), 1 - float(level)))


def check_threshold(q: Query, decl: PrivacyDeclaration, consenting: int | None, table_rows: int) -> int:
    """The suppression threshold of the query's answer, refusing the query when it is above every
    possible group size (all groups would be suppressed: nothing would be learnt for the epsilon)."""
    threshold = suppression_threshold(q, decl)
    most = decl.contributions * consenting if consenting is not None else table_rows
    if threshold > most:
        raise QueryRefused(
            f"at epsilon {decimal_text(q.epsilon)} a group needs a noisy count of at least {threshold} to be "
            f"shown, more than the {most} rows the consenting subjects can have: every group would be "
            "suppressed. Raise epsilon, or drop group_by and filters."
        )
    return threshold


def _share(q: Query) -> float:
    """The epsilon of each OpenDP output of one group: count, sum and each quantile share it evenly."""
    parts = 1 + (q.statistic in ("sum", "mean")) + len(q.quantiles)
    return float(q.epsilon) / parts


def suppression_threshold(q: Query, decl: PrivacyDeclaration) -> int:
    """k plus the 95% accuracy of a group's noisy count: a group of at most k - 1 rows is shown only if
    its noise exceeds the accuracy, which has probability below 2.5%. From the query alone (public),
    before any data is read. (The noise is an integer, so above floor(accuracy) is above accuracy.)"""
    count_scale = decl.contributions / _share(q)
    return decl.k + math.floor(laplace_accuracy(count_scale))


def run_query(
    query: Query,
    table: DatasetTable,
    consenting: Collection[str] | pl.Series | None,
    *,
    reserved_hash: str | None = None,
    population: object | None = None,
) -> Answer:
    """Answer `query` over the rows of `table` whose subject is in `consenting`, with differential
    privacy at the query's epsilon (plus its representativeness epsilon, if it asks for a report).

    `consenting` is the public consent snapshot (addresses whose consent covers this dataset, purpose
    and grantee at the snapshot block); None only for datasets without consent to check. When
    `reserved_hash` is given (the hash the caller reserved budget under), a different query is refused
    before anything is read. A report needs `population` (representativeness.population_profile)."""
    from .representativeness import PopulationProfile, consented_counts, representativeness

    if reserved_hash is not None and reserved_hash.lower() != query.hash:
        raise QueryAltered(
            f"the query's hash {query.hash} is not the reserved {reserved_hash}: the query was altered; nothing was run"
        )
    decl = table.declaration
    if query.representativeness is not None and not isinstance(population, PopulationProfile):
        raise QueryRefused("a representativeness report needs the dataset's population profile (computed once)")
    if consenting is not None and len(consenting) == 0:
        raise QueryRefused("no subject consents to this use: there are no rows to answer from")
    subjects = consent_series(consenting) if consenting is not None else None
    n_consent = subjects.n_unique() if subjects is not None else None
    threshold = check_threshold(query, decl, n_consent, table.row_count)
    max_length = decl.contributions * n_consent if n_consent is not None else table.row_count

    frame = _semi_join(table.frame, subjects) if subjects is not None else consent_filter(table, None)
    if query.filters:
        frame = frame.filter(pl.all_horizontal([_filter_expr(f) for f in query.filters]))
    col = decl.columns[query.column] if query.column else None
    grouping, encoders = _grouping(query, decl)
    keep = list(grouping.columns)
    if col is not None and query.statistic != "histogram":
        keep.append(col.name)
        frame = frame.filter(pl.col(col.name).is_not_null())  # sums, means, quantiles of known values
    # OpenDP gets only what the query reads; a bare count needs one column to count rows of
    frame = frame.with_columns(encoders).select(keep) if keep else frame.select(pl.col(SUBJECT).is_not_null())

    base = pl.LazyFrame(schema=frame.schema)
    aggs = _aggregates(query, col)
    if grouping.keys is not None:
        plan = grouping.keys.lazy().join(
            base.group_by(grouping.columns).agg(aggs), on=grouping.columns, how="left", nulls_equal=True
        )
    else:
        plan = base.select(aggs)
    [(released, measurement, _)] = release(frame, decl.contributions, float(query.epsilon), [plan], max_length)
    scales = noise_scales(measurement)
    groups, rows_used, notes = _assemble(
        query, col, grouping, released, _noise(query, col, scales, max_length), threshold
    )

    report = None
    if query.representativeness is not None:
        counts = consented_counts(table, consenting, query.representativeness)
        report = representativeness(population, counts).to_json()  # type: ignore[arg-type]
    mechanisms = tuple(
        {"output": name, "aggregate": agg, "distribution": dist, "scale": scale}
        for name, (agg, dist, scale) in scales.items()
    )
    return Answer(
        query_hash=query.hash,
        statistic=query.statistic,
        column=query.column,
        epsilon=query.epsilon,
        cost_micro=query.cost_micro,
        groups=groups,
        rows_used=rows_used,
        threshold=threshold,
        consenting_subjects=n_consent,
        mechanisms=mechanisms,
        representativeness=report,
        notes=notes,
    )


@dataclass(frozen=True)
class _Noise:
    """What OpenDP added to each output of one group, for the intervals."""

    count_scale: float
    sum_scale: float | None
    integer: bool
    rank_errors: tuple[float, ...]  # per quantile level: rows the chosen value may be off by


def _noise(q: Query, col: Column | None, scales: dict, max_length: int) -> _Noise:
    rank_errors: tuple[float, ...] = ()
    if q.quantiles:
        assert col is not None
        n_candidates = len(col.candidates())
        rank_errors = tuple(
            quantile_rank_error(scales[f"q{i}"][2], _score_unit(col, level, max_length), n_candidates)
            for i, level in enumerate(q.quantiles)
        )
    return _Noise(
        count_scale=scales["n"][2],
        sum_scale=scales["s"][2] if "s" in scales else None,
        integer=col is not None and col.type == INTEGER,
        rank_errors=rank_errors,
    )


def _group_answer(q: Query, col: Column | None, key: dict, row: dict, noise: _Noise, threshold: int) -> GroupAnswer:
    n = float(row["n"] if row["n"] is not None else 0)
    if n < threshold:
        return GroupAnswer(key=key, suppressed=True)
    acc = math.floor(laplace_accuracy(noise.count_scale))  # integer noise: |noise| < acc means <= floor(acc)
    out = GroupAnswer(key=key, suppressed=False, count=Estimate(n, max(0.0, n - acc), n + acc))
    if noise.sum_scale is not None:
        assert col is not None and col.lower is not None and col.upper is not None
        s = float(row["s"])
        if q.statistic == "sum":
            half = laplace_accuracy(noise.sum_scale, integer=noise.integer)
            half = math.floor(half) if noise.integer else half
            out = replace(out, sum=Estimate(s, s - half, s + half))
        else:  # mean: sum and count each at alpha/2, so both hold together with 95%
            lower, upper = float(col.lower), float(col.upper)
            low, high = mean_interval(
                s,
                laplace_accuracy(noise.sum_scale, ALPHA / 2, integer=noise.integer),
                n,
                laplace_accuracy(noise.count_scale, ALPHA / 2),
                lower,
                upper,
            )
            out = replace(out, mean=Estimate(min(upper, max(lower, s / n)), low, high))
    quantiles = []
    for i, level in enumerate(q.quantiles):
        spread = noise.rank_errors[i] / n
        lv = float(level)
        quantiles.append(
            QuantileEstimate(level, row[f"q{i}"], max(0.0, lv - spread), min(1.0, lv + spread), noise.rank_errors[i])
        )
    return replace(out, quantiles=tuple(quantiles))


def _assemble(
    q: Query, col: Column | None, grouping: _Grouping, released: pl.DataFrame, noise: _Noise, threshold: int
) -> tuple[tuple[GroupAnswer, ...], Estimate | None, tuple[str, ...]]:
    groups = []
    if grouping.columns:  # in the order of the declared categories (and bins)
        released = released.sort(grouping.columns)
    for row in released.iter_rows(named=True):
        key = {name: grouping.labels[i][row[name]] for i, name in enumerate(grouping.columns)}
        groups.append(_group_answer(q, col, key, row, noise, threshold))
    if grouping.keys is None:
        return tuple(groups), groups[0].count, ()
    # the rows used: the sum of every group's noisy count (suppressed ones too: all are private)
    total = float(sum(r if r is not None else 0 for r in released.get_column("n")))
    acc = math.floor(sum_of_counts_accuracy(noise.count_scale, len(groups)))
    rows_used = Estimate(total, max(0.0, total - acc), total + acc) if total >= threshold else None
    hidden = sum(g.suppressed for g in groups)
    notes = (f"{hidden} of {len(groups)} groups suppressed (noisy count below {threshold})",) if hidden else ()
    return tuple(groups), rows_used, notes
