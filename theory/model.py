"""The values that flow between the layers: what the engine measures (Trace), what the judge concludes
(Status, Row, Verdict) and what a claim's mutants and null learners come to (MutantResult, NullResult,
ClaimResult), and who was run (Subject).

Plain frozen data with at most a derived property, so the judge (theory.judge), the store and the faces need
not import the engine (theory.runner) or each other to share them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from theory.claims import Experiment


@dataclass(frozen=True, kw_only=True)
class Trace:
    """Metrics of one run: ``metrics[name]`` has shape ``(seeds, grid)``; ``status`` is ok, error, diverged (a
    metric turned NaN or infinite: the message says where) or timeout."""

    algorithm: str
    version: str
    experiment: Experiment
    grid: tuple[float, ...]
    seeds: tuple[int, ...]
    metrics: Mapping[str, np.ndarray]
    status: str = "ok"
    message: str = ""
    device: str = "cpu"
    dtype: str = "float64"
    elapsed_s: float = 0.0
    environment: Mapping[str, str] = field(default_factory=dict)


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
    hold the mean metric and the form at every grid point. ``p_value`` is the one-sided p-value of the FAIL
    side (for error control across the claims of a run); ``detectable`` the smallest effect FAILed with
    probability 0.8 at this seed count (an exponent for rates, a factor over the bound for explicit bounds,
    a contraction factor for linear rates); ``seeds_needed`` how many seeds would decide an INCONCLUSIVE.

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
    p_value: float | None = None
    detectable: float | None = None
    seeds_needed: int | None = None
    constant: float | None = None
    constant_ci: tuple[float, float] | None = None
    constant_at: float | None = None
    looseness: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        """Rows read back from JSON hold lists: keep the tuples the fields declare."""
        if self.constant_ci is not None:
            object.__setattr__(self, "constant_ci", tuple(self.constant_ci))
        object.__setattr__(self, "looseness", tuple(self.looseness))


@dataclass(frozen=True)
class MutantResult:
    """A mutant's verdict on a claim it must break, beside the correct version's verdict on that claim."""

    mutant: Verdict
    reference: Verdict

    @property
    def caught(self) -> bool:
        return self.mutant.status is Status.FAIL and self.reference.status is Status.PASS


@dataclass(frozen=True)
class NullResult:
    """A null learner's verdict on a claim, beside the correct version's: the claim has teeth against this
    null when the null FAILs it (whatever the correct version gets)."""

    null: Verdict
    reference: Verdict

    @property
    def refuted(self) -> bool:
        return self.null.status is Status.FAIL


@dataclass(frozen=True)
class ClaimResult:
    """A claim's verdict and the verdicts of its null learners on it; ``vacuous`` is the claim's declared
    reason, if any, for null learners not to FAIL it."""

    verdict: Verdict
    nulls: tuple[Verdict, ...] = ()
    vacuous: str | None = None

    @property
    def escaped(self) -> tuple[Verdict, ...]:
        """The null learners that did not FAIL the claim."""
        return tuple(v for v in self.nulls if v.status is not Status.FAIL)


@dataclass(frozen=True)
class Subject:
    """Who a run is of: an algorithm, or one of its mutants or null learners (``mutant``), written
    ``algorithm[mutant]`` wherever a name is shown, stored or typed; this class is the one place that builds
    and reads that form."""

    algorithm: str
    mutant: str | None = None

    def __str__(self) -> str:
        return f"{self.algorithm}[{self.mutant}]" if self.mutant else self.algorithm

    @classmethod
    def parse(cls, name: str) -> Subject:
        """``ucb1[greedy]`` -> Subject("ucb1", "greedy"); ``ucb1`` -> Subject("ucb1")."""
        base, bracket, rest = name.partition("[")
        return cls(base, rest.removesuffix("]") or None) if bracket else cls(base)
