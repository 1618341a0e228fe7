"""Feasibility invariants: checks on every seed of a run (iterates stay in the domain), applied after a verdict.

A rate or bound test looks at means; an iterate that leaves the domain can still give a small mean regret (an
unprojected gradient step can beat the bound by leaving the ball). An ``Invariant`` declared by the algorithm or
the instance family therefore turns the verdict on that run into FAIL, naming the worst value, the seed and
the grid point, whatever the claim's own test said; that test's evidence is kept after it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from theory import stats
from theory.claims import Claim
from theory.model import Status, Trace, Verdict
from theory.spec import Algorithm, Family, Invariant


def applicable(algorithm: Algorithm, claim: Claim, family: Family) -> tuple[Invariant, ...]:
    """The algorithm's invariants on ``claim`` and the family's on the claim's instance family."""
    own = tuple(i for i in algorithm.invariants if not i.claims or claim.name in i.claims)
    return own + tuple(family.invariants)


def enforce(verdict: Verdict, trace: Trace, invariants: Sequence[Invariant]) -> Verdict:
    """``verdict``, or a FAIL naming the first invariant the trace breaks; a run that did not finish, or a
    metric the run does not measure (a family's null learner may not), is left as it is."""
    if verdict.status in (Status.ERROR, Status.TIMEOUT) or trace.status != "ok":
        return verdict
    for invariant in invariants:
        if invariant.metric not in trace.metrics:
            continue
        broken = _violation(invariant, trace)
        if broken is not None:
            worst, bound, evidence = broken
            return dataclasses.replace(verdict, status=Status.FAIL, test="invariant", estimate=worst, ci=None,
                                       claimed=bound, threshold=bound,
                                       evidence=f"{evidence}; the claim's own test: {verdict.status.value}, "
                                                f"{verdict.evidence}")
    return verdict


def _violation(invariant: Invariant, trace: Trace) -> tuple[float, float, str] | None:
    values = trace.metrics[invariant.metric]
    for bound, sign, relation in ((invariant.at_most, 1.0, ">"), (invariant.at_least, -1.0, "<")):
        if bound is None:
            continue
        slack = stats.exact_tolerance(trace.dtype) * max(1.0, abs(bound))  # rounding only
        excess = sign * (values - bound)
        bad = excess > slack
        if bad.any():
            seed, point = np.unravel_index(int(excess.argmax()), excess.shape)
            worst = float(values[seed, point])
            return worst, float(bound), (
                f"invariant {invariant.name!r} broken ({invariant.meaning}): {invariant.metric} = {worst:.4g} "
                f"{relation} {bound:g} at seed {trace.seeds[seed]}, {trace.experiment.over}="
                f"{trace.grid[point]:g} ({int(bad.any(axis=1).sum())} of {values.shape[0]} seeds)")
    return None
