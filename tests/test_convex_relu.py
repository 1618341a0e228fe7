"""The pieces of the convex ReLU plugins do what their docstrings say: every arrangement pattern is
enumerated, the read-off network reproduces the convex program's predictions and weight decay, and the ADMM
reaches the exact solver's optimum."""

from __future__ import annotations

import pytest
import torch

from plugins import convex_relu as cvx
from plugins import convex_relu_admm as admm
from plugins.relu_arrangements import FAMILY
from theory import Gen

pytestmark = pytest.mark.usefixtures("float64")  # tests/conftest.py


def keys(masks: torch.Tensor) -> list[set[int]]:
    bits = masks.to(torch.int64).transpose(1, 2)
    return [set(row.tolist()) for row in (bits << torch.arange(masks.shape[1])).sum(-1)]


def test_every_pattern_is_enumerated():
    """General position: 2 (1 + (n-1) + (n-1)(n-2)/2) cells, and every pattern a direction can hit among them."""
    gen = Gen([0, 1])
    instance = FAMILY.instance({"n": 9}, gen)
    hit = (instance.x @ gen.normal("probe", 0, 3, 20000)) >= 0
    for enumerated, sampled in zip(keys(instance.masks), keys(hit.to(instance.x.dtype))):
        assert len(enumerated) == 2 * (1 + 8 + 28)
        assert sampled <= enumerated


def test_read_off_network_reproduces_the_program():
    gen = Gen([3, 4])
    instance = FAMILY.instance({"n": 6}, gen)
    value, v, w = cvx._solved(instance, cvx.CVX_HYPER)
    u, a = cvx.read_off(v, w)
    convex_pred = (instance.masks * (instance.x @ (v - w))).sum(2)
    assert torch.allclose(instance.network(u, a), convex_pred, atol=1e-7)
    decay = instance.beta * (torch.linalg.vector_norm(v, dim=1).sum(1) + torch.linalg.vector_norm(w, dim=1).sum(1))
    assert torch.allclose(instance.penalty(u, a), decay, atol=1e-9)
    assert torch.allclose(instance.squared(u, a), value, rtol=1e-7)


def test_admm_reaches_the_exact_optimum():
    gen = Gen([5, 6])
    instance = FAMILY.instance({"n": 8, "patterns": 8}, gen, mode="optimum")
    value, _, _ = cvx._solved(instance, cvx.CVX_HYPER)
    state = admm.init(instance, {"rho": 1.0}, gen)
    assert torch.allclose(state["optimum"], value, rtol=1e-12)
    for t in range(1, 3001):
        state = admm.step(state, instance, t, {"rho": 1.0}, gen)
    assert torch.allclose(admm.objective(state["v"], instance), value, rtol=1e-3)
    assert (admm.metrics(state, instance)["gap"] < 1e-3).all()


def test_admm_gap_is_measured_only_in_the_optimum_mode():
    gen = Gen([0])
    instance = FAMILY.instance({"n": 8, "patterns": 8}, gen)
    state = admm.init(instance, {"rho": 1.0}, gen)
    assert "optimum" not in state and admm.metrics(state, instance)["gap"].item() == 0.0


def test_sampled_patterns_count_and_large_n():
    instance = FAMILY.instance({"n": 100, "patterns": 50}, Gen([0]))
    assert instance.masks.shape == (1, 100, 50)
    with pytest.raises(ValueError, match="n <= 62"):
        FAMILY.instance({"n": 100}, Gen([0]))
