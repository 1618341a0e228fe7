"""ADMM for the convex two-layer ReLU program, vectorised over seeds: Bai, Gautam, Sojoudi, "Efficient Global
Optimization of Two-layer ReLU Networks: Quadratic-time Algorithms and Adversarial Training" (arXiv
2201.01965), Algorithm 3.1 as the catalogue reads it from zachary-shah/admmNN (shared/claims/optimization.md,
section 8). The program and the exact solver: plugins/convex_relu.py; the data: plugins/relu_arrangements.py.

With u = (v_1..v_P, w_1..w_P) (k = 6 P numbers: three coordinates per block), F u = sum_i D_i X (v_i - w_i),
G u the stack of E_i X v_i and E_i X w_i (E_i = 2 D_i - I), the program is
min (1/2) ||F u - y||^2 + beta sum ||blocks of v|| + [s >= 0] subject to u = v, G u = s, and one iteration is

    u   <- (F^T F + rho I + rho G^T G)^{-1} (F^T y + rho (v - lam) + rho G^T (s - nu))   (Cholesky factor, once)
    v   <- group soft-threshold(u + lam, beta / rho)
    s   <- max(0, G u + nu)                                                           (projection on s >= 0)
    lam <- lam + (u - v),   nu <- nu + (G u - s).

G^T G is block diagonal with blocks X^T E_i^2 X = X^T X, so the matrix is built without G. rho = 1.

Claims, regime chosen before running:
- ``admm-linear`` (abstract and Section 3: "linear global convergence", C8.1): the primal residual
  ||u - v|| + ||G u - s|| + ||(G u)_-|| (the last term: how far the cones are from holding) decays at least
  like 0.999^t (the paper gives no constant: 0.999 is ours, a log-contraction of 1e-3 per iteration) on
  t in [300, 1800], n = 12 samples, P = 16 sampled patterns, beta = 0.1. An expected failure: the residual
  decelerates over the window (mean 1.7e-3 at t = 300, 1.3e-4 at 1200, 6.4e-5 at 1800; per 300 steps the
  factor goes from 0.9959 to 0.9993), so the fitted factor on [1200, 1800] sits on the claimed 0.999 and no
  seed count decides it (see ``LINEAR_REASON``). The ADMM itself is right: it reaches cvxpy's optimum to 1e-3
  within 3000 iterations (tests/test_convex_relu.py); the linear phase the paper proves starts later, or is
  slower, than this window.
- ``admm-optimum`` (abstract: the ADMM "solves both the exact convex formulation and the approximate
  counterpart", one of two algorithms "with global convergence guarantees", C8.1): the iterate v_t converges to
  an optimum of the program it runs on, here the sampled one. Metric: gap_t = |f(v_t) - p*| / (1 + p*) +
  ||(G v_t)_-||, f the program's objective, p* Clarabel's optimum of the same program (plugins/convex_relu.py,
  tolerances 1e-8), the second term how far v_t is from the cones; it is 0 exactly when v_t is an optimal
  solution. Claimed: gap_t = O(1/t), an upper rate, on the instance, grid and seeds of ``admm-linear`` (in the
  family's mode ``optimum``: the same instance, plus one Clarabel solve per seed in ``init``; both claims then
  share one run). Chosen before running: the paper's linear rate implies every power of 1/t; 1/t is ADMM's
  classical rate on any convex program (He and Yuan 2012, ergodic), so it asks for convergence to the
  optimum without depending on when the linear phase starts. Outside the mode the gap is not measured and
  reads 0. Measured: PASS, exponent -1.683 [-2.353, -1.013] on t in [1200, 1800] against the threshold -0.931
  (full; mean gap 0.0199 at t = 300, 0.00128 at 1800), -1.551 [-2.094, -1.008] on [600, 900] (quick, also 16
  seeds). On the edge for other seed sets: base seeds 100 and 200 PASS (full: -2.078 [-2.782, -1.374],
  -1.270 [-1.591, -0.949]) and 300 is INCONCLUSIVE (-1.857 [-3.481, -0.234]); quick, 100 and 200 are
  INCONCLUSIVE (-1.461 [-2.012, -0.910], -1.126 [-1.561, -0.691]) and 300 PASSes. The mean is carried by slow
  seeds: at base 300, seed 308's gap goes 3.7e-3 -> 1.2e-3 over [300, 1800] (exponent -0.8 at the end) and
  reaches Clarabel's floor (2e-9) only by t = 7200; seed 309 is still 3.3e-6 above p* at t = 40000 (its
  objective still falling, primal residual 1.7e-8; 13 distinct patterns of 16). No FAIL at any of these.
- ``quadratic-iteration`` (abstract: "the per-iteration time complexity is quadratic" for the approximate
  formulation, C8.2): the floating-point operations of one iteration grow like Theta(n^2) with P = n / 2
  sampled patterns (our reading [R]: the sampled formulation takes P_s of order n; the cached factor makes an
  iteration two triangular solves, 2 k^2 flops, and the products with X, O(n k)). Measured by counting, not
  timing: each operation the step executes adds its flop count from its operands' shapes (a multiply-add is
  2), so the metric is deterministic and free of machine load; the one-off factorisation is not part of an
  iteration. n in {16, ..., 256}.

Mutants: ``no-projection`` (s <- G u + nu: the step that should project on s >= 0 does not, so nu stays 0,
s = G u and the cones are never enforced) and ``dual-ascent-sign`` (lam <- lam - (u - v)) break
``admm-optimum``: no-projection's gap stalls (5.51 at t = 300, 5.93 at 1800, almost all of it v's cone
violation: exponent 0.007 [0.001, 0.013], quick 0.042 [0.006, 0.078], FAIL), and dual-ascent-sign diverges
(the residual is infinite at t = 600 on all 16 seeds, 1e89 by t = 300: a FAIL). Both also FAIL
``admm-linear`` (residual 5.6, factor 1; divergence) but are declared missed there, since its correct version
does not PASS. ``refactor`` (the system solved afresh every iteration, k^3 / 3 flops more: the cubic
interior-point-like cost) breaks ``quadratic-iteration``. Null: ``frozen`` (no update from a random u: the
residual and the gap stay, 1.574 for the gap, exponent 0; no flops) FAILs all three.
Departures: the catalogue's reading of a third-party implementation, not the paper's text; step size
gamma_a = 1; dense Cholesky per seed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch

from plugins.convex_relu import PAPER, solve
from plugins.relu_arrangements import ReluInstance
from theory import Algorithm, Claim, Experiment, Gen, Mutant, hookimpl, measures

State = dict[str, torch.Tensor]  # u, v, lam (batch, 3, 2P); s, nu (batch, n, 2P); factor (batch, k, k)
Hyper = Mapping[str, Any]


def _system(instance: ReluInstance, rho: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The matrix F^T F + rho I + rho G^T G (batch, k, k) and F^T y (batch, 3, 2P)."""
    x, masks = instance.x, instance.masks
    batch, _, p = masks.shape
    f = torch.cat([masks, -masks], 2)[..., None] * x[:, :, None, :]      # (batch, n, 2P, 3)
    f = f.reshape(batch, x.shape[1], 6 * p)
    gram = x.transpose(1, 2) @ x
    eye = torch.eye(2 * p, dtype=x.dtype, device=x.device)
    blocks = torch.einsum("ij,bcd->bicjd", eye, gram).reshape(batch, 6 * p, 6 * p)
    matrix = f.transpose(1, 2) @ f + rho * (torch.eye(6 * p, dtype=x.dtype, device=x.device) + blocks)
    fty = (f.transpose(1, 2) @ instance.y[..., None]).reshape(batch, 2 * p, 3).transpose(1, 2)
    return matrix, fty


