"""A smooth nonconvex finite sum distributed over workers, for private distributed optimisation (DIFF2).

``robust-regression``: P nodes, node p holds n records z = (a, b) and the loss is the robust (Cauchy-type)
regression loss plus a pseudo-Huber ridge

    l(x; (a, b)) = log(1 + (a.x - b)^2 / 2) + mu (sqrt(1 + ||x||^2) - 1),
    f = (1/P) sum_p f_p,    f_p = mean of l over node p's records.

With rho(r) = log(1 + r^2/2): |rho'| <= 1/sqrt(2) and |rho''| <= 1, and the ridge has gradient norm <= mu and
Hessian <= mu I, so every l is L-smooth with L = scale^2 + mu and has gradients of norm at most G = scale /
sqrt(2) + mu, where ``scale`` = ||a|| for every record. rho is concave for |r| > sqrt(2), so f is nonconvex;
20% of each node's labels are gross outliers. The ridge (``ridge`` = mu) is there for the gradient-norm
metric: rho' decays like 1/r, so without it ||grad f|| -> 0 far from the data and noise that throws x far away
would look like progress towards a stationary point; with it ||grad f|| tends to mu there.

Node p's n records are ``m`` base records, each repeated n / m times (n must be a multiple of m). So f is the
same function at every n and only what depends on n as a sample size (the sensitivity of a mean, hence the
privacy noise) changes along an ``n`` grid; gradients cost O(P m d) per seed whatever n. The base records
differ per seed (streams ``instance/...``): features uniform on the sphere of radius ``scale``, labels
a.x_p + N(0, 0.1^2) around node-specific optima x_p = x* + 0.3 N(0, I/d) with ||x*|| = 1, outliers uniform in
[-bmax, bmax], every label clipped to [-bmax, bmax]. Since l >= 0 and the ridge is 0 at 0, f(0) - inf f <=
``gap`` = log(1 + bmax^2/2) for every seed: the instance's known bound on the initial suboptimality.

The mode ``audit`` (``Experiment(mode="audit")``) makes the instance an audit pair instead (docs/privacy.md):
node 0's dataset D holds n - 1 null records (a = 0: zero gradient everywhere) and the canary z+ = (A e1, -0.5);
its neighbour D' replaces the canary with z- = (A e1, 4). On the path x_r = r h e1 with A h R <= 1/2 the
residuals of z+ stay in [0.5, 1] and those of z- in [-4, -3.5], where rho' and rho'' keep opposite signs for the
two records: with A = 12 their gradients exceed any clip radius up to 5 and their gradient differences exceed
C2 ||x_r - x_{r-1}|| for any C2 <= 12, so after clipping they point in opposite directions and every release moves by
twice the clip radius over n: the replace-one sensitivity. The audit pair has no ridge (it would add the same
vector on D and D'). ``eps`` and ``delta`` are the budget the experiment asks a mechanism to meet; the family
never reads them.

Registered by ``plugins/diff2.py``, its only user (docs/families/robust-regression.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Family, Gen, Instance, Param

CANARY_SCALE = 12.0
CANARY_LABELS = (-0.5, 4.0)  # z+ and z-: residual ranges [0.5, 1] and [-4, -3.5] on the audit path


def rho_prime(r: torch.Tensor) -> torch.Tensor:
    """d/dr log(1 + r^2/2)."""
    return r / (1 + 0.5 * r.square())


@dataclass(frozen=True, kw_only=True)
class RegressionInstance(Instance):
    a: torch.Tensor  # (batch, P, m, d) base features; audit: (batch, 2, 1, d), z+ and z-
    b: torch.Tensor  # (batch, P, m) base labels; audit: (batch, 2, 1)
    n: int           # records per node
    eps: float
    delta: float
    scale: float     # ||a|| of every record (utility instances)
    ridge: float     # mu: weight of the pseudo-Huber ridge in every loss (0 on the audit pair)
    gap: float       # f(0) - inf f <= gap

    @property
    def smooth(self) -> float:
        """L: every loss is L-smooth."""
        return self.scale**2 + self.ridge

    @property
    def lipschitz(self) -> float:
        """G: every per-sample gradient has norm at most G."""
        return self.scale / math.sqrt(2) + self.ridge

    def sample_grads(self, x: torch.Tensor) -> torch.Tensor:
        """Per-base-record gradients at points x of shape (batch, *lead, d): shape (batch, *lead, P, m, d).

        Several points (a leading axis) share one call: a step that needs the gradients at two iterates pays
        torch's per-operation overhead once."""
        lead = (1,) * (x.ndim - 2)
        a = self.a.view(self.a.shape[0], *lead, *self.a.shape[1:]) if lead else self.a
        b = self.b.view(self.b.shape[0], *lead, *self.b.shape[1:]) if lead else self.b
        xs = x[..., None, None, :]
        r = (a * xs).sum(-1) - b
        grads = rho_prime(r).unsqueeze(-1) * a
        if self.ridge:
            grads = grads + xs * (self.ridge * torch.rsqrt(1 + xs.square().sum(-1, keepdim=True)))
        return grads

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """The exact gradient of f at x (batch, *lead, d)."""
        return self.sample_grads(x).mean(dim=(-3, -2))


