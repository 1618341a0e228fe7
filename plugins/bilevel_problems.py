"""The bilevel problems behind the families of ``plugins/bilevel_instances.py``: the oracle protocol
(``BilevelInstance``) and its four constructions, each with closed-form references (y*(x), Phi, grad Phi).

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


def _mv(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    return (matrix @ vector.unsqueeze(-1)).squeeze(-1)


def _tmv(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
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
        linear = _mv(self.P, x.unsqueeze(1).expand(-1, self.blocks, -1)) + self.c
        return (0.5 * (yb * _mv(self.Q, yb)).sum(-1) - (yb * linear).sum(-1)).sum(1) / self.blocks

    def _upper_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        return self.lam * x, (y - self.b.flatten(1)) / self.blocks

    def _lower_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        yb = self._split(y)
        gy = _mv(self.Q, yb) - _mv(self.P, x.unsqueeze(1).expand(-1, self.blocks, -1)) - self.c
        return -_tmv(self.P, yb).sum(1) / self.blocks, gy.flatten(1) / self.blocks

    def _lower_hvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return _mv(self.Q, self._split(v)).flatten(1) / self.blocks

    def _cross_jvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return -_tmv(self.P, self._split(v)).sum(1) / self.blocks

    def _lower_solve(self, x: torch.Tensor, y: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve(self.Q, self._split(rhs)).flatten(1) * self.blocks

    def lower_solution(self, x: torch.Tensor) -> torch.Tensor:
        linear = _mv(self.P, x.unsqueeze(1).expand(-1, self.blocks, -1)) + self.c
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
        gy = _mv(Q, yb) - _mv(P, x.unsqueeze(1).expand(-1, idx.shape[1], -1)) - self._take(self.c, idx)
        return self._noisy("block_lower_grad", (-_tmv(P, yb), gy), gen, t, stream)

    def block_lower_hvp(self, x: torch.Tensor, yb: torch.Tensor, idx: torch.Tensor, v: torch.Tensor,
                        gen: Gen | None = None, t: int = 0, stream: str = "") -> torch.Tensor:
        """grad^2_yy g_i v_i per sampled block, v (batch, I, dy)."""
        return self._noisy("block_lower_hvp", _mv(self._take(self.Q, idx), v), gen, t, stream)

    def block_cross_jvp(self, x: torch.Tensor, yb: torch.Tensor, idx: torch.Tensor, v: torch.Tensor,
                        gen: Gen | None = None, t: int = 0, stream: str = "") -> torch.Tensor:
        """grad^2_xy g_i v_i per sampled block: (batch, I, dx)."""
        return self._noisy("block_cross_jvp", -_tmv(self._take(self.P, idx), v), gen, t, stream)


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
    x_star = -torch.linalg.solve(hessian, _tmv(M, shift).sum(1) / blocks)
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


@dataclass(frozen=True, kw_only=True)
class HyperparamBilevel(BilevelInstance):
    """Per-feature ridge weights exp(x_j) learned on validation data (dx = dy = d, y = the regression weights):
    g(x, w) = 1/(2n) ||A w - b||^2 + 1/2 sum_j exp(x_j) w_j^2,
    f(x, w) = 1/(2 n_val) ||A_val w - b_val||^2 + reg/2 ||x||^2 (reg > 0 makes Phi coercive: without it grad Phi
    also vanishes as x -> +-infinity, so ||grad Phi|| -> 0 would not mean that x settles).
    Stored by sufficient statistics: G = A'A/n, r = A'b/n (and the validation's Gv, rv, cv = ||b_val||^2/2n_val)."""

    G: torch.Tensor   # (batch, d, d)
    r: torch.Tensor   # (batch, d)
    e: torch.Tensor   # (batch,) ||b||^2 / 2n
    Gv: torch.Tensor  # (batch, d, d)
    rv: torch.Tensor  # (batch, d)
    cv: torch.Tensor  # (batch,)
    g_range: torch.Tensor  # (batch, 2) smallest and largest eigenvalue of G
    gv_top: torch.Tensor   # (batch,) largest eigenvalue of Gv
    reg: float

    def upper_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 0.5 * (y * _mv(self.Gv, y)).sum(1) - (y * self.rv).sum(1) + self.cv + 0.5 * self.reg * (x * x).sum(1)

    def lower_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 0.5 * (y * _mv(self.G, y)).sum(1) - (y * self.r).sum(1) + self.e + 0.5 * (x.exp() * y * y).sum(1)

    def _upper_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        return self.reg * x, _mv(self.Gv, y) - self.rv

    def _lower_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        return 0.5 * x.exp() * y * y, _mv(self.G, y) - self.r + x.exp() * y

    def _lower_hvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return _mv(self.G, v) + x.exp() * v

    def _cross_jvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return x.exp() * y * v

    def _hessian(self, x: torch.Tensor) -> torch.Tensor:
        return self.G + torch.diag_embed(x.exp())

    def _lower_solve(self, x: torch.Tensor, y: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve(self._hessian(x), rhs)

    def lower_solution(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve(self._hessian(x), self.r)

    def lower_mu(self, x: torch.Tensor) -> torch.Tensor:
        """A lower bound on the strong convexity of g(x, .): lambda_min(G) + min_j exp(x_j)."""
        return self.g_range[:, 0] + x.exp().min(1).values

    def lower_smoothness(self, x: torch.Tensor) -> torch.Tensor:
        return self.g_range[:, 1] + x.exp().max(1).values

    def upper_smoothness_y(self, x: torch.Tensor) -> torch.Tensor:
        return self.gv_top


def hyperparam(params: Mapping[str, float], gen: Gen) -> HyperparamBilevel:
    d, n, nv = int(params["d"]), int(params["n_train"]), int(params["n_val"])
    if n <= d:
        raise ValueError(f"need n_train > d so that g is strongly convex for every x, got n_train={n}, d={d}")
    relevant = torch.arange(d, device=gen.device) < math.ceil(float(params["relevant"]) * d)
    truth = gen.normal("instance/truth", 0, d) * relevant
    noise = float(params["label_noise"])
    stats = []
    for name, rows in (("train", n), ("val", nv)):
        A = gen.normal(f"instance/{name}/A", 0, rows, d)
        b = _mv(A, truth) + noise * gen.normal(f"instance/{name}/noise", 0, rows)
        stats.append((A.transpose(1, 2) @ A / rows, _tmv(A, b) / rows, (b * b).sum(1) / (2 * rows)))
    (G, r, e), (Gv, rv, cv) = stats
    spectrum, top_v = torch.linalg.eigvalsh(G), torch.linalg.eigvalsh(Gv)[:, -1]
    x0 = torch.full((gen.batch, d), float(params["x0"]), dtype=torch.float64, device=gen.device)
    return HyperparamBilevel(params=dict(params), batch=gen.batch, x0=x0, y0=torch.zeros_like(x0),
                             sigma=float(params["sigma"]), G=G, r=r, e=e, Gv=Gv, rv=rv, cv=cv,
                             g_range=spectrum[:, [0, -1]], gv_top=top_v, reg=float(params["reg"]))


@dataclass(frozen=True, kw_only=True)
class UnboundedBilevel(BilevelInstance):
    """f(x, y) = sum_j cosh(x_j - c_j) + <w, tanh y> ((L0, L1)-smooth in x: cosh'' <= 1 + |cosh'|, and
    ||grad_y f|| <= ||w||), g(x, y) = 1/2 ||y - A x||^2 + mu/2 ||y||^2, so y*(x) = A x / (1 + mu)."""

    A: torch.Tensor  # (batch, dy, dx)
    c: torch.Tensor  # (batch, dx)
    w: torch.Tensor  # (batch, dy)
    mu: float

    def upper_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cosh(x - self.c).sum(1) + (self.w * torch.tanh(y)).sum(1)

    def lower_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((y - _mv(self.A, x)) ** 2).sum(1) + 0.5 * self.mu * (y * y).sum(1)

    def _upper_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        return torch.sinh(x - self.c), self.w / torch.cosh(y) ** 2

    def _lower_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        residual = y - _mv(self.A, x)
        return -_tmv(self.A, residual), residual + self.mu * y

    def _lower_hvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return (1 + self.mu) * v

    def _cross_jvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return -_tmv(self.A, v)

    def _lower_solve(self, x: torch.Tensor, y: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
        return rhs / (1 + self.mu)

    def lower_solution(self, x: torch.Tensor) -> torch.Tensor:
        return _mv(self.A, x) / (1 + self.mu)

    def lower_mu(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0],), 1 + self.mu, dtype=x.dtype, device=x.device)

    lower_smoothness = lower_mu

    def upper_smoothness_y(self, x: torch.Tensor) -> torch.Tensor:
        """|tanh'''| <= 4 / (3 sqrt 3): the Lipschitz constant of grad_y f = w sech^2(y)."""
        return 4 / (3 * math.sqrt(3)) * self.w.abs().max(1).values


def unbounded(params: Mapping[str, float], gen: Gen) -> UnboundedBilevel:
    dx, dy = int(params["dx"]), int(params["dy"])
    A = gen.normal("instance/A", 0, dy, dx) / math.sqrt(dx)
    c = gen.normal("instance/c", 0, dx)
    w = float(params["w"]) * gen.normal("instance/w", 0, dy) / math.sqrt(dy)
    return UnboundedBilevel(params=dict(params), batch=gen.batch, x0=c + float(params["r0"]),
                            y0=torch.zeros(gen.batch, dy, dtype=torch.float64, device=gen.device),
                            sigma=float(params["sigma"]), A=A, c=c, w=w, mu=float(params["mu"]))


@dataclass(frozen=True, kw_only=True)
class ConstrainedBilevel(BilevelInstance):
    """LV-HBA's LLC toy (y = (y1, y2), each of dimension n = dx):
    F(x, y) = 1/2 ||x - y2||^2 + 1/2 ||y1 - 1||^2 (upper), f(x, y) = 1/2 ||y1 - x||^2 - 1/2 ||x||^2 + sum y2
    (lower, not strongly convex), subject to the coupled constraint h(x, y) = sum x + sum y1 + sum y2 = 0.
    S(x) = {y1 = x + 1, sum y2 = -2 sum x - n}; the optimistic value function is
    Phi(x) = min_{y in S(x)} F = 1/2 ||x||^2 + (3 sum x + n)^2 / (2n), minimised at x* = -0.3,
    y1* = 0.7, y2* = -0.4 (every coordinate), Phi* = 0.05 n. ``hypergrad`` is grad Phi (the lower level has a
    singular Hessian, so the implicit-function formula does not apply)."""

    n: int
    x_star: torch.Tensor  # (batch, n)
    y_star: torch.Tensor  # (batch, 2n)
    phi_star: torch.Tensor  # (batch,)
    equality: bool = True  # the constraint is h = 0 (not h <= 0)

    def _parts(self, y: torch.Tensor) -> Pair:
        return y[:, : self.n], y[:, self.n:]

    def upper_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y1, y2 = self._parts(y)
        return 0.5 * ((x - y2) ** 2).sum(1) + 0.5 * ((y1 - 1) ** 2).sum(1)

    def lower_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y1, y2 = self._parts(y)
        return 0.5 * ((y1 - x) ** 2).sum(1) - 0.5 * (x * x).sum(1) + y2.sum(1)

    def _upper_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        y1, y2 = self._parts(y)
        return x - y2, torch.cat([y1 - 1, y2 - x], 1)

    def _lower_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        y1, y2 = self._parts(y)
        return -y1, torch.cat([y1 - x, torch.ones_like(y2)], 1)

    def _lower_hvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        v1, v2 = self._parts(v)
        return torch.cat([v1, torch.zeros_like(v2)], 1)

    def _cross_jvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return -self._parts(v)[0]

    def constraint(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """h(x, y), shape (batch, 1) (one constraint)."""
        return (x.sum(1) + y.sum(1))[:, None]

    def constraint_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        """(grad_x h, grad_y h): (batch, 1, dx), (batch, 1, dy)."""
        return torch.ones_like(x)[:, None], torch.ones_like(y)[:, None]

    def project(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        """The Euclidean projection of (x, y) onto {h(x, y) = 0}."""
        excess = self.constraint(x, y) / (x.shape[1] + y.shape[1])
        return x - excess, y - excess

    def lower_solution(self, x: torch.Tensor) -> torch.Tensor:
        """The optimistic selection argmin_{y in S(x)} F(x, y)."""
        total = x.sum(1, keepdim=True)
        return torch.cat([x + 1, x - (3 * total + self.n) / self.n], 1)

    def hypergrad(self, x: torch.Tensor) -> torch.Tensor:
        return x + 3 * (3 * x.sum(1, keepdim=True) + self.n) / self.n

    def lower_mu(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)

    def lower_smoothness(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ones(x.shape[0], dtype=x.dtype, device=x.device)

    upper_smoothness_y = lower_smoothness


def constrained(params: Mapping[str, float], gen: Gen) -> ConstrainedBilevel:
    n, B = int(params["n"]), gen.batch
    x0 = float(params["r0"]) * gen.normal("instance/start", 0, n)
    x_star = torch.full((B, n), -0.3, dtype=torch.float64, device=gen.device)
    y_star = torch.cat([x_star + 1, x_star - 0.1], 1)
    return ConstrainedBilevel(params=dict(params), batch=B, x0=x0, y0=torch.zeros(B, 2 * n, dtype=torch.float64,
                              device=gen.device), sigma=float(params["sigma"]), n=n, x_star=x_star, y_star=y_star,
                              phi_star=torch.full((B,), 0.05 * n, dtype=torch.float64, device=gen.device))
