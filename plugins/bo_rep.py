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

Regime (chosen before running): stochastic oracles with sigma = 0.1 in every coordinate; horizons T = 2^8..2^14
(1.8 decades), 64 seeds (quick: 2^8..2^11, 32 seeds). bilevel-unbounded with the catalogue's instance: dx = dy =
10, x_0 = c + 5 (local smoothness cosh(5) ~ 74 times L_0), so normalisation matters. eta0 = 8 makes the path
eta T = 8 T^(1/4) at least twice the distance r0 sqrt(dx) = 15.8 to the minimiser at the smallest horizon.
bilevel-hyperparam with its defaults (d = 10, 40 train / 40 validation samples). Calls per outer step: 3
(upper_grad, lower_hvp, cross_jvp) plus N lower gradients every I steps, plus N_0 at the start.
Claims:
- ``last-rate-hyperparam``: ||grad Phi(x_T)|| = O(calls^(-1/4)) on bilevel-hyperparam: the theorem bounds the
  average; the last iterate of normalised momentum jitters on the scale eta / (1 - beta) = eta0 eps, which
  is also O(T^(-1/4)) (derived, the comparison claim shared with the other bilevel methods for ``versus``).
- ``avg-rate-hyperparam`` and ``avg-rate-unbounded``: (1/T) sum_t ||grad Phi(x_t)|| = O(calls^(-1/4)).
- invariant ``step-length``: ||x_{k+1} - x_k|| <= eta at every step (C1.3 of the catalogue: the normalised step
  never blows up, whatever the local smoothness).
Mutants, and what they should do: ``unnormalised`` (x <- x - eta m, the code's grad_normalized=False) takes
steps of eta ||m|| > eta and breaks the step-length invariant on every claim; ``never-refresh`` (I = infinity
after the refinement, catalogue M1.b) keeps y at y*(x_0), so the hypergradient bias stays O(1) and ||grad Phi||
plateaus; ``sign-flip`` (hg = grad_x f + J z, M1.c) follows a wrong field and stalls at a non-stationary
point; ``no-refinement`` (y starts at y_0 = 0, first update at k = I) only biases the first period. The
family's null ``frozen`` (x stays at x_0) must fail every claim.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from plugins.bilevel_instances import METRIC_NAMES, BilevelInstance, count, counters, oracle_metrics
from theory import Algorithm, Claim, Experiment, Gen, Invariant, Mutant, Paper, hookimpl

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
            "period": hyper["period"] or min(inner, max(1, horizon // 4))}


def _sgd(instance: BilevelInstance, x: torch.Tensor, y: torch.Tensor, steps: int, gen: Gen, stream: str,
         first: int) -> torch.Tensor:
    """``steps`` SGD steps on g(x, .) with the step 1 / (L_g + mu_g j); noise counters first, first + 1, ..."""
    mu, smooth = instance.lower_mu(x)[:, None], instance.lower_smoothness(x)[:, None]
    for j in range(steps):
        y = y - instance.lower_grad(x, y, gen=gen, t=first + j, stream=stream)[1] / (smooth + mu * j)
    return y


def init(instance: BilevelInstance, hyper: Hyper, gen: Gen) -> State:
    inner = _schedule(hyper)["inner"] if hyper["refine"] else 0
    y = _sgd(instance, instance.x0, instance.y0, inner, gen, "/refine", 0)
    zero = torch.zeros(instance.batch, dtype=torch.float64, device=instance.x0.device)
    state = {"x": instance.x0, "y": y, "z": torch.zeros_like(y), "m": torch.zeros_like(instance.x0),
             "norm_sum": zero, "steps": zero, "step_ratio": zero, **counters(instance)}
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
            "step_ratio": torch.maximum(state["step_ratio"], move.norm(dim=1) / max(p["eta"], 1e-300))}


def metrics(state: State, instance: BilevelInstance) -> dict[str, torch.Tensor]:
    return {**oracle_metrics(state, instance), "avg_hypergrad_norm": state["norm_sum"] / state["steps"],
            "step_ratio": state["step_ratio"]}


GRID = tuple(2 ** k for k in range(5, 11))
QUICK = tuple(2 ** k for k in range(5, 9))


def _experiment(family: str, params: Mapping[str, float]) -> Experiment:
    return Experiment(family=family, over="T", grid=GRID, params={"sigma": 0.1, **params}, seeds=64,
                      quick_grid=QUICK, quick_seeds=16)


HYPERPARAM = _experiment("bilevel-hyperparam", {})
UNBOUNDED = _experiment("bilevel-unbounded", {"r0": 3.0})
SOURCE = "main theorem (abstract): O~(eps^-4) stochastic oracle calls to (1/T) sum E||grad Phi(x_t)|| <= eps"


def _rate(name: str, metric: str, experiment: Experiment, note: str = "") -> Claim:
    return Claim(name=name, metric=metric, kind="upper", form="C*calls**(-1/4)", against="calls",
                 source=SOURCE + note, experiment=experiment)


ALL = ("last-rate-hyperparam", "avg-rate-hyperparam", "avg-rate-unbounded")
BO_REP = Algorithm(
    name="bo-rep", paper=PAPER, family="bilevel-unbounded", init=init, step=step, metrics=metrics,
    metric_names=(*METRIC_NAMES, "avg_hypergrad_norm", "step_ratio"), schedule="per_horizon",
    hyper={"eta0": 8.0, "nu0": 1.0, "radius": 10.0, "period": 0, "refine": True, "normalize": True, "sign": -1.0},
    claims=(_rate("last-rate-hyperparam", "hypergrad_norm", HYPERPARAM,
                  "; last iterate derived: the normalised-momentum jitter eta/(1-beta) is O(T^(-1/4))"),
            _rate("avg-rate-hyperparam", "avg_hypergrad_norm", HYPERPARAM),
            _rate("avg-rate-unbounded", "avg_hypergrad_norm", UNBOUNDED)),
    invariants=(Invariant(name="step-length", metric="step_ratio", at_most=1.0,
                          meaning="the normalised step ||x_{k+1} - x_k|| never exceeds eta"),),
    mutants=(Mutant(name="unnormalised", bug="x <- x - eta m: the normalisation 1/||m|| dropped", breaks=ALL,
                    hyper={"normalize": False}),
             Mutant(name="never-refresh", bug="no periodic lower-level updates after the refinement", breaks=ALL,
                    hyper={"period": 10 ** 9}),
             Mutant(name="sign-flip", bug="hg = grad_x f + J z: the implicit term's sign flipped", breaks=ALL,
                    hyper={"sign": 1.0}),
             Mutant(name="frozen-z", bug="nu = 0: the linear-system variable z is never updated (stays 0), so "
                                         "the implicit term J z of the hypergradient is lost", breaks=ALL,
                    hyper={"nu0": 0.0}),
             Mutant(name="no-refinement", bug="no initialisation refinement: y starts at y_0", breaks=ALL,
                    hyper={"refine": False})),
    nulls=(Mutant(name="zero-step", bug="eta = 0: x stays at x_0, every oracle still called", breaks=ALL,
                  hyper={"eta0": 0.0}),),
    mutable={"eta0": ("x2", "half")},
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [BO_REP]
