"""Small two-layer ReLU training problems with their hyperplane-arrangement patterns (``relu-arrangements``),
shared by the convex-reformulation plugins (plugins/convex_relu.py, plugins/convex_relu_admm.py).

Each seed draws n samples with two Gaussian features and a bias column of ones, x_k = (g_k1, g_k2, 1), so
X is n x 3, and targets y: N(0, 1) for regression (the catalogue's instance, section 8), or labels
sign(x_k^T w*) for a Gaussian teacher w* for classification (``task = 1``). The patterns are the diagonals
D_i = diag(1[X g >= 0]) over directions g:

* ``patterns = 0``: every pattern of the arrangement, enumerated exactly. In R^3 every cell of the central
  arrangement of the planes x_k^T g = 0 is a pointed cone whose extreme rays lie on the lines
  r = +-(x_j x x_k) where two planes meet; next to such a ray, the other samples keep the sign they have on it
  and the two planes through it take all four sign pairs. So the 8 n (n - 1) / 2 candidates (pairs, the two
  rays, four sign pairs) hold every cell (Gaussian data is in general position with probability 1), and are
  de-duplicated per seed (P = 2 (1 + (n - 1) + (n - 1)(n - 2) / 2) for points in general position, 134 at
  n = 12). Seeds with fewer patterns than the batch's largest are padded with the all-zero pattern, whose
  block is 0 at any optimum (it predicts nothing and costs its norm), so the optimum is unchanged.
* ``patterns = P > 0``: P directions g ~ N(0, I) sampled per seed, duplicates kept: the paper's approximate
  (sampled-arrangement) formulation. A repeated pattern splits one block in two and leaves the optimum as it is.

The 0/1 masks are (batch, n, P) in the run's dtype; the data (batch, n, 3) and (batch, n).

The mode ``optimum`` (``Experiment(mode="optimum")``) builds the same instance; it tells an iterative solver
of the convex program (plugins/convex_relu_admm.py) to also solve the program exactly, so that its distance
from the optimum can be measured, which costs one interior-point solve per seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from theory import Family, Gen, Instance, Param, hookimpl


@dataclass(frozen=True, kw_only=True)
class ReluInstance(Instance):
    x: torch.Tensor      # (batch, n, 3): two features and a bias column
    y: torch.Tensor      # (batch, n): targets, or labels +-1
    masks: torch.Tensor  # (batch, n, P): D_i on the diagonal of pattern i, as columns
    beta: float          # weight decay
    eps: float           # l_inf radius of the adversary on the two features (not the bias)

    def network(self, u: torch.Tensor, a: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """sum_j (x_k^T u_j)_+ a_j for u (batch, ..., 3, m), a (batch, ..., m): shape (batch, ..., n)."""
        x = self.x if x is None else x
        x = x.view(x.shape[0], *([1] * (u.dim() - 3)), *x.shape[1:])
        return (torch.relu(x @ u) * a[..., None, :]).sum(-1)

    def penalty(self, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """(beta / 2) sum_j (||u_j||^2 + a_j^2), the non-convex program's weight decay."""
        return 0.5 * self.beta * ((u**2).sum((-2, -1)) + (a**2).sum(-1))

    def squared(self, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """The regression objective (1/2) ||f(X) - y||^2 + penalty."""
        y = self.y.view(self.y.shape[0], *([1] * (u.dim() - 3)), -1)
        return 0.5 * ((self.network(u, a) - y) ** 2).sum(-1) + self.penalty(u, a)


def all_patterns(x: torch.Tensor) -> torch.Tensor:
    """Every arrangement pattern of X (batch, n, 3), as (batch, n, P) 0/1 masks (see the module docstring)."""
    batch, n, _ = x.shape
    j, k = torch.triu_indices(n, n, 1, device=x.device)
    ray = torch.linalg.cross(x[:, j], x[:, k])                       # (batch, pairs, 3)
    side = (ray @ x.transpose(1, 2)) > 0                             # (batch, pairs, n) on +r
    candidates = []
    for flip in (False, True):
        base = side ^ flip
        for bits in ((0, 0), (0, 1), (1, 0), (1, 1)):
            c = base.clone()
            pairs = torch.arange(len(j), device=x.device)
            c[:, pairs, j], c[:, pairs, k] = bool(bits[0]), bool(bits[1])
            candidates.append(c)
    every = torch.cat(candidates, 1).to(torch.int64)                  # (batch, K, n)
    keys = (every << torch.arange(n, device=x.device)).sum(-1)       # n <= 62: one integer per pattern
    keys = keys.sort(1).values
    first = torch.ones_like(keys, dtype=torch.bool)
    first[:, 1:] = keys[:, 1:] != keys[:, :-1]
    count = int(first.sum(1).max())
    slot = torch.where(first, first.cumsum(1) - 1, count)            # duplicates go to a dropped column
    unique = torch.zeros(batch, count + 1, dtype=torch.int64, device=x.device)
    unique.scatter_(1, slot, torch.where(first, keys, 0))
    unique = unique[:, :count]
    masks = (unique[:, None, :] >> torch.arange(n, device=x.device)[None, :, None]) & 1
    return masks.to(x.dtype)


def _generate(params: Mapping[str, object], gen: Gen, mode: str | None = None) -> ReluInstance:
    """The same instance in every mode (``optimum`` is read by the algorithm, not here)."""
    n, count, dtype = int(params["n"]), int(params["patterns"]), torch.get_default_dtype()
    features = gen.normal("instance/x", 0, n, 2, dtype=dtype)
    x = torch.cat([features, torch.ones(gen.batch, n, 1, dtype=dtype, device=gen.device)], 2)
    if int(params["task"]):
        teacher = gen.normal("instance/teacher", 0, 3, dtype=dtype)
        y = torch.where((x @ teacher[:, :, None])[..., 0] >= 0, 1.0, -1.0).to(dtype)
    else:
        y = gen.normal("instance/y", 0, n, dtype=dtype)
    if not count and n > 62:
        raise ValueError(f"relu-arrangements enumerates every pattern only for n <= 62 (got n={n}): sample them")
    if count:
        masks = ((x @ gen.normal("instance/directions", 0, 3, count, dtype=dtype)) >= 0).to(dtype)
    else:
        masks = all_patterns(x)
    return ReluInstance(params=dict(params), batch=gen.batch, x=x, y=y, masks=masks, beta=float(params["beta"]),
                        eps=float(params["eps"]))


FAMILY = Family(
    name="relu-arrangements",
    description="n samples (2 Gaussian features + bias), regression or teacher-sign labels, with every "
                "hyperplane-arrangement pattern or P sampled ones",
    generate=_generate, modes=("optimum",),
    defaults={"n": 12, "patterns": 0, "task": 0, "beta": 0.1, "eps": 0.0},
    parameters={"n": Param(meaning="number of samples (at most 62 with every pattern)", low=3, high=4096, integer=True),
                "patterns": Param(meaning="0: every arrangement pattern; P > 0: P sampled ones", low=0,
                                  integer=True),
                "task": Param(meaning="0: regression, y ~ N(0, 1); 1: labels sign(x^T w*)", low=0, high=1,
                              integer=True),
                "beta": Param(meaning="weight decay of the network (beta/2 on squared weights)", low=1e-4),
                "eps": Param(meaning="l_inf radius of the adversary on the features", low=0.0, high=1.0)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [FAMILY]
