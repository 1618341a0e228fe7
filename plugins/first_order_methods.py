"""Gradient descent and Nesterov's fast gradient method on L-smooth convex functions, checked two ways: by
sampling on random convex quadratics (the ``convex-quadratic`` family below) and by worst-case certificates
over the whole class through performance estimation (``theorycheck certify``, docs/certificates.md).

Papers and the claims they state, for f L-smooth and convex with minimiser x*, R = ||x_0 - x*||:
- GD, x_{k+1} = x_k - (h / L) grad f(x_k) with h = 1: Drori and Teboulle, "Performance of first-order methods
  for smooth convex minimization: a novel approach", Math. Programming 145, 2014 (arXiv 1206.3209), Theorem
  3.1: f(x_N) - f* <= L R^2 / (4N + 2), attained by a Huber-like function (so the bound is exact).
- Nesterov's method in the form of Beck and Teboulle, "A Fast Iterative Shrinkage-Thresholding Algorithm for
  Linear Inverse Problems", SIAM J. Imaging Sciences 2(1), 2009, Theorem 4.4 (no proximal term):
      x_k = y_k - (1/L) grad f(y_k),  t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2,
      y_{k+1} = x_k + ((t_k - 1) / t_{k+1}) (x_k - x_{k-1}),   y_1 = x_0, t_1 = 1,
  with f(x_N) - f* <= 2 L R^2 / (N + 1)^2.
Each claim is stated twice: the explicit bound (``bound``, certified exactly by PEP for the horizons checked)
and its rate (``rate``: O(1/N) for GD, O(1/N^2) for Nesterov, with a free constant, sampled only).

The family. f(x) = (1/2) sum_i lam_i (x_i - x*_i)^2 in d dimensions: GD and Nesterov commute with rotations
and translations, so a diagonal Hessian and x* = 0 lose nothing. The eigenvalues are lam_i = mu + (L - mu) s_i
with s_i = lo + (hi - lo) u_i^p, u_i uniform per seed and coordinate, [lo, hi] the band between ``a`` and ``b``;
x_0 = R z / ||z|| with z standard normal. p = 2 (the default) puts many eigenvalues near 0, where first-order
methods are slow: GD's mean gap then decays like N^(-1.5) and Nesterov's like N^(-3) or faster, so the two
rate claims separate the methods (a uniform spectrum, p = 1, makes GD decay like N^(-2) and look accelerated).
Quadratics are a small corner of the class: their worst case for GD is about L R^2 / (2e(2N + 1)), well under
the class's L R^2 / (4N + 2), which is why sampling cannot show that a bound is tight and PEP can.

Mutants and null learners (the instance is fixed, so their effect is known in advance):
- ``decaying-step`` (h / k, a subgradient schedule left on a smooth method; both methods): on eigenvalue lam
  GD's error shrinks like k^(-lam/L), a logarithmic rate: breaks ``bound`` and ``rate``.
- Nesterov ``no-momentum`` (beta = 0: plain GD, N^(-1.5) here) breaks ``rate``; ``momentum-one`` (beta = 1:
  the iterates spiral at radius (1 - h lam / L)^(k/2)) breaks ``rate``. Sampling does not catch
  ``momentum-one`` on ``bound``: declared as breaking it before the first run, it measured mean/bound 0.86 at
  N = 256 (rising from 0.15 at N = 4), under the bound on this grid; the worst case over the class does break
  it (``theorycheck certify 'nesterov[momentum-one]'``), which is what a certificate adds. It stays declared
  on ``bound``, as a declared miss (``Mutant.missed``) that the audit reports.
- Null ``frozen`` (never moves: the gap stays at f(x_0)) must fail every claim of both methods.

Departures: none in the updates. Metrics are measured in float64.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Algorithm, Claim, Experiment, Family, Gen, Instance, Mutant, Paper, Param, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]

DROR = Paper(title="Performance of first-order methods for smooth convex minimization: a novel approach",
             authors="Drori, Teboulle", year=2014, arxiv="1206.3209")
BECK = Paper(title="A Fast Iterative Shrinkage-Thresholding Algorithm for Linear Inverse Problems",
             authors="Beck, Teboulle", year=2009)


@dataclass(frozen=True, kw_only=True)
class QuadraticInstance(Instance):
    eigenvalues: torch.Tensor  # (batch, d): the Hessian's diagonal; the minimiser is 0
    start: torch.Tensor  # (batch, d): x_0
    smoothness: float  # L

    def gradient(self, x: torch.Tensor) -> torch.Tensor:
        return self.eigenvalues * x

    def gap(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) - f*."""
        return 0.5 * (self.eigenvalues * x**2).sum(1)


def _generate(params: Mapping[str, object], gen: Gen) -> QuadraticInstance:
    d, smooth, mu, radius = int(params["d"]), float(params["L"]), float(params["mu"]), float(params["R"])
    if not 0 <= mu <= smooth:
        raise ValueError(f"need 0 <= mu <= L, got mu={mu}, L={smooth}")
    low, high = sorted((float(params["a"]), float(params["b"])))
    share = low + (high - low) * gen.uniform("instance/spectrum", 0, d) ** float(params["p"])
    direction = gen.normal("instance/start", 0, d)
    start = radius * direction / direction.norm(dim=1, keepdim=True)
    return QuadraticInstance(params=dict(params), batch=gen.batch, eigenvalues=mu + (smooth - mu) * share,
                             start=start, smoothness=smooth)


