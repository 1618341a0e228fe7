"""Compiled kernels: every registered kernel gives its step's numbers, the generator's scalar mirror gives
``Gen``'s numbers, and the runner uses a kernel only where it may (CPU, not under a replaced step)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from fakes import bandit_experiment, make_algorithm

from theory import build_registry, kernels, measures
from theory.instances.bandits import BERNOULLI
from theory.random import Gen, stream_key
from theory.runner import run

REGISTRY = build_registry()
WITH_KERNEL = sorted(name for name, algorithm in REGISTRY.algorithms.items() if algorithm.kernel is not None)
SEEDS = list(range(40, 72))


def test_the_bandit_baselines_ship_kernels():
    assert {"ucb1", "thompson", "exp3"} <= set(WITH_KERNEL)


@pytest.mark.parametrize("name", WITH_KERNEL)
def test_a_kernel_gives_the_numbers_of_its_step(name):
    algorithm = REGISTRY.algorithms[name]
    claim = algorithm.claims[0]
    experiment = dataclasses.replace(claim.experiment, grid=(16, 48, 200))
    family = REGISTRY.families[experiment.family]
    compiled = run(algorithm, family, experiment, experiment.grid, SEEDS)
    stepped = run(dataclasses.replace(algorithm, kernel=None), family, experiment, experiment.grid, SEEDS)
    assert (compiled.status, stepped.status) == ("ok", "ok"), (compiled.message, stepped.message)
    assert (compiled.environment["path"], stepped.environment["path"]) == ("kernel", "step")
    for metric in algorithm.metric_names:
        np.testing.assert_array_equal(compiled.metrics[metric], stepped.metrics[metric], err_msg=metric)


def test_the_scalar_generator_draws_what_gen_draws():
    gen = Gen(torch.tensor([0, 7, 2**40 + 3]))
    keys = gen.seed_keys()
    expected = gen.uniform("reward", 11, 5).numpy()
    mirrored = [[kernels.uniform(key, np.uint64(stream_key("reward")), 11, 5, i) for i in range(5)] for key in keys]
    np.testing.assert_array_equal(mirrored, expected)
    normals = gen.normal("noise", 3, 4).numpy()
    radius, angle = np.uint64(stream_key("noise#r")), np.uint64(stream_key("noise#a"))
    mirrored = [[kernels.normal(key, radius, angle, 3, 4, i) for i in range(4)] for key in keys]
    np.testing.assert_allclose(mirrored, normals, rtol=1e-14)


def test_the_scalar_beta_draws_what_gen_draws():
    gen = Gen(torch.arange(16))
    a = 1.0 + torch.arange(48, dtype=torch.float64).reshape(16, 3) % 7
    b = 1.0 + torch.arange(48, dtype=torch.float64).reshape(16, 3) % 5
    expected = gen.beta("posterior", 9, a, b).numpy()
    keys = kernels.beta_keys("posterior")
    mirrored = [[kernels.beta(key, keys, 9, 3, i, a[s, i].item(), b[s, i].item()) for i in range(3)]
                for s, key in enumerate(gen.seed_keys())]
    np.testing.assert_allclose(mirrored, expected, rtol=1e-13)


def test_the_runner_calls_a_kernel_in_spans_that_cover_every_step(monkeypatch):
    monkeypatch.setattr("theory.runner.KERNEL_WORK", 4 * 10)  # 10 steps per call for 4 seeds
    spans = []

    def counting_kernel(state, instance, first, last, hyper, gen):
        spans.append((first, last))
        return {"steps": state["steps"] + (last - first + 1)}

    algorithm = make_algorithm("counted", init=lambda instance, hyper, gen: {"steps": torch.zeros(instance.batch)},
                               step=None, kernel=counting_kernel,
                               metrics=measures("steps")(lambda state, instance: {"steps": state["steps"]}))
    experiment = bandit_experiment((8, 16, 32), K=2, best=0.9, gap=0.5)
    trace = run(algorithm, BERNOULLI, experiment, experiment.grid, range(4))
    assert trace.status == "ok", trace.message
    np.testing.assert_array_equal(trace.metrics["steps"][0], [8, 16, 32])
    assert spans == [(1, 8), (9, 16), (17, 26), (27, 32)]  # measured at every checkpoint, time checked per span


def test_a_mutant_that_replaces_the_step_runs_without_the_kernel():
    ucb1 = REGISTRY.algorithms["ucb1"]
    replaced = next(m for m in ucb1.mutants if m.step is not None)
    assert ucb1.mutant(replaced.name).kernel is None
    hyper_only = dataclasses.replace(replaced, step=None, hyper={"exploration": 0.5})
    assert dataclasses.replace(ucb1, mutants=(hyper_only,)).mutant(replaced.name).kernel is ucb1.kernel


def test_the_kernel_is_not_used_off_the_cpu():
    from theory.runner import uses_kernel

    assert uses_kernel(REGISTRY.algorithms["ucb1"], torch.device("cpu"))
    assert not uses_kernel(REGISTRY.algorithms["ucb1"], torch.device("meta"))


def test_the_store_key_covers_the_kernel_code(monkeypatch):
    from theory.harness import Harness

    ucb1 = REGISTRY.algorithms["ucb1"]
    keys = []
    for version in ("before", "after"):  # a harness per version: within one process the code stands still
        monkeypatch.setattr("theory.fingerprint._file_digest",
                            lambda path, version=version: version if path.endswith("kernels.py") else path)
        keys.append(Harness(REGISTRY)._key(ucb1, ucb1.claims[0])[0])
    assert keys[0] != keys[1]  # editing theory/kernels.py gives new keys: stored numbers are not reused
