"""The hyper-parameter learning, unbounded-smoothness and coupled-constraint bilevel problems of
``plugins/bilevel_instances.py``, on the protocol of ``plugins/bilevel_problems.py``, each with closed-form
references (y*(x), Phi, grad Phi)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from plugins.bilevel_problems import BilevelInstance, Pair, matvec, tmatvec
from theory import Gen


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
        return 0.5 * (y * matvec(self.Gv, y)).sum(1) - (y * self.rv).sum(1) + self.cv + 0.5 * self.reg * (x * x).sum(1)

    def lower_value(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 0.5 * (y * matvec(self.G, y)).sum(1) - (y * self.r).sum(1) + self.e + 0.5 * (x.exp() * y * y).sum(1)

    def _upper_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        return self.reg * x, matvec(self.Gv, y) - self.rv

    def _lower_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        return 0.5 * x.exp() * y * y, matvec(self.G, y) - self.r + x.exp() * y

    def _lower_hvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return matvec(self.G, v) + x.exp() * v

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
        b = matvec(A, truth) + noise * gen.normal(f"instance/{name}/noise", 0, rows)
        stats.append((A.transpose(1, 2) @ A / rows, tmatvec(A, b) / rows, (b * b).sum(1) / (2 * rows)))
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
        return 0.5 * ((y - matvec(self.A, x)) ** 2).sum(1) + 0.5 * self.mu * (y * y).sum(1)

    def _upper_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        return torch.sinh(x - self.c), self.w / torch.cosh(y) ** 2

    def _lower_grad(self, x: torch.Tensor, y: torch.Tensor) -> Pair:
        residual = y - matvec(self.A, x)
        return -tmatvec(self.A, residual), residual + self.mu * y

    def _lower_hvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return (1 + self.mu) * v

    def _cross_jvp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return -tmatvec(self.A, v)

    def _lower_solve(self, x: torch.Tensor, y: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
        return rhs / (1 + self.mu)

    def lower_solution(self, x: torch.Tensor) -> torch.Tensor:
        return matvec(self.A, x) / (1 + self.mu)

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
