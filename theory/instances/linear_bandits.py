"""Sparse misspecified linear bandits on the unit sphere (family ``sparse-linear-bandit``).

Actions are the unit vectors of R^d. Each seed draws an s-sparse unit ``theta`` (support uniform among the
C(d, s) supports; for s = 2 the angle lies in [pi/6, pi/3] up to signs, so both coordinates are at least 1/2)
and a decoy cap ``{a : <v, a> >= tau}`` around a dense direction ``v`` at angle ``alpha`` from ``theta``. The
reward of an action is noiseless and eps-misspecified:

    r(a) = <theta, a> + eps * (+1 on the cap, -1 elsewhere),      |r(a) - <theta, a>| <= eps.

The cap's angular radius is ``alpha - delta`` with ``delta = min(sqrt(eps), alpha / 2)``, so its best point has
``<theta, a> = cos(delta)`` and reward ``cos(delta) + eps``, above the ``1 - eps`` of ``theta`` itself: the best
action is dense, and no sparse action reaches it (the adversarial part). The supremum of r over the sphere is
known in closed form, ``optimum = max(1 - eps, cos(delta) + eps)``, and is stored per seed.

Parameters: ``d``, ``s``, ``eps``, ``alpha`` (default 1.3 rad).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory.hookspecs import hookimpl
from theory.random import Gen
from theory.spec import Family, Instance, Param


@dataclass(frozen=True, kw_only=True)
class SparseLinearInstance(Instance):
    theta: torch.Tensor  # (batch, d), s-sparse, unit norm
    v: torch.Tensor  # (batch, d), unit decoy direction
    tau: torch.Tensor  # (batch,), cap threshold
    eps: float
    optimum: torch.Tensor  # (batch,), sup of r over the unit sphere

    @property
    def d(self) -> int:
        return int(self.theta.shape[1])

    def reward_sparse(self, supports: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """Noiseless rewards of the actions a with a[supports[j]] = coords[p] (zero elsewhere), for every support
        j (shape (J, s), indices) and coordinate vector p (shape (P, s)); returns (batch, J, P)."""
        lin = torch.einsum("bjk,pk->bjp", self.theta[:, supports], coords)
        cap = torch.einsum("bjk,pk->bjp", self.v[:, supports], coords) >= self.tau[:, None, None]
        return lin + self.eps * (2.0 * cap.to(lin.dtype) - 1.0)

    def reward(self, actions: torch.Tensor) -> torch.Tensor:
        """Noiseless rewards of dense unit actions, one set per seed: ``actions`` (batch, Q, d) -> (batch, Q)."""
        lin = torch.einsum("bd,bqd->bq", self.theta, actions.to(self.theta.dtype))
        cap = torch.einsum("bd,bqd->bq", self.v, actions.to(self.v.dtype)) >= self.tau[:, None]
        return lin + self.eps * (2.0 * cap.to(lin.dtype) - 1.0)


def _generate(params: Mapping[str, Any], gen: Gen) -> SparseLinearInstance:
    d, s, eps, alpha = int(params["d"]), int(params["s"]), float(params["eps"]), float(params["alpha"])
    batch, dtype = gen.batch, torch.get_default_dtype()
    support = torch.argsort(gen.uniform("instance/support", 0, d), dim=1)[:, :s]
    if s == 2:
        phi = math.pi / 6 + (math.pi / 6) * gen.uniform("instance/angle", 0, 1)
        values = torch.cat([torch.cos(phi), torch.sin(phi)], dim=1) * gen.rademacher("instance/sign", 0, 2)
    else:
        values = gen.normal("instance/values", 0, s)
        values = values / values.norm(dim=1, keepdim=True)
    theta = torch.zeros(batch, d, dtype=dtype).scatter(1, support, values.to(dtype))
    g = gen.normal("instance/decoy", 0, d)
    w = g - (g * theta).sum(1, keepdim=True) * theta
    w = w / w.norm(dim=1, keepdim=True)
    v = math.cos(alpha) * theta + math.sin(alpha) * w
    delta = min(math.sqrt(eps), alpha / 2)
    tau = torch.full((batch,), math.cos(alpha - delta), dtype=dtype)
    optimum = torch.full((batch,), max(1 - eps, math.cos(delta) + eps), dtype=dtype)
    return SparseLinearInstance(params=dict(params), batch=batch, theta=theta, v=v, tau=tau, eps=eps,
                                optimum=optimum)


SPARSE_LINEAR = Family(name="sparse-linear-bandit",
                       description="s-sparse linear rewards on the unit sphere with eps misspecification (decoy cap)",
                       generate=_generate, defaults={"d": 6, "s": 2, "eps": 0.05, "alpha": 1.3},
                       parameters={"d": Param(meaning="dimension (actions: unit vectors of R^d)", low=2, integer=True),
                                   "s": Param(meaning="sparsity of theta", low=1, integer=True),
                                   "eps": Param(meaning="misspecification: |r(a) - <theta, a>| <= eps", low=0, high=1),
                                   "alpha": Param(meaning="angle (rad) between theta and the decoy direction",
                                                  low=0, high=3.141592653589793)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [SPARSE_LINEAR]
