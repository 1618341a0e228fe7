"""The stochastic convex families and the schedule refinement map, on inputs with known answers."""

from __future__ import annotations

import math

import pytest
import torch

from plugins import last_iterate_sgd as last
from plugins import schedule_refinement as refinement
from plugins.stochastic_convex_instances import HARD, L1
from theory import Gen, seed_block


def _gen(batch: int = 4) -> Gen:
    return Gen(seed_block(0, batch), device=torch.device("cpu"))


def _hard(n: int, **params: float):
    return HARD.instance({"n": n, **params}, _gen(2))


def _gd(instance, steps: int, eta) -> torch.Tensor:
    x = instance.start
    for t in range(1, steps + 1):
        x = instance.project(x - eta(t) * instance.gradient(x, t, _gen(2)))
    return x


@pytest.mark.parametrize("mu", [0.0, 1.0])
def test_l1_optimum_is_a_minimum(mu):
    """f* is the separable minimiser's value: no box point sampled around it does better."""
    instance = L1.instance({"mu": mu}, _gen())
    assert torch.all(instance.gap(instance.optimum).abs() < 1e-15)
    for k in range(50):
        nearby = instance.project(instance.optimum + 0.05 * _gen().normal("probe", k, 8))
        assert torch.all(instance.gap(nearby) >= -1e-15)
    assert torch.all(instance.gap(instance.start) > 0.05)  # x_1 = 0 is not optimal: a frozen learner cannot pass


def test_l1_noise_is_unbiased_with_the_declared_size():
    instance = L1.instance({"mu": 0.0, "sigma": 2.0}, _gen(1))
    x = instance.start + 0.3
    draws = torch.stack([instance.gradient(x, t, _gen(1))[0] for t in range(4000)])
    exact = torch.sign(x - instance.centre)[0] / 8
    assert torch.allclose(draws.mean(0), exact, atol=4 * 2 / math.sqrt(8 * 4000))
    assert abs(((draws - exact) ** 2).sum(1).mean().item() - 4.0) < 0.2


@pytest.mark.parametrize("params", [{"strong": 0, "flat": 0}, {"strong": 0, "flat": 1}, {"strong": 1, "flat": 0}])
def test_hard_optimum_is_zero(params):
    """The origin is in the hull of the h_i (lambda_j = (a_j / b_j) sum_{i>j} lambda_i), so f >= 0 = f(0)."""
    instance = _hard(64, **params)
    a, b = instance.a, instance.b
    lam = [1.0]
    for j in reversed(range(64)):
        lam.insert(0, (a[j] / b[j]).item() * sum(lam))
    lam = torch.tensor(lam, dtype=torch.float64)
    first = instance.gradient(torch.zeros(1, 64, dtype=torch.float64), 1, _gen(1))[0]  # at x_1 = 0 every value ties
    assert torch.equal(first, -b[0] * torch.nn.functional.one_hot(torch.tensor(0), 64).double())
    h = torch.tril(a.expand(65, 64), diagonal=-1) - torch.diag_embed(torch.cat([b, torch.zeros(1)]))[:, :64]
    assert torch.allclose(lam @ h, torch.zeros(64, dtype=torch.float64), atol=1e-14)
    assert instance.gap(instance.start).abs().max() == 0
    assert torch.all(instance.gap(0.1 * _gen(2).normal("probe", 0, 64)) >= 0)


def test_gd_on_the_construction_steps_along_h_t_and_loses_a_log():
    """With steps 2/sqrt(t) the t-th subgradient is h_t, so x_{T+1,j} = 2 b_j / sqrt(j) - 2 a_j sum_{j<k<=T} k^-1/2;
    and f(x_{T+1}) = sum_j a_j x_{T+1,j} grows against 1/sqrt(T) like log T."""
    gaps = []
    for n in (256, 1024):
        instance = _hard(n)
        x = _gd(instance, n, lambda t: 2 / math.sqrt(t))
        k = torch.arange(1, n + 1, dtype=torch.float64)
        tail = (k ** -0.5).flip(0).cumsum(0).flip(0) - k ** -0.5  # sum_{k > j}
        assert torch.allclose(x[0], 2 * instance.b / k.sqrt() - 2 * instance.a * tail, atol=1e-13)
        gaps.append(instance.gap(x)[0].item() * math.sqrt(n))
    assert gaps[1] / gaps[0] > 1.15  # log(1024) / log(256) = 1.25


