"""The subgradient method on G-Lipschitz convex functions, checked by sampling on weighted l1 norms (the
``convex-lipschitz`` family below) and by worst-case certificates over the whole class (``theorycheck certify``,
docs/certificates.md): the non-smooth counterpart of plugins/first_order_methods.py, and what online gradient
descent does when the losses never change.

Paper and claim: Nesterov, "Lectures on Convex Optimization" (2nd ed., Springer 2018; 1st ed. "Introductory
Lectures", 2004), Section 3.2.3, Theorem 3.2.2 in the form with unnormalised steps: for f convex and
G-Lipschitz with minimiser x*, R >= ||x_0 - x*||, and the constant step t = R / (G sqrt(N + 1)),
    x_{k+1} = x_k - t g_k,  g_k in the subdifferential of f at x_k,
    min_{0 <= k <= N} f(x_k) - f* <= (R^2 + t^2 G^2 (N + 1)) / (2 t (N + 1)) = G R / sqrt(N + 1).
The standard argument (||x_{k+1} - x*||^2 <= ||x_k - x*||^2 - 2t (f(x_k) - f*) + t^2 G^2, summed over k) gives
it; Drori and Teboulle (Math. Programming 2016, arXiv 1406.5468) showed it is the exact worst case, so the
certificate should meet it with equality. Claims: the bound itself (``bound``, explicit, certified by PEP for
the horizons checked) and its rate (``rate``: O(N^(-1/2)), a free constant, sampled only).

The family. f(x) = sum_i w_i |x_i - x*_i| in d dimensions with w_i = G u_i^p / ||u^p||, u uniform per seed
and coordinate: subgradients w * sign(x - x*) have norm at most G, so f is G-Lipschitz, with f* = 0 at x* = 0;
x_0 = R z / ||z|| with z standard normal. Once a coordinate reaches x*_i it oscillates around it with
amplitude t w_i, so the best gap settles near t ||w||^2 = G R / sqrt(N + 1) times a factor below 1: the rate
is N^(-1/2) on this family, and the bound holds with room (sampling cannot show it is tight; PEP does).

Regime, chosen before running: d = 32, G = 1, R = 1, p = 1, horizons N = 16 .. 1024 (1.8 decades), 64 seeds.
Mutants and nulls (known in advance): ``constant-step`` (t = R / G, the horizon scaling forgotten: the iterates
oscillate with amplitude about R, so the best gap stops falling) breaks both claims; the null ``frozen`` (x_N =
x_0: the gap stays f(x_0)) must fail both.

Departures: none. The step is the first-order oracle's subgradient w * sign(x - x*) (sign(0) = 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Algorithm, Claim, Experiment, Family, Gen, Instance, Mutant, Paper, Param, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]

NESTEROV = Paper(title="Lectures on Convex Optimization (Section 3.2.3, Theorem 3.2.2)", authors="Nesterov",
                 year=2018)


@dataclass(frozen=True, kw_only=True)
class WeightedL1Instance(Instance):
    weights: torch.Tensor  # (batch, d), ||w|| = G
    start: torch.Tensor  # (batch, d), ||x_0|| = R; the minimiser is 0
    lipschitz: float  # G
    radius: float  # R

    def subgradient(self, x: torch.Tensor) -> torch.Tensor:
        return self.weights * torch.sign(x)

    def gap(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) - f*."""
        return (self.weights * x.abs()).sum(1)


def _generate(params: Mapping[str, object], gen: Gen) -> WeightedL1Instance:
    d, lipschitz, radius = int(params["d"]), float(params["G"]), float(params["R"])
    shares = gen.uniform("instance/weights", 0, d) ** float(params["p"])
    direction = gen.normal("instance/start", 0, d)
    return WeightedL1Instance(params=dict(params), batch=gen.batch,
                              weights=lipschitz * shares / shares.norm(dim=1, keepdim=True),
                              start=radius * direction / direction.norm(dim=1, keepdim=True),
                              lipschitz=lipschitz, radius=radius)


FAMILY = Family(
    name="convex-lipschitz", generate=_generate,
    description="sum_i w_i |x_i - x*_i|, ||w|| = G drawn per seed, ||x_0 - x*|| = R",
    defaults={"d": 32, "G": 1.0, "R": 1.0, "p": 1.0},
    parameters={"d": Param(meaning="dimension", low=1, high=512, integer=True),
                "G": Param(meaning="Lipschitz constant: the norm of the weights", low=1e-2, high=1e2),
                "R": Param(meaning="distance from x_0 to the minimiser", low=1e-2, high=1e2),
                "p": Param(meaning="skew of the weights: u^p, larger p makes few coordinates dominate",
                           low=1, high=8)})


def step_size(hyper: Hyper, radius: float, lipschitz: float) -> float:
    """t = h R / (G sqrt(N + 1)), or h R / G when the horizon scaling is off (the ``constant-step`` mutant)."""
    scale = math.sqrt(hyper["horizon"] + 1) if hyper["scaled"] else 1.0
    return hyper["h"] * radius / (lipschitz * scale)


def init(instance: WeightedL1Instance, hyper: Hyper, gen: Gen) -> State:
    return {"x": instance.start, "best": instance.gap(instance.start)}


def step(state: State, instance: WeightedL1Instance, t: int, hyper: Hyper, gen: Gen) -> State:
    x = state["x"] - step_size(hyper, instance.radius, instance.lipschitz) * instance.subgradient(state["x"])
    return {"x": x, "best": torch.minimum(state["best"], instance.gap(x))}


def pep(problem: Any, f: Any, x0: Any, xs: Any, n: int, hyper: Hyper) -> dict[str, Any]:
    """The same N steps in PEPit's terms; the best gap is the minimum over x_0 .. x_N."""
    t = step_size(hyper, hyper["class"].R, hyper["class"].G)
    x, gaps = x0, []
    for k in range(n + 1):
        g, value = f.oracle(x)
        gaps.append(value - f(xs))
        if k < n:
            x = x - t * g
    return {"best_gap": gaps}


def frozen_step(state: State, instance: WeightedL1Instance, t: int, hyper: Hyper, gen: Gen) -> State:
    """A null learner: never moves."""
    return state


@measures("best_gap")
def metrics(state: State, instance: WeightedL1Instance) -> dict[str, torch.Tensor]:
    return {"best_gap": state["best"]}


EXPERIMENT = Experiment(family="convex-lipschitz", over="N", params={"G": 1.0, "R": 1.0},
                        grid=(16, 32, 64, 128, 256, 512, 1024), seeds=64)

SUBGRADIENT = Algorithm(
    name="subgradient", paper=NESTEROV, family="convex-lipschitz", init=init, step=step, metrics=metrics,
    hyper={"h": 1.0, "scaled": True}, schedule="per_horizon", pep=pep,
    claims=(Claim(name="bound", metric="best_gap", kind="upper", form="G*R/sqrt(N+1)", free=(),
                  source="Theorem 3.2.2", experiment=EXPERIMENT),
            Claim(name="rate", metric="best_gap", kind="upper", form="C*G*R/sqrt(N)", source="Theorem 3.2.2",
                  experiment=EXPERIMENT)),
    mutants=(Mutant(name="constant-step", bug="step R/G: the 1/sqrt(N+1) horizon scaling forgotten",
                    breaks=("bound", "rate"), hyper={"scaled": False}),),
    nulls=(Mutant(name="frozen", bug="never moves: x_N = x_0", breaks=("bound", "rate"), step=frozen_step),),
)


@hookimpl
def theorycheck_families() -> list[Family]:
    return [FAMILY]


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [SUBGRADIENT]
