"""DIFF2: Murata and Suzuki, "DIFF2: Differential Private Optimization via Gradient Differences for Nonconvex
Distributed Learning", ICML 2023 (PMLR 202:25523-25548), arXiv 2302.03884; and the DP-GD baseline it is
compared with. Catalogue: bandits_online_privacy.md section 8.

P nodes hold n records each; f = (1/P) sum_p f_p is L-smooth and nonconvex, per-sample gradients have norm
<= G. Both algorithms start at x_0 = 0, step eta = 1/L, and output x_rhat, rhat uniform in {0, ..., R-1};
each node adds Gaussian noise to what it sends, in units of its clip radius over n:

    DIFF2-GD   restart rounds (r - 1 divisible by T_r):   v_r = mean_p [ mean_i clip_C1(grad l(x_{r-1}; z_pi))
                                                                     + z1 C1 / n  N(0, I) ]
               other rounds, radius c_r = C2 ||x_{r-1} - x_{r-2}||, the same records at both points:
                   v_r = v_{r-1} + mean_p [ mean_i clip_{c_r}(grad l(x_{r-1}; z_pi) - grad l(x_{r-2}; z_pi))
                                           + z2 c_r / n  N(0, I) ]
    DP-GD      v_r = mean_p [ mean_i clip_C1(grad l(x_{r-1}; z_pi)) + z C1 / n  N(0, I) ]
    both       x_r = x_{r-1} - eta v_r,   C1 = G,  C2 = L (no clipping bias for an L-smooth loss).

Noise calibration (replace-one neighbours: a release of radius c moves by at most 2c / n). A Gaussian
release of multiplier z has privacy-loss shift 2 / z, and Gaussians compose exactly: K1 restarts and K2 = R -
K1 differences at multipliers z1 = 2 sqrt(2 K1) kappa, z2 = 2 sqrt(2 K2) kappa (half of the squared shift to
each kind) compose to one Gaussian of multiplier kappa, which dp-accounting's analytic calibration
(``theory.privacy.gaussian_noise``) makes (eps, delta)-DP. DP-GD: z = 2 sqrt(R) kappa.

Schedules, with B = d kappa^2 / (n^2 P) the variance a unit-radius release adds to v and Delta = f(x_0) - f*
(the instance's ``gap``). DP-GD balances L Delta / R against the noise 4 R B G^2: R = sqrt(L Delta / (4 B)) / G,
error O(sqrt(d) / (n eps)). DIFF2: T_r = G / sqrt(e) balances restart noise 8 (R / T_r) G^2 B against the
difference noise 8 R T_r e B accumulated at steps of length sqrt(e) / L (catalogue 8.2's cross-check);
e^{3/2} = 32 B L Delta G makes their sum e / 2 at R = L Delta / e rounds: error O(d^{2/3} / (n eps)^{4/3}).

Claims (one experiment, so the report draws both rates on one plot):
- ``rate-in-n`` (DIFF2, Theorem 4.3): E||grad f(x_out)||^2 = O(n^{-4/3}) at fixed d, P, eps, delta.
- ``rate-in-n`` (DP-GD, the baseline the abstract quotes): O(n^{-1}).
- ``privacy`` (DIFF2, the accountant's guarantee for the whole run): audited in the ``audit`` mode of the
  ``robust-regression`` family (its canary pair) along the fixed path x_r = r h e1 (the mechanism answers
  queries chosen in advance, a special case of its adaptive guarantee), where every release moves by its
  sensitivity. The statistic is sum_r (2 / z_r) <release_r, e1> / (z_r c_r / n), the likelihood-ratio
  statistic of the composed Gaussians (sufficient), so the audit sees the whole composition. R = 8 rounds per
  audit (restarts and differences both occur at every eps): the power depends on the seeds, not on the rounds.

Mutants: ``no-restart`` (catalogue M7.1) and ``different-samples`` (M7.4) break DIFF2's rate;
``unsquared-variance`` (B written with the sensitivity 1/n, not its square: rounds stop growing with n) and
``std-error-noise`` (noise scaled to C / sqrt(n), the standard error of a mean, not the sensitivity C / n:
private, but no longer shrinking like 1/n) break both rates; ``half-noise`` and ``noise-radius`` (M7.3 turned
around: differences clipped at the fixed C2, noise scaled by C2 ||x_{r-1} - x_{r-2}||, under-noised whenever
steps are short) break privacy. M7.2 (constant clip radius) is registered against the rate.

Where the rate shows. The utility experiment runs at d = 10 (issue 11: the previous d = 1 was chosen after d = 10
measured -1.11 against -4/3), eps = 0.1, n = 1024..32768, chosen before running. A noisy gradient error makes x
move for about L / lambda_min rounds (lambda_min the least Hessian eigenvalue at the optimum) before ||grad f||
reflects it, and the share of each restart period spent catching up falls like 1 / T_r ~ n^{-2/3}: the local slope
approaches -4/3 from above, and with isotropic features L / lambda_min >= d, 12-20 at d = 10. Measured (quick, 64
seeds): DIFF2 -1.05 [-1.07, -1.03] (full, 256 seeds: -1.05 [-1.06, -1.04]), FAIL against -4/3 + 0.1, declared an
expected failure (``PRE_ASYMPTOTIC``); DP-GD -0.988 [-0.998, -0.978], PASS. While DIFF2's own rate FAILs, its rate
mutants cannot count as caught (a catch needs the correct version's PASS), though each FAILs (measured): that is
the cost of the paper's regime at this budget. At d = 1 the local slopes were about -1.19 .. -1.32 and the claim
PASSed. The noise-free part of the metric (the descent from x_0, summed and divided by R) has slope -4/3 exactly.
M7.2 (``constant-clip``) is registered again: at d = 10 it runs (it diverged to a non-finite metric at d = 1) and
FAILs (-0.42). Null learner ``frozen`` (never moves) FAILs both rates (flat).

Issue 11 asked whether ``unsquared-variance``, ``std-error-noise`` and ``constant-clip`` break the privacy claim.
They do not, by construction, so registering them against it would be false: ``unsquared-variance`` changes the
schedule (fewer rounds and restarts) but its multipliers z1, z2 are computed from those same counts, so its
releases compose to the accountant's kappa as the correct ones do; ``std-error-noise`` adds noise C / sqrt(n) >=
C / n, more than the accountant asks for; ``constant-clip`` clips differences at C2 and scales their noise to C2,
the radius it actually clips at, so each release keeps multiplier z2 against its own sensitivity. All three are
utility bugs, like ``no-restart`` and ``different-samples``, and their only honest claim here is the rate, which
cannot count a catch while the correct version's rate is a declared expected failure. Chosen before running: the
audit (quick) is run on each of them as evidence and expected to PASS; the audit step now applies the mutants'
``noise_divisor`` too, so that it audits the noise the utility step adds (before, ``std-error-noise``'s audit ran
the correct noise). Measured (quick, 100,000 seeds, not a registered check: ``check`` refuses a mutant on a claim
it does not break): no violation at any grid point for any of them; the epsilon lower bound nearest its claim
(eps = 0.5) was 0.176 for the correct version, 0.101 (unsquared-variance), 0 (std-error-noise), 0 (constant-clip).
An explicit form of Theorem 4.3 would likely catch all five utility mutants (their measured exponents, in the
declarations below, leave them a factor growing with n above the correct version), but the stored sources give the
bound only up to constants (Theta), and the descent bound one can derive for this schedule does not close with
crude constants, so none is claimed.

What was verified against the paper, and departures. The stored corpora hold the abstract (both rates, and
DP-GD's sqrt(d) / (n eps), not the seed's d / (n eps)) and a summary quoting Theorem 4.3: eps_opt =
Theta((L G d)^{2/3} / (n P eps)^{4/3}) in R = Theta(1 + L / eps_opt + L^2 d / (n^2 P^2 eps^2 eps_opt^2))
rounds, T_r = Theta((G^2 sqrt(d) / (L n P eps))^{2/3} R), radius C2 ||x_{r-1} - x_{r-2}||, Renyi-DP
composition; the body (sigma_1, sigma_2, eta, constants) was not reachable. Checked: our T_r / R = G sqrt(e) /
(L Delta) has the theorem's exponents of G, L, d, n and eps; our R = L Delta / e is the theorem's dominant term
(the third is O(eps_opt^{-1/2})). Reconstructed (R): the noise calibration (exact Gaussian composition, an
equal split of the budget) and the constants. The average over P nodes' independent noise has variance
proportional to 1 / P, so our error scales like P^{-2/3}, not the theorem's P^{-4/3}; P is fixed here. The
rate is measured as the average of ||grad f(x_r)||^2 over r < R (the expectation over rhat, given the run).
delta is fixed (1e-5), not n^{-1.1}, so no log(1/delta) factor enters the fit. Records are m base records
repeated n / m times (``plugins/robust_regression.py``), so f is the same at every n. The family's pseudo-Huber
ridge keeps ||grad f|| away from 0 far from the data: without it, noise that throws x far away lowers the
metric, and ``std-error-noise`` passed DIFF2's rate (slope -1.37). The noise of 32 rounds is drawn in one call
(the same law as a draw per round). Normals are Box-Muller on 32-bit uniforms, truncated beyond about 6.6 sd
(far below delta).

The mutants' switches (``Bugs``) are not hyper-parameters: the paper prescribes none of them (a noise factor of
1, restarts, ...), so they stay out of the algorithms' ``hyper``, where ``theorycheck audit`` would mutate them
as if they were the theorem's settings (and a reader take them for the algorithm's); each mutant replaces
``init`` and ``step`` with the same code run with its switches flipped, rather than overriding a hyper-parameter
that the correct algorithm would have to declare for its mutants' sake. ``hyper`` keeps only ``diff2``, which
picks the estimator of the gradient (DIFF2 or DP-GD) and is not a bug.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import torch

from plugins.robust_regression import CANARY_SCALE, REGRESSION
from theory import Algorithm, Claim, Experiment, Mutant, Paper, gaussian_noise, hookimpl, measures

PAPER = Paper(title="DIFF2: Differential Private Optimization via Gradient Differences for Nonconvex "
                    "Distributed Learning", authors="Murata, Suzuki", year=2023, arxiv="2302.03884")
STEPS = 4200  # rounds the utility experiment runs; the rounds a schedule asks for must fit
BLOCK = 32  # rounds whose noise is drawn in one call


@dataclasses.dataclass(frozen=True)
class Bugs:
    """The mutants' switches; the defaults are the algorithm as the paper states it."""

    noise_factor: float = 1.0   # noise scale against the accountant's
    restart: bool = True        # False: T_r = R (M7.1)
    adaptive_clip: bool = True  # False: differences clipped at the constant C2 (M7.2)
    same_samples: bool = True   # False: a difference's two gradients on different records (M7.4)
    noise_radius: str = "clip"  # "step": difference noise scaled to C2 ||x_{r-1} - x_{r-2}||, not the clip radius
    squared: bool = True        # False: B written with the sensitivity 1/n, not its square
    noise_divisor: str = "n"    # "sqrt": noise in units of C / sqrt(n), not C / n


