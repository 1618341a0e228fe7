"""Verdicts as text and as rows: the one place the CLI and the pytest plugin format a result.

A failure reads like pytest's ``approx``: a header (what was claimed, what was measured, at what level), a
small aligned table of the grid points, the evidence, then the exact commands that reproduce it.
"""

from __future__ import annotations

import shlex
from typing import Any

from theory.cases import Case, null_summary, outcome
from theory.claims import Claim
from theory.harness import Budget
from theory.model import ClaimResult, MutantResult, NullResult, Status, Verdict
from theory.spec import Algorithm

RELATIONS = {"upper": "<=", "lower": ">=", "theta": "= Theta of", "exact": "==", "privacy": "private at epsilon"}
# What each test of theory.judge reports as its estimate (``estimate_name``).
ESTIMATES = {"rate": "exponent of {over}", "contraction": "contraction factor per step",
             "privacy": "epsilon lower bound", "privacy-gdp": "Gaussian-DP mu lower bound",
             "envelope": "worst mean/bound", "exact": "largest error (relative; absolute under atol)",
             "invariant": "worst value of the invariant's metric"}


def estimate_name(test: str, axis: str = "x") -> str:
    """What a verdict of ``test`` estimates, in words, for a claim over ``axis``: the one wording of every face."""
    return ESTIMATES.get(test, "estimate").format(over=axis)


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def interval(ci: tuple[float, float] | None) -> str:
    return "-" if ci is None else f"[{ci[0]:.4g}, {ci[1]:.4g}]"


def level(verdict: Verdict) -> str:
    return f"{verdict.level:.0%}"


def row(verdict: Verdict, **extra: Any) -> dict[str, Any]:
    """A verdict as a JSON-ready row; ``verdict`` holds the outcome shown (XFAIL and XPASS included),
    ``status`` the checker's own (an XFAIL's FAIL or INCONCLUSIVE)."""
    return {"algorithm": verdict.algorithm, "mutant_of": verdict.mutant_of, "claim": verdict.claim,
            "verdict": outcome(verdict), "status": verdict.status.value, "estimate": verdict.estimate,
            "ci": list(verdict.ci) if verdict.ci else None, "claimed": verdict.claimed,
            "threshold": verdict.threshold, "level": verdict.level, "test": verdict.test,
            "evidence": verdict.evidence, "seeds": verdict.seeds, "p_value": verdict.p_value,
            "detectable": verdict.detectable, "seeds_needed": verdict.seeds_needed, "constant": verdict.constant,
            "constant_ci": list(verdict.constant_ci) if verdict.constant_ci else None,
            "constant_at": verdict.constant_at, "looseness": list(verdict.looseness), **extra}


def claim_row(result: ClaimResult) -> dict[str, Any]:
    """A claim's row with its null learners' verdicts (``verdict`` VACUOUS when one of them did not FAIL)."""
    nulls = [{"null": v.algorithm, "verdict": v.status.value, "estimate": v.estimate,
              "ci": list(v.ci) if v.ci else None, "evidence": v.evidence} for v in result.nulls]
    return {**row(result.verdict), "verdict": outcome(result), "nulls": nulls, "vacuous": result.vacuous}


def constant_text(verdict: Verdict, over: str = "x") -> str:
    """The hidden constant in a few words: ``C = 0.42 [0.4, 0.44] at T=12800`` for an O-claim,
    ``measured/claimed 0.39 (N=4) .. 0.001 (N=256)`` for an explicit bound; "-" when there is none."""
    if verdict.constant is not None:
        return f"C = {number(verdict.constant)} {interval(verdict.constant_ci)} at {over}={verdict.constant_at:g}"
    if verdict.looseness and len(verdict.looseness) == len(verdict.rows):
        worst = max(range(len(verdict.looseness)), key=lambda i: verdict.looseness[i])
        return (f"measured/claimed {number(verdict.looseness[worst])} at {over}={verdict.rows[worst].x:g} "
                f"(largest), {number(verdict.looseness[-1])} at {over}={verdict.rows[-1].x:g}")
    return "-"


def constant_cell(verdict: Verdict) -> str:
    """The hidden constant for a table cell: ``C=0.42 [0.4, 0.44]``, or ``0.39 max`` measured/claimed."""
    if verdict.constant is not None:
        return f"C={number(verdict.constant)} {interval(verdict.constant_ci)}"
    return f"{number(max(verdict.looseness))} max" if verdict.looseness else "-"


