"""What the front ends check, and how a result is labelled: shared by the CLI and the pytest plugin.

A Case is one unit a front end reports on: a claim of an algorithm, a mutant on a claim it must break, a null
learner on a claim it must FAIL, or a plugin that failed to load. Both front ends list cases with ``cases()``,
name them with ``Case.id`` and judge them with ``judge()``, so ``theorycheck check`` and ``pytest checks/ -k``
select, run and label the same way.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from theory.claims import Claim
from theory.errors import PluginError
from theory.harness import Harness
from theory.model import ClaimResult, MutantResult, NullResult, Status, Subject, Verdict
from theory.registry import Registry
from theory.spec import Algorithm

# Outcomes that make a front end fail: a broken claim, a crash, an undecided verdict, an unexpected PASS, and a
# PASS that a null learner gets too (VACUOUS), unless the claim declares why (Claim.vacuous).
BLOCKING = frozenset({"FAIL", "XPASS", "ERROR", "TIMEOUT", "INCONCLUSIVE", "VACUOUS"})
# Characters pytest's -k expressions accept in an identifier; anything else in an id becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9_:+.\-/\[\]]")


@dataclass(frozen=True)
class Case:
    """One check: ``claim`` of ``algorithm`` (with ``mutant`` applied, if named: a mutant, or a null learner
    when ``null``), or a plugin's load error. ``expected_failure``, ``vacuous`` and ``bug`` are copied from the
    claim and the mutant, for labelling the result."""

    algorithm: str = ""
    claim: str = ""
    mutant: str | None = None
    expected_failure: str | None = None
    bug: str = ""
    missed: str | None = None
    error: PluginError | None = None
    null: bool = False
    vacuous: str | None = None

    @property
    def subject(self) -> str:
        """The algorithm as the registry names it: ``ucb1`` or ``ucb1[greedy]``."""
        return str(Subject(self.algorithm, self.mutant))

    @property
    def id(self) -> str:
        """A stable id, usable verbatim in ``pytest -k``: ``ucb1/gap-free``, ``ucb1[greedy]/logarithmic``."""
        raw = f"plugin-error/{self.error.plugin}" if self.error else f"{self.subject}/{self.claim}"
        return _UNSAFE.sub("_", raw)


def cases(registry: Registry, families: Iterable[str] | None = None, *, errors: bool = False,
          quick: bool = False) -> list[Case]:
    """Every claim, every mutant on each claim it must break and every null learner on each claim it is run
    on, of the algorithms whose family matches one of the ``families`` patterns (fnmatch; None: all); with
    ``errors``, the plugins' load errors too. ``quick``: with the declarations of the quick budget."""
    patterns = None if families is None else tuple(families)
    found = []
    for name in sorted(registry.algorithms):
        algorithm = registry.algorithms[name]
        if patterns is None or any(fnmatch.fnmatchcase(algorithm.family, p) for p in patterns):
            found += claim_cases(algorithm, quick) + mutant_cases(algorithm, quick) + null_cases(registry, algorithm)
    if errors:
        found.extend(Case(error=error) for error in registry.errors)
    return found


def claim_cases(algorithm: Algorithm, quick: bool = False) -> list[Case]:
    return [Case(algorithm=algorithm.name, claim=c.name, expected_failure=c.expected(quick))
            for c in algorithm.claims]


def mutant_cases(algorithm: Algorithm, quick: bool = False) -> list[Case]:
    return [Case(algorithm=algorithm.name, claim=claim, mutant=m.name, bug=m.bug, missed=m.declared_miss(claim, quick))
            for m in algorithm.mutants for claim in m.breaks]


def null_cases(registry: Registry, algorithm: Algorithm) -> list[Case]:
    """One case per (null learner, claim it is run on): the algorithm's own nulls and its families'."""
    return [Case(algorithm=algorithm.name, claim=c.name, mutant=m.name, bug=m.bug, null=True, vacuous=c.vacuous)
            for c in algorithm.claims for m in algorithm.nulls_for(c, registry.families[c.experiment.family])]