CORRECT = Bugs()


@functools.lru_cache(maxsize=256)
def _kappa(eps: float, delta: float) -> float:
    return gaussian_noise(eps, delta, sensitivity=1.0)


def schedule(inst, hyper, diff2: bool, bugs: Bugs = CORRECT) -> dict:
    """Rounds, restart period and noise multipliers the theory prescribes for this instance."""
    kappa = _kappa(inst.eps, inst.delta)
    nodes, d = int(inst.params["P"]), int(inst.params["d"])
    unit = d * kappa**2 / (inst.n ** (2 if bugs.squared else 1) * nodes)
    big_l, g, gap = inst.smooth, inst.lipschitz, inst.gap
    e = (32 * unit * big_l * gap * g) ** (2 / 3)
    rounds = math.ceil(big_l * gap / e) if diff2 else math.ceil(math.sqrt(big_l * gap / (4 * unit)) / g)
    if inst.mode == "audit":
        rounds = int(hyper["horizon"])
    if rounds > hyper["horizon"]:
        raise ValueError(f"the schedule asks for {rounds} rounds, more than the experiment's {hyper['horizon']}")
    period = min(rounds, math.ceil(g / math.sqrt(e))) if bugs.restart else rounds
    restarts = math.ceil(rounds / period)
    if not diff2:
        return {"R": rounds, "period": 1, "z1": 2 * math.sqrt(rounds) * kappa, "z2": 0.0}
    return {"R": rounds, "period": period, "z1": 2 * math.sqrt(2 * restarts) * kappa,
            "z2": 2 * math.sqrt(2 * max(1, rounds - restarts)) * kappa}


