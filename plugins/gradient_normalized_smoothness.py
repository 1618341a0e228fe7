"""Gradient-regularised Newton steps with approximate Hessians and an adaptive radius: Semenov, Jaggi, Doikov,
"Gradient-Normalized Smoothness for Optimization with Approximate Hessians", 2025 (arXiv 2506.13710; ICLR
2026). Code: github.com/epfml/grad-norm-smooth (src/methods.py, ``grad_norm_smooth``, "Algorithm 1 from the
paper"). Catalogue: shared/claims/optimization.md, section 15.

Algorithm 1 (one iteration k, B = I, as in the reference code): with g_k = grad f(x_k) and an approximate
Hessian H_k, try up to 40 radii gamma:

    lambda = ||g_k|| / (gamma + 1e-8),   dx = -(H_k + lambda I)^{-1} g_k,
    accept if f(x_k) - f(x_k + dx) >= ||grad f(x_k + dx)||^2 / (8 lambda)  -> gamma <- max(2 gamma, 1e-9), stop;
    else gamma <- gamma / 2, try again;       x_{k+1} = x_k + dx (the last dx tried),  gamma_0 = 1.

On the ``logistic-regression`` family (plugins/logistic_instances.py: n = 500 points, d = 50, noisy labels,
so not separable; f(x) = (1/n) sum log(1 + exp(-z_i^T x)) + (mu/2) ||x||^2, x_0 = 0). Three choices of H_k:

- ``gns-newton``, H_k = grad^2 f(x_k). Claim ``newton-linear`` (abstract: "global linear rates in logistic
  regression and softmax problems with approximate Hessians"; the logistic loss is quasi-self-concordant):
  ||g_k|| / ||g_0|| <= C rho^k with rho = 1/2, on k = 1 .. 6, mu = 1e-3. The paper's (catalogue C15.4 [R])
  factor depends on the QSC constant times a diameter and is not known to us; 1/2 is ours, chosen before any
  run from the catalogue's [N] run of the reference code (exact Hessian, mu = 1e-3: 10 iterations to 1e-7,
  a mean factor 0.2), and the grid stops at k = 6 to stay above the catalogue's numerical floor (the
  acceptance test compares f-differences and fails below ||g|| ~ 1e-9).
- ``gns-gradient``, H_k = 0 (no second-order information: the step is -gamma g / ||g||, a normalised gradient
  step with an adaptive length). Claim ``gradient-rate`` (catalogue C15.4, first-order smooth class: f(x_k) -
  f* = O(L D^2 / k) for convex L-smooth f): the relative gap (f(x_k) - f*) / (f(x_0) - f*) is O(1/k), on
  k = 1 .. 32 at mu = 0 (convex, not strongly; the minimiser exists as the data are not separable).
- ``gns-inexact``, H_k = (1 + delta) grad^2 f(x_k), the Hessian error delta a hyper-parameter (knob; 1 by
  default). Claim ``inexact-linear``: ||g_k|| / ||g_0|| <= C (delta / (1 + delta))^k, on k = 4 .. 24 at
  mu = 1e-3. The paper claims a global linear rate with approximate Hessians; the factor is ours: once lambda_k
  -> 0 the step is -grad^2 f^{-1} g / (1 + delta), whose error contracts by exactly delta / (1 + delta).

Every variant also has claim ``lemma-1``, on its rate claim's experiment (so on the same trace): the two
per-step facts the analysis rests on, in the paper's own variable, the radius gamma_k of the step taken
(the gamma of the accepted trial, before it is doubled):

    (a) ||x_{k+1} - x_k|| <= gamma_k  (the paper's description of the update: with H_k psd,
        ||(H_k + lambda I)^{-1} g_k|| <= ||g_k|| / lambda = gamma_k; here gamma_k + eps, the reference's guard);
    (b) f(x_k) - f(x_{k+1}) >= gamma_k ||g_{k+1}||^2 / (8 ||g_k||)  (Lemma 1, the progress of one step:
        the acceptance test with lambda = ||g_k|| / gamma_k).

The metric ``progress`` is the ratio of the two sides of (b), claimed >= 1 (an explicit lower bound, so a
t-test of the mean at every grid point), and both facts are invariants at every seed and grid point
(``radius`` = ||x_{k+1} - x_k|| / (gamma_k + eps) <= 1, ``progress`` >= 1). Source: (a) as a summary of the
paper states it (en.papernotes.org, ICLR 2026 notes: "gamma_k ... ensuring ||x_{k+1} - x_k|| <= gamma_k");
(b) as a public study of the paper quotes it (github.com, L.-A. Fechete, README: "the Lemma 1 progress
condition"), which is the reference code's test read with the paper's lambda; neither theorem body was read.
Chosen before running, to catch the regulariser's wrong power: iteration counts do not see it (the search over
gamma is a search over lambda, and absorbs a change of lambda's formula), but its gamma is then no radius.
Expected before running: ``power-two`` (lambda = ||g||^2 / gamma) steps up to gamma / ||g|| (with ||g|| < 1 on
these instances), so it breaks (a) and meets (b) (its own test is the stronger one when ||g|| < 1);
``no-grad-norm`` (lambda = 1 / gamma) steps at most gamma ||g|| and meets (a), but its test only asks
gamma ||g_{k+1}||^2 / 8, below (b) when ||g|| < 1, so it breaks (b) wherever its accepted steps sit near its own
threshold; the frozen null (no progress) breaks (b).

Verified: Algorithm 1 against the reference code (read in full: the rule lambda = ||g|| / (gamma + eps), the
Cholesky solve, the test with the constant 8, doubling on success, halving on failure, 40 trials, gamma_0 = 1);
the claims against the abstract only (stored pages: arXiv listing, OpenReview summary pages) and, for
``lemma-1``, the two secondary sources above; no theorem body could be read, so the rates' constants above are
ours. Departures: the reference stops when the gradient is small; here every run takes its steps (the grids
stop above the floor instead). Metrics in float64.

Mutants (expected before running): ``radius-inverted`` (lambda = ||g|| gamma, catalogue M15.b: the
regulariser grows on every success, the steps shrink geometrically and the iterates stall) breaks every claim;
``no-grad-norm`` (lambda = 1 / gamma, the gradient-norm term missing) and ``power-two`` (lambda = ||g||^2 /
gamma, the wrong power) are expected to be hard to catch on iteration counts, since the adaptive radius absorbs
a change of lambda's scale; they are held to every claim and declared where they are missed. Null: ``frozen``
(x stays at 0) breaks every claim.

Measured (full run, 32 seeds, base seed 0; the quick run agrees on every verdict). On the rate claims:
``no-grad-norm`` is caught on ``newton-linear`` (lambda = 1 is far above the Hessian's ~5e-3 until gamma has
doubled for several steps: factor 0.869 [0.867, 0.871] at k = 4 .. 6) and missed on the other two;
``power-two`` is missed on all three (the numbers are in each ``missed``). On ``lemma-1`` every mutant is
caught, as expected:

- correct versions PASS, worst mean ``progress`` 8.49 [8.49, 8.50] (newton), 7.99 [3.06, 12.9] (gradient),
  1.22 [1.19, 1.26] (inexact), and both invariants hold at every seed: largest ``radius`` 0.894, 1 to
  rounding (with H = 0 the step is exactly the radius), 0.282; smallest ``progress`` 8.47, 1.0005, 1.007.
  ``frozen`` FAILs (``progress`` 0).
- ``power-two`` breaks (a) on all three, while its ``progress`` stays far over 1 above the floor (means
  112 .. 1.3e6): largest ``radius`` 6.04 at k = 1 and 2.49 at k = 2 (newton; under 1 at k = 3 .. 5, and 6.6 at
  k = 6 where it has reached the floor), 20.6 at k = 1 rising to 3e5 at k = 32 (gradient: the step is
  gamma / ||g||), 6.3 at k = 4 to 1.4e4 at k = 16 (inexact). In lambda it is as good a search as the correct
  one, which is why no rate sees it; it is caught because its gamma no longer bounds the step, which is what
  the paper's gamma is.
- ``no-grad-norm`` breaks (b) on all 32 seeds, its mean ``progress`` under 1 at every grid point: 0.436 .. 0.389
  (newton, k = 1 .. 6), 0.438 at k = 1 to 6.8e-4 at k = 32 (gradient), 0.40 at k = 4 to 3.5e-6 at k = 24
  (inexact); the mean test FAILs too.
- ``radius-inverted`` breaks (b): ``progress`` falls about 4x a step (means 7.8e-3 at k = 6, 1.7e-18 at
  k = 32, 1.1e-13 at k = 24).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch

from plugins.logistic_instances import LogisticInstance
from theory import Algorithm, Claim, Experiment, Gen, Invariant, Mutant, Paper, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]

PAPER = Paper(title="Gradient-Normalized Smoothness for Optimization with Approximate Hessians",
              authors="Semenov, Jaggi, Doikov", year=2025, arxiv="2506.13710")
TRIALS = 40  # the reference code's limit of the adaptive search
EPS = 1e-8  # the reference code's guard in lambda = ||g|| / (gamma + eps)
GAMMA_MIN = 1e-9  # the reference code's floor on the radius after a success


def _hessian(instance: LogisticInstance, x: torch.Tensor, hyper: Hyper) -> torch.Tensor:
    """H_k: (1 + delta) times the Hessian, or 0 when ``hessian`` is off."""
    if not hyper["hessian"]:
        return torch.zeros(*x.shape, x.shape[1], dtype=x.dtype, device=x.device)
    return (1 + float(hyper["delta"])) * instance.hessian(x)


def init(instance: LogisticInstance, hyper: Hyper, gen: Gen) -> State:
    x = torch.zeros(instance.batch, instance.z.shape[2], dtype=instance.z.dtype, device=instance.z.device)
    gamma = torch.full_like(x[:, 0], float(hyper["gamma0"]))
    return {"x": x, "gamma": gamma, "prev": x, "radius": gamma,
            "g0": instance.gradient(x).norm(dim=1), "gap0": instance.loss(x) - instance.f_star}


def _regulariser(norm: torch.Tensor, gamma: torch.Tensor, power: float, inverted: bool) -> torch.Tensor:
    return norm**power * gamma if inverted else norm**power / (gamma + EPS)


def step(state: State, instance: LogisticInstance, t: int, hyper: Hyper, gen: Gen, *, power: float = 1.0,
         inverted: bool = False) -> State:
    """One iteration of Algorithm 1, every seed's adaptive search run side by side (a seed that has accepted
    keeps its step and radius while the others try again). ``prev`` keeps x_k and ``radius`` the gamma of the
    step taken, for the metrics of ``lemma-1``."""
    x, gamma = state["x"], state["gamma"].clone()
    f, g = instance.loss(x), instance.gradient(x)
    norm, hessian = g.norm(dim=1), _hessian(instance, x, hyper)
    eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    pending = torch.ones_like(gamma, dtype=torch.bool)
    dx, radius = torch.zeros_like(x), gamma
    for _ in range(TRIALS):
        lam = _regulariser(norm, gamma, power, inverted)
        trial = -torch.cholesky_solve(g[..., None], torch.linalg.cholesky(hessian + lam[:, None, None] * eye))[..., 0]
        g_new = instance.gradient(x + trial)
        accept = f - instance.loss(x + trial) >= (g_new * g_new).sum(1) / (8 * lam)
        dx = torch.where(pending[:, None], trial, dx)
        radius = torch.where(pending, gamma, radius)
        gamma = torch.where(pending, torch.where(accept, (2 * gamma).clamp(min=GAMMA_MIN), gamma / 2), gamma)
        pending = pending & ~accept
        if not bool(pending.any()):
            break
    return {**state, "x": x + dx, "gamma": gamma, "prev": x, "radius": radius}


def frozen(state: State, instance: LogisticInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """The null learner: x stays at x_0 = 0."""
    return state


@measures("grad", "gap", "progress", "radius")
def metrics(state: State, instance: LogisticInstance) -> dict[str, torch.Tensor]:
    """The rate claims' relative gradient and gap; ``lemma-1``'s ``progress`` (f(x_k) - f(x_{k+1}) over
    gamma_k ||g_{k+1}||^2 / (8 ||g_k||)) and ``radius`` (||x_{k+1} - x_k|| / gamma_k), gamma_k + eps as the
    reference's guard has it."""
    x, prev, radius = state["x"], state["prev"], state["radius"] + EPS
    g, g_prev = instance.gradient(x), instance.gradient(prev)
    promised = radius * (g * g).sum(1) / (8 * g_prev.norm(dim=1))
    return {"grad": g.norm(dim=1) / state["g0"], "gap": (instance.loss(x) - instance.f_star) / state["gap0"],
            "progress": (instance.loss(prev) - instance.loss(x)) / promised,
            "radius": (x - prev).norm(dim=1) / radius}


