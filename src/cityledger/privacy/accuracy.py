"""95% intervals for the noisy answers, from OpenDP's accuracy utilities where one fits.

- a count or a sum: OpenDP's `discrete_laplacian_scale_to_accuracy` / `laplacian_scale_to_accuracy`
  (the noisy value is within `accuracy` of the exact one with probability 1 - alpha);
- a mean (noisy sum / noisy count): both at alpha/2 (union bound), the ratio's range over that box;
- a sum of several noisy counts (the rows used by a grouped answer): a Chernoff bound for the sum of
  independent discrete Laplace variables, or the union bound when that is tighter;
- a quantile (OpenDP's exponential mechanism over candidates): a bound on the rank error, in rows.
"""

from __future__ import annotations

import math

import numpy as np
import opendp.prelude as dp

ALPHA = 0.05  # 95% intervals


def laplace_accuracy(scale: float, alpha: float = ALPHA, *, integer: bool = True) -> float:
    """Half-width of the (1 - alpha) interval of one Laplace-noised value (OpenDP's formula)."""
    if scale == 0:
        return 0.0
    if integer:
        return float(dp.discrete_laplacian_scale_to_accuracy(scale=float(scale), alpha=float(alpha)))
    return float(dp.laplacian_scale_to_accuracy(scale=float(scale), alpha=float(alpha)))


def sum_of_counts_accuracy(scale: float, terms: int, alpha: float = ALPHA) -> float:
    """Half-width of a (1 - alpha) interval for the sum of `terms` counts, each with independent
    discrete Laplace noise of `scale` (P(x) proportional to exp(-|x| / scale)).

    Chernoff: P(|S| >= t) <= 2 exp(-l t) M(l)^terms for 0 < l < 1/scale, with the discrete Laplace
    moment generating function M(l) = (1-p)^2 / ((1 - p e^l)(1 - p e^-l)), p = exp(-1/scale); every l
    gives a valid bound, so the smallest over a grid is one. Against it, the union bound
    terms * accuracy(alpha / terms); the tighter of the two is returned."""
    if terms <= 1:
        return laplace_accuracy(scale, alpha)
    union = terms * laplace_accuracy(scale, alpha / terms)
    p = math.exp(-1.0 / scale)
    lam = np.linspace(1e-4, 1 - 1e-4, 400) / scale
    log_mgf = 2 * math.log1p(-p) - np.log1p(-p * np.exp(lam)) - np.log1p(-p * np.exp(-lam))
    chernoff = float(np.min((terms * log_mgf + math.log(2 / alpha)) / lam))
    return min(union, chernoff)


def mean_interval(
    noisy_sum: float,
    sum_accuracy: float,
    noisy_count: float,
    count_accuracy: float,
    lower: float,
    upper: float,
) -> tuple[float, float]:
    """The range of sum / count when each lies within its accuracy (both at alpha/2, so the pair is
    covered with probability 1 - alpha), kept within the declared bounds (a mean always is)."""
    n_low = noisy_count - count_accuracy
    if n_low < 1:  # the count could be (close to) zero: the data cannot narrow the mean
        return lower, upper
    n_high = noisy_count + count_accuracy
    corners = [s / n for s in (noisy_sum - sum_accuracy, noisy_sum + sum_accuracy) for n in (n_low, n_high)]
    return max(lower, min(corners)), min(upper, max(corners))


def quantile_rank_error(score_scale: float, score_unit: float, candidates: int, alpha: float = ALPHA) -> float:
    """Rows by which a DP quantile may miss the exact rank, with probability 1 - alpha.

    OpenDP scores candidate c by |(1 - q) #below(c) - q #above(c)| in integer units (`score_unit` of
    them make one row) and picks the smallest score after Gumbel noise of `score_scale`: as for every
    exponential mechanism, P(score(chosen) > best + score_scale (ln |C| + t)) <= exp(-t). So the chosen
    value's rank is within best + score_scale ln(|C| / alpha) / score_unit rows of q * n, `best` being
    the distance of the nearest candidate (the grid's own coarseness)."""
    return score_scale * math.log(candidates / alpha) / score_unit