def _clip(v: torch.Tensor, radius) -> torch.Tensor:
    norm = v.norm(dim=-1, keepdim=True)
    return v * torch.clamp(radius / norm.clamp_min(1e-300), max=1.0)


def init(inst, hyper, gen, bugs: Bugs = CORRECT):
    d = inst.a.shape[-1]
    zero = torch.zeros(inst.batch, d)
    return {"x": zero, "x_prev": zero, "v": zero, "sum_sq": torch.zeros(inst.batch), "grads": torch.zeros_like(inst.a),
            "noise": torch.zeros(inst.batch, BLOCK, inst.a.shape[1], d),
            "stat": torch.zeros(inst.batch, 2), "rounds": torch.full((inst.batch,), _plan(inst, hyper, bugs)["R"])}


_PLANS: dict[tuple, dict] = {}  # schedules are pure functions of this key: computed once, not every step


def _plan(inst, hyper, bugs: Bugs) -> dict:
    key = (inst.n, inst.eps, inst.delta, inst.mode, inst.scale, inst.ridge, inst.gap, inst.params["P"],
           inst.params["d"], hyper["horizon"], bugs.restart, bugs.squared, hyper["diff2"])
    if key not in _PLANS:
        _PLANS[key] = schedule(inst, hyper, hyper["diff2"], bugs)
    return _PLANS[key]


