"""The stochastically extended adversarial (SEA) model of Sachs, Hadiji, van Erven and Guzman (NeurIPS 2022,
arXiv 2202.07554, Definitions 1-3) on the losses of ``theory.instances.online``: nature's mean drifts
adversarially and the learner sees a noisy sample around it.

Round t draws theta_t = m_t + xi_t for every seed and charges f_t(x) = <theta_t, x> (``oco-sea-linear``) or
(lam/2) ||x - theta_t||^2 (``oco-sea-quadratic``, lam-smooth and lam-strongly convex), on X = [-R, R]^d:

- the adversarial part: m_t = mu + z_t delta, coordinate-wise, with z_t = +1 on rounds 1..P, -1 on rounds
  P+1..2P, and so on (a switch every P rounds); mu and delta have magnitudes ``mean`` and ``shift`` in every
  coordinate and one random sign per coordinate and seed, shared by both, so a corner is no better a guess
  than another. With shift > mean the sign of m_t flips at each switch;
- the stochastic part: xi_t = c eps_t with eps_t a vector of Rademacher signs, scaled so that the gradient
  noise has norm exactly ``s`` every round; it stops after round ``T0`` (the noise prefix of catalogue 2.4,
  regime iv) unless T0 = 0, which means never.

With the convention grad F_0 = 0 the SEA quantities are then, exactly (``variance``, ``variation``):

    sigma_t^2 = s^2 (t <= T0 or T0 = 0, else 0),            sigma^2_{1:T} = s^2 min(T, T0 or T)
    Sigma^2_{1:T} = sup_x ||grad F_1(x)||^2 + (number of switches in 2..T) * ||grad F_t - grad F_{t-1}||^2
                  = d (mean + shift)^2 + floor((T - 1) / P) * 4 d shift^2                          (linear)
                  = lam^2 d (R + mean + shift)^2 + floor((T - 1) / P) * 4 d lam^2 shift^2         (quadratic)

since grad F_t - grad F_{t-1} = -lam (m_t - m_{t-1}) (or m_t - m_{t-1} for linear losses) does not depend on x.
The two ends: shift = 0 is i.i.d. (Sigma^2 constant), s = 0 is fully adversarial (sigma^2 = 0), and P = 1
switches every round. Both regrets of the online families are kept; ``record`` reads the round from the
ledger, so an algorithm written for ``oco-linear`` (``plugins.ogd``) runs on these families unchanged.
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
class SEAInstance(OnlineInstance):
    """``mean`` is the centre mu of the adversarial mean; ``shift`` its switching amplitude delta."""

    shift: torch.Tensor  # (batch, d)
    period: int  # P: rounds between switches of m_t
    quiet_after: int  # T0: no noise after this round (0: noise in every round)

    def mean_at(self, t: int) -> torch.Tensor:
        """m_t, shape (batch, d)."""
        return self.mean + self.shift if ((t - 1) // self.period) % 2 == 0 else self.mean - self.shift

    def draw(self, t: int, gen: Gen) -> torch.Tensor:
        mean = self.mean_at(t)
        if not self.sigma or (self.quiet_after and t > self.quiet_after):
            return mean
        return mean + self.sigma * gen.rademacher(_LOSS_STREAM, t, self.dim, dtype=self.mean.dtype)

    def record(self, ledger: Ledger, x: torch.Tensor, theta: torch.Tensor,
               mean: torch.Tensor | None = None) -> Ledger:
        """As for the fixed-mean families, with m_t of the round being recorded (read from the ledger)."""
        return super().record(ledger, x, theta, self.mean_at(int(ledger["rounds"]) + 1) if mean is None else mean)


def variance(params: Mapping[str, Any], T: int) -> float:
    """sigma^2_{1:T}: the cumulative stochastic variance of the instance at ``params``."""
    quiet = int(params.get("T0", 0))
    return float(params["s"]) ** 2 * (min(T, quiet) if quiet else T)


def variation(params: Mapping[str, Any], T: int, lam: float = 0.0) -> float:
    """Sigma^2_{1:T}: the cumulative adversarial variation (grad F_0 = 0), for losses of curvature ``lam``."""
    d, mean, shift = int(params["d"]), float(params["mean"]), float(params["shift"])
    first = lam**2 * d * (float(params["R"]) + mean + shift) ** 2 if lam else d * (mean + shift) ** 2
    return first + ((T - 1) // int(params["P"])) * 4 * d * (lam or 1.0) ** 2 * shift**2


def _generate(params: Mapping[str, Any], gen: Gen, lam: float) -> SEAInstance:
    d, radius = int(params["d"]), float(params["R"])
    mean, shift, s = float(params["mean"]), float(params["shift"]), float(params["s"])
    period, quiet = int(params["P"]), int(params["T0"])
    if min(mean, shift, s) < 0 or period < 1 or quiet < 0:
        raise ValueError(f"mean, shift, s must be >= 0, P >= 1 and T0 >= 0; got {dict(params)}")
    noise = s / ((lam or 1.0) * math.sqrt(d))  # per coordinate of theta: the gradient noise has norm s
    signs = torch.where(gen.uniform(_SIGN_STREAM, 0, d) < 0.5, -1.0, 1.0)
    # |gradient| per coordinate over X: |theta_i| for linear losses, lam (R + |theta_i|) for the quadratic
    reach = mean + shift + noise + (radius if lam else 0.0)
    return SEAInstance(params=dict(params), batch=gen.batch, mean=signs * mean, shift=signs * shift, sigma=noise,
                       radius=radius, lam=lam, lipschitz=(lam or 1.0) * reach * math.sqrt(d), period=period,
                       quiet_after=quiet)


_DEFAULTS = {"d": 4, "R": 1.0, "mean": 0.5, "shift": 0.0, "s": 0.5, "P": 1, "T0": 0}
_SEA = {"d": Param(meaning="dimension", low=1, integer=True),
        "R": Param(meaning="half-width of the box [-R, R]^d", low=0),
        "mean": Param(meaning="magnitude of mu per coordinate", low=0),
        "shift": Param(meaning="magnitude of the adversarial switch delta per coordinate", low=0),
        "s": Param(meaning="norm of the gradient noise each round", low=0),
        "P": Param(meaning="rounds between switches of m_t", low=1, integer=True),
        "T0": Param(meaning="noise stops after round T0 (0: never)", low=0, integer=True)}

SEA_LINEAR = Family(name="oco-sea-linear",
                    description="SEA model, linear losses <m_t + xi_t, x> on [-R, R]^d: m_t switches every P rounds, "
                                "noise of norm s",
                    generate=lambda params, gen: _generate(params, gen, lam=0.0), defaults=_DEFAULTS,
                    parameters=_SEA)
SEA_QUADRATIC = Family(name="oco-sea-quadratic",
                       description="SEA model, losses (lam/2)||x - m_t - xi_t||^2 on [-R, R]^d: m_t switches every "
                                   "P rounds, gradient noise of norm s",
                       generate=lambda params, gen: _generate(params, gen, lam=float(params["lam"])),
                       defaults={**_DEFAULTS, "lam": 1.0},
                       parameters={**_SEA, "lam": Param(meaning="smoothness and strong convexity", low=0)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [SEA_LINEAR, SEA_QUADRATIC]
