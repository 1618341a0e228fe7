"""Estimators on inputs with known answers, including how often their intervals miss.

Every random input comes from ``np.random.default_rng(k)`` with a fixed k, so these tests are deterministic.
Where a test counts misses over many trials, its threshold is a binomial quantile at the nominal error rate:
under a correct estimator the test itself fails with the small probability stated next to it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from theory import stats
from theory.stats import Interval

X = np.geomspace(100.0, 10_000.0, 6)  # two decades, six points: the shape of a typical grid


def binomial_band(trials: int, rate: float, false_alarm: float) -> tuple[int, int]:
    """Counts outside which a Binomial(trials, rate) lands with probability at most ``false_alarm``."""
    return (int(scipy_stats.binom.ppf(false_alarm / 2, trials, rate)),
            int(scipy_stats.binom.isf(false_alarm / 2, trials, rate)))


# --- exact inputs -------------------------------------------------------------------------------------------


def test_ols_slope_of_a_line_with_batch_axes():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    y = np.stack([3 * x + 2, -0.5 * x, np.full_like(x, 9.0)])
    np.testing.assert_allclose(stats.ols_slope(x, y), [3.0, -0.5, 0.0], atol=1e-14)


@pytest.mark.parametrize("exponent", [-2.0, 0.5, 1.0, 2.0 / 3.0])
def test_exact_power_law_slope_and_degenerate_interval(exponent):
    values = np.tile(7.0 * X**exponent, (16, 1))
    interval = stats.bootstrap_slope(values, X, np.ones_like(X), log_x=True, level=0.99,
                                     rng=np.random.default_rng(0))
    assert interval.estimate == pytest.approx(exponent, abs=1e-10)
    assert interval.low == pytest.approx(exponent, abs=1e-10)
    assert interval.high == pytest.approx(exponent, abs=1e-10)
    assert interval.level == 0.99


def test_divisor_is_divided_out_before_the_fit():
    values = np.tile(3.0 * X**0.5 * np.log(X), (8, 1))
    interval = stats.bootstrap_slope(values, X, np.sqrt(X) * np.log(X), log_x=True, level=0.9,
                                     rng=np.random.default_rng(1))
    assert interval.estimate == pytest.approx(0.0, abs=1e-10)
    assert interval.high - interval.low == pytest.approx(0.0, abs=1e-10)


def test_bootstrap_resamples_whole_seeds():
    # Each seed's curve is x**0.7 times a seed-level factor: the mean over any resample of seeds is still an
    # exact power law. A bootstrap that resampled grid points independently would produce a wide interval.
    factors = np.random.default_rng(2).lognormal(0.0, 1.0, size=(40, 1))
    interval = stats.bootstrap_slope(factors * X**0.7, X, np.ones_like(X), log_x=True, level=0.99,
                                     rng=np.random.default_rng(3))
    assert interval.low == pytest.approx(0.7, abs=1e-10)
    assert interval.high == pytest.approx(0.7, abs=1e-10)


@pytest.mark.parametrize("factor", [0.5, 0.9, 0.999])
def test_geometric_sequence_contraction_factor(factor):
    t = np.arange(5.0, 45.0, 5.0)
    values = np.tile(2.0 * factor**t, (12, 1))
    interval = stats.bootstrap_slope(values, t, np.ones_like(t), log_x=False, level=0.99,
                                     rng=np.random.default_rng(4))
    assert math.exp(interval.estimate) == pytest.approx(factor, rel=1e-10)
    assert interval.high - interval.low == pytest.approx(0.0, abs=1e-10)


def test_nonpositive_mean_gives_no_estimate_and_an_unbounded_interval():
    # log(mean) does not exist: the slope is undefined, and the interval must not pretend otherwise
    # (flooring the mean at a tiny value would give a confident, absurd slope of about -20).
    values = np.tile(X**0.5, (20, 1))
    values[:, 3] = np.random.default_rng(5).normal(0.0, 1.0, size=20) - 0.5  # mean about -0.5 at one point
    interval = stats.bootstrap_slope(values, X, np.ones_like(X), log_x=True, level=0.99,
                                     rng=np.random.default_rng(6))
    assert math.isnan(interval.estimate)
    assert (interval.low, interval.high) == (-math.inf, math.inf)


def test_zero_divisor_gives_no_estimate_and_an_unbounded_interval():
    divisor = np.ones_like(X)
    divisor[2] = 0.0
    interval = stats.bootstrap_slope(np.tile(X, (5, 1)), X, divisor, log_x=True, level=0.9,
                                     rng=np.random.default_rng(16))
    assert math.isnan(interval.estimate)
    assert (interval.low, interval.high) == (-math.inf, math.inf)


def test_interval_is_unbounded_when_many_replicates_have_no_logarithm():
    # The mean is positive (a finite estimate), but about a third of the bootstrap means at one grid point are
    # not: more than 1 - level of the replicates are undefined, so neither end of the interval exists.
    values = np.tile(X**0.5, (20, 1))
    noise = np.random.default_rng(14).normal(0.0, 1.0, size=20)
    values[:, 3] = (noise - noise.mean()) + 0.1
    interval = stats.bootstrap_slope(values, X, np.ones_like(X), log_x=True, level=0.9,
                                     rng=np.random.default_rng(15))
    assert np.isfinite(interval.estimate)
    assert (interval.low, interval.high) == (-math.inf, math.inf)


# --- noisy inputs: coverage at the nominal rate -------------------------------------------------------------


@pytest.mark.parametrize("log_x, truth, abscissa, seed", [
    (True, 0.5, X, 7),                                  # power law x**0.5
    (False, math.log(0.8), np.arange(5.0, 35.0, 5.0), 17),  # geometric 0.8**t, with independent noise
], ids=["power-law", "geometric"])
def test_bootstrap_interval_covers_the_true_slope_at_its_nominal_rate(log_x, truth, abscissa, seed):
    """Each end of the interval is a one-sided bound at ``level``: it misses the truth with rate 1 - level.

    Noise is multiplicative Gamma(4, 1/4), independent across seeds and grid points, so E[metric] =
    curve(x) exactly and the slope of log E[metric] is known. 300 trials at level 0.9: each side misses
    Binomial(300, 0.1) times under a correct interval; the band below holds that count with probability
    0.999 per side. The percentile bootstrap is approximate with 24 seeds (typically a slight under-coverage),
    so a failure here is a finding about the statistics, not a reason to widen the band.
    """
    trials, seeds, level = 300, 24, 0.9
    rng = np.random.default_rng(seed)
    curve = abscissa**truth if log_x else np.exp(truth * abscissa)
    values = curve * rng.gamma(4.0, 0.25, size=(trials, seeds, len(abscissa)))
    low_misses = high_misses = 0
    for trial in range(trials):
        interval = stats.bootstrap_slope(values[trial], abscissa, np.ones_like(abscissa), log_x=log_x,
                                         level=level, rng=np.random.default_rng(1000 + trial))
        low_misses += interval.low > truth
        high_misses += interval.high < truth
    band = binomial_band(trials, 1 - level, false_alarm=0.002)
    assert band[0] <= low_misses <= band[1], (low_misses, band)
    assert band[0] <= high_misses <= band[1], (high_misses, band)


def test_interval_width_shrinks_like_one_over_root_seeds():
    """The law seeds_to_decide relies on: four times the seeds, half the width (up to resampling noise)."""
    rng = np.random.default_rng(8)
    widths = []
    for seeds in (64, 256):
        values = X**0.5 * rng.gamma(4.0, 0.25, size=(seeds, len(X)))
        interval = stats.bootstrap_slope(values, X, np.ones_like(X), log_x=True, level=0.95,
                                         rng=np.random.default_rng(9))
        widths.append(interval.high - interval.low)
    assert 0.35 < widths[1] / widths[0] < 0.7


# --- mean tests ---------------------------------------------------------------------------------------------


def test_mean_tests_match_scipy_one_sample_t_tests():
    rng = np.random.default_rng(10)
    values = rng.normal(1.0, 2.0, size=(15, 4))
    bound = np.array([0.0, 1.0, 1.5, 3.0])
    result = stats.mean_tests(values, bound, level=0.95)
    for j in range(4):
        greater = scipy_stats.ttest_1samp(values[:, j], bound[j], alternative="greater")
        less = scipy_stats.ttest_1samp(values[:, j], bound[j], alternative="less")
        assert result.p_above[j] == pytest.approx(greater.pvalue, rel=1e-10)
        assert result.p_below[j] == pytest.approx(less.pvalue, rel=1e-10)
        assert result.lower[j] == pytest.approx(greater.confidence_interval(0.95).low, rel=1e-10)
        assert result.upper[j] == pytest.approx(less.confidence_interval(0.95).high, rel=1e-10)
    np.testing.assert_allclose(result.mean, values.mean(axis=0))


def test_mean_bounds_cover_at_their_nominal_rate():
    """Columns are independent experiments: 4000 of them, 10 normal seeds each, level 0.9.

    Each one-sided bound misses the true mean Binomial(4000, 0.1) times; the band holds with probability
    0.999 per side. The t interval is exact for normal data: this checks the quantile and the standard error.
    """
    columns, level = 4000, 0.9
    values = np.random.default_rng(11).normal(3.0, 5.0, size=(10, columns))
    result = stats.mean_tests(values, np.full(columns, 3.0), level)
    band = binomial_band(columns, 1 - level, false_alarm=0.002)
    assert band[0] <= int((result.lower > 3.0).sum()) <= band[1]
    assert band[0] <= int((result.upper < 3.0).sum()) <= band[1]
    # and under the null the p-values are uniform: P(p <= 0.05) = 0.05
    band05 = binomial_band(columns, 0.05, false_alarm=0.002)
    assert band05[0] <= int((result.p_above <= 0.05).sum()) <= band05[1]
    assert band05[0] <= int((result.p_below <= 0.05).sum()) <= band05[1]


def test_mean_tests_without_spread():
    values = np.tile([1.0, 2.0, 3.0], (5, 1))
    result = stats.mean_tests(values, np.array([1.0, 1.0, 4.0]), level=0.99)
    assert not np.isnan(result.p_above).any() and not np.isnan(result.p_below).any()
    assert result.p_above[0] == pytest.approx(0.5) and result.p_below[0] == pytest.approx(0.5)  # on the bound
    assert result.p_above[1] == 0.0 and result.p_below[1] == 1.0  # surely above
    assert result.p_above[2] == 1.0 and result.p_below[2] == 0.0  # surely below


def test_mean_tests_with_one_seed_decide_nothing():
    result = stats.mean_tests(np.array([[5.0, 0.1]]), np.array([1.0, 1.0]), level=0.99)
    np.testing.assert_allclose(result.p_above, 0.5)
    np.testing.assert_allclose(result.p_below, 0.5)
    assert np.all(np.isinf(result.lower)) and np.all(np.isinf(result.upper))


# --- Holm ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p, alpha, expected", [
    ([0.01, 0.04, 0.03, 0.005], 0.05, [True, False, False, True]),
    ([0.01, 0.02, 0.03, 0.04], 0.05, [True, False, False, False]),  # 0.02 > 0.05/3 stops the procedure
    ([0.01, 0.012, 0.02, 0.04], 0.05, [True, True, True, True]),     # each below alpha/(m - rank)
    ([0.2, 0.3], 0.05, [False, False]),
    ([0.0], 0.01, [True]),
    ([0.011, 0.001, 0.001], 0.01, [False, True, True]),              # 0.011 > 0.01, the last step's bar
])
def test_holm_known_cases(p, alpha, expected):
    assert stats.holm(np.array(p), alpha).tolist() == expected


def _holm_by_adjusted_p(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm via adjusted p-values: p_adj(i) = max over j <= i of (m - j) p_(j), capped at 1."""
    m = len(p)
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    rejected = np.zeros(m, dtype=bool)
    rejected[order] = adjusted <= alpha
    return rejected


