"""Online convex optimisation on the box X = [-R, R]^d with linear or strongly convex quadratic losses.

Round t draws a loss parameter theta_t in R^d for every seed and charges the learner f_t(x_t):

- ``oco-linear``:    f_t(x) = <theta_t, x>,                 gradient theta_t;
- ``oco-quadratic``: f_t(x) = (lam/2) ||x - theta_t||^2,    gradient lam (x - theta_t), lam-strongly convex.

The sequence is theta_t = m + sigma eps_t with eps_t i.i.d. Rademacher vectors: stochastic around the mean m
when m != 0; with m = 0 the linear family is the lower-bound instance of catalogue 1.4 (f_t(x) = G eps_t x,
on which every algorithm that plays x_t before seeing eps_t has realised regret G E|sum_t eps_t| per
coordinate). The signs of m's coordinates are drawn per seed, so an algorithm biased towards a corner gains
nothing. Rademacher noise keeps gradients bounded, as the worst-case theorems assume.

Parameters (``Experiment.params``): ``d``, ``R``, ``mean`` (one value for every coordinate, or a tuple),
``sigma``, and ``lam`` (quadratic only). The instance exposes the diameter D = 2 R sqrt(d) and the gradient
bound G over X that step-size rules and explicit bounds need (``bounds`` gives them for a claim's parameters).

Two regrets are kept, from sufficient statistics of the losses (plugins report the one their claim bounds):
- ``regret``: realised, sum_t f_t(x_t) - min_{u in X} sum_t f_t(u), against the best point in hindsight,
  which worst-case theorems bound for every sequence;
- ``pseudo_regret``: sum_t F_t(x_t) - min_{u in X} sum_t F_t(u) with F_t = E f_t (catalogue 0.3); for the
  quadratic the variance term (lam/2) E||theta_t - m_t||^2 appears on both sides and is dropped.
For a sum of linear losses with S = sum theta_t the comparator is -R ||S||_1; for a sum of n quadratics,
with Q = sum ||theta_t||^2, it is (lam/2)(n ||P(S/n) - S/n||^2 + Q - ||S||^2 / n), P the projection on X.
The ledger sums the means m_t rather than multiplying m by n, so a mean that drifts with t (adversarial
variation) needs a new ``draw`` and the current m_t in ``record``, not new regret code: ``plugins.sea_omd_instances``.
The ledger also keeps the largest distance (sup norm) of a played point from X: ``in_domain`` is 1 for a seed
whose every play lay in X and 0 otherwise, the feasibility invariant a claim can check exactly. A learner that
plays outside X can have negative regret against the best point of X, so a regret bound alone cannot see it.

``null_learners(breaks)`` declares the family's learners that learn nothing, with their own state (x and the
ledger), usable by any plugin whose metrics read only the ledger: ``frozen`` (x_t = 0, the centre of X, every
round) and ``uniform`` (x_t uniform in X, independently every round). Both have linear regret when the mean
loss is not zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory.hookspecs import hookimpl
from theory.random import Gen
from theory.spec import Family, Instance, Mutant, Param

Ledger = dict[str, torch.Tensor]
_SIGN_STREAM = "instance/mean-signs"
_LOSS_STREAM = "loss"


@dataclass(frozen=True, kw_only=True)
class OnlineInstance(Instance):
    """Losses on the box X = [-R, R]^d: ``draw`` theta_t, ``record`` a play in the ledger, read both regrets."""

    mean: torch.Tensor  # (batch, d): E theta_t
    sigma: float
    radius: float
    lam: float  # strong convexity of the losses; 0 for linear losses
    lipschitz: float  # G: the largest gradient norm over X and over every possible theta_t

    @property
    def dim(self) -> int:
        return int(self.mean.shape[1])

    @property
    def diameter(self) -> float:
        return 2.0 * self.radius * math.sqrt(self.dim)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(-self.radius, self.radius)

    def draw(self, t: int, gen: Gen) -> torch.Tensor:
        """theta_t, shape (batch, d)."""
        noise = gen.rademacher(_LOSS_STREAM, t, self.dim, dtype=self.mean.dtype)
        return self.mean + self.sigma * noise

    def gradient(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return self.lam * (x - theta) if self.lam else theta

    def loss(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.lam * ((x - theta) ** 2).sum(1) if self.lam else (x * theta).sum(1)

    def start(self) -> Ledger:
        """An empty ledger: the sums from which both regrets are computed."""
        zero, zeros = torch.zeros(self.batch), torch.zeros_like(self.mean)
        return {"loss": zero, "mean_loss": zero, "sum": zeros, "sq": zero, "mean_sum": zeros, "mean_sq": zero,
                "rounds": torch.zeros(()), "outside": zero}

    def record(self, ledger: Ledger, x: torch.Tensor, theta: torch.Tensor,
               mean: torch.Tensor | None = None) -> Ledger:
        """Charge f_t(x) for the point x played at this step, and add theta_t and its mean m_t to the sums
        (``mean`` defaults to the fixed m; a family whose mean drifts passes the current m_t)."""
        mean = self.mean if mean is None else mean
        return {"loss": ledger["loss"] + self.loss(x, theta), "mean_loss": ledger["mean_loss"] + self.loss(x, mean),
                "sum": ledger["sum"] + theta, "sq": ledger["sq"] + (theta**2).sum(1),
                "mean_sum": ledger["mean_sum"] + mean, "mean_sq": ledger["mean_sq"] + (mean**2).sum(1),
                "rounds": ledger["rounds"] + 1,
                "outside": torch.maximum(ledger["outside"], (x - self.project(x)).abs().amax(1))}

    def in_domain(self, ledger: Ledger) -> torch.Tensor:
        """1.0 for a seed that played only points of X, else 0.0."""
        return (ledger["outside"] == 0).to(ledger["loss"].dtype)

    def regret(self, ledger: Ledger) -> torch.Tensor:
        """Realised regret against the best point of X in hindsight."""
        return ledger["loss"] - self._best(ledger["sum"], ledger["sq"], ledger["rounds"])

    def pseudo_regret(self, ledger: Ledger) -> torch.Tensor:
        """Regret on the expected losses against the best fixed point of X."""
        return ledger["mean_loss"] - self._best(ledger["mean_sum"], ledger["mean_sq"], ledger["rounds"])

    def _best(self, total: torch.Tensor, squares: torch.Tensor, rounds: torch.Tensor) -> torch.Tensor:
        """min over u in X of the summed losses, from their sum S, sum of squared norms Q and count n."""
        if not self.lam:
            return -self.radius * total.abs().sum(1)
        centre = total / rounds
        gap = ((self.project(centre) - centre) ** 2).sum(1)
        return 0.5 * self.lam * (rounds * gap + squares - (total**2).sum(1) / rounds)


def _magnitudes(params: Mapping[str, Any]) -> list[float]:
    """|m| per coordinate, before the per-seed signs."""
    d, mean = int(params["d"]), params["mean"]
    values = [abs(float(v)) for v in mean] if isinstance(mean, tuple) else [abs(float(mean))] * d
    if len(values) != d:
        raise ValueError(f"mean has {len(values)} coordinates, expected d={d}")
    return values


def _generate(params: Mapping[str, Any], gen: Gen, lam: float) -> OnlineInstance:
    magnitudes, sigma, radius = _magnitudes(params), float(params["sigma"]), float(params["R"])
    # |gradient| per coordinate: |theta_i| for linear losses, lam |x_i - theta_i| <= lam (R + |theta_i|) else
    reach = [m + sigma + (radius if lam else 0.0) for m in magnitudes]
    size = torch.tensor(magnitudes, device=gen.device)
    signs = torch.where(gen.uniform(_SIGN_STREAM, 0, len(magnitudes)) < 0.5, -1.0, 1.0)
    return OnlineInstance(params=dict(params), batch=gen.batch, mean=signs * size, sigma=sigma, radius=radius,
                          lam=lam, lipschitz=(lam or 1.0) * math.hypot(*reach))


def _null_init(instance: OnlineInstance, hyper: Mapping, gen: Gen) -> dict:
    return {"x": torch.zeros_like(instance.mean), "ledger": instance.start()}


def _frozen_step(state: dict, instance: OnlineInstance, t: int, hyper: Mapping, gen: Gen) -> dict:
    """Play the centre of X every round; never update."""
    return {"x": state["x"], "ledger": instance.record(state["ledger"], state["x"], instance.draw(t, gen))}


def _uniform_step(state: dict, instance: OnlineInstance, t: int, hyper: Mapping, gen: Gen) -> dict:
    """Play a point uniform in X, drawn afresh every round; never update."""
    x = instance.radius * (2 * gen.uniform("null-point", t, instance.dim, dtype=instance.mean.dtype) - 1)
    return {"x": x, "ledger": instance.record(state["ledger"], x, instance.draw(t, gen))}


def null_learners(breaks: tuple[str, ...]) -> tuple[Mutant, ...]:
    """The learners that learn nothing, each of which must FAIL the claims ``breaks``."""
    return (Mutant(name="frozen", bug="null learner: the centre of X every round", breaks=breaks,
                   init=_null_init, step=_frozen_step),
            Mutant(name="uniform", bug="null learner: a uniform point of X every round", breaks=breaks,
                   init=_null_init, step=_uniform_step))


def bounds(family: Family, params: Mapping[str, Any]) -> dict[str, float]:
    """The diameter D of X and the gradient bound G over X of ``family`` at ``params``, for explicit bounds."""
    instance: Any = family.instance(params, Gen([0]))  # an OnlineInstance: the family is one of this module's
    return {"D": instance.diameter, "G": instance.lipschitz}


_BOX = {"d": Param(meaning="dimension", low=1, integer=True),
        "R": Param(meaning="half-width of the box [-R, R]^d", low=0),
        "mean": Param(meaning="mean of theta_t per coordinate (one value or a tuple of d)"),
        "sigma": Param(meaning="scale of the Rademacher noise", low=0)}

LINEAR = Family(name="oco-linear", description="online linear losses <theta_t, x> on [-R, R]^d",
                generate=lambda params, gen: _generate(params, gen, lam=0.0),
                defaults={"d": 1, "R": 1.0, "mean": 0.0, "sigma": 1.0},
                parameters=_BOX)
QUADRATIC = Family(name="oco-quadratic",
                   description="online strongly convex losses (lam/2)||x - theta_t||^2 on [-R, R]^d",
                   generate=lambda params, gen: _generate(params, gen, lam=float(params["lam"])),
                   defaults={"d": 1, "R": 1.0, "mean": 0.0, "sigma": 1.0, "lam": 1.0},
                   parameters={**_BOX, "lam": Param(meaning="strong convexity of the losses", low=0)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [LINEAR, QUADRATIC]
