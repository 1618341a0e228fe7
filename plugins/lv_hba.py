"""LV-HBA, the proximal Lagrangian value function Hessian-free bilevel algorithm: Yao, Yu, Zeng, Zhang,
"Constrained Bi-Level Optimization: Proximal Lagrangian Value function Approach and Hessian-free Algorithm",
ICLR 2024 (arXiv 2401.16164); reference code github.com/SUSTech-Optimization/LV-HBA. Catalogue:
shared/claims/optimization.md, section 5.

Problem (protocol notation: f upper, g lower level, h the lower level's constraint, coupling x and y):
min f(x, y) s.t. y in argmin_y {g(x, y) : h(x, y) <= 0} (here h = 0, an equality). Proximal Lagrangian value
function v(x, y, z) = min_theta max_{lam} g(x, theta) + lam h(x, theta) + ||theta - y||^2 / (2 gamma1)
- ||lam - z||^2 / (2 gamma2); single-level problem min f s.t. g - v <= 0, h <= 0, penalised with c_k. One step
(single loop, first order only; the reference code's Toy-example/LLC/LV-HBA.py, same order of updates):

    c_k = c0 (k + 1)^p
    theta <- theta - eta (grad_y g(x, theta) + lam grad_y h(x, theta) + (theta - y) / gamma1)
    lam   <- clip(lam - eta (-h(x, theta) + (lam - z) / gamma2), [-u, u])   (both from the old theta, lam)
    d_x = grad_x f(x, y) / c_k + grad_x g(x, y) - grad_x g(x, theta) - lam grad_x h(x, theta)
    d_y = grad_y f(x, y) / c_k + grad_y g(x, y) - (y - theta) / gamma1
    (x, y) <- Proj_{h = 0}((x, y) - alpha (d_x, d_y)),    z <- clip(z + beta (lam - z) / gamma2, [-u, u])

On an instance without a constraint (``bilevel-hyperparam``, ``bilevel-quadratic``) lam, z and the projection
drop out. Defaults from the code: alpha = 0.008, beta = 0.02, eta = 0.01, gamma1 = gamma2 = 10, u = 1000,
p = 0.3; c0 = 1, not the code's 0.025 (the theorem leaves c0 free; at 0.025 the penalty bias dominates the
whole grid, catalogue [N]: error 0.25 at k = 1e5).

Claims:
- ``residual-rate`` (convergence theorem, catalogue C5.3 [R]: min_{k <= K} residual of the c_k-penalised problem
  = O(K^(-(1-2p)/2)), p in (0, 1/2)): upper, O(K^-0.2) at p = 0.3, on ``bilevel-constrained`` (the LLC toy,
  n = 10). The residual is the gradient-mapping norm of one step, ||(x, y) - (x, y)^+|| / alpha + ||z - z^+||
  / beta + ||theta - theta^+|| / eta + ||lam - lam^+|| / eta, at the current iterate: zero exactly at a
  KKT point of the penalised problem with theta, lam solving the inner min-max; the paper's residual uses the
  exact inner solution (a departure: the tracked theta, lam stand in for it). Running minimum over k.
- ``hypergrad`` (derived, on the same run): ||grad Phi(x_k)|| <= O(1 / c_k) (penalty bias) + O(residual), so
  O(calls^(-min(p, (1-2p)/2))) = O(calls^-0.2) at p = 0.3, against ``calls`` (calls per step are constant).
- ``hypergrad-hyperparam``: the same on ``bilevel-hyperparam`` (no constraint), so that ``theorycheck versus``
  compares the five bilevel methods there.
- ``hypergrad-asymptotic`` (added after the audit left ``prox-sign`` uncaught; the regime chosen from the
  catalogue before any run of it): ``hypergrad``'s derived O(calls^-0.2) on the LLC toy over K = 1000 .. 32000
  (1.5 decades, 16 seeds; quick: K = 250 .. 1000, 5 points, 8 seeds: no quick grid leaves the transient,
  so the quick run only smoke-tests the claim, as cheaply as 5 points allow; a first quick grid K = 1000,
  2000, 4000 left 2 points in the fit window, INCONCLUSIVE, and one of 1000 .. 4000 cost 19 s of CPU on the
  quick audit, the generated mutants included, for verdicts as uninformative: correct PASS -0.728 [-0.785,
  -0.670], ``prox-sign`` PASS -0.237 [-0.293, -0.181]). Its cost is in the full run: 32000 steps per run (about 15 s
  of CPU), for the correct version, ``prox-sign``, ``frozen`` and the six generated mutants, which the audit
  runs on every claim: the full ``lv-hba`` audit went from 63 s to 161 s of CPU (quick: 42.6 s to 44.4 s). The claim is
  asymptotic, and on ``hypergrad``'s grid (K <= 8000) the correct version is still in its transient (falling
  like K^-1); the catalogue's runs to 1e5 ([N], C5 mutants) show the asymptotic K^-p law of the O(1/c_k) bias,
  and ``prox-sign`` slowing to about K^-0.08 over [1e3, 5e4]. Said plainly: a pilot (8 seeds, not a verdict)
  ran both versions to K = 32000 before the claim was written: ||grad Phi|| 0.192, 0.159, 0.131 (correct) and
  0.512, 0.465, 0.435 (``prox-sign``) at K = 8000, 16000, 32000; the paper-defined residual (the correct step's
  gradient mapping at the mutant's iterates) of ``prox-sign`` fell like K^-0.6 there, so ``residual-rate``
  cannot catch it, with either residual.
Verified: the update order, signs, clipping and defaults against the reference code (read, not copied); the
abstract (ar5iv) for the single-loop Hessian-free method and the non-asymptotic convergence; the rate exponent
and the c_k schedule are from the catalogue (C5.3, [R], medium-low confidence: the theorem body could not be
read), and so is the theorem number (the claims cite the catalogue).

Regime (before running): LLC toy, n = 10, r0 = 1, 16 seeds, anytime grid K = 250 .. 8000 (1.5 decades;
quick: to 4000, 8 seeds); hyperparam family defaults, the same grid.

Mutants and nulls (expected):
- ``constant-penalty`` (M5.b, p = 0): the iterates stop at the O(1/c0) bias: breaks ``hypergrad`` (measured
  a plateau at 2.05); on ``hypergrad-hyperparam`` a declared miss (still above the floor at K = 8000).
- ``no-coupling-term`` (M5.c, lam grad_x h(x, theta) dropped from d_x): x drifts away on the LLC toy
  (catalogue [N]: diverges): breaks ``hypergrad``. Its step residual still shrinks (measured 0.094 at K = 8000,
  8 seeds, while ||grad Phi|| grew from 19.5 to 49.6), so it is not declared against ``residual-rate``.
- ``prox-sign`` (M5.a, +(y - theta)/gamma1 in d_y): biased and slower, declared against ``hypergrad``:
  measured a declared miss (below); caught by ``hypergrad-asymptotic`` (full budget: FAIL, exponent -0.127
  [-0.141, -0.112] against the threshold -0.156; a declared miss of the quick budget, K <= 1000).
- ``inverted-penalty`` (grad f times c_k instead of divided by it: the penalty then favours the upper level
  and ignores the lower one as c_k grows): breaks ``hypergrad`` and ``hypergrad-hyperparam`` (added after the
  first audit left ``hypergrad-hyperparam`` with no caught mutant; measured in a pilot, 8 seeds: ||grad Phi||
  0.107, 0.118, 0.130 at K = 2000, 4000, 8000 on hyperparam, about 5.5 from K = 1000 on the LLC toy).
- ``no-projection`` (the (x, y) step not projected onto h = 0): breaks the ``feasible`` invariant, so every
  claim on ``bilevel-constrained``.
- null ``frozen-lv`` (queries the oracles as LV-HBA does, never moves): breaks ``residual-rate``; the family's
  ``frozen`` breaks the hypergradient claims.
Invariants: hvp_calls == 0, jvp_calls == 0 (Hessian-free); |h(x, y)| <= 1e-9 on ``bilevel-constrained``.

Measured (full budget, ``theorycheck audit``, base seed 0): ``hypergrad-hyperparam`` PASS, exponent -0.344
[-0.443, -0.245] against -0.2; ``residual-rate`` PASS, -1.06 [-1.07, -1.06] (far faster than the theorem's
-0.2: an upper bound for the class, on a toy whose lower level is quadratic); ``hypergrad`` PASS, -0.99
[-1.10, -0.89]; ``hypergrad-asymptotic`` PASS, -0.279 [-0.279, -0.278]; every null FAILs. The catalogue's
k^(-p) law (C5.3's [N], c0 = 1) is not what ``hypergrad``'s grid shows: ||grad Phi|| falls like K^-1 over K in
[2000, 8000] (from 2.4 at K = 250 to 0.19 at 8000, 8 seeds), which the derived upper claim allows; past it the
law appears (0.192, 0.159, 0.131 at K = 8000, 16000, 32000, 16 seeds: local exponent -0.28 against -p = -0.3);
the catalogue fitted its slopes on K up to 1e5.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch

from plugins.bilevel_instances import METRIC_NAMES, BilevelInstance, count, counters, oracle_metrics
from theory import Algorithm, Claim, Experiment, Gen, Invariant, Mutant, Paper, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]

PAPER = Paper(title="Constrained Bi-Level Optimization: Proximal Lagrangian Value function Approach and "
                    "Hessian-free Algorithm", authors="Yao, Yu, Zeng, Zhang", year=2024, arxiv="2401.16164")


def _constrained(instance: BilevelInstance) -> bool:
    return hasattr(instance, "constraint")


def init(instance: BilevelInstance, hyper: Hyper, gen: Gen) -> State:
    x, y = instance.x0, instance.y0
    if _constrained(instance):
        x, y = instance.project(x, y)
    dual = torch.zeros(instance.batch, 1 if _constrained(instance) else 0, dtype=x.dtype, device=x.device)
    return {"x": x, "y": y, "theta": y, "lam": dual, "z": dual,
            "residual": torch.full((instance.batch,), float("inf"), dtype=torch.float64, device=x.device),
            **counters(instance)}


def _dual(instance: BilevelInstance, hyper: Hyper, lam: torch.Tensor) -> torch.Tensor:
    """Clip to [-u, u] for an equality constraint, [0, u] for an inequality."""
    low = -hyper["u"] if getattr(instance, "equality", True) else 0.0
    return lam.clamp(low, hyper["u"])


def _constraint_terms(instance: BilevelInstance, x: torch.Tensor, theta: torch.Tensor,
                      lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(lam' grad_x h, lam' grad_y h, h) at (x, theta); zeros without a constraint."""
    if not _constrained(instance):
        return torch.zeros_like(x), torch.zeros_like(theta), lam
    hx, hy = instance.constraint_grad(x, theta)
    mix = lam.unsqueeze(-1)
    return (mix * hx).sum(1), (mix * hy).sum(1), instance.constraint(x, theta)


