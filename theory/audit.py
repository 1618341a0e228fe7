"""What ``theorycheck audit`` measures, per claim: the verdict, its null learners' verdicts, its hand-written
mutants caught or missed, and the share of generated mutants (``theory.mutation``) it catches.

The audit gathers results and counts; the CLI renders them. Generated mutants run only here: they cost one run
per (operator, hyper-parameter, claim), too much for ``run`` or the quick checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory import mutation
from theory.cases import (
    Case,
    blocking,
    mutant_blocking,
    outcome,
    verdict,
)
from theory.claims import Claim
from theory.harness import Harness
from theory.model import ClaimResult, MutantResult, Status, Trace, Verdict
from theory.pipeline import Judged
from theory.render import claim_row, row
from theory.spec import Algorithm

NO_OP = "no-op: the run gave exactly the correct version's numbers (the hyper-parameter is not read on this path)"


@dataclass(frozen=True)
class GeneratedResult:
    """A generated mutant (``theory.mutation``) on one claim: its verdict beside the correct version's, or
    why it is not counted (``note``: equivalent, not run; or a no-op, whose run gave the same numbers)."""

    name: str
    bug: str
    reference: Verdict
    verdict: Verdict | None = None
    note: str = ""

    @property
    def caught(self) -> bool:
        return (not self.note and self.verdict is not None and self.verdict.status is Status.FAIL
                and self.reference.status is Status.PASS)


def _mutant_label(case: Case, result: MutantResult) -> str:
    if case.missed:
        return "caught (declared missed: remove the declaration)" if result.caught else "MISSED (declared)"
    return "caught" if result.caught else "MISSED"


@dataclass(frozen=True)
class ClaimAudit:
    """One claim of one algorithm, with everything the audit ran on it."""

    result: ClaimResult
    mutants: tuple[tuple[Case, MutantResult], ...]
    generated: tuple[GeneratedResult, ...]

    @property
    def counted(self) -> tuple[GeneratedResult, ...]:
        """The generated mutants that count towards the share: neither equivalent nor a no-op."""
        return tuple(g for g in self.generated if not g.note)

    def generated_share(self) -> str:
        """``2/5 caught (40%); 1 no-op, 1 equivalent``, or ``none generated``."""
        if not self.generated:
            return "none generated"
        caught, counted = sum(g.caught for g in self.counted), len(self.counted)
        text = f"{caught}/{counted} caught ({f'{caught / counted:.0%}' if counted else '-'})"
        skipped = {kind: sum(g.note.startswith(kind) for g in self.generated) for kind in ("no-op", "equivalent")}
        notes = [f"{n} {kind}" for kind, n in skipped.items() if n]
        return text + (f"; {', '.join(notes)}" if notes else "")

    def mutants_text(self) -> str:
        """``greedy caught, own-count MISSED, slow MISSED (declared)``, or ``none``."""
        return ", ".join(f"{case.mutant} {_mutant_label(case, r)}" for case, r in self.mutants) or "none"

    def blocking(self) -> bool:
        """A blocking claim outcome, a hand-written mutant that escapes undeclared, or a declared miss that is
        caught after all (the declaration is stale); generated mutants never block."""
        return blocking(self.result) or any(mutant_blocking(case, r) for case, r in self.mutants)

    def data(self) -> dict:
        """The audit of the claim as a JSON-ready row."""
        return {**claim_row(self.result),
                "mutants": [row(r.mutant, caught=r.caught, bug=case.bug, declared_miss=case.missed)
                            for case, r in self.mutants],
                "generated": [{"mutant": g.name, "bug": g.bug, "verdict": g.verdict.status.value if g.verdict else None,
                               "caught": g.caught, "note": g.note} for g in self.generated],
                "generated_caught": sum(g.caught for g in self.counted), "generated_counted": len(self.counted)}


def pairs(harness: Harness, algorithms: Sequence[Algorithm]) -> list[tuple[Algorithm, Claim]]:
    """Every run an audit of ``algorithms`` needs beyond their claims, nulls and mutants: the generated mutants
    that are not equivalent, on every claim."""
    return [(a.variant(g.mutant), c) for a in algorithms for g in mutation.generate(a) if not g.equivalent
            for c in a.claims]


def generated_results(harness: Harness, algorithm: Algorithm) -> list[GeneratedResult]:
    """Every generated mutant of ``algorithm`` on every one of its claims, beside the correct verdicts."""
    results = []
    for generated in mutation.generate(algorithm):
        mutant = algorithm.variant(generated.mutant)
        for claim in algorithm.claims:
            common: dict[str, Any] = dict(name=generated.mutant.name, bug=generated.mutant.bug,
                                          reference=verdict(harness, algorithm, claim))
            if generated.equivalent:
                results.append(GeneratedResult(**common, note=f"equivalent: {generated.equivalent}"))
                continue
            same = _same_numbers(harness.trace(mutant, claim), harness.trace(algorithm, claim))
            results.append(GeneratedResult(**common, verdict=verdict(harness, mutant, claim),
                                           note=NO_OP if same else ""))
    return results


def _same_numbers(a: Trace, b: Trace) -> bool:
    return (a.status == b.status == "ok" and a.metrics.keys() == b.metrics.keys()
            and all(np.array_equal(a.metrics[k], b.metrics[k]) for k in a.metrics))


def audit(judged: Judged, algorithms: Sequence[Algorithm]) -> list[ClaimAudit]:
    """Every claim of ``algorithms``, audited: its judged result and hand-written mutants from ``judged``,
    its generated mutants judged here."""
    audits = []
    for algorithm in algorithms:
        generated = generated_results(judged.harness, algorithm)
        results = {r.verdict.claim: r for r in judged.claims if r.verdict.algorithm == algorithm.name}
        mutants = [(c, r) for c, r in judged.mutants if c.algorithm == algorithm.name]
        for claim in algorithm.claims:
            audits.append(ClaimAudit(result=results[claim.name],
                                     mutants=tuple((c, r) for c, r in mutants if c.claim == claim.name),
                                     generated=tuple(g for g in generated if g.reference.claim == claim.name)))
    return audits


def observed_size(audits: Sequence[ClaimAudit]) -> tuple[int, int]:
    """Correct claims (no expected failure) that FAILed, and how many were judged."""
    judged = [a.result for a in audits if not a.result.verdict.expected_failure]
    return sum(outcome(r) == "FAIL" for r in judged), len(judged)


def summary(audits: Sequence[ClaimAudit], repeated: Sequence[Sequence[Verdict]]) -> dict[str, object]:
    """Power and observed size as numbers (what the audit's last line says, and ``--json`` carries): mutant
    checks caught, generated mutants caught, and correct claims that FAILed, over each base seed in
    ``repeated`` (the first is the audit's own)."""
    mutants = [r for a in audits for _, r in a.mutants]
    generated = [g for a in audits for g in a.counted]
    failed, judged = observed_size(audits)
    every = [v for run in repeated for v in run if not v.expected_failure]
    return {"mutant_checks": len(mutants), "mutants_caught": sum(r.caught for r in mutants),
            "generated_counted": len(generated), "generated_caught": sum(g.caught for g in generated),
            "correct_claims_judged": judged, "correct_claims_failed": failed,
            "levels": sorted({a.result.verdict.level for a in audits}),
            "base_seeds": len(repeated), "verdicts_over_base_seeds": len(every),
            "failed_over_base_seeds": sum(v.status is Status.FAIL for v in every),
            "base_seeds_with_a_fail": sum(any(v.status is Status.FAIL and not v.expected_failure for v in run)
                                          for run in repeated)}
