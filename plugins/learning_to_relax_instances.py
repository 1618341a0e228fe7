"""Sequences of shifted 2-D Laplacian systems, for learning a solver's parameter across instances.

Family ``sor-sequence``. ``A`` is the 5-point Laplacian on an m x m grid (n = m^2 unknowns, diagonal 4); round t
poses ``A_t x = b_t`` with ``A_t = A + c_t I``. Every seed owns a pool of ``levels x rhs`` systems: the shifts
are the midpoints of ``levels`` equal bins of ``[c_lo, c_lo + c_span]`` (shared by all seeds), each level has
``rhs`` right-hand sides ``b ~ N(0, I_n)`` drawn per seed from ``gen``, and round t draws one system of the
pool (a level with the Beta(c_a, c_b) mass of its bin, then one of its right-hand sides uniformly). With the
defaults this is the low-variance shift distribution c = -0.15 + 0.6 Beta(2, 6) of Khodak et al.'s experiments
(ICLR 2024, arXiv 2310.02246; ``scripts/learning.m`` of their code), rounded to 8 levels. A finite pool is what
makes the true cost affordable: the cost of a relaxation parameter omega on round t is the number of SOR
iterations the real solver needs, and it is computed once per pool system and omega, not once per round.

Parameters (``Experiment.params``): ``m``, ``c_lo``, ``c_span``, ``c_a``, ``c_b``, ``levels``, ``rhs``, ``eps``
(SOR stops when ||r_k|| <= eps ||r_0||) and ``cap`` (most iterations; a run that does not converge costs cap).

What the instance offers:
- ``sequence(horizon, gen)``: the pool index of every round, one row per seed (one draw from ``gen``);
- ``sor_iterations(omegas, splitting)``: SOR iteration counts (seeds, pool, omegas) of Algorithm 1 of the
  paper: split A_t = D + L + L^T, W = D / omega + L, x_0 = 0, x <- x + W^{-1} r, r = b - A_t x, stop when
  ||r|| <= eps ||b||. The solve with W is ``torch.linalg.solve_triangular``, batched over shift levels,
  omegas, seeds and right-hand sides; the counts are memoised per instance, splitting and omega;
- ``beta`` (the Jacobi spectral radius rho(I - D^{-1} A_t) per level, from ``torch.linalg.eigvalsh``) and
  ``spectral_radius(omegas)``: rho(I - A_t W^{-1}) by Young's formula for consistently ordered matrices, as the
  paper's surrogate bound (Lemma 2.1) uses it.
The instance's tensors are float64 whatever the run's dtype (a relative residual of 1e-8 is below float32's
resolution), and the memo of iteration counts is module-level: it holds a few MB at most and is keyed by the
seeds and the family parameters, so every run that builds the same instance reuses it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Family, Gen, Instance, Param, hookimpl

Splitting = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
_RHS_STREAM = "instance/rhs"
_SYSTEM_STREAM = "system"
_CACHE: OrderedDict[tuple, torch.Tensor] = OrderedDict()
_CACHE_ENTRIES = 2048  # one (seeds, pool) tensor per entry: about 12 MB at most for 48 seeds and 16 systems


def sor_splitting(diagonal: torch.Tensor, lower: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """The SOR matrix W = D / omega + L of the paper's Algorithm 1 (broadcast over leading axes)."""
    return diagonal / omega + lower


def laplacian(m: int) -> torch.Tensor:
    """The 5-point Laplacian on an m x m grid (natural ordering, Dirichlet boundary): n = m^2 rows."""
    second = 2 * torch.eye(m) - torch.diag(torch.ones(m - 1), 1) - torch.diag(torch.ones(m - 1), -1)
    return torch.kron(torch.eye(m), second) + torch.kron(second, torch.eye(m))


