"""Worst-case certificates through PEPit: the cases of issue 15 give their stated verdicts, and whatever a PEP
cannot state is skipped with a reason or reported as an error."""

from __future__ import annotations

import dataclasses

import pytest

from plugins.first_order_methods import GD, NESTEROV
from plugins.subgradient_method import SUBGRADIENT
from theory import Claim, Experiment, pep
from theory.pep import Certificate, WorstCase, certify

needs_pepit = pytest.mark.skipif(not pep.available(), reason="PEPit is not installed (pip install 'theorycheck[pep]')")


@needs_pepit
def test_gd_meets_its_exact_worst_case_and_is_certified():
    """L R^2 / (4N + 2) is GD's exact worst case: certified (within the stated solver tolerance), tightly."""
    certificate = certify(GD, GD.claim("bound"), horizons=(1, 2, 4, 8))
    assert certificate.status == "CERTIFIED", certificate.evidence
    assert [r.outcome for r in certificate.rows] == ["certified"] * 4
    for r in certificate.rows:
        assert abs(r.dual / r.bound - 1) < pep.RTOL and abs(r.primal / r.bound - 1) < pep.RTOL
    assert "1-smooth convex" in certificate.function_class


@needs_pepit
def test_a_claim_of_one_over_n_squared_for_gd_fails_from_small_n():
    """L R^2 / (2 N^2) holds at N = 1 and 2 (0.5 > 1/6, 0.125 > 0.1) and is refuted from N = 3 on."""
    false = dataclasses.replace(GD.claim("bound"), form="L*R**2/(2*N**2)")
    certificate = certify(GD, false, horizons=(1, 2, 4))
    assert certificate.status == "FAIL"
    assert [r.outcome for r in certificate.rows] == ["certified", "certified", "violated"]
    assert abs(certificate.rows[-1].primal - 1 / 18) < 1e-6  # the worst case 1/(4N+2) at N = 4
    assert "N=4" in certificate.evidence


@needs_pepit
def test_nesterov_is_certified_under_two_l_r_squared_over_n_plus_one_squared():
    certificate = certify(NESTEROV, NESTEROV.claim("bound"), horizons=(1, 2, 4, 8))
    assert certificate.status == "CERTIFIED", certificate.evidence
    assert all(r.dual < r.bound for r in certificate.rows)


@needs_pepit
def test_the_subgradient_method_meets_g_r_over_root_n_plus_one_on_the_lipschitz_class():
    """G R / sqrt(N + 1) is the exact worst case of the best iterate (Drori and Teboulle 2016): certified tightly,
    over the G-Lipschitz convex class the claim's experiment names by giving G and no L; forgetting the horizon
    in the step is refuted at every N."""
    certificate = certify(SUBGRADIENT, SUBGRADIENT.claim("bound"), horizons=(1, 3, 8))
    assert certificate.status == "CERTIFIED", certificate.evidence
    assert "1-Lipschitz convex" in certificate.function_class
    for r in certificate.rows:
        assert abs(r.primal / r.bound - 1) < 1e-4 and r.dual <= r.bound * (1 + pep.RTOL)
    refuted = certify(SUBGRADIENT.mutant("constant-step"), SUBGRADIENT.claim("bound"), horizons=(1, 3))
    assert refuted.status == "FAIL" and all(r.outcome == "violated" for r in refuted.rows)


def _distance_pep(problem, f, x0, xs, n, hyper):
    """GD with step 1/L, stating the squared distance to the minimiser (module level: the worker unpickles it)."""
    x = x0
    for _ in range(n):
        x = x - 1 / f.L * f.gradient(x)
    return {"distance": (x - xs) ** 2}


