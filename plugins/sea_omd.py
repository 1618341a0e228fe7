"""Optimistic online mirror descent for the SEA model: Chen, Zhang, Tu, Zhao and Zhang, "Optimistic Online Mirror
Descent for Bridging Stochastic and Adversarial Online Convex Optimization", JMLR 25(178), 2024 (arXiv
2302.04552; ICML 2023). The model is Sachs, Hadiji, van Erven and Guzman, NeurIPS 2022 (arXiv 2202.07554).

Update (Euclidean optimistic OMD on X with projection P, hint m_t = g_{t-1}, m_1 = 0), from x^_1 = 0:

    x_t = P(x^_t - eta_t m_t)   (played),    g_t = grad f_t(x_t),    x^_{t+1} = P(x^_t - eta_t g_t),
    eta_t = D / sqrt(16 L^2 D^2 + 4 G^2 + V_{t-1}),  V_t = sum_{s<=t} ||g_s - m_s||^2   (``omd-sea``, convex)
    eta_t = 1 / (lam t + 4 L)                                                      (``omd-sea-strong``)

with D the diameter of X, G a bound on ||g_t||, L the smoothness of F_t = E f_t and lam its strong convexity.
``ogd-sea`` is plain OGD, the convex rule of ``plugins.ogd`` (eta_t = D / (G sqrt t), no hint), run on the same
experiments as a baseline: the report draws the two on one plot wherever they share an experiment.

Claims (families ``oco-sea-linear``/``-quadratic`` of ``plugins.sea_omd_instances``: d = 4, X = [-1, 1]^4, sigma_t = s
exactly, Sigma^2_{1:T} = sum_t sup_x ||grad F_t - grad F_{t-1}||^2 written into the forms through the knobs), all
on the pseudo-regret E[sum_t F_t(x_t)] - min_u sum_t F_t(u) except the lower bound:
- C1.1, convex and smooth E f_t: E[R_T] = O(sqrt(sigma^2_{1:T}) + sqrt(Sigma^2_{1:T})). As rates in T at the fully
  adversarial end (``adversarial-rate``: s = 0, m_t flips sign every round), the i.i.d. end (``iid-rate``) and
  with no variation at all (``no-variation``: s = shift = 0, the bound is O(1) and so must the regret be); and
  as a rate in the noise knob s at a fixed horizon (``noise-knob``, on quadratic losses, convex and smooth), where
  the regret must grow like s = sqrt(sigma^2_{1:T} / T). The knob grid is short (0.9 decades, 0.6 quick) by
  necessity: below it the offset 16 L^2 D^2 caps eta_t and the regret grows like s^2 (the bound, with its
  additive O(DG + LD^2), still holds but is not tight there), above it the iterate reaches the walls of X. The
  window widens like T; T = 768 keeps the quick budget. (On linear losses the window is narrower still: a
  coordinate whose noise is below its mean never leaves its corner.)
- C1.1 with constants (``*-bound``, linear losses, L = 0): the standard optimistic-OMD argument (for each t,
  <g_t, x_t - u> <= eta_t ||g_t - m_t||^2 + (||u - x^_t||^2 - ||u - x^_{t+1}||^2) / (2 eta_t), as ||x_t - x^_{t+1}|| <=
  eta_t ||g_t - m_t||), with this eta_t, ||g_t - m_t|| <= 2G and sum_t a_t / sqrt(sum_{s<=t} a_s) <= 2 sqrt(sum a),
  gives R_T <= (D/2) sqrt(4G^2 + V_T) + 2D sqrt(V_T) for every sequence, and E V_T <= Sigma^2_{1:T} + 2 sigma^2_{1:T}
  (concavity, Jensen). Derived here (R), not quoted: the paper's constants could not be read. Checked at P = 1
  and at P = 16, where OMD follows the switches and beats every fixed point (negative regret) while OGD pays
  sqrt(T): the comparison the report draws.
- ``minimax-lower`` (Sachs et al. Theorem 6, the adversarial end; the instance of Hazan 2016, Theorem 3.2): on a
  random sign sequence (mean 0, s = 1; read as point masses, sigma = 0) the realised regret of any algorithm that
  plays before it sees f_t is at least G D sqrt(T/8) (Szarek's constant; 12% margin, 500 seeds).
- C1.2, lam-strongly convex and smooth: E[R_T] = O((1/lam)(sigma^2_max + Sigma^2_max) log((sigma^2_{1:T} +
  Sigma^2_{1:T}) / (sigma^2_max + Sigma^2_max))) (the JMLR abstract, verified): log T with noise in every round
  (``logarithmic``), and a plateau once the noise stops after T0 = 32 rounds (``noise-prefix-plateau``, regime iv
  of catalogue 2.4, where Sachs et al.'s (sigma^2_max + Sigma^2_max) log T bound would keep growing).
In s = 0 experiments every seed runs the same sequence up to the signs of the coordinates: the seeds are replicas.

Mutants: V never accumulated (catalogue M1.1: linear regret); hint with the wrong sign (M1.2: pushed off the
optimum every round once the gradient stops changing); a hint that peeks at the current loss (M1.3: regret under
the lower bound); V summing norms instead of squared norms (right rate in T, regret like s^1.5: only the knob
claim sees it); the convex schedule on strongly convex losses (M1.4: sqrt(T) instead of log T); a constant step
1/lam (the 1/t dropped: optimistic steps are unstable for lam eta >= 2/3, so the iterate never settles).
Not a mutant: no optimism (m_t = 0, M1.5), a documented non-detection. Where optimism shrinks the bound (s = 0,
slow switching) the correct version's regret is negative, as a learner that follows the switches beats every
fixed point, so no rate claim applies, and the plain version's sqrt(T) stays within the derived constants
(P = 16: 3.5 sqrt(T) against 10 sqrt(T)); where the regret is positive (i.i.d., P <= 3) both are sqrt(T).
A single learner against a fixed comparator cannot tell them apart here; a game would (catalogue 2.5).

Null learners (``theory.online_nulls``, ``frozen`` at the centre and ``uniform`` in X) FAIL
every regret claim here (measured, quick) but one: ``noise-knob`` is an upper bound on how fast the regret may
grow in s, which a learner whose (large) regret does not depend on s meets: ``uniform`` PASSes it (exponent
0.0007), so the claim is vacuous as a check on its own and is kept as such; its teeth are the
``norms-not-squared`` mutant. ``frozen`` has zero pseudo-regret there (the centre is optimal at mean 0), which
the rate test cannot fit (INCONCLUSIVE). The lower bound holds for every learner and has no null.
Why no statement about s can have a null that FAILs it (issue 11, reviewed, not changed): on quadratic losses
F_t(x) = E f_t(x) = (lam/2) ||x - m_t||^2 + (a term in s alone), which the pseudo-regret cancels, so a learner
that ignores its data has a pseudo-regret that does not depend on s at all, and meets every upper rate in s. A
two-sided (Theta) claim in s would have teeth, but no source gives its lower side: Sachs et al.'s lower bound
(``minimax-lower``) is minimax over linear losses, and on these strongly convex losses a learner can have
O(log T) regret whatever s (``omd-sea-strong``), so "the regret of omd-sea grows like s" would be a claim about
this step size's looseness, not the paper's. An explicit bound in s with constants (as ``*-bound`` on linear
losses) could fail a null at small s, but needs constants for smooth losses (the offset 16 L^2 D^2) that are
not derived here; that is new work, left for a later issue. So ``noise-knob`` stays declared vacuous.

Verified against the paper: only its abstract (the rates of C1.1 and C1.2; only E f_t need be convex).
Reconstructed (R): the convex eta_t (restated in arXiv 2510.04685, Section 2.2, not read here in full), its
offset 16 L^2 D^2 (keeps eta_t <= 1/(4L), the smoothness condition of the analysis), the strongly convex step
1/(lam t + 4L) (L = lam on quadratic losses), the theorem numbers (not cited: unverified) and the constants above.
Departures: the peek mutant takes its hint from grad f_t(x^_t), not from g_t = grad f_t(x_t) (circular).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from plugins import ogd
from plugins.sea_omd_instances import SEA_LINEAR, SEAInstance
from theory import Algorithm, Claim, Experiment, Gen, Mutant, Paper, hookimpl, online_nulls

State = dict[str, Any]  # xhat, grad (the last gradient, the next hint): (seeds, d); V: (seeds,); ledger
Hyper = Mapping[str, Any]

PAPER = Paper(title="Optimistic Online Mirror Descent for Bridging Stochastic and Adversarial Online Convex "
                    "Optimization", authors="Chen, Zhang, Tu, Zhao, Zhang", year=2024, arxiv="2302.04552")


def init(instance: SEAInstance, hyper: Hyper, gen: Gen) -> State:
    zeros = torch.zeros_like(instance.mean)
    return {"xhat": zeros, "grad": zeros, "V": torch.zeros(instance.batch), "ledger": instance.start()}


def _round(state: State, instance: SEAInstance, t: int, gen: Gen, eta: torch.Tensor | float, sign: float = 1.0,
           squared: bool = True, peek: bool = False) -> State:
    """Play x_t = P(x^_t - eta m_t), see f_t, step x^ with g_t and add ||g_t - m_t||^2 to V."""
    theta = instance.draw(t, gen)
    hint = instance.gradient(state["xhat"], theta) if peek else state["grad"]
    x = instance.project(state["xhat"] - sign * eta * hint)
    grad = instance.gradient(x, theta)
    miss = ((grad - hint) ** 2).sum(1)
    return {"xhat": instance.project(state["xhat"] - eta * grad), "grad": grad,
            "V": state["V"] + (miss if squared else miss.sqrt()), "ledger": instance.record(state["ledger"], x, theta)}


def _adaptive(state: State, instance: SEAInstance, accumulate: bool = True) -> torch.Tensor:
    """eta_t = D / sqrt(16 L^2 D^2 + 4 G^2 + V_{t-1}), shape (seeds, 1)."""
    D, G, L = instance.diameter, instance.lipschitz, instance.lam
    return D / torch.sqrt(16 * L**2 * D**2 + 4 * G**2 + (state["V"] if accumulate else 0 * state["V"]))[:, None]


def step(state: State, instance: SEAInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _round(state, instance, t, gen, _adaptive(state, instance))


def step_strong(state: State, instance: SEAInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _round(state, instance, t, gen, 1.0 / (instance.lam * t + 4 * instance.lam))


def step_fixed(state: State, instance: SEAInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _round(state, instance, t, gen, _adaptive(state, instance, accumulate=False))


def step_wrong_sign(state: State, instance: SEAInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _round(state, instance, t, gen, _adaptive(state, instance), sign=-1.0)


def step_peek(state: State, instance: SEAInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _round(state, instance, t, gen, _adaptive(state, instance), peek=True)


def step_norms(state: State, instance: SEAInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _round(state, instance, t, gen, _adaptive(state, instance), squared=False)


def step_no_decay(state: State, instance: SEAInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _round(state, instance, t, gen, 1.0 / instance.lam)


GRID = (64, 128, 256, 512, 1024, 2048, 4096)
QUICK_GRID = (32, 64, 128, 256, 512)
LINEAR = {"d": 4, "R": 1.0, "T0": 0}
ADVERSARIAL = {**LINEAR, "mean": 0.5, "shift": 1.0, "s": 0.0, "P": 1}  # m_t flips sign every round
SLOW = {**ADVERSARIAL, "P": 16}
IID = {**LINEAR, "mean": 0.1, "shift": 0.0, "s": 0.4, "P": 1}
STILL = {**LINEAR, "mean": 0.5, "shift": 0.0, "s": 0.0, "P": 1}  # the same loss every round
RADEMACHER = {**LINEAR, "mean": 0.0, "shift": 0.0, "s": 1.0, "P": 1}
QUADRATIC = {"d": 4, "R": 1.0, "lam": 1.0, "mean": 0.0, "shift": 0.0, "P": 1, "T0": 0}
KNOB_T = 768  # the horizon of the knob experiment: where the regret tracks s (see docstring)
KNOB = {**QUADRATIC, "T": KNOB_T}
STRONG = {**QUADRATIC, "mean": 0.3, "s": 1.0}
PREFIX = {**STRONG, "T0": 32}

SIGMA2 = "d*(mean + shift)**2 + 4*d*shift**2*(T - 1)/P"  # Sigma^2_{1:T} of the linear family, floor dropped
SIGMA2_QUADRATIC = "lam**2*d*(R + mean)**2"  # shift = 0: the first round only
RATE = f"C*sqrt(s**2*T + {SIGMA2})"
STRONG_RATE = f"C*(s**2 + {SIGMA2_QUADRATIC})/lam*log((s**2*{{n}} + {SIGMA2_QUADRATIC})/(s**2 + {SIGMA2_QUADRATIC}))"


def _experiment(family: str, params: Mapping[str, object]) -> Experiment:
    return Experiment(family=family, over="T", params=params, grid=GRID, quick_grid=QUICK_GRID, seeds=500)


def _numbers(params: Mapping[str, float]) -> tuple[str, str]:
    """The instance's diameter D and gradient bound G, written as numbers for an explicit bound."""
    instance = SEA_LINEAR.instance(params, Gen([0]))
    return f"{instance.diameter:.12g}", f"{instance.lipschitz:.12g}"


