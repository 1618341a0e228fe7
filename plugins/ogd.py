"""Online projected gradient descent: Zinkevich, "Online Convex Programming and Generalized Infinitesimal
Gradient Ascent", ICML 2003; Hazan, Agarwal and Kale, "Logarithmic regret algorithms for online convex
optimization", Machine Learning 69 (2007). Constants as restated in Hazan, "Introduction to Online Convex
Optimization" (2016, arXiv 1909.05207), Theorems 3.1 to 3.3.

Update, from x_1 = 0 (the centre of X), with g_t = grad f_t(x_t) and P the projection on X:

    x_{t+1} = P(x_t - eta_t g_t),   eta_t = D / (G sqrt(t))   (``ogd-convex``)
                                    eta_t = 1 / (lam t)        (``ogd-strongly-convex``, losses lam-strongly convex)

with D the diameter of X and G a bound on ||g_t||. Neither rule reads the horizon: both are anytime.

Claims, on the ``oco-linear`` and ``oco-quadratic`` families (box X = [-1, 1]^d, Rademacher noise):
- ``convex-bound`` (Zinkevich 2003, Theorem 1; Hazan 2016, Theorem 3.1): realised regret against the best
  point in hindsight R_T <= (3/2) G D sqrt(T), for every loss sequence; here stochastic linear losses.
- ``sqrt-rate``: pseudo-regret O(sqrt(T)) on the same losses. Near a corner of X the noise keeps x_t about
  eta_t sigma^2 / |m| inside, so the pseudo-regret really grows like sqrt(T) there (not slower).
- ``minimax-lower`` (Hazan 2016, Theorem 3.2, on catalogue 1.4's instance f_t(x) = s <eps_t, x>): any
  algorithm that plays x_t before seeing eps_t has E[R_T] = s R sum_i E|sum_t eps_ti| >= G D sqrt(T/8), by
  Szarek's sharp Khintchine constant E|sum_t eps_t| >= sqrt(T/2). Regret below it means a look-ahead.
- ``strongly-convex-bound`` (Hazan, Agarwal, Kale 2007, Theorem 1; Hazan 2016, Theorem 3.3):
  R_T <= (G^2 / (2 lam)) (1 + ln T), realised, on stochastic quadratic losses.
- ``logarithmic``: pseudo-regret O(log T) on the same losses. Their mean is 0.5 in every coordinate (signs per
  seed), so the optimum is inside X but not its centre: with mean 0 the centre was optimal and a learner frozen
  there met both claims with zero regret (mean/bound 0.05 measured), which made them vacuous. The price: G grows
  from 4 to 5 with the mean, the bound loosens, and the ``convex-rule`` mutant now stays under it (0.65 of the
  bound, quick; it was 1.30 at mean 0): it is still caught by ``logarithmic`` (exponent 0.47).

- ``lure-bound`` (Zinkevich 2003, Theorem 1, the same bound (3/2) G D sqrt(T) on realised regret): on
  ``oco-lure-linear`` (``plugins/ogd_instances.py``), a drifting sequence in the theorem's setting: d = 4,
  mean 0.5, sigma 0.5 (G = 2, D = 4, bound 12 sqrt(T)), the mean -mu for the first T/4 rounds and +mu after, so
  the best point in hindsight is the corner the first quarter leads away from. Chosen, with this prediction,
  before it was run. The convex rule crosses back (a sup-norm distance 2) within about 2 sqrt(T/4) rounds and
  then beats the fixed comparator: its regret is negative. The ``eta-one-over-t`` mutant moves
  sum_t D m / (G t) = ln(t / t0) after the switch at t0 = T/4, reaches x = 1 - ln 4 = -0.39 by T and never
  the corner: per coordinate its expected loss is about -0.27 t0 against the comparator's -t0, a regret of
  about 0.73 T in all, above the bound from T of about 300 on. The frozen and uniform nulls pay about T.
  Measured (500 seeds): the correct version PASSes with worst mean/bound -0.288 [-0.296, -0.280] (at T = 50,
  quick and full); the mutant FAILs at 2.44 [2.43, 2.45] of the bound (quick, T = 1600: 1171, the predicted
  0.73 T) and 4.86 [4.85, 4.87] (full, T = 6400); frozen 3.33 and uniform 3.33 (quick), 6.67 and 6.68 (full).
  The mutant still meets ``convex-bound`` and ``sqrt-rate`` on the stationary losses (declared there).

- ``in-domain`` (the setting: x_t in X): every played point lies in the box, exactly, on the convex-bound
  experiment. A learner without the projection runs past the box on these linear losses and earns a regret
  far below zero against the best point of X (-4.4 times the bound, measured): it meets ``convex-bound``,
  which says nothing about infeasible play, and FAILs this claim.

Null learners (``theory.online_nulls``): ``frozen`` (the centre of X) and ``uniform`` (a
uniform point of X every round) must FAIL every regret claim except the lower bound; ``no-projection`` must FAIL
``in-domain``. Mutant ``eta-one-over-t`` (eta_t = D / (G t)) stalls the iterate.

Sizes. The lower bound leaves a margin of only sqrt(2T/pi) / sqrt(T/2) - 1 = 13% to the exact expectation;
with d = 4 coordinates averaging the |sum_t eps_ti| and 500 seeds, the mean sits about 5 standard errors above
the bound at every grid point. The other claims have far larger margins.

Departures from the papers: none in the update. The regrets are measured by the instance (see
``theory.instances.online``); G and D in the explicit bounds are the instance's exact values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from plugins.ogd_instances import LURE_LINEAR
from theory import (
    OCO_LINEAR,
    OCO_QUADRATIC,
    Algorithm,
    Claim,
    Experiment,
    Family,
    Gen,
    Mutant,
    OnlineInstance,
    Paper,
    hookimpl,
    measures,
    online_bounds,
    online_nulls,
)

State = dict[str, Any]  # x: (seeds, d) iterate; ledger: the instance's regret sums
Hyper = Mapping[str, Any]

PAPER = Paper(title="Online Convex Programming and Generalized Infinitesimal Gradient Ascent",
              authors="Zinkevich", year=2003)
PAPER_STRONG = Paper(title="Logarithmic regret algorithms for online convex optimization",
                     authors="Hazan, Agarwal, Kale", year=2007)
WRONG_LAM = 100.0  # the strongly convex rule with a made-up lam, on losses that are only convex
CONSTANT_ETA = 0.1

LINEAR_PARAMS = {"d": 4, "mean": 0.3, "sigma": 0.5}
RADEMACHER_PARAMS = {"d": 4, "mean": 0.0, "sigma": 0.5}
QUADRATIC_PARAMS = {"d": 4, "mean": 0.5, "sigma": 1.0, "lam": 1.0}
LURE_PARAMS = {"d": 4, "mean": 0.5, "sigma": 0.5, "lure": 0.25}  # the horizon T is the grid's


def init(instance: OnlineInstance, hyper: Hyper, gen: Gen) -> State:
    return {"x": torch.zeros_like(instance.mean), "ledger": instance.start()}


def _descend(state: State, instance: OnlineInstance, t: int, gen: Gen, eta: float, look_ahead: bool = False,
             project: bool = True) -> State:
    """One round: play x_t, see f_t, step to P(x_t - eta g_t) (without P when ``project`` is off)."""
    x, theta = state["x"], instance.draw(t, gen)
    after = x - eta * instance.gradient(x, theta)
    after = instance.project(after) if project else after
    return {"x": after, "ledger": instance.record(state["ledger"], after if look_ahead else x, theta)}


def step_convex(state: State, instance: OnlineInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _descend(state, instance, t, gen, instance.diameter / (instance.lipschitz * math.sqrt(t)))


def step_strong(state: State, instance: OnlineInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _descend(state, instance, t, gen, 1.0 / (instance.lam * t))


def step_wrong_lam(state: State, instance: OnlineInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _descend(state, instance, t, gen, 1.0 / (WRONG_LAM * t))


def step_constant(state: State, instance: OnlineInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _descend(state, instance, t, gen, CONSTANT_ETA)


def step_unprojected(state: State, instance: OnlineInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """The convex rule without the projection on X."""
    return _descend(state, instance, t, gen, instance.diameter / (instance.lipschitz * math.sqrt(t)), project=False)


def step_one_over_t(state: State, instance: OnlineInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """eta_t = D / (G t): the strongly convex decay on convex losses, the iterate stalls."""
    return _descend(state, instance, t, gen, instance.diameter / (instance.lipschitz * t))


def step_look_ahead(state: State, instance: OnlineInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """The convex rule, but f_t is charged at x_{t+1}, a point chosen after seeing f_t."""
    return _descend(state, instance, t, gen, instance.diameter / (instance.lipschitz * math.sqrt(t)),
                    look_ahead=True)


@measures("regret", "pseudo_regret", "in_domain")
def metrics(state: State, instance: OnlineInstance) -> dict[str, torch.Tensor]:
    ledger = state["ledger"]
    return {"regret": instance.regret(ledger), "pseudo_regret": instance.pseudo_regret(ledger),
            "in_domain": instance.in_domain(ledger)}


METRICS = ("regret", "pseudo_regret", "in_domain")
GRID = (50, 100, 200, 400, 800, 1600, 3200, 6400)
QUICK_GRID = (50, 100, 200, 400, 800, 1600)


def _experiment(family: str, params: Mapping[str, float]) -> Experiment:
    return Experiment(family=family, over="T", params=params, grid=GRID, quick_grid=QUICK_GRID, seeds=500)


def _bound(form: str, family: Family, params: Mapping[str, float]) -> str:
    """An explicit bound with the instance's G, D (and lam) written in as numbers."""
    values = {**online_bounds(family, params), "lam": float(params.get("lam", 0.0))}
    return form.format(**{k: f"{v:.12g}" for k, v in values.items()})


