"""Claim x Trace -> Verdict. The checker judges; it never runs anything.

Which test a claim gets follows from its form, not from its plugin:
- ``exact``: relative error under a dtype-aware tolerance, at every seed and grid point;
- no free constant (an explicit bound): a one-sided t-test at every grid point (PASS needs all of them,
  an intersection-union test at the stated level; FAIL needs one, Holm-corrected across the grid);
- a free constant and a power-like form (``C*sqrt(K*T*log(T))``): the log-log slope of the mean after
  dividing by the form, with a bootstrap-over-seeds interval; log factors are divided out, not absorbed;
- a free constant and an exponentially decaying form (``C*rho**t``): the per-step contraction factor,
  fitted on the log of the mean above the precision floor;
- ``privacy``: an epsilon lower bound from the outputs on two neighbouring inputs (``theory.privacy``).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy

from theory import privacy, stats
from theory.claims import Claim, parse_form
from theory.errors import ClaimError
from theory.runner import Trace


class Status(str, enum.Enum):
    """The outcome of judging a claim: PASS, FAIL or INCONCLUSIVE on the evidence; ERROR or TIMEOUT when the
    run behind it did not finish."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"


@dataclass(frozen=True, kw_only=True)
class Row:
    """One grid point: the mean metric, its confidence bounds, and the form's value there (free constants = 1)."""

    x: float
    mean: float
    low: float
    high: float
    form: float


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """What the checker concluded about one claim of one algorithm, and why.

    ``estimate`` and ``ci`` are the fitted exponent, contraction factor, worst mean/bound ratio or largest
    relative error (by ``test``), with its interval at ``level``; ``claimed`` and ``threshold`` are the value
    the claim states and the edge of its tolerance; ``evidence`` says in words where and by how much; ``rows``
    hold the mean metric and the form at every grid point.

    The hidden constant (``hidden_constant``): for an O-claim, ``constant`` is the fitted C = mean / form at the
    top grid point above the precision floor (``constant_at``), with ``constant_ci`` from the mean's confidence
    bounds there; for an explicit bound, ``looseness`` is mean / bound at every grid point (measured / claimed).
    """

    algorithm: str
    claim: str
    status: Status
    test: str
    level: float
    evidence: str
    source: str = ""
    estimate: float | None = None
    ci: tuple[float, float] | None = None
    claimed: float | None = None
    threshold: float | None = None
    seeds: int = 0
    rows: tuple[Row, ...] = field(default_factory=tuple)
    expected_failure: str | None = None
    mutant_of: str | None = None
    constant: float | None = None
    constant_ci: tuple[float, float] | None = None
    constant_at: float | None = None
    looseness: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        """Rows read back from JSON hold lists: keep the tuples the fields declare."""
        if self.constant_ci is not None:
            object.__setattr__(self, "constant_ci", tuple(self.constant_ci))
        object.__setattr__(self, "looseness", tuple(self.looseness))


def check(claim: Claim, trace: Trace, hyper: Mapping[str, object] | None = None,
          mutant_of: str | None = None) -> Verdict:
    """Judge ``claim`` on ``trace``; ``hyper`` binds hyper-parameter symbols used in the form."""
    base = dict(algorithm=trace.algorithm, claim=claim.name, level=claim.level, source=claim.source,
                seeds=len(trace.seeds), expected_failure=claim.expected_failure, mutant_of=mutant_of)
    if trace.status != "ok":
        status = Status.TIMEOUT if trace.status == "timeout" else Status.ERROR
        return Verdict(**base, status=status, test="run", evidence=trace.message)
    if claim.metric not in trace.metrics:
        return Verdict(**base, status=Status.ERROR, test="run",
                       evidence=f"trace has no metric {claim.metric!r} (has {sorted(trace.metrics)})")
    if claim.kind == "privacy":
        return _privacy(claim, trace, hyper or {}, base)
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
        return dataclasses.replace(_envelope(claim, tests, curve, base), **constant)
    return dataclasses.replace(_rate(claim, trace, values, curve, base), **constant)


