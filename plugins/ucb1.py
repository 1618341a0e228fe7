"""UCB1: Auer, Cesa-Bianchi and Fischer, "Finite-time Analysis of the Multiarmed Bandit Problem",
Machine Learning 47 (2002), Theorem 1.

Update, for rewards in [0, 1]: play every arm once, then at step t play

    A_t = argmax_i  s_i / n_i + sqrt(2 ln t / n_i)

where n_i is the number of pulls of arm i and s_i the sum of its rewards.

Claims:
- ``gap-dependent`` (Theorem 1): E[R_T] <= sum_{i: Delta_i > 0} 8 ln T / Delta_i + (1 + pi^2/3) sum_i Delta_i,
  checked as the explicit bound it is, on Auer et al.'s distribution 1 (two arms, 0.9 and 0.6). Chosen before
  running so that a learner that never explores exceeds the bound: greedy locks onto the worse arm when the
  best one's first reward is 0 and the other's is 1 (probability 0.06, more with ties), about 0.02 T regret,
  above the bound 26.7 ln T + 1.3 from T ~ 10^4 on; the grid runs to 2^15 (quick) and 2^16. The five-armed
  instance used before (0.9, 0.8, 0.8, 0.7, 0.5) has a bound of 220 ln T, which greedy stayed under (mean/bound
  0.65 at T = 32768): the bound held by construction there.
- ``logarithmic`` (Theorem 1 read as a rate): E[R_T] = O(log T) on a two-armed instance with a large gap,
  where UCB1 leaves its burn-in early; fitted on the increments of the regret between grid points.
- ``gap-free`` (the distribution-free corollary of Theorem 1): E[R_T] = O(sqrt(K T log T)) on every instance,
  checked on the same instance and trace: a necessary condition, which a bug with linear regret breaks. The
  theorem's worst case, a gap near sqrt(K log(T) / T), would catch nothing: there every algorithm, even one
  that never learns, has regret at most T Delta = sqrt(K T log T).

Null learners (``theory.bandit_nulls``): uniform and frozen arms, linear regret, must FAIL
every claim; the ``greedy`` mutant is the third (no exploration) and is registered to break all three.

Mutant ``exploration-0.1`` (bonus sqrt(0.1 ln t / n)) is missed on both claims it is registered against, and
no claim of the paper on an instance this budget can run would catch it (reasoned, not searched: no instance was
tried). Theorem 1 bounds the mean, and the mutant's extra mean regret comes only from runs where the best arm's
first rewards put its index under the other arm's mean mu_2 for most of the horizon: after n pulls with s
successes that lasts until ln t > n (mu_2 - s/n)^2 / 0.1. To last past T = 2^16 (ln T = 11.1), two zeros are
enough only if mu_2 > 0.75, and then mu_1 > mu_2 makes zeros rare ((1 - mu_1)^2 < 0.06); where zeros are common
(mu_1 = 0.5, mu_2 = 0.4) seven in a row are needed. Summing such paths gives a locked share of the horizon of
about 1.5% on (0.9, 0.8) and about 5% on (0.5, 0.4), against the 13.5% the mean needs there (Delta = 0.1) to pass
Theorem 1's 8 ln T / Delta. That share falls like a power of 1 / ln T and the bound's like ln T / T, so they
cross near T = 2^24 on (0.5, 0.4), where the locks have probability about 0.2%: thousands of seeds of 1.6e7
steps. Theorem 1 claims nothing about quantiles, so a high-quantile claim would not be the paper's. Measured
on Auer et al.'s distribution 1 (0.9, 0.6): ``gap-dependent`` PASSes at 0.127 [-0.080, 0.335] of the bound
(quick) and 0.201 [-0.182, 0.584] (full), the wide intervals being those rare locks; ``logarithmic`` is
INCONCLUSIVE, -0.314 (quick) and 0.839 (full), with unbounded intervals.

Departures from the paper: none in the update. Ties in the argmax go to the lowest index; the instance shuffles
its arms per seed so this favours no arm.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from theory import (
    Algorithm,
    Claim,
    Experiment,
    Kernel,
    Mutant,
    Paper,
    bandit_nulls,
    hookimpl,
    jit,
    kernel_uniform,
    measures,
)

PAPER = Paper(title="Finite-time Analysis of the Multiarmed Bandit Problem",
              authors="Auer, Cesa-Bianchi, Fischer", year=2002)
FIXED_MEANS = (0.9, 0.6)  # Auer, Cesa-Bianchi and Fischer's distribution 1


def init(instance, hyper, gen):
    shape = (instance.batch, instance.arms)
    return {"pulls": torch.zeros(shape), "sums": torch.zeros(shape), "regret": torch.zeros(instance.batch)}


def _play(state, instance, t, gen, index):
    """Pull every arm once (steps 1..K), then the arm with the largest index."""
    arm = torch.full((instance.batch,), t - 1) if t <= instance.arms else index.argmax(dim=1)
    reward, regret = instance.pull(arm, t, gen)
    arm = arm[:, None]
    return {"pulls": state["pulls"].scatter_add(1, arm, torch.ones_like(state["regret"])[:, None]),
            "sums": state["sums"].scatter_add(1, arm, reward[:, None]),
            "regret": state["regret"] + regret}


def step(state, instance, t, hyper, gen):
    pulls = state["pulls"].clamp_min(1)
    bonus = torch.sqrt(hyper["exploration"] * math.log(t) / pulls)
    return _play(state, instance, t, gen, state["sums"] / pulls + bonus)


def step_own_count(state, instance, t, hyper, gen):
    """The bonus with the log of the arm's own count instead of the step: too little exploration."""
    pulls = state["pulls"].clamp_min(1)
    bonus = torch.sqrt(hyper["exploration"] * torch.log(pulls) / pulls)
    return _play(state, instance, t, gen, state["sums"] / pulls + bonus)


