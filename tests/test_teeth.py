"""Null learners, VACUOUS claims, feasibility invariants and generated mutants, in every front end.

The fake algorithm's regret grows like sqrt(T), so O(sqrt T) PASSes; the null learner ``frozen`` has linear
regret and FAILs it (the claim has teeth), ``lucky`` grows like sqrt(T) as well and PASSes (the claim is
VACUOUS). Every verdict here is known in advance.
"""

from __future__ import annotations

import dataclasses
import json

import fake_plugins as fakes
import pytest

from theory import Invariant, Mutant, cli
from theory.errors import ClaimError
from theory.harness import Budget, Harness
from theory.report import build_context
from theory.store import Store

pytest_plugins = ["pytester"]
BANDITS = """
import pytest

pytestmark = pytest.mark.theory(families=["*-bandit"])


def test_claim(theory_case):
    theory_case.verify()
"""


TOY = fakes.family(fakes.FAMILY)


@pytest.fixture
def install(monkeypatch):
    """Make every front end see only the given algorithms, on the given families (the toy bandit)."""
    return lambda *algorithms, families=(TOY,): fakes.install(
        monkeypatch, ("fake", fakes.Plugin(*algorithms, families=families)))


def run_json(capsys, *argv: str) -> tuple[int, list[dict]]:
    code = cli.main([*argv, "--json"])
    data = json.loads(capsys.readouterr().out)
    return code, data["claims"] if argv[0] == "audit" else data