def step(state: State, instance: BilevelInstance, t: int, hyper: Hyper, gen: Gen, *, coupling: bool = True,
         prox_sign: float = -1.0, project: bool = True, frozen: bool = False, inverted: bool = False) -> State:
    """One LV-HBA step; the keywords switch on the mutants and the null."""
    x, y, theta, lam, z = state["x"], state["y"], state["theta"], state["lam"], state["z"]
    c = hyper["c0"] * t ** hyper["p"]  # c_k at k = t - 1
    c = 1 / c if inverted else c
    g1, g2, eta = hyper["gamma1"], hyper["gamma2"], hyper["eta"]
    _, lam_hy, h = _constraint_terms(instance, x, theta, lam)
    theta_new = theta - eta * (instance.lower_grad(x, theta)[1] + lam_hy + (theta - y) / g1)
    lam_new = _dual(instance, hyper, lam - eta * (-h + (lam - z) / g2)) if lam.shape[1] else lam
    fx, fy = instance.upper_grad(x, y)
    gx, gy = instance.lower_grad(x, y)
    lam_hx = _constraint_terms(instance, x, theta_new, lam_new)[0] if coupling else 0.0
    d_x = fx / c + gx - instance.lower_grad(x, theta_new)[0] - lam_hx
    d_y = fy / c + gy + prox_sign * (y - theta_new) / g1
    x_new, y_new = x - hyper["alpha"] * d_x, y - hyper["alpha"] * d_y
    if project and _constrained(instance):
        x_new, y_new = instance.project(x_new, y_new)
    z_new = _dual(instance, hyper, z + hyper["beta"] * (lam_new - z) / g2) if z.shape[1] else z
    moves = ((torch.cat([x_new - x, y_new - y], 1).norm(dim=1) / hyper["alpha"])
             + (z_new - z).norm(dim=1) / hyper["beta"]
             + (torch.cat([theta_new - theta, lam_new - lam], 1).norm(dim=1) / eta))
    calls = instance.blocks * (6 if _constrained(instance) else 4)  # 4 gradients (+ h and grad h twice)
    new = {"x": x_new, "y": y_new, "theta": theta_new, "lam": lam_new, "z": z_new} if not frozen else {}
    return {**state, **new, "residual": torch.minimum(state["residual"], moves.to(torch.float64)),
            **count(state, grad=calls)}


