"""Layered episodic MDPs with one-hot (tabular) features and oblivious adversarial losses.

A tabular MDP satisfies the linear-Q assumption exactly with one-hot features phi(s, a) = e_(s, a), so it is a
reduced but valid instance for linear-function-approximation algorithms whose simulator can be replaced by
an exact occupancy computation.

Parameters (``Experiment.params``):
- ``K``: number of episodes (the scaling variable; the adversary's schedule depends on it);
- ``H``: layers (steps per episode), ``S``: states per layer, ``A``: actions;
- ``phases``: the episodes are cut into this many equal phases; in every odd phase the best and the worst
  action of every (layer, state) swap their mean losses (an oblivious adversary, fixed in advance);
- ``low``, ``high``: range of the base mean losses, drawn uniformly per seed.
The start state is state 0 of layer 0; transitions P[h, s, a, :] (layer h to h + 1) are random per seed and
fixed. Realised losses are Bernoulli with the mean of the episode's phase.

The regret is the pseudo-regret against the best fixed policy for the summed mean losses (losses enter
the value linearly, so the best fixed policy of the whole run is a backward DP on their sum):
``sum_k V_k(pi_k) - min_pi sum_k V_k(pi)``, with V_k(pi) computed exactly from occupancy measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Family, Gen, Instance, Param, hookimpl


@dataclass(frozen=True, kw_only=True)
class LinearMDPInstance(Instance):
    P: torch.Tensor  # (batch, H - 1, S, A, S) transitions from layer h to h + 1
    means: torch.Tensor  # (batch, phases parity 2, H, S, A) mean losses of even and odd phases
    episodes: int
    phases: int
    best_total: torch.Tensor  # (batch,) min over fixed policies of the summed expected loss

    @property
    def shape(self) -> tuple[int, int, int]:
        return int(self.means.shape[2]), int(self.means.shape[3]), int(self.means.shape[4])

    def mean_loss(self, k: int) -> torch.Tensor:
        """Mean losses (batch, H, S, A) of episode ``k`` (1-based)."""
        phase = min(self.phases - 1, (k - 1) * self.phases // self.episodes)
        return self.means[:, phase % 2]

    def occupancy(self, policy: torch.Tensor) -> torch.Tensor:
        """State-action occupancy q[h, s, a] (batch, H, S, A) of a policy (batch, H, S, A)."""
        horizon, states, _ = self.shape
        mu = torch.zeros(self.batch, states, dtype=policy.dtype)
        mu[:, 0] = 1.0
        out = []
        for h in range(horizon):
            q = mu[:, :, None] * policy[:, h]
            out.append(q)
            if h + 1 < horizon:
                mu = (q[..., None] * self.P[:, h]).sum(dim=(1, 2))
        return torch.stack(out, dim=1)

    def rollout(self, policy: torch.Tensor, k: int, gen: Gen) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One episode: visited states and actions (batch, H) and realised losses (batch, H)."""
        horizon, states, actions = self.shape
        mean = self.mean_loss(k)
        rows = torch.arange(self.batch)
        u = gen.uniform("mdp/episode", k, horizon, 3, dtype=policy.dtype)  # action, loss, next state per step
        s = torch.zeros(self.batch, dtype=torch.int64)
        visited, played, losses = [], [], []
        for h in range(horizon):
            a = _inverse_cdf(policy[rows, h, s], u[:, h, 0])
            loss = (u[:, h, 1] < mean[rows, h, s, a]).to(policy.dtype)
            visited.append(s)
            played.append(a)
            losses.append(loss)
            if h + 1 < horizon:
                s = _inverse_cdf(self.P[rows, h, s, a], u[:, h, 2])
        return torch.stack(visited, 1), torch.stack(played, 1), torch.stack(losses, 1)


def _inverse_cdf(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """One index per row of ``probs`` (batch, n) for the uniforms ``u`` (batch,)."""
    cdf = probs.cumsum(dim=1)
    return (cdf < u[:, None] * cdf[:, -1:]).sum(dim=1).clamp(max=probs.shape[1] - 1)


def best_fixed_value(P: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
    """min over policies of the value at the start state, for mean losses (batch, H, S, A), by backward DP."""
    horizon = loss.shape[1]
    v = torch.zeros(loss.shape[0], loss.shape[2], dtype=loss.dtype)
    for h in reversed(range(horizon)):
        q = loss[:, h] + (torch.einsum("bsan,bn->bsa", P[:, h], v) if h + 1 < horizon else 0.0)
        v = q.min(dim=2).values
    return v[:, 0]


def _generate(params: Mapping[str, Any], gen: Gen) -> LinearMDPInstance:
    horizon, states, actions = int(params["H"]), int(params["S"]), int(params["A"])
    episodes, phases = int(params["K"]), int(params["phases"])
    low, high = float(params["low"]), float(params["high"])
    raw = -torch.log(gen.uniform("instance/transitions", 0, horizon - 1, states, actions, states))
    P = raw / raw.sum(dim=-1, keepdim=True)  # Dirichlet(1, ..., 1) rows
    base = low + (high - low) * gen.uniform("instance/losses", 0, horizon, states, actions)
    best, worst = base.argmin(dim=-1, keepdim=True), base.argmax(dim=-1, keepdim=True)
    swapped = base.scatter(-1, best, base.gather(-1, worst)).scatter(-1, worst, base.gather(-1, best))
    means = torch.stack([base, swapped], dim=1)
    counts = [sum(1 for k in range(1, episodes + 1) if min(phases - 1, (k - 1) * phases // episodes) % 2 == p)
              for p in (0, 1)]
    total = counts[0] * base + counts[1] * swapped
    return LinearMDPInstance(params=dict(params), batch=gen.batch, P=P, means=means, episodes=episodes,
                             phases=phases, best_total=best_fixed_value(P, total))


LAYERED = Family(name="layered-mdp", description="layered tabular MDP (one-hot linear features), adversarial "
                 "losses swapping best and worst action every K/phases episodes",
                 generate=_generate,
                 defaults={"H": 3, "S": 2, "A": 3, "phases": 4, "low": 0.1, "high": 0.9, "K": 1000},
                 parameters={"H": Param(meaning="layers (steps per episode)", low=1, integer=True),
                             "S": Param(meaning="states per layer", low=1, integer=True),
                             "A": Param(meaning="actions", low=2, integer=True),
                             "phases": Param(meaning="equal phases of the episodes; odd ones swap best and worst",
                                             low=1, integer=True),
                             "low": Param(meaning="smallest base mean loss", low=0, high=1),
                             "high": Param(meaning="largest base mean loss", low=0, high=1),
                             "K": Param(meaning="number of episodes", low=1, integer=True)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [LAYERED]
