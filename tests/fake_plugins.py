"""Tiny, fast plugins for testing the front ends (CLI and pytest plugin), and a way to install them.

The algorithms run a few hundred cheap steps: the regret grows like a * sqrt(t) (or a * t for the "linear"
mutant) with a per-seed scale a, so each claim's verdict is known in advance. They run on ``toy-bandit``, a
family whose instances draw no random numbers (so a run costs milliseconds) and whose name matches the
``*-bandit`` pattern of checks/test_bandits.py. ``install`` replaces the registry every front end builds with
one holding only the given plugins, so tests never run the real papers.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from theory import Algorithm, Claim, Experiment, Family, Instance, Mutant, Paper, hookimpl, measures
from theory.registry import Registry, build_registry

PAPER = Paper(title="A fake paper", authors="Nobody", year=2000)
GRID = (16.0, 32.0, 64.0, 128.0, 256.0)
FAMILY = "toy-bandit"


def _init(instance, hyper, gen):
    scale = 1 + 0.01 * (gen.seeds % 10).to(torch.get_default_dtype())
    return {"regret": torch.zeros(instance.batch), "scale": scale}


def _step_sqrt(state, instance, t, hyper, gen):
    return {**state, "regret": state["regret"] + state["scale"] * (math.sqrt(t) - math.sqrt(t - 1))}


def _step_linear(state, instance, t, hyper, gen):
    return {**state, "regret": state["regret"] + state["scale"]}


def _step_raises(state, instance, t, hyper, gen):
    raise ZeroDivisionError("deliberate failure in step")


@measures("regret")
def _metrics(state, instance):
    return {"regret": state["regret"]}


def _step_power(state, instance, t, hyper, gen):
    """Regret scale * t**power + offset: reads two of its three hyper-parameters (``unused`` is never read)."""
    return {**state, "regret": state["scale"] * t ** hyper["power"] + hyper["offset"]}


def experiment(family: str = FAMILY) -> Experiment:
    return Experiment(family=family, over="T", grid=GRID, seeds=16)


def claim(name: str = "rate", form: str = "C*sqrt(T)", family: str = FAMILY, **fields) -> Claim:
    return Claim(name=name, metric="regret", form=form, kind=fields.pop("kind", "upper"),
                 source="Theorem 1", experiment=experiment(family), **fields)


def algorithm(name: str = "fake", family: str = FAMILY, **fields) -> Algorithm:
    """Regret a * sqrt(T): claim ``rate`` (O(sqrt T)) PASSes; mutant ``linear`` breaks it (caught)."""
    spec = dict(name=name, paper=PAPER, family=family, init=_init, step=_step_sqrt, metrics=_metrics,
                claims=(claim(family=family),),
                mutants=(Mutant(name="linear", bug="adds a constant every step", breaks=("rate",),
                                step=_step_linear),))
    spec.update(fields)
    return Algorithm(**spec)


def failing(name: str = "bad", **claim_fields) -> Algorithm:
    """Claims O(log T) for a regret of order sqrt(T): the claim FAILs."""
    return algorithm(name, claims=(claim(form="C*log(T)", **claim_fields),), mutants=())


def passing_expected_failure(name: str = "lucky") -> Algorithm:
    """A claim declared as an expected failure that PASSes (an XPASS)."""
    return algorithm(name, claims=(claim(expected_failure="believed loose"),), mutants=())


def harmless_mutant(name: str = "blind") -> Algorithm:
    """A mutant that changes nothing: its claim still PASSes, so the checker misses it."""
    return algorithm(name, mutants=(Mutant(name="same", bug="changes nothing", breaks=("rate",)),))


def undecided(name: str = "unsure") -> Algorithm:
    """A rate claim fitted on too few grid points to decide: INCONCLUSIVE."""
    return algorithm(name, claims=(claim(tail=0.2),), mutants=())


def crashing(name: str = "crash") -> Algorithm:
    return algorithm(name, step=_step_raises, mutants=())


def family(name: str, **fields) -> Family:
    return Family(name=name, description="a third party's family",
                  generate=lambda params, gen: Instance(params=dict(params), batch=gen.batch), **fields)


# A null learner that learns nothing and shows it (linear regret: FAILs O(sqrt T)), and one whose regret grows
# like sqrt(T) too, so that a PASS of O(sqrt T) says nothing (the claim is VACUOUS).
REFUTED = Mutant(name="frozen", bug="never updates", breaks=("rate",), step=_step_linear)
ESCAPES = Mutant(name="lucky", bug="plays at random", breaks=("rate",), step=_step_sqrt)


def with_nulls(*nulls: Mutant, name: str = "fake", **claim_fields) -> Algorithm:
    """The fake algorithm with the given null learners on its claim ``rate``."""
    return algorithm(name, nulls=nulls, claims=(claim(**claim_fields),))


def shared_null(null_step=_step_sqrt, name: str = "uniform") -> Mutant:
    """A family's null learner: a complete learner measuring ``regret`` (no claim to break)."""
    return Mutant(name=name, bug="the family's learner that learns nothing", breaks=(), init=_init, step=null_step,
                  metrics=_metrics)


def hyper_algorithm(name: str = "tuned", **fields) -> Algorithm:
    """Regret t**power (power 0.5: O(sqrt T) PASSes). Generated mutants: power x2 is linear (caught), half
    and neg still O(sqrt T) (not caught); ``unused`` is never read (no-ops); ``offset`` is 0 (equivalent)."""
    return algorithm(name, step=_step_power, hyper={"power": 0.5, "unused": 1.0, "offset": 0.0}, **fields)


class Plugin:
    """A plugin object contributing the given algorithms and families (by default the toy-bandit family)."""

    def __init__(self, *algorithms: Algorithm, families: tuple[Family, ...] = (family(FAMILY),)):
        self.algorithms = list(algorithms)
        self.families = list(families)

    @hookimpl
    def theorycheck_algorithms(self):
        return self.algorithms

    @hookimpl
    def theorycheck_families(self):
        return self.families


class Broken:
    """A plugin whose hook raises: the registry reports it as a load error."""

    @hookimpl
    def theorycheck_algorithms(self):
        raise RuntimeError("hook exploded")


def registry(*plugins: tuple[str, object]) -> Registry:
    """The built-in families and only the given plugins (installed paper plugins are left out)."""
    built = build_registry(plugins=plugins, autoload=False)
    mine = {name for name, _ in plugins}
    return Registry({n: a for n, a in built.algorithms.items() if built.owners[n] in mine}, built.families,
                    tuple(e for e in built.errors if e.plugin in mine), built.owners)


def install(monkeypatch: pytest.MonkeyPatch, *plugins: tuple[str, object]) -> Registry:
    """Make every front end see only ``plugins``: the CLI and the pytest plugin both call build_registry."""
    made = registry(*plugins)
    monkeypatch.setattr("theory.registry.build_registry", lambda *args, **kwargs: made)
    return made


def replace_claim(alg: Algorithm, **fields) -> Algorithm:
    return dataclasses.replace(alg, claims=(dataclasses.replace(alg.claims[0], **fields),))
