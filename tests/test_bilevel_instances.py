"""The bilevel families' oracles against autograd on their own value functions, their exact hypergradients
against autograd through the closed-form y*(x) and against finite differences, shapes, noise and
reproducibility (plugins/bilevel_instances.py, plugins/bilevel_problems.py)."""

from __future__ import annotations

import pytest
import torch

from plugins.bilevel_instances import FAMILIES, FROZEN, cg, count, counters, fista, oracle_metrics
from theory import Gen

FAMILY = {family.name: family for family in FAMILIES}
SMALL = {"bilevel-quadratic": {"dx": 4, "dy": 3, "kappa": 20.0},
         "bilevel-multiblock": {"m": 5, "dx": 4, "dy": 2},
         "bilevel-hyperparam": {"d": 6, "n_train": 15, "n_val": 12, "x0": 0.3},
         "bilevel-unbounded": {"dx": 4, "dy": 5, "r0": 1.0},
         "bilevel-constrained": {"n": 4}}
NAMES = sorted(SMALL)


def make(name, seeds=(3, 4, 5), **params):
    return FAMILY[name].instance({**SMALL[name], **params}, Gen(list(seeds)))


def point(inst, stream="point"):
    gen = Gen([11, 12, 13][: inst.batch])
    x = inst.x0 + 0.5 * gen.normal(stream + "/x", 0, inst.x0.shape[1])
    y = inst.lower_solution(x) + 0.5 * gen.normal(stream + "/y", 0, inst.y0.shape[1])
    v = gen.normal(stream + "/v", 0, inst.y0.shape[1])
    return x, y, v


def close(a, b, tol=1e-9):
    assert a.shape == b.shape
    b = b.to(a.dtype)
    assert torch.allclose(a, b, rtol=tol, atol=tol), (a - b).abs().max()


@pytest.mark.parametrize("name", NAMES)
def test_oracles_are_the_derivatives_of_the_values(name):
    inst = make(name)
    x, y, v = point(inst)
    x.requires_grad_(True)
    y.requires_grad_(True)
    for value, oracle in ((inst.upper_value, inst.upper_grad), (inst.lower_value, inst.lower_grad)):
        gx, gy = torch.autograd.grad(value(x, y).sum(), (x, y), allow_unused=True)
        ox, oy = oracle(x, y)
        close(ox, torch.zeros_like(x) if gx is None else gx)
        close(oy, gy)
    _, gy = torch.autograd.grad(inst.lower_value(x, y).sum(), (x, y), create_graph=True)
    hx, hy = torch.autograd.grad((gy * v).sum(), (x, y), allow_unused=True)
    close(inst.lower_hvp(x, y, v), hy)
    close(inst.cross_jvp(x, y, v), torch.zeros_like(x) if hx is None else hx)


@pytest.mark.parametrize("name", NAMES)
def test_exact_hypergradient_agrees_with_autograd_and_finite_differences(name):
    inst = make(name)
    x = point(inst)[0].requires_grad_(True)
    (reference,) = torch.autograd.grad(inst.phi(x).sum(), x)
    exact = inst.hypergrad(x.detach())
    close(exact, reference)
    h, x = 1e-5, x.detach()
    basis = torch.eye(x.shape[1], dtype=x.dtype)
    central = torch.stack([(inst.phi(x + h * e) - inst.phi(x - h * e)) / (2 * h) for e in basis], 1)
    close(exact, central, tol=1e-6)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "bilevel-constrained"])
def test_lower_solution_is_stationary(name):
    inst = make(name)
    x = point(inst)[0]
    close(inst.lower_grad(x, inst.lower_solution(x))[1], torch.zeros_like(inst.y0))