def _bound(params: Mapping[str, float]) -> str:
    """(D/2) sqrt(4 G^2 + W) + 2 D sqrt(W), W = Sigma^2_{1:T} + 2 sigma^2_{1:T} >= E V_T (derived above)."""
    (D, G), W = _numbers(params), f"({SIGMA2} + 2*s**2*T)"
    return f"{D}/2*sqrt(4*{G}**2 + {W}) + 2*{D}*sqrt({W})"


def _zinkevich(params: Mapping[str, float]) -> str:
    D, G = _numbers(params)
    return f"1.5*{G}*{D}*sqrt(T)"


def _lower(params: Mapping[str, float]) -> str:
    D, G = _numbers(params)
    return f"{G}*{D}*sqrt(T/8)"


E_ADVERSARIAL, E_SLOW, E_IID = (_experiment("oco-sea-linear", p) for p in (ADVERSARIAL, SLOW, IID))
C11 = "Chen et al. 2024, static regret for convex and smooth E f_t (abstract; theorem number unverified)"
C12 = "Chen et al. 2024, static regret for strongly convex and smooth E f_t (abstract; theorem number unverified)"
DERIVED = "Chen et al. 2024, convex and smooth case, constants derived here for linear losses (R)"
METRICS = ("regret", "pseudo_regret")

