"""The two oblivious sequences built to catch step-size bugs: ``oco-lure-linear`` (the mean flips after the
lure) and ``switching-trap`` (the best action costs 1 exactly at the first round of every block)."""

from __future__ import annotations

import torch

from plugins.ogd_instances import LURE_LINEAR
from plugins.switching_costs_instances import TRAP
from theory.random import Gen


def test_the_lure_mean_is_minus_mu_for_the_lure_rounds_then_mu():
    instance = LURE_LINEAR.instance({"T": 100, "lure": 0.25}, Gen([0, 1, 2]))
    assert instance.lure_rounds == 25
    assert torch.equal(instance.mean_at(25), -instance.mean) and torch.equal(instance.mean_at(26), instance.mean)
    assert torch.equal(instance.mean.abs(), torch.full_like(instance.mean, 0.5))


def test_the_best_point_in_hindsight_is_the_corner_the_lure_points_away_from():
    """Over T rounds the means sum to mu (1 - 2 lure) T, so the minimiser of the summed loss is -R sign(mu)."""
    instance = LURE_LINEAR.instance({"T": 100, "lure": 0.25}, Gen([0, 1]))
    summed = sum(instance.mean_at(t) for t in range(1, 101))
    assert torch.allclose(summed, instance.mean * 50)


def test_the_trap_charges_the_best_action_one_at_every_block_start_and_half_the_others_elsewhere():
    instance = TRAP.instance({"K": 4, "T": 64, "budget": 16}, Gen([0, 1]))  # 4 blocks of 16 rounds
    assert instance.first.nonzero().flatten().tolist() == [0, 16, 32, 48]
    best = instance.best
    other = (best + 1) % 4
    every = torch.arange(64)
    assert instance.charge(0, 64, best[:, None] + 0 * every).tolist() == [4.0, 4.0]  # the 4 traps
    assert instance.charge(0, 64, other[:, None] + 0 * every).tolist() == [30.0, 30.0]  # 60 rounds at 1/2
    assert instance.best_total().tolist() == [4.0, 4.0]
