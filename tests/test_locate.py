"""A run that goes wrong is located in the plugin's terms: the step and the line of the plugin that first made a
non-finite number (not the runner's line that noticed it), and a draw from a global random generator, which
seeds do not reproduce, is an error."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import torch
from fakes import bandit_experiment, make_algorithm, make_claim, nan_algorithm

from theory import Status, check, measures, run
from theory.instances.bandits import BERNOULLI
from theory.model import MutantResult

GRID = (8.0, 16.0, 32.0, 64.0)


def _init(instance, hyper, gen):
    return {"x": torch.ones(instance.batch), "steps": torch.zeros(instance.batch)}


def _dividing_step(state, instance, t, hyper, gen):
    shrink = 1.0 - (t >= 11) * 1.0
    scale = state["x"] / shrink  # step 11 divides by 0
    return {"x": scale, "steps": state["steps"] + 1}


@measures("x", "steps")
def _metrics(state, instance):
    return {"x": state["x"], "steps": state["steps"]}


def _drawing_step(state, instance, t, hyper, gen):
    return {"x": state["x"] + 0 * torch.rand(instance.batch), "steps": state["steps"] + 1}  # noqa: TID251


def _numpy_step(state, instance, t, hyper, gen):
    np.random.normal()  # noqa: TID251
    return {"x": state["x"], "steps": state["steps"] + 1}


def _run(step=None, algorithm=None):
    algorithm = algorithm or make_algorithm("bad", init=_init, step=step, metrics=_metrics)
    return run(algorithm, BERNOULLI, bandit_experiment(GRID), GRID, list(range(4)))


def test_a_nan_is_located_at_the_plugins_step_and_line():
    trace = _run(_dividing_step)
    assert trace.status == "diverged"
    line = inspect.getsourcelines(_dividing_step)[1] + 2  # the division
    assert "metric 'x' is inf for 4 of 4 seeds (first at grid point 16)" in trace.message
    assert (f"the state's x first turned non-finite at step 11, at tests/test_locate.py:{line} in _dividing_step"
            in trace.message), trace.message
    assert "runner.py" not in trace.message


def test_a_nan_made_by_metrics_alone_names_the_metrics_function():
    trace = _run(algorithm=nan_algorithm())
    assert "the state stays finite to step 16: metrics() made the value (tests/fakes.py:" in trace.message
    assert "in _bad_value_metrics" in trace.message


def test_a_draw_from_torchs_global_generator_is_an_error():
    trace = _run(_drawing_step)
    assert trace.status == "error" and trace.metrics == {}
    assert "the run drew from torch's global generator" in trace.message
    assert "draw every random number from gen" in trace.message


def test_a_diverged_run_fails_its_claim_and_so_a_diverging_mutant_is_caught():
    trace = _run(_dividing_step)
    claim = make_claim("C*T", grid=GRID, metric="x")
    verdict = check(claim, trace)
    assert verdict.status is Status.FAIL and verdict.test == "run"
    assert verdict.evidence.startswith("the run diverged: metric 'x' is inf")
    assert MutantResult(verdict, dataclasses.replace(verdict, status=Status.PASS)).caught


def test_a_draw_from_numpys_global_generator_is_an_error():
    assert "numpy's global generator" in _run(_numpy_step).message


def test_a_clean_run_draws_nothing_global():
    assert _run(lambda s, i, t, h, g: {"x": s["x"], "steps": s["steps"] + 1}).status == "ok"