@measures(*METRIC_NAMES, "residual", "infeasibility")
def metrics(state: State, instance: BilevelInstance) -> dict[str, torch.Tensor]:
    out = {**oracle_metrics(state, instance), "residual": state["residual"]}
    if _constrained(instance):
        out["infeasibility"] = instance.constraint(state["x"], state["y"]).abs().amax(1).to(torch.float64)
    else:
        out["infeasibility"] = torch.zeros(instance.batch, dtype=torch.float64, device=state["x"].device)
    return out


HYPER = {"alpha": 0.008, "beta": 0.02, "eta": 0.01, "gamma1": 10.0, "gamma2": 10.0, "u": 1000.0, "c0": 1.0,
         "p": 0.3}
GRID = (250, 500, 1000, 2000, 4000, 8000)
QUICK = (250, 500, 1000, 2000, 4000)
LLC = Experiment(family="bilevel-constrained", over="K", params={"n": 10, "r0": 1.0}, grid=GRID, seeds=16,
                 quick_grid=QUICK, quick_seeds=8)
LLC_LONG = Experiment(family="bilevel-constrained", over="K", params={"n": 10, "r0": 1.0},
                      grid=(1000, 2000, 4000, 8000, 16000, 32000), seeds=16,
                      quick_grid=(250, 350, 500, 700, 1000), quick_seeds=8)
