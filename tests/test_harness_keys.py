"""The harness hashes a run's key once per distinct run and judges a claim once per run: a claim with two
mutants and a null learner does not recompute its reference's key or verdict for each of them."""

from __future__ import annotations

from unittest import mock

import fake_plugins as fakes

from theory import Mutant
from theory.cases import claim_cases, judge, judge_claim, mutant_cases, pairs
from theory.harness import Budget, Harness
from theory.judge import check


def _algorithm():
    twin = fakes.claim(name="twin")  # a second claim on the same experiment: the same run
    return fakes.algorithm(
        claims=(fakes.claim(), twin),
        mutants=(Mutant(name="linear", bug="linear", breaks=("rate", "twin"), step=fakes._step_linear),
                 Mutant(name="steeper", bug="linear too", breaks=("rate",), step=fakes._step_linear)),
        nulls=(Mutant(name="frozen", bug="never moves", breaks=("rate", "twin"), step=lambda s, i, t, h, g: s),))


def test_every_run_key_is_hashed_once_and_every_claim_judged_once():
    registry = fakes.registry(("fake", fakes.Plugin(_algorithm())))
    harness = Harness(registry, Budget(quick=True))
    algorithm = registry.algorithms["fake"]
    cases = claim_cases(algorithm) + mutant_cases(algorithm)
    with mock.patch("theory.harness.check", wraps=check) as judged:
        harness.prefetch(pairs(harness, cases))
        for case in cases:
            judge(harness, case)
            if case.mutant is None:
                judge_claim(harness, algorithm, algorithm.claim(case.claim))
    runs = {"fake", "fake[linear]", "fake[steeper]", "fake[frozen]"}  # the two claims share each run
    assert harness.computed == len(runs)
    assert harness.keys_computed == len(runs)
    # each (run, claim) judged once: the reference and the null on both claims, linear on both, steeper on one
    assert judged.call_count == 2 + 2 + 2 + 1
