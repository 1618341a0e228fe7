"""The checker on synthetic traces: every test (rate, envelope, contraction, exact) passes, fails and abstains
where it should, and says why. Traces are built by hand: metrics of shape (seeds, grid) with a known law."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from fakes import geometric_grid, make_claim, make_trace
from scipy import stats as scipy_stats

from theory import Status, check, stats
from theory.errors import ClaimError
from theory.judge import FormCurve

GRID = geometric_grid(7, 14)  # T = 128 .. 16384, eight points
T = np.array(GRID)
STEPS = tuple(float(t) for t in range(5, 45, 5))  # t = 5 .. 40
S = np.array(STEPS)
# The default allowance on GRID: half the exponent one log factor makes over its last three points.
EDGE = float(np.polyfit(np.log(T[-3:]), np.log(np.log(T[-3:])), 1)[0]) / 2


def noisy(curve: np.ndarray, seeds: int, shape: float, seed: int) -> np.ndarray:
    """``curve`` times independent Gamma(shape, 1/shape) noise: mean exactly ``curve``, relative sd
    1/sqrt(shape)."""
    return curve * np.random.default_rng(seed).gamma(shape, 1.0 / shape, size=(seeds, len(curve)))


# --- rates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, exponent, status", [
    ("upper", 0.5, Status.PASS),
    ("upper", 0.3, Status.PASS),
    ("upper", 0.8, Status.FAIL),
    ("lower", 0.5, Status.PASS),
    ("lower", 0.8, Status.PASS),
    ("lower", 0.2, Status.FAIL),
    ("theta", 0.5, Status.PASS),
    ("theta", 0.8, Status.FAIL),
    ("theta", 0.2, Status.FAIL),
])
def test_rate_pass_and_fail(kind, exponent, status):
    claim = make_claim("C*sqrt(T)", kind, grid=GRID)
    verdict = check(claim, make_trace(noisy(T**exponent, 64, 400.0, seed=1), GRID))
    assert verdict.status is status, verdict.evidence
    assert verdict.test == "rate"
    assert verdict.estimate == pytest.approx(exponent, abs=0.05)
    assert verdict.ci[0] <= verdict.estimate <= verdict.ci[1]
    assert verdict.claimed == pytest.approx(0.5)
    assert verdict.level == 0.99 and verdict.seeds == 64
    assert f"fitted exponent of T {verdict.estimate:.3g} [" in verdict.evidence
    assert "on T in [4096, 16384] vs claimed 0.5 (allowance 0.0556: half a log factor" in verdict.evidence


@pytest.mark.parametrize("kind, exponent", [("upper", 0.5 + EDGE), ("lower", 0.5 - EDGE), ("theta", 0.5 + EDGE)])
def test_rate_inconclusive_with_few_noisy_seeds(kind, exponent):
    # The true exponent sits on the edge of the allowance: the interval straddles it (it misses on either
    # side with probability 0.01), and the verdict abstains and says how many seeds might decide.
    claim = make_claim("C*sqrt(T)", kind, grid=GRID)
    verdict = check(claim, make_trace(noisy(T**exponent, 16, 100.0, seed=2), GRID))
    assert verdict.status is Status.INCONCLUSIVE, verdict.evidence
    assert verdict.ci[0] < exponent < verdict.ci[1]
    assert math.isfinite(verdict.ci[0]) and math.isfinite(verdict.ci[1])
    assert re.search(r"; about \d+ seeds would decide it$", verdict.evidence), verdict.evidence


def test_rate_with_means_that_are_not_positive_is_inconclusive():
    # A logarithmic form is fitted on increments; with four seeds and this much noise some resampled mean
    # increments are negative: their log does not exist, so the interval is unbounded and the verdict can
    # be neither PASS nor FAIL.
    claim = make_claim("C*log(T)", "upper", grid=GRID)
    verdict = check(claim, make_trace(noisy(np.log(T), 4, 2.0, seed=19), GRID))
    assert verdict.status is Status.INCONCLUSIVE
    assert verdict.ci == (-math.inf, math.inf)
    assert "the interval is unbounded: add seeds" in verdict.evidence


def test_upper_threshold_is_exponent_plus_tolerance():
    claim = make_claim("C*T", "upper", grid=GRID, tol=0.25)
    verdict = check(claim, make_trace(noisy(T**1.2, 64, 400.0, seed=3), GRID))
    assert verdict.status is Status.PASS  # 1.2 is within 1 + 0.25
    assert verdict.threshold == pytest.approx(1.25)
    tight = make_claim("C*T", "upper", grid=GRID, tol=0.05)
    assert check(tight, make_trace(noisy(T**1.2, 64, 400.0, 3), GRID)).status is Status.FAIL


def test_log_factors_are_divided_out_not_absorbed():
    metric = np.tile(3.0 * np.sqrt(T * np.log(T)), (16, 1))
    trace = make_trace(metric, GRID)
    verdict = check(make_claim("C*sqrt(T*log(T))", "upper", grid=GRID, tol=0.03), trace)
    assert verdict.status is Status.PASS
    assert verdict.estimate == pytest.approx(0.5, abs=1e-9)
    assert verdict.ci == pytest.approx((0.5, 0.5), abs=1e-9)
    # Without the log factor in the form, sqrt(log T) looks like extra exponent (1/(2 ln T), about 0.05 here)
    # and a tight tolerance catches it: the factor is really divided out above, not hidden in the tolerance.
    bare = check(make_claim("C*sqrt(T)", "upper", grid=GRID, tol=0.03), trace)
    assert bare.status is Status.FAIL
    assert bare.estimate > 0.54


def test_log_factor_with_a_parameter():
    metric = np.tile(2.0 * np.sqrt(5 * T * np.log(T)), (8, 1))
    claim = make_claim("C*sqrt(K*T*log(T))", "theta", grid=GRID, params={"K": 5})
    verdict = check(claim, make_trace(metric, GRID))
    assert verdict.status is Status.PASS
    assert verdict.estimate == pytest.approx(0.5, abs=1e-9)


def test_additive_constant_on_a_growing_form_passes():
    # a log T - b: the constant b bends metric/log(T) upwards on a finite grid; increments cancel it.
    metric = 3.0 * np.log(T) - 15.0
    naive = np.polyfit(np.log(T[4:]), np.log(metric[4:] / np.log(T[4:])), 1)[0]
    assert naive > 0.15  # dividing by the form alone would see a growing residual: this case matters
    verdict = check(make_claim("C*log(T)", "upper", grid=GRID), make_trace(noisy(metric, 64, 1e4, 4), GRID))
    assert verdict.status is Status.PASS, verdict.evidence
    assert verdict.estimate == pytest.approx(0.0, abs=0.02)


def test_form_with_a_parameter_depending_on_the_scaling_variable():
    # gap = 1/sqrt(T): the form C/gap is C*sqrt(T) once the parameter is substituted at each grid point
    claim = make_claim("C/gap", "theta", grid=GRID, params={"gap": "1/sqrt(T)"})
    verdict = check(claim, make_trace(np.tile(np.sqrt(T), (8, 1)), GRID))
    assert verdict.status is Status.PASS
    assert verdict.estimate == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("form, metric, exponent", [
    ("C*max(T, 100)", T, 1.0),                       # the growing branch is active on the whole fit window
    # the branches cross near T = 5500, inside the fit window: the fit uses the form's values, and the claimed
    # exponent is that of the branch active at the top of the grid
    ("C*max(sqrt(T), log(T)**2)", np.maximum(np.sqrt(T), np.log(T) ** 2), 0.5),
    ("C*min(T, 1000)", np.minimum(T, 1000), 0.0),    # saturated at the top of the grid
])
def test_max_and_min_forms_are_judged_on_the_active_branch(form, metric, exponent):
    verdict = check(make_claim(form, "theta", grid=GRID), make_trace(np.tile(metric, (8, 1)), GRID))
    assert verdict.status is Status.PASS, verdict.evidence
    assert verdict.claimed == pytest.approx(exponent)
    assert verdict.estimate == pytest.approx(exponent, abs=1e-9)


def test_a_form_that_levels_off_is_not_fitted_by_increments():
    # min(T, 1000) has no increments past T = 1000: a metric that keeps growing like sqrt(T) must FAIL the
    # theta claim (exponent 0.5 against 0), not divide by zero.
    metric = np.tile(np.minimum(T, 1000) * np.sqrt(T), (8, 1))
    verdict = check(make_claim("C*min(T, 1000)", "theta", grid=GRID), make_trace(metric, GRID))
    assert verdict.status is Status.FAIL
    assert verdict.estimate == pytest.approx(0.5, abs=1e-9)


def test_hyper_parameters_bind_symbols_of_the_form():
    claim = make_claim("2*eta*sqrt(T)", "upper", grid=GRID, free=())
    metric = noisy(np.sqrt(T), 32, 400.0, seed=5)
    assert check(claim, make_trace(metric, GRID), hyper={"eta": 1.0}).status is Status.PASS
    assert check(claim, make_trace(metric, GRID), hyper={"eta": 0.25}).status is Status.FAIL
    with pytest.raises(ClaimError, match="eta"):
        check(claim, make_trace(metric, GRID))


def test_too_few_points_in_the_window_is_inconclusive():
    claim = make_claim("C*sqrt(T)", "upper", grid=GRID[:5])  # upper half of 5 points: 3 points ...
    metric = np.tile(np.sqrt(T[:5]), (8, 1))
    assert check(claim, make_trace(metric, GRID[:5])).status is Status.PASS
    metric[:, -1] = 0.0  # ... one of which is at the precision floor
    verdict = check(claim, make_trace(metric, GRID[:5]))
    assert verdict.status is Status.INCONCLUSIVE
    assert "only 2 grid points in the fit window above the precision floor" in verdict.evidence


def test_exponentially_growing_form_is_refused():
    with pytest.raises(ClaimError, match="grows exponentially"):
        grid = (1.0, 2.0, 4.0, 8.0)
        check(make_claim("C*2**T", "upper", grid=grid), make_trace(np.ones((4, 4)), grid))


# --- contraction --------------------------------------------------------------------------------------------


def contraction(kind="upper", rate=0.5, **fields):
    return make_claim("C*rho**t", kind, grid=STEPS, over="t", constants={"rho": rate}, **fields)


@pytest.mark.parametrize("kind, factor, status", [
    ("upper", 0.5, Status.PASS),
    ("upper", 0.45, Status.PASS),
    ("upper", 0.8, Status.FAIL),
    ("lower", 0.5, Status.PASS),
    ("lower", 0.45, Status.FAIL),
    ("theta", 0.8, Status.FAIL),
])
def test_contraction_pass_and_fail(kind, factor, status):
    verdict = check(contraction(kind), make_trace(noisy(factor**S, 32, 400.0, seed=6), STEPS, over="t"))
    assert verdict.status is status, verdict.evidence
    assert verdict.test == "contraction"
    assert verdict.estimate == pytest.approx(factor, rel=0.02)
    assert verdict.claimed == pytest.approx(0.5)
    assert "fitted contraction factor per step" in verdict.evidence
    assert "on t in [25, 40] vs claimed 0.5" in verdict.evidence


def test_contraction_threshold_is_relative_to_the_log_rate():
    verdict = check(contraction(), make_trace(np.tile(0.5**S, (4, 1)), STEPS, over="t"))
    assert verdict.threshold == pytest.approx(0.5 ** (1 - 0.1))  # tol 0.1 of |log 0.5| per step


def test_contraction_inconclusive_with_few_noisy_seeds():
    edge = 0.5 ** (1 - 0.1)  # the factor at the tolerance's edge
    verdict = check(contraction(), make_trace(noisy(edge**S, 12, 4.0, seed=7), STEPS, over="t"))
    assert verdict.status is Status.INCONCLUSIVE, verdict.evidence
    assert "seeds would decide it" in verdict.evidence


def test_float32_linear_rate_is_not_judged_on_the_precision_floor():
    """A linear rate run in float32 stops at rounding noise; the fit must use only the points above it."""
    steps = tuple(float(t) for t in range(4, 36, 4))  # t = 4 .. 32
    t = np.array(steps)
    rng = np.random.default_rng(8)
    metric = np.tile(0.5**t, (16, 1))
    flat = t >= 20  # 0.5**20 = 1e-6 is below the float32 floor 1e3 * eps32 * 0.5**4, about 7e-6
    metric[:, flat] = rng.uniform(1e-7, 5e-7, size=(16, int(flat.sum())))  # rounding noise, not a rate
    claim = make_claim("C*rho**t", "upper", grid=steps, over="t", constants={"rho": 0.5}, tail=1.0)
    verdict = check(claim, make_trace(metric, steps, over="t", dtype="float32"))
    assert verdict.status is Status.PASS, verdict.evidence
    assert verdict.estimate == pytest.approx(0.5, rel=1e-6)
    assert "on t in [4, 16]" in verdict.evidence
    # the same numbers in float64 are above its floor and are judged: the flat tail looks like no contraction
    as64 = check(claim, make_trace(metric, steps, over="t", dtype="float64"))
    assert as64.status is not Status.PASS


# --- envelopes (explicit bounds) ----------------------------------------------------------------------------


def envelope(form, kind="upper"):
    return make_claim(form, kind, grid=GRID[:5], free=())


def test_envelope_upper_pass():
    verdict = check(envelope("2*sqrt(T)"), make_trace(noisy(np.sqrt(T[:5]), 32, 100.0, 9), GRID[:5]))
    assert verdict.status is Status.PASS
    assert verdict.test == "envelope"
    assert "mean credibly under the bound at every grid point" in verdict.evidence
    assert verdict.estimate == pytest.approx(0.5, abs=0.05)  # worst mean / bound
    assert verdict.ci[0] < verdict.estimate < verdict.ci[1] < 1


def test_envelope_upper_fail_names_where_the_bound_breaks():
    curve = np.sqrt(T[:5]).copy()
    curve[-1] *= 3  # above the bound 2 sqrt(T) at the largest T only
    verdict = check(envelope("2*sqrt(T)"), make_trace(noisy(curve, 32, 100.0, 10), GRID[:5]))
    assert verdict.status is Status.FAIL
    assert "mean credibly above the bound at T=2048 (Holm, alpha=0.01)" in verdict.evidence
    assert "worst mean/bound 1.5" in verdict.evidence


def test_envelope_upper_fail_everywhere():
    verdict = check(envelope("2*sqrt(T)"), make_trace(noisy(3 * np.sqrt(T[:5]), 32, 100.0, 11), GRID[:5]))
    assert verdict.status is Status.FAIL
    assert "above the bound at T=128, T=256, T=512, T=1024, T=2048" in verdict.evidence


def test_envelope_upper_inconclusive_on_the_bound():
    verdict = check(envelope("2*sqrt(T)"), make_trace(noisy(2 * np.sqrt(T[:5]), 8, 4.0, 12), GRID[:5]))
    assert verdict.status is Status.INCONCLUSIVE
    assert "cannot tell whether the mean is above the bound at T=" in verdict.evidence


def test_envelope_lower():
    claim = envelope("0.5*sqrt(T)", "lower")
    good = check(claim, make_trace(noisy(np.sqrt(T[:5]), 32, 100.0, 13), GRID[:5]))
    assert good.status is Status.PASS and "mean credibly over the bound at every grid point" in good.evidence
    bad = check(claim, make_trace(noisy(0.2 * np.sqrt(T[:5]), 32, 100.0, 14), GRID[:5]))
    assert bad.status is Status.FAIL and "mean credibly below the bound at T=128" in bad.evidence
    unsure = check(claim, make_trace(noisy(0.5 * np.sqrt(T[:5]), 8, 4.0, 15), GRID[:5]))
    assert unsure.status is Status.INCONCLUSIVE
    assert "cannot tell whether the mean is below the bound" in unsure.evidence


def test_envelope_a_metric_on_its_bound_to_the_last_ulps_passes():
    """GD on its worst-case function meets its bound with equality: the metric is the bound to a few ulps, with
    spread across seeds of the same size. Rounding is no evidence: it must PASS, not FAIL (issue 17, item 3)."""
    claim = envelope("2*sqrt(T)")
    bound = 2 * np.sqrt(T[:5])
    ulps = np.random.default_rng(17).integers(2, 5, size=(32, 5))  # 2..4 ulps above the bound
    metric = bound + ulps * np.spacing(bound)
    assert stats.holm(stats.mean_tests(metric, bound, 0.99).p_above, 0.01).all()  # "above" without an allowance
    verdict = check(claim, make_trace(metric, GRID[:5]))
    assert verdict.status is Status.PASS, verdict.evidence
    assert "(on it to within rounding, 16 ulps of float64)" in verdict.evidence
    assert check(claim, make_trace(np.tile(bound, (32, 1)), GRID[:5])).status is Status.PASS
    lower = check(envelope("2*sqrt(T)", "lower"), make_trace(bound - ulps * np.spacing(bound), GRID[:5]))
    assert lower.status is Status.PASS, lower.evidence


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_envelope_above_by_more_than_the_rounding_allowance_fails(dtype):
    bound = 2 * np.sqrt(T[:5])
    excess = 4 * stats.rounding_allowance(dtype, 1.0)  # beyond the allowance, and many times the spread
    spread = np.random.default_rng(18).normal(0, excess / 100, size=(32, 5))
    verdict = check(envelope("2*sqrt(T)"), make_trace(bound * (1 + excess + spread), GRID[:5], dtype=dtype))
    assert verdict.status is Status.FAIL, verdict.evidence
    under = check(envelope("2*sqrt(T)", "lower"), make_trace(bound * (1 - excess + spread), GRID[:5], dtype=dtype))
    assert under.status is Status.FAIL, under.evidence


def test_envelope_rows_hold_means_and_form_values():
    metric = noisy(np.sqrt(T[:5]), 32, 100.0, 16)
    verdict = check(envelope("2*sqrt(T)"), make_trace(metric, GRID[:5]))
    assert [row.x for row in verdict.rows] == list(GRID[:5])
    np.testing.assert_allclose([row.mean for row in verdict.rows], metric.mean(axis=0))
    np.testing.assert_allclose([row.form for row in verdict.rows], 2 * np.sqrt(T[:5]), rtol=1e-12)
    assert all(row.low < row.mean < row.high for row in verdict.rows)


# --- exact --------------------------------------------------------------------------------------------------


def test_exact_pass_and_fail():
    claim = make_claim("T**2 + 1", "exact", grid=GRID[:4], free=())
    truth = np.tile(T[:4] ** 2 + 1, (6, 1))
    assert check(claim, make_trace(truth * (1 + 1e-12), GRID[:4])).status is Status.PASS
    off = truth.copy()
    off[3, 2] *= 1 + 1e-6
    verdict = check(claim, make_trace(off, GRID[:4], base_seed=100))
    assert verdict.status is Status.FAIL
    assert verdict.test == "exact"
    assert verdict.estimate == pytest.approx(1e-6, rel=1e-3)
    expected = "largest relative error 1e-06 (seed 103, T=512) against tolerance 1e-10 for float64"
    assert expected in verdict.evidence


def test_exact_tolerance_follows_the_dtype_and_the_claim():
    claim = make_claim("T**2", "exact", grid=GRID[:4], free=())
    values = np.tile(T[:4] ** 2 * (1 + 1e-6), (3, 1))
    assert check(claim, make_trace(values, GRID[:4], dtype="float32")).status is Status.PASS  # 1e-6 < 1e-5
    assert check(claim, make_trace(values, GRID[:4], dtype="float64")).status is Status.FAIL
    loose = make_claim("T**2", "exact", grid=GRID[:4], free=(), rtol=1e-3)
    assert check(loose, make_trace(values * (1 + 1e-4), GRID[:4])).status is Status.PASS


def test_exact_against_zero_compares_absolutely():
    """Two implementations agree: their difference is 0 to within atol, an absolute tolerance (item 7)."""
    claim = make_claim("0", "exact", grid=GRID[:4], free=(), atol=1e-12)
    noise = np.random.default_rng(19).normal(0, 1e-14, size=(6, 4))
    verdict = check(claim, make_trace(noise, GRID[:4]))
    assert verdict.status is Status.PASS, verdict.evidence
    assert "largest absolute error" in verdict.evidence and "against atol 1e-12" in verdict.evidence
    off = noise.copy()
    off[2, 1] = 1e-9
    assert check(claim, make_trace(off, GRID[:4])).status is Status.FAIL
    near = make_claim("T - 128", "exact", grid=GRID[:4], free=())  # zero at T=128, with no atol
    with pytest.raises(ClaimError, match="compare with 0 through atol"):
        check(near, make_trace(noise, GRID[:4]))


def test_exact_against_zero_needs_atol_and_atol_needs_an_exact_claim():
    with pytest.raises(ClaimError, match="an exact claim against 0 has no relative error: set atol"):
        make_claim("0", "exact", grid=GRID[:4], free=())
    with pytest.raises(ClaimError, match="atol 1e-09 is for exact claims"):
        make_claim("2*sqrt(T)", "upper", grid=GRID[:4], free=(), atol=1e-9)


# --- decimal exponents --------------------------------------------------------------------------------------


@pytest.mark.parametrize("exponent", [round(0.01 * k, 2) for k in range(1, 100)] + [1.5, 2.5, 1.25, 3.75])
def test_decimal_exponents_are_read_exactly(exponent):
    """sympy's limit mis-read float exponents (T**0.3 "grew exponentially", T**0.1 had exponent 0)."""
    trace = make_trace(np.ones((2, len(GRID))), GRID)
    curve = FormCurve(make_claim(f"C*T**{exponent}", grid=GRID), trace, {})
    assert curve.exponent == pytest.approx(exponent, abs=1e-12)
    constant = FormCurve(make_claim("C*T**a", grid=GRID, constants={"a": exponent}), trace, {})
    assert constant.exponent == pytest.approx(exponent, abs=1e-12)
    hyper = FormCurve(make_claim("C*T**a*log(T)", grid=GRID), trace, {"a": exponent})
    assert hyper.exponent == pytest.approx(exponent, abs=1e-12)


