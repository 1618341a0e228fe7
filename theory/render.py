"""Verdicts as text and as rows: the one place the CLI and the pytest plugin format a result.

A failure reads like pytest's ``approx``: a header (what was claimed, what was measured, at what level), a
small aligned table of the grid points, the evidence, then the exact commands that reproduce it.
"""

from __future__ import annotations

import shlex
from typing import Any

from theory.cases import Case, outcome
from theory.check import Status, Verdict
from theory.claims import Claim
from theory.harness import Budget, MutantResult
from theory.spec import Algorithm

RELATIONS = {"upper": "<=", "lower": ">=", "theta": "= Theta of", "exact": "==", "privacy": "private at epsilon"}
# What each test of theory.check reports as its estimate.
ESTIMATES = {"rate": "exponent of {over}", "contraction": "contraction factor per step",
             "privacy": "epsilon lower bound",
             "envelope": "worst mean/bound", "exact": "largest relative error"}


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def interval(ci: tuple[float, float] | None) -> str:
    return "-" if ci is None else f"[{ci[0]:.4g}, {ci[1]:.4g}]"


def level(verdict: Verdict) -> str:
    return f"{verdict.level:.0%}"


def row(verdict: Verdict, **extra: Any) -> dict[str, Any]:
    """A verdict as a JSON-ready row; ``verdict`` holds the outcome shown (XFAIL and XPASS included)."""
    return {"algorithm": verdict.algorithm, "mutant_of": verdict.mutant_of, "claim": verdict.claim,
            "verdict": outcome(verdict), "estimate": verdict.estimate,
            "ci": list(verdict.ci) if verdict.ci else None, "claimed": verdict.claimed,
            "threshold": verdict.threshold, "level": verdict.level, "test": verdict.test,
            "evidence": verdict.evidence, "seeds": verdict.seeds, **extra}


def algorithm_row(a: Algorithm, plugin: str) -> dict[str, Any]:
    """What ``theorycheck list --json`` says of an algorithm: its paper, claims and mutants."""
    paper = {"title": a.paper.title, "authors": a.paper.authors, "year": a.paper.year, "arxiv": a.paper.arxiv}
    from theory.export import experiment_data

    claims = [{"name": c.name, "kind": c.kind, "form": c.form, "metric": c.metric, "over": c.experiment.over,
               "source": c.source, "expected_failure": c.expected_failure, "statement": describe_claim(c),
               "experiment": experiment_data(c.experiment)} for c in a.claims]
    mutants = [{"name": m.name, "bug": m.bug, "breaks": list(m.breaks)} for m in a.mutants]
    return {"algorithm": a.name, "plugin": plugin, "family": a.family, "paper": paper, "claims": claims,
            "mutants": mutants}


def describe_claim(claim: Claim) -> str:
    """``regret <= C*sqrt(K*T*log(T)) as T grows (C free; Theorem 1)``."""
    if claim.kind == "privacy":
        return (f"({claim.form}, {claim.delta})-DP: {claim.metric} vs {claim.neighbour} on neighbouring inputs, "
                f"over {claim.experiment.over} ({claim.source})")
    constants = "" if claim.explicit else f"{', '.join(claim.free)} free; "
    return (f"{claim.metric} {RELATIONS[claim.kind]} {claim.form} as {claim.experiment.over} grows "
            f"({constants}{claim.source})")


def verdict_text(verdict: Verdict, claim: Claim) -> str:
    """Header, claim, table of grid points and evidence of one verdict."""
    name = f"{verdict.algorithm}/{verdict.claim}"
    lines = [f"{name}: {outcome(verdict)} at level {level(verdict)} "
             f"({verdict.test} test, {verdict.seeds} seeds)", f"  claimed:  {describe_claim(claim)}",
             f"  instance: {instance_text(claim)}"]
    if verdict.estimate is not None:
        what = ESTIMATES.get(verdict.test, "estimate").format(over=claim.experiment.over)
        bound = "" if verdict.threshold is None else f" (decision threshold {number(verdict.threshold)})"
        lines.append(f"  measured: {what} = {number(verdict.estimate)}, CI {interval(verdict.ci)}; "
                     f"claimed {number(verdict.claimed)}{bound}")
    if verdict.expected_failure:
        lines.append(f"  expected to fail: {verdict.expected_failure}")
    if verdict.rows:
        lines += ["", *("  " + line for line in rows_table(verdict, claim.experiment.over)), ""]
    lines.append(f"  evidence: {verdict.evidence}")
    return "\n".join(lines)


def instance_text(claim: Claim) -> str:
    """``bernoulli-bandit over T, K=4, best=0.7, gap=0.4 (others at the family's defaults)``."""
    e = claim.experiment
    params = ", ".join(f"{k}={v}" for k, v in e.params.items())
    return f"{e.family} over {e.over}, {params or 'no parameters set'} (others at the family's defaults)"


def rows_table(verdict: Verdict, over: str) -> list[str]:
    """The grid points as aligned text: x, mean, its confidence bounds, the form (free constants = 1)."""
    header = (over, "mean", f"CI ({level(verdict)})", "form", "mean/form")
    body = [(number(r.x), number(r.mean), interval((r.low, r.high)), number(r.form),
             number(r.mean / r.form if r.form else None)) for r in verdict.rows]
    widths = [max(len(cells[i]) for cells in (header, *body)) for i in range(len(header))]
    return ["  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))
            for cells in (header, *body)]


def reproduce(case: Case, budget: Budget, where: str = "checks/") -> str:
    """The pytest command (over the test file or folder ``where``) and the equivalent CLI command that rerun
    ``case`` with the same seeds."""
    pytest_flags = _budget_flags(budget, "--theory-")
    pytest_command = shlex.join(["pytest", where, "-k", f"[{case.id}]", *pytest_flags])
    return f"reproduce: {pytest_command}\n       or: {check_command(case, budget)}"


def check_command(case: Case, budget: Budget) -> str:
    """``theorycheck check SUBJECT CLAIM`` with the flags that give ``budget``'s seeds."""
    return shlex.join(["theorycheck", "check", case.subject, case.claim, *_budget_flags(budget, "--")])


def _budget_flags(budget: Budget, prefix: str) -> list[str]:
    flags = [f"{prefix}seed", str(budget.base_seed)]
    if budget.quick:
        flags.append(f"{prefix}quick")
    if budget.seeds is not None:
        flags += [f"{prefix}seeds", str(budget.seeds)]
    if budget.device != "cpu":
        flags += [f"{prefix}device", budget.device]
    return flags


def report(case: Case, verdict: Verdict, claim: Claim, budget: Budget, where: str = "checks/") -> str:
    """The full text of a claim's verdict, ending with the commands that reproduce it (pytest over ``where``)."""
    return f"{verdict_text(verdict, claim)}\n\n{reproduce(case, budget, where)}"


def mutant_report(case: Case, result: MutantResult, claim: Claim, budget: Budget, where: str = "checks/") -> str:
    """Why a mutant was (not) caught: both verdicts, then the commands that rerun the mutant."""
    caught = "caught" if result.caught else "NOT caught"
    lines = [f"{case.id}: mutant {caught} (bug: {case.bug})",
             f"  caught means the mutant FAILs while the correct version PASSes, with the same seeds; got "
             f"mutant {result.mutant.status.value}, correct {result.reference.status.value}"
             + ("" if result.reference.status is Status.PASS else
                " (the correct version must PASS before a mutant can be caught)"),
             "", "mutant:", verdict_text(result.mutant, claim),
             "", "correct version:", verdict_text(result.reference, claim),
             "", reproduce(case, budget, where)]
    return "\n".join(lines)
