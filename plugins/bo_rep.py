"""BO-REP: bilevel optimisation under unbounded smoothness, with stochastic oracles, measured in oracle calls.

Paper: Jie Hao, Xiaochuan Gong, Mingrui Liu, "Bilevel Optimization under Unbounded Smoothness: A New Algorithm
and Convergence Analysis", ICLR 2024 (arXiv 2401.09587). Claim (main theorem, abstract and introduction): with
an upper level f that is (L_{x,0}, L_{x,1}, L_{y,0}, L_{y,1})-smooth (smoothness may grow linearly with the
gradient norm) and a strongly convex lower level g, BO-REP finds an eps-stationary point,
(1/T) sum_t E||grad Phi(x_t)|| <= eps, in O~(eps^-4) iterations, each one stochastic gradient or Hessian- /
Jacobian-vector call. With eps = T^(-1/4) this reads: the average ||grad Phi|| is O~(calls^(-1/4)).

The update (outer step k; x: upper, y: lower, z ~ [grad^2_yy g]^-1 grad_y f, m: momentum):
    k = 0:           y <- refine(x_0): N_0 SGD steps on g(x_0, .)            (initialisation refinement)
    k > 0, I | k:    y <- N SGD steps on g(x_k, .) from the current y        (periodic update, warm start)
    hg  = grad_x f(x, y; xi) - grad^2_xy g(x, y; zeta) z
    z  <- Proj_{||z|| <= R}( z - nu (grad^2_yy g(x, y; zeta) z - grad_y f(x, y; xi)) )
    m  <- beta m + (1 - beta) hg;   x <- x - eta m / ||m||                    (normalised momentum)
SGD steps use the step 1 / (L_g + mu_g j) (a 1 / (mu (j + kappa)) schedule). Parameters (per horizon T,
eps = T^(-1/4)): 1 - beta = eps^2, eta = eta0 eps^3, I = N = N_0 = ceil(eps^-2), nu = eps^2 / L_g, R = 10.

Verified against: the abstract (sciencestack / ICLR pages via search: normalised momentum, initialisation
refinement, periodic updates, O~(eps^-4)); the authors' code (MingruiLiu-ML-Lab/Bilevel-Optimization-under-
Unbounded-Smoothness, hyperparam_opt/bo_rep.py): z -= nu (H z - grad_y f), momentum beta h + (1 - beta) (hg),
outer lr times 1 / (1e-10 + ||m||), lower-level steps only when step % interval == 0 (y_warm_start of them).
Departures: the theorem section could not be read, so the exponents of (beta, eta, I, N, nu) are the
catalogue's reconstruction [R] of Theorem 1's choices (1 - beta ~ eps^2, eta ~ eps^3, I ~ eps^-2); the
constants eta0 = 8 and R = 10 are mine, and the refinement is plain SGD instead of the paper's epoch-SGD.

Regime: stochastic oracles with sigma = 0.1 in every coordinate; horizons T = 2^5..2^10 (1.5 decades;
the catalogue's 2^8..2^14 costs minutes per run on the shared 2 cores), 64 seeds (quick: T = 32, 48, ..., 256,
7 points so that the fitted upper half holds at least 3, 16 seeds).
bilevel-unbounded with dx = dy = 10 and x_0 = c + 3 (local smoothness cosh(3) ~ 10 L_0, so normalisation
matters; the catalogue's c + 5 needs a path eta T beyond this grid). eta0 = 8 makes the path eta T = 8 T^(1/4)
at least twice the distance r0 sqrt(dx) = 9.5 to the minimiser at the smallest horizon. bilevel-hyperparam
with its defaults (d = 10, 40 train / 40 validation samples, reg = 0.01). Calls per outer step: 3
(upper_grad, lower_hvp, cross_jvp) plus N lower gradients every I steps, plus N_0 at the start.
History, said plainly: the first draft ran 32 seeds; avg-rate-hyperparam was INCONCLUSIVE at -0.224
[-0.278, -0.170] and the checker said about 57 seeds would decide it, so the experiments run 64 (the count
first planned, cut for time). bilevel-hyperparam gained its ``reg`` before these runs: without it
grad Phi also vanishes as x -> infinity.
Claims (verdicts of the full run, 64 seeds):
- ``last-rate-hyperparam``: ||grad Phi(x_T)|| = O(calls^(-1/4)) on bilevel-hyperparam, the comparison claim
  shared with the other bilevel methods for ``versus``. The theorem bounds the average only; the last iterate
  of normalised momentum jitters on the scale eta / (1 - beta) = eta0 eps. Declared an expected failure:
  INCONCLUSIVE at -0.115 [-0.330, 0.100]. No mutant is judged on it (none can be caught while the correct
  version does not PASS); its nulls still FAIL it.
- ``avg-rate-hyperparam``: (1/T) sum_t ||grad Phi(x_t)|| = O(calls^(-1/4)): PASS, -0.239 [-0.272, -0.205].
- ``avg-rate-unbounded``: the same on bilevel-unbounded: PASS, -0.266 [-0.267, -0.265].
- ``lower-tracking`` (added, chosen before it was run): max_k ||y_k - y*(x_k)|| = O~(eps) = O(T^(-1/4)
  sqrt(log T)) on bilevel-unbounded, over T (calls per step are fixed up to the periodic updates). This is what
  the refinement and the periodic updates are for (the abstract: the lower-level variable is controlled by
  "novel technical lemmas for the periodically updated lower-level variable"; catalogue C1 [R]: I = eps^-2 so
  that x moves at most eta I = O(eps) inside a period): the refinement leaves ||y_0 - y*(x_0)|| = O(eps)
  (N_0 = eps^-2 SGD steps), inside a period y*(x_k) drifts by at most Lip(y*) eta I = O(eps), and each refresh
  of N = eps^-2 warm-started SGD steps brings the error back to O(eps). The bound is a high-probability one
  over all k, so the O~ is read as one union-bound factor sqrt(log T) in the norm (the form carries it, so the
  allowance does not absorb it). The metric is the running maximum over the steps of the exact
  ||y_k - y*(x_k)|| (the instance's y*), from the y after the refinement on. PASS, -0.298 [-0.307, -0.289]
  (quick: -0.403 [-0.436, -0.370]).
- invariant ``step-length``: ||x_{k+1} - x_k|| <= eta at every step (catalogue C1.3: the normalised step
  never blows up, whatever the local smoothness).
Mutants: ``unnormalised`` (x <- x - eta m, the code's grad_normalized=False) takes steps of eta ||m||: caught
on bilevel-unbounded by the step-length invariant (||m|| up to 8 eta), missed on bilevel-hyperparam where
||m|| < 1. ``never-refresh`` (I = infinity after the refinement, catalogue M1.b), ``sign-flip`` (hg = grad_x f
+ J z, M1.c) and ``frozen-z`` (nu = 0: z stays 0, the implicit term is lost) plateau on bilevel-hyperparam
(caught) but are missed on bilevel-unbounded, where the transient and the jitter dominate the average on this
grid (``never-refresh`` is caught on ``lower-tracking`` too, below). ``no-refinement`` (y starts at y_0) only
biases the first period: missed on both average-rate claims (declared, numbers in ``missed``), caught on
``lower-tracking``. Nulls: the family's ``frozen`` and ``zero-step`` (eta = 0, every oracle still called) FAIL the
rate claims; ``lower-frozen`` (y never leaves y_0: no refinement, no periodic update; x moves as BO-REP's) is
the null of ``lower-tracking``, which ``zero-step`` would pass (its y is refined and refreshed at a fixed x).
``no-refinement`` and ``never-refresh`` are also judged on ``lower-tracking`` (expected before running: an O(1)
error in the first period, resp. after x has moved, so a maximum that does not decay). Measured there (full
budget): ``no-refinement`` FAIL at -0.0805 (the maximum is the unrefined start's error, the same at every T,
so the interval is a point), ``never-refresh`` FAIL at -0.119 [-0.120, -0.117], ``lower-frozen`` FAIL at
-0.0805, against the threshold -0.170 (claimed -0.25, allowance 0.0805); quick: -0.0965, -0.144 [-0.152,
-0.136], -0.0965. So both mutants are caught, and their misses on the average-rate claims stay declared.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import torch

from plugins.bilevel_instances import METRIC_NAMES, BilevelInstance, count, counters, oracle_metrics
from theory import Algorithm, Claim, Experiment, Gen, Invariant, Mutant, Paper, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]

PAPER = Paper(title="Bilevel Optimization under Unbounded Smoothness: A New Algorithm and Convergence Analysis",
              authors="Hao, Gong, Liu", year=2024, arxiv="2401.09587")


def _schedule(hyper: Hyper) -> dict[str, float]:
    """The theorem's parameters as functions of the horizon T (eps = T^(-1/4))."""
    horizon = int(hyper["horizon"])
    eps = horizon ** -0.25
    inner = math.ceil(eps ** -2)
    return {"beta": 1 - eps ** 2, "eta": hyper["eta0"] * eps ** 3, "nu": hyper["nu0"] * eps ** 2, "inner": inner,
            "period": hyper["period"] or inner}