def hidden_constant(claim: Claim, tests: stats.MeanTests, curve: FormCurve, grid: tuple[float, ...],
                    dtype: str) -> dict[str, object]:
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

    Parameters given as expressions of the scaling variable are substituted, free constants set to 1.
    ``exponent`` is the form's power of x at infinity (lim x f'/f): finite for power-like forms (log
    factors do not change it), -inf for exponentially decaying ones, whose per-step log factor is ``log_rate``.
    """

    def __init__(self, claim: Claim, trace: Trace, hyper: Mapping[str, object]):
        experiment = claim.experiment
        numeric_hyper = {k: float(v) for k, v in hyper.items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool)}
        expr = claim.expression(frozenset(numeric_hyper))
        x = sympy.Symbol(experiment.over, positive=True)
        fixed = experiment.scalars()
        subs: dict[sympy.Symbol, sympy.Expr | float] = {
            sympy.Symbol(k, positive=True): v for k, v in {**numeric_hyper, **fixed, **claim.constants}.items()}
        subs.update({sympy.Symbol(k, positive=True): 1 for k in claim.free})
        for key, text in experiment.params.items():
            if isinstance(text, str):
                parsed = parse_form(text, frozenset(fixed) | {experiment.over})
                subs[sympy.Symbol(key, positive=True)] = parsed.subs(subs)
        self.expr = expr.subs(subs)
        if self.expr.free_symbols - {x}:
            raise ClaimError(f"claim {claim.name!r}: form {claim.form!r} leaves {self.expr.free_symbols - {x}} unbound")
        self.values = np.array([float(self.expr.subs(x, v).evalf()) for v in trace.grid])
        if not np.all(np.isfinite(self.values)) or np.any(self.values <= 0):
            raise ClaimError(f"claim {claim.name!r}: form {claim.form!r} is not positive and finite on {trace.grid}")
        try:
            shape = _active_branches(self.expr, x, trace.grid[-1])
            self.exponent = float(sympy.limit(x * sympy.diff(shape, x) / shape, x, sympy.oo))
            self.log_rate = (float(sympy.limit(sympy.diff(sympy.log(shape), x), x, sympy.oo))
                             if self.exponent == -math.inf else None)
        except (NotImplementedError, TypeError, ValueError) as exc:
            raise ClaimError(f"claim {claim.name!r}: cannot find how form {claim.form!r} scales in "
                             f"{experiment.over} ({type(exc).__name__})") from None


def _active_branches(expr: sympy.Expr, x: sympy.Symbol, at: float) -> sympy.Expr:
    """``expr`` with every max and min replaced by its argument that is active at ``x = at`` (the top of the
    grid, where rates are fitted): sympy takes no limits through Max and Min."""
    def pick(node: sympy.Expr) -> sympy.Expr:
        values = [float(arg.subs(x, at)) for arg in node.args]
        chosen = max(values) if isinstance(node, sympy.Max) else min(values)
        return node.args[values.index(chosen)]

    return expr.replace(lambda node: isinstance(node, (sympy.Max, sympy.Min)), pick)


def _exact(claim: Claim, trace: Trace, values: np.ndarray, curve: FormCurve, base: dict) -> Verdict:
    tolerance = claim.rtol if claim.rtol is not None else stats.exact_tolerance(trace.dtype)
    error = stats.relative_error(values, curve.values[None, :])
    worst = float(error.max())
    seed, point = np.unravel_index(int(error.argmax()), error.shape)
    status = Status.PASS if worst <= tolerance else Status.FAIL
    return Verdict(**base, status=status, test="exact", estimate=worst, claimed=tolerance, threshold=tolerance,
                   evidence=f"largest relative error {worst:.3g} (seed {trace.seeds[seed]}, {claim.experiment.over}="
                            f"{trace.grid[point]:g}) against tolerance {tolerance:.1g} for {trace.dtype}")


def _envelope(claim: Claim, tests: stats.MeanTests, curve: FormCurve, base: dict) -> Verdict:
    alpha = 1 - claim.level
    upper = claim.kind == "upper"
    ratio = tests.mean / curve.values
    confident_inside = tests.p_below if upper else tests.p_above
    confident_outside = tests.p_above if upper else tests.p_below
    broken = stats.holm(confident_outside, alpha)
    worst = int(np.argmax(ratio) if upper else np.argmin(ratio))
    bound_ci = (float(tests.lower[worst] / curve.values[worst]), float(tests.upper[worst] / curve.values[worst]))
    where = ", ".join(f"{claim.experiment.over}={base['rows'][i].x:g}" for i in np.flatnonzero(broken))
    side = "above" if upper else "below"
    if broken.any():
        status, evidence = Status.FAIL, f"mean credibly {side} the bound at {where} (Holm, alpha={alpha:g})"
    elif np.all(confident_inside <= alpha):
        status, evidence = Status.PASS, f"mean credibly {'under' if upper else 'over'} the bound at every grid point"
    else:
        unsure = ", ".join(f"{claim.experiment.over}={base['rows'][i].x:g}"
                           for i in np.flatnonzero(confident_inside > alpha))
        status, evidence = Status.INCONCLUSIVE, f"cannot tell whether the mean is {side} the bound at {unsure}"
    return Verdict(**base, status=status, test="envelope", estimate=float(ratio[worst]), ci=bound_ci, claimed=1.0,
                   threshold=1.0, evidence=f"{evidence}; worst mean/bound {ratio[worst]:.3g}")


def _rate(claim: Claim, trace: Trace, values: np.ndarray, curve: FormCurve, base: dict) -> Verdict:
    grid = np.asarray(trace.grid)
    means = values.mean(axis=0)
    floor = stats.precision_floor(trace.dtype, float(np.abs(means).max()))
    start = int(len(grid) * (1 - claim.tail))
    window = [i for i in range(start, len(grid)) if means[i] > floor]
    linear = curve.exponent == -math.inf
    if curve.exponent == math.inf:
        raise ClaimError(f"claim {claim.name!r}: form {claim.form!r} grows exponentially; no rate test applies")
    if len(window) < 3:
        return Verdict(**base, status=Status.INCONCLUSIVE, test="contraction" if linear else "rate",
                       evidence=f"only {len(window)} grid points in the fit window above the precision floor "
                                f"{floor:.2g} (need 3): extend the grid or lower the tail")
    rng = np.random.default_rng(_bootstrap_seed(trace, claim))
    edges = [window[0] - 1, *window] if window[0] > 0 else []
    if curve.exponent == 0 and edges and np.all(np.diff(curve.values[edges]) > 0):
        # A form that grows slower than any power (log T) allows an additive constant, such as the cost of a
        # burn-in, which bends the metric on any finite grid: (a ln T - b) / ln T still rises, and only like
        # 1 / ln T. Increments between grid points cancel the constant: fit the increments of the metric
        # against those of the form. For a power T^a the constant's effect fades like T^-a, and increments
        # would only add noise (they difference independent runs when each grid point is its own run).
        fitted = np.diff(values[:, edges], axis=1)
        x_fit = np.sqrt(grid[edges[:-1]] * grid[edges[1:]])
        divisor = np.diff(curve.values[edges])
    else:
        fitted, x_fit, divisor = values[:, window], grid[window], curve.values[window]
    residual = stats.bootstrap_slope(fitted, x_fit, divisor, log_x=not linear, level=claim.level, rng=rng)
    # The residual slope is 0 when the metric follows the form exactly; tol is on the exponent (power
    # rates) or relative to the claimed log-contraction per step (linear rates).
    offset = curve.log_rate if linear else curve.exponent
    allowance = claim.tol * abs(curve.log_rate) if linear else claim.tol
    low, high = residual.low, residual.high
    if claim.kind == "upper":
        passes, fails = high <= allowance, low > allowance
    elif claim.kind == "lower":
        passes, fails = low >= -allowance, high < -allowance
    else:
        passes, fails = (low >= -allowance and high <= allowance), (low > allowance or high < -allowance)
    status = Status.PASS if passes else Status.FAIL if fails else Status.INCONCLUSIVE
    shown = (lambda s: math.exp(s + offset)) if linear else (lambda s: s + offset)
    name = "contraction factor per step" if linear else f"exponent of {claim.experiment.over}"
    estimate, ci = shown(residual.estimate), (shown(low), shown(high))
    claimed = shown(0.0)
    threshold = shown(allowance if claim.kind != "lower" else -allowance)
    digits = ".6g" if linear else ".3g"  # a factor per step sits close to 1: three digits would hide it
    evidence = (f"fitted {name} {estimate:{digits}} [{ci[0]:{digits}}, {ci[1]:{digits}}] on "
                f"{claim.experiment.over} in [{grid[window[0]]:g}, {grid[window[-1]]:g}] vs claimed "
                f"{claimed:{digits}} (tolerance {claim.tol:g})")
    if status is Status.INCONCLUSIVE:
        needed = stats.seeds_to_decide(len(trace.seeds), residual, allowance if claim.kind != "lower" else -allowance)
        if needed:
            evidence += f"; about {needed} seeds would decide it"
        elif not (math.isfinite(low) and math.isfinite(high)):
            evidence += ("; the mean is not positive in some bootstrap resamples, so the interval is "
                         "unbounded: add seeds")
    return Verdict(**base, status=status, test="contraction" if linear else "rate", estimate=estimate, ci=ci,
                   claimed=claimed, threshold=threshold, evidence=evidence)


def _privacy(claim: Claim, trace: Trace, hyper: Mapping[str, object], base: dict) -> Verdict:
    """FAIL when the audit's epsilon lower bound exceeds the claimed epsilon at some grid point; else PASS,
    which only says that no violation was found (see docs/privacy.md). Each grid point is audited at level
    1 - alpha / G (Bonferroni), so a private mechanism is FAILed with probability at most alpha."""
    if claim.neighbour not in trace.metrics:
        return Verdict(**base, status=Status.ERROR, test="run",
                       evidence=f"trace has no neighbour metric {claim.neighbour!r} (has {sorted(trace.metrics)})")
    over, grid = claim.experiment.over, trace.grid
    claimed = FormCurve(claim, trace, hyper).values
    deltas = (FormCurve(dataclasses.replace(claim, form=claim.delta), trace, hyper).values
              if isinstance(claim.delta, str) else np.full(len(grid), float(claim.delta)))
    if np.any((deltas < 0) | (deltas >= 1)):
        return Verdict(**base, status=Status.ERROR, test="privacy",
                       evidence=f"delta {claim.delta!r} is {deltas.tolist()} on the grid, not in [0, 1)")
    point_level = 1 - (1 - claim.level) / len(grid)
    audits = [privacy.epsilon_lower_bound(trace.metrics[claim.metric][:, i], trace.metrics[claim.neighbour][:, i],
                                          delta=float(deltas[i]), level=point_level) for i in range(len(grid))]
    rows = tuple(Row(x=x, mean=a.estimate, low=a.lower, high=math.inf, form=c)
                 for x, a, c in zip(grid, audits, claimed))
    excess = np.array([a.lower - c for a, c in zip(audits, claimed)])
    worst = int(np.argmax(excess))
    audit, at = audits[worst], f"{over}={grid[worst]:g}"
    where = ", ".join(f"{over}={grid[i]:g}" for i in np.flatnonzero(excess > 0))
    how = (f"level {claim.level:g}: Clopper-Pearson on held-out seeds, Bonferroni over {len(grid)} grid points; "
           f"delta {deltas[worst]:g}")
    if excess.max() > 0:
        status = Status.FAIL
        evidence = (f"privacy violated at {where}: epsilon is at least {audit.lower:.3g} > claimed "
                    f"{claimed[worst]:.3g} at {at} ({how})")
    else:
        status = Status.PASS
        evidence = (f"no violation found: largest epsilon lower bound {audit.lower:.3g} vs claimed "
                    f"{claimed[worst]:.3g} at {at} ({how}); an audit never proves privacy, and these seeds "
                    f"could show at most epsilon {audit.ceiling:.3g}")
    return Verdict(**{**base, "rows": rows}, status=status, test="privacy", estimate=audit.lower,
                   ci=(audit.lower, math.inf), claimed=float(claimed[worst]), threshold=float(claimed[worst]),
                   evidence=evidence)


def _bootstrap_seed(trace: Trace, claim: Claim) -> int:
    """A bootstrap seed fixed by what was measured, so the same trace always gives the same verdict."""
    key = f"{trace.algorithm}|{claim.name}|{trace.seeds[0]}|{len(trace.seeds)}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")
