"""Counterexample search: look for the instance of a claim's family on which the claim breaks worst.

Sampling checks a claim on the instance its experiment names; a false claim often holds there and breaks in
a corner of the family. ``falsify`` searches the family's declared parameters (``Family.parameters``, each
within its ``Param`` range, so the search stays inside the claim's assumptions; a tuple parameter, such as a
sequence of means or losses, is searched coordinate by coordinate) with scipy's differential evolution, under
a time budget, and maximises a score of how badly the claim is broken:

- an explicit upper (lower) bound: the largest mean / bound (bound / mean) over the grid;
- an O-claim: the fitted exponent of mean / form minus the allowance (upper: slope - tol, or the 0.1 cap);
- an exact claim: the largest relative error over its tolerance.

The score is a point estimate on a few search seeds, chosen for speed and biased upwards by the search
itself (the winner's curse). So the worst instance found is then judged afresh by the checker
(``theory.judge``) on a disjoint block of seeds, with the claim's own seed count: a FAIL there is a
counterexample at the claim's confidence level; anything else means none was found, which is evidence, never
proof, that the claim holds on the family (docs/certificates.md).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from theory import stats
from theory.claims import Claim, evaluate
from theory.judge import ALLOWANCE_CAP, check
from theory.model import Status, Verdict
from theory.random import seed_block
from theory.runner import Trace, run
from theory.spec import Algorithm, Family

BUDGET_S = 15.0
SEARCH_SEEDS = 16
REJECTED = -1e6  # the score of a refused candidate: below any real score, finite so the optimiser's statistics stay so
SEARCH_SEED_BLOCK = 7_919  # base seed of the search's seeds: a block no run of the claim itself uses


class NotSearchable(Exception):
    """The claim or its family offers nothing to search; the message says why."""


@dataclass(frozen=True)
class Dimension:
    """One searched coordinate: parameter ``name`` (coordinate ``index`` of a tuple, or None), its range."""

    name: str
    index: int | None
    low: float
    high: float
    integer: bool


@dataclass(frozen=True)
class Search:
    """The outcome: the worst instance's parameters, its search score and the checker's verdict on it."""

    algorithm: str
    claim: str
    params: Mapping[str, Any]
    score: float
    verdict: Verdict
    evaluations: int
    rejected: int
    seconds: float
    dimensions: tuple[Dimension, ...]

    @property
    def counterexample(self) -> bool:
        return self.verdict.status is Status.FAIL


def dimensions(family: Family, claim: Claim, vary: Sequence[str] | None = None) -> tuple[Dimension, ...]:
    """The coordinates to search: every bounded parameter of the family, or those named in ``vary``."""
    fixed = {claim.experiment.over} | {k for k, v in claim.experiment.params.items() if isinstance(v, str)}
    unknown = set(vary or ()) - set(family.parameters)
    if unknown:
        raise NotSearchable(f"family {family.name!r} declares no parameter {sorted(unknown)} "
                            f"(it declares {sorted(family.parameters) or 'none'})")
    found = []
    for name, param in family.parameters.items():
        if name in fixed or (vary and name not in vary) or param.low is None or param.high is None:
            continue
        if param.low >= param.high:
            continue
        current = claim.experiment.params.get(name, family.defaults.get(name))
        indices = range(len(current)) if isinstance(current, tuple) else [None]
        found += [Dimension(name, i, float(param.low), float(param.high), param.integer) for i in indices]
    if not found:
        raise NotSearchable(f"family {family.name!r} declares no bounded parameter to search "
                            f"(Family.parameters with low and high)")
    return tuple(found)


def falsify(algorithm: Algorithm, family: Family, claim: Claim, *, budget_s: float = BUDGET_S,
            vary: Sequence[str] | None = None, at: Mapping[str, Any] | None = None, base_seed: int = 0,
            seeds: int | None = None, quick: bool = False, device: str = "cpu") -> Search:
    """Search for the instance that breaks ``claim`` worst, then judge it on fresh seeds.

    ``at`` skips the search and judges the given parameters (how a reported counterexample is reproduced).
    """
    dims = dimensions(family, claim, vary)
    grid, count = claim.experiment.sized(quick, seeds)
    started = time.monotonic()
    objective = _Objective(algorithm, family, claim, dims, grid, device)
    if at is None:
        objective.search(budget_s)
        params = objective.best_params
    else:
        params = dict(at)
    experiment = dataclasses.replace(claim.experiment, params={**claim.experiment.params, **params})
    trace = run(algorithm, family, experiment, grid, seed_block(base_seed, count), device=device)
    verdict = check(dataclasses.replace(claim, experiment=experiment), trace, algorithm.hyper,
                    mutant_of=algorithm.mutant_of)
    return Search(algorithm=algorithm.name, claim=claim.name, params=params, score=objective.best_score,
                  verdict=verdict, evaluations=objective.evaluations, rejected=objective.rejected,
                  seconds=time.monotonic() - started, dimensions=dims)


class _OutOfTime(Exception):
    pass


class _Found(Exception):
    """A candidate that breaks an explicit bound credibly on the search seeds: stop and judge it afresh."""


class _Objective:
    """The search score of one candidate, on the search seeds; remembers the best candidate seen."""

    def __init__(self, algorithm: Algorithm, family: Family, claim: Claim, dims: tuple[Dimension, ...],
                 grid: Sequence[float], device: str):
        if claim.kind not in ("upper", "lower", "exact"):
            raise NotSearchable(f"claim {claim.name!r} is of kind {claim.kind!r}: only upper, lower and exact "
                                f"claims have a score to maximise")
        self.algorithm, self.family, self.claim, self.dims = algorithm, family, claim, dims
        self.grid, self.device = tuple(grid), device
        self.seeds = seed_block(SEARCH_SEED_BLOCK, SEARCH_SEEDS)
        self.best_score, self.best_params = -math.inf, dict(self.decode(self.start()))
        self.evaluations = self.rejected = 0
        self.deadline = math.inf
        self.credible = False  # whether the last candidate scored broke an explicit bound credibly

    def start(self) -> np.ndarray:
        """The claim's own instance, clipped into the ranges: the search's first candidate."""
        params: dict[str, Any] = {**self.family.defaults, **self.claim.experiment.params}
        values = [params[d.name] if d.index is None else params[d.name][d.index] for d in self.dims]
        return np.clip(np.array(values, dtype=float), [d.low for d in self.dims], [d.high for d in self.dims])

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for d, value in zip(self.dims, x):
            value = float(round(value)) if d.integer else float(value)
            if d.index is None:
                params[d.name] = value
            else:
                current = list(params.get(d.name, self.claim.experiment.params.get(d.name,
                                                                                   self.family.defaults[d.name])))
                current[d.index] = value
                params[d.name] = tuple(current)
        return params

    def search(self, budget_s: float) -> None:
        self.deadline = time.monotonic() + budget_s
        bounds = [(d.low, d.high) for d in self.dims]
        try:
            optimize.differential_evolution(lambda x: -self(x), bounds, x0=self.start(), seed=0, polish=False,
                                            maxiter=1000, init="latinhypercube")
        except (_OutOfTime, _Found):
            pass

    def __call__(self, x: np.ndarray) -> float:
        if time.monotonic() > self.deadline:
            raise _OutOfTime()
        params = self.decode(x)
        self.evaluations += 1
        self.credible = False
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # an overflowing candidate is rejected below
                score = self.score(params)
        except Exception:  # outside the family (a parameter combination it refuses): not a candidate
            score = -math.inf
        if not math.isfinite(score):
            self.rejected += 1
            return REJECTED
        if score > self.best_score:
            self.best_score, self.best_params = score, params
            if self.credible:
                raise _Found()
        return score

    def score(self, params: Mapping[str, Any]) -> float:
        experiment = dataclasses.replace(self.claim.experiment, params={**self.claim.experiment.params, **params})
        trace = run(self.algorithm, self.family, experiment, self.grid, self.seeds, device=self.device)
        if trace.status != "ok":
            return -math.inf
        means = trace.metrics[self.claim.metric].mean(axis=0)
        form = form_values(self.claim, experiment, trace, self.algorithm.hyper)
        if self.claim.kind == "exact":
            error = stats.relative_error(trace.metrics[self.claim.metric], form[None, :]).max()
            return float(error / (self.claim.rtol or stats.exact_tolerance(trace.dtype)))
        ratio = means / form if self.claim.kind == "upper" else form / means
        if self.claim.explicit:
            tests = stats.mean_tests(trace.metrics[self.claim.metric], form, self.claim.level)
            outside = tests.p_above if self.claim.kind == "upper" else tests.p_below
            self.credible = bool(stats.holm(outside, 1 - self.claim.level).any())
            return float(ratio.max())
        start = int(len(self.grid) * (1 - self.claim.tail))
        slope = float(stats.ols_slope(np.log(np.asarray(self.grid[start:])), np.log(ratio[start:])))
        # the judge's allowance follows from the grid; the search, which only ranks candidates before the judge
        # decides, subtracts the claim's tol or the allowance's cap
        return slope - (self.claim.tol if self.claim.tol is not None else ALLOWANCE_CAP)


def form_values(claim: Claim, experiment: Any, trace: Trace, hyper: Mapping[str, Any]) -> np.ndarray:
    """The claim's form at every grid point of ``trace`` for ``experiment``'s parameters, free constants = 1."""
    numeric = {k: float(v) for k, v in hyper.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    expr = claim.expression(frozenset(numeric))
    values = []
    for x in trace.grid:
        point = {k: float(v) for k, v in experiment.at(x).items() if isinstance(v, (int, float))}
        constants = {name: float(value) for name, value in claim.constant_values().items()}
        values.append(evaluate(expr, {**numeric, **point, **constants, **{f: 1.0 for f in claim.free}}))
    return np.array(values)
