"""Estimators behind every verdict. Inputs are arrays of shape (seeds, grid); seeds are independent replicates.

- ``log_contrasts``: linear contrasts of log(mean over seeds / divisor) across the grid (a slope, the
  difference of two local slopes, the coefficients of a model with a log log term), each with a t-interval
  from the seeds' influence on it (the delta method). A seed's values at several grid points enter together,
  so the dependence between grid points of one seed (anytime runs measure one trajectory at several horizons)
  is kept. Its coverage is measured in tests/test_stats.py at ``MIN_SEEDS`` and more seeds.
- ``slope_weights``, ``log_model_weights``: the contrasts the rate test uses.
- ``mean_tests``: one-sided Student-t tests of the mean against a bound at every grid point.
- ``holm``: Holm's step-down correction, across a grid or across the claims of a run.
- ``seeds_to_decide``, ``detectable``, ``p_above``: power and advice, from the same t-interval.
- ``relative_error`` and ``exact_tolerance``: for claims of equality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

# The fewest seeds at which the intervals' coverage was measured (tests/test_stats.py): below it no PASS.
MIN_SEEDS = 8
POWER = 0.8  # the chance of a FAIL at which a minimal detectable effect is quoted


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval; each end is a one-sided bound at ``level``.

    ``se`` is the standard error behind the interval and ``seeds`` the count it came from (the t quantile's
    degrees of freedom are ``seeds - 1``); an interval whose ends are infinite has no usable ``se`` (inf).
    """

    estimate: float
    low: float
    high: float
    level: float
    se: float = math.inf
    seeds: int = 0


def ols_slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``y`` on ``x`` along the last axis (``y`` may carry leading batch axes)."""
    return y @ slope_weights(np.asarray(x, dtype=float))


def slope_weights(u: np.ndarray) -> np.ndarray:
    """Weights w with sum(w * y) the least-squares slope of y on u."""
    centred = u - u.mean()
    return centred / (centred**2).sum()


def log_model_weights(u: np.ndarray) -> np.ndarray | None:
    """Rows giving the coefficients (a, b) of the least-squares fit y = c + a u + b log(u), or None when the
    model does not apply (fewer than 4 points, or some u <= 0 where log u does not exist)."""
    if len(u) < 4 or np.any(u <= 0):
        return None
    design = np.stack([np.ones_like(u), u, np.log(u)], axis=1)
    return np.linalg.pinv(design)[1:]


def log_contrasts(values: np.ndarray, divisor: np.ndarray, weights: np.ndarray, level: float) -> list[Interval]:
    """Each row w of ``weights`` (shape (K, G)) gives sum_j w_j log(mean_j / divisor_j), with a t-interval.

    The interval is the delta method's: a seed moves the estimate by psi_s = sum_j w_j (v_sj - m_j) / m_j
    (over the seed count), so its standard error is sd(psi) / sqrt(S) and the ends are the estimate -/+
    t_{S-1}(level) x se. Where some mean used is not positive the estimate is NaN and the interval unbounded;
    where a metric takes values <= 0 and its mean is within its own t-bound of 0, the log of the mean may not
    exist over the plausible means, and the interval is unbounded too, never falsely narrow.
    """
    estimate, low, high, se = batched_log_contrasts(values[None], divisor, weights, level)
    return [Interval(float(e), float(lo), float(hi), level, float(s), values.shape[0])
            for e, lo, hi, s in zip(estimate[0], low[0], high[0], se[0])]


def batched_log_contrasts(values: np.ndarray, divisor: np.ndarray, weights: np.ndarray,
                          level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``log_contrasts`` of independent experiments at once: ``values`` has shape (B, S, G); returns the
    estimates, lower ends, upper ends and standard errors, each of shape (B, K)."""
    seeds = values.shape[1]
    weights = np.atleast_2d(weights)
    used = np.any(weights != 0, axis=0)
    values, weights = values[..., used], weights[:, used]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = values.mean(axis=1)  # (B, G)
        ratio = mean / divisor[used]
        defined = np.all((ratio > 0) & np.isfinite(ratio), axis=1)  # (B,)
        estimate = np.where(defined[:, None], np.log(np.where(defined[:, None], ratio, 1.0)) @ weights.T, np.nan)
        if seeds < 2:
            se = np.full_like(estimate, np.inf)
        else:
            quantile = float(scipy_stats.t.ppf(level, df=seeds - 1))
            # A metric that takes values <= 0 may have a mean of either sign: its log is trusted only
            # where the mean is credibly positive. A positive metric's mean is surely positive.
            positive = np.all((mean - quantile * values.std(axis=1, ddof=1) / math.sqrt(seeds) > 0)
                              | np.all(values > 0, axis=1), axis=1)
            influence = np.einsum("bsg,kg->bsk", (values - mean[:, None]) / mean[:, None], weights)
            se = np.where((defined & positive)[:, None], influence.std(axis=1, ddof=1) / math.sqrt(seeds), np.inf)
        half = np.where(np.isfinite(se), (scipy_stats.t.ppf(level, df=max(seeds - 1, 1))) * se, np.inf)
    undefined = np.isnan(estimate)
    return estimate, np.where(undefined, -np.inf, estimate - half), np.where(undefined, np.inf, estimate + half), se