OGD_CONVEX = Algorithm(
    name="ogd-convex", paper=PAPER, family="oco-linear", init=init, step=step_convex, metrics=metrics,
    claims=(
        Claim(name="in-domain", metric="in_domain", kind="exact", form="1", free=(),
              source="Zinkevich 2003, the setting (x_t in X)", experiment=_experiment("oco-linear", LINEAR_PARAMS)),
        Claim(name="convex-bound", metric="regret", kind="upper", free=(),
              form=_bound("1.5*{G}*{D}*sqrt(T)", OCO_LINEAR, LINEAR_PARAMS),
              source="Zinkevich 2003, Theorem 1 (Hazan 2016, Theorem 3.1)",
              experiment=_experiment("oco-linear", LINEAR_PARAMS)),
        Claim(name="sqrt-rate", metric="pseudo_regret", kind="upper", form="C*sqrt(T)",
              source="Zinkevich 2003, Theorem 1", experiment=_experiment("oco-linear", LINEAR_PARAMS)),
        Claim(name="lure-bound", metric="regret", kind="upper", free=(),
              form=_bound("1.5*{G}*{D}*sqrt(T)", LURE_LINEAR, {**LURE_PARAMS, "T": GRID[-1]}),
              source="Zinkevich 2003, Theorem 1 (Hazan 2016, Theorem 3.1), on a drifting sequence",
              experiment=_experiment("oco-lure-linear", LURE_PARAMS)),
        Claim(name="minimax-lower", metric="regret", kind="lower", free=(),
              form=_bound("{G}*{D}*sqrt(T/8)", OCO_LINEAR, RADEMACHER_PARAMS),
              source="Hazan 2016, Theorem 3.2 (catalogue 1.4 instance, Szarek's constant)",
              experiment=_experiment("oco-linear", RADEMACHER_PARAMS)),
    ),
    mutants=(
        Mutant(name="wrong-lam", bug=f"strongly convex rule 1/({WRONG_LAM:g} t) on linear losses: x_t cannot travel",
               breaks=("convex-bound", "sqrt-rate"), step=step_wrong_lam),
        Mutant(name="look-ahead", bug="loss charged at x_{t+1}, after the update that already saw f_t",
               breaks=("minimax-lower",), step=step_look_ahead),
        Mutant(name="eta-one-over-t", missed={"convex-bound": 'PASSes at 0.158 [0.151, 0.165] of the bound (quick)',
                                              "sqrt-rate":
               ('PASSes with exponent 0.048 [0.045, 0.052] (quick): on these losses eta/t gives lower regret, not '
                'higher')
               }, bug="eta_t = D / (G t) instead of D / (G sqrt t)",
               breaks=("convex-bound", "sqrt-rate", "lure-bound"), step=step_one_over_t),
    ),
    nulls=(*online_nulls(("convex-bound", "sqrt-rate", "lure-bound")),
           Mutant(name="no-projection", bug="null learner: the convex rule without the projection on X",
                  breaks=("in-domain",), step=step_unprojected)),
)

