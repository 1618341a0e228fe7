"""The pieces of plugins/icl_gradient_descent.py and plugins/icl_trained_lsa.py on inputs with known answers:
the construction is GD on a hand-sized task, the family's eta* is the best step, the paper's measures read 0 on
the construction itself, the sensitivities and the fast readout are the layer's, and a seed's training does not
depend on the other seeds."""

from __future__ import annotations

import pytest
import torch

from plugins import icl_gradient_descent as icl
from plugins import icl_trained_lsa as trained
from theory import Gen

SMALL = {"d": 3, "N": 4, "tasks": 16, "w0": 0.0, "K": 1}


pytestmark = pytest.mark.usefixtures("float64")  # tests/conftest.py


def instance(seeds=(1, 2, 3), **params):
    return icl.FAMILY.instance({**SMALL, **params}, Gen(list(seeds)))


def test_one_layer_is_one_gd_step_by_hand():
    """d = 1, N = 2, W_0 = 0: dW = (eta / N) sum_i y_i x_i, so y_hat = dW x_q."""
    x, y, xq = torch.tensor([[[[1.0], [2.0]]]]), torch.tensor([[[3.0, -1.0]]]), torch.tensor([[[0.5]]])
    w0, eta = torch.zeros(1, 1), 0.3
    e = icl.attend(icl.tokens(x, y, xq, w0), icl.construction(1, eta, 2, w0))
    assert -e[0, 0, -1, -1].item() == pytest.approx(eta / 2 * (3.0 * 1.0 - 1.0 * 2.0) * 0.5, rel=1e-14)


@pytest.mark.parametrize("w0, layers", [(0.0, 1), (1.0, 1), (0.0, 3), (1.0, 3)])
def test_layers_are_gd_steps(w0, layers):
    inst = instance(w0=w0, K=layers)
    state = icl.built_step({}, inst, 1, {"eta": 0.3}, Gen([1, 2, 3]))
    assert torch.allclose(state["lsa"], state["gd"], rtol=1e-12, atol=0)
    assert state["gd"].abs().min() > 0  # not a comparison of zeros


def test_key_query_transposition_is_equivalent():
    """Why the mutant is declared missed: W_K^T W_Q = diag(I, 0) is symmetric."""
    inst = instance(w0=1.0)
    right = icl.built_step({}, inst, 1, {"eta": 0.3}, Gen([1, 2, 3]))["lsa"]
    swapped = icl.built_step({}, inst, 1, {"eta": 0.3}, Gen([1, 2, 3]), transposed="key-query")["lsa"]
    assert torch.equal(right, swapped)


def test_non_symmetric_factors_keep_the_product_and_the_gd_step():
    """``any-factorisation``: W_K = A, W_Q = A^-T diag(I, 0) has the construction's W_K^T W_Q, so the layer is
    still the GD step; transposing both factors changes the product, which the symmetric factors hid."""
    inst = instance(w0=1.0, factor=1.0)
    wq, wk, _, _ = icl.construction(3, 0.3, 4, inst.w0, key=inst.key)
    product = torch.zeros(3, 4, 4)
    product[:, :3, :3] = torch.eye(3)
    assert torch.allclose(wk.mT @ wq, product, rtol=0, atol=1e-12) and not torch.allclose(wk, wk.mT)
    state = icl.built_step({}, inst, 1, {"eta": 0.3}, Gen([1, 2, 3]))
    assert torch.allclose(state["lsa"], state["gd"], rtol=1e-12, atol=0)
    swapped = icl.built_step({}, inst, 1, {"eta": 0.3}, Gen([1, 2, 3]), transposed="key-query")["lsa"]
    assert ((swapped - state["gd"]).norm(dim=1) > 1e-3 * state["gd"].norm(dim=1)).all()