def test_constrained_reference_solves_the_optimistic_problem():
    """y*(x) is feasible, lower-level optimal (value of the KKT solution) and the best F over S(x); the
    solution x* = -0.3 is stationary with Phi* = 0.05 n."""
    inst = make("bilevel-constrained")
    x = point(inst)[0]
    y, n = inst.lower_solution(x), inst.n
    close(inst.constraint(x, y), torch.zeros(inst.batch, 1))
    # lower level: y2 enters linearly, so eliminating sum y2 = -sum x - sum y1 gives y1 = x + 1
    best = 0.5 * n - 0.5 * (x * x).sum(1) - 2 * x.sum(1) - n
    close(inst.lower_value(x, y), best)
    # the optimistic F over S(x) by a KKT solve over y2: min 1/2||x - y2||^2 s.t. sum y2 = -2 sum x - n
    kkt = torch.zeros(n + 1, n + 1, dtype=torch.float64)
    kkt[:n, :n], kkt[:n, n], kkt[n, :n] = torch.eye(n), 1.0, 1.0
    rhs = torch.cat([x, (-2 * x.sum(1) - n)[:, None]], 1)
    y2 = torch.linalg.solve(kkt, rhs.unsqueeze(-1)).squeeze(-1)[:, :n]
    close(inst.upper_value(x, torch.cat([x + 1, y2], 1)), inst.phi(x))
    close(inst.hypergrad(inst.x_star), torch.zeros_like(x))
    close(inst.phi(inst.x_star), inst.phi_star)
    xs, ys = inst.project(x, y + 1.0)
    close(inst.constraint(xs, ys), torch.zeros(inst.batch, 1))


@pytest.mark.parametrize("name", ["bilevel-quadratic", "bilevel-multiblock"])
def test_quadratic_optimum_is_stationary_and_start_at_distance_r0(name):
    inst = make(name, r0=2.0)
    close(inst.hypergrad(inst.x_star), torch.zeros_like(inst.x0), tol=1e-8)
    close((inst.x0 - inst.x_star).norm(dim=1), torch.full((inst.batch,), 2.0))
    close(inst.phi(inst.x_star), inst.phi_star)
    assert (inst.phi(inst.x0) > inst.phi_star).all()


def test_blocks_add_up_to_the_full_oracles():
    inst = make("bilevel-multiblock")
    x, y, v = point(inst)
    m = inst.blocks
    idx = torch.arange(m).expand(inst.batch, m)
    yb, vb = y.reshape(inst.batch, m, -1), v.reshape(inst.batch, m, -1)
    for full, block in ((inst.upper_grad(x, y), inst.block_upper_grad(x, yb, idx)),
                        (inst.lower_grad(x, y), inst.block_lower_grad(x, yb, idx))):
        close(full[0], block[0].mean(1))
        close(full[1], block[1].flatten(1) / m)
    close(inst.lower_hvp(x, y, v), inst.block_lower_hvp(x, yb, idx, vb).flatten(1) / m)
    close(inst.cross_jvp(x, y, v), inst.block_cross_jvp(x, yb, idx, vb).mean(1))
    picked = inst.sample_blocks(3, Gen([1, 2, 3]), t=0)
    assert picked.shape == (3, 3) and all(len(set(row.tolist())) == 3 for row in picked)
    sub = inst.block_lower_hvp(x, yb[:, :0], picked, vb[torch.arange(3)[:, None], picked])
    close(sub, inst.block_lower_hvp(x, yb, idx, vb)[torch.arange(3)[:, None], picked])


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_float64(name):
    inst = make(name)
    x, y, v = point(inst)
    assert inst.x0.dtype == inst.y0.dtype == torch.float64 and inst.x0.shape[0] == inst.y0.shape[0] == 3
    for out, like in ((inst.upper_grad(x, y), (x, y)), (inst.lower_grad(x, y), (x, y)),
                      (inst.lower_hvp(x, y, v), y), (inst.cross_jvp(x, y, v), x), (inst.hypergrad(x), x),
                      (inst.lower_solution(x), y), (inst.phi(x), x[:, 0]), (inst.lower_mu(x), x[:, 0]),
                      (inst.lower_smoothness(x), x[:, 0]), (inst.upper_smoothness_y(x), x[:, 0])):
        for a, b in zip(out, like) if isinstance(out, tuple) else ((out, like),):
            assert a.shape == b.shape and a.dtype == torch.float64


