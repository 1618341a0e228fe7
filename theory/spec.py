"""What a plugin declares: papers, algorithms, mutants, instance families and instances.

All are frozen keyword-only dataclasses: a plugin returns them as data from its hooks, and the harness reads
everything it needs from them (never from a plugin's name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import torch

from theory.claims import Claim, check_symbol_name
from theory.errors import ClaimError
from theory.model import Subject
from theory.random import Gen

State = Any  # a dict or NamedTuple of tensors whose first axis is the seed batch
Hyper = Mapping[str, Any]
# The instance argument is typed Any: each family passes its own Instance subclass, and a callable that takes
# a BanditInstance is not a callable that takes any Instance.
Init = Callable[[Any, Hyper, Gen], State]
Step = Callable[[State, Any, int, Hyper, Gen], State]
Kernel = Callable[[State, Any, int, int, Hyper, Gen], State]  # steps first..last in one call
Metrics = Callable[[State, Any], Mapping[str, torch.Tensor]]
Schedule = Literal["anytime", "per_horizon", "once"]
SCHEDULES: tuple[str, ...] = ("anytime", "per_horizon", "once")
# (PEPit problem, function, x0, x*, horizon N, hyper) -> {metric name: its PEPit expression after N steps}
PepBuild = Callable[[Any, Any, Any, Any, int, Hyper], Mapping[str, Any]]
M = TypeVar("M", bound=Callable[..., Any])


def measures(*names: str) -> Callable[[M], M]:
    """Name, on a metrics function, the metrics it returns: the one place they are declared.

        @measures("regret", "pulls")
        def metrics(state, instance): ...

    ``Algorithm.metric_names`` reads them, the registry checks claims against them and the runner holds every
    run to them. A function already declaring other names is refused: declare a new function instead of
    renaming the metrics of one another algorithm shares."""
    if not names or len(set(names)) < len(names) or not all(isinstance(n, str) and n for n in names):
        raise ClaimError(f"measures() needs distinct metric names, got {names!r}")

    def declare(metrics: M) -> M:
        declared = getattr(metrics, "measures", None)
        if declared is not None and tuple(declared) != names:
            raise ClaimError(f"{getattr(metrics, '__qualname__', metrics)!r} already measures {declared}")
        metrics.measures = names  # type: ignore[attr-defined]
        return metrics

    return declare


def metric_names_of(metrics: Metrics | None) -> tuple[str, ...]:
    """What ``metrics`` declares it returns (``measures``); () for None or an undeclared function."""
    return tuple(getattr(metrics, "measures", ())) if metrics is not None else ()


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

    params: Mapping[str, Any]
    batch: int
    mode: str | None = None  # the experiment's measurement mode (Experiment.mode), set by Family.instance


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
class Invariant:
    """A feasibility check on a metric: every seed at every grid point must have ``metric <= at_most`` and/or
    ``metric >= at_least`` (e.g. the distance of the iterate outside the domain stays <= 0).

    A run that breaks it FAILs the claim it was run for, whatever the claim's own test says, with the worst
    value as evidence. The comparison allows only the rounding of the run's dtype. ``claims`` limits an
    algorithm's invariant to the claims named (empty: all of them); a family's applies to every run on the
    family that measures ``metric``.
    """

    name: str
    metric: str
    meaning: str
    at_most: float | None = None
    at_least: float | None = None
    claims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.at_most is None and self.at_least is None:
            raise ClaimError(f"invariant {self.name!r} needs at_most, at_least or both")


@dataclass(frozen=True, kw_only=True)
class Family:
    """An instance family: ``generate(params, gen)`` returns an Instance batched like ``gen``.

    ``parameters`` declares every parameter the family reads (name -> Param); ``defaults`` fills those an
    experiment leaves out. ``nulls`` are learners that learn nothing on this family (uniform random play on
    a bandit), each a complete Mutant (``init``, ``step``, ``metrics`` and ``metric_names``, no ``breaks``):
    every claim run on the family whose metric a null measures is also run on it, unless the claim names its
    own (``Claim.nulls``). ``invariants`` hold for every run on the family. ``modes`` are the measurement modes
    an experiment may ask for (``Experiment.mode``, e.g. ``"audit"``): ``generate`` is then called with
    ``mode=`` that name (never for an experiment without one) and the instance carries it as ``instance.mode``.
    """

    name: str
    description: str
    generate: Callable[..., Instance]  # (params, gen) or, in a mode, (params, gen, mode=...)
    defaults: Mapping[str, float] = field(default_factory=dict)
    parameters: Mapping[str, Param] = field(default_factory=dict)
    nulls: tuple[Mutant, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    modes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for mode in self.modes:
            check_symbol_name(mode, f"family {self.name!r}: the mode")

    def instance(self, params: Mapping[str, Any], gen: Gen, mode: str | None = None) -> Instance:
        return self.generated({**self.defaults, **params}, gen, mode)

    def generated(self, params: Mapping[str, Any], gen: Gen, mode: str | None = None) -> Instance:
        """``generate`` on complete parameters (defaults already filled in), in ``mode``."""
        if mode is None:
            return self.generate(params, gen)
        return dataclasses.replace(self.generate(params, gen, mode=mode), mode=mode)


@dataclass(frozen=True, kw_only=True)
class Mutant:
    """A plausible bug: a hyper-parameter override or a replaced init/step, and the claims it must break.

    A replaced ``step`` runs without the algorithm's compiled ``kernel`` unless the mutant brings its own.
    A family's null learner also replaces ``metrics`` (declared with ``measures``), since its state is its own.
    ``missed`` declares, per claim it breaks, why the check is known not to catch it (quote the measured
    verdict): the miss is still reported (audit shows it MISSED, pytest a strict xfail), but it no longer fails
    a run; a declared miss that gets caught fails, so the declaration cannot go stale.
    ``quick_missed`` declares misses of the ``--quick`` budget alone.
    """

    name: str
    bug: str
    breaks: tuple[str, ...]
    hyper: Mapping[str, Any] = field(default_factory=dict)
    init: Init | None = None
    step: Step | None = None
    kernel: Kernel | None = None
    metrics: Metrics | None = None
    missed: Mapping[str, str] = field(default_factory=dict)
    quick_missed: Mapping[str, str] = field(default_factory=dict)

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The metrics its own ``metrics`` returns (``measures``), or () where it keeps the algorithm's."""
        return metric_names_of(self.metrics)

    def declared_miss(self, claim: str, quick: bool = False) -> str | None:
        """Why this mutant is declared missed on ``claim`` under this budget, or None."""
        return self.missed.get(claim) or (self.quick_missed.get(claim) if quick else None)


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    """An algorithm from a paper: a pure ``init``/``step`` pair over a batched state, and its claims.

    ``hyper`` holds the defaults the theorem prescribes. ``schedule`` says how the algorithm runs over a grid:
    ``anytime``: once to the largest grid value, measured at every grid point, never told the horizon;
    ``per_horizon``: once per grid point, with ``hyper["horizon"]`` the number of steps of that run (a step size
    tuned to T); ``once``: a one-shot procedure (a mechanism, an estimator), one step per grid point.
    Reading the horizon under any schedule but ``per_horizon`` is an error that says so.

    ``nulls`` are learners that learn nothing (uniform random, frozen, greedy, no projection), declared like
    mutants: each must FAIL the claims it ``breaks``; a claim that a null learner PASSes is VACUOUS
    (``theory.cases``). ``invariants`` are feasibility checks on every run of its claims (``Invariant``).

    ``mutable`` says which numeric hyper-parameters ``theorycheck audit`` may mutate, and how
    (``theory.mutation``): name -> operators among ``x2``, ``half``, ``neg``; the key ``t`` with ``+1`` or
    ``-1`` shifts the step counter the step sees. None (the default) mutates every numeric hyper-parameter
    with ``x2``, ``half`` and ``neg``; ``{}`` generates nothing.

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
    claims: tuple[Claim, ...]
    hyper: Mapping[str, Any] = field(default_factory=dict)
    mutants: tuple[Mutant, ...] = ()
    nulls: tuple[Mutant, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    mutable: Mapping[str, tuple[str, ...]] | None = None
    schedule: Schedule = "anytime"
    version: str = "1"
    dtype: str = "float64"
    timeout_s: float = 120.0
    mutant_of: str | None = None
    kernel: Kernel | None = None
    pep: PepBuild | None = None

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The metrics a run measures: what ``metrics`` declares with ``measures``."""
        return metric_names_of(self.metrics)

    def claim(self, name: str) -> Claim:
        for claim in self.claims:
            if claim.name == name:
                return claim
        raise ClaimError(f"algorithm {self.name!r} has no claim {name!r}")

    def mutant(self, name: str) -> Algorithm:
        """The algorithm with one of its mutants (or null learners) applied."""
        for m in (*self.mutants, *self.nulls):
            if m.name == name:
                return self.variant(m)
        raise ClaimError(f"algorithm {self.name!r} has no mutant {name!r}")

    def variant(self, m: Mutant) -> Algorithm:
        """The algorithm with ``m`` applied: one of its own mutants or nulls, a family's null learner or a
        generated mutant (``theory.mutation``), named ``algorithm[mutant]``."""
        return dataclasses.replace(
            self, name=str(Subject(self.name, m.name)), hyper={**self.hyper, **m.hyper}, init=m.init or self.init,
            step=m.step or self.step, metrics=m.metrics or self.metrics, mutants=(), nulls=(), mutant_of=self.name,
            kernel=m.kernel if m.step or m.kernel else self.kernel, pep=None if m.step or m.init else self.pep)

    def nulls_for(self, claim: Claim, family: Family) -> tuple[Mutant, ...]:
        """The null learners ``claim`` is also run on: those it names (its own first, then ``family``'s), or
        by default the algorithm's nulls that break it and the family's nulls that measure its metric."""
        own = {m.name: m for m in self.nulls}
        shared = {m.name: m for m in family.nulls}
        if claim.nulls is not None:
            return tuple(own.get(name) or shared[name] for name in claim.nulls)
        return (*(m for m in self.nulls if claim.name in m.breaks),
                *(m for m in family.nulls if claim.metric in m.metric_names and m.name not in own))
