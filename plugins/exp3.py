"""EXP3, loss-based: Bubeck and Cesa-Bianchi, "Regret Analysis of Stochastic and Nonstochastic Multi-armed
Bandit Problems", Foundations and Trends in Machine Learning 5(1), 2012 (arXiv 1204.5721), Section 3.1,
Theorem 3.1 (the algorithm is Auer, Cesa-Bianchi, Freund and Schapire 2002).

Update, for losses l_t in [0, 1] (here l_t = 1 - r_t for the Bernoulli rewards r_t), from L_i = 0:

    p_t(i) = exp(-eta L_i) / sum_j exp(-eta L_j),   A_t ~ p_t,   L_{A_t} += l_t / p_t(A_t),

with eta = sqrt(2 ln K / (T K)) for the horizon T: the algorithm is not anytime and is run once per grid point.

Claims, on a stochastic 8-armed Bernoulli instance (one arm at 0.8, seven at 0.5, shuffled per seed), where
the pseudo-regret sum_t (mu* - mu_{A_t}) is the quantity Theorem 3.1 bounds: the losses l_{i,t} = 1{u_t >=
mu_i} are fixed in advance by the uniforms u_t, an oblivious adversary.
- ``bound`` (Theorem 3.1): pseudo-regret <= sqrt(2 T K ln K), an explicit bound checked at every grid point.
- ``sqrt-rate`` (Theorem 3.1): pseudo-regret O(sqrt(T K ln K)). On a fixed instance EXP3 pays about 1/eta
  while its weights separate, which grows like sqrt(T): the rate is met, not beaten.

No adversarial instance is needed to catch the mutants. Without importance weighting the estimate of arm i
grows like p_i l_i, which settles where p_i is proportional to 1 / l_i: a fixed share of the steps on
suboptimal arms (about three quarters here). With eta = 1 the weights swing with every loss and a constant
share of the steps goes to suboptimal arms too (about a third here, measured). Both regrets grow almost
linearly here (fitted exponents 0.97 and 0.9). With eta four times the theorem's, EXP3 is still O(sqrt T) but
its constant is not the theorem's: the mutant ``eta-x4`` is registered against the explicit ``bound`` only.
Null learners: uniform and frozen arms (``theory.bandit_nulls``), linear regret.

Why ``eta-x4`` stays missed (reasoned; no other instance was tried). Theorem 3.1's proof gives
ln K / eta + eta K T / 2 at any eta, which at four times the theorem's eta is 2.125 sqrt(2 T K ln K): the
mutant breaks the claimed bound only on a sequence where it reaches 47% of its own worst case. Neither term is
near tight on the sequences that can be written down in advance with a prediction. With a fixed best arm a
larger eta only separates the weights sooner: measured here, 0.364 [0.353, 0.376] of the bound (quick and full
alike) against the correct version's 0.621. On the alternating sequence, the classic case against a large step
(the leader changes every round), the importance-weighted update is unbiased, so to first order the step costs
what it costs in full information, about eta T / 8: at K = 2 and four times the theorem's eta that is
0.42 sqrt(T), against the bound 1.67 sqrt(T). A sequence on which the variance term eta K T / 2 is tight for
this estimator is not in the paper, so no instance was chosen.

Departures from the paper: none in the update. The weights are computed from L - min L (the same
probabilities, no overflow); sampling is by inverse CDF from ``Gen.categorical``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from theory import (
    Algorithm,
    Claim,
    Experiment,
    Gen,
    Kernel,
    Mutant,
    Paper,
    bandit_nulls,
    hookimpl,
    jit,
    kernel_uniform,
    measures,
)

if TYPE_CHECKING:
    from theory import BanditInstance

State = dict[str, torch.Tensor]  # per-arm tensors of shape (seeds, K) and the regret, shape (seeds,)
Hyper = Mapping[str, Any]

PAPER = Paper(title="Regret Analysis of Stochastic and Nonstochastic Multi-armed Bandit Problems",
              authors="Bubeck, Cesa-Bianchi", year=2012, arxiv="1204.5721")


def init(instance: BanditInstance, hyper: Hyper, gen: Gen) -> State:
    return {"estimates": torch.zeros(instance.batch, instance.arms), "regret": torch.zeros(instance.batch)}


def _play(state: State, instance: BanditInstance, t: int, hyper: Hyper, gen: Gen, weighted: bool = True) -> State:
    """Sample an arm from the exponential weights and add its (importance-weighted) loss to its estimate."""
    arms, estimates = instance.arms, state["estimates"]
    eta = _learning_rate(hyper, arms)
    weights = torch.exp(-eta * (estimates - estimates.min(dim=1, keepdim=True).values))
    probs = weights / weights.sum(dim=1, keepdim=True)
    arm = gen.categorical("arm", t, probs)[:, None]
    reward, regret = instance.pull(arm[:, 0], t, gen)
    loss = (1 - reward)[:, None]
    return {"estimates": estimates.scatter_add(1, arm, loss / probs.gather(1, arm) if weighted else loss),
            "regret": state["regret"] + regret}


def _learning_rate(hyper: Hyper, arms: int) -> float:
    return hyper["eta"] or hyper["eta_scale"] * math.sqrt(2 * math.log(arms) / (hyper["horizon"] * arms))


def step(state: State, instance: BanditInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    return _play(state, instance, t, hyper, gen)


def step_unweighted(state: State, instance: BanditInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """The loss added without dividing by the probability of the arm played: a biased estimate."""
    return _play(state, instance, t, hyper, gen, weighted=False)


@jit
def _steps(estimates, regret, seed_keys, arm_key, reward_key, means, eta, first, last):
    """Steps ``first..last`` of ``step``, compiled (the arrays are updated in place)."""
    batch, arms = estimates.shape
    probs, cdf = np.empty(arms), np.empty(arms)
    for s in range(batch):
        best_mean = means[s].max()
        for t in range(first, last + 1):
            low, total = estimates[s].min(), 0.0
            for i in range(arms):
                probs[i] = math.exp(-eta * (estimates[s, i] - low))
                total += probs[i]
            running = 0.0
            for i in range(arms):
                probs[i] /= total
                running += probs[i]
                cdf[i] = running
            u = kernel_uniform(seed_keys[s], arm_key, t, 1, 0)
            arm = min(np.searchsorted(cdf, u * cdf[-1], side="right"), arms - 1)
            loss = 0.0 if kernel_uniform(seed_keys[s], reward_key, t, 1, 0) < means[s, arm] else 1.0
            estimates[s, arm] += loss / probs[arm]
            regret[s] += best_mean - means[s, arm]


KERNEL = Kernel(steps=_steps, state=("estimates", "regret"), streams=("arm", "reward"),
                inputs=lambda instance, hyper: (instance.bernoulli_means(), _learning_rate(hyper, instance.arms)))


@measures("regret")
def metrics(state: State, instance: BanditInstance) -> dict[str, torch.Tensor]:
    return {"regret": state["regret"]}


GRID = (100, 200, 400, 800, 1600, 3200, 6400, 12800)
QUICK_GRID = (200, 400, 800, 1600, 3200)
EXPERIMENT = Experiment(family="bernoulli-bandit", over="T", params={"K": 8, "best": 0.8, "gap": 0.3},
                        grid=GRID, quick_grid=QUICK_GRID, seeds=500, quick_seeds=500)

EXP3 = Algorithm(
    name="exp3", paper=PAPER, family="bernoulli-bandit", init=init, step=step, kernel=KERNEL, metrics=metrics,
    hyper={"eta": None, "eta_scale": 1.0}, schedule="per_horizon",  # eta None: Thm 3.1
    claims=(
        Claim(name="bound", metric="regret", kind="upper", form="sqrt(2*T*K*log(K))", free=(),
              source="Theorem 3.1", experiment=EXPERIMENT),
        Claim(name="sqrt-rate", metric="regret", kind="upper", form="C*sqrt(T*K*log(K))", source="Theorem 3.1",
              experiment=EXPERIMENT),
    ),
    mutants=(
        Mutant(name="unweighted", bug="no importance weighting: L_A += l instead of l / p_A",
               breaks=("bound", "sqrt-rate"), step=step_unweighted),
        Mutant(name="eta-one", bug="learning rate fixed at 1 instead of sqrt(2 ln K / (T K))",
               breaks=("bound", "sqrt-rate"), hyper={"eta": 1.0}),
        Mutant(name="eta-x4", missed={"bound":
               ('PASSes at 0.364 [0.353, 0.376] of the bound (quick and full): on this stochastic instance four '
                'times the learning rate only lowers the regret, and no sequence in advance makes its own bound, '
                '2.125 times this one, tight enough (module docstring)')
               }, bug="learning rate 4 sqrt(2 ln K / (T K)): the theorem's rate mis-scaled",
               breaks=("bound",), hyper={"eta_scale": 4.0}),
    ),
    nulls=bandit_nulls(("bound", "sqrt-rate")),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [EXP3]