def _radii(claimed: torch.Tensor, fixed: float, bugs: Bugs) -> tuple[torch.Tensor, torch.Tensor]:
    """Clip and noise radius of a difference release, given the radius the accountant was told (``claimed``)."""
    radius = claimed if bugs.adaptive_clip else torch.full_like(claimed, fixed)
    return radius, claimed if bugs.noise_radius == "step" else radius


def step(state, inst, t, hyper, gen, bugs: Bugs = CORRECT):
    plan = _plan(inst, hyper, bugs)
    if t > plan["R"]:
        return state
    if inst.mode == "audit":
        return _audit_step(state, inst, t, gen, plan, bugs)
    x, x_prev = state["x"], state["x_prev"]
    n = inst.n if bugs.noise_divisor == "n" else math.sqrt(inst.n)
    if (t - 1) % BLOCK == 0:  # draw BLOCK rounds' noise at once: one call instead of BLOCK
        state = {**state, "noise": gen.normal("noise", t, BLOCK, inst.a.shape[1], x.shape[1])}
    noise = state["noise"][:, (t - 1) % BLOCK] * (bugs.noise_factor / n)  # (seeds, P, d)
    grads = inst.sample_grads(x)  # (seeds, P, m, d); the next round's gradients at x_{r-2}
    if (t - 1) % plan["period"] == 0:
        v = (_clip(grads, inst.lipschitz).mean(2) + plan["z1"] * inst.lipschitz * noise).mean(1)
    else:
        before = state["grads"] if bugs.same_samples else state["grads"].roll(1, dims=2)
        claimed = inst.smooth * (x - x_prev).norm(dim=-1)[:, None, None]  # C2 ||x_{r-1} - x_{r-2}||: (seeds, 1, 1)
        radius, noise_radius = _radii(claimed, inst.smooth, bugs)
        moved = _clip(grads - before, radius[..., None]).mean(2)
        v = state["v"] + (moved + plan["z2"] * noise_radius * noise).mean(1)
    sum_sq = state["sum_sq"] + grads.mean(dim=(1, 2)).square().sum(-1)
    return {**state, "x": x - v / inst.smooth, "x_prev": x, "v": v, "sum_sq": sum_sq, "grads": grads}