def algorithm_row(a: Algorithm, plugin: str) -> dict[str, Any]:
    """What ``theorycheck list --json`` says of an algorithm: its paper, claims and mutants."""
    paper = {"title": a.paper.title, "authors": a.paper.authors, "year": a.paper.year, "arxiv": a.paper.arxiv}
    from theory.export import experiment_data

    claims = [{"name": c.name, "kind": c.kind, "form": c.form, "metric": c.metric, "over": c.axis,
               "source": c.source, "expected_failure": c.expected_failure, "statement": describe_claim(c),
               "experiment": experiment_data(c.experiment)} for c in a.claims]
    mutants = [{"name": m.name, "bug": m.bug, "breaks": list(m.breaks)} for m in a.mutants]
    nulls = [{"name": m.name, "bug": m.bug, "breaks": list(m.breaks)} for m in a.nulls]
    return {"algorithm": a.name, "plugin": plugin, "family": a.family, "paper": paper, "claims": claims,
            "mutants": mutants, "nulls": nulls}


def describe_claim(claim: Claim) -> str:
    """``regret <= C*sqrt(K*T*log(T)) as T grows (C free; Theorem 1)``."""
    if claim.kind == "privacy":
        return (f"({claim.form}, {claim.delta})-DP: {claim.metric} vs {claim.neighbour} on neighbouring inputs, "
                f"over {claim.experiment.over} ({claim.source})")
    constants = "" if claim.explicit else f"{', '.join(claim.free)} free; "
    along = (f" (the mean {claim.against} at each {claim.experiment.over} of the grid)"
             if claim.against else "")
    return (f"{claim.metric} {RELATIONS[claim.kind]} {claim.form} as {claim.axis} grows{along} "
            f"({constants}{claim.source})")


def verdict_text(verdict: Verdict, claim: Claim, label: str | None = None) -> str:
    """Header, claim, table of grid points and evidence of one verdict (``label`` overrides its outcome)."""
    name = f"{verdict.algorithm}/{verdict.claim}"
    lines = [f"{name}: {label or outcome(verdict)} at level {level(verdict)} "
             f"({verdict.test} test, {verdict.seeds} seeds)", f"  claimed:  {describe_claim(claim)}",
             f"  instance: {instance_text(claim)}"]
    if verdict.estimate is not None:
        what = estimate_name(verdict.test, claim.axis)
        bound = "" if verdict.threshold is None else f" (decision threshold {number(verdict.threshold)})"
        lines.append(f"  measured: {what} = {number(verdict.estimate)}, CI {interval(verdict.ci)}; "
                     f"claimed {number(verdict.claimed)}{bound}")
    if verdict.detectable is not None:
        lines.append(f"  power:    {detectable(verdict, claim)}")
    if verdict.constant is not None or verdict.looseness:
        lines.append(f"  constant: {constant_text(verdict, claim.axis)}")
    if verdict.expected_failure:
        lines.append(f"  expected to fail: {verdict.expected_failure}")
    if verdict.rows:
        lines += ["", *("  " + line for line in rows_table(verdict, claim.axis)), ""]
    lines.append(f"  evidence: {verdict.evidence}")
    return "\n".join(lines)


def detectable(verdict: Verdict, claim: Claim) -> str:
    """The verdict's minimal detectable effect in words: what it would FAIL with probability 0.8."""
    at = f"at {verdict.seeds} seeds"
    if verdict.test == "rate":
        return (f"an exponent {number(verdict.detectable)} past the claimed {number(verdict.claimed)} would FAIL "
                f"with probability 0.8 {at}")
    if verdict.test == "contraction":
        return f"a contraction factor of {verdict.detectable:.6g} per step would FAIL with probability 0.8 {at}"
    side = "over" if claim.kind == "upper" else "under"
    return f"a mean {number(verdict.detectable)} x the bound ({side} it) would FAIL with probability 0.8 {at}"


def instance_text(claim: Claim) -> str:
    """``bernoulli-bandit over T, K=4, best=0.7, gap=0.4 (others at the family's defaults)``; an experiment in a
    measurement mode says so: ``sparse-regression in audit mode over eps, ...``."""
    e = claim.experiment
    params = ", ".join(f"{k}={v}" for k, v in e.params.items())
    mode = f" in {e.mode} mode" if e.mode else ""
    return f"{e.family}{mode} over {e.over}, {params or 'no parameters set'} (others at the family's defaults)"


def _ratio(mean: float, form: float) -> float | None:
    """mean/form as Python floats: a form so small that the ratio overflows shows as inf, not a warning."""
    if not form:
        return None
    try:
        return float(mean) / float(form)
    except OverflowError:
        return float("inf") if (mean > 0) == (form > 0) else float("-inf")


