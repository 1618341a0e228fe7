"""Low-rank matrix sensing with one fixed Gaussian sensing operator (``matrix-sensing``).

Each seed recovers its own PSD ground truth of rank r,

    M* = U diag(s) U^T,   U (n x r) Haar-orthonormal (QR of a Gaussian),   s from 1 down to 1/cond,

from m = round(oversampling * n * r) measurements y_i = <A_i, M*> / sqrt(m) + s_i. The A_i are symmetric
with A_jj ~ N(0, 1) and A_jk = A_kj ~ N(0, 1/2) (the law of (G + G^T) / 2, G Gaussian), so
E ||A(S)||^2 = ||S||_F^2 for every symmetric S: the operator is an isometry in expectation and, for m of
order n r, satisfies the rank-restricted isometry property (RIP) with high probability. With ``general = 1``
the A_i have iid N(0, 1) entries instead, an isometry in expectation on all n x n matrices: an asymmetric
factorisation F G^T needs it, since symmetric A_i cannot see the antisymmetric part of F G^T.

The corruption s is dense noise, s_i ~ N(0, noise^2 / m) on every measurement (so ||s|| is about ``noise``, in
the units of ||M*||_F), plus outliers: a fraction ``outliers`` of the measurements, chosen per seed, gets
outlier_scale / sqrt(m) times a standard normal added (values of arbitrary size next to the clean ones,
whose size is about ||M*||_F / sqrt(m)). ``alpha`` is the initial scale algorithms start from (their factors
are alpha times a Gaussian over sqrt(n)): a knob of the instance so that a claim can run over it.
``exact = 1`` replaces the Gaussian operator by the identity on the packed (or full) layout, m = N: the
matrix factorisation special case, RIP constant 0.

One operator per instance, shared by all seeds. It is drawn from ``Gen([operator_seed])``, a stream that does
not depend on the run's seeds: a dense operator per seed would hold 8 m n^2 bytes each (200 MB at n = 100,
m = 2500), 50 GB for 256 seeds. The theorems read the same way (a fixed operator that satisfies RIP, random
truths and initialisations); seeds draw the truth and, in the algorithm, the initialisation.

Symmetric matrices are stored packed: a measurement is a linear form in the upper triangle,
<A_i, S> = sum_{j <= k} c_jk A_i,jk S_jk with c = 1 on the diagonal and 2 off it. The operator is the (m, N)
matrix B of the coefficients c_jk A_i,jk / sqrt(m), N = n (n + 1) / 2 (entries N(0, 1/m) on the diagonal,
N(0, 2/m) off it); A(S) is the upper triangle of S times B^T and the adjoint A*(v) = sum_i v_i A_i / sqrt(m)
is v B, halved off the diagonal, unpacked. Each is one matrix product over the whole seed batch, with half
the bytes and flops of the dense n^2 layout. The general operator uses the same code on the full layout
(every entry "upper", coefficient 1).
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
class SensingInstance(Instance):
    """A batch of sensing problems: one operator shared by all seeds, each seed's truth and measurements."""

    operator: torch.Tensor  # (m, N) coefficients of each measurement on the upper triangle, shared by all seeds
    y: torch.Tensor         # (batch, m) measurements of each seed's truth
    truth: torch.Tensor     # (batch, n, n) M*
    upper: torch.Tensor     # (N,) flat index j n + k of each upper-triangle entry
    unpack: torch.Tensor    # (n n,) packed index of each flat entry (both triangles)
    half: torch.Tensor      # (N,) 1 on the diagonal, 1/2 off it
    n: int
    r: int
    alpha: float            # the initial scale algorithms start from

    def measure(self, s: torch.Tensor) -> torch.Tensor:
        """A(S) for S (batch, n, n), symmetric unless the operator is general: shape (batch, m)."""
        return s.flatten(1)[:, self.upper] @ self.operator.T

    def adjoint(self, v: torch.Tensor) -> torch.Tensor:
        """A*(v) = sum_i v_i A_i / sqrt(m) for v (batch, m): a (batch, n, n), symmetric for a symmetric operator."""
        return ((v @ self.operator) * self.half)[:, self.unpack].view(v.shape[0], self.n, self.n)

    def residual_gradient(self, x: torch.Tensor) -> torch.Tensor:
        """A*(A(X X^T) - y) for factors X (batch, n, k): the gradient of ||A(XX^T) - y||^2 / 4 is this times X."""
        return self.residual(x @ x.transpose(1, 2))

    def residual(self, product: torch.Tensor) -> torch.Tensor:
        """A*(A(Z) - y) for a model Z (batch, n, n): the gradient of ||A(Z) - y||^2 / 2 in Z."""
        return self.adjoint(self.measure(product) - self.y)


