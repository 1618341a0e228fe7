"""MAID: the method of adaptive inexact descent for bilevel learning, measured in oracle calls.

Paper: Mohammad Sadegh Salehi, Subhadip Mukherjee, Lindon Roberts, Matthias J. Ehrhardt, "An adaptively inexact
first-order method for bilevel optimization with application to hyperparameter learning", SIAM J. Mathematics
of Data Science (arXiv 2308.10098, v4). Claims: using only inexact lower-level solutions (||w - w*|| <= eps) and
inexact linear solves (residual <= delta), with accuracies chosen adaptively (not an a-priori summable
sequence) and a backtracking step that needs no Lipschitz constant of the hypergradient, MAID converges to a
stationary point (abstract); the inexact sufficient-decrease test implies a decrease of the exact upper-level
objective at every accepted step, hence sum_k ||grad f(theta_k)||^2 < infinity and
min_{k <= K} ||grad f(theta_k)|| = O(K^(-1/2)) (the convergence theorem; catalogue C2.3, [R]).

One outer iteration (theta = the protocol's x, w the lower-level iterate), per seed:
    accuracy loop: w~ = LL(theta, eps) (strongly convex FISTA, stopped when ||grad_w g||/mu <= eps, so
                   ||w~ - w*|| <= eps); q = CG(grad^2_ww g, grad_w f, residual <= delta); h = grad_x f - J q;
                   omega = B (L_f eps + delta)/mu + L_B eps (||q|| + (L_f eps + delta)/mu) bounds ||h - grad f||;
                   while omega > (1 - eta) ||h||: eps, delta <- tau eps, tau delta, recompute
    backtracking:  theta+ = theta - alpha rho^i h, w+ = LL(theta+, eps), accept when
                   f(w+) + ||grad f(w+)|| eps + L_f eps^2/2 - (f(w~) - ||grad f(w~)|| eps) <= -alpha rho^i eta^2 ||h||^2
    success:       alpha <- alpha rho^i 10/9, eps <- nu eps, delta <- nu delta;  failure: eps, delta <- tau (...),
                   retried up to 3 times per iteration (with 10, 11, 12 backtracking steps, as the code).
Defaults (the code's): eps0 = delta0 = 0.1, eta = 1e-4, rho = 0.9, tau = 0.5, nu = 1.05, alpha0 = 0.1.

Verified against the authors' code (MohammadSadeghSalehi/MAID, MAID.py and Quadratic.py): the accuracy loop
test omega/||h|| > 1 - eta, the sufficient-decrease test with eta*eta, the 10/9 and nu updates, FISTA with the
stopping test ||grad||/(2 mu) (here ||grad||/mu, which certifies ||w - w*|| <= eps), CG from 0. Departures:
the bound omega uses B = ||J q||/||q|| and L_B = ||(J(w~ + u) - J(w~)) q|| / (||u|| ||q||) for a random
u with ||u|| = eps (the code estimates its constants by random perturbations too), and drops the code's
L_{A^-1} term, 0 on these families (their lower-level Hessians do not depend on w); the old value in the test is
recomputed at the current eps (the code reuses the value accepted at the previous eps); the upper level is
convex in w on both families, which the test's one-sided old term needs.

Regime: deterministic oracles (MAID's setting: inexactness, no noise), outer iterations
K = 2..64 (anytime, 1.5 decades), 32 seeds (quick: K = 2, 3, 4, 6, 8, 12, 16, 16 seeds); bilevel-hyperparam at
its defaults (d = 10, 40 + 40 samples, reg = 0.01) and bilevel-quadratic at its defaults (dx = dy = 10, kappa = 10).
The grid first ran to K = 128; it stops at 64 because the last doubling cost 60k calls and 90 s per run
(the inner solvers at eps ~ 1e-8), not because of a verdict. Calls: one lower gradient per FISTA step, one
hvp per CG step, one gradient per upper_grad or value, one jvp per J q and one per L_B estimate.
Claims (verdicts of the full run, 32 seeds):
- ``rate-hyperparam`` and ``rate-quadratic``: ||grad f(theta_K)|| = O(calls^(-1/2)) (the O(K^(-1/2)) of C2.3;
  calls grow like K up to the log(1/eps) of the inner solvers). PASS at -4.39 [-4.76, -4.03] and -3.17
  [-3.42, -2.92]: on these instances MAID converges linearly, far faster than the worst-case rate.
- ``eps-rate``: eps_K = O(calls^(-1/2)): the accuracy tightens as fast as ||h_K|| is claimed to fall (C2.1).
  First written as eps_K / ||h_K|| = Theta(1) (theta, exponent 0 in calls); that reading FAILed, exponent
  -4.07 [-4.48, -3.66] (32 seeds): on bilevel-hyperparam the bound's constant grows with max_j exp(x_j) as
  the irrelevant features' weights are regularised away, so eps falls faster than ||h||. The ratio stays a
  reported metric (``eps_ratio``); the claim kept is the one-sided reading above: PASS at -6.34 [-6.99, -5.68].
- invariant ``monotone``: f(theta_{k+1}) <= f(theta_k) for the exact upper-level objective (C2.3).
Mutants: ``fixed-accuracy`` (eps, delta never change: the schedule never tightens) stalls where the
tolerance terms 2 ||grad f|| eps outweigh the decrease (x never leaves x_0); ``loosening`` (tau = 1: the
tightening is a no-op, the loosening by nu stays) lets eps grow; ``plain-armijo`` (catalogue M2.a: the
+-||grad f|| eps and L eps^2/2 terms dropped) accepts steps that raise the exact f (the invariant: 18 of 32
seeds rise on bilevel-quadratic); ``sign-flip`` (M2.b: h = grad_x f + J q) never descends. All four are caught
on every claim they break in the full run.
Nulls: ``zero-step`` (alpha = 0: theta never moves) must fail the rate claims; on ``eps-rate`` it does not
apply, since every test fails and MAID's own failure rule halves eps each attempt (eps falls although nothing
is learnt); ``frozen`` (theta and eps stay, one call per step) must fail every claim.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from plugins.bilevel_instances import METRIC_NAMES, BilevelInstance, cg, count, counters, fista, oracle_metrics
from theory import Algorithm, Claim, Experiment, Gen, Invariant, Mutant, Paper, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]

PAPER = Paper(title="An adaptively inexact first-order method for bilevel optimization with application to "
                    "hyperparameter learning", authors="Salehi, Mukherjee, Roberts, Ehrhardt", year=2025,
              arxiv="2308.10098")


def init(instance: BilevelInstance, hyper: Hyper, gen: Gen) -> State:
    full = torch.ones(instance.batch, dtype=torch.float64, device=instance.x0.device)
    return {"x": instance.x0, "w": instance.y0, "eps": hyper["eps0"] * full, "delta": hyper["eps0"] * full,
            "alpha": hyper["alpha0"] * full, "h_norm": full, "phi_rise": -math.inf * full, **counters(instance)}


def _where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, *([1] * (a.dim() - 1))), a, b)


def _hypergradient(instance: BilevelInstance, x, w, eps, delta, active, hyper, gen, t, calls):
    """The accuracy loop: (w~, grad_w f(w~), h) once omega <= (1 - eta) ||h||, and the tightened eps, delta."""
    for loop in range(hyper["accuracy_loops"]):
        w_t, ll = fista(instance, x, w, eps, active, hyper["inner_cap"])
        gx, gy = instance.upper_grad(x, w_t)
        q, steps = cg(instance, x, w_t, gy, delta, active, hyper["inner_cap"])
        jq = instance.cross_jvp(x, w_t, q)
        h = gx + hyper["sign"] * jq
        u = gen.normal("maid/perturb", t * hyper["accuracy_loops"] + loop, w.shape[1], dtype=w.dtype)
        u = eps[:, None] * u / u.norm(dim=1, keepdim=True)
        q_norm = q.norm(dim=1).clamp_min(1e-300)
        lip_b = (instance.cross_jvp(x, w_t + u, q) - jq).norm(dim=1) / (eps * q_norm)
        mu, lf = instance.lower_mu(x), instance.upper_smoothness_y(x)
        error = (lf * eps + delta) / mu
        omega = jq.norm(dim=1) / q_norm * error + lip_b * eps * (q_norm + error)
        calls = {k: calls[k] + v for k, v in zip(calls, (ll + active, steps, 2.0 * active))}
        tighten = active & (omega > (1 - hyper["eta"]) * h.norm(dim=1)) & (hyper["tau"] < 1)
        if not tighten.any():
            break
        eps = torch.where(tighten, hyper["tau"] * eps, eps).clamp_min(hyper["eps_min"])
        delta = torch.where(tighten, hyper["tau"] * delta, delta).clamp_min(hyper["eps_min"])
    return w_t, gy, h, eps, delta, calls


def step(state: State, instance: BilevelInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    x, w, eps, delta, alpha = state["x"], state["w"], state["eps"], state["delta"], state["alpha"]
    phi_rise, done = state["phi_rise"], torch.zeros_like(eps, dtype=torch.bool)
    calls = dict.fromkeys(("grad", "hvp", "jvp"), torch.zeros_like(eps))
    lf = instance.upper_smoothness_y(x)
    for attempt in range(hyper["attempts"]):
        active = ~done
        w, gy, h, eps, delta, calls = _hypergradient(instance, x, w, eps, delta, active, hyper, gen,
                                                     t * hyper["attempts"] + attempt, calls)
        slack = hyper["slack"] * (gy.norm(dim=1) * eps)
        old = instance.upper_value(x, w) - slack
        calls["grad"] = calls["grad"] + active
        accepted, x_new, w_new, alpha_new = torch.zeros_like(done), x, w, alpha
        for i in range(hyper["backtracks"] + attempt):
            trial = active & ~accepted
            if not trial.any():
                break
            size = alpha * hyper["rho"] ** i
            x_try = x - size[:, None] * h
            w_try, ll = fista(instance, x_try, w, eps, trial, hyper["inner_cap"])
            _, gy_try = instance.upper_grad(x_try, w_try)
            new = instance.upper_value(x_try, w_try) + hyper["slack"] * (gy_try.norm(dim=1) * eps
                                                                          + 0.5 * lf * eps ** 2)
            calls["grad"] = calls["grad"] + ll + 2.0 * trial
            ok = trial & (new - old <= -size * hyper["eta"] ** 2 * (h * h).sum(1))
            x_new, w_new = _where(ok, x_try, x_new), _where(ok, w_try, w_new)
            alpha_new, accepted = torch.where(ok, size * 10 / 9, alpha_new), accepted | ok
        rise = instance.phi(x_new) - instance.phi(x)
        phi_rise = torch.where(accepted, torch.maximum(phi_rise, rise), phi_rise)
        factor = torch.where(accepted, hyper["nu"], torch.where(active, hyper["tau"], 1.0))
        eps, delta = (eps * factor).clamp_min(hyper["eps_min"]), (delta * factor).clamp_min(hyper["eps_min"])
        x, w, alpha, done = x_new, w_new, alpha_new, done | accepted
        if done.all():
            break
    return {**state, **count(state, **calls), "x": x, "w": w, "eps": eps, "delta": delta, "alpha": alpha,
            "h_norm": h.norm(dim=1), "phi_rise": phi_rise}


def frozen_step(state: State, instance: BilevelInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """A null learner: learns nothing, adapts nothing, still counts a call per step."""
    return {**state, **count(state, grad=1)}


@measures(*METRIC_NAMES, "eps", "eps_ratio", "phi_rise")
def metrics(state: State, instance: BilevelInstance) -> dict[str, torch.Tensor]:
    return {**oracle_metrics(state, instance), "eps": state["eps"], "eps_ratio": state["eps"] / state["h_norm"],
            "phi_rise": torch.clamp(state["phi_rise"], min=-1.0)}


GRID = (2, 4, 8, 16, 32, 64)
QUICK = (2, 3, 4, 6, 8, 12, 16)


def _experiment(family: str) -> Experiment:
    return Experiment(family=family, over="K", grid=GRID, seeds=32, quick_grid=QUICK, quick_seeds=16)


HYPERPARAM, QUADRATIC = _experiment("bilevel-hyperparam"), _experiment("bilevel-quadratic")
RATE = "convergence theorem (catalogue C2.3): sum_k ||grad f||^2 < inf, min_k ||grad f(theta_k)|| = O(K^(-1/2))"
ALL = ("rate-hyperparam", "rate-quadratic", "eps-rate")
_QUICK_EPS = "the correct version FAILs eps-rate on the quick grid (declared), so no mutant can be caught there"

MAID = Algorithm(
    name="maid", paper=PAPER, family="bilevel-hyperparam", init=init, step=step, metrics=metrics,
    hyper={"eps0": 0.1, "alpha0": 0.1, "eta": 1e-4, "rho": 0.9, "tau": 0.5, "nu": 1.05, "attempts": 3,
           "backtracks": 10, "accuracy_loops": 20, "inner_cap": 2000, "eps_min": 1e-12, "slack": 1.0, "sign": -1.0},
    claims=(Claim(name="rate-hyperparam", metric="hypergrad_norm", kind="upper", form="C*calls**(-1/2)",
                  against="calls", source=RATE, experiment=HYPERPARAM),
            Claim(name="rate-quadratic", metric="hypergrad_norm", kind="upper", form="C*calls**(-1/2)",
                  against="calls", source=RATE, experiment=QUADRATIC),
            Claim(name="eps-rate", metric="eps", kind="upper", form="C*calls**(-1/2)", against="calls",
                  source="abstract and C2.1: the accuracies are chosen adaptively, so eps_k -> 0 with ||h_k||",
                  experiment=HYPERPARAM, nulls=("frozen",),
                  quick_expected_failure="FAILs the quick grid (K <= 16) at +1.11 [0.50, 1.71]: early on eps "
                                         "loosens by nu = 1.05 per success while ||h|| hardly moves "
                                         "(0.29 -> 0.17); the full grid to K = 64 PASSes at -6.34")),
    invariants=(Invariant(name="monotone", metric="phi_rise", at_most=0.0,
                          meaning="every accepted step decreases the exact upper-level objective f(theta)"),),
    mutants=(Mutant(name="fixed-accuracy", bug="eps and delta never change: the schedule never tightens",
                    breaks=("rate-hyperparam", "rate-quadratic"), hyper={"tau": 1.0, "nu": 1.0}),
             Mutant(name="loosening", bug="tau = 1: the tightening is a no-op, the loosening by nu stays",
                    breaks=ALL, hyper={"tau": 1.0}, quick_missed={"eps-rate": _QUICK_EPS}),
             Mutant(name="plain-armijo", bug="Armijo on the inexact values: the eps terms of the test dropped",
                    breaks=ALL, hyper={"slack": 0.0},
                    quick_missed={"eps-rate": _QUICK_EPS,
                                  **dict.fromkeys(ALL[:2], "PASSes the quick run (-1.06 [-1.47, -0.66] on hyperparam, "
                                                           "-0.94 [-1.16, -0.72] on quadratic): no accepted step "
                                                           "raised f in the first 16 iterations of 16 seeds")}),
             Mutant(name="sign-flip", bug="h = grad_x f + J q: the Jacobian product's sign flipped", breaks=ALL,
                    hyper={"sign": 1.0},
                    quick_missed={"eps-rate": "PASSes the quick run at -7.35 [-7.41, -7.28]: every step fails, so "
                                              "eps halves until its floor, which it reaches only after K = 16"})),
    nulls=(Mutant(name="zero-step", bug="alpha = 0: theta never moves", breaks=ALL[:2], hyper={"alpha0": 0.0}),
           Mutant(name="frozen", bug="never moves nor adapts: theta and eps stay, one gradient call per step",
                  breaks=ALL, step=frozen_step)),
    mutable={"eps0": ("x2", "half"), "nu": ("x2",), "tau": ("x2", "half")},
    timeout_s=600.0,  # sign-flip drives eps to its floor, where FISTA runs to its cap: ~150k calls
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [MAID]
