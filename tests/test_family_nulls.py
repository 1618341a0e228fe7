"""What the families add for null learners and feasibility: the online ledger's in-domain invariant, the bandit,
online and privacy null learners, the Pass@k lower-bound instance's junk responses and the sparse bandit's dense
rewards (theory/instances/*.py, plugins/best_of_majority_instances.py, plugins/sparse_misspecified.py)."""

from __future__ import annotations

import math

import torch

from plugins.best_of_majority_instances import LOWER_BOUND
from plugins.sparse_misspecified import SPARSE_LINEAR
from theory.instances.bandits import BERNOULLI, null_learners
from theory.instances.online import LINEAR
from theory.instances.online import null_learners as online_nulls
from theory.instances.privacy import PAIR, constant_release
from theory.random import Gen


def test_in_domain_is_one_until_a_point_outside_the_box_is_played():
    gen = Gen([0, 1, 2])
    instance = LINEAR.instance({"d": 2, "R": 1.0, "mean": 0.3, "sigma": 0.5}, gen)
    ledger = instance.record(instance.start(), torch.full((3, 2), 1.0), instance.draw(1, gen))
    assert torch.equal(instance.in_domain(ledger), torch.ones(3))
    outside = torch.tensor([[0.0, 0.0], [1.5, 0.0], [0.0, -1.01]])
    ledger = instance.record(ledger, outside, instance.draw(2, gen))
    assert torch.equal(instance.in_domain(ledger), torch.tensor([1.0, 0.0, 0.0]))
    ledger = instance.record(ledger, torch.zeros(3, 2), instance.draw(3, gen))  # back inside: still recorded
    assert torch.equal(instance.in_domain(ledger), torch.tensor([1.0, 0.0, 0.0]))


def test_online_nulls_play_inside_the_box_with_linear_pseudo_regret():
    gen = Gen(list(range(4)))
    instance = LINEAR.instance({"d": 3, "R": 1.0, "mean": 0.3, "sigma": 0.5}, gen)
    frozen, uniform = online_nulls(("some-claim",))
    for null in (frozen, uniform):
        state = null.init(instance, {}, gen)
        for t in range(1, 201):
            state = null.step(state, instance, t, {}, gen)
        assert torch.equal(instance.in_domain(state["ledger"]), torch.ones(4))
        # The centre's pseudo-regret is exactly R |m|_1 per round; a uniform point's has that mean.
        assert torch.allclose(instance.pseudo_regret(state["ledger"]), torch.full((4,), 200 * 0.9), rtol=0.15)


def test_bandit_nulls_record_the_regret_of_the_arms_they_pull():
    gen = Gen(list(range(6)))
    instance = BERNOULLI.instance({"K": 3, "means": (0.9, 0.5, 0.2)}, gen)
    uniform, frozen = null_learners(("some-claim",))
    state = {"regret": torch.zeros(6), "other": torch.ones(6)}
    for null, expected in ((frozen, 100 * (0.9 - instance.means[:, 0])), (uniform, torch.full((6,), 100 * 0.4))):
        out = state
        for t in range(1, 101):
            out = null.step(out, instance, t, {}, gen)
        assert torch.equal(out["other"], state["other"])  # the learner's own state is left alone
        assert torch.allclose(out["regret"], expected.to(out["regret"].dtype), atol=0.0 if null is frozen else 20.0)


def test_junk_splits_the_zero_reward_mass_below_the_filter():
    gen = Gen([0, 1])
    params = {"Cstar": 64, "k": 4, "eps": 0.1, "N": 2048}
    one, many = LOWER_BOUND.instance({**params, "junk": 1}, gen), LOWER_BOUND.instance({**params, "junk": 128}, gen)
    assert one.responses == 8 + 1 and many.responses == 8 + 128
    for instance in (one, many):
        assert torch.allclose(instance.probs.sum(1), torch.ones(2, dtype=instance.probs.dtype))
    junk = many.probs[many.reward == 0]
    assert torch.allclose(junk, torch.full_like(junk, (1 - 8 / 64) / 128)) and junk.max() < 3 / (4 * 64)
    full = LOWER_BOUND.instance({**params, "k": 32, "junk": 128}, gen)  # 2k = Cstar: no mass left for junk
    assert full.responses == 64


def test_dense_rewards_agree_with_sparse_ones():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the runner's default; the family mixes dtypes below it
    try:
        _check_dense_rewards()
    finally:
        torch.set_default_dtype(previous)


def _check_dense_rewards():
    gen = Gen([0, 1, 2])
    instance = SPARSE_LINEAR.instance({"d": 5, "s": 2, "eps": 0.1, "alpha": 1.3}, gen)
    supports, coords = torch.tensor([[0, 3], [1, 2]]), torch.tensor([[0.6, 0.8], [-1 / math.sqrt(2), 1 / math.sqrt(2)]])
    sparse = instance.reward_sparse(supports, coords)  # (3, 2, 2)
    dense = torch.zeros(3, 4, 5, dtype=sparse.dtype)
    for j, support in enumerate(supports):
        for p, coord in enumerate(coords):
            dense[:, 2 * j + p, support] = coord.to(dense.dtype)
    assert torch.allclose(instance.reward(dense), sparse.reshape(3, 4))


def test_constant_release_reads_no_data():
    gen = Gen([0, 1])
    (null,) = constant_release(("mae-in-n",))
    for base in (0.0, 0.3):
        instance = PAIR.instance({"n": 10, "base": base, "eps": 1.0, "delta": 1e-5}, gen)
        assert torch.equal(null.step({}, instance, 1, {}, gen)["release"], torch.full((2, 2), 0.5,
                                                                                     dtype=instance.data.dtype))
