"""Online linear losses with a lure: the mean points one way for the first rounds and the other way after, on the
box X = [-R, R]^d of ``theory.instances.online`` (an oblivious adversary, gradients bounded: Zinkevich's setting).

Round t draws theta_t = m_t + sigma eps_t (eps_t Rademacher vectors) for every seed and charges
f_t(x) = <theta_t, x>, with

    m_t = -mu  for t <= round(lure T),       m_t = +mu  after,

mu of magnitude ``mean`` in every coordinate and one random sign per coordinate and seed (so no corner is a
better guess than another), T the horizon. With lure < 1/2 the sum of the means is mu (1 - 2 lure) T, so the
best point in hindsight is the corner -R sign(mu): the first rounds lure the learner to the opposite corner, and
only a learner whose steps stay large enough to cross back, 2 R in the sup norm, can follow. The instance depends
on T (the family reads it), so it is rebuilt at every grid point.

Both regrets of the online families are kept, and ``record`` charges m_t of the round (read from the ledger), so
an algorithm written for ``oco-linear`` (``plugins.ogd``) runs here unchanged. G = ||(mean + sigma) 1||_2 and
D = 2 R sqrt(d) as for ``oco-linear`` (``theory.online_bounds`` reads them from an instance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Family, Gen, OnlineInstance, Param, hookimpl

Ledger = dict[str, torch.Tensor]  # the sums OnlineInstance.record keeps
# the streams of theory.instances.online: the signs of mu and the noise are the draws of its families
_SIGN_STREAM = "instance/mean-signs"
_LOSS_STREAM = "loss"


@dataclass(frozen=True, kw_only=True)
class LureInstance(OnlineInstance):
    """``mean`` is mu, the mean after the lure; the first ``lure_rounds`` rounds have mean -mu."""

    lure_rounds: int

    def mean_at(self, t: int) -> torch.Tensor:
        """m_t, shape (batch, d)."""
        return -self.mean if t <= self.lure_rounds else self.mean

    def draw(self, t: int, gen: Gen) -> torch.Tensor:
        return self.mean_at(t) + self.sigma * gen.rademacher(_LOSS_STREAM, t, self.dim, dtype=self.mean.dtype)

    def record(self, ledger: Ledger, x: torch.Tensor, theta: torch.Tensor,
               mean: torch.Tensor | None = None) -> Ledger:
        """As for the fixed-mean families, with m_t of the round being recorded (read from the ledger)."""
        return super().record(ledger, x, theta, self.mean_at(int(ledger["rounds"]) + 1) if mean is None else mean)


def _generate(params: Mapping[str, Any], gen: Gen) -> LureInstance:
    d, radius, mean, sigma = int(params["d"]), float(params["R"]), float(params["mean"]), float(params["sigma"])
    lure, horizon = float(params["lure"]), int(params["T"])
    signs = torch.where(gen.uniform(_SIGN_STREAM, 0, d) < 0.5, -1.0, 1.0)
    return LureInstance(params=dict(params), batch=gen.batch, mean=signs * mean, sigma=sigma, radius=radius, lam=0.0,
                        lipschitz=(mean + sigma) * math.sqrt(d), lure_rounds=round(lure * horizon))


LURE_LINEAR = Family(
    name="oco-lure-linear",
    description="online linear losses <m_t + sigma eps_t, x> on [-R, R]^d: m_t = -mu for the first lure T rounds, "
                "+mu after",
    generate=_generate, defaults={"d": 4, "R": 1.0, "mean": 0.5, "sigma": 0.5, "lure": 0.25, "T": 1000},
    parameters={"d": Param(meaning="dimension", low=1, integer=True),
                "R": Param(meaning="half-width of the box [-R, R]^d", low=0),
                "mean": Param(meaning="magnitude of mu per coordinate", low=0),
                "sigma": Param(meaning="scale of the Rademacher noise", low=0),
                "lure": Param(meaning="share of the horizon with mean -mu (below 1/2: mu wins overall)", low=0,
                              high=0.5),
                "T": Param(meaning="horizon", low=1, integer=True)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [LURE_LINEAR]
