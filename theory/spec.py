"""What a plugin declares: papers, algorithms, mutants, instance families and instances.

All are frozen keyword-only dataclasses: a plugin returns them as data from its hooks, and the harness reads
everything it needs from them (never from a plugin's name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from theory.claims import Claim
from theory.errors import ClaimError
from theory.random import Gen

State = Any  # a dict or NamedTuple of tensors whose first axis is the seed batch
Hyper = Mapping[str, Any]
Init = Callable[["Instance", Hyper, Gen], State]
Step = Callable[[State, "Instance", int, Hyper, Gen], State]
Kernel = Callable[[State, "Instance", int, int, Hyper, Gen], State]  # steps first..last in one call
Metrics = Callable[[State, "Instance"], Mapping[str, torch.Tensor]]
# (PEPit problem, function, x0, x*, horizon N, hyper) -> {metric name: its PEPit expression after N steps}
PepBuild = Callable[[Any, Any, Any, Any, int, Hyper], Mapping[str, Any]]


@dataclass(frozen=True, kw_only=True)
class Paper:
    """The paper an algorithm and its claims come from."""

    title: str
    authors: str
    year: int
    arxiv: str = ""


@dataclass(frozen=True, kw_only=True)
class Instance:
    """A batch of problem instances, one per seed: tensors whose first axis is the seed batch.

    Families subclass this with their own tensors and feedback methods; ``params`` are the numeric
    parameters it was generated from.
    """

    params: Mapping[str, float]
    batch: int


@dataclass(frozen=True, kw_only=True)
class Param:
    """One instance parameter a family accepts: what it means, and the range inside the family's assumptions.

    ``low`` and ``high`` are inclusive bounds (None: unbounded); ``integer`` asks for a whole number. Experiments
    are validated against these when a plugin loads, and a counterexample search stays inside them.
    """

    meaning: str
    low: float | None = None
    high: float | None = None
    integer: bool = False


@dataclass(frozen=True, kw_only=True)
class Family:
    """An instance family: ``generate(params, gen)`` returns an Instance batched like ``gen``.

    ``parameters`` declares every parameter the family reads (name -> Param); ``defaults`` fills those an
    experiment leaves out.
    """

    name: str
    description: str
    generate: Callable[[Mapping[str, float], Gen], Instance]
    defaults: Mapping[str, float] = field(default_factory=dict)
    parameters: Mapping[str, Param] = field(default_factory=dict)

    def instance(self, params: Mapping[str, float], gen: Gen) -> Instance:
        return self.generate({**self.defaults, **params}, gen)


@dataclass(frozen=True, kw_only=True)
class Mutant:
    """A plausible bug: a hyper-parameter override or a replaced init/step, and the claims it must break.

    A replaced ``step`` runs without the algorithm's compiled ``kernel`` unless the mutant brings its own.
    """

    name: str
    bug: str
    breaks: tuple[str, ...]
    hyper: Mapping[str, Any] = field(default_factory=dict)
    init: Init | None = None
    step: Step | None = None
    kernel: Kernel | None = None


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    """An algorithm from a paper: a pure ``init``/``step`` pair over a batched state, and its claims.

    ``hyper`` holds the defaults the theorem prescribes; the runner adds ``horizon`` (the number of steps of
    the run). An ``anytime`` algorithm must not read ``horizon``: it is run once to the largest grid value
    and measured at every grid point; otherwise it is run once per grid point.

    ``nulls`` are learners that learn nothing (uniform random, frozen, greedy, no projection), declared like
    mutants: each must FAIL the claims it ``breaks``; a claim that a null learner PASSes is vacuous.

    ``pep`` says how the method reads in performance estimation, for algorithms whose step is a fixed linear
    combination of gradients and iterates: given a PEPit problem, the function of the claim's class, the
    starting point, the minimiser and a horizon N, it builds the N iterates with PEPit's operations and
    returns the PEPit expression of each metric it can state (``theory.pep``, docs/certificates.md). Without
    it, or for a mutant that replaces ``init`` or ``step``, a certificate is skipped with the reason.

    ``kernel`` is an optional compiled CPU path, chosen by measurement where torch's per-operation overhead
    dominates a step: ``kernel(state, instance, first, last, hyper, gen)`` does what calling ``step`` for
    ``t = first..last`` does, with the same random numbers (``theory.kernels``). The runner uses it on the
    CPU; ``step`` stays the reference and the path on other devices. tests/test_kernels.py holds every kernel
    to its step.
    """

    name: str
    paper: Paper
    family: str
    init: Init
    step: Step
    metrics: Metrics
    metric_names: tuple[str, ...]
    claims: tuple[Claim, ...]
    hyper: Mapping[str, Any] = field(default_factory=dict)
    mutants: tuple[Mutant, ...] = ()
    nulls: tuple[Mutant, ...] = ()
    anytime: bool = True
    version: str = "1"
    dtype: str = "float64"
    timeout_s: float = 120.0
    mutant_of: str | None = None
    kernel: Kernel | None = None
    pep: PepBuild | None = None

    def claim(self, name: str) -> Claim:
        for claim in self.claims:
            if claim.name == name:
                return claim
        raise ClaimError(f"algorithm {self.name!r} has no claim {name!r}")

    def mutant(self, name: str) -> Algorithm:
        """The algorithm with one of its mutants (or null learners) applied."""
        for m in (*self.mutants, *self.nulls):
            if m.name == name:
                return dataclasses.replace(
                    self, name=f"{self.name}[{m.name}]", hyper={**self.hyper, **m.hyper},
                    init=m.init or self.init, step=m.step or self.step, mutants=(), nulls=(), mutant_of=self.name,
                    kernel=m.kernel if m.step or m.kernel else self.kernel,
                    pep=None if m.step or m.init else self.pep)
        raise ClaimError(f"algorithm {self.name!r} has no mutant {name!r}")