def packing(n: int, device: torch.device | str = "cpu", general: bool = False
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The packed layout of symmetric n x n matrices: flat indices of the upper triangle, the packed index of
    every flat entry, and the coefficient c_jk (1 on the diagonal, 2 off it). ``general``: the full layout of
    any n x n matrix (every entry its own, coefficient 1)."""
    if general:
        every = torch.arange(n * n, device=device)
        return every, every.clone(), torch.ones(n * n, dtype=torch.get_default_dtype(), device=device)
    rows, cols = torch.triu_indices(n, n, device=device)
    unpack = torch.empty(n * n, dtype=torch.int64, device=device)
    unpack[rows * n + cols] = torch.arange(len(rows), device=device)
    unpack[cols * n + rows] = torch.arange(len(rows), device=device)
    coefficient = torch.where(rows == cols, 1.0, 2.0).to(torch.get_default_dtype())
    return rows * n + cols, unpack, coefficient


def sensing_operator(n: int, m: int, operator_seed: int, device: torch.device | str = "cpu",
                     dtype: torch.dtype = torch.float64, general: bool = False) -> torch.Tensor:
    """The (m, N) operator: row i is measurement i, drawn at step i of a stream of ``operator_seed`` alone.
    ``general``: (m, n^2), iid N(0, 1/m) entries (a non-symmetric A_i).

    Row by row keeps the transient memory to a few blocks of the generator, not several copies of the operator.
    """
    gen = Gen([int(operator_seed)], device=device)
    if general:
        scale = torch.full((n * n,), 1.0 / math.sqrt(m), dtype=dtype, device=device)
    else:
        rows, cols = torch.triu_indices(n, n, device=device)
        scale = (torch.where(rows == cols, 1.0, math.sqrt(2.0)) / math.sqrt(m)).to(dtype)
    out = torch.empty(m, len(scale), dtype=dtype, device=device)
    for i in range(m):  # measurements, not seeds: every seed shares these rows
        out[i] = gen.normal("instance/operator", i, len(scale), dtype=dtype)[0]
    return out.mul_(scale)


def ground_truth(n: int, r: int, cond: float, gen: Gen, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Each seed's M* = U diag(s) U^T (batch, n, n): U Haar-orthonormal, s evenly from 1 down to 1 / cond."""
    basis = torch.linalg.qr(gen.normal("instance/basis", 0, n, r, dtype=dtype)).Q
    spectrum = torch.linspace(1.0, 1.0 / cond, r, dtype=dtype, device=gen.device)
    return (basis * spectrum) @ basis.transpose(1, 2)


def corruption(m: int, noise: float, outliers: float, outlier_scale: float, gen: Gen,
               dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Each seed's s (batch, m): dense N(0, noise^2 / m) on every measurement, plus outlier_scale / sqrt(m) times
    a standard normal on round(outliers m) measurements chosen uniformly per seed."""
    dense = noise * gen.normal("instance/noise", 0, m, dtype=dtype)
    count = int(round(outliers * m))
    order = gen.uniform("instance/outlier-index", 0, m, dtype=dtype).argsort(dim=1)
    chosen = torch.zeros(gen.batch, m, dtype=dtype, device=gen.device)
    chosen.scatter_(1, order[:, :count], 1.0)
    spikes = outlier_scale * chosen * gen.normal("instance/outlier-value", 0, m, dtype=dtype)
    return (dense + spikes) / math.sqrt(m)


def _generate(params: Mapping[str, Any], gen: Gen) -> SensingInstance:
    n, r, cond = int(params["n"]), int(params["r"]), float(params["cond"])
    m = int(round(float(params["oversampling"]) * n * r))
    general = bool(int(params["general"]))
    noise, outliers = float(params["noise"]), float(params["outliers"])
    if not 1 <= r <= n or m < 1 or cond < 1:
        raise ValueError(f"matrix-sensing needs 1 <= r <= n, m >= 1 and cond >= 1, got n={n}, r={r}, m={m}, "
                         f"cond={cond}")
    if noise < 0 or not 0 <= outliers < 1 or float(params["alpha"]) <= 0:
        raise ValueError(f"matrix-sensing needs noise >= 0, 0 <= outliers < 1 and alpha > 0, got noise={noise}, "
                         f"outliers={outliers}, alpha={params['alpha']}")
    dtype = torch.get_default_dtype()
    upper, unpack, coefficient = packing(n, gen.device, general)
    if int(params["exact"]):  # every entry once: A(S) = vec(S) with ||A(S)|| = ||S||_F, the factorisation loss
        operator = torch.diag(coefficient.sqrt().to(dtype))
        m = len(coefficient)
    else:
        operator = sensing_operator(n, m, int(params["operator_seed"]), gen.device, dtype, general)
    truth = ground_truth(n, r, cond, gen, dtype)
    clean = truth.flatten(1)[:, upper] @ operator.T
    y = clean + corruption(m, noise, outliers, float(params["outlier_scale"]), gen, dtype) if noise or outliers \
        else clean
    return SensingInstance(params=dict(params), batch=gen.batch, operator=operator, truth=truth, upper=upper,
                           unpack=unpack, half=1.0 / coefficient, n=n, r=r, y=y, alpha=float(params["alpha"]))


PARAMETERS = {
    "n": Param(meaning="side of M* (n x n)", low=1, integer=True),
    "r": Param(meaning="rank of M*", low=1, integer=True),
    "oversampling": Param(meaning="m / (n r): measurements per degree of freedom of a factor", low=0.05),
    "cond": Param(meaning="condition number of M*: eigenvalues evenly from 1 down to 1/cond", low=1.0),
    "operator_seed": Param(meaning="seed of the one operator all seeds share", low=0, integer=True),
    "general": Param(meaning="1: A_i with iid entries (sees F G^T); 0: symmetric A_i", low=0, high=1, integer=True),
    "exact": Param(meaning="1: the identity operator (the factorisation loss, RIP constant 0); oversampling unused",
                   low=0, high=1, integer=True),
    "noise": Param(meaning="dense Gaussian noise: ||s|| about noise (units of ||M*||_F)", low=0.0),
    "outliers": Param(meaning="fraction of measurements corrupted by outliers", low=0.0, high=0.95),
    "outlier_scale": Param(meaning="outlier size over a clean measurement's (standard normal times this)", low=0.0),
    "alpha": Param(meaning="initial scale of the factors (alpha times Gaussian / sqrt(n))", low=1e-12),
}

# The larger setting for a GPU (docs/families/matrix-sensing-large.toml holds the same as a --config file): the
# benchmark's size, where one GD step over 256 seeds is 12.9 GFLOP.
LARGE = {"n": 100, "r": 5, "oversampling": 5.0}

MATRIX_SENSING = Family(
    name="matrix-sensing",
    description="rank-r PSD truth per seed, m = oversampling*n*r Gaussian measurements (one operator), "
                "optional dense noise and outliers",
    generate=_generate, parameters=PARAMETERS,
    defaults={"n": 20, "r": 2, "oversampling": 5.0, "cond": 2.0, "operator_seed": 0, "general": 0, "exact": 0,
              "noise": 0.0, "outliers": 0.0, "outlier_scale": 100.0, "alpha": 1.0})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [MATRIX_SENSING]