def _optimum(instance: ReluInstance) -> torch.Tensor:
    """Clarabel's optimum of each seed's program, on the instance's (sampled) patterns: (batch,)."""
    data = [t.cpu().numpy() for t in (instance.x, instance.y, instance.masks)]
    values = [solve(x, y, masks, instance.beta)[0] for x, y, masks in zip(*data)]
    return torch.as_tensor(values, dtype=instance.x.dtype, device=instance.x.device)


def init(instance: ReluInstance, hyper: Hyper, gen: Gen) -> State:
    matrix, fty = _system(instance, float(hyper["rho"]))
    zero_u = torch.zeros_like(fty)
    zero_s = torch.zeros(*instance.masks.shape[:2], fty.shape[2], dtype=fty.dtype, device=fty.device)
    state = {"u": zero_u, "v": zero_u, "lam": zero_u, "s": zero_s, "nu": zero_s, "fty": fty, "matrix": matrix,
             "factor": torch.linalg.cholesky(matrix), "flops": torch.zeros(instance.batch, dtype=fty.dtype,
                                                                           device=fty.device)}
    if instance.mode == "optimum":
        state["optimum"] = _optimum(instance)
    return state


def _signs(instance: ReluInstance) -> torch.Tensor:
    e = 2 * instance.masks - 1
    return torch.cat([e, e], 2)                                         # (batch, n, 2P)