@pytest.mark.parametrize("name", NAMES)
def test_a_seed_draws_the_same_instance_in_any_batch(name):
    one, three = make(name, seeds=(4,)), make(name, seeds=(3, 4, 5))
    close(one.x0[0], three.x0[1], tol=0)
    close(one.hypergrad(one.x0)[0], three.hypergrad(three.x0)[1], tol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_stochastic_oracles_are_unbiased_with_sd_sigma(name):
    inst = make(name, sigma=0.5)
    x, y, v = point(inst)
    exact = inst.lower_hvp(x, y, v)
    gen = Gen([1, 2, 3])
    draws = torch.stack([inst.lower_hvp(x, y, v, gen=gen, t=t) for t in range(4000)])
    noise = draws - exact
    assert noise.mean(0).abs().max() < 5 * 0.5 / 4000**0.5
    assert (noise.std(0) - 0.5).abs().max() < 0.05
    gx, gy = inst.upper_grad(x, y, gen=gen, t=0, stream="a")
    hx, hy = inst.upper_grad(x, y, gen=gen, t=0, stream="b")
    assert not torch.equal(gy, hy) and torch.equal(gx, inst.upper_grad(x, y, gen=gen, t=0, stream="a")[0])
    close(make(name).upper_grad(x, y, gen=gen, t=3)[1], inst.upper_grad(x, y)[1], tol=0)  # sigma = 0: exact


def test_counters_and_the_frozen_null():
    inst = make("bilevel-unbounded")
    state = {"x": inst.x0, **counters(inst)}
    state = {**state, **count(state, grad=2, hvp=torch.tensor([1.0, 0.0, 3.0]), jvp=1)}
    out = oracle_metrics(state, inst)
    close(out["calls"], torch.tensor([4.0, 3.0, 6.0]))
    close(out["hypergrad_norm"], inst.hypergrad(inst.x0).norm(dim=1))
    frozen = FROZEN.init(inst, {}, Gen([1, 2, 3]))
    for t in range(1, 4):
        frozen = FROZEN.step(frozen, inst, t, {}, Gen([1, 2, 3]))
    metrics = FROZEN.metrics(frozen, inst)
    assert set(metrics) == set(FROZEN.metric_names)
    close(metrics["calls"], torch.full((3,), 3.0))
    close(metrics["hypergrad_norm"], out["hypergrad_norm"])


def test_parameters_are_declared_and_relations_refused():
    for family in FAMILIES:
        assert set(family.defaults) == set(family.parameters), family.name
    with pytest.raises(ValueError, match="n_train"):
        make("bilevel-hyperparam", n_train=6)
    with pytest.raises(ValueError, match="lam = 0"):
        make("bilevel-quadratic", lam=0.0, dy=2)


@pytest.mark.parametrize("name", ["bilevel-quadratic", "bilevel-hyperparam"])
def test_fista_and_cg_reach_their_tolerances_and_count_per_seed(name):
    inst = make(name)
    x, y, v = point(inst)
    tol = torch.tensor([1e-2, 1e-6, 1e-9], dtype=torch.float64)
    active = torch.tensor([True, True, False])
    solved, calls = fista(inst, x, y, tol, active, cap=5000)
    error = (solved - inst.lower_solution(x)).norm(dim=1)
    assert (error[:2] <= tol[:2]).all() and torch.equal(solved[2], y[2]) and calls[2] == 0
    assert 0 < calls[0] < calls[1]
    q, steps = cg(inst, x, y, v, tol, active, cap=500)
    residual = (inst.lower_hvp(x, y, q) - v).norm(dim=1)
    assert (residual[:2] <= tol[:2]).all() and torch.equal(q[2], torch.zeros_like(q[2])) and steps[2] == 0
    assert 0 < steps[0] <= steps[1] <= inst.y0.shape[1] + 2
