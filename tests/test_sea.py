"""The SEA families (plugins/sea_omd_instances.py): the knobs mean what the docstring says, and the ledger's regrets
agree with a direct computation when the mean drifts."""

from __future__ import annotations

import torch

from plugins.sea_omd_instances import SEA_LINEAR, SEA_QUADRATIC, variance, variation
from theory.random import Gen

PARAMS = {"d": 3, "R": 1.0, "mean": 0.2, "shift": 0.5, "s": 0.7, "P": 3, "T0": 0}


def test_gradient_noise_has_norm_s_every_round_and_stops_after_T0():
    for family, extra in ((SEA_LINEAR, {}), (SEA_QUADRATIC, {"lam": 2.0})):
        gen = Gen(list(range(5)))
        instance = family.instance({**PARAMS, **extra, "T0": 4}, gen)
        x = torch.zeros_like(instance.mean)
        for t in range(1, 7):
            noise = instance.gradient(x, instance.draw(t, gen)) - instance.gradient(x, instance.mean_at(t))
            expected = PARAMS["s"] if t <= 4 else 0.0
            assert torch.allclose(noise.norm(dim=1), torch.full((5,), expected), atol=1e-12)


def test_variation_counts_the_switches_of_the_mean():
    gen = Gen([0, 1])
    instance = SEA_LINEAR.instance(PARAMS, gen)
    T = 20
    direct = (instance.mean_at(1) ** 2).sum(1) + sum(((instance.mean_at(t) - instance.mean_at(t - 1)) ** 2).sum(1)
                                                      for t in range(2, T + 1))
    assert torch.allclose(direct, torch.full((2,), variation(PARAMS, T)))
    assert variance(PARAMS, T) == PARAMS["s"] ** 2 * T and variance({**PARAMS, "T0": 5}, T) == PARAMS["s"] ** 2 * 5


def test_ledger_regrets_match_a_direct_computation_with_a_drifting_mean():
    gen = Gen([3, 4, 5])
    instance = SEA_LINEAR.instance(PARAMS, gen)
    ledger, played, thetas, means = instance.start(), [], [], []
    for t in range(1, 11):
        x = instance.project(torch.full_like(instance.mean, 0.3 * (-1) ** t))
        theta = instance.draw(t, gen)
        ledger = instance.record(ledger, x, theta)
        played.append(x), thetas.append(theta), means.append(instance.mean_at(t))
    loss = sum((x * m).sum(1) for x, m in zip(played, means))
    best = -instance.radius * sum(means).abs().sum(1)  # the best corner of the box for the summed means
    assert torch.allclose(instance.pseudo_regret(ledger), loss - best)
    realised = sum((x * th).sum(1) for x, th in zip(played, thetas)) + instance.radius * sum(thetas).abs().sum(1)
    assert torch.allclose(instance.regret(ledger), realised)
