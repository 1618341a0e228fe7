"""Gradient descent on the logistic loss with large step sizes, and its normalised variant: Tyurin, "From
Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large Step Sizes", 2024
(arXiv 2412.08424; AAAI 2025). Catalogue: shared/claims/optimization.md, section 10.

On separable data {(a_i, y_i)}, z_i = y_i a_i, f(x) = (1/n) sum_i log(1 + exp(-z_i^T x)) (the
``logistic-separable`` family of plugins/logistic_instances.py):

    LR+GD              x_{t+1} = x_t + (gamma / n) sum_i z_i sigmoid(-z_i^T x_t),                x_0 = 0,
    batch perceptron   w_{t+1} = w_t + (1/n) sum_{z_i^T w_t < 0} z_i + (1/(2n)) sum_{z_i^T w_t = 0} z_i,  w_0 = 0,
    Normalized LR+GD   x_{t+1} = x_t - gamma beta_t grad f(x_t),  beta_t = 1 / ((1/n) sum_i sigmoid(-z_i^T x_t)),
                       x_0 = 0 (Section 6: a convex combination of the z_i, weights sigmoid(-z_i^T x_t)).

Claims (checked as the paper states them; its text was read in the code index, see below):
- ``perceptron-limit`` (``lr-gd-perceptron``; Theorem 3.2: for gamma -> infinity and x_0 = 0, LR+GD reduces
  to the batch perceptron, x_t / gamma -> w_t for all t): checked as an exact claim at gamma = 1e6 (the
  hyper-parameter), on the largest relative deviation max_{s <= t} ||x_s / gamma - w_s|| / ||w_s|| up to
  t = 32, against atol 1e-10 (float64). At this gamma, sigmoid(-gamma m) is 1, 1/2 or below exp(-745) in double
  precision unless |m| < 7e-4, so the limit is reached up to rounding (catalogue [N]: 1.8e-16 at gamma = 1e6,
  2.6e-4 at 1e3, 0.88 at 10).
- ``perceptron-n`` (``lr-gd-perceptron``; Section 5 and Theorem 5.1: the batch perceptron, LR+GD at gamma ->
  infinity, needs Omega(n) iterations on a dataset with mu, R = Theta(1)): the number of steps LR+GD at
  gamma = 1e6 spends with some point misclassified grows like n on this instance, Theta(n) (kind ``theta``, form
  ``C*n``), with the invariant that every run separates the data by its last step. Why n, before running: the
  first step (every point a tie) sets ||w_1|| ~ 1 along the easy points' lean, and each later step adds only
  the 3 hard points' z / n, so about 0.2 n steps turn w past them (the mechanism of Theorem 5.1's dataset).
- ``theorem-6.1`` (``normalized-lr-gd``; Theorem 6.1: under Assumption 1.1, Normalized LR+GD from x_0 = 0
  solves the classification problem after at most R^2 / mu^2 + 2 log(2n - 1) / (gamma mu^2) iterations, with
  R = max_i ||a_i|| and mu = max_{||u|| = 1} min_i z_i^T u the margin): metric ``theorem_ratio`` = (the index of
  the first iterate that separates the data, or the steps run if none does) / that bound, per seed; explicit
  upper bound 1, on the experiment of ``n-free``, with the same invariant. n in the bound is the number of all
  points (easy + hard). mu is replaced by a lower bound, the margin of the direction Z^T alpha / ||Z^T alpha||
  of an NNLS solve of the dual min-norm problem min_{alpha in the simplex} ||Z^T alpha|| (every direction's
  margin is <= mu): the bound used is then >= the theorem's, so a FAIL is a FAIL of the theorem. Written
  before it was run, from the theorem's statement.
- ``n-free`` (``normalized-lr-gd``; Section 2: Normalized LR+GD "provably improves the iteration rate of LR+GD
  to R^2 / mu^2 when gamma -> infinity. The new iteration rate to solve (1) is n times better"): the count of
  steps with some point misclassified does not grow with n, Theta(n^0) (kind ``theta``, form ``C``), with the
  same invariant. At gamma = 1 the theorem's bound keeps a 2 log(2n - 1) / mu^2 term, so a slow growth in n is
  within the theorem; the claim is the paper's gamma -> infinity statement checked at gamma = 1, and it is
  declared an expected failure with the numbers measured (below).

Verified against the paper: its text (abstract, Sections 1-8, Theorems 3.2, 3.3, 5.1-5.3, 6.1 and Table 1)
was found with the code index (``find_string``) after the first version of this plugin; before that only the
abstract had been read, and the normalisation of Normalized LR+GD had been reconstructed as 1 / f(x_t) (the
risk-adaptive step of Zhang, Wu, Lin, Bartlett, arXiv 2504.04105). The paper's beta_t is 1 / ((1/n) sum_i
sigmoid(-z_i^T x_t)) (Section 6, reverse-engineered from the Normalized Batch Perceptron of Theorem 5.3,
beta_t -> |S_t| as gamma -> infinity), which is what ``normalized_step`` now does; the ``n-free`` numbers below
are remeasured with it. gamma = 1 is one of the step sizes of the paper's Table 1 (0.1 .. 100). The batch
perceptron's first step is (1 / 2n) sum_i z_i (the paper's Batch Perceptron), which is ties weighed 1/2 at
w_0 = 0.

Regime (chosen before any run, from the catalogue's instance): d = 5, 3 hard points of margin 0.05 along e1
against n easy points of margin >= 1 along e1 (the max-margin direction tilts from e1 away from the easy
points' lean, and the margin mu is larger than 0.05); the exact claim on n = 100, t in (1, 2, 4, 8, 16, 32);
the claims in n on n in (10, 30, 100, 300, 1000, 3000), 500 steps per point for ``normalized-lr-gd`` (2000 in
its first run, cut for the time budget) and 1000 for ``perceptron-n`` (added after the first runs, in which
the same iteration, as ``normalized-lr-gd[unnormalised]``, measured exponent 0.996 [0.994, 0.997] and 590
steps at n = 3000; the growth in n was predicted beforehand, in the family's docstring), 32 seeds (16 quick, n
up to 1000).

Mutants and nulls (expected before running):
- ``finite-step`` (gamma = 10 left at a "large" value that is finite: deviation about 0.9) and
  ``ties-count-one`` (the reference perceptron weighs ties by 1, not sigmoid(0) = 1/2: every point is a tie at
  w_0 = 0, so w_1 is twice x_1 / gamma, deviation 1/2) break ``perceptron-limit``; ``gradient-sign`` (catalogue
  M10.b: x <- x - (gamma/n) sum z sigmoid(-z^T x), which never separates) breaks ``perceptron-limit`` and, by the
  invariant, ``perceptron-n``; null ``frozen`` (x stays at 0: deviation 1, never separates) fails both.
- ``sum-normaliser`` (beta_t = 1 / sum_i sigmoid(-z_i^T x_t), the sum for the mean: steps n times smaller) and
  ``unnormalised`` (plain LR+GD at gamma = 1e6, the batch perceptron: a count linear in n) must break
  ``theorem-6.1``: a count over the bound, or no separation within the 500 steps (the invariant). They FAIL
  ``n-free`` too, where no catch counts (a declared failure). Null ``frozen`` breaks the invariant.

Measured verdicts (full: 32 seeds, n = 10 .. 3000; quick: 16 seeds, n = 10 .. 1000; base seed 0), for
``normalized-lr-gd`` with the paper's beta_t:
- ``theorem-6.1`` PASS: mean of first separating index / bound 0.0551 .. 0.0699, worst 0.0699 [0.0696, 0.0702] at
  n = 3000 (quick: 0.0696 [0.0678, 0.0714] at n = 1000); the bound is about 55 at n = 10 and 143 at n = 3000
  (mu about 0.41, R about 2.5). ``sum-normaliser`` FAILs it, 5.33 [5.23, 5.43] at n = 100 (over the bound from
  n = 30, 1.76 [1.71, 1.81], and the invariant broken from n = 100); ``unnormalised`` FAILs it, 13.3 [13.2,
  13.3] at n = 3000 (over the bound from n = 300, 1.67 [1.65, 1.69], and the invariant broken at n = 3000);
  ``frozen`` FAILs it (the invariant, and 3.5 .. 9.0 times the bound).
- ``n-free`` XFAIL: exponent 0.156 [0.155, 0.156] (quick 0.184 [0.165, 0.203]); ``frozen`` FAILs it. With the
  loss normalisation the plugin first had, it was 0.198 [0.191, 0.204] (4.06 .. 16 steps).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

import torch

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


def margin_lower_bound(z: torch.Tensor) -> torch.Tensor:
    """(batch,): min_i z_i^T u for u the direction of the min-norm point Z^T alpha of the hull of the z_i (an NNLS
    solve of min ||Z^T alpha|| over the simplex, the sum held by a heavy row): no larger than the margin mu,
    which any unit direction's smallest margin bounds from below; the max-margin direction where the solve is
    exact."""
    from scipy.optimize import nnls  # here: building the registry imports this module and need not load scipy

    bounds = []
    for points in z.detach().cpu().double().numpy():
        weight = 1e3 * max(1.0, float(abs(points).max()))
        system = torch.cat([torch.from_numpy(points).T, torch.full((1, points.shape[0]), weight,
                                                                    dtype=torch.float64)]).numpy()
        target = torch.zeros(points.shape[1] + 1, dtype=torch.float64)
        target[-1] = weight
        alpha, _ = nnls(system, target.numpy(), maxiter=50 * points.shape[0])
        u = points.T @ alpha
        bounds.append(float((points @ (u / (u**2).sum() ** 0.5)).min()))
    return torch.tensor(bounds, dtype=z.dtype, device=z.device)


def theorem_bound(instance: LogisticInstance, gamma: float) -> torch.Tensor:
    """(batch,): Theorem 6.1's R^2 / mu^2 + 2 log(2n - 1) / (gamma mu^2), mu by its lower bound (so never below
    the theorem's), n every point."""
    n, mu = instance.z.shape[1], margin_lower_bound(instance.z)
    radius = instance.z.norm(dim=2).max(1).values
    return (radius**2 + 2 * torch.log(torch.tensor(2.0 * n - 1)) / gamma) / mu**2