HYPERPARAM = Experiment(family="bilevel-hyperparam", over="K", grid=GRID, seeds=16, quick_grid=QUICK,
                        quick_seeds=8)
RATE = "convergence theorem (catalogue C5.3 [R]): min_k residual = O(K^-(1-2p)/2), c_k = c0 (k+1)^p"
DERIVED = "derived from the convergence theorem (C5.3) and the O(1/c_k) penalty bias: exponent min(p, (1-2p)/2)"


def _hypergrad(name: str, experiment: Experiment) -> Claim:
    return Claim(name=name, metric="hypergrad_norm", kind="upper", form="C*calls**(-1/5)", against="calls",
                 source=DERIVED, experiment=experiment)


LV_HBA = Algorithm(
    name="lv-hba", paper=PAPER, family="bilevel-constrained", init=init, step=step, metrics=metrics,
    hyper=HYPER,
    claims=(_hypergrad("hypergrad-hyperparam", HYPERPARAM),
            Claim(name="residual-rate", metric="residual", kind="upper", form="C*K**(-1/5)", source=RATE,
                  experiment=LLC),
            _hypergrad("hypergrad", LLC), _hypergrad("hypergrad-asymptotic", LLC_LONG)),
    mutants=(
        Mutant(name="constant-penalty", bug="c_k = c0 (p = 0): the penalty never grows",
               breaks=("hypergrad", "hypergrad-hyperparam"), hyper={"p": 0.0},
               missed={"hypergrad-hyperparam": "PASSes at exponent -0.653 [-0.708, -0.598] (threshold -0.148): on "
                                               "the hyperparam family ||grad Phi|| is still falling at K = 8000 "
                                               "(0.039; the correct version, whose growing c_k shrinks the "
                                               "upper-level step, 0.13): the c0 = 1 bias floor is not reached"}),
        Mutant(name="no-coupling-term", bug="lam grad_x h(x, theta) dropped from d_x",
               breaks=("hypergrad",), step=functools.partial(step, coupling=False)),
        Mutant(name="prox-sign", bug="+(y - theta)/gamma1 in d_y instead of -",
               breaks=("hypergrad", "hypergrad-asymptotic"),
               step=functools.partial(step, prox_sign=1.0),
               missed={"hypergrad": "PASSes at exponent -0.228 [-0.26, -0.196] (threshold -0.150): biased and "
                                    "slower (||grad Phi|| 0.52 at K = 8000 against 0.12 for the correct version), "
                                    "but still decaying faster than the claimed K^-0.2 on this grid"},
               quick_missed={"hypergrad-asymptotic": "PASSes on the quick grid at exponent -1.03 [-1.38, -0.669] "
                                                     "(threshold -0.140): K <= 1000 is the transient"}),
        Mutant(name="inverted-penalty", bug="grad f times c_k instead of divided by c_k",
               breaks=("hypergrad", "hypergrad-hyperparam"), step=functools.partial(step, inverted=True)),
        Mutant(name="no-projection", bug="the (x, y) step is not projected onto h(x, y) = 0",
               breaks=("residual-rate", "hypergrad"), step=functools.partial(step, project=False)),
    ),
    nulls=(Mutant(name="frozen-lv", bug="queries the oracles as LV-HBA does and never moves",
                  breaks=("residual-rate",), step=functools.partial(step, frozen=True)),),
    invariants=(Invariant(name="hessian-free", metric="hvp_calls", meaning="no Hessian-vector call", at_most=0.0),
                Invariant(name="hessian-free-jvp", metric="jvp_calls", meaning="no Jacobian-vector call",
                          at_most=0.0),
                Invariant(name="feasible", metric="infeasibility", meaning="|h(x, y)| = 0: (x, y) stays on the "
                          "coupled constraint", at_most=1e-9)),
    mutable={"alpha": ("x2", "half"), "c0": ("x2", "half"), "p": ("x2", "half")},
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [LV_HBA]
