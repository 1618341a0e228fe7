"""Plan and run the jobs behind verdicts: which traces a set of claims needs, each measured once.

Claims that share an experiment share one trace. The seeds of a run are fixed by the base seed, so the same
plugin version, instance, seeds and device give the same verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from theory.check import Status, Verdict, check
from theory.claims import Claim
from theory.random import seed_block
from theory.registry import Registry
from theory.runner import Trace, run
from theory.spec import Algorithm


@dataclass(frozen=True)
class Budget:
    """How much to spend on each claim: quick grids and seed counts, or an explicit seed count."""

    quick: bool = False
    seeds: int | None = None
    base_seed: int = 0
    device: str = "cpu"


@dataclass(frozen=True)
class MutantResult:
    """A mutant's verdict on a claim it must break, beside the correct version's verdict on that claim."""

    mutant: Verdict
    reference: Verdict

    @property
    def caught(self) -> bool:
        return self.mutant.status is Status.FAIL and self.reference.status is Status.PASS


class Harness:
    def __init__(self, registry: Registry, budget: Budget = Budget()):
        self.registry = registry
        self.budget = budget
        self._traces: dict[tuple, Trace] = {}

    def trace(self, algorithm: Algorithm, claim: Claim) -> Trace:
        experiment = claim.experiment
        grid, count = experiment.sized(self.budget.quick, self.budget.seeds)
        seeds = tuple(seed_block(self.budget.base_seed, count))
        key = (algorithm.name, algorithm.version, experiment.family, experiment.over, tuple(grid),
               tuple(sorted(experiment.params.items())), experiment.steps, seeds, self.budget.device)
        if key not in self._traces:
            family = self.registry.families[experiment.family]
            self._traces[key] = run(algorithm, family, experiment, grid, seeds, device=self.budget.device)
        return self._traces[key]

    def verdict(self, algorithm: Algorithm, claim: Claim) -> Verdict:
        return check(claim, self.trace(algorithm, claim), algorithm.hyper, mutant_of=algorithm.mutant_of)

    def verdicts(self, algorithms: Iterable[Algorithm]) -> list[Verdict]:
        return [self.verdict(a, c) for a in algorithms for c in a.claims]

    def mutant_results(self, algorithm: Algorithm) -> list[MutantResult]:
        """Every mutant of ``algorithm`` on every claim it must break, with the reference verdict."""
        results = []
        for mutant in algorithm.mutants:
            broken = algorithm.mutant(mutant.name)
            for claim_name in mutant.breaks:
                claim = algorithm.claim(claim_name)
                results.append(MutantResult(self.verdict(broken, claim), self.verdict(algorithm, claim)))
        return results