def normalized_init(instance: LogisticInstance, hyper: Hyper, gen: Gen) -> State:
    x = _zeros(instance)
    count = torch.zeros_like(x[:, 0])
    return {"x": x, "steps": count, "first": count, "solved": count.bool(),
            "bound": theorem_bound(instance, float(hyper["gamma"]))}


def normalized_step(state: State, instance: LogisticInstance, t: int, hyper: Hyper, gen: Gen, *,
                    summed: bool = False, normalise: bool = True) -> State:
    """x <- x - gamma beta grad f(x), beta = 1 / mean_i sigmoid(-z_i^T x); ``summed`` divides by the sum instead
    (the mutant), ``normalise`` off is LR+GD."""
    x, n = state["x"], instance.z.shape[1]
    m = instance.margins(x)
    weights = torch.sigmoid(-m)
    gradient = -torch.einsum("bnd,bn->bd", instance.z, weights) / n
    scale = weights.mean(1) * (n if summed else 1) if normalise else torch.ones_like(x[:, 0])
    x_next = x - float(hyper["gamma"]) * gradient / scale[:, None]
    solved = state["solved"] | (m.min(1).values > 0)
    return {**state, "x": x_next, "steps": state["steps"] + (m.min(1).values <= 0).to(x.dtype),
            "first": state["first"] + (~solved).to(x.dtype), "solved": solved}


