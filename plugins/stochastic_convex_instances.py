"""Stochastic convex instance families shared by plugins/last_iterate_sgd.py and plugins/schedule_refinement.py.

``stochastic-convex-l1`` (a generic instance, noisy subgradients): in d dimensions, on the box X = [-R, R]^d,

    f(x) = (1/d) sum_i |x_i - c_i| + (mu/2) ||x||^2,    g(x) = grad f(x) + (sigma / sqrt(d)) z,  z ~ N(0, I),

so the noise is Gaussian (not almost surely bounded) with E||g - grad f||^2 = sigma^2. The centres are
c_i = s_i (lo + (hi - lo) u_i) with random signs s_i and u_i uniform, per seed. With mu = 0 and [lo, hi] =
[0.5, 1.5] about half the centres lie outside X: there the minimiser sits on the boundary, x*_i = clip(c_i), and
an iterate that is not projected runs past it. With mu > 0 and |c_i| > 1 / (mu d) the minimiser is
x*_i = s_i / (mu d), where f is locally the quadratic (mu/2)||x - x*||^2. x_1 = 0, f* is exact (f is separable).

``stochastic-convex-hard`` (Harvey, Liaw, Plan, Randhawa, "Tight analyses for non-smooth stochastic gradient
descent", COLT 2019, arXiv 1812.05217): the function on which the last iterate of gradient descent loses a
log T. On the unit ball of R^n, n = T the horizon,

    f(x) = max_{i = 1..n+1} h_i^T x  (+ ||x||^2 / 2 when ``strong``),
    h_ij = a_j (j < i),  -b_i (j = i <= n),  0 (j > i),

with a_j = 1 / (8 (n + 1 - j)), b_j = sqrt(j / n) / 2 (convex; tuned to steps eta / sqrt(t)), or b_j = 1/2
(``flat``: tuned to a constant step eta / sqrt(T)), and a_j = 1 / (2 (n + 1 - j)), b_j = 1 (``strong``; steps
1 / t). The oracle returns h_i for the smallest i attaining the max (within 1e-12, so the ties of the
construction break the same way on every device). The origin is in the convex hull of the h_i (lambda_j =
(a_j / b_j) sum_{i>j} lambda_i > 0 solves sum_i lambda_i h_i = 0), so max_i h_i^T x >= 0: f* = 0 = f(x_1), x_1 = 0.
GD then puts its t-th step on h_t, and f(x_{T+1}) = sum_j a_j x_{T+1,j} is of order log(T) / sqrt(T) (log(T) / T
when ``strong``). Reconstructed from memory of the paper (its text could not be read here): the h_i, a_j, b_j
above are ours where they differ from the paper's constants; what the family relies on (the tie pattern, f* = 0)
is argued above and tested in tests/test_stochastic_convex.py. The instance is deterministic (``sigma`` = 0 by
default): every seed is the same, so its intervals have zero width.

Both instances tell an algorithm its step constant ``scale`` = D / sqrt(G^2 + sigma^2) (D the diameter of X,
G a bound on ||grad f|| over X), the minimax tuning of eta in eta_t = eta / sqrt(t).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from theory import Family, Gen, Instance, Invariant, Mutant, Param, hookimpl, measures

TIE = 1e-12  # values within this of the max count as attaining it (the oracle's tie-break)


@dataclass(frozen=True, kw_only=True)
class L1Instance(Instance):
    centre: torch.Tensor  # (batch, d): c
    optimum: torch.Tensor  # (batch, d): x*
    fstar: torch.Tensor  # (batch,)
    radius: float  # R: X = [-R, R]^d
    mu: float
    sigma: float
    scale: float

    @property
    def start(self) -> torch.Tensor:
        return torch.zeros_like(self.centre)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.centre).abs().mean(1) + 0.5 * self.mu * (x * x).sum(1)

    def gradient(self, x: torch.Tensor, t: int, gen: Gen, stream: str = "noise") -> torch.Tensor:
        d = x.shape[1]
        noise = gen.normal(stream, t, d, dtype=x.dtype).to(x.device)
        return torch.sign(x - self.centre) / d + self.mu * x + self.sigma / math.sqrt(d) * noise

    def gap(self, x: torch.Tensor) -> torch.Tensor:
        return self.value(x) - self.fstar

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(-self.radius, self.radius)

    def outside(self, x: torch.Tensor) -> torch.Tensor:
        return (x.abs() - self.radius).clamp(min=0).amax(1)


def _l1(params: Mapping[str, object], gen: Gen) -> L1Instance:
    d, mu, sigma, radius = int(params["d"]), float(params["mu"]), float(params["sigma"]), float(params["R"])
    low, high = sorted((float(params["lo"]), float(params["hi"])))
    sign = gen.rademacher("instance/sign", 0, d)
    centre = (sign * (low + (high - low) * gen.uniform("instance/centre", 0, d))).to(gen.device)
    # the unconstrained minimiser of |x - c| / d + mu x^2 / 2, then clipped: f is separable and convex
    free = centre if mu == 0 else torch.where(centre.abs() * mu * d <= 1, centre, torch.sign(centre) / (mu * d))
    optimum = free.clamp(-radius, radius)
    lipschitz = math.sqrt(d) * (1 / d + mu * radius)
    instance = L1Instance(params=dict(params), batch=gen.batch, centre=centre, optimum=optimum,
                          fstar=torch.zeros(gen.batch, dtype=centre.dtype, device=gen.device), radius=radius, mu=mu,
                          sigma=sigma, scale=2 * radius * math.sqrt(d) / math.sqrt(lipschitz**2 + sigma**2))
    return dataclasses.replace(instance, fstar=instance.value(optimum))


@dataclass(frozen=True, kw_only=True)
class HardInstance(Instance):
    a: torch.Tensor  # (n,)
    b: torch.Tensor  # (n,)
    mu: float  # 1 for the strongly convex construction, else 0
    sigma: float
    scale: float

    @property
    def start(self) -> torch.Tensor:
        return torch.zeros(self.batch, self.a.shape[0], dtype=self.a.dtype, device=self.a.device)

    def values(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, n + 1): h_i^T x for i = 1..n+1, through a prefix sum (O(n), not O(n^2))."""
        before = torch.nn.functional.pad(torch.cumsum(self.a * x, 1), (1, 0))
        return before - torch.nn.functional.pad(self.b * x, (0, 1))

    def gradient(self, x: torch.Tensor, t: int, gen: Gen, stream: str = "noise") -> torch.Tensor:
        values = self.values(x)
        active = (values >= values.amax(1, keepdim=True) - TIE).to(torch.int8).argmax(1, keepdim=True)  # first i
        j = torch.arange(x.shape[1], device=x.device)
        h = torch.where(j < active, self.a, 0.0) - torch.where(j == active, self.b, 0.0)
        g = h + self.mu * x
        if self.sigma:
            g = g + self.sigma / math.sqrt(x.shape[1]) * gen.normal(stream, t, x.shape[1], dtype=x.dtype).to(x.device)
        return g

    def gap(self, x: torch.Tensor) -> torch.Tensor:
        return self.values(x).amax(1) + 0.5 * self.mu * (x * x).sum(1)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return x / x.norm(dim=1, keepdim=True).clamp(min=1.0)

    def outside(self, x: torch.Tensor) -> torch.Tensor:
        return (x.norm(dim=1) - 1.0).clamp(min=0)