@dataclass(frozen=True, kw_only=True)
class SystemsInstance(Instance):
    matrix: torch.Tensor  # (n, n): A, shared by all seeds
    shifts: torch.Tensor  # (levels,): c of each level
    level_probs: torch.Tensor  # (levels,): probability of each level per round
    rhs: torch.Tensor  # (batch, levels, rhs, n)
    cdf: torch.Tensor  # (pool,): cumulative probability of the pool systems, the last one 1
    eps: float
    cap: int
    key: tuple  # the seeds and parameters: what the memoised iteration counts depend on

    @property
    def pool(self) -> int:
        return int(self.rhs.shape[1] * self.rhs.shape[2])

    @property
    def pool_level(self) -> torch.Tensor:
        """The shift level of every pool system (pool index = level * rhs + j)."""
        return torch.arange(self.rhs.shape[1], device=self.rhs.device).repeat_interleave(self.rhs.shape[2])

    @property
    def beta(self) -> torch.Tensor:
        """rho(I - D^{-1} A_t) per level; D = (4 + c) I, so the Jacobi matrix is symmetric."""
        eye = torch.eye(self.matrix.shape[0], dtype=self.matrix.dtype, device=self.matrix.device)
        systems = self.matrix + self.shifts[:, None, None] * eye
        jacobi = eye - systems / systems.diagonal(dim1=-2, dim2=-1)[:, :, None]
        return torch.linalg.eigvalsh(jacobi).abs().amax(-1)

    def sequence(self, horizon: int, gen: Gen) -> torch.Tensor:
        """The pool index of every round t = 1..horizon, shape (batch, horizon), drawn in one call."""
        u = gen.uniform(_SYSTEM_STREAM, 0, horizon, dtype=self.cdf.dtype)
        return (self.cdf[None, None, :] < u[:, :, None]).sum(-1).clamp_(max=self.pool - 1)

    def spectral_radius(self, omegas: torch.Tensor) -> torch.Tensor:
        """rho(C_omega), C_omega = I - A_t W^{-1}, shape (levels, len(omegas)), for 0 < omega < 2, by Young's formula
        for consistently ordered matrices: with Jacobi radius beta, it is
        (omega beta + sqrt(omega^2 beta^2 - 4 (omega - 1)))^2 / 4 below omega* = 2 / (1 + sqrt(1 - beta^2)), and
        omega - 1 above it."""
        beta, omega = self.beta[:, None], omegas[None, :]
        disc = (omega * beta) ** 2 - 4 * (omega - 1)
        below = 0.25 * (omega * beta + disc.clamp(min=0).sqrt()) ** 2
        return torch.where(omega >= 2 / (1 + torch.sqrt(1 - beta**2)), omega - 1, below)

    def sor_iterations(self, omegas: torch.Tensor, splitting: Splitting = sor_splitting) -> torch.Tensor:
        """SOR iteration counts, shape (batch, pool, len(omegas)); memoised per omega."""
        name = f"{splitting.__module__}.{splitting.__qualname__}"
        keys = [(self.key, name, float(w)) for w in omegas.tolist()]
        missing = sorted({k[2] for k in keys if k not in _CACHE})
        if missing:
            counts = self._solve(torch.tensor(missing, dtype=self.rhs.dtype, device=self.rhs.device), splitting)
            for i, w in enumerate(missing):
                _CACHE[(self.key, name, w)] = counts[..., i]
        for k in keys:
            _CACHE.move_to_end(k)
        columns = [_CACHE[k] for k in keys]
        while len(_CACHE) > _CACHE_ENTRIES:
            _CACHE.popitem(last=False)
        return torch.stack(columns, dim=-1)

    def _solve(self, omegas: torch.Tensor, splitting: Splitting) -> torch.Tensor:
        n, levels, per_level = self.matrix.shape[0], self.rhs.shape[1], self.rhs.shape[2]
        eye = torch.eye(n, dtype=self.rhs.dtype, device=self.rhs.device)
        systems = self.matrix + self.shifts[:, None, None] * eye  # (levels, n, n)
        diagonal = torch.diag_embed(torch.diagonal(systems, dim1=-2, dim2=-1))
        split = splitting(diagonal[:, None], torch.tril(systems, -1)[:, None], omegas[None, :, None, None])
        groups = levels * len(omegas)  # one W per (level, omega); its columns are every seed's b of that level
        matrices = systems[:, None].expand(-1, len(omegas), -1, -1).reshape(groups, n, n)
        split = split.expand(levels, len(omegas), n, n).reshape(groups, n, n)
        b = self.rhs.permute(1, 3, 0, 2).reshape(levels, n, -1)  # (levels, n, batch * rhs)
        b = b[:, None].expand(-1, len(omegas), -1, -1).reshape(groups, n, -1)
        counts = _sor_counts(matrices, split, b, self.eps, self.cap)  # (groups, batch * rhs)
        counts = counts.reshape(levels, len(omegas), self.batch, per_level)
        return counts.permute(2, 0, 3, 1).reshape(self.batch, levels * per_level, len(omegas)).to(self.rhs.dtype)


