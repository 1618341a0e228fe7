"""DIFF2's noise meets the accountant for the rounds it runs: the correct schedule and the schedules of the
mutants registered as utility bugs compose to the accountant's one Gaussian, and ``constant-clip`` noises at the
radius it clips at. Why these mutants are not registered against the privacy claim: ``plugins/diff2.py``."""

from __future__ import annotations

import math

import pytest
import torch

from plugins import diff2
from plugins.robust_regression import REGRESSION
from theory import Gen


@pytest.mark.parametrize("bugs", [diff2.CORRECT, diff2.Bugs(squared=False), diff2.Bugs(restart=False)],
                         ids=["correct", "unsquared-variance", "no-restart"])
@pytest.mark.parametrize("n", [1024, 32768])
def test_releases_compose_to_the_accountants_gaussian(bugs: diff2.Bugs, n: int) -> None:
    """K1 restarts of shift 2 / z1 and K2 differences of shift 2 / z2 compose to shift 1 / kappa: exactly the
    Gaussian that dp-accounting calibrated to (eps, delta)."""
    instance = REGRESSION.instance({"n": n, "d": 10, "eps": 0.1, "delta": 1e-5}, Gen([0]))
    plan = diff2.schedule(instance, {"horizon": diff2.STEPS}, True, bugs)
    restarts = math.ceil(plan["R"] / plan["period"])
    squared_shift = restarts * (2 / plan["z1"]) ** 2 + (plan["R"] - restarts) * (2 / plan["z2"]) ** 2
    assert squared_shift <= diff2._kappa(instance.eps, instance.delta) ** -2 * (1 + 1e-12)


def test_constant_clip_noises_at_the_radius_it_clips_at() -> None:
    """constant-clip: clip and noise radius are both C2, so the multiplier against its sensitivity stays z2;
    noise-radius (the privacy bug) noises at the shorter step radius."""
    claimed = torch.tensor([[0.01]])
    radius, noise = diff2._radii(claimed, 9.25, diff2.Bugs(adaptive_clip=False))
    assert torch.equal(radius, noise) and (radius > claimed).all()
    radius, noise = diff2._radii(claimed, 9.25, diff2.Bugs(adaptive_clip=False, noise_radius="step"))
    assert (noise < radius).all()