OMD = Algorithm(
    name="omd-sea", paper=PAPER, family="oco-sea-linear", init=init, step=step, metrics=ogd.metrics,
    claims=(
        Claim(name="adversarial-rate", metric="pseudo_regret", kind="upper", form=RATE, source=C11,
              experiment=E_ADVERSARIAL),
        Claim(name="adversarial-bound", metric="pseudo_regret", kind="upper", free=(), form=_bound(ADVERSARIAL),
              source=DERIVED, experiment=E_ADVERSARIAL),
        Claim(name="slow-switching-bound", metric="pseudo_regret", kind="upper", free=(), form=_bound(SLOW),
              source=DERIVED, experiment=E_SLOW),
        Claim(name="iid-rate", metric="pseudo_regret", kind="upper", form=RATE, source=C11, experiment=E_IID),
        Claim(name="no-variation", metric="pseudo_regret", kind="upper", form=RATE, source=C11,
              experiment=_experiment("oco-sea-linear", STILL)),
        Claim(name="noise-knob", vacuous=
              ('the uniform null PASSes (exponent 0.0007) and frozen is INCONCLUSIVE: a learner that ignores its data '
               'has a pseudo-regret independent of s here, which meets any upper rate in s; no source gives the '
               'lower side a two-sided claim would need; its force is its mutants'),
              metric="pseudo_regret", kind="upper", form=f"C*sqrt(s**2*T + {SIGMA2_QUADRATIC})",
              source=C11, experiment=Experiment(family="oco-sea-quadratic", over="s", params=KNOB, steps=KNOB_T,
                                                grid=(0.5, 0.71, 1.0, 1.41, 2.0, 2.83, 4.0),
                                                quick_grid=(1.0, 1.41, 2.0, 2.83, 4.0), seeds=300,
                                                quick_seeds=100)),
        Claim(name="minimax-lower", metric="regret", kind="lower", free=(),
              form=_lower(RADEMACHER),
              source="Sachs et al. 2022, Theorem 6 (adversarial end; Hazan 2016, Theorem 3.2's instance)",
              experiment=_experiment("oco-sea-linear", RADEMACHER)),
    ),
    mutants=(
        Mutant(name="fixed-step", bug="V never accumulated: eta = D / sqrt(16 L^2 D^2 + 4 G^2) forever",
               breaks=("adversarial-rate", "adversarial-bound", "iid-rate"), step=step_fixed),
        Mutant(name="wrong-sign-hint", bug="hint added instead of subtracted: x_t = P(x^_t + eta m_t)",
               breaks=("no-variation", "slow-switching-bound"), step=step_wrong_sign),
        Mutant(name="peek", bug="hint taken from the current loss f_t, before x_t is played",
               breaks=("minimax-lower",), step=step_peek),
        Mutant(name="norms-not-squared", bug="V sums ||g_t - m_t|| instead of its square",
               breaks=("noise-knob",), step=step_norms),
    ),
    nulls=online_nulls(("adversarial-rate", "adversarial-bound", "slow-switching-bound", "iid-rate", "no-variation",
                         "noise-knob")),
)

