"""Bilevel instance families shared by the bilevel plugins, behind one oracle protocol.

    min_x Phi(x) = f(x, y*(x)),   y*(x) = argmin_y g(x, y)        (f: upper level, g: lower level)

Every family's instance is a ``BilevelInstance``: a batch (first axis = seed) of problems with exact oracles
``upper_grad(x, y) -> (grad_x f, grad_y f)``, ``lower_grad(x, y) -> (grad_x g, grad_y g)``,
``lower_hvp(x, y, v) = grad^2_yy g v`` and ``cross_jvp(x, y, v) = grad^2_xy g v`` (shape of x), and the exact
references ``phi(x)``, ``hypergrad(x) = grad Phi(x)`` and ``lower_solution(x) = y*(x)``, so stationarity is
measured, never estimated. Passing ``gen`` (and ``t``, ``stream``) to an oracle makes it stochastic: the exact
value plus ``sigma`` times independent standard normal noise in every coordinate, drawn from the stream
``oracle/<oracle><stream>`` at counter ``t`` (a caller gives each call in a step its own (stream, t)).
The counting convention (``count``, ``oracle_metrics``): a plugin adds, in its state, one gradient call per
``upper_grad``/``lower_grad``/value evaluation, one Hessian-vector call per ``lower_hvp``, one Jacobian-vector
call per ``cross_jvp``, each multiplied by ``instance.blocks`` for a full oracle (one per block) and 1 for a
block oracle. /work/wt/bilevel-protocol.md and docs/families/bilevel.md describe the protocol in full.

The families (constructions in ``plugins/bilevel_problems.py`` and ``plugins/bilevel_applications.py``):
``bilevel-quadratic`` and ``bilevel-multiblock`` (quadratic, m = 1 and m blocks), ``bilevel-hyperparam``
(per-feature ridge weights learned on a validation loss, the application of MAID, arXiv 2308.10098),
``bilevel-unbounded`` (a cosh upper level, (L0, L1)-smooth as in BO-REP, arXiv 2401.09587) and
``bilevel-constrained`` (the coupled-constraint "LLC" toy of LV-HBA, arXiv 2401.16164, with the optimistic
value function's closed-form gradient).
Each declares a ``frozen`` null learner: x stays at x_0 while it spends one gradient call per step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from plugins.bilevel_applications import (
    ConstrainedBilevel,
    HyperparamBilevel,
    UnboundedBilevel,
    constrained,
    hyperparam,
    unbounded,
)
from plugins.bilevel_problems import BilevelInstance, QuadraticBilevel, multiblock, quadratic
from theory import Family, Gen, Mutant, Param, hookimpl, measures

State = dict[str, torch.Tensor]
COUNTERS = ("grad_calls", "hvp_calls", "jvp_calls")
METRIC_NAMES = ("hypergrad_norm", "calls", *COUNTERS)

__all__ = ["COUNTERS", "FAMILIES", "METRIC_NAMES", "BilevelInstance", "ConstrainedBilevel", "HyperparamBilevel",
           "QuadraticBilevel", "UnboundedBilevel", "cg", "count", "counters", "fista", "oracle_metrics"]


def counters(instance: BilevelInstance) -> State:
    """Zero oracle counters, float64 per seed, to put in an initial state."""
    zero = torch.zeros(instance.batch, dtype=torch.float64, device=instance.x0.device)
    return {name: zero for name in COUNTERS}


def count(state: Mapping[str, Any], grad: float | torch.Tensor = 0, hvp: float | torch.Tensor = 0,
          jvp: float | torch.Tensor = 0) -> State:
    """The counters of ``state`` after ``grad``, ``hvp`` and ``jvp`` more calls (numbers or per-seed tensors,
    e.g. a mask times the calls of seeds whose inner loop still runs); merge it into the new state."""
    return {name: state[name] + n for name, n in zip(COUNTERS, (grad, hvp, jvp))}


@measures(*METRIC_NAMES)
def oracle_metrics(state: Mapping[str, Any], instance: BilevelInstance) -> dict[str, torch.Tensor]:
    """The shared metrics: the exact ||grad Phi|| at the upper iterate ``state["x"]`` and the counters."""
    total = state["grad_calls"] + state["hvp_calls"] + state["jvp_calls"]
    return {"hypergrad_norm": instance.hypergrad(state["x"]).norm(dim=1).to(torch.float64), "calls": total,
            **{name: state[name] for name in COUNTERS}}


def _where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(mask[:, None], a, b)


def fista(instance: BilevelInstance, x: torch.Tensor, y: torch.Tensor, tol: torch.Tensor, active: torch.Tensor,
          cap: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Strongly convex FISTA on g(x, .) from ``y`` (step 1/L, momentum from q = mu/L as in MAID's code), per
    seed until ||grad_y g(x, y)|| / mu <= tol (which certifies ||y - y*(x)|| <= tol) or ``cap`` steps; seeds
    not ``active`` do not move. Returns y and the gradient calls per seed (exact oracles)."""
    mu, smooth = instance.lower_mu(x)[:, None], instance.lower_smoothness(x)[:, None]
    q = (mu / smooth).clamp(max=1 - 1e-12)
    prev, t, running = y, torch.zeros_like(mu), active.clone()
    calls = torch.zeros_like(tol)
    for _ in range(cap):
        t_next = (1 - q * t * t + torch.sqrt((1 - q * t * t) ** 2 + 4 * t * t)) / 2
        z = y + (t - 1) * (1 - t_next * q) / (t_next * (1 - q)) * (y - prev)
        grad = instance.lower_grad(x, z)[1]
        calls = calls + running
        stop = running & (grad.norm(dim=1) <= tol * mu[:, 0])
        move = running & ~stop
        prev, y = _where(move, y, prev), _where(stop, z, _where(move, z - grad / smooth, y))
        t, running = torch.where(move[:, None], t_next, t), move
        if not running.any():
            break
    return y, calls


