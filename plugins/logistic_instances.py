"""Logistic-regression instances shared by plugins/logistic_to_perceptron.py and
plugins/gradient_normalized_smoothness.py: separable data with the margin as a knob, and non-separable data
with an l2 penalty and its minimiser.

Both losses depend on the data only through z_i = y_i a_i (signed features), so an instance stores z:
f(x) = (1/n) sum_i log(1 + exp(-z_i^T x)) + (mu/2) ||x||^2.

``logistic-separable`` (the catalogue's instance for Tyurin, section 10): w* = e_1; ``n`` easy points
z = (1 + u_1) e_1 + bias (1 + u_2 / 2) e_2 + 0.1 g (margin at least 1 along w*, all leaning along e_2) and
``hard`` = 3 points z = margin e_1 - e_2 + 0.05 g (margin ``margin`` along w*, pointing against the easy
points' lean), u uniform, g standard normal on the last d - 2 coordinates. The easy points pull every early
iterate along e_2, which misclassifies the hard points; an update that weighs them by 1/n (the batch
perceptron) needs a number of steps that grows with n to correct that. Tyurin's normalised step (beta_t, his
Section 6) is claimed not to need more as n grows; on this instance it needs about log n more (its declared
expected failure ``n-free``), within Theorem 6.1's bound.

``logistic-regression`` (the catalogue's instance for GNS, section 15): a ~ N(0, I_d / d) per point (so
||a|| is about 1), labels y = sign(a^T w + noise g'), w ~ N(0, I_d), so the data are not separable for
noise > 0 and the minimiser exists even at mu = 0. The minimiser is computed in ``generate`` by 100
damped Newton steps (float64), and refused unless its gradient is below
1e-12: ``f_star`` is the reference of every optimality gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from theory import Family, Gen, Instance, Param, hookimpl


@dataclass(frozen=True, kw_only=True)
class LogisticInstance(Instance):
    z: torch.Tensor  # (batch, n, d): y_i a_i
    mu: float  # l2 penalty
    f_star: torch.Tensor  # (batch,): the minimum (0 on separable data, where it is an infimum)

    def margins(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, n): z_i^T x."""
        return torch.einsum("bnd,bd->bn", self.z, x)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(-self.margins(x)).mean(1) + 0.5 * self.mu * (x * x).sum(1)

    def gradient(self, x: torch.Tensor) -> torch.Tensor:
        weight = torch.sigmoid(-self.margins(x)) / self.z.shape[1]
        return -torch.einsum("bnd,bn->bd", self.z, weight) + self.mu * x

    def hessian(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(self.margins(x))
        weight = s * (1 - s) / self.z.shape[1]
        eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
        return torch.einsum("bnd,bn,bne->bde", self.z, weight, self.z) + self.mu * eye


def _separable(params: Mapping[str, object], gen: Gen) -> LogisticInstance:
    n, d, hard = int(params["n"]), int(params["d"]), int(params["hard"])
    margin, bias = float(params["margin"]), float(params["bias"])
    u = gen.uniform("instance/easy", 0, n, 2)
    easy = torch.cat([(1 + u[..., :1]), bias * (1 + 0.5 * u[..., 1:]),
                      0.1 * gen.normal("instance/easy-noise", 0, n, d - 2)], dim=2)
    lean = torch.tensor([margin, -1.0], dtype=easy.dtype).expand(gen.batch, hard, 2)
    tough = torch.cat([lean, 0.05 * gen.normal("instance/hard-noise", 0, hard, d - 2)], dim=2)
    z = torch.cat([easy, tough], dim=1).to(gen.device)
    return LogisticInstance(params=dict(params), batch=gen.batch, z=z, mu=0.0,
                            f_star=torch.zeros(gen.batch, dtype=z.dtype, device=gen.device))


def _minimise(instance: LogisticInstance) -> torch.Tensor:
    """The minimiser, by damped Newton steps dx / (1 + M ||dx||), M = max ||z_i|| (globally convergent on the
    quasi-self-concordant logistic loss, and quadratic near the minimiser)."""
    x = torch.zeros(instance.batch, instance.z.shape[2], dtype=instance.z.dtype, device=instance.z.device)
    scale = instance.z.norm(dim=2).max(1).values
    for _ in range(100):
        newton = torch.linalg.solve(instance.hessian(x), instance.gradient(x))
        x = x - newton / (1 + scale * newton.norm(dim=1))[:, None]
    worst = float(instance.gradient(x).norm(dim=1).max())
    if worst > 1e-12:
        raise ValueError(f"the reference minimiser did not converge: gradient norm {worst:.3g} > 1e-12")
    return x


def _nonseparable(params: Mapping[str, object], gen: Gen) -> LogisticInstance:
    n, d = int(params["n"]), int(params["d"])
    a = gen.normal("instance/features", 0, n, d) / d**0.5
    teacher = gen.normal("instance/teacher", 0, d)
    score = torch.einsum("bnd,bd->bn", a, teacher) + float(params["noise"]) * gen.normal("instance/noise", 0, n)
    y = torch.where(score >= 0, 1.0, -1.0).to(a.dtype)
    z = (y[..., None] * a).to(gen.device)
    draft = LogisticInstance(params=dict(params), batch=gen.batch, z=z, mu=float(params["mu"]),
                             f_star=torch.zeros(gen.batch, dtype=z.dtype, device=gen.device))
    return LogisticInstance(params=dict(params), batch=gen.batch, z=z, mu=draft.mu,
                            f_star=draft.loss(_minimise(draft)))


SEPARABLE = Family(
    name="logistic-separable", generate=_separable,
    description="separable data: n easy points leaning along e2, a few hard points of small margin against it",
    defaults={"n": 100, "d": 5, "hard": 3, "margin": 0.05, "bias": 1.0},
    parameters={"n": Param(meaning="number of easy points (margin >= 1)", low=1, high=100000, integer=True),
                "d": Param(meaning="dimension", low=3, high=512, integer=True),
                "hard": Param(meaning="number of hard points", low=1, high=100, integer=True),
                "margin": Param(meaning="margin of the hard points along w* = e1", low=1e-4, high=1.0),
                "bias": Param(meaning="how far the easy points lean along e2", low=0.0, high=10.0)})

NONSEPARABLE = Family(
    name="logistic-regression", generate=_nonseparable,
    description="l2-regularised logistic regression on noisy Gaussian data (not separable), with its minimum",
    defaults={"n": 500, "d": 50, "mu": 1e-3, "noise": 0.5},
    parameters={"n": Param(meaning="number of points", low=2, high=100000, integer=True),
                "d": Param(meaning="dimension", low=1, high=512, integer=True),
                "mu": Param(meaning="l2 penalty", low=0.0, high=10.0),
                "noise": Param(meaning="label noise: labels are sign(a^T w + noise g)", low=0.01, high=10.0)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [SEPARABLE, NONSEPARABLE]