def _experiment(mu: float, grid: tuple[int, ...]) -> Experiment:
    """The catalogue's instance; the quick run drops the last grid point."""
    return Experiment(family="logistic-regression", over="k", params={"n": 500, "d": 50, "mu": mu, "noise": 0.5},
                      grid=grid, seeds=32, quick_seeds=16, quick_grid=grid[:-1])


def _lemma(experiment: Experiment) -> Claim:
    """Claim ``lemma-1`` on a rate claim's experiment (module docstring)."""
    return Claim(name="lemma-1", metric="progress", kind="lower", form="1",
                 source="Lemma 1: f(x_k) - f(x_{k+1}) >= gamma_k ||g_{k+1}||^2 / (8 ||g_k||), with the step in the "
                        "ball ||x_{k+1} - x_k|| <= gamma_k", experiment=experiment)


INVARIANTS = (Invariant(name="step-in-ball", metric="radius", at_most=1.0, claims=("lemma-1",),
                        meaning="||x_{k+1} - x_k|| <= gamma_k + eps: the step stays in the ball of its radius"),
              Invariant(name="progress", metric="progress", at_least=1.0, claims=("lemma-1",),
                        meaning="Lemma 1 at every seed: f(x_k) - f(x_{k+1}) >= gamma_k ||g_{k+1}||^2 / (8 ||g_k||)"))