def test_holm_agrees_with_adjusted_p_values():
    rng = np.random.default_rng(12)
    for _ in range(500):
        m = int(rng.integers(1, 12))
        p = rng.uniform(0, 0.05, size=m) ** rng.uniform(0.5, 2.0)
        assert stats.holm(p, 0.05).tolist() == _holm_by_adjusted_p(p, 0.05).tolist()


def test_holm_controls_the_family_wise_error_rate():
    """Under the global null (independent uniform p-values), P(any rejection) <= alpha.

    For independent p-values Holm's FWER is 1 - (1 - alpha/m)^m, just under alpha = 0.05. 20000 families:
    the count exceeds the Binomial(20000, 0.05) 0.999-quantile with probability below 0.001.
    """
    families, m, alpha = 20_000, 6, 0.05
    p = np.random.default_rng(13).uniform(size=(families, m))
    rejections = sum(stats.holm(row, alpha).any() for row in p)
    assert rejections <= scipy_stats.binom.isf(0.001, families, alpha)
    assert rejections >= scipy_stats.binom.ppf(0.001, families, 1 - (1 - alpha / m) ** m)


def test_holm_never_rejects_a_nan_p_value():
    assert stats.holm(np.array([np.nan]), 0.05).tolist() == [False]
    assert stats.holm(np.array([0.0, np.nan]), 0.05).tolist() == [True, False]


