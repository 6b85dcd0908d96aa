"""The DP mechanism's calibration, checked statistically on the engine's own answers.

OpenDP draws its noise from the operating system's secure generator and takes no seed, so every
check below has a tolerance; each one's false-failure probability is stated, and the test data (not
the noise) is seeded. One run of this file fails with probability below 2e-8 when the engine is right:

- mean absolute noise within 6 standard errors of its exact value for the declared scale
  (two-sided normal tail: 2e-9 per check, CLT over 4,000 independent draws);
- the noise's distribution against the declared one: chi-square (counts) or Kolmogorov-Smirnov
  (sums) goodness of fit, failing only below p = 1e-9 (1e-9 per check by construction);
- interval coverage against its nominal level, 6 standard errors below it (1e-9 per check);
- a suppressed group where none is expected (100 rows per group): below 1e-9 in all (the quantile
  answers' count has noise scale 3 and a threshold of 11: a noise of -89 has probability 1e-13).

A scale 10% off, or Gaussian instead of Laplace noise, fails them (the first and second checks have
about 6 and 40 standard errors of room against such errors at these sample sizes)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from scipy import stats

from cityledger.privacy import parse_declaration, parse_query, run_query, table_from_rows
from cityledger.privacy.accuracy import quantile_rank_error
from cityledger.privacy.engine import _score_unit

from .helpers import address, declaration

CELLS = 1000
PER_CELL = 100
RUNS = 4  # 4,000 draws per check
Z = 6.0  # standard errors of tolerance
P_MIN = 1e-9


@pytest.fixture(scope="module")
def grid():
    """CELLS cells of PER_CELL subjects each; x uniform in [0, 10], y integer in [0, 100] (seeded)."""
    decl = parse_declaration(
        declaration(
            [
                {"cl:name": "cell", "cl:type": "categorical", "cl:categories": [f"c{i}" for i in range(CELLS)]},
                {"cl:name": "x", "cl:type": "numeric", "cl:lower": 0, "cl:upper": 10},
                {"cl:name": "y", "cl:type": "integer", "cl:lower": 0, "cl:upper": 100},
            ],
            **{"cl:k": 2},
        )
    )
    rng = np.random.default_rng(20250601)
    n = CELLS * PER_CELL
    rows = [
        [address(i), f"c{i // PER_CELL}", f"{x:.3f}", str(y)]
        for i, (x, y) in enumerate(zip(rng.uniform(0, 10, n), rng.integers(0, 101, n), strict=True))
    ]
    table = table_from_rows(["subject", "cell", "x", "y"], rows, decl)
    exact = (
        table.frame.with_columns(pl.col("x").round(3))
        .group_by("cell")
        .agg(pl.len().alias("n"), pl.col("x").sum().alias("sx"), pl.col("x").mean().alias("mx"), pl.col("y"))
    )
    return decl, table, [r[0] for r in rows], {r["cell"]: r for r in exact.iter_rows(named=True)}


def answers(grid, query: dict):
    decl, table, subjects, _ = grid
    q = parse_query(query, decl)
    out = []
    for _ in range(RUNS):
        answer = run_query(q, table, subjects)
        assert answer.suppressed_groups == 0
        out.append(answer)
    return out


def discrete_laplace(scale: float):
    """P(X = x) = (1 - p) / (1 + p) p^|x|, p = exp(-1/scale): pmf, E|X| and sd|X|."""
    p = math.exp(-1 / scale)
    mean_abs = 2 * p / ((1 - p) * (1 + p))
    second = 2 * p / (1 - p) ** 2
    return (lambda x: (1 - p) / (1 + p) * p ** np.abs(x)), mean_abs, math.sqrt(second - mean_abs**2)


def test_count_noise_has_the_declared_scale_and_shape(grid):
    exact = grid[3]
    runs = answers(grid, {"statistic": "histogram", "column": "cell", "epsilon": "0.5"})
    (mechanism,) = runs[0].mechanisms
    assert mechanism["distribution"] == "Integer Laplace" and mechanism["scale"] == pytest.approx(2.0, rel=1e-9)
    noise = np.array([g.count.value - exact[g.key["cell"]]["n"] for a in runs for g in a.groups])
    assert len(noise) == RUNS * CELLS
    pmf, mean_abs, sd_abs = discrete_laplace(2.0)
    assert abs(np.abs(noise).mean() - mean_abs) <= Z * sd_abs / math.sqrt(len(noise))
    # shape: chi-square over -8..8 and the two tails
    edges = np.arange(-8, 9)
    observed = [np.sum(noise < -8), *[np.sum(noise == e) for e in edges], np.sum(noise > 8)]
    inner = pmf(edges)
    tail = (1 - inner.sum()) / 2
    expected = np.array([tail, *inner, tail]) * len(noise)
    assert stats.chisquare(observed, expected).pvalue > P_MIN
    # the 95% interval: holds the exact count as often as the integer noise allows (>= 95%)
    covered = np.mean([g.count.low <= exact[g.key["cell"]]["n"] <= g.count.high for a in runs for g in a.groups])
    p = math.exp(-1 / 2.0)
    half = math.floor(runs[0].groups[0].count.high - runs[0].groups[0].count.value)
    nominal = 1 - 2 * p ** (half + 1) / (1 + p)  # P(|X| <= half)
    assert nominal >= 0.95
    assert abs(covered - nominal) <= Z * math.sqrt(nominal * (1 - nominal) / len(noise))


def test_sum_noise_has_the_declared_scale_and_shape(grid):
    exact = grid[3]
    runs = answers(grid, {"statistic": "sum", "column": "x", "epsilon": "1", "group_by": ["cell"]})
    scales = {m["output"]: m for m in runs[0].mechanisms}
    # epsilon 1 split over count and sum; sum sensitivity 10 (bounds [0, 10]): scale 10 / 0.5 = 20, plus
    # OpenDP's allowance for float rounding over up to 100,000 rows (max_length)
    b = scales["s"]["scale"]
    assert scales["s"]["distribution"] == "Float Laplace" and 20 <= b <= 20 * 1.01
    noise = np.array([g.sum.value - exact[g.key["cell"]]["sx"] for a in runs for g in a.groups])
    # |Laplace(b)| is exponential: mean b, sd b
    assert abs(np.abs(noise).mean() - b) <= Z * b / math.sqrt(len(noise))
    assert stats.kstest(noise, stats.laplace(scale=b).cdf).pvalue > P_MIN
    covered = np.mean([g.sum.low <= exact[g.key["cell"]]["sx"] <= g.sum.high for a in runs for g in a.groups])
    assert abs(covered - 0.95) <= Z * math.sqrt(0.95 * 0.05 / len(noise))


def test_mean_intervals_cover_at_least_95_percent(grid):
    exact = grid[3]
    runs = answers(grid, {"statistic": "mean", "column": "x", "epsilon": "1", "group_by": ["cell"]})
    hits = [g.mean.low <= exact[g.key["cell"]]["mx"] <= g.mean.high for a in runs for g in a.groups]
    # a union bound: coverage at least 95% (in fact higher); one-sided check
    assert np.mean(hits) >= 0.95 - Z * math.sqrt(0.95 * 0.05 / len(hits))
    assert all(0 <= g.mean.value <= 10 for a in runs for g in a.groups)
    # and the intervals are informative (the declared range [0, 10] would cover trivially)
    assert np.mean([g.mean.high - g.mean.low for a in runs for g in a.groups]) < 3


def test_quantile_rank_error_bound_holds(grid):
    """The chosen candidate's score is within the stated rank error of the best candidate's, at least
    95% of the time (the exponential mechanism's utility bound)."""
    exact = grid[3]
    levels = ["0.25", "0.5"]
    runs = answers(
        grid, {"statistic": "quantiles", "column": "y", "epsilon": "1", "quantiles": levels, "group_by": ["cell"]}
    )
    candidates = np.arange(0, 101)
    hits = []
    for a in runs:
        for g in a.groups:
            ys = np.array(exact[g.key["cell"]]["y"])
            lt = (ys[None, :] < candidates[:, None]).sum(axis=1)
            gt = (ys[None, :] > candidates[:, None]).sum(axis=1)
            for est in g.quantiles:
                q = float(est.level)
                score = np.abs((1 - q) * lt - q * gt)
                chosen = score[int(est.value)]
                hits.append(chosen - score.min() <= est.rank_error_rows + 1e-9)
    assert np.mean(hits) >= 0.95 - Z * math.sqrt(0.95 * 0.05 / len(hits))
    # the bound is informative: a choice at random among the candidates would break it most of the time
    assert all(est.rank_error_rows < 30 for g in runs[0].groups for est in g.quantiles)


def test_rank_error_matches_the_closed_form():
    """For the median, OpenDP's score counts rows once each (unit 2 per row difference of below/above):
    the bound is ln(|C| / alpha) * 2 max(q, 1-q) / epsilon."""
    decl = parse_declaration(declaration([{"cl:name": "y", "cl:type": "integer", "cl:lower": 0, "cl:upper": 100}]))
    col = decl.columns["y"]
    for level in ("0.5", "0.25", "0.9"):
        unit = _score_unit(col, Decimal(level), 1000)
        eps = 0.7  # at a given epsilon, OpenDP's Gumbel scale is 2 * sensitivity / epsilon
        q = float(level)
        sensitivity = unit * max(q, 1 - q)
        bound = quantile_rank_error(2 * sensitivity / eps, unit, 101)
        assert bound == pytest.approx(math.log(101 / 0.05) * 2 * max(q, 1 - q) / eps, rel=1e-6)