def _generate(params: Mapping[str, Any], gen: Gen, mode: str | None = None) -> RegressionInstance:
    d, nodes, m, n = int(params["d"]), int(params["P"]), int(params["m"]), int(params["n"])
    scale, bmax = float(params["scale"]), float(params["bmax"])
    if n < m or n % m:
        raise ValueError(f"robust-regression needs n a multiple of m, got n={n}, m={m}")
    common: dict[str, Any] = dict(params=dict(params), batch=gen.batch, n=n, eps=float(params["eps"]),
                                  delta=float(params["delta"]), scale=scale, gap=math.log(1 + bmax**2 / 2))
    if mode == "audit":
        common["ridge"] = 0.0
        a = torch.zeros(gen.batch, 2, 1, d, device=gen.device)
        a[..., 0] = CANARY_SCALE
        b = torch.tensor(CANARY_LABELS, device=gen.device).expand(gen.batch, 2)[..., None]
        return RegressionInstance(**common, a=a, b=b.clone())
    a = gen.normal("instance/a", 0, nodes, m, d)
    a = scale * a / a.norm(dim=-1, keepdim=True)
    star = gen.normal("instance/x", 0, d)
    star = star / star.norm(dim=-1, keepdim=True)
    local = star[:, None, :] + 0.3 * gen.normal("instance/shift", 0, nodes, d) / math.sqrt(d)
    b = torch.einsum("bpmd,bpd->bpm", a, local) + 0.1 * gen.normal("instance/noise", 0, nodes, m)
    outlier = gen.uniform("instance/outlier", 0, nodes, m) < 0.2
    b = torch.where(outlier, bmax * (2 * gen.uniform("instance/junk", 0, nodes, m) - 1), b).clamp(-bmax, bmax)
    return RegressionInstance(**common, a=a, b=b, ridge=float(params["ridge"]))


REGRESSION = Family(name="robust-regression",
                    description="robust nonconvex regression log(1 + (a.x - b)^2 / 2) over P nodes of n records",
                    generate=_generate, modes=("audit",),
                    defaults={"d": 10, "P": 4, "m": 16, "n": 256, "scale": 3.0, "bmax": 4.0, "ridge": 0.25, "eps": 1.0,
                              "delta": 1e-5},
                    parameters={"d": Param(meaning="dimension", low=1, integer=True),
                                "P": Param(meaning="nodes", low=1, integer=True),
                                "m": Param(meaning="base records per node (n must be a multiple)", low=1, integer=True),
                                "n": Param(meaning="records per node", low=1, integer=True),
                                "scale": Param(meaning="norm of every feature vector", low=0),
                                "bmax": Param(meaning="labels clipped to [-bmax, bmax]", low=0),
                                "ridge": Param(meaning="pseudo-Huber ridge mu", low=0),
                                "eps": Param(meaning="privacy budget the algorithm must meet", low=0),
                                "delta": Param(meaning="privacy budget's delta", low=0, high=1)})
