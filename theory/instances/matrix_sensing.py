"""Symmetric low-rank matrix sensing with one fixed Gaussian sensing operator (``matrix-sensing``).

Each seed recovers its own PSD ground truth of rank r,

    M* = U diag(s) U^T,   U (n x r) Haar-orthonormal (QR of a Gaussian),   s from 1 down to 1/cond,

from m = round(oversampling * n * r) noiseless measurements y_i = <A_i, M*> / sqrt(m). The A_i are symmetric
with A_jj ~ N(0, 1) and A_jk = A_kj ~ N(0, 1/2) (the law of (G + G^T) / 2, G Gaussian), so
E ||A(S)||^2 = ||S||_F^2 for every symmetric S: the operator is an isometry in expectation and, for m of
order n r, satisfies the rank-restricted isometry property (RIP) with high probability.

One operator per instance, shared by all seeds. It is drawn from ``Gen([operator_seed])``, a stream that does
not depend on the run's seeds: a dense operator per seed would hold 8 m n^2 bytes each (200 MB at n = 100,
m = 2500), 50 GB for 256 seeds. The theorems read the same way (a fixed operator that satisfies RIP, random
truths and initialisations); seeds draw the truth and, in the algorithm, the initialisation.

Symmetric matrices are stored packed: a measurement is a linear form in the upper triangle,
<A_i, S> = sum_{j <= k} c_jk A_i,jk S_jk with c = 1 on the diagonal and 2 off it. The operator is the (m, N)
matrix B of the coefficients c_jk A_i,jk / sqrt(m), N = n (n + 1) / 2 (entries N(0, 1/m) on the diagonal,
N(0, 2/m) off it); A(S) is the upper triangle of S times B^T and the adjoint A*(v) = sum_i v_i A_i / sqrt(m)
is v B, halved off the diagonal, unpacked. Each is one matrix product over the whole seed batch, with half
the bytes and flops of the dense n^2 layout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from theory.hookspecs import hookimpl
from theory.random import Gen
from theory.spec import Family, Instance, Param


@dataclass(frozen=True, kw_only=True)
class SensingInstance(Instance):
    operator: torch.Tensor  # (m, N) coefficients of each measurement on the upper triangle, shared by all seeds
    y: torch.Tensor         # (batch, m) measurements of each seed's truth
    truth: torch.Tensor     # (batch, n, n) M*
    upper: torch.Tensor     # (N,) flat index j n + k of each upper-triangle entry
    unpack: torch.Tensor    # (n n,) packed index of each flat entry (both triangles)
    half: torch.Tensor      # (N,) 1 on the diagonal, 1/2 off it
    n: int
    r: int

    def measure(self, s: torch.Tensor) -> torch.Tensor:
        """A(S) for symmetric S (batch, n, n): shape (batch, m)."""
        return s.flatten(1)[:, self.upper] @ self.operator.T

    def adjoint(self, v: torch.Tensor) -> torch.Tensor:
        """A*(v) = sum_i v_i A_i / sqrt(m) for v (batch, m): a symmetric (batch, n, n)."""
        return ((v @ self.operator) * self.half)[:, self.unpack].view(v.shape[0], self.n, self.n)

    def residual_gradient(self, x: torch.Tensor) -> torch.Tensor:
        """A*(A(X X^T) - y) for factors X (batch, n, k): the gradient of ||A(XX^T) - y||^2 / 4 is this times X."""
        return self.adjoint(self.measure(x @ x.transpose(1, 2)) - self.y)


def packing(n: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The packed layout of symmetric n x n matrices: flat indices of the upper triangle, the packed index of
    every flat entry, and the coefficient c_jk (1 on the diagonal, 2 off it)."""
    rows, cols = torch.triu_indices(n, n, device=device)
    unpack = torch.empty(n * n, dtype=torch.int64, device=device)
    unpack[rows * n + cols] = torch.arange(len(rows), device=device)
    unpack[cols * n + rows] = torch.arange(len(rows), device=device)
    coefficient = torch.where(rows == cols, 1.0, 2.0).to(torch.get_default_dtype())
    return rows * n + cols, unpack, coefficient


def sensing_operator(n: int, m: int, operator_seed: int, device: torch.device | str = "cpu",
                     dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The (m, N) operator: row i is measurement i, drawn at step i of a stream of ``operator_seed`` alone.

    Row by row keeps the transient memory to a few blocks of the generator, not several copies of the operator.
    """
    gen = Gen([int(operator_seed)], device=device)
    rows, cols = torch.triu_indices(n, n, device=device)
    scale = (torch.where(rows == cols, 1.0, math.sqrt(2.0)) / math.sqrt(m)).to(dtype)
    out = torch.empty(m, len(rows), dtype=dtype, device=device)
    for i in range(m):  # measurements, not seeds: every seed shares these rows
        out[i] = gen.normal("instance/operator", i, len(rows), dtype=dtype)[0]
    return out.mul_(scale)


def ground_truth(n: int, r: int, cond: float, gen: Gen, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Each seed's M* = U diag(s) U^T (batch, n, n): U Haar-orthonormal, s evenly from 1 down to 1 / cond."""
    basis = torch.linalg.qr(gen.normal("instance/basis", 0, n, r, dtype=dtype)).Q
    spectrum = torch.linspace(1.0, 1.0 / cond, r, dtype=dtype, device=gen.device)
    return (basis * spectrum) @ basis.transpose(1, 2)


def _generate(params: Mapping[str, object], gen: Gen) -> SensingInstance:
    n, r, cond = int(params["n"]), int(params["r"]), float(params["cond"])
    m = int(round(float(params["oversampling"]) * n * r))
    if not 1 <= r <= n or m < 1 or cond < 1:
        raise ValueError(f"matrix-sensing needs 1 <= r <= n, m >= 1 and cond >= 1, got n={n}, r={r}, m={m}, "
                         f"cond={cond}")
    dtype = torch.get_default_dtype()
    upper, unpack, coefficient = packing(n, gen.device)
    operator = sensing_operator(n, m, int(params["operator_seed"]), gen.device, dtype)
    truth = ground_truth(n, r, cond, gen, dtype)
    return SensingInstance(params=dict(params), batch=gen.batch, operator=operator, truth=truth, upper=upper,
                           unpack=unpack, half=1.0 / coefficient, n=n, r=r,
                           y=truth.flatten(1)[:, upper] @ operator.T)


MATRIX_SENSING = Family(
    name="matrix-sensing",
    description="rank-r PSD truth per seed, m = oversampling*n*r symmetric Gaussian measurements, one operator",
    generate=_generate,
    defaults={"n": 20, "r": 2, "oversampling": 5.0, "cond": 2.0, "operator_seed": 0},
    parameters={"n": Param(meaning="matrix side", low=1, integer=True),
                "r": Param(meaning="rank of the truth", low=1, integer=True),
                "oversampling": Param(meaning="measurements per degree of freedom: m = oversampling*n*r", low=0),
                "cond": Param(meaning="condition number of the truth", low=1),
                "operator_seed": Param(meaning="seed of the one sensing operator", low=0, integer=True)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [MATRIX_SENSING]