def step_greedy(state, instance, t, hyper, gen):
    pulls = state["pulls"].clamp_min(1)
    return _play(state, instance, t, gen, state["sums"] / pulls)


@jit
def _steps(pulls, sums, regret, seed_keys, reward_key, means, exploration, first, last):
    """Steps ``first..last`` of ``step``, compiled (the arrays are updated in place)."""
    batch, arms = pulls.shape
    best_mean = np.empty(batch)
    for b in range(batch):
        best_mean[b] = means[b].max()
    index = np.empty(arms)
    for t in range(first, last + 1):
        scale = exploration * math.log(t)
        for b in range(batch):
            arm = t - 1
            if t > arms:
                for i in range(arms):  # a loop of its own, which the compiler vectorises
                    n = max(pulls[b, i], 1.0)
                    index[i] = sums[b, i] / n + math.sqrt(scale / n)
                arm = index.argmax()
            mean = means[b, arm]
            pulls[b, arm] += 1.0
            sums[b, arm] += 1.0 if kernel_uniform(seed_keys[b], reward_key, t, 1, 0) < mean else 0.0
            regret[b] += best_mean[b] - mean


KERNEL = Kernel(steps=_steps, state=("pulls", "sums", "regret"), streams=("reward",),
                inputs=lambda instance, hyper: (instance.bernoulli_means(), float(hyper["exploration"])))


@measures("regret")
def metrics(state, instance):
    return {"regret": state["regret"]}


def _gap_bound() -> str:
    """Theorem 1's bound written out for the fixed instance (gaps are known numbers)."""
    gaps = [FIXED_MEANS[0] - m for m in FIXED_MEANS[1:]]
    return f"{sum(8 / g for g in gaps):.12g}*log(T) + {(1 + math.pi**2 / 3) * sum(gaps):.12g}"


GRID = (1024, 2048, 4096, 8192, 16384, 32768)
QUICK_GRID = (512, 1024, 2048, 4096, 8192)


BOUND_GRID = tuple(2**i for i in range(11, 17))
BOUND_QUICK_GRID = tuple(2**i for i in range(11, 16))


def _experiment(seeds: int = 200, **params) -> Experiment:
    return Experiment(family="bernoulli-bandit", over="T", params=params, grid=GRID, quick_grid=QUICK_GRID,
                      seeds=seeds)


UCB1 = Algorithm(
    name="ucb1", paper=PAPER, family="bernoulli-bandit", init=init, step=step, kernel=KERNEL, metrics=metrics,
    hyper={"exploration": 2.0},
    claims=(
        Claim(name="gap-dependent", metric="regret", kind="upper", form=_gap_bound(), free=(), source="Theorem 1",
              experiment=Experiment(family="bernoulli-bandit", over="T", params={"K": 2, "means": FIXED_MEANS},
                                    grid=BOUND_GRID, quick_grid=BOUND_QUICK_GRID, seeds=400)),
        Claim(name="logarithmic", quick_expected_failure=
              ('INCONCLUSIVE at --quick: the local slope on T in [2048, 8192] is 0.036 [-0.005, 0.077] against the '
               'allowance 0.063 (0.041 [0.015, 0.067] at 2400 seeds): the quick grid stops short of the asymptote; '
               'full fidelity PASSes, -0.028 [-0.073, 0.016] on T in [5793, 23170]'),
              metric="regret", kind="upper", form="C*log(T)", source="Theorem 1",
              experiment=_experiment(K=2, means=(0.9, 0.6), seeds=1000)),
        Claim(name="gap-free", metric="regret", kind="upper", form="C*sqrt(K*T*log(T))",
              source="Theorem 1 (distribution-free corollary)",
              experiment=_experiment(K=2, means=(0.9, 0.6), seeds=1000)),
    ),
    mutants=(
        Mutant(name="greedy", quick_missed={"logarithmic":
               ('FAILs at --quick (exponent 1.0), but the correct version is a declared expected failure, so no '
                'mutant can count as caught at --quick')
               }, bug="exploration bonus dropped", breaks=("gap-dependent", "logarithmic", "gap-free"),
               step=step_greedy),
        Mutant(name="exploration-0.1", missed={"gap-dependent":
               ("PASSes at 0.127 [-0.080, 0.335] of Theorem 1's bound (quick), 0.201 [-0.182, 0.584] (full): on "
                "this instance too little exploration still meets it; no Bernoulli instance locks the best arm "
                "out often enough at these horizons (module docstring)")
               , "logarithmic":
               ('INCONCLUSIVE: quick -0.314 [-inf, inf], full 0.839 [-inf, inf] (a mean increment not credibly '
                'positive): its regret is too noisy across seeds to decide')
               }, bug="exploration constant 0.1 instead of 2: too little exploration",
               breaks=("gap-dependent", "logarithmic"), hyper={"exploration": 0.1}),
        Mutant(name="own-count", quick_missed={"logarithmic":
               ('FAILs at --quick (0.894 [0.865, 0.924]), but the correct version is a declared expected failure, so'
                ' no mutant can count as caught at --quick')
               }, bug="bonus uses log of the arm's own pull count, not log t",
               breaks=("logarithmic",), step=step_own_count),
    ),
    nulls=bandit_nulls(("gap-dependent", "logarithmic", "gap-free")),
)


@hookimpl
def theorycheck_algorithms():
    return [UCB1]

