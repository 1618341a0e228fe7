"""Pass@k inference on one prompt: a reference policy over a finite response set, a true reward r* and a reward
model r-hat (catalogue section 9, the Best-of-Majority paper, arXiv 2510.03199).

An instance is one prompt per seed: ``probs`` (pi_ref), ``reward`` (r*) and ``estimate`` (r-hat), each of shape
(seeds, responses). Its optimal response y* always has r*(y*) = r-hat(y*) = 1 (so eps_opt = 0) and
pi_ref(y*) = 1/Cstar, so Cstar is the coverage coefficient C*. The responses are put in a random order per seed,
so y* sits at a random index and an algorithm that breaks ties by index gains nothing. ``sample`` draws the N
responses of one step as one (seeds, N) tensor of uniforms, bucketed by inverse CDF; ``regret`` is the Pass@k
regret of a submitted set, r*(y*) - max over the set of r* (an empty set scores 0).

Families (every one takes ``N``, the sampling budget, and ``k``, the number of responses one may submit):
- ``passk-lower-bound`` (``Cstar``, ``eps``): 2k responses tied under r-hat = 1, each with pi_ref = 1/Cstar; one
  is y*, the others have r* = 1 - Delta, Delta = eps sqrt(Cstar/(2k)), so E_pi[(r-hat - r*)^2] <= eps^2. The rest
  of the mass is one response with r* = r-hat = 0. No algorithm tells y* from its twins, so each misses it with
  probability at least 1/2: regret >= Delta/2, of order sqrt(Cstar eps^2/k) (Theorem 6.1's shape). ``junk``
  (default 1) splits that zero-reward mass evenly over as many responses: with many, each rarer than
  3/(4 Cstar), Best-of-Majority's filter drops them while a learner that submits sampled responses at random
  mostly submits junk (regret near 1 at small k), so the rate is no longer met by any learner.
- ``passk-overopt`` (``Cstar``, ``tied``, ``gap``, ``hack_mass``, ``hack_count``): ``tied`` responses as above
  (y* and tied - 1 twins at r* = 1 - gap), plus ``hack_count`` hacked responses sharing ``hack_mass``, with
  r* = 0 and r-hat = 1 + 1e-6: Best-of-N submits a hacked response as soon as one is sampled (N >~ 1/hack_mass).
- ``passk-overopt-n`` (``Cstar``, ``eps``, ``hack_count``): y* and hacked responses of total mass 2k/N with
  r* = 1 - h, h = min(1, eps sqrt(N/(2k))) (so mass * h^2 = eps^2), r-hat = 1 + 1e-6; the rest at r* = r-hat = 0.
  Best-of-N's regret is about h P(at least k hacked responses sampled), which grows like sqrt(N eps^2/k).
- ``passk-majority`` (``Cstar``, ``wrong``, ``wrong_mass``, ``junk``): y*, ``wrong`` answers of mass
  ``wrong_mass`` each, and the remaining mass spread evenly over ``junk`` responses, all with r* = r-hat = 0.
  With wrong_mass > 1/Cstar, majority voting submits only wrong answers once N is large (Theorem 4.1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Family, Gen, Instance, Param, hookimpl

_ORDER_STREAM = "instance/response-order"
HACK_BONUS = 1e-6  # hacked responses outrank y* under r-hat by this much


@dataclass(frozen=True, kw_only=True)
class PassKInstance(Instance):
    probs: torch.Tensor  # (batch, responses): pi_ref
    reward: torch.Tensor  # (batch, responses): r*
    estimate: torch.Tensor  # (batch, responses): r-hat
    cstar: float
    k: int
    n: int

    @property
    def responses(self) -> int:
        return int(self.probs.shape[1])

    def sample(self, t: int, gen: Gen) -> torch.Tensor:
        """The indices of the N responses of step ``t``, shape (batch, N), drawn i.i.d. from pi_ref."""
        u = gen.uniform("sample", t, self.n, dtype=self.probs.dtype)
        cdf = torch.cumsum(self.probs, dim=1)
        return torch.searchsorted(cdf, u * cdf[:, -1:], right=True).clamp_(max=self.responses - 1)

    def counts(self, samples: torch.Tensor) -> torch.Tensor:
        """How often each response occurs among ``samples`` (batch, n): shape (batch, responses)."""
        counts = torch.zeros(self.batch, self.responses, dtype=self.probs.dtype, device=self.probs.device)
        return counts.scatter_add_(1, samples, torch.ones_like(samples, dtype=self.probs.dtype))

    def regret(self, submitted: torch.Tensor) -> torch.Tensor:
        """r*(y*) - max r* over the submitted set (a boolean mask of shape (batch, responses))."""
        best = torch.where(submitted, self.reward, torch.zeros_like(self.reward)).max(dim=1).values
        return self.reward.max(dim=1).values - best

    @property
    def reward_error(self) -> torch.Tensor:
        """eps_RM: sqrt of E_{y ~ pi_ref}[(r-hat(y) - r*(y))^2], per seed."""
        return torch.sqrt((self.probs * (self.estimate - self.reward) ** 2).sum(dim=1))


Block = tuple[int, float, float, float]  # (how many responses, pi_ref of each, r*, r-hat)


def _assemble(params: Mapping[str, Any], gen: Gen, blocks: list[Block]) -> PassKInstance:
    """The instance from its blocks (y* first), each response at a random index per seed."""
    blocks = [b for b in blocks if b[0] > 0]
    cstar = float(params["Cstar"])
    if abs(blocks[0][1] - 1 / cstar) > 1e-12 or blocks[0][2:] != (1.0, 1.0):
        raise ValueError("the first block must be y* alone, with pi_ref = 1/Cstar and r* = r-hat = 1")
    masses = [count * mass for count, mass, _, _ in blocks]
    if min(mass for _, mass, _, _ in blocks) < 0 or abs(sum(masses) - 1) > 1e-9:
        raise ValueError(f"response masses {masses} must be non-negative and sum to 1 (parameters {dict(params)})")
    dtype = torch.get_default_dtype()

    def column(i: int) -> torch.Tensor:
        return torch.tensor([b[i] for b in blocks for _ in range(b[0])], dtype=dtype, device=gen.device)

    probs, reward, estimate = column(1), column(2), column(3)
    if reward.min() < 0 or reward.max() > 1:
        raise ValueError(f"true rewards must lie in [0, 1] (parameters {dict(params)})")
    order = torch.argsort(gen.uniform(_ORDER_STREAM, 0, probs.shape[0]), dim=1)
    return PassKInstance(params=dict(params), batch=gen.batch, probs=probs[order], reward=reward[order],
                         estimate=estimate[order], cstar=cstar, k=int(round(float(params["k"]))),
                         n=int(round(float(params["N"]))))


def _p(params: Mapping[str, Any], name: str) -> float:
    return float(params[name])  # type: ignore[arg-type]


def _lower_bound(params: Mapping[str, Any], gen: Gen) -> PassKInstance:
    cstar, k = _p(params, "Cstar"), int(round(_p(params, "k")))
    if 2 * k > cstar:
        raise ValueError(f"passk-lower-bound needs 2k <= Cstar, got k={k}, Cstar={cstar:g}")
    delta, junk, rest = _p(params, "eps") * math.sqrt(cstar / (2 * k)), int(_p(params, "junk")), 1 - 2 * k / cstar
    return _assemble(params, gen, [(1, 1 / cstar, 1.0, 1.0), (2 * k - 1, 1 / cstar, 1.0 - delta, 1.0),
                                   (junk if rest > 1e-12 else 0, rest / max(junk, 1), 0.0, 0.0)])


def _overopt(params: Mapping[str, Any], gen: Gen) -> PassKInstance:
    cstar, tied, hack = _p(params, "Cstar"), int(_p(params, "tied")), _p(params, "hack_mass")
    count = int(_p(params, "hack_count"))
    return _assemble(params, gen, [(1, 1 / cstar, 1.0, 1.0), (tied - 1, 1 / cstar, 1.0 - _p(params, "gap"), 1.0),
                                   (count, hack / count, 0.0, 1.0 + HACK_BONUS),
                                   (1, 1 - tied / cstar - hack, 0.0, 0.0)])


def _overopt_n(params: Mapping[str, Any], gen: Gen) -> PassKInstance:
    cstar, k, n, count = _p(params, "Cstar"), _p(params, "k"), _p(params, "N"), int(_p(params, "hack_count"))
    mass, h = 2 * k / n, min(1.0, _p(params, "eps") * math.sqrt(n / (2 * k)))
    return _assemble(params, gen, [(1, 1 / cstar, 1.0, 1.0), (count, mass / count, 1.0 - h, 1.0 + HACK_BONUS),
                                   (1, 1 - 1 / cstar - mass, 0.0, 0.0)])


def _majority(params: Mapping[str, Any], gen: Gen) -> PassKInstance:
    cstar, wrong, each, junk = _p(params, "Cstar"), int(_p(params, "wrong")), _p(params, "wrong_mass"), \
        int(_p(params, "junk"))
    rest = 1 - 1 / cstar - wrong * each
    return _assemble(params, gen, [(1, 1 / cstar, 1.0, 1.0), (wrong, each, 0.0, 0.0),
                                   (junk if rest > 1e-12 else 0, rest / max(junk, 1), 0.0, 0.0)])


_PASSK = {"Cstar": Param(meaning="coverage coefficient C*: pi_ref(y*) = 1/Cstar", low=1),
          "k": Param(meaning="number of responses one may submit", low=1, integer=True),
          "N": Param(meaning="sampling budget: responses drawn per prompt", low=1, integer=True)}

LOWER_BOUND = Family(name="passk-lower-bound", generate=_lower_bound,
                     description="2k responses tied under the reward model, one of them optimal (Theorem 6.1)",
                     defaults={"Cstar": 64, "k": 4, "eps": 0.1, "N": 2048, "junk": 1},
                     parameters={**_PASSK, "eps": Param(meaning="reward-model error: E_pi[(r-hat - r*)^2] <= eps^2",
                                                        low=0),
                                 "junk": Param(meaning="responses sharing the zero-reward mass", low=1, integer=True)})
OVEROPT = Family(name="passk-overopt", generate=_overopt,
                 description="tied responses plus rare hacked ones that the reward model over-rates",
                 defaults={"Cstar": 8, "k": 1, "tied": 4, "gap": 0.4, "hack_mass": 4e-4, "hack_count": 4,
                           "N": 2048},
                 parameters={**_PASSK, "tied": Param(meaning="responses tied with y* under r-hat", low=1, integer=True),
                             "gap": Param(meaning="r* deficit of y*'s tied twins", low=0, high=1),
                             "hack_mass": Param(meaning="pi_ref mass of all hacked responses", low=0, high=1),
                             "hack_count": Param(meaning="number of hacked responses", low=0, integer=True)})
OVEROPT_N = Family(name="passk-overopt-n", generate=_overopt_n,
                   description="hacked responses of mass 2k/N and error h with mass h^2 = eps^2 (Theorem 4.2)",
                   defaults={"Cstar": 10, "k": 1, "eps": 0.015, "hack_count": 16, "N": 800},
                   parameters={**_PASSK, "eps": Param(meaning="reward-model error (mass * h^2 = eps^2)", low=0),
                               "hack_count": Param(meaning="number of hacked responses", low=1, integer=True)})
MAJORITY = Family(name="passk-majority", generate=_majority,
                  description="wrong answers more frequent than the optimal one (Theorem 4.1)",
                  defaults={"Cstar": 10, "k": 3, "wrong": 3, "wrong_mass": 0.2, "junk": 6, "N": 200},
                  parameters={**_PASSK, "wrong": Param(meaning="number of wrong answers", low=0, integer=True),
                              "wrong_mass": Param(meaning="pi_ref mass of each wrong answer", low=0, high=1),
                              "junk": Param(meaning="responses sharing the remaining mass", low=0, integer=True)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [LOWER_BOUND, OVEROPT, OVEROPT_N, MAJORITY]
