"""K-armed stochastic bandits with Bernoulli or Gaussian rewards.

Parameters (``Experiment.params``):
- ``K``: number of arms;
- ``means``: explicit arm means (a tuple), or else
- ``best`` and ``gap``: one arm at ``best``, the others at ``best - gap`` (a gap such as
  ``sqrt(K*log(T)/T)`` shrinks with the horizon, for worst-case claims), or
- ``best`` and ``spread`` > 0: means evenly spaced from ``best`` down to ``best - spread``;
- ``sigma``: reward noise of the Gaussian family.
The arms are put in a random order per seed, so an algorithm that breaks ties by index gains nothing.
Regret is pseudo-regret: the sum over steps of (best mean - mean of the arm played).

``null_learners(breaks)`` declares the family's learners that learn nothing, for a plugin whose state keeps
its pseudo-regret under ``"regret"``: ``uniform`` (an arm uniformly at random every step) and ``frozen`` (the
same arm every step; the per-seed shuffle makes it a random arm). Both have regret linear in T.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from theory.hookspecs import hookimpl
from theory.random import Gen
from theory.spec import Family, Instance, Mutant, Param

_ORDER_STREAM = "instance/arm-order"


@dataclass(frozen=True, kw_only=True)
class BanditInstance(Instance):
    """A K-armed bandit per seed: ``pull`` an arm for its reward and regret."""

    means: torch.Tensor  # (batch, K)
    gaussian: bool
    sigma: float

    @property
    def arms(self) -> int:
        return int(self.means.shape[1])

    def bernoulli_means(self) -> np.ndarray:
        """The means as a float64 array, for compiled kernels, which draw Bernoulli rewards only."""
        if self.gaussian:
            raise ValueError("compiled bandit kernels draw Bernoulli rewards; Gaussian instances need step")
        return self.means.to(torch.float64).numpy()

    def pull(self, arm: torch.Tensor, t: int, gen: Gen) -> tuple[torch.Tensor, torch.Tensor]:
        """Reward and pseudo-regret of pulling ``arm`` (one index per seed) at step ``t``."""
        mean = self.means.gather(1, arm[:, None])[:, 0]
        if self.gaussian:
            reward = mean + self.sigma * gen.normal("reward", t, dtype=mean.dtype)
        else:
            reward = (gen.uniform("reward", t, dtype=mean.dtype) < mean).to(mean.dtype)
        return reward, self.means.max(dim=1).values - mean


def arm_means(params: Mapping[str, Any]) -> torch.Tensor:
    """The arm means, best first, before the per-seed shuffle."""
    if "means" in params:
        return torch.as_tensor(params["means"], dtype=torch.get_default_dtype())
    k, best = int(params["K"]), float(params["best"])
    if float(params.get("spread", 0.0)) > 0:
        return torch.linspace(best, best - float(params["spread"]), k)
    means = torch.full((k,), best - float(params["gap"]))
    means[0] = best
    return means


def _generate(params: Mapping[str, Any], gen: Gen, gaussian: bool) -> BanditInstance:
    means = arm_means(params).to(gen.device)
    order = torch.argsort(gen.uniform(_ORDER_STREAM, 0, means.shape[0]), dim=1)
    return BanditInstance(params=dict(params), batch=gen.batch, means=means[order], gaussian=gaussian,
                          sigma=float(params.get("sigma", 1.0)))


def _uniform_step(state: dict, instance: BanditInstance, t: int, hyper: Mapping, gen: Gen) -> dict:
    """Pull an arm uniformly at random and record its regret; nothing else in the state changes."""
    arm = (gen.uniform("null-arm", t) * instance.arms).long().clamp(max=instance.arms - 1)
    return {**state, "regret": state["regret"] + instance.pull(arm, t, gen)[1]}


def _frozen_step(state: dict, instance: BanditInstance, t: int, hyper: Mapping, gen: Gen) -> dict:
    """Pull arm 0 (a random arm after the shuffle) every step."""
    arm = torch.zeros(instance.batch, dtype=torch.long, device=instance.means.device)
    return {**state, "regret": state["regret"] + instance.pull(arm, t, gen)[1]}


def null_learners(breaks: tuple[str, ...]) -> tuple[Mutant, ...]:
    """The learners that learn nothing, each of which must FAIL the claims ``breaks``."""
    return (Mutant(name="uniform", bug="null learner: an arm uniformly at random every step", breaks=breaks,
                   step=_uniform_step),
            Mutant(name="frozen", bug="null learner: the same (random) arm every step, never updated",
                   breaks=breaks, step=_frozen_step))


BERNOULLI = Family(name="bernoulli-bandit", description="K-armed bandit, Bernoulli rewards",
                   generate=lambda params, gen: _generate(params, gen, gaussian=False),
                   defaults={"K": 5, "best": 0.9, "gap": 0.1},
                   parameters={"K": Param(meaning="number of arms", low=2, integer=True),
                               "means": Param(meaning="explicit arm means, each in [0, 1]", low=0, high=1),
                               "best": Param(meaning="mean of the best arm", low=0, high=1),
                               "gap": Param(meaning="best mean minus every other arm's mean", low=0, high=1),
                               "spread": Param(meaning="means evenly spaced from best down to best - spread",
                                               low=0, high=1),
                               "eps": Param(meaning="privacy budget a private algorithm must meet (read by the "
                                                    "algorithm, not the family)", low=0)})
GAUSSIAN = Family(name="gaussian-bandit", description="K-armed bandit, Gaussian rewards of scale sigma",
                  generate=lambda params, gen: _generate(params, gen, gaussian=True),
                  defaults={"K": 5, "best": 0.0, "gap": 0.5, "sigma": 1.0},
                  parameters={"K": Param(meaning="number of arms", low=2, integer=True),
                              "means": Param(meaning="explicit arm means"),
                              "best": Param(meaning="mean of the best arm"),
                              "gap": Param(meaning="best mean minus every other arm's mean", low=0),
                              "spread": Param(meaning="means evenly spaced from best down to best - spread", low=0),
                              "sigma": Param(meaning="standard deviation of the reward noise", low=0)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [BERNOULLI, GAUSSIAN]