def cg(instance: BilevelInstance, x: torch.Tensor, y: torch.Tensor, rhs: torch.Tensor, tol: torch.Tensor,
       active: torch.Tensor, cap: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Conjugate gradients from 0 on grad^2_yy g(x, y) q = rhs, per seed until the residual is <= tol or ``cap``
    steps. Returns q and the Hessian-vector calls per seed."""
    q, r = torch.zeros_like(rhs), rhs
    p, rs = r, (r * r).sum(1)
    running, calls = active & (rs.sqrt() > tol), torch.zeros_like(tol)
    for _ in range(cap):
        if not running.any():
            break
        hp = instance.lower_hvp(x, y, p)
        calls = calls + running
        step = (rs / (p * hp).sum(1).clamp_min(1e-300))[:, None]
        q, r = _where(running, q + step * p, q), _where(running, r - step * hp, r)
        fresh = (r * r).sum(1)
        running = running & (fresh.sqrt() > tol)
        p, rs = _where(running, r + (fresh / rs)[:, None] * p, p), torch.where(running, fresh, rs)
    return q, calls


def _frozen_init(instance: BilevelInstance, hyper: Mapping[str, Any], gen: Gen) -> State:
    return {"x": instance.x0, **counters(instance)}


def _frozen_step(state: State, instance: BilevelInstance, t: int, hyper: Mapping[str, Any], gen: Gen) -> State:
    """A null learner: reads one gradient per step and never moves (so ``calls`` still grows)."""
    return {**state, **count(state, grad=1)}


FROZEN = Mutant(name="frozen", bug="x stays at x_0; one gradient call per step", breaks=(), init=_frozen_init,
                step=_frozen_step, metrics=oracle_metrics)

_SIGMA = Param(meaning="stochastic-oracle noise: sd of the additive Gaussian noise per coordinate", low=0, high=10)
_DIM = Param(meaning="dimension", low=1, high=256, integer=True)
_MU = Param(meaning="strong convexity of each lower level in y", low=1e-3, high=1e2)
_KAPPA = Param(meaning="condition number of each lower-level Hessian (eigenvalues log-spaced mu..mu*kappa)",
               low=1, high=1e4)
_LAM = Param(meaning="ridge weight of the upper level, (lam/2)||x||^2 (0 needs dy >= dx)", low=0, high=1e2)
_R0 = Param(meaning="distance from x_0 to x*", low=0, high=1e3)


def _family(name: str, description: str, generate: Any, defaults: Mapping[str, float],
            parameters: Mapping[str, Param]) -> Family:
    return Family(name=name, description=description, generate=generate, defaults=defaults,
                  parameters={**parameters, "sigma": _SIGMA}, nulls=(FROZEN,))


FAMILIES = (
    _family("bilevel-quadratic", "quadratic f, strongly convex quadratic g: closed-form y*(x), grad Phi, x*",
            quadratic, {"dx": 10, "dy": 10, "mu": 1.0, "kappa": 10.0, "lam": 0.1, "r0": 1.0, "sigma": 0.0},
            {"dx": _DIM, "dy": _DIM, "mu": _MU, "kappa": _KAPPA, "lam": _LAM, "r0": _R0}),
    _family("bilevel-multiblock", "(1/m) sum_i f_i(x, y_i*(x)), m quadratic blocks: closed-form grad F, x*",
            multiblock, {"m": 16, "dx": 5, "dy": 3, "mu": 1.0, "kappa": 5.0, "lam": 0.1, "r0": 1.0,
                         "sigma": 0.0},
            {"m": Param(meaning="number of lower-level blocks", low=1, high=1024, integer=True), "dx": _DIM,
             "dy": _DIM, "mu": _MU, "kappa": _KAPPA, "lam": _LAM, "r0": _R0}),
    _family("bilevel-hyperparam", "per-feature ridge weights exp(x) learned on a validation loss",
            hyperparam, {"d": 10, "n_train": 40, "n_val": 40, "relevant": 0.5, "label_noise": 0.5, "x0": 0.0,
                         "reg": 0.01, "sigma": 0.0},
            {"d": Param(meaning="number of features (= dx = dy)", low=1, high=128, integer=True),
             "n_train": Param(meaning="training samples (more than d)", low=2, high=4096, integer=True),
             "n_val": Param(meaning="validation samples", low=1, high=4096, integer=True),
             "relevant": Param(meaning="share of features with a nonzero true weight", low=0, high=1),
             "label_noise": Param(meaning="sd of the label noise", low=0, high=10),
             "x0": Param(meaning="starting log-regularisation of every feature", low=-10, high=10),
             "reg": Param(meaning="upper-level ridge (reg/2)||x||^2 on the log-weights", low=0, high=10)}),
    _family("bilevel-unbounded", "sum cosh(x - c) + <w, tanh y>: (L0, L1)-smooth upper level, ridge lower level",
            unbounded, {"dx": 10, "dy": 10, "mu": 1.0, "w": 1.0, "r0": 5.0, "sigma": 0.0},
            {"dx": _DIM, "dy": _DIM, "mu": Param(meaning="lower-level ridge (strong convexity 1 + mu)", low=0,
                                                 high=1e2),
             "w": Param(meaning="scale of w: ||grad_y f|| <= |w|-norm", low=0, high=1e2),
             "r0": Param(meaning="x_0 = c + r0 (every coordinate): local smoothness ~ cosh(r0)", low=0, high=20)}),
    _family("bilevel-constrained", "LV-HBA's LLC toy: lower level with a coupled equality constraint",
            constrained, {"n": 10, "r0": 1.0, "sigma": 0.0},
            {"n": Param(meaning="n = dx = dim y1 = dim y2", low=1, high=512, integer=True),
             "r0": Param(meaning="scale of the random start x_0 = r0 z", low=0, high=1e3)}),
)


@hookimpl
def theorycheck_families() -> list[Family]:
    return list(FAMILIES)