@dataclass(frozen=True)
class MeanTests:
    """Per grid point: mean, its one-sided confidence bounds, the standard error, and p-values for 'above' and
    'below' the bound."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    p_above: np.ndarray  # small when the mean is credibly above the bound
    p_below: np.ndarray  # small when the mean is credibly below the bound
    se: np.ndarray


def mean_tests(values: np.ndarray, bound: np.ndarray, level: float) -> MeanTests:
    """One-sided t-tests of the mean at each grid point against ``bound`` (same length as the grid)."""
    seeds = values.shape[0]
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(seeds) if seeds > 1 else np.full_like(mean, np.inf)
    quantile = scipy_stats.t.ppf(level, df=max(seeds - 1, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        # with no spread, a mean on the bound is evidence for neither side (z = 0), not NaN
        exact = np.where(mean == bound, 0.0, np.sign(mean - bound) * np.inf)
        z = np.where(se > 0, (mean - bound) / se, exact)
    p_above = scipy_stats.t.sf(z, df=max(seeds - 1, 1))
    p_below = scipy_stats.t.cdf(z, df=max(seeds - 1, 1))
    return MeanTests(mean, mean - quantile * se, mean + quantile * se, p_above, p_below, se)


def holm(p_values: np.ndarray, alpha: float) -> np.ndarray:
    """Which hypotheses Holm's step-down procedure rejects at family-wise error ``alpha``."""
    order = np.argsort(p_values)
    m = len(p_values)
    rejected = np.zeros(m, dtype=bool)
    for rank, index in enumerate(order):
        if not p_values[index] <= alpha / (m - rank):  # a NaN p-value is never a rejection
            break
        rejected[index] = True
    return rejected


def p_above(interval: Interval, threshold: float) -> float:
    """One-sided p-value of 'the estimated quantity is at most ``threshold``' from the t-interval (small when
    the estimate is credibly above it); 1 when the interval is unbounded."""
    if not math.isfinite(interval.se) or interval.seeds < 2:
        return 1.0
    if interval.se == 0:
        return 0.0 if interval.estimate > threshold else 1.0
    return float(scipy_stats.t.sf((interval.estimate - threshold) / interval.se, df=interval.seeds - 1))


def detectable(se: float, seeds: int, level: float, power: float = POWER) -> float:
    """How far past its decision threshold a quantity with standard error ``se`` (from ``seeds`` seeds) must
    lie to be called past it with probability ``power`` by a one-sided t-test at ``level``."""
    if seeds < 2 or not math.isfinite(se):
        return math.inf
    return float((scipy_stats.t.ppf(level, seeds - 1) + scipy_stats.t.ppf(power, seeds - 1)) * se)


