"""Plan and run the jobs behind verdicts: which traces a set of claims needs, each measured once.

Claims that share an experiment share one trace. The seeds of a run are fixed by the base seed, so the same
plugin version, instance, seeds and device give the same verdict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from theory import invariants
from theory.claims import Claim
from theory.executors import Executor, InProcess, Job
from theory.fingerprint import code_fingerprint
from theory.judge import check
from theory.model import MutantResult, Verdict
from theory.random import seed_block
from theory.registry import Registry
from theory.runner import Trace, run
from theory.spec import Algorithm
from theory.store import Store, run_key


class Progress(Protocol):
    def start(self, total: int, reused: int) -> None: ...
    def advance(self, algorithm: str, status: str) -> None: ...


@dataclass(frozen=True)
class Budget:
    """How much to spend on each claim: quick grids and seed counts, or an explicit seed count."""

    quick: bool = False
    seeds: int | None = None
    base_seed: int = 0
    device: str = "cpu"


class Harness:
    """Measures each trace once per process, or once ever with a store: a stored run with the same key is
    reused (unless ``fresh``), and every new run is written to the store as soon as it finishes."""

    def __init__(self, registry: Registry, budget: Budget = Budget(), store: Store | None = None,
                 fresh: bool = False):
        self.registry = registry
        self.budget = budget
        self.store = store
        self.fresh = fresh
        self.computed = 0
        self.reused = 0
        self.keys_computed = 0  # run keys hashed: once per distinct run (tests/test_harness_keys.py counts it)
        self._traces: dict[str, Trace] = {}
        self._keys: dict[tuple, tuple[str, tuple[float, ...], tuple[int, ...]]] = {}
        self._verdicts: dict[tuple[str, str], Verdict] = {}

    def _key(self, algorithm: Algorithm, claim: Claim) -> tuple[str, tuple[float, ...], tuple[int, ...]]:
        """The run's store key, grid and seeds, hashed once per distinct run: what a run depends on beside the
        code (which a name and version stand for within one process) is its experiment and hyper-parameters."""
        memo = (algorithm.name, algorithm.version, algorithm.dtype, repr(algorithm.hyper), repr(claim.experiment))
        if memo not in self._keys:
            self.keys_computed += 1
            grid, count = claim.experiment.sized(self.budget.quick, self.budget.seeds)
            seeds = tuple(seed_block(self.budget.base_seed, count))
            family = self.registry.families[claim.experiment.family]
            compiled = getattr(algorithm.kernel, "steps", algorithm.kernel)  # a Kernel's code is its steps function
            code = code_fingerprint(algorithm.init, algorithm.step, algorithm.metrics, compiled, family.generate, run)
            key = run_key(algorithm.name, algorithm.version, claim.experiment, grid, seeds, self.budget.device,
                          algorithm.dtype, algorithm.hyper, code)
            self._keys[memo] = (key, tuple(grid), seeds)
        return self._keys[memo]

    def run_key(self, algorithm: Algorithm, claim: Claim) -> str:
        """The store key of the run this budget and the current code would make for ``claim``."""
        return self._key(algorithm, claim)[0]

    def prefetch(self, pairs: Iterable[tuple[Algorithm, Claim]], executor: Executor | None = None,
                 progress: Progress | None = None) -> None:
        """Measure every trace that ``pairs`` need: stored runs are reused, the others go through
        ``executor`` (in this process by default) and are written to the store as each one lands."""
        jobs: dict[str, Job] = {}
        for algorithm, claim in pairs:
            key, grid, seeds = self._key(algorithm, claim)
            if key in self._traces or key in jobs:
                continue
            stored = self.store.get_trace(key) if self.store is not None and not self.fresh else None
            if stored is not None:
                self.reused += 1
                self._traces[key] = stored
            else:
                jobs[key] = Job(key, algorithm.name, claim.name, grid, seeds, self.budget.device, claim.experiment)
        if progress is not None:
            progress.start(total=len(jobs), reused=self.reused)
        for job, trace in (executor or InProcess(self.registry).map)(list(jobs.values())):
            self.computed += 1
            if self.store is not None and trace.status != "timeout":  # a timeout may pass on a faster machine
                self.store.put_trace(job.key, trace)
            self._traces[job.key] = trace
            if progress is not None:
                progress.advance(job.algorithm, trace.status)

    def trace(self, algorithm: Algorithm, claim: Claim) -> Trace:
        self.prefetch([(algorithm, claim)])
        return self._traces[self._key(algorithm, claim)[0]]

    def verdict(self, algorithm: Algorithm, claim: Claim) -> Verdict:
        """The checker's verdict on the trace, turned into FAIL where a feasibility invariant is broken; judged
        once per run and claim (a mutant's reference is not judged again for every mutant)."""
        memo = (self._key(algorithm, claim)[0], repr(claim))
        if memo not in self._verdicts:
            self._verdicts[memo] = self._judge(algorithm, claim)
        return self._verdicts[memo]

    def _judge(self, algorithm: Algorithm, claim: Claim) -> Verdict:
        trace = self.trace(algorithm, claim)
        verdict = check(claim, trace, algorithm.hyper, mutant_of=algorithm.mutant_of)
        if verdict.expected_failure != claim.expected(self.budget.quick):  # a declaration of the quick budget
            verdict = dataclasses.replace(verdict, expected_failure=claim.expected(self.budget.quick))
        family = self.registry.families[claim.experiment.family]
        verdict = invariants.enforce(verdict, trace, invariants.applicable(algorithm, claim, family))
        if self.store is not None:
            self.store.put_verdict(self._key(algorithm, claim)[0], verdict)
        return verdict

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

    def null_learners(self, algorithm: Algorithm, claim: Claim) -> list[Algorithm]:
        """The null learners ``claim`` is also run on, applied to ``algorithm`` (``Algorithm.nulls_for``)."""
        family = self.registry.families[claim.experiment.family]
        return [algorithm.variant(m) for m in algorithm.nulls_for(claim, family)]