OGD_STRONG = Algorithm(
    name="ogd-strongly-convex", paper=PAPER_STRONG, family="oco-quadratic", init=init, step=step_strong,
    metrics=metrics,
    claims=(
        Claim(name="strongly-convex-bound", metric="regret", kind="upper", free=(),
              form=_bound("{G}**2/(2*{lam})*(1 + log(T))", OCO_QUADRATIC, QUADRATIC_PARAMS),
              source="Hazan, Agarwal, Kale 2007, Theorem 1 (Hazan 2016, Theorem 3.3)",
              experiment=_experiment("oco-quadratic", QUADRATIC_PARAMS)),
        Claim(name="logarithmic", metric="pseudo_regret", kind="upper", form="C*log(T)",
              source="Hazan, Agarwal, Kale 2007, Theorem 1",
              experiment=_experiment("oco-quadratic", QUADRATIC_PARAMS)),
    ),
    mutants=(
        Mutant(name="convex-rule", missed={"strongly-convex-bound":
               ('PASSes at 0.649 [0.643, 0.655] of the bound (quick); still caught by logarithmic')
               }, bug="convex rule D/(G sqrt t) on strongly convex losses",
               breaks=("strongly-convex-bound", "logarithmic"), step=step_convex),
        Mutant(name="constant-step", bug=f"constant step {CONSTANT_ETA:g}", breaks=("logarithmic",),
               step=step_constant),
    ),
    nulls=online_nulls(("strongly-convex-bound", "logarithmic")),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [OGD_CONVEX, OGD_STRONG]