def test_a_metric_growing_like_a_small_decimal_power_passes_its_theta_claim():
    verdict = check(make_claim("C*T**0.1", "theta", grid=GRID), make_trace(noisy(T**0.1, 64, 400.0, 20), GRID))
    assert verdict.status is Status.PASS and verdict.test == "rate", verdict.evidence
    assert verdict.claimed == pytest.approx(0.1)


# --- runs that did not finish -------------------------------------------------------------------------------


@pytest.mark.parametrize("run_status, verdict_status", [("error", Status.ERROR), ("timeout", Status.TIMEOUT)])
def test_unfinished_runs_map_to_their_verdict(run_status, verdict_status):
    message = "ZeroDivisionError: boom (at plugin.py:3 in step)"
    trace = make_trace({}, GRID, status=run_status, message=message)
    verdict = check(make_claim("C*sqrt(T)", grid=GRID), trace)
    assert verdict.status is verdict_status
    assert verdict.evidence == message
    assert verdict.test == "run"


def test_missing_metric_is_an_error():
    verdict = check(make_claim("C*sqrt(T)", grid=GRID, metric="loss"), make_trace(np.ones((2, 8)), GRID))
    assert verdict.status is Status.ERROR
    assert "trace has no metric 'loss' (has ['m'])" in verdict.evidence