def test_eta_star_is_the_best_single_step():
    inst = instance(tasks=512)
    x, y, n = inst.x, inst.y, inst.x.shape[2]
    g = ((y[..., None] * x).sum(2) * inst.xq).sum(-1) / n

    def loss(eta):
        return ((eta[:, None] * g - inst.yq) ** 2).mean(1)

    for factor in (0.8, 1.25):  # a calibration draw of 512 tasks per seed puts eta* within a few % of the best
        assert (loss(inst.eta_star) < loss(factor * inst.eta_star)).all()


def construction_state(inst):
    d, n = inst.x.shape[3], inst.x.shape[2]
    weights = icl.construction(d, 1.0, n, torch.zeros(inst.batch, d))
    wq, wk, wv, p = weights
    return {"wq": wq, "wk": wk, "wv": wv, "p": inst.eta_star[:, None, None] * p}


def test_measures_read_zero_on_the_construction_at_eta_star():
    inst = instance()
    metrics = trained.trained_metrics(construction_state(inst), inst)
    assert metrics["misalignment"].abs().max() < 1e-12
    assert metrics["prediction_gap"].abs().max() < 1e-12
    assert metrics["model_diff"].abs().max() < 1e-12
    assert torch.allclose(metrics["loss_ratio"], torch.ones(inst.batch), rtol=1e-12)


def test_sensitivity_is_the_analytic_one():
    """Linear attention: y_hat = -p^T (sum_i e_i e_i^T) M x_q with p the y-row of P W_V, M = W_K^T W_Q."""
    inst, gen = instance(), Gen([1, 2, 3])
    state = trained.trained_init(inst, {"init_scale": 1.0}, gen)
    xq = inst.xq.clone().requires_grad_(True)
    pred = trained._predict(state, inst.x, inst.y, xq)
    sens = torch.autograd.grad(pred.sum(), xq)[0]
    e = torch.cat([inst.x, inst.y[..., None]], -1)
    p = (state["p"] @ state["wv"])[:, -1]
    m = (state["wk"].mT @ state["wq"])[:, :, :-1]
    analytic = -torch.einsum("sk,stnk,stnl,slj->stj", p, e, e, m)
    assert torch.allclose(sens, analytic, rtol=1e-10, atol=1e-12)


def test_a_seeds_training_does_not_depend_on_its_batch():
    hyper = {**trained.TRAINED.hyper, "batch": 8}
    both, alone = instance(seeds=(5, 6)), instance(seeds=(6,))
    runs = []
    for inst, seeds in ((both, [5, 6]), (alone, [6])):
        gen = Gen(seeds)
        state = trained.trained_init(inst, hyper, gen)
        for t in range(1, 4):
            state = trained.trained_step(state, inst, t, hyper, gen)
        runs.append(state)
    for name in icl.NAMES:
        assert torch.allclose(runs[0][name][1], runs[1][name][0], rtol=1e-12, atol=1e-15)
        assert not torch.equal(runs[0][name][1], trained.trained_init(alone, hyper, Gen([6]))[name][0])


def test_the_frozen_key_query_mutant_leaves_them_at_init():
    inst, hyper = instance(), {**trained.TRAINED.hyper, "batch": 8}
    gen = Gen([1, 2, 3])
    start = trained.trained_init(inst, hyper, gen)
    state = trained.trained_step(start, inst, 1, hyper, gen, trained=("wv", "p"))
    assert torch.equal(state["wq"], start["wq"]) and torch.equal(state["wk"], start["wk"])
    assert not torch.equal(state["wv"], start["wv"])




def test_the_fast_readout_is_the_layer():
    """``_predict``'s product form is the LSA layer's query readout."""
    inst, gen = instance(), Gen([1, 2, 3])
    state = trained.trained_init(inst, {"init_scale": 1.0}, gen)
    e = icl.tokens(inst.x, inst.y, inst.xq, torch.zeros(inst.batch, inst.x.shape[3]))
    layer = -icl.attend(e, tuple(state[n] for n in icl.NAMES))[:, :, -1, -1]
    assert torch.allclose(trained._predict(state, inst.x, inst.y, inst.xq), layer, rtol=1e-12, atol=1e-14)