def _audit_step(state, inst, t, gen, plan, bugs: Bugs):
    """One release on D (canary z+) and D' (z-) at node 0 along x_r = r h e1; n - 1 null records add 0. The pair
    and the path are the same for every seed, so the clipped gradients are computed once and only noise is
    per seed."""
    h = 0.5 / (CANARY_SCALE * plan["R"])
    pair = dataclasses.replace(inst, a=inst.a[:1], b=inst.b[:1], batch=1)
    e1 = torch.zeros(1, 2, inst.a.shape[-1])
    e1[..., 0] = torch.tensor([t - 1, t - 2]) * h
    grads, before = pair.sample_grads(e1)[:, :, :, 0].unbind(1)  # each (1, 2, d): z+ and z-
    if (t - 1) % plan["period"] == 0:
        z, claimed = plan["z1"], torch.full((1, 1), inst.lipschitz)
        moved, noise_radius = _clip(grads, claimed[..., None]), claimed
    else:
        z, claimed = plan["z2"], torch.full((1, 1), inst.smooth * h)
        radius, noise_radius = _radii(claimed, inst.smooth, bugs)
        moved = _clip(grads - before, radius[..., None])
    n = inst.n if bugs.noise_divisor == "n" else math.sqrt(inst.n)
    noise = gen.normal("audit", t, 2) * (bugs.noise_factor * z * noise_radius / n)  # (seeds, 2)
    release = moved[..., 0] / inst.n + noise
    return {**state, "stat": state["stat"] + (2 / z) * release / (z * claimed / inst.n)}


def step_frozen(state, inst, t, hyper, gen):
    """Null learner: stays at x_0 and releases nothing; the metric still averages ||grad f(x_0)||^2."""
    if t > int(state["rounds"][0]) or inst.mode == "audit":  # rounds: the algorithm's plan, set by its init
        return state
    grads = inst.sample_grads(state["x"])
    return {**state, "sum_sq": state["sum_sq"] + grads.mean(dim=(1, 2)).square().sum(-1)}


FROZEN = (Mutant(name="frozen", bug="null learner: never moves from x_0", breaks=("rate-in-n",), step=step_frozen),)


@measures("grad_norm_sq", "release", "release_neighbour")
def metrics(state, inst):
    rounds = max(1, int(state["rounds"][0]))
    return {"grad_norm_sq": state["sum_sq"] / rounds, "release": state["stat"][:, 0],
            "release_neighbour": state["stat"][:, 1]}


NAMES = ("grad_norm_sq", "release", "release_neighbour")
PRE_ASYMPTOTIC = ("measured -1.05 [-1.07, -1.03] (quick, 64 seeds, n in [8192, 32768]) against -4/3 at d = 10: "
                  "the catch-up share 1/T_r ~ n^(-2/3) still bends the slope at these n (module docstring)")
UTILITY = Experiment(family="robust-regression", over="n", params={"d": 10, "eps": 0.1, "delta": 1e-5},
                     steps=STEPS, grid=(1024, 2048, 4096, 8192, 16384, 32768), seeds=256, quick_seeds=64)
AUDIT = Experiment(family="robust-regression", over="eps", mode="audit", params={"n": 96, "d": 1, "delta": 1e-5,
                                                                                "m": 1}, steps=8,
                   grid=(0.5, 1.0, 2.0, 4.0, 8.0), seeds=200_000, quick_seeds=100_000)


def _bugged(**switches) -> dict:
    """A mutant's init and step: the algorithm's own, run with ``switches`` flipped (``Bugs``)."""
    bugs = Bugs(**switches)
    return {"init": lambda inst, hyper, gen: init(inst, hyper, gen, bugs),
            "step": lambda state, inst, t, hyper, gen: step(state, inst, t, hyper, gen, bugs)}


