"""Counterexample search: it finds the corner of the family where a false claim breaks, within its default
budget, and finds nothing for the true claim.

The false claim, L R^2 / (2 N^2) for GD, holds on the instance it names (a uniform spectrum, where GD's mean
gap is about L R^2 / (8 N^2)) and breaks on a band of eigenvalues near L / (2N + 1), where GD's gap is about
L R^2 / (2e(2N + 1)). The true claim, L R^2 / (4N + 2), is GD's worst case over all smooth convex functions;
quadratics reach at most about 1/e of it.
"""

from __future__ import annotations

import pytest

from plugins.first_order_methods import FAMILY, GD
from theory import Claim, Experiment, Family
from theory.cli import main
from theory.falsify import NotSearchable, falsify
from theory.judge import check
from theory.model import Status
from theory.random import seed_block
from theory.runner import run

EXPERIMENT = Experiment(family="convex-quadratic", over="N", grid=(4, 8, 16, 32, 64),
                        params={"L": 1.0, "R": 1.0, "d": 16, "p": 1.0}, seeds=64)
VARY = ("a", "b", "p")  # the spectrum's shape; L and R only rescale both sides


def _claim(form: str) -> Claim:
    return Claim(name="bound", metric="gap", kind="upper", form=form, free=(), source="test", experiment=EXPERIMENT)


def test_a_false_bound_that_holds_where_it_is_sampled_is_broken_elsewhere():
    claim = _claim("L*R**2/(2*N**2)")
    sampled = check(claim, run(GD, FAMILY, EXPERIMENT, EXPERIMENT.grid, seed_block(0, 64)), GD.hyper)
    assert sampled.status is Status.PASS  # sampling on the named instance sees nothing wrong
    found = falsify(GD, FAMILY, claim, vary=VARY)
    assert found.counterexample and found.verdict.status is Status.FAIL
    assert found.verdict.estimate > 1 and found.verdict.ci[0] > 1  # mean/bound, its interval above 1
    again = falsify(GD, FAMILY, claim, vary=VARY, at=found.params)  # what the reported command reruns
    assert again.evaluations == 0 and again.verdict == found.verdict


def test_the_true_bound_survives_the_search():
    found = falsify(GD, FAMILY, _claim("L*R**2/(4*N+2)"), vary=VARY)
    assert not found.counterexample and found.verdict.status is Status.PASS
    assert found.evaluations > 50 and 0.3 < found.score < 0.5  # quadratics reach about 1/e of the worst case


def test_a_family_without_bounded_parameters_or_an_unknown_name_cannot_be_searched():
    bare = Family(name="convex-quadratic", description="no ranges", generate=FAMILY.generate,
                  defaults=FAMILY.defaults)
    with pytest.raises(NotSearchable, match="declares no bounded parameter"):
        falsify(GD, bare, _claim("L*R**2/(4*N+2)"))
    with pytest.raises(NotSearchable, match="no parameter"):
        falsify(GD, FAMILY, _claim("L*R**2/(4*N+2)"), vary=("nonsense",))


def test_a_candidate_outside_the_family_is_rejected_not_fatal():
    """mu > L makes the family refuse the instance: the search counts it and goes on."""
    found = falsify(GD, FAMILY, _claim("L*R**2/(4*N+2)"), vary=("mu", "a"), budget_s=1.0)
    assert found.rejected > 0 and found.evaluations > found.rejected


def test_the_cli_reports_the_worst_instance_and_the_command_that_reproduces_it(capsys):
    code = main(["falsify", "gd", "bound", "--vary", "a,b,p", "--budget", "1", "--quick"])
    out = capsys.readouterr().out
    assert code == 0 and "no counterexample found" in out and "evidence, not proof" in out
    command = out.split("reproduce: ")[1].strip()
    assert command.startswith("theorycheck falsify gd bound --at=a=") and "--quick" in command
    assert main(["falsify", "gd", "bound", "--at", "a=oops"]) == 2