FAMILY = Family(
    name="convex-quadratic", generate=_generate,
    description="(1/2) sum_i lam_i x_i^2, lam_i in [mu, L] drawn per seed, ||x_0 - x*|| = R",
    defaults={"d": 64, "L": 1.0, "mu": 0.0, "R": 1.0, "a": 0.0, "b": 1.0, "p": 2.0},
    parameters={"d": Param(meaning="dimension", low=1, high=512, integer=True),
                "L": Param(meaning="smoothness: the largest eigenvalue allowed", low=1e-2, high=1e2),
                "mu": Param(meaning="strong convexity: the smallest eigenvalue allowed (at most L)", low=0, high=1e2),
                "R": Param(meaning="distance from x_0 to the minimiser", low=1e-2, high=1e2),
                "a": Param(meaning="one end of the spectrum's band, as a share of [mu, L]", low=0, high=1),
                "b": Param(meaning="the other end of the band", low=0, high=1),
                "p": Param(meaning="skew: shares lo + (hi - lo) u^p, larger p puts more near lo", low=1, high=8)})


def _step_size(hyper: Hyper, k: int) -> float:
    """h (in units of 1/L) at step k."""
    return hyper["h"] / k if hyper["decay"] else hyper["h"]


def gd_init(instance: QuadraticInstance, hyper: Hyper, gen: Gen) -> State:
    return {"x": instance.start}


def gd_step(state: State, instance: QuadraticInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return {"x": state["x"] - _step_size(hyper, t) / instance.smoothness * instance.gradient(state["x"])}


def gd_pep(problem: Any, f: Any, x0: Any, xs: Any, n: int, hyper: Hyper) -> dict[str, Any]:
    """The same N steps in PEPit's terms."""
    x = x0
    for k in range(1, n + 1):
        x = x - _step_size(hyper, k) / f.L * f.gradient(x)
    return {"gap": f(x) - f(xs)}


def _momentum(hyper: Hyper, t: float) -> tuple[float, float]:
    """(beta_k, t_{k+1}) from t_k: the FISTA sequence unless ``beta`` fixes the momentum."""
    following = (1 + math.sqrt(1 + 4 * t * t)) / 2
    return ((t - 1) / following if hyper["beta"] is None else hyper["beta"]), following


def fgm_init(instance: QuadraticInstance, hyper: Hyper, gen: Gen) -> State:
    return {"x": instance.start, "y": instance.start, "t": torch.ones(instance.batch)}


def fgm_step(state: State, instance: QuadraticInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    y = state["y"]
    x = y - _step_size(hyper, t) / instance.smoothness * instance.gradient(y)
    beta, following = _momentum(hyper, float(state["t"][0]))
    return {"x": x, "y": x + beta * (x - state["x"]), "t": torch.full_like(state["t"], following)}


def fgm_pep(problem: Any, f: Any, x0: Any, xs: Any, n: int, hyper: Hyper) -> dict[str, Any]:
    x, y, t = x0, x0, 1.0
    for k in range(1, n + 1):
        previous, x = x, y - _step_size(hyper, k) / f.L * f.gradient(y)
        beta, t = _momentum(hyper, t)
        y = x + beta * (x - previous)
    return {"gap": f(x) - f(xs)}


def frozen_step(state: State, instance: QuadraticInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """A null learner: never moves."""
    return state


@measures("gap")
def metrics(state: State, instance: QuadraticInstance) -> dict[str, torch.Tensor]:
    return {"gap": instance.gap(state["x"])}


# Chosen before any run: horizons from 4 to 256 (1.8 decades), the family's defaults (d = 64, p = 2), 200
# seeds. A run is a few hundred small tensor steps, so the quick run uses the full grid.
GRID = (4, 8, 16, 32, 64, 128, 256)
EXPERIMENT = Experiment(family="convex-quadratic", over="N", params={"L": 1.0, "R": 1.0}, grid=GRID, seeds=200)
DECAYING = Mutant(name="decaying-step", bug="step h/(L k), a subgradient schedule, instead of h/L",
                  breaks=("bound", "rate"), hyper={"decay": True})
FROZEN = Mutant(name="frozen", bug="never moves: x_N = x_0", breaks=("bound", "rate"), step=frozen_step)


def _claims(bound: str, rate: str, source: str) -> tuple[Claim, ...]:
    return (Claim(name="bound", metric="gap", kind="upper", form=bound, free=(), source=source,
                  experiment=EXPERIMENT),
            Claim(name="rate", metric="gap", kind="upper", form=rate, source=source, experiment=EXPERIMENT))


GD = Algorithm(
    name="gd", paper=DROR, family="convex-quadratic", init=gd_init, step=gd_step, metrics=metrics,
    hyper={"h": 1.0, "decay": False}, pep=gd_pep,
    claims=_claims("L*R**2/(4*N+2)", "C*L*R**2/N", "Theorem 3.1"),
    mutants=(DECAYING,),
    nulls=(FROZEN,),
)

NESTEROV = Algorithm(
    name="nesterov", paper=BECK, family="convex-quadratic", init=fgm_init, step=fgm_step, metrics=metrics,
    hyper={"h": 1.0, "decay": False, "beta": None}, pep=fgm_pep,
    claims=_claims("2*L*R**2/(N+1)**2", "C*L*R**2/N**2", "Theorem 4.4"),
    mutants=(Mutant(name="no-momentum", bug="momentum 0: plain gradient descent", breaks=("rate",),
                    hyper={"beta": 0.0}),
             Mutant(name="momentum-one", bug="momentum 1 instead of (t_k - 1) / t_{k+1}", breaks=("rate", "bound"),
                    hyper={"beta": 1.0},
                    missed={"bound": "PASSes by sampling at 0.86 [0.76, 0.97] of the bound (N = 256, rising); "
                                     "the PEP certificate refutes it (worst case 0.346 > 0.08 at N = 4)"}),
             DECAYING),
    nulls=(FROZEN,),
)


@hookimpl
def theorycheck_families() -> list[Family]:
    return [FAMILY]


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [GD, NESTEROV]
