"""The logistic families and steps (plugins/logistic_instances.py, logistic_to_perceptron.py,
gradient_normalized_smoothness.py): the derivatives are the loss's, the reference minimum is one, the
separable data are separated by w* = e1 with the hard points at the stated margin, a seed's instance does not
depend on its batch, and the steps do what their docstrings say."""

from __future__ import annotations

import torch

from plugins import gradient_normalized_smoothness as gns
from plugins import logistic_to_perceptron as tyurin
from plugins.logistic_instances import NONSEPARABLE, SEPARABLE
from theory.random import Gen

SMALL = {"n": 40, "d": 4, "mu": 1e-2, "noise": 0.5}


def test_gradient_and_hessian_are_those_of_the_loss():
    instance = NONSEPARABLE.instance(SMALL, Gen([0, 1]))
    x = Gen([0, 1]).normal("point", 0, 4).requires_grad_()
    (grad,) = torch.autograd.grad(instance.loss(x).sum(), x, create_graph=True)
    assert torch.allclose(grad, instance.gradient(x))
    rows = [torch.autograd.grad(grad[:, i].sum(), x, retain_graph=True)[0] for i in range(4)]
    assert torch.allclose(torch.stack(rows, 1), instance.hessian(x))


def test_the_reference_minimum_is_a_minimum():
    instance = NONSEPARABLE.instance(SMALL, Gen([2, 3]))
    x = torch.zeros(2, 4, dtype=torch.float64)
    for _ in range(2000):  # plain gradient descent never goes below f*
        x = x - 5.0 * instance.gradient(x)
    assert (instance.loss(x) >= instance.f_star - 1e-12).all()
    assert torch.allclose(instance.loss(x), instance.f_star, atol=1e-9)


def test_separable_data_have_the_stated_margins_and_a_seed_ignores_its_batch():
    params = {"n": 30, "d": 5, "hard": 3, "margin": 0.05, "bias": 1.0}
    alone, together = SEPARABLE.instance(params, Gen([7])), SEPARABLE.instance(params, Gen([5, 7]))
    assert torch.equal(alone.z[0], together.z[1])
    along_e1 = alone.z[0, :, 0]
    assert (along_e1[:30] >= 1).all() and torch.allclose(along_e1[30:], torch.full((3,), 0.05, dtype=torch.float64))


def test_the_first_perceptron_step_weighs_every_tie_by_one_half():
    instance = SEPARABLE.instance({"n": 20, "d": 5, "hard": 3, "margin": 0.05, "bias": 1.0}, Gen([0]))
    state = tyurin.limit_step(tyurin.limit_init(instance, {"gamma": 1e6}, None), instance, 1, {"gamma": 1e6}, None)
    assert torch.allclose(state["w"], instance.z.mean(1) / 2)
    assert float(state["worst"].max()) < 1e-14  # and LR+GD at gamma = 1e6 takes the same first step


def test_gns_steps_decrease_the_loss_and_grow_the_radius():
    instance = NONSEPARABLE.instance(SMALL, Gen([0, 1, 2]))
    hyper = {"gamma0": 1.0, "hessian": True, "delta": 0.0}
    state = gns.init(instance, hyper, None)
    for t in range(1, 6):
        following = gns.step(state, instance, t, hyper, None)
        assert (instance.loss(following["x"]) <= instance.loss(state["x"])).all()
        state = following
    assert (state["gamma"] > 1.0).all()


def test_gns_steps_stay_in_their_ball_and_make_lemma_1_progress():
    instance = NONSEPARABLE.instance(SMALL, Gen([0, 1, 2]))
    for hessian in (True, False):
        hyper = {"gamma0": 1.0, "hessian": hessian, "delta": 0.0}
        state = gns.init(instance, hyper, None)
        for t in range(1, 6):
            state = gns.step(state, instance, t, hyper, None)
            measured = gns.metrics(state, instance)
            assert (measured["radius"] <= 1 + 1e-12).all() and (measured["progress"] >= 1 - 1e-12).all()
        if not hessian:  # H = 0: the step is -gamma g / ||g||, exactly the radius
            assert torch.allclose(measured["radius"], torch.ones(3, dtype=torch.float64))


def test_the_margin_bound_is_the_max_margin_of_an_svm_solve():
    """Theorem 6.1's mu is the max margin; ``margin_lower_bound`` (an NNLS solve of the dual) must not exceed it
    (so the bound checked is never tighter than the theorem's) and should reach it (so it is not looser)."""
    import cvxpy as cp

    instance = SEPARABLE.instance({"n": 50, "d": 5, "hard": 3, "margin": 0.05, "bias": 1.0}, Gen([0, 1, 2]))
    found = tyurin.margin_lower_bound(instance.z)
    for z, bound in zip(instance.z.numpy(), found.tolist()):
        w = cp.Variable(z.shape[1])
        cp.Problem(cp.Minimize(cp.sum_squares(w)), [z @ w >= 1]).solve()
        mu = 1 / float((w.value**2).sum() ** 0.5)  # hard-margin SVM through the origin: mu = 1 / ||w||
        assert bound <= mu + 1e-6 and bound >= mu - 1e-6


def test_normalized_lr_gd_steps_along_a_convex_combination_of_the_points():
    """Section 6: beta_t = 1 / mean_i sigmoid(-z_i^T x_t), so the step is gamma times a convex combination of
    the z_i, weights sigmoid(-z_i^T x_t); from x_0 = 0 (all weights 1/2) it is gamma times the mean point."""
    instance = SEPARABLE.instance({"n": 20, "d": 5, "hard": 3, "margin": 0.05, "bias": 1.0}, Gen([0, 1]))
    hyper = {"gamma": 2.0}
    state = tyurin.normalized_step(tyurin.normalized_init(instance, hyper, None), instance, 1, hyper, None)
    assert torch.allclose(state["x"], 2.0 * instance.z.mean(1), rtol=1e-14, atol=0)
    weights = torch.sigmoid(-instance.margins(state["x"]))
    following = tyurin.normalized_step(state, instance, 2, hyper, None)
    combination = torch.einsum("bnd,bn->bd", instance.z, weights / weights.sum(1, keepdim=True))
    assert torch.allclose(following["x"] - state["x"], 2.0 * combination, rtol=1e-12, atol=0)