def text(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


# --- which null learners a claim runs on -----------------------------------------------------------------


def test_a_claim_runs_on_its_algorithms_nulls_and_its_familys(install):
    registry = install(fakes.with_nulls(fakes.REFUTED),
                       families=(fakes.family(fakes.FAMILY, nulls=(fakes.shared_null(),)),))
    algorithm = registry.algorithms["fake"]
    names = [a.name for a in Harness(registry).null_learners(algorithm, algorithm.claim("rate"))]
    assert names == ["fake[frozen]", "fake[uniform]"]
    assert registry.algorithm("fake[uniform]").metric_names == ("regret",)  # resolved by name, as workers do


def test_a_claim_may_name_its_nulls_or_none_with_a_reason(install):
    family = fakes.family(fakes.FAMILY, nulls=(fakes.shared_null(),))
    named = install(fakes.with_nulls(fakes.REFUTED, nulls=("uniform",)), families=(family,))
    algorithm = named.algorithms["fake"]
    assert [m.name for m in algorithm.nulls_for(algorithm.claim("rate"), family)] == ["uniform"]
    with pytest.raises(ClaimError, match="needs the reason in vacuous"):
        fakes.claim(nulls=())


@pytest.mark.parametrize("algorithm, cause", [
    (lambda: fakes.with_nulls(nulls=("ghost",)), "names unknown null learner(s) ['ghost']"),
    (lambda: fakes.algorithm(invariants=(Invariant(name="i", metric="nope", meaning="m", at_most=0),)),
     "invariant 'i' names a metric or claim"),
    (lambda: fakes.hyper_algorithm(mutable={"power": ("x3",)}), "operators ['x3'] must be a tuple of"),
    (lambda: fakes.hyper_algorithm(mutable={"missing": ("x2",)}), "not a numeric hyper-parameter"),
])
def test_bad_declarations_are_load_errors(install, algorithm, cause):
    registry = install(algorithm())
    assert registry.algorithms == {} and cause in str(registry.errors[0])


def test_a_family_null_must_be_a_complete_learner(install):
    incomplete = Mutant(name="half", bug="no metrics", breaks=(), step=fakes._step_sqrt)
    registry = install(fakes.algorithm(), families=(fakes.family(fakes.FAMILY, nulls=(incomplete,)),))
    assert "null learner 'half' must bring init, step and metrics" in str(registry.errors[0])


# --- VACUOUS in run, check, audit, JSON, pytest and the report -------------------------------------------


def test_run_a_null_that_passes_makes_the_claim_vacuous(install, capsys):
    install(fakes.with_nulls(fakes.REFUTED, fakes.ESCAPES))
    code, [row] = run_json(capsys, "run")
    assert code == 1 and row["verdict"] == "VACUOUS"
    assert [(n["null"], n["verdict"]) for n in row["nulls"]] == [("fake[frozen]", "FAIL"), ("fake[lucky]", "PASS")]
    code, out = text(capsys, "run")
    assert code == 1 and "VACUOUS" in out and "frozen FAIL, lucky PASS" in out
    assert "1 claims: 1 VACUOUS; 0 of 1 claims have no null learner" in out


def test_run_a_null_that_fails_leaves_pass(install, capsys):
    install(fakes.with_nulls(fakes.REFUTED))
    code, [row] = run_json(capsys, "run")
    assert code == 0 and row["verdict"] == "PASS" and row["nulls"][0]["verdict"] == "FAIL"


def test_a_declared_vacuous_claim_is_shown_but_does_not_block(install, capsys):
    install(fakes.with_nulls(fakes.ESCAPES, vacuous="a necessary condition every learner meets"))
    code, [row] = run_json(capsys, "run")
    assert code == 0 and row["verdict"] == "VACUOUS" and row["vacuous"].startswith("a necessary")
    code, out = text(capsys, "run")
    assert code == 0 and "1 VACUOUS; 1 VACUOUS declared (not blocking)" in out


def test_run_lists_claims_with_no_null_learner(install, capsys):
    install(fakes.algorithm())
    code, out = text(capsys, "run")
    assert code == 0 and "none declared" in out and "1 of 1 claims have no null learner" in out


def test_check_shows_the_null_learners_and_a_null_case(install, capsys):
    install(fakes.with_nulls(fakes.REFUTED, fakes.ESCAPES))
    code, out = text(capsys, "check", "fake", "rate")
    assert code == 1 and "fake/rate: VACUOUS at level 99%" in out
    assert "VACUOUS: fake[lucky] did not FAIL the claim" in out
    code, out = text(capsys, "check", "fake[lucky]", "rate")
    assert code == 1 and "fake/rate is VACUOUS: the null learner fake[lucky]" in out
    code, out = text(capsys, "check", "fake[frozen]", "rate")
    assert code == 0 and "the null learner FAILs fake/rate, as it must" in out


def test_audit_shows_null_verdicts_per_claim(install, capsys):
    install(fakes.with_nulls(fakes.REFUTED, fakes.ESCAPES))
    code, out = text(capsys, "audit")
    assert code == 1 and "VACUOUS" in out and "frozen FAIL, lucky PASS" in out and "linear caught" in out
    code, [row] = run_json(capsys, "audit")
    assert row["verdict"] == "VACUOUS" and [n["verdict"] for n in row["nulls"]] == ["FAIL", "PASS"]


def test_pytest_one_item_per_null_and_claim(install, pytester):
    install(fakes.with_nulls(fakes.REFUTED, fakes.ESCAPES))
    pytester.makepyfile(test_bandits=BANDITS)
    result = pytester.runpytest("-rf")
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    assert "test_claim[fake[lucky]/rate]" in out and "fake/rate is VACUOUS" in out
    assert "reproduce: pytest test_bandits.py -k '[fake[lucky]/rate]'" in out


def test_pytest_a_declared_vacuous_claim_is_an_xfail(install, pytester):
    install(fakes.with_nulls(fakes.ESCAPES, vacuous="kept as a necessary condition"))
    pytester.makepyfile(test_bandits=BANDITS)
    pytester.runpytest().assert_outcomes(passed=2, xfailed=1)


def test_the_report_shows_vacuous_claims_and_null_rows(install, tmp_path):
    registry = install(fakes.with_nulls(fakes.ESCAPES))
    store = Store(tmp_path / "s.sqlite")
    harness = Harness(registry, Budget(), store=store)
    algorithm = registry.algorithms["fake"]
    for learner in (algorithm, registry.algorithm("fake[lucky]")):
        harness.verdict(learner, algorithm.claim("rate"))
    context = build_context(store.results(), registry, tmp_path / "plots")
    assert context["totals"]["VACUOUS"] == 1 and context["totals"]["PASS"] == 0
    rows = context["sections"][0]["claims"][0]["results"]
    assert [(r["role"], r["status"], r["caught"]) for r in rows] == [
        ("reference", "VACUOUS", ""), ("null", "PASS", "leaves the claim VACUOUS")]


# --- feasibility invariants ------------------------------------------------------------------------------


def test_a_broken_invariant_fails_the_claim_with_evidence(install):
    bounded = Invariant(name="small", metric="regret", meaning="regret stays under 5", at_most=5.0)
    registry = install(fakes.algorithm(invariants=(bounded,), mutants=()))
    algorithm = registry.algorithms["fake"]
    verdict = Harness(registry).verdict(algorithm, algorithm.claim("rate"))
    assert verdict.status.value == "FAIL" and verdict.test == "invariant" and verdict.claimed == 5.0
    assert "invariant 'small' broken (regret stays under 5): regret = 17.44 > 5" in verdict.evidence
    assert "at seed 9, T=256 (16 of 16 seeds)" in verdict.evidence
    assert "the claim's own test: PASS" in verdict.evidence


def test_a_family_invariant_holds_for_the_correct_version_and_catches_a_null(install):
    positive = Invariant(name="in-domain", metric="regret", meaning="regret under 2 sqrt(T)", at_most=40.0)
    outside = dataclasses.replace(fakes.REFUTED, name="unprojected", step=fakes._step_linear)
    registry = install(fakes.with_nulls(outside),
                       families=(fakes.family(fakes.FAMILY, invariants=(positive,)),))
    algorithm = registry.algorithms["fake"]
    harness = Harness(registry)
    assert harness.verdict(algorithm, algorithm.claim("rate")).status.value == "PASS"
    null = harness.verdict(registry.algorithm("fake[unprojected]"), algorithm.claim("rate"))
    assert null.test == "invariant" and "regret = 279 > 40 at seed 9, T=256" in null.evidence


# --- generated mutants -----------------------------------------------------------------------------------


def test_audit_reports_the_share_of_generated_mutants_caught(install, capsys):
    install(fakes.hyper_algorithm(mutants=()))
    code, out = text(capsys, "audit")
    assert code == 0 and "1/3 caught (33%); 3 no-op, 3 equivalent" in out
    assert "0/0 hand-written mutant checks caught (-), 1/3 generated (33%)" in out
    code, [row] = run_json(capsys, "audit")
    by_name = {g["mutant"]: g for g in row["generated"]}
    assert by_name["power:x2"]["caught"] and by_name["power:x2"]["verdict"] == "FAIL"
    assert by_name["power:half"]["verdict"] == "PASS" and not by_name["power:half"]["caught"]
    assert by_name["unused:x2"]["note"].startswith("no-op") and by_name["offset:neg"]["note"].startswith("equivalent")
    assert (row["generated_caught"], row["generated_counted"]) == (1, 3)


def test_a_declared_step_shift_and_no_generated_mutants_in_run(install, capsys):
    install(fakes.hyper_algorithm(mutants=(), mutable={"t": ("+1",)}))
    code, [row] = run_json(capsys, "audit")
    [shift] = row["generated"]
    assert shift["mutant"] == "t:+1" and shift["note"] == "" and shift["verdict"] == "PASS"
    code, [row] = run_json(capsys, "run")
    assert "generated" not in row


def test_generated_mutants_resolve_by_name(install):
    registry = install(fakes.hyper_algorithm())
    mutant = registry.algorithm("tuned[power:x2]")
    assert mutant.hyper == {"power": 1.0, "unused": 1.0, "offset": 0.0} and mutant.mutant_of == "tuned"


# --- declared misses and declared undecided claims ----------------------------------------------------------


def _declared_miss() -> object:
    return fakes.algorithm("blind", mutants=(Mutant(name="same", bug="changes nothing", breaks=("rate",),
                                                    missed={"rate": "PASSes like the correct version"}),))


def test_audit_shows_a_declared_miss_as_missed_but_does_not_block(install, capsys):
    install(_declared_miss())
    code, out = text(capsys, "audit")
    assert code == 0 and "same MISSED (declared)" in out and "0/1 hand-written mutant checks caught" in out
    code, [row] = run_json(capsys, "audit")
    assert row["mutants"][0]["caught"] is False and row["mutants"][0]["declared_miss"]


def test_a_declared_miss_that_is_caught_blocks(install, capsys):
    caught = Mutant(name="linear", bug="adds a constant", breaks=("rate",), step=fakes._step_linear,
                    missed={"rate": "believed missed"})
    install(fakes.algorithm("stale", mutants=(caught,)))
    code, out = text(capsys, "audit")
    assert code == 1 and "caught (declared missed: remove the declaration)" in out


def test_pytest_a_declared_miss_is_a_strict_xfail(install, pytester):
    install(_declared_miss())
    pytester.makepyfile(test_bandits=BANDITS)
    pytester.runpytest().assert_outcomes(passed=1, xfailed=1)


def test_a_miss_declared_on_a_claim_the_mutant_does_not_break_is_a_load_error(install):
    odd = Mutant(name="odd", bug="b", breaks=("rate",), missed={"other": "x"})
    registry = install(fakes.algorithm("odd", mutants=(odd,)))
    assert any("declares misses on claims it does not break" in e.cause for e in registry.errors)


def test_an_expected_failure_covers_an_inconclusive_verdict(install, capsys):
    install(fakes.algorithm("unsure", claims=(fakes.claim(tail=0.2, expected_failure="too few points"),),
                            mutants=()))
    code, [row] = run_json(capsys, "run")
    assert code == 0 and row["verdict"] == "XFAIL" and row["status"] == "INCONCLUSIVE"


def test_a_quick_expected_failure_holds_only_under_the_quick_budget(install, capsys):
    install(fakes.algorithm("unsure", claims=(fakes.claim(tail=0.2, quick_expected_failure="short quick grid"),),
                            mutants=()))
    code, [row] = run_json(capsys, "run", "--quick")
    assert code == 0 and row["verdict"] == "XFAIL"
    code, [row] = run_json(capsys, "run")
    assert code == 1 and row["verdict"] == "INCONCLUSIVE"


def test_a_quick_miss_is_declared_only_under_the_quick_budget(install, capsys):
    same = Mutant(name="same", bug="changes nothing", breaks=("rate",), quick_missed={"rate": "short quick grid"})
    install(fakes.algorithm("blind", mutants=(same,)))
    code, out = text(capsys, "audit", "--quick")
    assert code == 0 and "same MISSED (declared)" in out
    code, out = text(capsys, "audit")
    assert code == 1 and "same MISSED" in out and "(declared)" not in out