def step(state: State, instance: ReluInstance, t: int, hyper: Hyper, gen: Gen, *, project: bool = True,
         dual_sign: float = 1.0, refactor: bool = False) -> State:
    """One ADMM iteration; ``flops`` counts what it executes (multiply-add = 2)."""
    rho, beta, x, e = float(hyper["rho"]), instance.beta, instance.x, _signs(instance)
    n, blocks = e.shape[1], e.shape[2]
    k = 3 * blocks
    products = 2 * n * k                                               # X^T (.) or X (.) over every block
    slack = x.transpose(1, 2) @ (e * (state["s"] - state["nu"]))                   # G^T (s - nu)
    rhs = state["fty"] + rho * (state["v"] - state["lam"]) + rho * slack
    flops = 3 * k + 2 * n * blocks + products
    flat = rhs.transpose(1, 2).reshape(-1, k, 1)
    if refactor:
        u = torch.linalg.solve(state["matrix"], flat)
        flops += k**3 // 3 + 2 * k * k
    else:
        u = torch.cholesky_solve(flat, state["factor"])
        flops += 2 * k * k
    u = u.reshape(-1, blocks, 3).transpose(1, 2)
    shifted = u + state["lam"]
    norm = torch.linalg.vector_norm(shifted, dim=1, keepdim=True)
    v = torch.clamp(1 - (beta / rho) / norm.clamp(min=1e-300), min=0.0) * shifted
    gu = e * (x @ u)
    s = torch.clamp(gu + state["nu"], min=0.0) if project else gu + state["nu"]
    flops += 6 * k + products + 4 * n * blocks
    return {**state, "u": u, "v": v, "s": s, "lam": state["lam"] + dual_sign * (u - v),
            "nu": state["nu"] + (gu - s), "flops": torch.full_like(state["flops"], float(flops))}


def random_start(instance: ReluInstance, hyper: Hyper, gen: Gen) -> State:
    """The null learner's start: u at random (the zero start has residual 0 and would meet any rate)."""
    state = init(instance, hyper, gen)
    return {**state, "u": gen.normal("start", 0, *state["u"].shape[1:], dtype=state["u"].dtype)}


