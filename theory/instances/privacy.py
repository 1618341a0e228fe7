"""Neighbouring datasets for auditing differentially private mechanisms, and for measuring their utility.

``privacy-pair``: two datasets of ``n`` records in [0, 1] that differ in one record (replace-one
neighbours): D holds ``n`` records equal to ``base``; D' is D with its first record moved to whichever end of
[0, 1] is farther from ``base`` (to 1 for the default ``base = 0``). That change is the largest one record can
make to a sum or a mean, so the pair is the hard case of the sensitivity argument for those queries: the
mean moves by 1/n (its sensitivity), the sum by 1. ``eps`` and ``delta`` are the privacy budget the
experiment asks the mechanism to meet (on the instance so that a grid can sweep them); the family itself
never reads them.

``Instance.data`` has shape (batch, 2, n): ``data[:, 0]`` is D and ``data[:, 1]`` is D', the same for every
seed (an expanded view: no copy per seed). A mechanism runs on both along that axis with independent noise,
and reports its output statistic on D and on D' as two metrics, which the privacy auditor compares
(docs/privacy.md); utility is measured on D.

``constant_release(breaks)`` declares the family's null learner for mechanisms whose state is
``{"release": (batch, 2)}``: it releases 1/2, the middle of [0, 1], on both datasets without reading them. It
is perfectly private, so it breaks utility claims only (its error |1/2 - mean(D)| does not shrink with n).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory.hookspecs import hookimpl
from theory.random import Gen
from theory.spec import Family, Instance, Mutant, Param


@dataclass(frozen=True, kw_only=True)
class PairInstance(Instance):
    data: torch.Tensor  # (batch, 2, n): a dataset and its neighbour, records in [0, 1]
    eps: float
    delta: float

    @property
    def n(self) -> int:
        return int(self.data.shape[-1])

    def means(self) -> torch.Tensor:
        """The exact mean of D and of D' for every seed, shape (batch, 2)."""
        return self.data[:1].mean(dim=-1).expand(self.batch, 2)  # every seed holds the same pair


def _constant_step(state: dict, instance: PairInstance, t: int, hyper: Mapping, gen: Gen) -> dict:
    return {"release": torch.full((instance.batch, 2), 0.5, dtype=instance.data.dtype, device=instance.data.device)}


def constant_release(breaks: tuple[str, ...]) -> tuple[Mutant, ...]:
    """The null learner that releases 1/2 whatever the data; it must FAIL the claims ``breaks``."""
    return (Mutant(name="constant-release", bug="null learner: releases 1/2, the data unread", breaks=breaks,
                   step=_constant_step),)


def _generate(params: Mapping[str, Any], gen: Gen) -> PairInstance:
    n, base = int(params["n"]), float(params["base"])
    if n < 1 or not 0 <= base <= 1:
        raise ValueError(f"privacy-pair needs n >= 1 and base in [0, 1], got n={n}, base={base}")
    pair = torch.full((2, n), base, device=gen.device)
    pair[1, 0] = 1.0 if base < 0.5 else 0.0
    return PairInstance(params=dict(params), batch=gen.batch, data=pair.expand(gen.batch, 2, n),
                        eps=float(params["eps"]), delta=float(params["delta"]))


PAIR = Family(name="privacy-pair",
              description="two datasets of n records in [0, 1] differing in one record, for privacy audits",
              generate=_generate, defaults={"n": 100, "base": 0.0, "eps": 1.0, "delta": 0.0},
              parameters={"n": Param(meaning="records per dataset", low=1, integer=True),
                          "base": Param(meaning="value of every record of D", low=0, high=1),
                          "eps": Param(meaning="privacy budget the mechanism must meet", low=0),
                          "delta": Param(meaning="privacy budget's delta", low=0, high=1),
                          "T": Param(meaning="rounds of a sequential mechanism (read by the mechanism)", low=1,
                                     integer=True),
                          "K": Param(meaning="arms of a sequential mechanism (read by the mechanism)", low=2,
                                     integer=True)})


@hookimpl
def theorycheck_families() -> list[Family]:
    return [PAIR]
