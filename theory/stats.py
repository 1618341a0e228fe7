"""Estimators behind every verdict. Inputs are arrays of shape (seeds, grid); seeds are independent replicates.

- ``bootstrap_slope``: slope of log(mean over seeds / divisor) on log x (power rates) or on x (linear rates),
  with a percentile bootstrap over seeds. Resampling whole seeds keeps the dependence between grid points of
  one seed (anytime runs measure one trajectory at several horizons).
- ``mean_tests``: one-sided Student-t tests of the mean against a bound at every grid point.
- ``holm``: Holm's step-down correction, for "the bound is broken somewhere on the grid".
- ``relative_error`` and ``exact_tolerance``: for claims of equality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval; each end is a one-sided bound at ``level``."""

    estimate: float
    low: float
    high: float
    level: float


def ols_slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``y`` on ``x`` along the last axis (``y`` may carry leading batch axes)."""
    xc = x - x.mean()
    return ((y - y.mean(axis=-1, keepdims=True)) * xc).sum(axis=-1) / (xc**2).sum()


def bootstrap_slope(values: np.ndarray, x: np.ndarray, divisor: np.ndarray, *, log_x: bool, level: float,
                    rng: np.random.Generator, resamples: int = BOOTSTRAP_RESAMPLES) -> Interval:
    """Slope of log(mean(values) / divisor) against log(x) (or x), with a bootstrap-over-seeds interval.

    A ratio that is not positive and finite has no logarithm: such a bootstrap replicate counts as an extreme
    on both sides (-inf for the lower end, +inf for the upper), so an interval that contains such replicates
    comes out wide, never falsely narrow; a point estimate from such a ratio is NaN.
    """
    seeds = values.shape[0]
    abscissa = np.log(x) if log_x else np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values.mean(axis=0) / divisor
        picks = rng.integers(0, seeds, size=(resamples, seeds))
        ratios = values[picks].mean(axis=1) / divisor
    defined = (ratios > 0) & np.isfinite(ratios)
    estimate = ols_slope(abscissa, np.log(ratio)) if np.all((ratio > 0) & np.isfinite(ratio)) else math.nan
    undefined = ~np.all(defined, axis=1)
    slopes = ols_slope(abscissa, np.log(np.where(defined, ratios, 1.0)))
    with np.errstate(invalid="ignore"):  # interpolating next to an infinite end gives NaN: it is that end
        low = np.quantile(np.where(undefined, -np.inf, slopes), 1 - level)
        high = np.quantile(np.where(undefined, np.inf, slopes), level)
    return Interval(float(estimate), -math.inf if np.isnan(low) else float(low),
                    math.inf if np.isnan(high) else float(high), level)


@dataclass(frozen=True)
class MeanTests:
    """Per grid point: mean, its one-sided confidence bounds, and p-values for 'above' and 'below' the bound."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    p_above: np.ndarray  # small when the mean is credibly above the bound
    p_below: np.ndarray  # small when the mean is credibly below the bound


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
    return MeanTests(mean, mean - quantile * se, mean + quantile * se, p_above, p_below)


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


def precision_floor(dtype: str, scale: float) -> float:
    """Values below this are rounding noise: 1e3 x machine epsilon x the metric's scale."""
    return 1e3 * float(np.finfo(dtype).eps) * scale


def exact_tolerance(dtype: str) -> float:
    """Default relative tolerance for claims of equality."""
    return {"float64": 1e-10, "float32": 1e-5}[dtype]


def relative_error(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """|values - reference| / |reference| elementwise, with an absolute floor at the smallest normal float."""
    return np.abs(values - reference) / np.maximum(np.abs(reference), np.finfo(float).tiny)


def seeds_to_decide(seeds: int, interval: Interval, threshold: float) -> int | None:
    """Roughly how many seeds would shrink the interval enough to fall on one side of ``threshold``.

    Interval widths shrink like one over the square root of the seed count.
    """
    half_width = (interval.high - interval.low) / 2
    distance = abs(interval.estimate - threshold)
    if distance == 0 or half_width == 0 or not np.isfinite(half_width / distance):
        return None
    return int(np.ceil(seeds * (half_width / distance) ** 2))


ROUNDING_ULPS = 16


def rounding_allowance(dtype: str, scale: np.ndarray | float) -> np.ndarray | float:
    """How far a value may sit from a bound of size ``scale`` by rounding alone: ``ROUNDING_ULPS`` units in the
    last place of the dtype (float64: 3.6e-15 relative), so a metric equal to its bound is never "above" it."""
    return ROUNDING_ULPS * float(np.finfo(dtype).eps) * scale