def _sgd(instance: BilevelInstance, x: torch.Tensor, y: torch.Tensor, steps: int, gen: Gen, stream: str,
         first: int) -> torch.Tensor:
    """``steps`` SGD steps on g(x, .) with the step 1 / (L_g + mu_g j); noise counters first, first + 1, ..."""
    mu, smooth = instance.lower_mu(x)[:, None], instance.lower_smoothness(x)[:, None]
    for j in range(steps):
        y = y - instance.lower_grad(x, y, gen=gen, t=first + j, stream=stream)[1] / (smooth + mu * j)
    return y


def _lower_error(instance: BilevelInstance, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (y - instance.lower_solution(x)).norm(dim=1).to(torch.float64)


def init(instance: BilevelInstance, hyper: Hyper, gen: Gen) -> State:
    inner = _schedule(hyper)["inner"] if hyper["refine"] else 0
    y = _sgd(instance, instance.x0, instance.y0, inner, gen, "/refine", 0)
    zero = torch.zeros(instance.batch, dtype=torch.float64, device=instance.x0.device)
    state = {"x": instance.x0, "y": y, "z": torch.zeros_like(y), "m": torch.zeros_like(instance.x0),
             "norm_sum": zero, "steps": zero, "step_ratio": zero, "lower_error": _lower_error(instance, instance.x0, y),
             **counters(instance)}
    return {**state, **count(state, grad=inner * instance.blocks)}


def step(state: State, instance: BilevelInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    p, k, blocks = _schedule(hyper), t - 1, instance.blocks
    x, y, z = state["x"], state["y"], state["z"]
    refresh = k > 0 and k % p["period"] == 0
    if refresh:
        y = _sgd(instance, x, y, p["inner"], gen, "/periodic", (k // p["period"]) * p["inner"])
    gx, gy = instance.upper_grad(x, y, gen=gen, t=t)
    hz = instance.lower_hvp(x, y, z, gen=gen, t=t)
    hg = gx + hyper["sign"] * instance.cross_jvp(x, y, z, gen=gen, t=t)
    z = z - p["nu"] / instance.lower_smoothness(x)[:, None] * (hz - gy)
    z = z * torch.clamp(hyper["radius"] / z.norm(dim=1, keepdim=True).clamp_min(1e-300), max=1.0)
    m = p["beta"] * state["m"] + (1 - p["beta"]) * hg
    move = p["eta"] * (m / (1e-10 + m.norm(dim=1, keepdim=True)) if hyper["normalize"] else m)
    calls = count(state, grad=blocks * (1 + (p["inner"] if refresh else 0)), hvp=blocks, jvp=blocks)
    return {**state, **calls, "x": x - move, "y": y, "z": z, "m": m,
            "norm_sum": state["norm_sum"] + instance.hypergrad(x).norm(dim=1), "steps": state["steps"] + 1,
            "step_ratio": torch.maximum(state["step_ratio"], move.norm(dim=1) / max(p["eta"], 1e-300)),
            "lower_error": torch.maximum(state["lower_error"], _lower_error(instance, x, y))}


@measures(*METRIC_NAMES, "avg_hypergrad_norm", "step_ratio", "lower_error")
def metrics(state: State, instance: BilevelInstance) -> dict[str, torch.Tensor]:
    return {**oracle_metrics(state, instance), "avg_hypergrad_norm": state["norm_sum"] / state["steps"],
            "step_ratio": state["step_ratio"], "lower_error": state["lower_error"]}


GRID = tuple(2 ** k for k in range(5, 11))
QUICK = (32, 48, 64, 96, 128, 192, 256)


def _experiment(family: str, params: Mapping[str, float]) -> Experiment:
    return Experiment(family=family, over="T", grid=GRID, params={"sigma": 0.1, **params}, seeds=64,
                      quick_grid=QUICK, quick_seeds=16)


HYPERPARAM = _experiment("bilevel-hyperparam", {})
UNBOUNDED = _experiment("bilevel-unbounded", {"r0": 3.0})
SOURCE = "main theorem (abstract): O~(eps^-4) stochastic oracle calls to (1/T) sum E||grad Phi(x_t)|| <= eps"

TRACKING = ("lower-level lemmas (abstract: refinement and periodic updates control the lower-level error; "
            "catalogue C1 [R]): max_k ||y_k - y*(x_k)|| = O~(eps), eps = T^(-1/4)")


def _rate(name: str, metric: str, experiment: Experiment, note: str = "") -> Claim:
    return Claim(name=name, metric=metric, kind="upper", form="C*calls**(-1/4)", against="calls",
                 source=SOURCE + note, experiment=experiment)


ALL = ("last-rate-hyperparam", "avg-rate-hyperparam", "avg-rate-unbounded")
AVG = ALL[1:]
LOWER = (*AVG, "lower-tracking")
_JITTER = ("PASSes at {}: the average is dominated by the transient from x_0 = c + 3 and the momentum jitter "
           "eta/(1 - beta) = 8 T^(-1/4) of this eta0, which hide the O(1) hypergradient bias on this grid")
BO_REP = Algorithm(
    name="bo-rep", paper=PAPER, family="bilevel-unbounded", init=init, step=step, metrics=metrics,
    schedule="per_horizon",
    hyper={"eta0": 8.0, "nu0": 1.0, "radius": 10.0, "period": 0, "refine": True, "normalize": True, "sign": -1.0},
    claims=(dataclasses.replace(
                _rate("last-rate-hyperparam", "hypergrad_norm", HYPERPARAM,
                      "; last iterate derived: the normalised-momentum jitter eta/(1-beta) is O(T^(-1/4))"),
                expected_failure="INCONCLUSIVE at -0.115 [-0.330, 0.100] (64 seeds): the last iterate jitters "
                                 "on the scale eta/(1 - beta) = 8 T^(-1/4) and the grid is too short for 64 seeds "
                                 "to separate it from the claimed -1/4; the theorem bounds only the average"),
            _rate("avg-rate-hyperparam", "avg_hypergrad_norm", HYPERPARAM),
            _rate("avg-rate-unbounded", "avg_hypergrad_norm", UNBOUNDED),
            Claim(name="lower-tracking", metric="lower_error", kind="upper", form="C*T**(-1/4)*sqrt(log(T))",
                  source=TRACKING, experiment=UNBOUNDED)),
    invariants=(Invariant(name="step-length", metric="step_ratio", at_most=1.0,
                          meaning="the normalised step ||x_{k+1} - x_k|| never exceeds eta"),),
    mutants=(Mutant(name="unnormalised", bug="x <- x - eta m: the normalisation 1/||m|| dropped", breaks=AVG,
                    hyper={"normalize": False},
                    missed={"avg-rate-hyperparam": "PASSes at -0.276 [-0.289, -0.264]: the hypergradient is small "
                                                   "there (||m|| < 1), so the unnormalised step is shorter than "
                                                   "eta and never breaks the step-length invariant (max 0.47)"}),
             Mutant(name="never-refresh", bug="no periodic lower-level updates after the refinement", breaks=LOWER,
                    hyper={"period": 10 ** 9},
                    missed={"avg-rate-unbounded": _JITTER.format("-0.257 [-0.259, -0.255]")}),
             Mutant(name="sign-flip", bug="hg = grad_x f + J z: the implicit term's sign flipped", breaks=AVG,
                    hyper={"sign": 1.0}, missed={"avg-rate-unbounded": _JITTER.format("-0.209 [-0.215, -0.202]")}),
             Mutant(name="frozen-z", bug="nu = 0: the linear-system variable z is never updated (stays 0), so "
                                         "the implicit term J z of the hypergradient is lost", breaks=AVG,
                    hyper={"nu0": 0.0}, missed={"avg-rate-unbounded": _JITTER.format("-0.242 [-0.246, -0.238]")},
                    quick_missed={"avg-rate-hyperparam": "INCONCLUSIVE on the quick run at -0.136 [-0.307, "
                                                         "0.035] (16 seeds, T <= 256)"}),
             Mutant(name="no-refinement", bug="no initialisation refinement: y starts at y_0", breaks=LOWER,
                    hyper={"refine": False},
                    missed={"avg-rate-hyperparam": "PASSes at -0.234 [-0.268, -0.200]: only the first period "
                                                   "(I = eps^-2 steps) runs with a biased y",
                            "avg-rate-unbounded": "PASSes at -0.264 [-0.265, -0.263]: only the first period runs "
                                                  "with a biased y"})),
    nulls=(Mutant(name="zero-step", bug="eta = 0: x stays at x_0, every oracle still called", breaks=ALL,
                  hyper={"eta0": 0.0}),
           Mutant(name="lower-frozen", bug="y stays at y_0: no refinement, no periodic update",
                  breaks=("lower-tracking",), hyper={"refine": False, "period": 10 ** 9})),
    mutable={"eta0": ("x2", "half")},
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [BO_REP]