OMD_STRONG = Algorithm(
    name="omd-sea-strong", paper=PAPER, family="oco-sea-quadratic", init=init, step=step_strong,
    metrics=ogd.metrics,
    claims=(
        Claim(name="logarithmic", metric="pseudo_regret", kind="upper", form=STRONG_RATE.format(n="T"),
              source=C12,
              experiment=_experiment("oco-sea-quadratic", STRONG)),
        Claim(name="noise-prefix-plateau", metric="pseudo_regret", kind="upper", form=STRONG_RATE.format(n="T0"),
              source=f"{C12}; catalogue 2.4 regime iv", experiment=_experiment("oco-sea-quadratic", PREFIX)),
    ),
    mutants=(
        Mutant(name="convex-schedule", bug="the convex step D / sqrt(16 L^2 D^2 + 4 G^2 + V) on strongly convex "
               "losses", breaks=("logarithmic",), step=step),
        Mutant(name="no-decay", bug="eta = 1/lam: the 1/t dropped", breaks=("logarithmic", "noise-prefix-plateau"),
               step=step_no_decay),
    ),
    nulls=online_nulls(("logarithmic", "noise-prefix-plateau")),
)

OGD_BASELINE = Algorithm(
    name="ogd-sea", paper=ogd.PAPER, family="oco-sea-linear", init=ogd.init, step=ogd.step_convex,
    metrics=ogd.metrics,
    claims=tuple(Claim(name=f"{name}-bound", metric="pseudo_regret", kind="upper", free=(), form=_zinkevich(params),
                       source="Zinkevich 2003, Theorem 1", experiment=experiment)
                 for name, params, experiment in (("adversarial", ADVERSARIAL, E_ADVERSARIAL),
                                                  ("slow-switching", SLOW, E_SLOW), ("iid", IID, E_IID))),
    mutants=(Mutant(name="wrong-lam", bug=f"strongly convex rule 1/({ogd.WRONG_LAM:g} t) on linear losses",
                    breaks=("adversarial-bound", "slow-switching-bound", "iid-bound"), step=ogd.step_wrong_lam),),
    nulls=online_nulls(("adversarial-bound", "slow-switching-bound", "iid-bound")),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [OMD, OMD_STRONG, OGD_BASELINE]