# --- floors, tolerances, seeds to decide --------------------------------------------------------------------


def test_precision_floor():
    assert stats.precision_floor("float32", 1.0) == pytest.approx(1e3 * 2.0**-23, rel=1e-12)
    assert stats.precision_floor("float64", 4.0) == pytest.approx(4e3 * 2.0**-52, rel=1e-12)
    assert stats.precision_floor("float32", 2.0) == 2 * stats.precision_floor("float32", 1.0)


def test_exact_tolerance():
    assert stats.exact_tolerance("float64") == 1e-10
    assert stats.exact_tolerance("float32") == 1e-5


def test_relative_error():
    np.testing.assert_allclose(stats.relative_error(np.array([1.1, -2.0, 0.0]), np.array([1.0, -1.0, 5.0])),
                               [0.1, 1.0, 1.0], rtol=1e-12)
    assert stats.relative_error(np.array([0.0]), np.array([0.0]))[0] == 0.0
    off_zero = stats.relative_error(np.array([1e-300]), np.array([0.0]))[0]
    assert np.isfinite(off_zero) and off_zero > 1e3  # an error against 0 is huge, never inf or NaN


def test_seeds_to_decide():
    # half-width 0.25, distance 0.125 (exact in binary): the width must halve, so four times the seeds
    assert stats.seeds_to_decide(64, Interval(0.75, 0.5, 1.0, 0.99), 0.625) == 256
    assert stats.seeds_to_decide(100, Interval(1.0, 0.9375, 1.0625, 0.99), 0.875) == 25
    assert stats.seeds_to_decide(64, Interval(0.5, 0.4, 0.6, 0.99), 0.5) is None  # estimate on the threshold
    assert stats.seeds_to_decide(64, Interval(0.6, 0.6, 0.6, 0.99), 0.5) is None
    assert stats.seeds_to_decide(64, Interval(0.6, -np.inf, np.inf, 0.99), 0.5) is None