def pairs(harness: Harness, cases: Iterable[Case]) -> list[tuple[Algorithm, Claim]]:
    """Every run the cases need, for ``Harness.prefetch``: the correct version, the mutant or null learner a
    case names, and the null learners of every claim case."""
    found = []
    for case in cases:
        algorithm = harness.registry.algorithm(case.algorithm)
        claim = algorithm.claim(case.claim)
        found.append((algorithm, claim))
        if case.mutant:
            found.append((harness.registry.algorithm(case.subject), claim))
        else:
            found += [(null, claim) for null in harness.null_learners(algorithm, claim)]
    return found


def judge(harness: Harness, case: Case) -> Verdict | MutantResult | NullResult:
    """The verdict of a claim case, or the mutant's (null learner's) and the correct version's verdicts."""
    algorithm = harness.registry.algorithm(case.algorithm)
    claim = algorithm.claim(case.claim)
    reference = verdict(harness, algorithm, claim)
    if case.mutant is None:
        return reference
    other = verdict(harness, harness.registry.algorithm(case.subject), claim)
    return NullResult(other, reference) if case.null else MutantResult(other, reference)


def judge_claim(harness: Harness, algorithm: Algorithm, claim: Claim) -> ClaimResult:
    """A claim's verdict with its null learners' verdicts on it: what ``run``, ``check`` and ``audit`` show."""
    nulls = tuple(verdict(harness, null, claim) for null in harness.null_learners(algorithm, claim))
    return ClaimResult(verdict(harness, algorithm, claim), nulls, claim.vacuous)


def verdict(harness: Harness, algorithm: Algorithm, claim: Claim) -> Verdict:
    """The harness's verdict; a claim the checker cannot evaluate becomes an ERROR naming why, so one plugin's
    mistake is reported with the others' results instead of stopping the run."""
    try:
        return harness.verdict(algorithm, claim)
    except Exception as exc:
        return Verdict(algorithm=algorithm.name, claim=claim.name, status=Status.ERROR, test="check",
                       level=claim.level, source=claim.source, expected_failure=claim.expected_failure,
                       mutant_of=algorithm.mutant_of, evidence=f"checking raised {type(exc).__name__}: {exc}")


def outcome(result: Verdict | ClaimResult) -> str:
    """The label to show: the status, with a declared expected failure turned into XFAIL or XPASS, and a PASS
    that some null learner does not FAIL turned into VACUOUS (never counted as a working claim)."""
    verdict = result.verdict if isinstance(result, ClaimResult) else result
    if verdict.expected_failure and verdict.status in (Status.FAIL, Status.INCONCLUSIVE):
        return "XFAIL"
    if verdict.expected_failure and verdict.status is Status.PASS:
        return "XPASS"
    if verdict.status is Status.PASS and isinstance(result, ClaimResult) and result.escaped:
        return "VACUOUS"
    return verdict.status.value


def blocking(result: Verdict | ClaimResult) -> bool:
    """Whether the result fails a front end: a blocking outcome, save a VACUOUS claim that declares why."""
    label = outcome(result)
    declared = isinstance(result, ClaimResult) and result.vacuous
    return label in BLOCKING and not (label == "VACUOUS" and declared)


def mutant_blocking(case: Case, result: MutantResult) -> bool:
    """Whether a hand-written mutant check fails a front end: it escapes undeclared, or a declared miss is
    caught after all (the declaration is stale)."""
    return result.caught == bool(case.missed)


def null_summary(result: ClaimResult) -> str:
    """The null learners' verdicts in a few words: ``uniform FAIL, frozen PASS``, or why there are none."""
    if not result.nulls:
        return f"none ({result.vacuous})" if result.vacuous else "none declared"
    return ", ".join(f"{_null_name(v)} {v.status.value}" for v in result.nulls)


def _null_name(verdict: Verdict) -> str:
    subject = Subject.parse(verdict.algorithm)
    return subject.mutant or subject.algorithm