@needs_pepit
def test_gd_contracts_at_one_minus_mu_over_l_on_the_strongly_convex_class():
    """||x_N - x*||^2 <= (1 - mu/L)^(2N) R^2 for GD with step 1/L on L-smooth mu-strongly convex functions,
    met with equality (a quadratic along the smallest eigenvalue); a faster claimed contraction is refuted."""
    experiment = Experiment(family="convex-quadratic", over="N", grid=(1, 2, 4), params={"L": 1.0, "mu": 0.1, "R": 1.0})
    algorithm = dataclasses.replace(GD, pep=_distance_pep)
    claim = Claim(name="contraction", metric="distance", kind="upper", form="R**2*(1-mu/L)**(2*N)", free=(),
                  source="test", experiment=experiment)
    certificate = certify(algorithm, claim, horizons=(1, 2, 4))
    assert certificate.status == "CERTIFIED", certificate.evidence
    assert "0.1-strongly convex" in certificate.function_class
    assert all(abs(r.primal / r.bound - 1) < 1e-4 for r in certificate.rows)
    faster = certify(algorithm, dataclasses.replace(claim, form="R**2*(1-mu/L)**(3*N)"), horizons=(2,))
    assert faster.status == "FAIL"


@needs_pepit
def test_a_mutant_that_sampling_misses_is_refuted_over_the_class():
    certificate = certify(NESTEROV.mutant("momentum-one"), NESTEROV.claim("bound"), horizons=(4,))
    assert certificate.status == "FAIL" and certificate.rows[0].primal > 4 * certificate.rows[0].bound


def test_what_a_pep_cannot_state_is_skipped_with_the_reason():
    assert certify(GD, GD.claim("rate")).status == "SKIPPED"  # an O-claim: no constant to certify
    assert GD.mutant("decaying-step").pep is GD.pep  # a hyper-only mutant keeps its PEP form
    frozen = GD.mutant("frozen")  # a replaced step has no PEP form
    skipped = certify(frozen, GD.claim("bound"))
    assert skipped.status == "SKIPPED" and "no PEP form" in skipped.evidence
    stepped = dataclasses.replace(GD.claim("bound"), experiment=dataclasses.replace(
        GD.claim("bound").experiment, params={"R": 1.0}))
    if pep.available():
        assert "does not give L" in certify(GD, stepped).evidence


def _raising_build(problem, f, x0, xs, n, hyper):
    raise ZeroDivisionError("deliberate failure in the PEP form")


def _wrong_metric_build(problem, f, x0, xs, n, hyper):
    return {"distance": (x0 - xs) ** 2}


@needs_pepit
def test_a_broken_pep_form_is_an_error_naming_the_cause():
    broken = certify(dataclasses.replace(GD, pep=_raising_build), GD.claim("bound"), horizons=(1,))
    assert broken.status == "ERROR" and "ZeroDivisionError: deliberate failure" in broken.evidence
    wrong = certify(dataclasses.replace(GD, pep=_wrong_metric_build), GD.claim("bound"), horizons=(1,))
    assert wrong.status == "ERROR" and "not the claim's metric 'gap'" in wrong.evidence


def test_outcomes_account_for_the_solver_tolerance():
    edge = 1.0 * (1 + pep.RTOL)
    assert WorstCase(horizon=1, bound=1.0, primal=0.999, dual=edge * 0.9999999).outcome == "certified"
    assert WorstCase(horizon=1, bound=1.0, primal=edge * 1.0001, dual=1.1).outcome == "violated"
    assert WorstCase(horizon=1, bound=1.0, primal=0.99, dual=1.01).outcome == "undecided"
    assert WorstCase(horizon=1, bound=1.0, error="boom").outcome == "error"
    judged = pep._judge(dict(algorithm="a", claim="c"), pep.FunctionClass(L=1, mu=0, R=1),
                        (WorstCase(horizon=1, bound=1.0, primal=0.99, dual=1.01),))
    assert isinstance(judged, Certificate) and judged.status == "INCONCLUSIVE"


@needs_pepit
def test_the_certify_command_prints_certificates_and_exits_1_on_a_refuted_bound(capsys):
    from theory.cli import main

    assert main(["certify", "gd", "exp3", "--horizons", "1,2"]) == 0
    out = capsys.readouterr().out
    assert "CERTIFIED" in out and "declares no PEP form" in out
    assert main(["certify", "nesterov[momentum-one]", "--horizons", "4", "--json"]) == 1
    assert '"certificate": "FAIL"' in capsys.readouterr().out
    assert main(["certify", "gd", "--horizons", "x"]) == 2
