"""Gradient descent on the logistic loss with large step sizes, and its normalised variant: Tyurin, "From
Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large Step Sizes", 2024
(arXiv 2412.08424; AAAI 2025). Catalogue: shared/claims/optimization.md, section 10.

On separable data {(a_i, y_i)}, z_i = y_i a_i, f(x) = (1/n) sum_i log(1 + exp(-z_i^T x)) (the
``logistic-separable`` family of plugins/logistic_instances.py):

    LR+GD              x_{t+1} = x_t + (gamma / n) sum_i z_i sigmoid(-z_i^T x_t),                x_0 = 0,
    batch perceptron   w_{t+1} = w_t + (1/n) sum_{z_i^T w_t < 0} z_i + (1/(2n)) sum_{z_i^T w_t = 0} z_i,  w_0 = 0,
    Normalized LR+GD   x_{t+1} = x_t - gamma grad f(x_t) / f(x_t),                                x_0 = 0.

Claims (as the abstract states them; no theorem body could be read, see below):
- ``perceptron-limit`` (``lr-gd-perceptron``; abstract: "LR+GD reduces to a batch version of the celebrated
  perceptron algorithm when the step size gamma -> infinity"): with x_0 = w_0 = 0, x_t / gamma = w_t for every
  fixed t in the limit. Checked as an exact claim at gamma = 1e6 (the hyper-parameter), on the largest relative
  deviation max_{s <= t} ||x_s / gamma - w_s|| / ||w_s|| up to t = 32, against atol 1e-10 (float64). At this
  gamma, sigmoid(-gamma m) is 1, 1/2 or below exp(-745) in double precision unless |m| < 7e-4, so the limit is
  reached up to rounding (catalogue [N]: 1.8e-16 at gamma = 1e6, 2.6e-4 at 1e3, 0.88 at 10).
- ``perceptron-n`` (``lr-gd-perceptron``; abstract: "we examine the iteration complexity required by LR+GD
  with large step sizes to solve the classification problem and prove that this complexity is suboptimal"):
  the number of steps LR+GD at gamma = 1e6 spends with some point misclassified grows like n on this instance,
  Theta(n) (kind ``theta``, form ``C*n``), with the invariant that every run separates the data by its last
  step. Why n, before running: the first step (every point a tie) sets ||w_1|| ~ 1 along the easy points'
  lean, and each later step adds only the 3 hard points' z / n, so about 0.2 n steps turn w past them.
- ``n-free`` (``normalized-lr-gd``; abstract: Normalized LR+GD, "based on the connection between LR+GD and the
  perceptron algorithm", has "much better theoretical guarantees"; catalogue C10.3 [R]: a Novikoff-type bound
  O(R^2 / rho^2), free of n): the same count does not grow with n, Theta(n^0) (kind ``theta``, form ``C``), with
  the same invariant. Declared an expected failure after its first run: the count grows slowly, 4.06, 5.84,
  7.94, 10.2, 13, 16 at n = 10 .. 3000 (local exponent 0.198 [0.191, 0.204] at the top against the allowance
  0.074). Why (after the fact): the loss f is an average, so the easy points dominate it until their margins
  reach about log(n / 3), and steps of bounded length (||grad f|| / f <= max ||z_i||) need a number that grows
with log n to get there;
  an upper ``C*log(n)`` claim probed then also FAILs (0.131 [0.095, 0.167] against 0.080, steps / log n rising
  from 1.72 to 2.00), so it was not kept. It is still far below the perceptron's 590 steps at n = 3000.

Verified against the paper: the abstract and the problem statement (f, the GD step, the classification goal
y_i a_i^T x > 0) through the search tool's stored pages (tomesphere, latex-in-arxiv abstract, a literature
review page); no theorem, constant or the Normalized LR+GD formula could be read. Reconstructed (R): the
normalisation by the loss f(x_t) (my recollection of the paper, unverified; it is the risk-adaptive step
gamma / f(x) that Zhang, Wu, Lin, Bartlett study on the same problem, arXiv 2504.04105, abstract read; the
catalogue's [R] form divides by ||grad f|| instead, and its [N] counts for that form, 6, 5, 8 at n = 26, 206,
2006, rise at the top too) and gamma = 1 (the catalogue's [N] runs; the theorem's constant is
unknown to us). Ties weigh 1/2 in the batch perceptron because sigmoid(0) = 1/2.

Regime (chosen before any run, from the catalogue's instance): d = 5, 3 hard points of margin 0.05 against
n easy points of margin >= 1; the exact claim on n = 100, t in (1, 2, 4, 8, 16, 32); the claims in n on
n in (10, 30, 100, 300, 1000, 3000), 500 steps per point for ``n-free`` (2000 in its first run, cut for
the time budget: the counts are the same) and 1000 for ``perceptron-n`` (added
after the first runs, in which the same iteration, as ``normalized-lr-gd[unnormalised]``, measured exponent
0.996 [0.994, 0.997] and 590 steps at n = 3000; the growth in n was predicted beforehand, in the family's
docstring), 32 seeds (16 quick, n up to 1000).

Mutants and nulls (expected before running):
- ``finite-step`` (gamma = 10 left at a "large" value that is finite: deviation about 0.9) and
  ``ties-count-one`` (the reference perceptron weighs ties by 1, not sigmoid(0) = 1/2: every point is a tie at
  w_0 = 0, so w_1 is twice x_1 / gamma, deviation 1/2) break ``perceptron-limit``; ``gradient-sign`` (catalogue
  M10.b: x <- x - (gamma/n) sum z sigmoid(-z^T x), which never separates) breaks ``perceptron-limit`` and, by the
  invariant, ``perceptron-n``; null ``frozen`` (x stays at 0: deviation 1, never separates) fails both.
- ``sum-normaliser`` (divides by n f(x), the summed loss, instead of the mean: steps n times smaller, the count
  grows faster than n) and ``unnormalised`` (plain LR+GD at gamma = 1e6, the batch perceptron: exponent 1) FAIL
  ``n-free``, but a mutant is caught only where the correct version PASSes, so on this declared failure they are
  declared missed (``Mutant.missed``) with their numbers; null ``frozen`` breaks the invariant.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from plugins.logistic_instances import LogisticInstance
from theory import Algorithm, Claim, Experiment, Gen, Invariant, Mutant, Paper, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]

PAPER = Paper(title="From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large "
                    "Step Sizes", authors="Tyurin", year=2024, arxiv="2412.08424")


def _zeros(instance: LogisticInstance) -> torch.Tensor:
    return torch.zeros(instance.batch, instance.z.shape[2], dtype=instance.z.dtype, device=instance.z.device)


def _unseparated(instance: LogisticInstance, x: torch.Tensor) -> torch.Tensor:
    """1.0 where some point has margin <= 0."""
    return (instance.margins(x).min(1).values <= 0).to(x.dtype)


def limit_init(instance: LogisticInstance, hyper: Hyper, gen: Gen) -> State:
    x = _zeros(instance)
    return {"x": x, "w": x.clone(), "worst": torch.zeros_like(x[:, 0]), "steps": torch.zeros_like(x[:, 0])}


def limit_step(state: State, instance: LogisticInstance, t: int, hyper: Hyper, gen: Gen, *,
               tie: float = 0.5, sign: float = 1.0) -> State:
    """One LR+GD step and one batch-perceptron step side by side; ``tie`` is the perceptron's weight of a tie,
    ``sign`` -1 the gradient-sign mutant."""
    x, w, gamma, n = state["x"], state["w"], float(hyper["gamma"]), instance.z.shape[1]
    mx = instance.margins(x)
    x_next = x + sign * gamma / n * torch.einsum("bnd,bn->bd", instance.z, torch.sigmoid(-mx))
    m = instance.margins(w)
    weight = (m < 0).to(w.dtype) + tie * (m == 0).to(w.dtype)
    w = w + torch.einsum("bnd,bn->bd", instance.z, weight) / n
    deviation = (x_next / gamma - w).norm(dim=1) / w.norm(dim=1)
    return {"x": x_next, "w": w, "worst": torch.maximum(state["worst"], deviation),
            "steps": state["steps"] + (mx.min(1).values <= 0).to(x.dtype)}


@measures("deviation", "steps", "unseparated")
def limit_metrics(state: State, instance: LogisticInstance) -> dict[str, torch.Tensor]:
    return {"deviation": state["worst"], **normalized_metrics(state, instance)}


def normalized_init(instance: LogisticInstance, hyper: Hyper, gen: Gen) -> State:
    x = _zeros(instance)
    return {"x": x, "steps": torch.zeros_like(x[:, 0])}


def normalized_step(state: State, instance: LogisticInstance, t: int, hyper: Hyper, gen: Gen, *,
                    summed: bool = False, normalise: bool = True) -> State:
    """x <- x - gamma grad f(x) / f(x); ``summed`` divides by n f (the mutant), ``normalise`` off is LR+GD."""
    x, n = state["x"], instance.z.shape[1]
    m = instance.margins(x)
    gradient = -torch.einsum("bnd,bn->bd", instance.z, torch.sigmoid(-m)) / n
    scale = F.softplus(-m).mean(1) * (n if summed else 1) if normalise else torch.ones_like(x[:, 0])
    x_next = x - float(hyper["gamma"]) * gradient / scale[:, None]
    return {"x": x_next, "steps": state["steps"] + (m.min(1).values <= 0).to(x.dtype)}


@measures("steps", "unseparated")
def normalized_metrics(state: State, instance: LogisticInstance) -> dict[str, torch.Tensor]:
    return {"steps": state["steps"], "unseparated": _unseparated(instance, state["x"])}


def frozen(state: State, instance: LogisticInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """The null learner: x stays at 0."""
    moved = {**state, "steps": state["steps"] + _unseparated(instance, state["x"])}
    if "w" in state:
        moved["worst"] = torch.ones_like(state["worst"])  # ||0 - w_t|| / ||w_t|| whatever w_t is
    return moved


GROWS = ("the count grows slowly with n: means 4.06, 5.84, 7.94, 10.2, 13, 16 steps at n = 10 .. 3000 (32 seeds), "
         "fitted exponent 0.198 [0.191, 0.204] on n in [300, 3000] against 0 +- 0.074; faster than log n there too "
         "(steps / log n rises from 1.72 to 2.00); quick: 0.214 [0.205, 0.223] on n in [100, 1000], 16 seeds")
UNCAUGHT = ("FAILs (sum-normaliser: 42.6 and 168 steps at n = 10 and 30, 737 at n = 100 in a 2000-step run, no "
            "separation within 500 steps from n = 100 on; unnormalised: exponent 0.996 [0.994, 0.997]), but a catch "
            "needs the correct version to PASS, and it is a declared failure")
SEPARATES = Invariant(name="separates", metric="unseparated", at_most=0.0,
                      meaning="every run has separated the data by its last step")
FROZEN = Mutant(name="frozen", bug="no update: x stays at 0", breaks=(), step=frozen)
LIMIT_GRID = (1, 2, 4, 8, 16, 32)
N_GRID = (10, 30, 100, 300, 1000, 3000)

LIMIT = Algorithm(
    name="lr-gd-perceptron", paper=PAPER, family="logistic-separable", init=limit_init, step=limit_step,
    metrics=limit_metrics, hyper={"gamma": 1e6},
    claims=(Claim(name="perceptron-limit", metric="deviation", kind="exact", form="0", atol=1e-10,
                  source="abstract (observation 1): LR+GD reduces to the batch perceptron as gamma -> infinity",
                  experiment=Experiment(family="logistic-separable", over="t", params={"n": 100}, grid=LIMIT_GRID,
                                        seeds=32, quick_seeds=16)),
            Claim(name="perceptron-n", metric="steps", kind="theta", form="C*n",
                  source="abstract (observation 3): the iteration complexity of LR+GD with large step sizes is "
                         "suboptimal (catalogue C10.3: the batch perceptron's 1/n weights)",
                  experiment=Experiment(family="logistic-separable", over="n", params={"margin": 0.05}, grid=N_GRID,
                                        steps=1000, seeds=32, quick_grid=N_GRID[:5], quick_seeds=16))),
    invariants=(dataclasses.replace(SEPARATES, claims=("perceptron-n",)),),
    mutants=(Mutant(name="finite-step", bug="gamma = 10: a large step that stays finite", breaks=("perceptron-limit",),
                    hyper={"gamma": 10.0}),
             Mutant(name="ties-count-one", bug="the perceptron weighs a tie (margin 0) by 1, not sigmoid(0) = 1/2",
                    breaks=("perceptron-limit",), step=functools.partial(limit_step, tie=1.0)),
             Mutant(name="gradient-sign", bug="x <- x - (gamma/n) sum z sigmoid(-z^T x): the gradient's sign flipped",
                    breaks=("perceptron-limit", "perceptron-n"), step=functools.partial(limit_step, sign=-1.0))),
    nulls=(dataclasses.replace(FROZEN, breaks=("perceptron-limit", "perceptron-n")),),
    mutable={"gamma": ("half",)},
)

NORMALIZED = Algorithm(
    name="normalized-lr-gd", paper=PAPER, family="logistic-separable", init=normalized_init, step=normalized_step,
    metrics=normalized_metrics, hyper={"gamma": 1.0},
    claims=(Claim(name="n-free", metric="steps", kind="theta", form="C", expected_failure=GROWS,
                  source="abstract (observation 3) and catalogue C10.3: Normalized LR+GD's iteration complexity "
                         "is free of n, where large-step LR+GD's is not",
                  experiment=Experiment(family="logistic-separable", over="n", params={"margin": 0.05}, grid=N_GRID,
                                        steps=500, seeds=32, quick_grid=N_GRID[:5], quick_seeds=16)),),
    invariants=(SEPARATES,),
    mutants=(Mutant(name="sum-normaliser", bug="divides by the summed loss n f(x) instead of the mean f(x)",
                    breaks=("n-free",), step=functools.partial(normalized_step, summed=True),
                    missed={"n-free": UNCAUGHT}),
             Mutant(name="unnormalised", bug="no normalisation: LR+GD at gamma = 1e6, the batch perceptron",
                    breaks=("n-free",), hyper={"gamma": 1e6},
                    step=functools.partial(normalized_step, normalise=False), missed={"n-free": UNCAUGHT})),
    nulls=(dataclasses.replace(FROZEN, breaks=("n-free",)),),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [LIMIT, NORMALIZED]