def seeds_to_decide(seeds: int, se: float, distance: float, level: float) -> int | None:
    """About how many seeds would put a t-interval of standard error ``se`` (at ``seeds`` seeds) wholly on one
    side of a threshold ``distance`` away from the estimate: the smallest n with t_{n-1}(level) se
    sqrt(seeds / n) < distance, assuming the estimate stays put and the spread per seed does too. None when
    the estimate is on the threshold or the interval is unbounded."""
    distance = abs(distance)
    if distance == 0 or seeds < 2 or not math.isfinite(se) or se == 0:
        return None
    spread = se * math.sqrt(seeds)
    n = seeds
    for _ in range(50):  # n = (t_{n-1} spread / distance)^2 is a contraction: a few rounds settle it
        wanted = max(seeds + 1, math.ceil((scipy_stats.t.ppf(level, n - 1) * spread / distance) ** 2))
        if wanted == n:
            break
        n = wanted
    return n


@dataclass(frozen=True)
class EnvelopePower:
    """Power and advice for an explicit bound tested point by point (``mean_tests``).

    ``p_value``: Holm's adjusted p-value of the smallest grid p-value for "over the bound" (below it for a
    lower bound); ``factor``: the factor over the bound (under it, for a lower bound) that would be FAILed with
    probability ``POWER`` at the most sensitive grid point; ``seeds_needed``: about how many seeds would put
    every point on one side of its bound (None when some point sits exactly on it or has no spread).
    """

    p_value: float
    factor: float | None
    seeds_needed: int | None


def envelope_power(tests: MeanTests, bound: np.ndarray, level: float, upper: bool, seeds: int) -> EnvelopePower:
    """``EnvelopePower`` of one envelope test: the FAIL side is Holm over the G grid points, so its per-point
    level is 1 - alpha / G at the first step."""
    outside = tests.p_above if upper else tests.p_below
    p_value = float(min(1.0, len(bound) * np.nanmin(outside))) if np.any(np.isfinite(outside)) else 1.0
    alpha = 1 - level
    shift = detectable(1.0, seeds, 1 - alpha / len(bound))  # in standard errors
    relative = tests.se / np.abs(bound)
    factor = None
    if math.isfinite(shift) and np.all(np.isfinite(relative)):
        factor = float(1 + shift * relative.min()) if upper else float(max(0.0, 1 - shift * relative.min()))
    needed = [seeds_to_decide(seeds, float(se), float(m - b), level)
              for m, b, se, p in zip(tests.mean, bound, tests.se, tests.p_below if upper else tests.p_above)
              if p > alpha]
    return EnvelopePower(p_value, factor, None if None in needed or not needed else max(needed))  # type: ignore


def precision_floor(dtype: str, scale: float) -> float:
    """Values below this are rounding noise: 1e3 x machine epsilon x the metric's scale."""
    return 1e3 * float(np.finfo(dtype).eps) * scale


def exact_tolerance(dtype: str) -> float:
    """Default relative tolerance for claims of equality."""
    return {"float64": 1e-10, "float32": 1e-5}[dtype]


def relative_error(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """|values - reference| / |reference| elementwise, with an absolute floor at the smallest normal float."""
    return np.abs(values - reference) / np.maximum(np.abs(reference), np.finfo(float).tiny)


ROUNDING_ULPS = 16


def rounding_allowance(dtype: str, scale: np.ndarray | float) -> np.ndarray | float:
    """How far a value may sit from a bound of size ``scale`` by rounding alone: ``ROUNDING_ULPS`` units in the
    last place of the dtype (float64: 3.6e-15 relative), so a metric equal to its bound is never "above" it."""
    return ROUNDING_ULPS * float(np.finfo(dtype).eps) * scale