def _hard(params: Mapping[str, object], gen: Gen) -> HardInstance:
    n, strong, flat = int(params["n"]), bool(params["strong"]), bool(params["flat"])
    if strong and flat:
        raise ValueError("strong and flat are exclusive: the flat rule is tuned to a constant step")
    j = torch.arange(1, n + 1, dtype=torch.float64, device=gen.device)
    if strong:
        a, b = 1 / (2 * (n + 1 - j)), torch.ones_like(j)
    else:
        a, b = 1 / (8 * (n + 1 - j)), (torch.full_like(j, 0.5) if flat else torch.sqrt(j / n) / 2)
    sigma = float(params["sigma"])
    return HardInstance(params=dict(params), batch=gen.batch, a=a, b=b, mu=1.0 if strong else 0.0, sigma=sigma,
                        scale=2 / math.sqrt(1 + sigma**2))


State = dict[str, torch.Tensor]


def _frozen_init(instance: L1Instance | HardInstance, hyper: Mapping[str, object], gen: Gen) -> State:
    return {"x": instance.start}


def _frozen_step(state: State, instance: Instance, t: int, hyper: Mapping[str, object], gen: Gen) -> State:
    return state


@measures("gap", "outside")
def iterate_metrics(state: State, instance: L1Instance | HardInstance) -> dict[str, torch.Tensor]:
    """The gap and the distance outside X of ``state["x"]``: the metrics every algorithm on these families has."""
    return {"gap": instance.gap(state["x"]), "outside": instance.outside(state["x"])}


METRICS = ("gap", "outside")
FROZEN = Mutant(name="frozen", bug="never moves: the output stays at x_1", breaks=(), init=_frozen_init,
                step=_frozen_step, metrics=iterate_metrics)
IN_DOMAIN = Invariant(name="in-domain", metric="outside", meaning="the output lies in X", at_most=0.0)

L1 = Family(
    name="stochastic-convex-l1", generate=_l1, nulls=(FROZEN,), invariants=(IN_DOMAIN,),
    description="(1/d)||x - c||_1 + (mu/2)||x||^2 on [-R, R]^d, Gaussian subgradient noise of size sigma",
    defaults={"d": 8, "mu": 0.0, "sigma": 1.0, "R": 1.0, "lo": 0.5, "hi": 1.5},
    parameters={"d": Param(meaning="dimension", low=1, high=256, integer=True),
                "mu": Param(meaning="strong convexity modulus", low=0, high=10),
                "sigma": Param(meaning="noise size: E||g - grad f||^2 = sigma^2", low=0, high=10),
                "R": Param(meaning="half-width of the box X", low=0.1, high=10),
                "lo": Param(meaning="smallest |c_i|", low=0, high=10),
                "hi": Param(meaning="largest |c_i|", low=0, high=10)})

HARD = Family(
    name="stochastic-convex-hard", generate=_hard, nulls=(FROZEN,), invariants=(IN_DOMAIN,),
    description="Harvey-Liaw-Plan-Randhawa max of n + 1 linear functions on the unit ball: the last iterate's "
                "hard case, f* = 0 = f(x_1)",
    defaults={"n": 1024, "strong": 0, "flat": 0, "sigma": 0.0},
    parameters={"n": Param(meaning="dimension, the horizon the construction is tuned to", low=2, high=65536,
                           integer=True),
                "strong": Param(meaning="1: the strongly convex construction (+ ||x||^2 / 2, steps 1/t)", low=0,
                                high=1, integer=True),
                "flat": Param(meaning="1: b_j = 1/2, tuned to a constant step eta / sqrt(T)", low=0, high=1,
                              integer=True),
                "sigma": Param(meaning="Gaussian noise added to the oracle (0: the deterministic construction)",
                               low=0, high=10)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [L1, HARD]