def rows_table(verdict: Verdict, over: str) -> list[str]:
    """The grid points as aligned text: x, mean, its confidence bounds, the form (free constants = 1)."""
    header = (over, "mean", f"CI ({level(verdict)})", "form", "mean/form")
    body = [(number(r.x), number(r.mean), interval((r.low, r.high)), number(r.form),
             number(_ratio(r.mean, r.form))) for r in verdict.rows]
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


def report(case: Case, result: Verdict | ClaimResult, claim: Claim, budget: Budget,
           where: str = "checks/") -> str:
    """The full text of a claim's verdict (and its null learners', given a ClaimResult), ending with the
    commands that reproduce it (pytest over ``where``)."""
    if isinstance(result, Verdict):
        return f"{verdict_text(result, claim)}\n\n{reproduce(case, budget, where)}"
    lines = [verdict_text(result.verdict, claim, outcome(result)), "",
             f"null learners (each must FAIL): {null_summary(result)}"]
    if outcome(result) == "VACUOUS":
        lines.append(f"  VACUOUS: {', '.join(v.algorithm for v in result.escaped)} did not FAIL the claim, so its "
                     f"PASS says nothing about the algorithm" + (f" (declared: {result.vacuous})"
                                                                   if result.vacuous else ""))
    lines += [f"  {v.algorithm}: {v.status.value}; {v.evidence}" for v in result.nulls]
    return "\n".join(lines) + f"\n\n{reproduce(case, budget, where)}"


def null_report(case: Case, result: NullResult, claim: Claim, budget: Budget,
                where: str = "checks/") -> str:
    """Whether a null learner FAILs the claim (it must) or leaves it VACUOUS, then both verdicts."""
    reference = f"{case.algorithm}/{case.claim}"
    if result.refuted:
        head = f"{case.id}: the null learner FAILs {reference}, as it must (it learns nothing: {case.bug})"
    else:
        head = (f"{case.id}: {reference} is VACUOUS: the null learner {case.subject}, which learns nothing "
                f"({case.bug}), is not FAILed (got {result.null.status.value}), so a PASS of this claim "
                f"does not tell a working algorithm from it")
        if case.vacuous:
            head += f"\n  declared vacuous: {case.vacuous}"
    return "\n".join([head, "", "null learner:", verdict_text(result.null, claim),
                      "", "correct version:", verdict_text(result.reference, claim), "",
                      reproduce(case, budget, where)])


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


def certificate_row(certificate: Any) -> dict[str, Any]:
    """A ``theory.pep.Certificate`` as a JSON-ready row: per horizon, the bound and PEP's primal and dual worst
    case; ``worst_over_bound`` is the largest dual / bound (under 1 + rtol when certified)."""
    rows = [{"N": r.horizon, "bound": r.bound, "primal": r.primal, "dual": r.dual, "seconds": round(r.seconds, 2),
             "error": r.error or None} for r in certificate.rows]
    ratios = [r.dual / r.bound for r in certificate.rows if r.dual is not None]
    return {"algorithm": certificate.algorithm, "claim": certificate.claim, "certificate": certificate.status,
            "function_class": certificate.function_class or "-", "horizons": [r.horizon for r in certificate.rows],
            "worst_over_bound": number(max(ratios)) if ratios else "-", "rtol": certificate.rtol,
            "evidence": certificate.evidence, "rows": rows}


def search_report(search: Any, claim: Claim, command: str) -> tuple[str, dict[str, Any]]:
    """A ``theory.falsify.Search`` as text and as a JSON-ready row, with the command that reproduces it."""
    found = "counterexample found" if search.counterexample else "no counterexample found"
    searched = ", ".join(f"{d.name}{'' if d.index is None else f'[{d.index}]'} in [{d.low:g}, {d.high:g}]"
                         for d in search.dimensions)
    params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in search.params.items())
    lines = [f"{search.algorithm}/{search.claim}: {found} ({search.evaluations} instances in "
             f"{search.seconds:.1f} s, {search.rejected} outside the family)",
             f"  searched: {searched}",
             f"  worst instance: {params or 'as the claim states it'} (search score {number(search.score)})",
             "  judged afresh on the claim's seeds:", "",
             *("  " + line for line in verdict_text(search.verdict, claim).splitlines()), "",
             "  a search that finds nothing is evidence, not proof, that the claim holds on the family",
             f"reproduce: {command}"]
    return "\n".join(lines), {**row(search.verdict), "counterexample": search.counterexample,
                              "params": dict(search.params), "score": search.score,
                              "evaluations": search.evaluations, "reproduce": command}
