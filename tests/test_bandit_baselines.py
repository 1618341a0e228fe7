"""The bandit benchmark's baselines compute what the runner computes: sane regrets, and the same ones.

No timing is asserted. The numba kernels are cached on disk (benchmarks/__pycache__): the first run compiles
them (several seconds), later runs load them.
"""

from __future__ import annotations

import math
from types import ModuleType

import pytest

from benchmarks import bandit_baselines

ALGORITHMS = ("ucb1", "thompson", "exp3")
REPS, HORIZON = 8, 300
UNIFORM = 0.4 * HORIZON  # regret of a policy that never learns: mean gap (0.9 - 0.5) per step


@pytest.fixture(scope="module")
def baselines() -> ModuleType:
    return bandit_baselines


@pytest.fixture(scope="module")
def measured(baselines) -> dict:
    return {"numba": baselines.numba_floor(REPS, HORIZON), "loop": baselines.per_seed_loop(REPS, HORIZON)}


def test_the_algorithms_are_the_benchmarks(baselines):
    assert baselines.ALGORITHMS == ALGORITHMS


@pytest.mark.parametrize("baseline", ["numba", "loop"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_regret_is_sane(measured, baseline, algorithm):
    """Finite, within [0, T * largest gap], and below a policy that never learns."""
    m = measured[baseline]
    assert math.isfinite(m.regret[algorithm]) and math.isfinite(m.regret_se[algorithm])
    assert 0 <= m.regret[algorithm] <= 0.8 * HORIZON
    assert m.regret[algorithm] < UNIFORM, f"{baseline} {algorithm}: {m.regret[algorithm]:.1f} >= {UNIFORM}"
    assert m.seconds[algorithm] > 0


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_two_implementations_agree(measured, algorithm):
    """Independent code and random streams: the mean regrets differ by noise only."""
    a, b = measured["numba"], measured["loop"]
    noise = math.hypot(a.regret_se[algorithm], b.regret_se[algorithm])
    assert abs(a.regret[algorithm] - b.regret[algorithm]) < 4 * noise, (a.regret, b.regret, noise)


def test_ns_per_pull(baselines):
    m = baselines.Measurement(seconds={"ucb1": 2.0}, regret={}, regret_se={}, reps=100, horizon=10_000)
    assert m.ns_per_pull("ucb1") == pytest.approx(2000.0)


def test_per_seed_loop_times_a_subset_and_says_so(baselines):
    m = baselines.per_seed_loop(3, 50, max_reps=2)
    assert "2 of 3" in m.note and m.reps == 3


def test_a_matching_smpybandits_environment_is_reused(baselines, tmp_path):
    """No pip run when the environment holds exactly the pinned requirements."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    (tmp_path / "theorycheck-requirements.txt").write_text("\n".join(baselines.SMPYBANDITS_REQUIREMENTS))
    assert baselines._smpybandits_python(tmp_path) == tmp_path / "bin" / "python"


def test_pip_errors_are_cut_to_their_first_lines(baselines):
    log = "WARNING: Location 'x' is ignored\nCollecting a\nERROR: No matching distribution\nmore\n"
    assert baselines._first_lines(log, count=1) == "ERROR: No matching distribution"
