"""The ``finetune-quadratic`` family: a least-squares "fine-tuning" loss whose Hessian has a controlled effective
rank, for the zeroth-order methods of plugins/mezo.py and plugins/sparse_mezo.py.

    L(theta) = (1/2) sum_i h_i (theta_i - theta*_i)^2,   h_i = 1 for i < r, h_i = 0 for i >= r,

in d coordinates. The Hessian diag(h) has operator norm l = 1 and trace r, so its effective rank tr(H) / ||H||
(MeZO's local effective rank) is r exactly, whatever d is; r = d is the full-rank case. On the range of H the loss
is PL with mu = l = 1.

The pretrained weights theta_0 come in two magnitude bands, which is what Sparse MeZO's mask reads. The first k
coordinates (k <= r) are small, theta_0,i ~ U(-s, s), and the task moves them: theta*_i = theta_0,i + U(-s, s).
The other d - k are large, |theta_0,i| ~ U(b, 2b) with a random sign, and already optimal (theta*_i = theta_0,i).
So L(theta_0) = (1/2) sum_{i<k} (theta*_i - theta_0,i)^2 and every weight of the first band stays under 2s.

Why diagonal and in a fixed order: ZO-SGD with Gaussian directions is invariant under rotations of the
parameters (z and Q z have the same law), so a rotated Hessian gives the same losses; Sparse MeZO's magnitude
mask is invariant under permutations. Metrics are float64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from theory import Family, Gen, Instance, Param, hookimpl


@dataclass(frozen=True, kw_only=True)
class FinetuneInstance(Instance):
    curvature: torch.Tensor  # (batch, d): the Hessian's diagonal h
    target: torch.Tensor  # (batch, d): theta*
    start: torch.Tensor  # (batch, d): the pretrained weights theta_0

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        """L(theta) per seed; the only access a zeroth-order method has to the problem."""
        return 0.5 * (self.curvature * (theta - self.target) ** 2).sum(1)

    def effective_rank(self, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(tr(H_mm) / l, l) per seed, l = ||H_mm||, for the Hessian restricted to the mask (all of it: None)."""
        h = self.curvature if mask is None else self.curvature * mask
        top = h.max(1).values
        return h.sum(1) / top, top


def _generate(params: Mapping[str, object], gen: Gen) -> FinetuneInstance:
    d, r, k = int(params["d"]), int(params["r"]), int(params["k"])
    small, large = float(params["small"]), float(params["large"])
    if not k <= r <= d:
        raise ValueError(f"need k <= r <= d, got k={k}, r={r}, d={d}")
    if large <= 2 * small:
        raise ValueError(f"need large > 2 small so the bands stay apart, got large={large}, small={small}")
    curvature = (torch.arange(d, device=gen.device) < r).to(torch.float64).expand(gen.batch, d)
    moved = torch.arange(d, device=gen.device) < k
    sign = torch.where(gen.uniform("instance/sign", 0, d) < 0.5, -1.0, 1.0)
    start = torch.where(moved, small * (2 * gen.uniform("instance/small", 0, d) - 1),
                        sign * large * (1 + gen.uniform("instance/large", 0, d)))
    target = start + moved * small * (2 * gen.uniform("instance/shift", 0, d) - 1)
    return FinetuneInstance(params=dict(params), batch=gen.batch, curvature=curvature, target=target, start=start)


FAMILY = Family(
    name="finetune-quadratic", generate=_generate,
    description="(1/2) sum_{i<r} (theta_i - theta*_i)^2 in d weights: effective rank r; k small weights to move",
    defaults={"d": 256, "r": 8, "k": 8, "small": 0.1, "large": 1.0},
    parameters={"d": Param(meaning="number of weights", low=2, high=4096, integer=True),
                "r": Param(meaning="effective rank of the Hessian: the number of unit eigenvalues (at most d)",
                           low=1, high=4096, integer=True),
                "k": Param(meaning="number of small pretrained weights the task moves (at most r)", low=1,
                           high=4096, integer=True),
                "small": Param(meaning="half-width of the small band and of the shift to the target", low=1e-3,
                               high=1.0),
                "large": Param(meaning="the large band: |theta_0| in [large, 2 large] (above 2 small)", low=1e-2,
                               high=1e2)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [FAMILY]
