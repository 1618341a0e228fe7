"""Online learning with switching costs: K actions, losses in [0, 1], a unit cost for every switch of action.

The learner pays l_t(X_t) every round plus 1 whenever X_t != X_{t-1}. Two families:

- ``switching-mrw``: the multi-scale random walk of Dekel, Ding, Koren and Peres (STOC 2014), the instance
  behind the Omega~(K^{1/3} T^{2/3}) lower bound under bandit feedback, fixed in advance (an oblivious
  adversary). W_0 = 0, W_t = W_{rho(t)} + xi_t with xi_t ~ N(0, sigma^2) and rho(t) = t - 2^{delta(t)},
  delta(t) the largest i with 2^i | t: rho clears the lowest set bit of t, so W_t sums the xi along the chain
  t, rho(t), ..., 0 (log2 T vectorised passes). l_t(i) = clip(W_t + 1/2 - eps 1{i = chi}, 0, 1) with chi
  uniform per seed. Defaults are Dekel et al.'s: sigma = 1 / (9 log2 T), eps = K^{1/3} T^{-1/3} / (9 log2 T).
  Every action shares the walk, so a loss seen at one time says little about another action seen at another
  time: only switching reveals chi.
- ``switching-bernoulli``: stochastic, l_t(i) ~ Bernoulli(mu_i) independently; the best action (random per
  seed) at ``mean - gap/2``, the others at ``mean + gap/2``. A gap such as ``sqrt(K/B)`` is the hardest scale
  for a budget of B observations (catalogue 3.4, which puts the others at ``mean`` and the best at
  ``mean - gap``: centring gives every action the same variance, so regret / (T gap) does not drift with the
  gap; with the catalogue's placement it bent fitted budget slopes by about 0.03). Losses are drawn when the
  learner observes them (keyed by the learner's block, as ``bernoulli-bandit`` draws a reward when an arm is
  pulled): i.i.d. draws need no table, and a table of T K draws per seed would cost more than the whole run.
  Draws of different kinds for one block (the free feedback, a paid row) are independent of each other, which
  is right for an algorithm that uses one kind per block, as ``switching-costs`` does.
- ``switching-trap``: deterministic losses fixed in advance by an adversary that knows the learner's block
  schedule (an oblivious adversary may know the algorithm, not its random draws): with N = floor(B / K) blocks
  of near-equal length T / N (the schedule of a learner that buys K-entry rows with a total budget B), the
  first round of every block, t = round(b T / N) + 1, charges the best action 1 and the others 0; every other
  round charges the best action 0 and the others 1/2. The best action (random per seed) totals N, the others
  (T - N) / 2, so N < T / 3 is required. A row observed at a uniform round of the block estimates the block's
  losses without bias; a row always observed at its first round sees only the trap.

The feedback model is part of the instance (catalogue 3.1): ``free_bandit`` = 1 means the learner sees
l_t(X_t) every round for free (bandit feedback); ``budget`` is how many further entries l_t(j) of the current
round it may observe over the horizon (``K*T`` is full information). Bandit feedback with B_ex extra
observations is (free_bandit=1, budget=B_ex); the total-budget setting is (free_bandit=0, budget=B). The
instance serves losses and does not police the budget: an algorithm counts what it observes in a metric and a
claim checks the count (the runner measures, the checker judges).

Regret (catalogue 0.3): sum_t m_t(X_t) + #switches - min_i sum_t m_t(i), where m_t is the mean loss: the loss
itself for the walk (regret against the best action in hindsight, which is chi) and mu for the Bernoulli
family (pseudo-regret, free of the noise of a realised comparator).
Parameters: ``K``, ``T`` (the horizon), ``free_bandit``, ``budget``, ``eps`` and ``sigma`` (walk; 0 means
Dekel et al.'s value), ``mean`` and ``gap`` (Bernoulli); the trap reads only ``K``, ``T`` and ``budget``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Family, Gen, Instance, Param, hookimpl

_BEST_STREAM = "instance/best-action"


@dataclass(frozen=True, kw_only=True)
class SwitchingInstance(Instance):
    """Rounds are 1..T; a block (t0, t1] holds rounds t0 < t <= t1; ``block`` numbers the learner's blocks and
    keys any draw a stochastic instance makes for it. ``played`` has shape (batch, t1 - t0): the action of
    every round of the block."""

    best: torch.Tensor  # (batch,) the action with the least total mean loss
    horizon: int
    free_bandit: bool
    budget: float

    @property
    def arms(self) -> int:
        return int(self.params["K"])

    def charge(self, t0: int, t1: int, played: torch.Tensor) -> torch.Tensor:
        """sum_t m_t(played_t) over the block, shape (batch,)."""
        raise NotImplementedError

    def best_total(self) -> torch.Tensor:
        """min_i sum_{t <= T} m_t(i), shape (batch,)."""
        raise NotImplementedError

    def bandit(self, t0: int, t1: int, played: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        """The bandit feedback l_t(played_t) of every round of the block, shape (batch, t1 - t0)."""
        raise NotImplementedError

    def bandit_sum(self, t0: int, t1: int, arm: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        """The bandit feedback of one action played through the block, summed over its rounds, shape (batch,)."""
        raise NotImplementedError

    def row(self, t0: int, t1: int, offset: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        """The whole loss vector l_u of round u = t0 + offset, offset in 1..t1 - t0 (one per seed), shape (batch, K)."""
        raise NotImplementedError

    def block_losses(self, t0: int, t1: int, block: int, gen: Gen) -> torch.Tensor:
        """Every entry of every round of the block, summed over the rounds, shape (batch, K)."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class WalkInstance(SwitchingInstance):
    loss: torch.Tensor  # (batch, T, K): loss[:, t - 1] = l_t

    def charge(self, t0: int, t1: int, played: torch.Tensor) -> torch.Tensor:
        return self.loss[:, t0:t1].gather(2, played[:, :, None]).sum(dim=(1, 2))

    def best_total(self) -> torch.Tensor:
        return self.loss.sum(dim=1).min(dim=1).values

    def bandit(self, t0: int, t1: int, played: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        return self.loss[:, t0:t1].gather(2, played[:, :, None])[:, :, 0]

    def bandit_sum(self, t0: int, t1: int, arm: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        return self.loss[:, t0:t1].sum(dim=1).gather(1, arm[:, None])[:, 0]

    def row(self, t0: int, t1: int, offset: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        if t1 - t0 == 1:
            return self.loss[:, t0]
        index = (t0 - 1 + offset).view(-1, 1, 1).expand(-1, 1, self.loss.shape[2])
        return self.loss.gather(1, index)[:, 0]

    def block_losses(self, t0: int, t1: int, block: int, gen: Gen) -> torch.Tensor:
        return self.loss[:, t0:t1].sum(dim=1)


@dataclass(frozen=True, kw_only=True)
class BernoulliInstance(SwitchingInstance):
    means: torch.Tensor  # (batch, K)

    def charge(self, t0: int, t1: int, played: torch.Tensor) -> torch.Tensor:
        return self.means.gather(1, played).sum(dim=1)

    def best_total(self) -> torch.Tensor:
        return self.horizon * self.means.min(dim=1).values

    def bandit(self, t0: int, t1: int, played: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        draws = gen.uniform("losses/bandit", block, _width(t1 - t0), dtype=self.means.dtype)[:, :t1 - t0]
        return (draws < self.means.gather(1, played)).to(self.means.dtype)

    def bandit_sum(self, t0: int, t1: int, arm: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        """Binomial(n, mu_arm) by inverse CDF from one uniform: the law of a sum of n Bernoulli losses."""
        n, mean = t1 - t0, self.means.gather(1, arm[:, None])
        k = torch.arange(n + 1, dtype=mean.dtype, device=mean.device)
        log_pmf = (math.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
                   + torch.xlogy(k, mean) + torch.xlogy(n - k, 1 - mean))
        cdf = log_pmf.exp().cumsum(dim=1)
        draw = gen.uniform("losses/bandit-sum", block, 1, dtype=mean.dtype) * cdf[:, -1:]
        return torch.searchsorted(cdf, draw, right=True).clamp(max=n)[:, 0].to(mean.dtype)

    def row(self, t0: int, t1: int, offset: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        draws = gen.uniform("losses/row", block, self.means.shape[1], dtype=self.means.dtype)
        return (draws < self.means).to(self.means.dtype)

    def block_losses(self, t0: int, t1: int, block: int, gen: Gen) -> torch.Tensor:
        draws = gen.uniform("losses/block", block, _width(t1 - t0), self.means.shape[1], dtype=self.means.dtype)
        return (draws[:, :t1 - t0] < self.means[:, None, :]).to(self.means.dtype).sum(dim=1)


@dataclass(frozen=True, kw_only=True)
class TrapInstance(SwitchingInstance):
    first: torch.Tensor  # (T,) bool: first[t - 1] marks round t as the first of a block of the schedule

    def _losses(self, rounds: torch.Tensor, played: torch.Tensor) -> torch.Tensor:
        """l_t(played) for rounds t (0-based indices, broadcast against ``played``)."""
        is_best = (played == self.best.view(-1, *([1] * (played.dim() - 1)))).to(torch.get_default_dtype())
        trap = self.first[rounds].to(is_best.dtype)
        return trap * is_best + (1 - trap) * (1 - is_best) / 2

    def _totals(self, t0: int, t1: int) -> torch.Tensor:
        """sum_{t0 < t <= t1} l_t(j) for every action j, shape (batch, K)."""
        traps = float(self.first[t0:t1].sum())
        is_best = torch.nn.functional.one_hot(self.best, self.arms).to(torch.get_default_dtype())
        return traps * is_best + (t1 - t0 - traps) / 2 * (1 - is_best)

    def charge(self, t0: int, t1: int, played: torch.Tensor) -> torch.Tensor:
        return self._losses(torch.arange(t0, t1, device=played.device), played).sum(dim=1)

    def best_total(self) -> torch.Tensor:
        return self._totals(0, self.horizon).min(dim=1).values

    def bandit(self, t0: int, t1: int, played: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        return self._losses(torch.arange(t0, t1, device=played.device), played)

    def bandit_sum(self, t0: int, t1: int, arm: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        return self._totals(t0, t1).gather(1, arm[:, None])[:, 0]

    def row(self, t0: int, t1: int, offset: torch.Tensor, block: int, gen: Gen) -> torch.Tensor:
        actions = torch.arange(self.arms, device=offset.device).expand(self.batch, -1)
        return self._losses((t0 - 1 + offset)[:, None], actions)

    def block_losses(self, t0: int, t1: int, block: int, gen: Gen) -> torch.Tensor:
        return self._totals(t0, t1)


def _width(rounds: int) -> int:
    """Draws per block, rounded up to a power of two: blocks of near-equal length then share one stream shape,
    and the generator's cache of that stream is not thrown away when the length changes by one."""
    return 1 << (rounds - 1).bit_length()


def walk(gen: Gen, horizon: int, sigma: float) -> torch.Tensor:
    """W_1..W_T of the multi-scale random walk, shape (batch, T)."""
    xi = sigma * gen.normal("instance/walk", 0, horizon)
    chain = torch.arange(1, horizon + 1, device=gen.device)
    total = torch.zeros_like(xi)
    while bool((chain > 0).any()):
        total += torch.where(chain > 0, xi[:, (chain - 1).clamp(min=0)], 0.0)
        chain = chain & (chain - 1)  # rho(t): clear the lowest set bit
    return total


def _common(params: Mapping[str, Any], gen: Gen) -> dict:
    best = gen.uniform(_BEST_STREAM, 0, int(params["K"])).argmax(dim=1)
    return dict(params=dict(params), batch=gen.batch, best=best, horizon=int(params["T"]),
                free_bandit=bool(params["free_bandit"]), budget=float(params["budget"]))


def generate_mrw(params: Mapping[str, Any], gen: Gen) -> WalkInstance:
    horizon, arms = int(params["T"]), int(params["K"])
    scale = 9.0 * math.log2(max(horizon, 2))
    sigma = float(params.get("sigma") or 1.0 / scale)
    eps = float(params.get("eps") or arms ** (1 / 3) * horizon ** (-1 / 3) / scale)
    common = _common(params, gen)
    shift = eps * torch.nn.functional.one_hot(common["best"], arms).to(torch.get_default_dtype())
    loss = (walk(gen, horizon, sigma)[:, :, None] + 0.5 - shift[:, None, :]).clamp(0.0, 1.0)
    return WalkInstance(**common, loss=loss)


def generate_bernoulli(params: Mapping[str, Any], gen: Gen) -> BernoulliInstance:
    common = _common(params, gen)
    best = torch.nn.functional.one_hot(common["best"], int(params["K"])).to(torch.get_default_dtype())
    means = float(params["mean"]) + float(params["gap"]) * (0.5 - best)
    if not 0 <= float(params["mean"]) - abs(float(params["gap"])) / 2 <= float(params["mean"]) + abs(
            float(params["gap"])) / 2 <= 1:
        raise ValueError(f"means mean -/+ gap/2 = {params['mean']} -/+ {params['gap']}/2 must lie in [0, 1]")
    return BernoulliInstance(**common, means=means)


def generate_trap(params: Mapping[str, Any], gen: Gen) -> TrapInstance:
    horizon, blocks = int(params["T"]), int(float(params["budget"]) // int(params["K"]))
    if not 1 <= blocks < horizon / 3:
        raise ValueError(f"the trap needs 1 <= floor(budget / K) < T / 3 blocks; got {blocks} for T={horizon}")
    first = torch.zeros(horizon, dtype=torch.bool, device=gen.device)
    length = horizon / blocks  # as the learner's plan computes it, so the rounds agree exactly
    first[[round(b * length) for b in range(blocks)]] = True
    return TrapInstance(**_common(params, gen), first=first)


_SWITCHING = {"K": Param(meaning="actions", low=2, integer=True),
              "T": Param(meaning="horizon", low=1, integer=True),
              "free_bandit": Param(meaning="1: bandit feedback comes free; 0: observing costs budget", low=0,
                                   high=1, integer=True),
              "budget": Param(meaning="observations the learner may buy (0: none)", low=0)}

MRW = Family(name="switching-mrw",
             description="switching costs: Dekel et al.'s multi-scale random walk (the bandit lower-bound instance)",
             generate=generate_mrw, defaults={"K": 4, "T": 1024, "free_bandit": 1, "budget": 0, "eps": 0, "sigma": 0},
             parameters={**_SWITCHING, "eps": Param(meaning="advantage of the best action (0: Dekel et al.'s)", low=0,
                                                    high=1),
                         "sigma": Param(meaning="step of the random walk (0: Dekel et al.'s)", low=0)})
BERNOULLI = Family(name="switching-bernoulli",
                   description="switching costs: stochastic Bernoulli losses, one action better by gap",
                   generate=generate_bernoulli,
                   defaults={"K": 4, "T": 1024, "free_bandit": 1, "budget": 0, "mean": 0.5, "gap": 0.1},
                   parameters={**_SWITCHING, "mean": Param(meaning="average loss mean", low=0, high=1),
                               "gap": Param(meaning="how much lower the best action's mean is", low=0, high=1)})

TRAP = Family(name="switching-trap",
              description="switching costs: deterministic losses that charge the best action at the first round of "
                          "every block of the budget's schedule",
              generate=generate_trap, defaults={"K": 4, "T": 1024, "free_bandit": 0, "budget": 64},
              parameters=_SWITCHING)


@hookimpl
def theorycheck_families() -> list[Family]:
    return [MRW, BERNOULLI, TRAP]