def _sor_counts(matrices: torch.Tensor, split: torch.Tensor, b: torch.Tensor, eps: float, cap: int) -> torch.Tensor:
    """Algorithm 1 on every column of ``b`` (groups, n, columns) at once: the first k with ||r_k|| <= eps ||b||.

    A group (one system matrix and one W) leaves the batch as soon as all its columns have converged, so the
    work is the sum over groups of their slowest column, not the slowest column overall.
    """
    counts = torch.full(b.shape[::2], cap, dtype=torch.long, device=b.device)
    live = torch.arange(b.shape[0], device=b.device)
    x, r = torch.zeros_like(b), b.clone()
    threshold = eps**2 * (b * b).sum(1)
    done = torch.zeros(counts.shape, dtype=torch.bool, device=b.device)
    for k in range(1, cap + 1):
        x = x + torch.linalg.solve_triangular(split, r, upper=False)
        r = b - matrices @ x
        now = ((r * r).sum(1) <= threshold) & ~done[live]
        if now.any():
            group, column = now.nonzero(as_tuple=True)
            counts[live[group], column] = k
            done[live[group], column] = True
        keep = ~done[live].all(1)
        if not keep.all():
            if not keep.any():
                break
            live, matrices, split, b, x, r, threshold = (
                live[keep], matrices[keep], split[keep], b[keep], x[keep], r[keep], threshold[keep])
    return counts


def _generate(params: Mapping[str, Any], gen: Gen) -> SystemsInstance:
    from scipy import stats  # here: building the registry imports this module and need not load scipy.stats
    m, levels, rhs = int(params["m"]), int(params["levels"]), int(params["rhs"])
    c_lo, c_span = float(params["c_lo"]), float(params["c_span"])
    edges = torch.linspace(0, 1, levels + 1, dtype=torch.float64)
    mass = torch.diff(torch.as_tensor(stats.beta.cdf(edges.numpy(), float(params["c_a"]), float(params["c_b"]))))
    dtype = torch.float64  # whatever the run's dtype: a relative residual of 1e-8 is below float32's resolution
    matrix = laplacian(m).to(dtype=dtype, device=gen.device)
    shifts = (c_lo + c_span * (torch.arange(levels, dtype=torch.float64) + 0.5) / levels).to(dtype=dtype,
                                                                                              device=gen.device)
    if float(shifts.min()) <= -8 * math.sin(math.pi / (2 * (m + 1))) ** 2:
        raise ValueError(f"shift {float(shifts.min()):g} makes A + cI singular or indefinite for m={m}")
    b = gen.normal(_RHS_STREAM, 0, levels, rhs, m * m, dtype=dtype)
    used = ("m", "c_lo", "c_span", "c_a", "c_b", "levels", "rhs", "eps", "cap")  # not the scaling variable
    key = (tuple(gen.seeds.tolist()), tuple(float(params[k]) for k in used), str(gen.device))
    probs = (mass / mass.sum()).to(dtype=dtype, device=gen.device)
    cdf = torch.cumsum(probs.repeat_interleave(rhs) / rhs, 0)
    return SystemsInstance(params=dict(params), batch=gen.batch, matrix=matrix, shifts=shifts, level_probs=probs,
                           rhs=b, cdf=cdf / cdf[-1], eps=float(params["eps"]), cap=int(params["cap"]), key=key)


SOR_SEQUENCE = Family(
    name="sor-sequence", description="shifted 2-D Laplacian systems A + c_t I, b_t; cost = SOR iterations",
    generate=_generate,
    defaults={"m": 6, "c_lo": -0.15, "c_span": 0.6, "c_a": 2.0, "c_b": 6.0, "levels": 8, "rhs": 2,
              "eps": 1e-8, "cap": 10000},
    parameters={"m": Param(meaning="grid side: n = m^2 unknowns", low=2, integer=True),
                "c_lo": Param(meaning="lowest diagonal shift c"),
                "c_span": Param(meaning="width of the shift range [c_lo, c_lo + c_span]", low=0),
                "c_a": Param(meaning="first Beta parameter of the shift distribution", low=0),
                "c_b": Param(meaning="second Beta parameter of the shift distribution", low=0),
                "levels": Param(meaning="shift levels in the pool", low=1, integer=True),
                "rhs": Param(meaning="right-hand sides per level", low=1, integer=True),
                "eps": Param(meaning="relative residual at which SOR stops", low=0, high=1),
                "cap": Param(meaning="most SOR iterations (the cost of a run that does not converge)",
                             low=1, integer=True)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [SOR_SEQUENCE]