def normalized_metrics(state: State, instance: LogisticInstance) -> dict[str, torch.Tensor]:
    return {"steps": state["steps"], "unseparated": _unseparated(instance, state["x"])}


@measures("steps", "unseparated", "theorem_ratio")
def theorem_metrics(state: State, instance: LogisticInstance) -> dict[str, torch.Tensor]:
    return {**normalized_metrics(state, instance), "theorem_ratio": state["first"] / state["bound"]}


def frozen(state: State, instance: LogisticInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """The null learner: x stays at 0."""
    moved = {**state, "steps": state["steps"] + _unseparated(instance, state["x"])}
    if "first" in state:
        moved["first"] = state["first"] + _unseparated(instance, state["x"])
    if "w" in state:
        moved["worst"] = torch.ones_like(state["worst"])  # ||0 - w_t|| / ||w_t|| whatever w_t is
    return moved


GROWS = ("the count grows slowly with n: means 3.06, 4.22, 5.81, 7, 8.88, 10 steps at n = 10 .. 3000 (32 seeds), "
         "fitted exponent 0.156 [0.155, 0.156] on n in [300, 3000] against 0 +- 0.074; quick: 0.184 [0.165, 0.203] "
         "on n in [100, 1000] against 0 +- 0.088, 16 seeds. Within Theorem 6.1 at gamma = 1, whose bound grows like "
         "log n (``theorem-6.1`` PASSes); the n-free rate is the paper's gamma -> infinity statement")
UNCAUGHT = ("FAILs, by the invariant (sum-normaliser: 32.8 and 127 steps at n = 10 and 30, no separation within 500 "
            "steps from n = 100 on; unnormalised: 3, 7, 20.6, 59.6, 197 steps at n = 10 .. 1000, none within 500 "
            "at n = 3000), but a catch needs the correct version to PASS, and it is a declared failure; both are "
            "caught by ``theorem-6.1``")
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

NORMALIZED_RUN = Experiment(family="logistic-separable", over="n", params={"margin": 0.05}, grid=N_GRID, steps=500,
                            seeds=32, quick_grid=N_GRID[:5], quick_seeds=16)
NORMALIZED = Algorithm(
    name="normalized-lr-gd", paper=PAPER, family="logistic-separable", init=normalized_init, step=normalized_step,
    metrics=theorem_metrics, hyper={"gamma": 1.0},
    claims=(Claim(name="theorem-6.1", metric="theorem_ratio", kind="upper", form="1", free=(),
                  source="Theorem 6.1: from x_0 = 0, Normalized LR+GD separates the data within R^2 / mu^2 + "
                         "2 log(2n - 1) / (gamma mu^2) iterations",
                  experiment=NORMALIZED_RUN),
            Claim(name="n-free", metric="steps", kind="theta", form="C", expected_failure=GROWS,
                  source="Section 2: Normalized LR+GD's iteration rate is R^2 / mu^2 as gamma -> infinity, n times "
                         "better than LR+GD's",
                  experiment=NORMALIZED_RUN)),
    invariants=(SEPARATES,),
    mutants=(Mutant(name="sum-normaliser", bug="beta = 1 / sum_i sigmoid(-z_i^T x), the sum for the mean",
                    breaks=("theorem-6.1", "n-free"), step=functools.partial(normalized_step, summed=True),
                    missed={"n-free": UNCAUGHT}),
             Mutant(name="unnormalised", bug="no normalisation: LR+GD at gamma = 1e6, the batch perceptron",
                    breaks=("theorem-6.1", "n-free"), hyper={"gamma": 1e6},
                    step=functools.partial(normalized_step, normalise=False), missed={"n-free": UNCAUGHT})),
    nulls=(dataclasses.replace(FROZEN, breaks=("theorem-6.1", "n-free")),),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [LIMIT, NORMALIZED]