def test_same_trace_same_verdict():
    trace = make_trace(noisy(T**0.6, 8, 25.0, 17), GRID)
    claim = make_claim("C*sqrt(T)", grid=GRID)
    assert check(claim, trace) == check(claim, trace)


# --- size: how often a true claim FAILs ---------------------------------------------------------------------


@pytest.mark.parametrize("exponent", [0.5, 0.5 + EDGE], ids=["at-claim", "at-allowance-edge"])
def test_true_upper_claim_fails_at_most_at_the_stated_rate(exponent):
    """A true claim (exponent at most 0.5 + the allowance) must FAIL at most at rate 1 - level.

    Level 0.9 (rate 0.1, so 200 trials resolve it); the exponent 0.5 + EDGE sits on the edge of the allowance, where
    the FAIL rate is largest and should be about 0.1. Each trial is a different base seed, as in
    ``theorycheck audit``. The FAIL count exceeds the Binomial(200, 0.1) 0.999-quantile with probability
    below 0.001 if the stated rate holds.
    """
    trials, seeds, level = 200, 32, 0.9
    claim = make_claim("C*sqrt(T)", "upper", grid=GRID, level=level)
    rng = np.random.default_rng(18)
    fails = 0
    for trial in range(trials):
        metric = T**exponent * rng.gamma(20.0, 1 / 20.0, size=(seeds, len(T)))
        fails += check(claim, make_trace(metric, GRID, base_seed=trial * 1000)).status is Status.FAIL
    assert fails <= scipy_stats.binom.isf(0.001, trials, 1 - level), fails
    if exponent > 0.5:
        # On the edge the test should not be far more timid than stated either (P < 0.001 under rate 0.1).
        assert fails >= scipy_stats.binom.ppf(0.001, trials, 1 - level), fails
