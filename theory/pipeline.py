"""One session, from the cases a front end reports on to their results: ``plan`` the runs they need,
``measure`` each run once (through an executor and the store), ``judge`` each case once.

``run``, ``check``, ``audit`` and ``theory.check_algorithm`` all go through these three steps, so a claim gets
the same verdict whichever face asks; the pytest plugin judges one case per test item with the same
``cases.judge`` on one shared harness.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from theory.cases import Case, judge_claim, mutant_blocking, pairs
from theory.cases import blocking as claim_blocking
from theory.cases import judge as judge_case
from theory.claims import Claim
from theory.executors import Executor
from theory.harness import Harness, Progress
from theory.model import ClaimResult, MutantResult, NullResult
from theory.spec import Algorithm


@dataclass(frozen=True)
class Plan:
    """The cases to report on, the runs they need (each key hashed once by ``harness``) and the harness that
    holds the runs."""

    harness: Harness
    cases: tuple[Case, ...]
    runs: tuple[tuple[Algorithm, Claim], ...]


@dataclass(frozen=True)
class Judged:
    """Every case of a plan, judged: claims with their null learners, mutants on the claims they must break,
    null learners on the claims they must FAIL."""

    claims: tuple[ClaimResult, ...]
    mutants: tuple[tuple[Case, MutantResult], ...]
    nulls: tuple[tuple[Case, NullResult], ...]
    harness: Harness

    @property
    def ok(self) -> bool:
        """No claim blocks (FAIL, INCONCLUSIVE, VACUOUS, ERROR, ...), every mutant is caught or missed as
        declared, and every null learner FAILs."""
        return (not any(claim_blocking(r) for r in self.claims)
                and not any(mutant_blocking(case, r) for case, r in self.mutants)
                and all(r.refuted for _, r in self.nulls))


def plan(harness: Harness, cases: Iterable[Case], also: Iterable[tuple[Algorithm, Claim]] = ()) -> Plan:
    """The runs ``cases`` need (the correct version, each mutant and null learner), plus ``also``: runs a face
    judges beside the cases (audit's generated mutants)."""
    chosen = tuple(cases)
    return Plan(harness, chosen, tuple(pairs(harness, chosen)) + tuple(also))


def measure(plan: Plan, executor: Executor | None = None, progress: Progress | None = None) -> Plan:
    """Run every run of ``plan`` the store does not already hold, through ``executor`` (in this process by
    default); the harness keeps the traces for ``judge``."""
    plan.harness.prefetch(plan.runs, executor=executor, progress=progress)
    return plan


def judge(plan: Plan) -> Judged:
    """Every case of ``plan``, judged once (a claim's reference verdict is shared by its mutants and nulls)."""
    harness = plan.harness
    claims: list[ClaimResult] = []
    mutants: list[tuple[Case, MutantResult]] = []
    nulls: list[tuple[Case, NullResult]] = []
    for case in plan.cases:
        if case.error is not None:
            continue
        if case.mutant is None:
            algorithm = harness.registry.algorithm(case.algorithm)
            claims.append(judge_claim(harness, algorithm, algorithm.claim(case.claim)))
            continue
        result = judge_case(harness, case)
        if isinstance(result, NullResult):
            nulls.append((case, result))
        elif isinstance(result, MutantResult):
            mutants.append((case, result))
    return Judged(tuple(claims), tuple(mutants), tuple(nulls), harness)
