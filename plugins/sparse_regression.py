"""Sparse linear regression with one sample per user, for locally private estimators (``sparse-regression``).

Each of ``n`` users holds one record (x_i, y_i) with

    y_i = <theta*, x_i> + zeta_i,   x_i uniform on {-1, +1}^d (sub-Gaussian, covariance I),
    zeta_i ~ N(0, noise^2)  (noise = 0: no draw, y = <theta*, x>),

and theta* is k-sparse with ||theta*||_1 = ``radius``: its first ``k`` coordinates are +-radius / k (alternating
signs), the rest zero; the same theta* for every seed. Rademacher covariates are bounded by 1, so clipping them
at tau_x = 1 changes nothing and the estimators' clipping adds no bias. ``eps`` and ``delta`` are the local
privacy budget the experiment asks each user's randomiser to meet; the family never reads them. The mode
``audit`` (``Experiment(mode="audit")``) marks an experiment that only audits one user's randomiser: the instance
is built as in the default mode, and estimators (which see ``instance.mode``) may skip the regression.

For privacy audits the instance also carries one user's two most different records (``pair_x``, ``pair_y``,
shape (2, d) and (2,)): x = (1, ..., 1), y = +tau_y against x = (1, -1, 1, -1, ...), y = -tau_y, whose
outer products are orthogonal (the largest change of x x^T a record in [-1, 1]^d can make, up to the diagonal).

Registered by ``plugins/ldp_sparse_regression.py``, its only user (docs/families/sparse-regression.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Family, Gen, Instance, Param


@dataclass(frozen=True, kw_only=True)
class SparseRegressionInstance(Instance):
    x: torch.Tensor  # (batch, n, d) covariates in {-1, +1}
    y: torch.Tensor  # (batch, n) responses
    theta: torch.Tensor  # (batch, d) the k-sparse truth
    pair_x: torch.Tensor  # (2, d) one user's two most different covariates
    pair_y: torch.Tensor  # (2,) and responses
    k: int
    eps: float
    delta: float


def _generate(params: Mapping[str, Any], gen: Gen, mode: str | None = None) -> SparseRegressionInstance:
    """The same instance in every mode (the audit reads only the pair); ``mode`` is accepted, not used."""
    n, d, k = int(params["n"]), int(params["d"]), int(params["k"])
    radius, noise, tau_y = float(params["radius"]), float(params["noise"]), float(params["tau_y"])
    if n < 1 or not 1 <= k <= d or d % 2:
        raise ValueError(f"sparse-regression needs n >= 1, 1 <= k <= d and d even, got n={n}, d={d}, k={k}")
    theta = torch.zeros(d, dtype=torch.float64, device=gen.device)
    theta[:k] = radius / k * torch.tensor([(-1.0) ** j for j in range(k)], dtype=torch.float64)
    x = gen.rademacher("instance/x", 0, n, d)
    y = x @ theta
    if noise:  # noise = 0 skips the draw, most of the family's cost at large n
        y = y + noise * gen.normal("instance/zeta", 0, n)
    alternating = torch.tensor([(-1.0) ** j for j in range(d)], dtype=torch.float64, device=gen.device)
    pair_x = torch.stack([torch.ones_like(alternating), alternating])
    pair_y = torch.tensor([tau_y, -tau_y], dtype=torch.float64, device=gen.device)
    return SparseRegressionInstance(params=dict(params), batch=gen.batch, x=x, y=y,
                                    theta=theta.expand(gen.batch, d), pair_x=pair_x, pair_y=pair_y, k=k,
                                    eps=float(params["eps"]), delta=float(params["delta"]))


SPARSE_REGRESSION = Family(
    name="sparse-regression",
    description="k-sparse linear model, n users with one Rademacher-covariate sample each, for LDP estimators",
    generate=_generate, modes=("audit",),
    defaults={"n": 1000, "d": 4, "k": 2, "radius": 1.0, "noise": 0.1, "tau_y": 1.5, "eps": 8.0, "delta": 1e-5},
    parameters={"n": Param(meaning="users, one record each", low=1, integer=True),
                "d": Param(meaning="dimension", low=1, integer=True),
                "k": Param(meaning="sparsity of theta*", low=1, integer=True),
                "radius": Param(meaning="||theta*||_1", low=0),
                "noise": Param(meaning="standard deviation of the label noise", low=0),
                "tau_y": Param(meaning="bound a user's label is clipped to", low=0),
                "eps": Param(meaning="local privacy budget each randomiser must meet", low=0),
                "delta": Param(meaning="local privacy budget's delta", low=0, high=1)})