def test_refinement_of_constant_norms_is_linear_decay():
    w = refinement.refine(torch.ones(3, 50, dtype=torch.float64))
    assert torch.allclose(w, ((50 - torch.arange(1, 51)) / 49).double().expand(3, 50), atol=1e-15)


def test_refinement_ends_at_zero_and_warms_up_on_decreasing_norms():
    norms = 1 / (1 + torch.arange(1, 1001, dtype=torch.float64) / 100)[None]
    w = refinement.refine(norms)
    assert w[0, -1] == 0 and w.max() == 1
    assert 0 < w.argmax() < 999  # warm-up then annealing (catalogue C12.2)
    ones = torch.ones(1, 10, dtype=torch.float64)
    assert refinement.refine(ones, "from")[0, -1] > 0  # the inclusive-tail mutant's last step
    assert torch.all(torch.diff(refinement.refine(ones, "before")[0]) > 0)  # the prefix-sum mutant's grows


def test_the_off_by_one_mutants_are_one_bug_and_not_the_correct_schedule():
    """The inclusive tail on constant norms is exactly linear decay's off-by-one, which is the paper's linear decay
    for the horizon T + 1 with a peak (T + 1) / T larger, stopped after T steps: no gap claim can tell it from the
    correct schedule (the bounds differ by O(1/T)). It is not equivalent: its last weight is 1/T, not 0."""
    for horizon in (8, 64, 1000):
        off = refinement.weights("linear-off-by-one", horizon)
        assert torch.allclose(refinement.refine(torch.ones(1, horizon, dtype=torch.float64), "from")[0], off,
                              rtol=0, atol=1e-15)
        longer = refinement.weights("linear", horizon + 1)[:horizon]
        assert torch.allclose(off, (horizon + 1) / horizon * longer, rtol=0, atol=1e-15)
        assert off[-1].item() == pytest.approx(1 / horizon, abs=1e-15)
        assert refinement.weights("linear", horizon)[-1] == 0


@pytest.mark.parametrize("rule", ["linear", "refined"])
def test_the_last_update_does_not_move_the_iterate(rule):
    """``final-step``: w_T = 0, so x_{T+1} = x_T exactly, on the box and on the ball (re-projection included)."""
    for instance in (L1.instance({"mu": 0.0}, _gen()), _hard(64, flat=1)):
        hyper = {**refinement.LINEAR.hyper, "rule": rule, "tail": "after", "horizon": 64}
        state = refinement.init(instance, hyper, _gen())
        for t in range(1, 65):
            before = state["x"]
            state = refinement.step(state, instance, t, hyper, _gen())
            assert (state["moved"] > 0).all() or t == 64
        assert torch.equal(state["x"], before)
        assert torch.all(refinement.schedule_metrics(state, instance)["last_move"] == 0)


def test_median_smooth_matches_a_direct_median():
    values = _gen(3).uniform("v", 0, 700)
    smooth = refinement.median_smooth(values, 11)
    padded = torch.cat([values[:, :1].expand(3, 5), values, values[:, -1:].expand(3, 5)], 1)
    direct = torch.stack([padded[:, i:i + 11].median(1).values for i in range(700)], 1)
    assert torch.equal(smooth, direct)


@pytest.mark.parametrize("rule", ["linear", "linear-off-by-one", "constant", "cosine", "cosine-half"])
def test_schedule_weights(rule):
    w = refinement.weights(rule, 8)
    assert w.shape == (8,) and w.max() <= 1
    assert {"linear": 0.0, "linear-off-by-one": 1 / 8, "constant": 1.0, "cosine": 0.0}.get(rule, 0.5) == pytest.approx(
        w[-1].item(), abs=1e-15)


def test_the_averaged_iterate_averages_the_points_where_gradients_were_taken():
    instance = L1.instance({"mu": 0.0}, _gen())
    state = last.init(instance, last.SGD_AVERAGE.hyper, _gen())
    points = []
    for t in range(1, 6):
        points.append(state["x"])
        state = last.step(state, instance, t, last.SGD_AVERAGE.hyper, _gen())
    mean = torch.stack(points).mean(0)
    assert torch.allclose(last.average_metrics(state, instance)["gap"], instance.gap(mean))
