"""The bilevel problems behind the families of ``plugins/bilevel_instances.py``: the oracle protocol
(``BilevelInstance``) and the quadratic (single- and multi-block) construction, with closed-form references
(y*(x), Phi, grad Phi). The other three problems are in ``plugins/bilevel_applications.py``.

Shapes: x is (batch, dx), y is (batch, dy), values are (batch,). A multi-block problem stores its m blocks
y_i in y flattened, (batch, m * dy_block), and adds block oracles over sampled block indices (batch, I).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from theory import Gen, Instance

Pair = tuple[torch.Tensor, torch.Tensor]


def matvec(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    return (matrix @ vector.unsqueeze(-1)).squeeze(-1)


def tmatvec(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    return (matrix.transpose(-1, -2) @ vector.unsqueeze(-1)).squeeze(-1)


@dataclass(frozen=True, kw_only=True)
class BilevelInstance(Instance):
    """The protocol: exact oracles (the ``_`` methods a problem defines), their noisy public forms, and the
    exact references ``phi``, ``hypergrad`` and ``lower_solution``."""

    x0: torch.Tensor  # (batch, dx) the upper-level start
    y0: torch.Tensor  # (batch, dy) the lower-level start
    sigma: float      # sd of the stochastic oracles' additive noise, per coordinate
    blocks: int = 1   # calls one full oracle costs (one per lower-level block)

    def _noisy(self, name: str, exact: torch.Tensor | Pair, gen: Gen | None, t: int, stream: str):
        if gen is None or self.sigma == 0:
            return exact
        if isinstance(exact, tuple):
            return tuple(self._noisy(f"{name}/{part}", value, gen, t, stream)
                         for part, value in zip("xy", exact))
        noise = gen.normal(f"oracle/{name}{stream}", t, *exact.shape[1:], dtype=exact.dtype)
        return exact + self.sigma * noise.to(exact.device)

    def upper_grad(self, x: torch.Tensor, y: torch.Tensor, gen: Gen | None = None, t: int = 0,
                   stream: str = "") -> Pair:
        """(grad_x f, grad_y f)."""
        return self._noisy("upper_grad", self._upper_grad(x, y), gen, t, stream)

    def lower_grad(self, x: torch.Tensor, y: torch.Tensor, gen: Gen | None = None, t: int = 0,
                   stream: str = "") -> Pair:
        """(grad_x g, grad_y g)."""
        return self._noisy("lower_grad", self._lower_grad(x, y), gen, t, stream)

    def lower_hvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor, gen: Gen | None = None, t: int = 0,
                  stream: str = "") -> torch.Tensor:
        """grad^2_yy g(x, y) v, shape of y."""
        return self._noisy("lower_hvp", self._lower_hvp(x, y, v), gen, t, stream)

    def cross_jvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor, gen: Gen | None = None, t: int = 0,
                  stream: str = "") -> torch.Tensor:
        """grad^2_xy g(x, y) v for v shaped like y: the shape of x."""
        return self._noisy("cross_jvp", self._cross_jvp(x, y, v), gen, t, stream)

    def hypergrad(self, x: torch.Tensor) -> torch.Tensor:
        """grad Phi(x) exactly: grad_x f - grad^2_xy g [grad^2_yy g]^{-1} grad_y f at y*(x) (the problem may
        override it with a closed form)."""
        y = self.lower_solution(x)
        gx, gy = self._upper_grad(x, y)
        return gx - self._cross_jvp(x, y, self._lower_solve(x, y, gy))

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        """Phi(x) = f(x, y*(x))."""
        return self.upper_value(x, self.lower_solution(x))


@dataclass(frozen=True, kw_only=True)
class QuadraticBilevel(BilevelInstance):
    """m blocks: g_i = 1/2 y_i'Q_i y_i - y_i'(P_i x + c_i), f_i = 1/2 ||y_i - b_i||^2 + lam/2 ||x||^2;
    f = (1/m) sum f_i, g = (1/m) sum g_i. Then y_i* = Q_i^{-1}(P_i x + c_i) and Phi is a convex quadratic."""

    Q: torch.Tensor  # (batch, m, dy, dy) SPD, eigenvalues in [mu, mu kappa]
    P: torch.Tensor  # (batch, m, dy, dx)
    c: torch.Tensor  # (batch, m, dy)
    b: torch.Tensor  # (batch, m, dy)
    lam: float
    mu: float
    smoothness: float
    x_star: torch.Tensor  # (batch, dx) the minimiser of Phi
    phi_star: torch.Tensor  # (batch,)

    def _split(self, y: torch.Tensor) -> torch.Tensor:
        return y.reshape(y.shape[0], self.blocks, -1)

    def upper_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((self._split(y) - self.b) ** 2).sum((1, 2)) / self.blocks + 0.5 * self.lam * (x * x).sum(1)

    def lower_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        yb = self._split(y)
        linear = matvec(self.P, x.unsqueeze(1).expand(-1, self.blocks, -1)) + self.c
        return (0.5 * (yb * matvec(self.Q, yb)).sum(-1) - (yb * linear).sum(-1)).sum(1) / self.blocks

    def _upper_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        return self.lam * x, (y - self.b.flatten(1)) / self.blocks

    def _lower_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        yb = self._split(y)
        gy = matvec(self.Q, yb) - matvec(self.P, x.unsqueeze(1).expand(-1, self.blocks, -1)) - self.c
        return -tmatvec(self.P, yb).sum(1) / self.blocks, gy.flatten(1) / self.blocks

    def _lower_hvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return matvec(self.Q, self._split(v)).flatten(1) / self.blocks

    def _cross_jvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return -tmatvec(self.P, self._split(v)).sum(1) / self.blocks

    def _lower_solve(self, x: torch.Tensor, y: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve(self.Q, self._split(rhs)).flatten(1) * self.blocks

    def lower_solution(self, x: torch.Tensor) -> torch.Tensor:
        linear = matvec(self.P, x.unsqueeze(1).expand(-1, self.blocks, -1)) + self.c
        return torch.linalg.solve(self.Q, linear).flatten(1)

    def lower_mu(self, x: torch.Tensor) -> torch.Tensor:
        """Strong convexity of g(x, .) (of each g_i; g itself has 1/m of it)."""
        return torch.full((x.shape[0],), self.mu, dtype=x.dtype, device=x.device)

    def lower_smoothness(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0],), self.smoothness, dtype=x.dtype, device=x.device)

    def upper_smoothness_y(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ones(x.shape[0], dtype=x.dtype, device=x.device)

    # block oracles: yb (batch, I, dy) holds the blocks idx (batch, I); each block call costs one call
    def _take(self, tensor: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return tensor[torch.arange(idx.shape[0], device=idx.device)[:, None], idx]

    def sample_blocks(self, count: int, gen: Gen, t: int, stream: str = "blocks") -> torch.Tensor:
        """``count`` distinct block indices per seed, uniformly at random: (batch, count) long."""
        return gen.uniform(stream, t, self.blocks).argsort(dim=1)[:, :count].to(self.x0.device)

    def block_upper_grad(self, x: torch.Tensor, yb: torch.Tensor, idx: torch.Tensor, gen: Gen | None = None,
                         t: int = 0, stream: str = "") -> Pair:
        """(grad_x f_i, grad_y f_i) of each sampled block: (batch, I, dx), (batch, I, dy)."""
        gx = (self.lam * x).unsqueeze(1).expand(-1, idx.shape[1], -1)
        return self._noisy("block_upper_grad", (gx, yb - self._take(self.b, idx)), gen, t, stream)

    def block_lower_grad(self, x: torch.Tensor, yb: torch.Tensor, idx: torch.Tensor, gen: Gen | None = None,
                         t: int = 0, stream: str = "") -> Pair:
        """(grad_x g_i, grad_y g_i) of each sampled block."""
        Q, P = self._take(self.Q, idx), self._take(self.P, idx)
        gy = matvec(Q, yb) - matvec(P, x.unsqueeze(1).expand(-1, idx.shape[1], -1)) - self._take(self.c, idx)
        return self._noisy("block_lower_grad", (-tmatvec(P, yb), gy), gen, t, stream)

    def block_lower_hvp(self, x: torch.Tensor, yb: torch.Tensor, idx: torch.Tensor, v: torch.Tensor,
                        gen: Gen | None = None, t: int = 0, stream: str = "") -> torch.Tensor:
        """grad^2_yy g_i v_i per sampled block, v (batch, I, dy)."""
        return self._noisy("block_lower_hvp", matvec(self._take(self.Q, idx), v), gen, t, stream)

    def block_cross_jvp(self, x: torch.Tensor, yb: torch.Tensor, idx: torch.Tensor, v: torch.Tensor,
                        gen: Gen | None = None, t: int = 0, stream: str = "") -> torch.Tensor:
        """grad^2_xy g_i v_i per sampled block: (batch, I, dx)."""
        return self._noisy("block_cross_jvp", -tmatvec(self._take(self.P, idx), v), gen, t, stream)


def _quadratic(params: Mapping[str, float], gen: Gen, blocks: int) -> QuadraticBilevel:
    dx, dy, mu, kappa = int(params["dx"]), int(params["dy"]), float(params["mu"]), float(params["kappa"])
    lam = float(params["lam"])
    if lam == 0 and dy * blocks < dx:
        raise ValueError(f"lam = 0 needs m * dy >= dx for a unique minimiser, got m={blocks}, dy={dy}, dx={dx}")
    dev, B = gen.device, gen.batch
    basis, _ = torch.linalg.qr(gen.normal("instance/basis", 0, blocks, dy, dy))
    spectrum = mu * kappa ** (torch.arange(dy, dtype=torch.float64, device=dev) / max(dy - 1, 1))
    Q = basis @ torch.diag_embed(spectrum.expand(B, blocks, dy)) @ basis.transpose(-1, -2)
    Q = 0.5 * (Q + Q.transpose(-1, -2))
    P = gen.normal("instance/P", 0, blocks, dy, dx) / math.sqrt(dx)
    c, b = gen.normal("instance/c", 0, blocks, dy), gen.normal("instance/b", 0, blocks, dy)
    M = torch.linalg.solve(Q, P)  # y* = M x + Q^{-1} c
    shift = torch.linalg.solve(Q, c) - b
    hessian = (M.transpose(-1, -2) @ M).sum(1) / blocks + lam * torch.eye(dx, dtype=torch.float64, device=dev)
    x_star = -torch.linalg.solve(hessian, tmatvec(M, shift).sum(1) / blocks)
    direction = gen.normal("instance/start", 0, dx)
    x0 = x_star + float(params["r0"]) * direction / direction.norm(dim=1, keepdim=True)
    inst = QuadraticBilevel(params=dict(params), batch=B, x0=x0, y0=torch.zeros(B, blocks * dy, device=dev,
                            dtype=torch.float64), sigma=float(params["sigma"]), blocks=blocks, Q=Q, P=P, c=c, b=b,
                            lam=lam, mu=mu, smoothness=mu * kappa, x_star=x_star, phi_star=torch.zeros(B))
    return dataclasses.replace(inst, phi_star=inst.phi(x_star))


def quadratic(params: Mapping[str, float], gen: Gen) -> QuadraticBilevel:
    return _quadratic(params, gen, 1)


def multiblock(params: Mapping[str, float], gen: Gen) -> QuadraticBilevel:
    return _quadratic(params, gen, int(params["m"]))