def _variant(name: str, hessian: bool, delta: float, claim: Claim,
             missed: Mapping[str, Mapping[str, str]]) -> Algorithm:
    """One choice of H_k, with the mutants and the null every choice is held to, on its rate claim and on
    ``lemma-1``; ``missed`` says where a mutant is declared missed (mutant name -> claim -> the measured
    verdict)."""
    lemma = _lemma(claim.experiment)
    breaks = (claim.name, lemma.name)

    def mutant(name: str, bug: str, **bind: Any) -> Mutant:
        return Mutant(name=name, bug=bug, breaks=breaks, step=functools.partial(step, **bind),
                      missed=dict(missed.get(name, {})))

    return Algorithm(
        name=name, paper=PAPER, family="logistic-regression", init=init, step=step, metrics=metrics,
        hyper={"gamma0": 1.0, "hessian": hessian, "delta": delta},
        claims=(claim, lemma), invariants=INVARIANTS,
        mutants=(mutant("radius-inverted", "lambda = ||g|| gamma instead of ||g|| / gamma", inverted=True),
                 mutant("no-grad-norm", "lambda = 1 / gamma: the gradient-norm term missing", power=0.0),
                 mutant("power-two", "lambda = ||g||^2 / gamma: the wrong power", power=2.0)),
        nulls=(Mutant(name="frozen", bug="no update: x stays at 0", breaks=breaks, step=frozen),),
        mutable={"gamma0": ("x2", "half")})


