"""Claim x Trace -> Verdict. The checker judges; it never runs anything.

Which test a claim gets follows from its form, not from its plugin:
- ``exact``: relative error under a dtype-aware tolerance, at every seed and grid point;
- no free constant (an explicit bound): a one-sided t-test at every grid point (PASS needs all of them,
  an intersection-union test at the stated level; FAIL needs one, Holm-corrected across the grid);
- a free constant and a power-like form (``C*sqrt(K*T*log(T))``): the log-log slope of the mean after
  dividing by the form, local to the asymptotic end of the grid, with a delta-method t-interval over seeds,
  its trend, and a fit with a free log factor; log factors are divided out, not absorbed;
- a free constant and an exponentially decaying form (``C*rho**t``): the per-step contraction factor,
  fitted on the log of the mean above the precision floor;
- ``privacy``: an epsilon lower bound from the outputs on two neighbouring inputs (``theory.privacy``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy

from theory import privacy, stats
from theory.claims import Claim, exact_number, parse_form
from theory.errors import ClaimError
from theory.model import Row, Status, Trace, Verdict

# The largest default allowance on a rate's exponent (the fixed tolerance the grid-derived one replaced).
ALLOWANCE_CAP = 0.1


def check(claim: Claim, trace: Trace, hyper: Mapping[str, object] | None = None,
          mutant_of: str | None = None) -> Verdict:
    """Judge ``claim`` on ``trace``; ``hyper`` binds hyper-parameter symbols used in the form."""
    base: dict[str, Any] = dict(algorithm=trace.algorithm, claim=claim.name, level=claim.level, source=claim.source,
                                seeds=len(trace.seeds), expected_failure=claim.expected_failure, mutant_of=mutant_of)
    if trace.status == "diverged":  # a metric no bound holds for: the claim fails, whatever its form
        return Verdict(**base, status=Status.FAIL, test="run", evidence=f"the run diverged: {trace.message}")
    if trace.status != "ok":
        status = Status.TIMEOUT if trace.status == "timeout" else Status.ERROR
        return Verdict(**base, status=status, test="run", evidence=trace.message)
    if claim.metric not in trace.metrics:
        return Verdict(**base, status=Status.ERROR, test="run",
                       evidence=f"trace has no metric {claim.metric!r} (has {sorted(trace.metrics)})")
    if claim.kind == "privacy":
        return _privacy(claim, trace, hyper or {}, base)
    if claim.against is not None:
        x = axis_values(claim, trace)
        if isinstance(x, str):
            return Verdict(**base, status=Status.ERROR, test="run", evidence=x)
        trace = dataclasses.replace(trace, grid=tuple(float(v) for v in x))
    values = trace.metrics[claim.metric]
    curve = FormCurve(claim, trace, hyper or {})
    tests = stats.mean_tests(values, curve.values, claim.level)
    rows = tuple(Row(x=x, mean=m, low=lo, high=hi, form=f) for x, m, lo, hi, f in
                 zip(trace.grid, tests.mean, tests.lower, tests.upper, curve.values))
    base["rows"] = rows
    if claim.kind == "exact":
        return _exact(claim, trace, values, curve, base)
    constant = hidden_constant(claim, tests, curve, trace.grid, trace.dtype)
    if claim.explicit:
        return dataclasses.replace(_envelope(claim, values, trace.dtype, curve, base), **constant)
    return dataclasses.replace(_rate(claim, trace, values, curve, base), **constant)


def axis_values(claim: Claim, trace: Trace) -> np.ndarray | str:
    """The x of each grid point the claim is judged at: the grid, or the mean over seeds of the counter the claim
    is ``against``; a string says why a counter cannot serve as an axis."""
    if claim.against is None:
        return np.asarray(trace.grid, dtype=float)
    if claim.against not in trace.metrics:
        return f"claim is against {claim.against!r}, which the trace does not measure (has {sorted(trace.metrics)})"
    x = np.asarray(trace.metrics[claim.against], dtype=float).mean(axis=0)
    if not np.all(np.isfinite(x)) or np.any(x <= 0) or np.any(np.diff(x) <= 0):
        return (f"counter {claim.against!r} must be positive, finite and strictly increasing along the grid to "
                f"serve as the axis; its means are {np.array2string(x, precision=4)}")
    return x


def hidden_constant(claim: Claim, tests: stats.MeanTests, curve: FormCurve, grid: tuple[float, ...],
                    dtype: str) -> dict[str, Any]:
    """How big the constant behind a claim is: the fitted C of an O-claim, or how loose an explicit bound is.

    C is read at the top of the grid, where a rate claim is judged: mean / form at the largest grid point whose
    mean is above the precision floor (a linear rate sinks into rounding noise at the top), its interval the
    mean's one-sided confidence bounds there divided by the form. A fitted exponent other than the claimed one
    makes C drift along the grid; the rows (mean/form) show that drift.
    """
    if claim.explicit:
        return {"looseness": tuple(float(m / f) for m, f in zip(tests.mean, curve.values))}
    floor = stats.precision_floor(dtype, float(np.abs(tests.mean).max()))
    above = np.flatnonzero(tests.mean > floor)
    if not len(above):
        return {}
    top = int(above[-1])
    form = curve.values[top]
    return {"constant": float(tests.mean[top] / form), "constant_at": float(grid[top]),
            "constant_ci": (float(tests.lower[top] / form), float(tests.upper[top] / form))}




class FormCurve:
    """The claim's form as a function of the scaling variable alone, evaluated on the trace's grid.

    Parameters given as expressions of the scaling variable are substituted, free constants set to 1; every
    number enters as an exact rational (``claims.exact_number``). ``exponent`` is the form's power of x at
    infinity (lim x f'/f): finite for power-like forms (log factors do not change it), -inf for exponentially
    decaying ones, whose per-step log factor is ``linear_rate``. Both are found only when a rate test asks.
    The form must be positive on the grid, except in an ``exact`` claim with ``atol``, which compares absolutely.
    """

    def __init__(self, claim: Claim, trace: Trace, hyper: Mapping[str, object]):
        experiment = claim.experiment
        self.claim = claim
        numeric_hyper = {k: exact_number(v) for k, v in hyper.items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
        expr = claim.expression(frozenset(numeric_hyper))
        self.x = x = sympy.Symbol(claim.axis, positive=True)
        self.bottom, self.top = trace.grid[0], trace.grid[-1]
        fixed = experiment.scalars()
        subs: dict[sympy.Symbol, sympy.Expr] = {
            sympy.Symbol(k, positive=True): v
            for k, v in {**numeric_hyper, **{k: exact_number(v) for k, v in fixed.items()},
                         **claim.constant_values()}.items()}
        subs.update({sympy.Symbol(k, positive=True): sympy.Integer(1) for k in claim.free})
        for key, text in experiment.params.items():
            if isinstance(text, str):
                parsed = parse_form(text, frozenset(fixed) | {experiment.over})
                subs[sympy.Symbol(key, positive=True)] = parsed.subs(subs)
        self.expr = expr.subs(subs)
        if self.expr.free_symbols - {x}:
            raise ClaimError(f"claim {claim.name!r}: form {claim.form!r} leaves {self.expr.free_symbols - {x}} unbound")
        self.values = np.array([float(self.expr.subs(x, v).evalf()) for v in trace.grid])
        absolute = claim.kind == "exact" and claim.atol is not None
        if not np.all(np.isfinite(self.values)) or (not absolute and np.any(self.values <= 0)):
            needs = "finite" if absolute else "positive and finite"
            hint = "" if absolute or claim.kind != "exact" else " (compare with 0 through atol)"
            raise ClaimError(f"claim {claim.name!r}: form {claim.form!r} is not {needs} on {trace.grid}{hint}")

    @property
    def exponent(self) -> float:
        return self._scaling[0]

    @property
    def linear_rate(self) -> float:
        """The per-step log factor of a form known to decay exponentially (``exponent`` is -inf)."""
        rate = self._scaling[1]
        if rate is None:
            raise ClaimError(f"claim {self.claim.name!r}: form {self.claim.form!r} is not a linear rate")
        return rate

    @functools.cached_property
    def _scaling(self) -> tuple[float, float | None]:
        x = self.x
        try:
            toward_zero = self.claim.toward == "zero"  # the exponent at the end the claim is about
            shape = _active_branches(self.expr, x, self.bottom if toward_zero else self.top)
            exponent = float(sympy.limit(x * sympy.diff(shape, x) / shape, x, 0 if toward_zero else sympy.oo,
                                         "+" if toward_zero else "-"))
            log_rate = (float(sympy.limit(sympy.diff(sympy.log(shape), x), x, sympy.oo))
                        if exponent == -math.inf else None)
        except (NotImplementedError, TypeError, ValueError) as exc:
            raise ClaimError(f"claim {self.claim.name!r}: cannot find how form {self.claim.form!r} scales in "
                             f"{self.claim.axis} ({type(exc).__name__})") from None
        return exponent, log_rate


def _active_branches(expr: sympy.Expr, x: sympy.Symbol, at: float) -> sympy.Expr:
    """``expr`` with every max and min replaced by its argument that is active at ``x = at`` (the top of the
    grid, where rates are fitted): sympy takes no limits through Max and Min."""
    def pick(node: sympy.Expr) -> sympy.Expr:
        values = [float(arg.subs(x, at)) for arg in node.args]
        chosen = max(values) if isinstance(node, sympy.Max) else min(values)
        return node.args[values.index(chosen)]

    return expr.replace(lambda node: isinstance(node, (sympy.Max, sympy.Min)), pick)


def _exact(claim: Claim, trace: Trace, values: np.ndarray, curve: FormCurve, base: dict) -> Verdict:
    """Relative error under ``rtol`` (or the dtype's tolerance); absolute error under ``atol`` when the claim
    sets one, which is how an equality with 0 (two implementations' difference) is written."""
    if claim.atol is not None:
        tolerance, error, what = claim.atol, np.abs(values - curve.values[None, :]), "absolute"
    else:
        tolerance = claim.rtol if claim.rtol is not None else stats.exact_tolerance(trace.dtype)
        error, what = stats.relative_error(values, curve.values[None, :]), "relative"
    worst = float(error.max())
    seed, point = np.unravel_index(int(error.argmax()), error.shape)
    status = Status.PASS if worst <= tolerance else Status.FAIL
    against = f"atol {tolerance:.1g}" if claim.atol is not None else f"tolerance {tolerance:.1g} for {trace.dtype}"
    return Verdict(**base, status=status, test="exact", estimate=worst, claimed=tolerance, threshold=tolerance,
                   evidence=f"largest {what} error {worst:.3g} (seed {trace.seeds[seed]}, {claim.axis}="
                            f"{trace.grid[point]:g}) against {against}")


def _envelope(claim: Claim, values: np.ndarray, dtype: str, curve: FormCurve, base: dict) -> Verdict:
    """The t-tests run against the bound moved outward by a few ulps of its scale (``stats.rounding_allowance``):
    a metric that meets its bound with equality differs from it only by rounding, which is no evidence."""
    alpha = 1 - claim.level
    upper = claim.kind == "upper"
    slack = stats.rounding_allowance(dtype, np.abs(curve.values))
    tests = stats.mean_tests(values, curve.values + slack if upper else curve.values - slack, claim.level)
    ratio = tests.mean / curve.values
    confident_inside = tests.p_below if upper else tests.p_above
    confident_outside = tests.p_above if upper else tests.p_below
    broken = stats.holm(confident_outside, alpha)
    worst = int(np.argmax(ratio) if upper else np.argmin(ratio))
    bound_ci = (float(tests.lower[worst] / curve.values[worst]), float(tests.upper[worst] / curve.values[worst]))
    where = ", ".join(f"{claim.axis}={base['rows'][i].x:g}" for i in np.flatnonzero(broken))
    side = "above" if upper else "below"
    if broken.any():
        status, evidence = Status.FAIL, f"mean credibly {side} the bound at {where} (Holm, alpha={alpha:g})"
    elif np.all(confident_inside <= alpha):
        status, evidence = Status.PASS, f"mean credibly {'under' if upper else 'over'} the bound at every grid point"
        if (ratio[worst] > 1) if upper else (ratio[worst] < 1):
            evidence += f" (on it to within rounding, {stats.ROUNDING_ULPS} ulps of {dtype})"
    else:
        unsure = ", ".join(f"{claim.axis}={base['rows'][i].x:g}"
                           for i in np.flatnonzero(confident_inside > alpha))
        status, evidence = Status.INCONCLUSIVE, f"cannot tell whether the mean is {side} the bound at {unsure}"
    power = stats.envelope_power(tests, curve.values, claim.level, upper, base["seeds"])
    evidence += f"; worst mean/bound {ratio[worst]:.3g}"
    if status is Status.PASS and base["seeds"] < stats.MIN_SEEDS:
        status = Status.INCONCLUSIVE
        evidence += (f"; WARNING: {base['seeds']} seeds is below the {stats.MIN_SEEDS} at which the t-test's "
                     f"coverage was measured, so it cannot PASS")
    if status is Status.INCONCLUSIVE and power.seeds_needed:
        evidence += f"; about {power.seeds_needed} seeds would decide it"
    return Verdict(**base, status=status, test="envelope", estimate=float(ratio[worst]), ci=bound_ci, claimed=1.0,
                   threshold=1.0, evidence=evidence, p_value=power.p_value, detectable=power.factor,
                   seeds_needed=power.seeds_needed if status is Status.INCONCLUSIVE else None)


def _rate(claim: Claim, trace: Trace, values: np.ndarray, curve: FormCurve, base: dict) -> Verdict:
    """The slope of log(mean / form) at the asymptotic end of the grid, its trend, and a log-factor fit.

    Everything is put in order toward the asymptote (``claim.toward``), with u = log x (or log 1/x) for power
    forms and u = x for linear rates, so that a positive residual slope always means "faster than the form".
    The decision is on the local slope over the last three fit points; a slope still moving past the claim
    there (the last local slope against the one a point before) blocks a PASS. docs/statistics.md.
    """
    linear = curve.exponent == -math.inf
    test = "contraction" if linear else "rate"
    if curve.exponent == math.inf:
        raise ClaimError(f"claim {claim.name!r}: form {claim.form!r} grows exponentially; no rate test applies")
    if linear and claim.toward == "zero":
        raise ClaimError(f"claim {claim.name!r}: a contraction ({claim.form!r}) is a claim as "
                         f"{claim.axis} grows; toward='zero' does not apply")
    order = np.arange(len(trace.grid)) if claim.toward == "infinity" else np.arange(len(trace.grid))[::-1]
    grid, values, form = np.asarray(trace.grid, dtype=float)[order], values[:, order], curve.values[order]
    means = values.mean(axis=0)
    # The floor is for decaying metrics that reach rounding noise: its scale is the metric where the grid
    # starts, so a metric that grows (even past every power) keeps all its points.
    floor = stats.precision_floor(trace.dtype, float(abs(means[0])))
    start = int(len(grid) * (1 - claim.tail))
    window = [i for i in range(start, len(grid)) if means[i] > floor]
    over = claim.axis
    if claim.kind in ("theta", "lower") and not np.any(values[:, start:]):
        # A metric that is exactly 0 has no logarithm, but no positive C makes C times the form 0 either.
        return Verdict(**base, status=Status.FAIL, test=test,
                       evidence=f"the metric is exactly 0 at every seed and grid point of the fit window ({over} in "
                                f"[{grid[start]:g}, {grid[-1]:g}]): no positive constant makes it grow like "
                                f"{claim.form}")
    if len(window) < 3:
        return Verdict(**base, status=Status.INCONCLUSIVE, test=test,
                       evidence=f"only {len(window)} grid points in the fit window above the precision floor "
                                f"{floor:.2g} (need 3): extend the grid or lower the tail")
    edges = [window[0] - 1, *window] if window[0] > 0 else []
    if curve.exponent == 0 and edges and np.all(np.diff(form[edges]) > 0):
        # A form that grows slower than any power (log T) allows an additive constant, such as the cost of a
        # burn-in, which bends the metric on any finite grid: (a ln T - b) / ln T still rises, and only like
        # 1 / ln T. Increments between grid points cancel the constant: fit the increments of the metric
        # against those of the form. For a power T^a the constant's effect fades like T^-a, and increments
        # would only add noise (they difference independent runs when each grid point is its own run).
        fitted = np.diff(values[:, edges], axis=1)
        x_fit = np.sqrt(grid[edges[:-1]] * grid[edges[1:]])
        divisor = np.diff(form[edges])
    else:
        fitted, x_fit, divisor = values[:, window], grid[window], form[window]
    u = x_fit if linear else np.log(x_fit) * (1 if claim.toward == "infinity" else -1)
    fit = _RateFit(fitted, u, divisor, claim.level, linear)
    allowance, allowed = _allowance(claim, curve, u[-3:], linear)
    end = fit.end
    # The trend blocks a PASS when it is credible and, continued for one more point, would carry the slope past
    # the allowance: a slope that keeps rising at the top of the grid has not reached its asymptote.
    ahead = end.estimate + fit.trend.estimate if fit.trend is not None else end.estimate
    rising = fit.trend is not None and fit.trend.low > 0 and ahead > allowance
    falling = fit.trend is not None and fit.trend.high < 0 and ahead < -allowance
    if claim.kind == "upper":
        passes, fails = end.high <= allowance and not rising, end.low > allowance
        p_fail = stats.p_above(end, allowance)
    elif claim.kind == "lower":
        passes, fails = end.low >= -allowance and not falling, end.high < -allowance
        p_fail = stats.p_above(_negated(end), allowance)
    else:
        passes = end.low >= -allowance and end.high <= allowance and not (rising or falling)
        fails = end.low > allowance or end.high < -allowance
        p_fail = min(1.0, 2 * min(stats.p_above(end, allowance), stats.p_above(_negated(end), allowance)))
    seeds = len(trace.seeds)
    status = Status.PASS if passes else Status.FAIL if fails else Status.INCONCLUSIVE
    if status is Status.PASS and seeds < stats.MIN_SEEDS:
        status = Status.INCONCLUSIVE
    sign = 1 if claim.toward == "infinity" else -1
    offset = curve.linear_rate if linear else curve.exponent

    def shown(slope: float) -> float:
        return math.exp(slope + offset) if linear else offset + sign * slope

    def shown_ci(iv: stats.Interval) -> tuple[float, float]:
        return tuple(sorted((shown(iv.low), shown(iv.high))))  # type: ignore[return-value]

    edge = allowance if claim.kind != "lower" else -allowance
    name = "contraction factor per step" if linear else f"exponent of {over}"
    digits = ".6g" if linear else ".3g"  # a factor per step sits close to 1: three digits would hide it
    points = x_fit[-3:] if not linear else x_fit
    estimate, ci = shown(end.estimate), shown_ci(end)
    evidence = (f"fitted {name} {estimate:{digits}} [{ci[0]:{digits}}, {ci[1]:{digits}}] on {over} in "
                f"[{min(points):g}, {max(points):g}] vs claimed {shown(0.0):{digits}} ({allowed})")
    evidence += fit.describe(shown, digits, over)
    # only the trend that moves toward breaking the claim is news: an upper bound's slope still falling is safe
    if (rising and claim.kind != "lower") or (falling and claim.kind != "upper"):
        evidence += (f"; the slope is still {'rising' if rising else 'falling'} at the "
                     f"{'top' if sign > 0 else 'bottom'} of the grid, past the claim: extend the grid")
    needed = None
    if status is Status.INCONCLUSIVE:
        distance = min(abs(end.estimate - allowance), abs(end.estimate + allowance)) if claim.kind == "theta" \
            else abs(end.estimate - edge)
        needed = stats.seeds_to_decide(seeds, end.se, distance, claim.level)
        if seeds < stats.MIN_SEEDS:
            needed = max(needed or 0, stats.MIN_SEEDS)
            evidence += (f"; WARNING: {seeds} seeds is below the {stats.MIN_SEEDS} at which this interval's "
                         f"coverage was measured, so it cannot PASS")
        if not (math.isfinite(end.low) and math.isfinite(end.high)):
            evidence += ("; the mean is not credibly positive at some fitted point, so the interval is "
                         "unbounded: add seeds")
        elif needed and not (rising or falling):
            evidence += f"; about {needed} seeds would decide it"
    detectable = stats.detectable(end.se, seeds, claim.level)
    return Verdict(**base, status=status, test=test, estimate=estimate, ci=ci, claimed=shown(0.0),
                   threshold=shown(edge), evidence=evidence, p_value=p_fail,
                   detectable=(shown(allowance + detectable) if linear else allowance + detectable)
                   if math.isfinite(detectable) else None, seeds_needed=needed)


def _negated(interval: stats.Interval) -> stats.Interval:
    return dataclasses.replace(interval, estimate=-interval.estimate, low=-interval.high, high=-interval.low)


def _allowance(claim: Claim, curve: FormCurve, u_end: np.ndarray, linear: bool) -> tuple[float, str]:
    """The allowance on the residual slope, and how it was set, in words.

    Power rates: half the exponent one log factor makes over the end the decision is taken on (the slope of
    log u on u there): midway between "the form" and "the form times log x", so a metric one log factor over
    its claim FAILs and a sqrt(log x) factor sits on the edge. It is capped at ``ALLOWANCE_CAP``: on a low grid
    (x below about 150) a log factor's exponent passes 0.2, and the allowance would let through powers the
    grid does measure (an exponent 1.42 against a claimed 1 on s in [2, 4]); the cap keeps the test never
    looser than the fixed 0.1 it replaced. Where log x <= 0 (x <= 1 toward infinity) no log factor grows and
    the cap is used. Linear rates: ``tol`` (default 0.1) times abs(log rho).
    """
    if linear:
        tol = 0.1 if claim.tol is None else claim.tol
        return tol * abs(curve.linear_rate), f"tolerance {tol:g} x |log rho|"
    if claim.tol is not None:
        return claim.tol, f"tolerance {claim.tol:g}, the claim's own"
    if np.all(u_end > 0):
        allowance = float(stats.ols_slope(u_end, np.log(u_end))) / 2
        if allowance <= ALLOWANCE_CAP:
            return allowance, f"allowance {allowance:.3g}: half a log factor's exponent there"
        return ALLOWANCE_CAP, f"allowance {ALLOWANCE_CAP:g}: the cap, below half a log factor's {allowance:.3g} there"
    return ALLOWANCE_CAP, f"allowance {ALLOWANCE_CAP:g}: no log factor grows where log x <= 0"


class _RateFit:
    """The contrasts of one rate fit: local slopes over windows of three fit points, the slope at the end, its
    trend (the last local slope minus the one a point before), and a*u + b*log u over the whole fit."""

    def __init__(self, fitted: np.ndarray, u: np.ndarray, divisor: np.ndarray, level: float, linear: bool):
        n = len(u)
        rows = []
        for k in range(n - 2):  # local slopes, the last one at the asymptotic end
            row = np.zeros(n)
            row[k:k + 3] = stats.slope_weights(u[k:k + 3])
            rows.append(row)
        trend = [rows[-1] - rows[-2]] if n >= 4 else []
        model = None if linear else stats.log_model_weights(u)
        extra = [*trend, *([] if model is None else model)]
        found = stats.log_contrasts(fitted, divisor, np.array(rows + extra), level)
        self.local, self.end = found[:n - 2], found[n - 3]
        self.trend = found[n - 2] if trend else None
        self.model = found[-2:] if model is not None else None

    def describe(self, shown, digits: str, over: str) -> str:
        text = ""
        if len(self.local) > 1:
            text += f"; local {'factors' if digits == '.6g' else 'exponents'} " + \
                ", ".join(f"{shown(iv.estimate):{digits}}" for iv in self.local)
        if self.model is not None:
            power = self.model[1]
            text += (f"; fit with a free log factor: extra power of log {over} {power.estimate:.3g} "
                     f"[{power.low:.3g}, {power.high:.3g}]")
        return text


def _privacy(claim: Claim, trace: Trace, hyper: Mapping[str, object], base: dict) -> Verdict:
    """FAIL when the audit's lower bound exceeds the claim at some grid point; else PASS, which only says that
    no violation was found (see docs/privacy.md). The claim is the (epsilon, delta) point, or with
    ``curve="gaussian"`` the Gaussian-DP mu of noise calibrated to it (the whole curve). Every grid point and
    candidate neighbouring pair is audited at level 1 - alpha / (G P) (Bonferroni), so a private mechanism is
    FAILed with probability at most alpha."""
    pairs = ((claim.metric, claim.neighbour), *claim.pairs)
    missing = [name for pair in pairs for name in pair if name not in trace.metrics]
    if missing:
        return Verdict(**base, status=Status.ERROR, test="run",
                       evidence=f"trace has no neighbour metric {missing[0]!r} (has {sorted(trace.metrics)})")
    over, grid = claim.experiment.over, trace.grid
    epsilons = FormCurve(claim, trace, hyper).values
    deltas = (FormCurve(dataclasses.replace(claim, form=claim.delta), trace, hyper).values
              if isinstance(claim.delta, str) else np.full(len(grid), float(claim.delta)))
    gaussian = claim.curve == "gaussian"
    test = "privacy-gdp" if gaussian else "privacy"
    if np.any((deltas < 0) | (deltas >= 1)) or (gaussian and np.any(deltas <= 0)):
        why = "the Gaussian mechanism is never (epsilon, 0)-DP" if gaussian and np.all(deltas < 1) else "not in [0, 1)"
        return Verdict(**base, status=Status.ERROR, test=test,
                       evidence=f"delta {claim.delta!r} is {deltas.tolist()} on the grid: {why}")
    claimed = (np.array([privacy.gaussian_mu(float(e), float(d)) for e, d in zip(epsilons, deltas)])
               if gaussian else epsilons)
    point_level = 1 - (1 - claim.level) / (len(grid) * len(pairs))

    def audit_at(i: int, pair: tuple[str, str]) -> privacy.Audit:
        first, second = trace.metrics[pair[0]][:, i], trace.metrics[pair[1]][:, i]
        if gaussian:
            return privacy.gaussian_dp_lower_bound(first, second, level=point_level)
        return privacy.epsilon_lower_bound(first, second, delta=float(deltas[i]), level=point_level)

    every = [[(audit_at(i, pair), pair) for pair in pairs] for i in range(len(grid))]
    found = [max(at_point, key=lambda a: a[0].lower) for at_point in every]
    audits = [a for a, _ in found]
    # Bonferroni over every grid point and pair, as for the verdict
    tests = len(grid) * len(pairs)
    p_value = min(1.0, tests * min(privacy.violation_p_value(a, float(claimed[i]), delta=float(deltas[i]),
                                                             gaussian=gaussian)
                                   for i, at_point in enumerate(every) for a, _ in at_point))
    rows = tuple(Row(x=x, mean=a.estimate, low=a.lower, high=math.inf, form=c)
                 for x, a, c in zip(grid, audits, claimed))
    excess = np.array([a.lower - c for a, c in zip(audits, claimed)])
    worst = int(np.argmax(excess))
    audit, at = audits[worst], f"{over}={grid[worst]:g}"
    where = ", ".join(f"{over}={grid[i]:g}" for i in np.flatnonzero(excess > 0))
    tested = f"{len(grid)} grid points" + (f" x {len(pairs)} neighbouring pairs" if len(pairs) > 1 else "")
    how = (f"level {claim.level:g}: Clopper-Pearson on held-out seeds, Bonferroni over {tested}; "
           f"delta {deltas[worst]:g}")
    if gaussian:
        how += f"; mu {claimed[worst]:.3g} is that of Gaussian noise calibrated to epsilon {epsilons[worst]:.3g}"
    if len(pairs) > 1:
        how += f"; pair {found[worst][1][0]} vs {found[worst][1][1]}"
    unit = "Gaussian-DP mu" if gaussian else "epsilon"
    if excess.max() > 0:
        status = Status.FAIL
        evidence = (f"privacy violated at {where}: {unit} is at least {audit.lower:.3g} > claimed "
                    f"{claimed[worst]:.3g} at {at} ({how})")
    else:
        status = Status.PASS
        evidence = (f"no violation found: largest {unit} lower bound {audit.lower:.3g} vs claimed "
                    f"{claimed[worst]:.3g} at {at} ({how}); an audit never proves privacy, and these seeds "
                    f"could show at most {unit} {audit.ceiling:.3g}")
    return Verdict(**{**base, "rows": rows}, status=status, test=test, estimate=audit.lower,
                   ci=(audit.lower, math.inf), claimed=float(claimed[worst]), threshold=float(claimed[worst]),
                   evidence=evidence, p_value=p_value)
