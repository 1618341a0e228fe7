"""Unit checks of the bilevel paper plugins that their claims cannot see directly: LV-HBA's step against an
independent transcription of the reference code's update, the exactness of BSVRB's MSVR recurrence on
deterministic oracles (and of its STORM estimate, through the ``estimator_gap`` metric), BO-REP's running
``lower_error``, and the penalty method's oracle counting and Danskin gradient."""

from __future__ import annotations

import math

import numpy as np
import torch

from plugins import bilevel_penalty, bo_rep, bsvrb, lv_hba
from plugins.bilevel_instances import FAMILIES
from theory import Gen

FAMILY = {family.name: family for family in FAMILIES}


def _instance(name: str, seeds: int = 3, **params):
    gen = Gen(torch.arange(seeds))
    return FAMILY[name].instance(params, gen), gen


def test_lv_hba_step_matches_the_reference_update():
    """One step on the LLC toy, recomputed in numpy in the reference code's order (theta, lam from the old
    values; d_x, d_y with the new ones; projection onto sum = 0; then z)."""
    instance, gen = _instance("bilevel-constrained", n=4, r0=1.0)
    hyper = dict(lv_hba.HYPER)
    state = lv_hba.init(instance, hyper, gen)
    state = lv_hba.step(state, instance, 1, hyper, gen)  # a generic state: lam, z, theta away from 0
    x, y, th, lam, z = (state[k][0].numpy().copy() for k in ("x", "y", "theta", "lam", "z"))
    after = lv_hba.step(state, instance, 2, hyper, gen)
    n, c = 4, hyper["c0"] * 2 ** hyper["p"]
    g1, g2, eta, alpha, beta, u = (hyper[k] for k in ("gamma1", "gamma2", "eta", "alpha", "beta", "u"))
    y1, y2, t1 = y[:n], y[n:], th[:n]
    lower_y = np.concatenate([t1 - x, np.ones(n)])  # grad_y of 1/2||y1 - x||^2 - 1/2||x||^2 + sum y2 at theta
    h = x.sum() + th.sum()
    th_new = th - eta * (lower_y + lam[0] * np.ones(2 * n) + (th - y) / g1)
    lam_new = np.clip(lam - eta * (-h + (lam - z) / g2), -u, u)
    d_x = (x - y2) / c + (-y1) - (-th_new[:n]) - lam_new[0] * np.ones(n)
    d_y = np.concatenate([y1 - 1, y2 - x]) / c + np.concatenate([y1 - x, np.ones(n)]) - (y - th_new) / g1
    w = np.concatenate([x - alpha * d_x, y - alpha * d_y])
    w = w - w.sum() / w.size
    z_new = np.clip(z + beta * (lam_new - z) / g2, -u, u)
    for key, expected in (("x", w[:n]), ("y", w[n:]), ("theta", th_new), ("lam", lam_new), ("z", z_new)):
        np.testing.assert_allclose(after[key][0].numpy(), expected, rtol=1e-12, atol=1e-12)


def test_lv_hba_counts_first_order_calls_only():
    instance, gen = _instance("bilevel-constrained", n=4)
    state = lv_hba.init(instance, lv_hba.HYPER, gen)
    for t in range(1, 4):
        state = lv_hba.step(state, instance, t, lv_hba.HYPER, gen)
    assert torch.equal(state["grad_calls"], torch.full((3,), 18.0, dtype=torch.float64))
    assert not state["hvp_calls"].any() and not state["jvp_calls"].any()


def _bsvrb_run(steps: int, **keywords):
    instance, gen = _instance("bilevel-multiblock", m=4, sigma=0.0)
    hyper = {**bsvrb.HYPER, "sampled": 4, "horizon": 100}
    state = bsvrb.init(instance, hyper, gen)
    for t in range(1, steps + 1):
        state = bsvrb.step(state, instance, t, hyper, gen, **keywords)
    everything = torch.arange(4).expand(3, -1)
    exact = instance.block_lower_grad(state["x_prev"], state["y_prev"], everything)[1]
    return state, exact


def test_msvr_tracks_exact_gradients_when_every_block_is_sampled():
    """With I = m, exact oracles and an exact start, s_t = h_t + (1 - a)(s_{t-1} - h_{t-1}) = h_t: the MSVR
    estimate is exact at every step; without its correction term (gam = 0) it lags behind the drift."""
    state, exact = _bsvrb_run(6)
    torch.testing.assert_close(state["s"], exact, rtol=1e-10, atol=1e-12)
    lagging, exact = _bsvrb_run(6, msvr=False)
    assert (lagging["s"] - exact).norm() > 1e-3


def test_estimator_gap_is_rounding_with_storm_and_a_lag_without():
    """The metric of ``estimators-exact``: with I = m and exact oracles the STORM estimate z_t equals the
    exact G(w_t) (and s, u their targets), so the gap is rounding; dropping the STORM correction leaves a lag."""
    state, _ = _bsvrb_run(6)
    instance, _ = _instance("bilevel-multiblock", m=4, sigma=0.0)
    assert bsvrb.metrics(state, instance)["estimator_gap"].max() < 1e-12
    lagging, _ = _bsvrb_run(6, storm=False)
    assert bsvrb.metrics(lagging, instance)["estimator_gap"].min() > 1e-3


def test_bo_rep_lower_error_is_the_running_maximum_from_the_refined_start():
    """``lower_error`` (claim ``lower-tracking``) starts at ||y_0 - y*(x_0)|| after the refinement, which the
    refinement shrinks, and is then the running maximum of ||y_k - y*(x_k)|| over the steps."""
    instance, gen = _instance("bilevel-unbounded", r0=3.0, sigma=0.1)
    hyper = {**bo_rep.BO_REP.hyper, "horizon": 64}
    refined = bo_rep.init(instance, hyper, gen)
    raw = bo_rep.init(instance, {**hyper, "refine": False}, gen)
    exact = (instance.y0 - instance.lower_solution(instance.x0)).norm(dim=1)
    torch.testing.assert_close(raw["lower_error"], exact)
    assert (refined["lower_error"] < 0.2 * exact).all()
    state, largest = refined, refined["lower_error"]
    for t in range(1, 20):  # the period is ceil(sqrt(64)) = 8: two refreshes
        x = state["x"]
        state = bo_rep.step(state, instance, t, hyper, gen)  # y_k: the y step k used, after any refresh
        largest = torch.maximum(largest, (state["y"] - instance.lower_solution(x)).norm(dim=1))
        torch.testing.assert_close(state["lower_error"], largest)


def test_penalty_counts_and_its_gradient_approaches_the_hypergradient():
    instance, gen = _instance("bilevel-quadratic", dx=4, dy=4, kappa=4.0)
    errors = []
    for pen in (1e-2, 1e-3):
        hyper = {**bilevel_penalty.HYPER, "horizon": 1}
        state = bilevel_penalty.init(instance, hyper, gen)
        state["pen"] = torch.full_like(state["pen"], pen)
        state = bilevel_penalty.step(state, instance, 1, hyper, gen)
        inner = bilevel_penalty.inner_steps(instance, instance.x0, pen)
        assert torch.equal(state["grad_calls"], torch.full((3,), 3.0 * inner + 3, dtype=torch.float64))
        assert not state["hvp_calls"].any() and not state["jvp_calls"].any()
        errors.append(float((state["d"] - instance.hypergrad(instance.x0)).norm(dim=1).max()))
    assert errors[1] < errors[0] / 5 and math.isfinite(errors[1])