NEWTON = _variant("gns-newton", True, 0.0, Claim(
    name="newton-linear", metric="grad", kind="upper", form="C*(1/2)**k",
    source="abstract: global linear rates for logistic regression (QSC); factor 1/2 ours",
    experiment=_experiment(1e-3, (1, 2, 3, 4, 5, 6))), {
        "power-two": {"newton-linear": "converges faster, not slower: means 0.386, 0.083, 5.4e-3, 2.7e-5, 8.6e-10, "
                                       "2.6e-16 at k = 1 .. 6 (correct: 0.889 .. 4.1e-3); INCONCLUSIVE, 2 fit points "
                                       "above the floor 8.6e-14: with the exact Hessian a smaller regulariser near x* "
                                       "is a faster Newton step (caught on lemma-1)"}})
GRADIENT = _variant("gns-gradient", False, 0.0, Claim(
    name="gradient-rate", metric="gap", kind="upper", form="C/k",
    source="catalogue C15.4: H = 0 recovers the first-order smooth class, f(x_k) - f* = O(L D^2 / k)",
    experiment=_experiment(0.0, (1, 2, 4, 8, 16, 32))), {
        "no-grad-norm": {"gradient-rate": "PASSes at exponent -5.68 [-6.17, -5.18] on k in [8, 32] (gap 0.29 at "
                                          "k = 8, 1.1e-4 at 32): with H = 0 it is gradient descent with a "
                                          "doubling/halving step, which the adaptive radius tunes as well as the "
                                          "correct rule (caught on lemma-1)"},
        "power-two": {"gradient-rate": "PASSes at exponent -3.47 [-3.87, -3.07] on k in [8, 32]: the adaptive "
                                       "radius absorbs the power (gamma tracks ||g||^2 / L), so iteration counts do "
                                       "not see it (caught on lemma-1)"}})
INEXACT = _variant("gns-inexact", True, 1.0, Claim(
    name="inexact-linear", metric="grad", kind="upper", form="C*(delta/(1 + delta))**k",
    source="abstract: global linear rates with approximate Hessians; factor delta/(1+delta) of H = (1+delta) "
           "grad^2 f ours",
    experiment=_experiment(1e-3, (4, 8, 12, 16, 20, 24))), {
        "no-grad-norm": {"inexact-linear": "PASSes at factor 0.528 [0.524, 0.531] on k in [16, 24], slower early "
                                           "(0.908 at k = 4, constant 490 against the correct 25): once lambda -> 0 "
                                           "both take the same inexact step (caught on lemma-1)"},
        "power-two": {"inexact-linear": "PASSes at factor 0.508 [0.508, 0.509] on k in [16, 24]: near x* lambda -> 0 "
                                        "faster, the same inexact Newton step (caught on lemma-1)"}})


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [NEWTON, GRADIENT, INEXACT]