RATE_MUTANTS = (
    Mutant(name="unsquared-variance", bug="the schedule's noise variance B written with 1/n, the sensitivity, "
                                          "not its square: rounds and noise stop tracking n",
           breaks=("rate-in-n",), **_bugged(squared=False)),
    Mutant(name="std-error-noise", bug="noise scaled to C / sqrt(n), the standard error of a mean, instead of "
                                       "the sensitivity C / n: over-noised, so private, but no n^-1 decay",
           breaks=("rate-in-n",), **_bugged(noise_divisor="sqrt")),
)

def _uncatchable(measured: str) -> dict[str, str]:
    """DIFF2's rate at d = 10 is a declared expected failure, so its rate mutants cannot count as caught."""
    return {"rate-in-n": f"FAILs (exponent {measured}, quick), but the correct version is a declared expected "
                         "failure at d = 10, so no mutant can count as caught"}


SHARED = dict(paper=PAPER, family="robust-regression", init=init, step=step, metrics=metrics,
              schedule="per_horizon")  # one init/step for both: ``hyper["diff2"]`` picks the estimator of the gradient

DIFF2 = Algorithm(
    name="diff2-gd", hyper={"diff2": True}, **SHARED,
    claims=(
        Claim(name="rate-in-n", metric="grad_norm_sq", kind="upper", form="C*n**(-4/3)",
              source="Theorem 4.3: E||grad f||^2 = O((L G d)^{2/3} / (n P eps)^{4/3})", experiment=UTILITY,
              expected_failure=PRE_ASYMPTOTIC),
        Claim(name="privacy", metric="release", neighbour="release_neighbour", kind="privacy", form="eps",
              delta="delta", source="Theorem 4.3's (eps, delta)-DP, noise by dp-accounting (reconstructed split)",
              experiment=AUDIT),
    ),
    mutants=(
        Mutant(name="no-restart", bug="M7.1: T_r = R, the full gradient is released once",
               breaks=("rate-in-n",), **_bugged(restart=False), missed=_uncatchable("-0.716 [-0.736, -0.697]")),
        Mutant(name="different-samples", bug="M7.4: the two gradients of a difference use different records",
               breaks=("rate-in-n",), **_bugged(same_samples=False), missed=_uncatchable("-0.068 [-0.143, 0.006]")),
        dataclasses.replace(RATE_MUTANTS[0], missed=_uncatchable("0.0")),
        dataclasses.replace(RATE_MUTANTS[1], missed=_uncatchable("-0.033 [-0.035, -0.032]")),
        Mutant(name="half-noise", bug="noise at half the scale the accountant asks for",
               breaks=("privacy",), **_bugged(noise_factor=0.5)),
        Mutant(name="noise-radius", bug="M7.3 variant: clip at fixed C2, noise scaled to C2 ||x_{r-1} - x_{r-2}||",
               breaks=("privacy",), **_bugged(adaptive_clip=False, noise_radius="step")),
        Mutant(name="constant-clip", bug="M7.2: differences clipped and noised at the constant radius C2, without "
               "the ||x_{r-1} - x_{r-2}|| factor", breaks=("rate-in-n",), **_bugged(adaptive_clip=False),
               missed=_uncatchable("-0.421 [-0.445, -0.397]")),
    ),
    nulls=FROZEN,
)

DPGD = Algorithm(
    name="dp-gd", hyper={"diff2": False}, **SHARED,
    claims=(
        Claim(name="rate-in-n", metric="grad_norm_sq", kind="upper", form="C/n",
              source="DP-GD baseline in the abstract: O(sqrt(d) / (n eps))", experiment=UTILITY),
    ),
    mutants=RATE_MUTANTS,
    nulls=FROZEN,
)


@hookimpl
def theorycheck_algorithms():
    return [DIFF2, DPGD]


@hookimpl
def theorycheck_families():
    return [REGRESSION]
