"""Minimal fake algorithms, traces and plugins for the core's unit tests.

Each fake does one thing (or breaks exactly one property), so a test that uses it checks one behaviour of the
core. Shared by the unit tests; other test modules may import from here too.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping

import numpy as np
import torch

from theory import Algorithm, Claim, Experiment, Family, Instance, Mutant, Paper, hookimpl, measures
from theory.model import Trace

PAPER = Paper(title="A paper that does not exist", authors="Nobody", year=2000)
BANDIT = dict(family="bernoulli-bandit", over="T")


def geometric_grid(low: int = 7, high: int = 14) -> tuple[float, ...]:
    """Powers of two 2**low .. 2**high: a geometric grid of horizons."""
    return tuple(float(2**k) for k in range(low, high + 1))


def bandit_experiment(grid: tuple[float, ...] = (8, 16, 32, 64), **params) -> Experiment:
    params = params or {"K": 3, "means": (0.9, 0.5, 0.4)}
    return Experiment(**BANDIT, grid=tuple(float(g) for g in grid), params=params)


# --- algorithms ---------------------------------------------------------------------------------------------


def _random_init(instance, hyper, gen):
    return {"regret": torch.zeros(instance.batch), "reward": torch.zeros(instance.batch),
            "best": instance.means.amax(dim=1)}


def _random_step(state, instance, t, hyper, gen):
    """Play an arm drawn from the generator (categorical over all arms) and draw its Bernoulli reward the way
    ``BanditInstance.pull`` does (``pulling_algorithm`` calls ``pull`` itself)."""
    probs = torch.ones(instance.batch, instance.arms)
    arm = gen.categorical("arm", t, probs)
    mean = instance.means.gather(1, arm[:, None])[:, 0]
    reward = (gen.uniform("reward", t, dtype=mean.dtype) < mean).to(mean.dtype)
    noise = gen.normal("noise", t)  # a third stream, so several streams interleave
    return {"regret": state["regret"] + state["best"] - mean, "best": state["best"],
            "reward": state["reward"] + reward + 1e-3 * noise}


@measures("regret", "reward")
def _random_metrics(state, instance):
    return {"regret": state["regret"], "reward": state["reward"]}


def _pulling_step(state, instance, t, hyper, gen):
    """Like the random player, with rewards from the family's own ``pull``."""
    arm = gen.categorical("arm", t, torch.ones(instance.batch, instance.arms))
    reward, regret = instance.pull(arm, t, gen)
    return {**state, "regret": state["regret"] + regret, "reward": state["reward"] + reward}


def make_algorithm(name: str = "fake", **overrides) -> Algorithm:
    """An algorithm that plays uniformly random arms on a bandit; any field can be overridden."""
    fields = dict(name=name, paper=PAPER, family="bernoulli-bandit", init=_random_init, step=_random_step,
                  metrics=_random_metrics, claims=())
    fields.update(overrides)
    return Algorithm(**fields)


def pulling_algorithm() -> Algorithm:
    return make_algorithm("puller", step=_pulling_step)


def _probe_init(instance, hyper, gen):
    means = instance.means
    return {"steps": torch.zeros(instance.batch),
            "horizon": torch.full((instance.batch,), float(hyper.get("horizon", 0))),  # 0: not told
            "gap": means.amax(dim=1) - means.amin(dim=1)}


def _probe_step(state, instance, t, hyper, gen):
    return {**state, "steps": state["steps"] + 1}


@measures("steps", "horizon", "gap")
def _probe_metrics(state, instance):
    return dict(state)


def probe_algorithm(**overrides) -> Algorithm:
    """Measures how it was run: steps taken, the horizon it was given (0 if none), and the instance's gap."""
    return make_algorithm("probe", init=_probe_init, step=_probe_step, metrics=_probe_metrics,
                          **overrides)


def _raising_step(state, instance, t, hyper, gen):
    if t == 3:
        raise ZeroDivisionError("deliberate failure at step 3")
    return state


def _bad_value_metrics(state, instance, bad: float):
    """Seed index 1's loss turns ``bad`` from step 16 on."""
    value = torch.zeros(instance.batch)
    if float(state["steps"][0]) >= 16:
        value[1] = bad
    return {"steps": state["steps"], "loss": value}


def _count_step(state, instance, t, hyper, gen):
    return {"steps": state["steps"] + 1}


