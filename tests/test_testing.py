"""A third party's package runs its own claims under its own pytest, with theory.testing, and the reproduce
command in its failure text works there (it names the package's test file, not ``checks/``)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap

import installed_plugin
import pytest

from theory.testing import claims

MODULE = "tc_third_party"
SOURCE = textwrap.dedent('''
    """Regret sqrt(T) on a family without randomness; one claim holds, one (O(log T)) does not."""
    import math

    import torch
    from theory import Algorithm, Claim, Experiment, Family, Instance, Mutant, Paper, hookimpl, measures

    def init(instance, hyper, gen):
        return {"regret": torch.zeros(instance.batch), "scale": 1 + 0.01 * (gen.seeds % 10).double()}

    def step(state, instance, t, hyper, gen):
        grow = 1.0 if hyper["linear"] else math.sqrt(t) - math.sqrt(t - 1)
        return {**state, "regret": state["regret"] + state["scale"] * grow}

    FAMILY = Family(name="third-party-toy", description="no randomness", parameters={},
                    generate=lambda params, gen: Instance(params=dict(params), batch=gen.batch))
    EXPERIMENT = Experiment(family="third-party-toy", over="T", grid=(16, 32, 64, 128, 256), seeds=16)
    ALGORITHM = Algorithm(
        name="third-party", paper=Paper(title="Mine", authors="Me", year=2025), family="third-party-toy",
        init=init, step=step, metrics=measures("regret")(lambda state, instance: {"regret": state["regret"]}),
        hyper={"linear": False},
        claims=(Claim(name="rate", metric="regret", kind="upper", form="C*sqrt(T)", source="Theorem 1",
                      experiment=EXPERIMENT),
                Claim(name="too-good", metric="regret", kind="upper", form="C*log(T)", source="Theorem 2",
                      experiment=EXPERIMENT)),
        mutants=(Mutant(name="linear", bug="constant regret per step", breaks=("rate",), hyper={"linear": True}),),
    )

    @hookimpl
    def theorycheck_families():
        return [FAMILY]

    @hookimpl
    def theorycheck_algorithms():
        return [ALGORITHM]
''')
TEST_FILE = textwrap.dedent('''
    from theory.testing import claims

    test_claims = claims(algorithms=["third-party"])
''')


def _pytest(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())


def test_a_third_party_package_runs_its_claims_under_its_own_pytest(tmp_path, monkeypatch):
    site, repo = tmp_path / "site", tmp_path / "repo"
    site.mkdir()
    (repo / "tests").mkdir(parents=True)
    installed_plugin.install(site, monkeypatch, MODULE, SOURCE)
    (repo / "tests" / "test_claims.py").write_text(TEST_FILE)

    done = _pytest(repo, "tests/", "-q", "--theory-seed", "1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"1 failed, 2 passed", done.stdout), done.stdout
    assert "[third-party/rate]" not in done.stdout.split("short test summary")[-1]
    assert "FAILED tests/test_claims.py::test_claims[third-party/too-good]" in done.stdout
    assert "pytest checks/" not in done.stdout
    # Under CI=true pytest repeats the failure text in its short summary: the same command, more than once.
    commands = set(re.findall(r"reproduce: (pytest .*)", done.stdout))
    assert len(commands) == 1, commands
    [command] = commands
    assert command.startswith("pytest tests/test_claims.py -k '[third-party/too-good]' --theory-seed 1")

    again = _pytest(repo, *shlex.split(command)[1:], "-q")
    assert again.returncode == 1 and re.search(r"1 failed, 2 deselected", again.stdout), again.stdout


def test_claims_needs_a_selection():
    with pytest.raises(ValueError, match="name the algorithms or families"):
        claims()
    with pytest.raises(TypeError, match="lists of names"):
        claims(algorithms="ucb1")