def frozen(state: State, instance: ReluInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """The null learner: no update, no work."""
    return state


def objective(v: torch.Tensor, instance: ReluInstance) -> torch.Tensor:
    """The program's objective (1/2) ||F v - y||^2 + beta sum ||blocks of v||, v (batch, 3, 2P): (batch,)."""
    p = instance.masks.shape[2]
    pred = (instance.masks * (instance.x @ (v[:, :, :p] - v[:, :, p:]))).sum(2)
    return 0.5 * ((pred - instance.y) ** 2).sum(1) + instance.beta * torch.linalg.vector_norm(v, dim=1).sum(1)


@measures("residual", "gap", "flops")
def metrics(state: State, instance: ReluInstance) -> dict[str, torch.Tensor]:
    signs = _signs(instance)
    gu = signs * (instance.x @ state["u"])
    norm = functools.partial(torch.linalg.vector_norm, dim=(1, 2))
    residual = norm(state["u"] - state["v"]) + norm(gu - state["s"]) + norm(torch.clamp(gu, max=0.0))
    gap = torch.zeros_like(residual)                                   # not measured outside the mode
    if "optimum" in state:
        p_star, gv = state["optimum"], signs * (instance.x @ state["v"])
        gap = (objective(state["v"], instance) - p_star).abs() / (1 + p_star) + norm(torch.clamp(gv, max=0.0))
    return {"residual": residual, "gap": gap, "flops": state["flops"]}


LINEAR_REASON = ("contraction factor 0.99885 [0.99790, 0.99981] on t in [1200, 1800] (full, 16 seeds) against "
                 "0.999 (threshold 0.9991): INCONCLUSIVE, about 197 seeds to decide; 0.9977 [0.9961, 0.9994] on "
                 "[600, 900] (quick); the residual decelerates over the window")
CONVERGENCE = Experiment(family="relu-arrangements", over="t", grid=(300, 600, 900, 1200, 1500, 1800),
                         params={"n": 12, "patterns": 16, "beta": 0.1}, seeds=16, mode="optimum",
                         quick_grid=(150, 300, 450, 600, 750, 900))
ADMM = Algorithm(
    name="convex-relu-admm", paper=PAPER, family="relu-arrangements", init=init, step=step, metrics=metrics,
    hyper={"rho": 1.0},
    claims=(
        Claim(name="admm-linear", metric="residual", kind="upper", form="C*0.999**t",
              source="Section 3, ADMM Algorithm 3.1: linear global convergence (catalogue C8.1); factor ours",
              expected_failure=LINEAR_REASON, experiment=CONVERGENCE),
        Claim(name="admm-optimum", metric="gap", kind="upper", form="C/t",
              source="abstract: ADMM solves the exact and approximate convex formulations with global "
                     "convergence guarantees (catalogue C8.1); the rate 1/t, ADMM's classical one, ours",
              experiment=CONVERGENCE),
        Claim(name="quadratic-iteration", metric="flops", kind="theta", form="C*n**2",
              source="Section 3: per-iteration complexity quadratic for the approximate formulation (catalogue "
                     "C8.2); P = n/2 our reading",
              experiment=Experiment(family="relu-arrangements", over="n", grid=(16, 32, 64, 128, 256), steps=2,
                                    params={"patterns": "n/2", "beta": 0.1}, seeds=8,
                                    quick_grid=(8, 16, 32, 64, 128))),
    ),
    mutants=(
        Mutant(name="no-projection", bug="s <- G u + nu: the s step does not project on s >= 0",
               breaks=("admm-linear", "admm-optimum"), step=functools.partial(step, project=False),
               missed={"admm-linear": "FAILs (residual 5.6, factor 1), but the correct version is an expected "
                                      "failure, so it cannot count as caught"}),
        Mutant(name="dual-ascent-sign", bug="lam <- lam - (u - v)", breaks=("admm-linear", "admm-optimum"),
               step=functools.partial(step, dual_sign=-1.0),
               missed={"admm-linear": "diverges (residual 1e89 at t = 300, then NaN: a FAIL), but the correct "
                                      "version is an expected failure, so it cannot count as caught"}),
        Mutant(name="refactor", bug="the linear system solved afresh every iteration", breaks=("quadratic-iteration",),
               step=functools.partial(step, refactor=True)),
    ),
    nulls=(Mutant(name="frozen", bug="no update from a random start",
                  breaks=("admm-linear", "admm-optimum", "quadratic-iteration"), init=random_start, step=frozen),),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [ADMM]
