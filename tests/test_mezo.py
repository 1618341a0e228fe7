"""The finetune-quadratic family and the MeZO / Sparse MeZO steps (plugins/finetune_quadratic.py, mezo.py,
sparse_mezo.py): the instance means what its docstring says, the in-place step is ZO-SGD along the same z it
perturbed with, its expected one-step contraction is Theorem 1's, and the mask restricts it as Sparse MeZO's."""

from __future__ import annotations

import functools

import pytest
import torch

from plugins.finetune_quadratic import FAMILY
from plugins.mezo import HYPER, frozen, init, metrics, zo_step
from plugins.sparse_mezo import SPARSE_MEZO, mask_of
from plugins.sparse_mezo import init as sparse_init
from plugins.sparse_mezo import step as sparse_step
from theory import Gen

PARAMS = {"d": 40, "r": 6, "k": 4, "small": 0.1, "large": 1.0}


def _full(value: float) -> torch.Tensor:
    return torch.full((5,), value, dtype=torch.float64)


def _instance(seeds: int = 5, **changes: object):
    gen = Gen(list(range(seeds)))
    return FAMILY.instance({**PARAMS, **changes}, gen), gen


def test_the_hessian_has_effective_rank_r_and_only_the_small_weights_are_off_target():
    instance, _ = _instance()
    rank, top = instance.effective_rank()
    assert torch.equal(rank, _full(6.0)) and torch.equal(top, _full(1.0))
    off = instance.start != instance.target
    assert off[:, :4].all() and not off[:, 4:].any()
    assert (instance.start[:, :4].abs() <= 0.1).all() and (instance.start[:, 4:].abs() >= 1.0).all()
    shift = instance.target[:, :4] - instance.start[:, :4]
    assert torch.allclose(instance.loss(instance.start), 0.5 * (shift**2).sum(1))


@pytest.mark.parametrize("changes", [{"k": 7}, {"r": 41}, {"large": 0.15}])
def test_the_family_refuses_parameters_that_break_its_structure(changes):
    with pytest.raises(ValueError):
        _instance(**changes)


def test_the_in_place_step_is_zo_sgd_along_the_z_it_perturbed_with():
    instance, gen = _instance()
    state = init(instance, HYPER, gen)
    after = zo_step(state, instance, 1, HYPER, gen)
    z = Gen(list(range(5))).normal("z", 1, 40)
    gradient = instance.curvature * (state["theta"] - instance.target)
    expected = state["theta"] - (state["eta"] * (z * gradient).sum(1))[:, None] * z  # central differences are
    assert torch.allclose(after["theta"], expected, rtol=0, atol=1e-12)  # exact on a quadratic
    assert torch.allclose(state["eta"], _full(1 / 8)) and torch.equal(after["t"], _full(1.0))
    fresh = zo_step(state, instance, 1, HYPER, gen, fresh=True)
    assert not torch.allclose(fresh["theta"], expected, atol=1e-6)


def test_the_expected_one_step_contraction_is_one_minus_one_over_r_plus_two():
    """E L_1 / L_0 = 1 - 2 eta + eta^2 (r + 2) = 1 - 1/(r + 2) at eta = 1/(r + 2), for Gaussian z."""
    instance, gen = _instance(seeds=20000, d=12, r=4, k=4)
    state = zo_step(init(instance, HYPER, gen), instance, 1, HYPER, gen)
    ratio = instance.loss(state["theta"]) / state["start_loss"]
    assert abs(ratio.mean() - 5 / 6) < 4 * ratio.std() / ratio.numel() ** 0.5


def test_the_frozen_null_counts_steps_and_never_moves():
    instance, gen = _instance()
    state = frozen(init(instance, HYPER, gen), instance, 1, HYPER, gen)
    measured = metrics(state, instance)
    assert torch.equal(state["theta"], instance.start) and torch.equal(measured["speed"], _full(0.0))


def test_the_mask_holds_the_small_weights_and_the_rest_never_move():
    hyper = SPARSE_MEZO.hyper
    instance, gen = _instance(r=40)
    assert torch.equal(mask_of(instance.start, hyper).sum(1), _full(4.0))
    state = sparse_init(instance, hyper, gen)
    assert torch.allclose(state["eta"], _full(1 / 6))  # the masked Hessian I_4: 1 / (4 + 2)
    for t in range(1, 6):
        state = sparse_step(state, instance, t, hyper, gen)
    assert torch.equal(state["theta"][:, 4:], instance.start[:, 4:])
    assert not torch.equal(state["theta"][:, :4], instance.start[:, :4])
    unmasked = functools.partial(sparse_step, masked_update=False)(sparse_init(instance, hyper, gen), instance, 1,
                                                                   hyper, gen)
    assert not torch.equal(unmasked["theta"][:, 4:], instance.start[:, 4:])


def test_sparse_mezo_on_the_full_rank_hessian_is_mezo_on_the_masked_rank():
    """The reduction the Sparse MeZO claims rest on, number for number: the same z coordinates drive the same
    k small weights, so their verdicts repeat MeZO's at r = k."""
    full, gen = _instance(r=40)
    low, low_gen = _instance(r=4)
    sparse, dense = sparse_init(full, SPARSE_MEZO.hyper, gen), init(low, HYPER, low_gen)
    for t in range(1, 11):
        sparse = sparse_step(sparse, full, t, SPARSE_MEZO.hyper, gen)
        dense = zo_step(dense, low, t, HYPER, low_gen)
    assert torch.allclose(full.loss(sparse["theta"]), low.loss(dense["theta"]), rtol=1e-9, atol=0)
