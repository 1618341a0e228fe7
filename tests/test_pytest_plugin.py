"""The pytest plugin, in isolated pytest sessions (pytester) on tiny fake plugins."""

from __future__ import annotations

import fake_plugins as fakes
import pytest
import torch

BANDITS = """
import pytest

pytestmark = pytest.mark.theory(families=["*-bandit"])


def test_claim(theory_case):
    theory_case.verify()
"""
ALL = BANDITS.replace('families=["*-bandit"]', "unclaimed=True")


@pytest.fixture
def install(monkeypatch):
    """Make the plugin's sessions see only the given fake plugins."""
    return lambda *plugins: fakes.install(monkeypatch, *plugins)


@pytest.fixture
def checks(pytester):
    """A checks/ directory like the project's: one module per family group and a catch-all."""
    pytester.makepyfile(test_bandits=BANDITS, test_all=ALL)
    return pytester


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_one_item_per_claim_and_per_mutant_with_stable_ids(install, checks):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    result = checks.runpytest("--collect-only", "-q")
    assert collected(result) == ["test_bandits.py::test_claim[fake/rate]",
                                 "test_bandits.py::test_claim[fake[linear]/rate]"]
    checks.runpytest().assert_outcomes(passed=2)


def test_a_failing_claim_reads_like_approx_and_says_how_to_reproduce(install, checks):
    install(("fake", fakes.Plugin(fakes.failing())))
    result = checks.runpytest("--theory-seed", "5", "--theory-quick")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "bad/rate: FAIL at level 99% (rate test, 16 seeds)" in out
    assert "claimed:  regret <= C*log(T) as T grows (C free; Theorem 1)" in out
    assert "measured: exponent of T = 0.5" in out
    assert any(line.split() == ["T", "mean", "CI", "(99%)", "form", "mean/form"] for line in result.outlines)
    assert "instance: toy-bandit over T, no parameters set" in out
    assert "reproduce: pytest test_bandits.py -k '[bad/rate]' --theory-seed 5 --theory-quick" in out  # its file
    assert "or: theorycheck check bad rate --seed 5 --quick" in out
    assert "Traceback" not in out


def test_the_reproduce_command_selects_exactly_that_item(install, checks):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    result = checks.runpytest("-k", "[fake/rate]", "-v")
    result.assert_outcomes(passed=1, deselected=3)  # the mutant, and the catch-all's two copies of both
    assert any("test_claim[fake/rate] PASSED" in line for line in result.outlines)


def test_a_mutant_item_passes_only_when_the_mutant_is_caught(install, checks):
    install(("fake", fakes.Plugin(fakes.harmless_mutant())))
    result = checks.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "blind[same]/rate: mutant NOT caught (bug: changes nothing)" in out
    assert "got mutant PASS, correct PASS" in out
    assert "reproduce: pytest test_bandits.py -k '[blind[same]/rate]' --theory-seed 0" in out


def test_an_expected_failure_is_a_strict_xfail(install, checks):
    declared = fakes.failing(expected_failure="the bound is loose")
    install(("fake", fakes.Plugin(declared, fakes.passing_expected_failure())))
    result = checks.runpytest("-rxX")
    result.assert_outcomes(xfailed=1, failed=1)
    out = result.stdout.str()
    assert "declared expected failure: the bound is loose" in out
    assert "[XPASS(strict)] declared expected failure: believed loose" in out
    assert "lucky/rate: XPASS" in out  # the verdict is shown with the unexpected pass


@pytest.mark.parametrize(("algorithm", "evidence"), [
    (fakes.crashing(), "ZeroDivisionError: deliberate failure in step"),
    (fakes.undecided(), "only 1 grid points in the fit window"),
])
def test_error_and_inconclusive_fail_with_their_evidence(install, checks, algorithm, evidence):
    install(("fake", fakes.Plugin(algorithm)))
    result = checks.runpytest()
    result.assert_outcomes(failed=1)
    assert evidence in result.stdout.str()


def test_load_errors_fail_an_item_naming_the_plugin_and_others_still_run(install, checks):
    install(("fake", fakes.Plugin(fakes.algorithm())), ("broken", fakes.Broken()))
    result = checks.runpytest("-v")
    result.assert_outcomes(passed=2, failed=1)
    assert any("test_all.py::test_claim[plugin-error/broken] FAILED" in line for line in result.outlines)
    assert 'Error loading plugin "broken": theorycheck_algorithms() raised RuntimeError: hook exploded' in (
        result.stdout.str())


def test_the_catch_all_covers_families_no_module_claims(install, checks):
    third = fakes.Plugin(fakes.algorithm("third", family="toy-other"), families=(fakes.family("toy-other"),))
    install(("fake", fakes.Plugin(fakes.algorithm())), ("third", third))
    result = checks.runpytest("--collect-only", "-q")
    assert collected(result) == ["test_all.py::test_claim[third/rate]",
                                 "test_all.py::test_claim[third[linear]/rate]",
                                 "test_bandits.py::test_claim[fake/rate]",
                                 "test_bandits.py::test_claim[fake[linear]/rate]"]
    alone = checks.runpytest("test_all.py", "--collect-only", "-q")
    assert len(collected(alone)) == 4


def test_claims_sharing_an_experiment_share_one_trace(install, checks):
    runs = []

    def counting_init(instance, hyper, gen):
        runs.append(instance.batch)
        return fakes._init(instance, hyper, gen)

    two_claims = (fakes.claim(), fakes.claim(name="bound", form="3*sqrt(T)", free=()))
    install(("fake", fakes.Plugin(fakes.algorithm(init=counting_init, claims=two_claims))))
    checks.runpytest().assert_outcomes(passed=3)
    assert len(runs) == 2  # one run of the algorithm for both claims, one of the mutant


def test_options_have_their_own_group(pytester):
    result = pytester.runpytest("--help")
    out = result.stdout.str()
    assert "theorycheck claim validation" in out
    for option in ("--theory-seeds", "--theory-seed", "--theory-device", "--theory-quick"):
        assert option in out


def test_a_test_taking_theory_case_needs_the_marker(install, pytester):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    pytester.makepyfile(test_unmarked="def test_claim(theory_case):\n    theory_case.verify()\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert "needs exactly one of @pytest.mark.theory(families=[PATTERN, ...])" in result.stdout.str()


def test_sessions_without_checks_build_no_registry(monkeypatch, pytester):
    def refuse(*args, **kwargs):
        raise AssertionError("the registry was built")

    monkeypatch.setattr("theory.registry.build_registry", refuse)
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_a_missing_gpu_skips_with_the_reason(install, checks):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    result = checks.runpytest("--theory-device", "cuda", "-rs")
    result.assert_outcomes(skipped=2)
    assert "sees no CUDA GPU" in result.stdout.str()