def _count_init(instance, hyper, gen):
    return {"steps": torch.zeros(instance.batch)}


@measures("steps")
def _wrong_shape_metrics(state, instance):
    return {"steps": torch.zeros(instance.batch, 2)}


def _hanging_step(state, instance, t, hyper, gen):
    while True:
        pass


def _sleepy_step(state, instance, t, hyper, gen):
    time.sleep(0.05)
    return state


def raising_algorithm() -> Algorithm:
    return make_algorithm("raises", step=_raising_step)


def nan_algorithm(bad: float = float("nan")) -> Algorithm:
    return make_algorithm("nan", init=_count_init, step=_count_step,
                          metrics=measures("steps", "loss")(functools.partial(_bad_value_metrics, bad=bad)))


def wrong_shape_algorithm() -> Algorithm:
    return make_algorithm("wrong-shape", init=_count_init, step=_count_step, metrics=_wrong_shape_metrics)


def hanging_algorithm(timeout_s: float = 0.5) -> Algorithm:
    return make_algorithm("hangs", step=_hanging_step, timeout_s=timeout_s)


def sleepy_algorithm(timeout_s: float = 0.5) -> Algorithm:
    return make_algorithm("sleeps", step=_sleepy_step, timeout_s=timeout_s)


# --- traces -------------------------------------------------------------------------------------------------


def make_trace(values: np.ndarray | Mapping[str, np.ndarray], grid: tuple[float, ...], *, over: str = "T",
               base_seed: int = 0, dtype: str = "float64", algorithm: str = "synthetic", **fields) -> Trace:
    """A hand-made Trace: ``values`` (metric ``m``) has shape (seeds, grid), or is a dict of such arrays."""
    metrics = dict(values) if isinstance(values, Mapping) else {"m": np.asarray(values, dtype=float)}
    seeds = next(iter(metrics.values())).shape[0] if metrics else 1
    experiment = Experiment(family="synthetic", over=over, grid=grid)
    return Trace(algorithm=algorithm, version="1", experiment=experiment, grid=grid,
                 seeds=tuple(range(base_seed, base_seed + seeds)), metrics=metrics, dtype=dtype, **fields)


def make_claim(form: str, kind: str = "upper", *, grid: tuple[float, ...], over: str = "T",
               params: Mapping[str, object] | None = None, **fields) -> Claim:
    fields.setdefault("name", "claim")
    fields.setdefault("metric", "m")
    fields.setdefault("source", "Theorem 0")
    return Claim(form=form, kind=kind, experiment=Experiment(family="synthetic", over=over, grid=grid,
                                                             params=dict(params or {})), **fields)


# --- plugins ------------------------------------------------------------------------------------------------


def valid_algorithm(name: str, **overrides) -> Algorithm:
    """An algorithm with one valid claim and one valid mutant: what a registry accepts."""
    claim = Claim(name="rate", metric="regret", form="C*T", kind="upper", source="Theorem 1",
                  experiment=bandit_experiment())
    fields = dict(claims=(claim,), mutants=(Mutant(name="lazy", bug="none", breaks=("rate",)),))
    fields.update(overrides)
    return make_algorithm(name, **fields)


class AlgorithmsPlugin:
    """A plugin object whose ``theorycheck_algorithms`` hook returns the given items."""

    def __init__(self, *items):
        self.items = list(items)

    @hookimpl
    def theorycheck_algorithms(self):
        return self.items


class FamiliesPlugin:
    def __init__(self, *families):
        self.families = list(families)

    @hookimpl
    def theorycheck_families(self):
        return self.families


class RaisingPlugin:
    @hookimpl
    def theorycheck_algorithms(self):
        raise RuntimeError("hook exploded")


class MisspelledHookPlugin:
    @hookimpl
    def theorycheck_algorithm(self):  # missing final "s": not a hook the registry knows
        return []


def with_claim(algorithm: Algorithm, **claim_fields) -> Algorithm:
    """``algorithm`` with its single claim changed."""
    return dataclasses.replace(algorithm, claims=(dataclasses.replace(algorithm.claims[0], **claim_fields),))


def fake_family(name: str) -> Family:
    return Family(name=name, description="a family for tests",
                  generate=lambda params, gen: Instance(params=dict(params), batch=gen.batch))
