"""A single linear self-attention layer trained on in-context regression recovers one step of gradient descent
(Section 3, Figure 2): von Oswald, Niklasson, Randazzo, Sacramento, Mordvintsev, Zhmoginov, Vladymyrov,
"Transformers Learn In-Context by Gradient Descent", ICML 2023 (arXiv 2212.07677). Catalogue:
shared/claims/optimization.md, section 14 (C14.2). The family, the layer and Proposition 1's construction are
plugins/icl_gradient_descent.py; the layer, its tokens and its readout are the same here.

Claims of ``lsa-trained`` (Section 3, Figure 2: a single LSA layer trained on fresh tasks matches GD with the
best eta, "model cos" near 1 and "preds diff" near 0): W_K, W_Q, W_V, P, each (d + 1) x (d + 1), start at
N(0, 0.002 / (d + 1)) (the reference's variance scaling 0.002) and take Adam steps (lr 1e-3, b1 0.9, b2 0.98,
the reference's) on 0.5 mean (y_hat - y_q)^2 over BATCH fresh tasks. They are compared on 512 held-out tasks
per seed with one GD step at eta*, the best eta for one step (E[g y_q] / E[g^2], g = (1/N) sum_i y_i x_i^T x_q,
on a separate calibration draw). The measures are the reference's ``analyse``: sensitivities
s = d y_hat / d x_q (autograd), ``misalignment`` = 1 - mean cos(s_TF, s_GD), ``prediction_gap`` =
mean |y_hat_TF - y_hat_GD| / mean |y_hat_GD| (preds diff, made relative), ``model_diff`` = mean ||s_TF - s_GD||
and ``loss_ratio`` (reported). Regime: d = N = 10 (Figure 2), 8 seeds. Bounds chosen before any run, checked at
every grid point: ``recovers-sensitivity``: misalignment <= 0.01; ``recovers-predictions``: gap <= 0.1. The
training grid was sized afterwards, on a pilot with base seed 1000 (never used by a verdict): at batch 64, six
of its eight seeds were at misalignment 0.005-0.009 by t = 1000, two sat on a plateau (about 0.74) until
t = 2000-4000 and 4000-8000, so the grid is t = 5000 .. 8000. Both claims are declared expected failures, with the
numbers: on the verdicts' seeds one of eight is still on that plateau at t = 8000 (a saddle of the four-factor
product: cos 0.26 is about what a rank-one preconditioner gives, 1 / sqrt(d)) and leaves it before t = 16000,
which the t-test reads as INCONCLUSIVE; and the converged seeds' prediction gap, 0.10-0.15, is over the bound
0.1 (chosen too tight for the 0.01 of the cosine: 1 - cos = 0.006 is an angle of 0.11 rad). Past the plateau
the trained layer's loss is within 3% of GD's at eta* (``loss_ratio`` 0.98-1.03, reported, not claimed).
The paper trains far longer (the reference notebook: 50000 steps of
2048 tasks against our 8000 of 64).

Mutant (trained): ``frozen-key-query`` (W_K, W_Q left out of the optimiser: the sensitivity is then
y^T X A for a random A); it FAILs both claims, declared missed since the correct version does not PASS.
Null: ``untrained`` (frozen at its random init), which FAILs both. Why no other claim catches it (issue 14,
after reading the paper's Section 3 in the code index): every statement the paper makes about the trained
layer (Figure 2: identical loss, cosine near 1, small model and prediction differences, the interpolated
weights' identical loss, the same out-of-distribution losses) is a measure averaged over trained layers, and the
paper itself reports a "random seed dependent phase transition of the loss during training" (Appendix A.11,
not read): the seed still on its saddle at t = 8000 keeps the mean of each of them undecided on this budget.
A loss claim (Figure 2's identical loss) would be judged on the mean loss ratio of the same eight seeds, which
the saddle seed (1.94 x GD's) holds near 1.1 with a wide interval. The grid and batch were sized before the
verdicts and are not moved to get past it, so the mutant stays declared missed.

Departures (the reference code is described in plugins/icl_gradient_descent.py): no gradient clipping (the
notebook clips the global norm at 0.001); a plain normal init (haiku's is truncated); eta* in closed form (the
reference scans a grid); batch 64 and 8000 steps instead of 2048 and 50000, for the budget on two shared
cores. The training step evaluates the layer's query readout in product form (``_predict``), the same
function of the same four matrices, as a test checks.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import torch

from plugins.icl_gradient_descent import NAMES, PAPER, RegressionTasks
from theory import Algorithm, Claim, Experiment, Gen, Mutant, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]


def trained_init(instance: RegressionTasks, hyper: Hyper, gen: Gen) -> State:
    """W_Q, W_K, W_V, P ~ N(0, scale / (d + 1)) each, and Adam's moments at 0."""
    size = instance.x.shape[3] + 1
    std = math.sqrt(float(hyper["init_scale"]) / size)
    state = {name: std * gen.normal(f"init/{name}", 0, size, size) for name in NAMES}
    return {**state, **{f"{moment}/{name}": torch.zeros_like(state[name]) for moment in "mv" for name in NAMES}}


def _predict(state: State, x: torch.Tensor, y: torch.Tensor, xq: torch.Tensor) -> torch.Tensor:
    """The layer's prediction on tasks whose query y-slot starts at 0 (W_0 = 0), as in training, read as
    -p^T (sum_i e_i e_i^T) W_K^T W_Q e_q with p^T the y-row of P W_V: the same function of the same four
    matrices as ``attend``'s query readout (tests/test_icl_gradient_descent.py), in a few small products."""
    e = torch.cat([x, y[..., None]], -1)
    second = e.mT @ e  # (S, T, D, D): sum_i e_i e_i^T, no weights in it
    read = (state["wk"].mT @ state["wq"])[:, :, :-1]  # (S, D, d): W_K^T W_Q on (x_q, 0)
    p = (state["p"] @ state["wv"])[:, -1]  # (S, D)
    return -((second * (xq @ read.mT)[:, :, None, :]).sum(-1) * p[:, None]).sum(-1)


def trained_step(state: State, instance: RegressionTasks, t: int, hyper: Hyper, gen: Gen, *,
                 trained: tuple[str, ...] = NAMES) -> State:
    """One Adam step on 0.5 mean (y_hat - y_q)^2 over fresh tasks; each seed's loss moves only its weights."""
    x, y, xq, yq = instance.sample(gen, t, int(hyper["batch"]))
    leaves = {name: state[name].detach().requires_grad_(name in trained) for name in NAMES}
    with torch.enable_grad():
        loss = 0.5 * ((_predict(leaves, x, y, xq) - yq) ** 2).mean(1).sum()
        grads = torch.autograd.grad(loss, [leaves[name] for name in trained])
    lr, b1, b2, eps = (float(hyper[key]) for key in ("lr", "b1", "b2", "eps"))
    new = dict(state)
    for name, g in zip(trained, grads):
        m, v = b1 * state[f"m/{name}"] + (1 - b1) * g, b2 * state[f"v/{name}"] + (1 - b2) * g * g
        new[name] = state[name] - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)
        new[f"m/{name}"], new[f"v/{name}"] = m, v
    return new


def frozen_step(state: State, instance: RegressionTasks, t: int, hyper: Hyper, gen: Gen) -> State:
    """The null learner: the layer stays at its random init."""
    return state


@measures("misalignment", "prediction_gap", "model_diff", "loss_ratio")
def trained_metrics(state: State, instance: RegressionTasks) -> dict[str, torch.Tensor]:
    """The paper's measures against one GD step at eta*, on the held-out tasks (reference ``analyse``)."""
    x, y, n = instance.x, instance.y, instance.x.shape[2]
    xq = instance.xq.clone().requires_grad_(True)
    with torch.enable_grad():
        pred = _predict(state, x, y, xq)
        sens = torch.autograd.grad(pred.sum(), xq)[0]  # each task's prediction reads only its own query
    pred = pred.detach()
    gd_sens = (instance.eta_star / n)[:, None, None] * (y[..., None] * x).sum(2)
    gd_pred = (gd_sens * instance.xq).sum(-1)
    cos = (sens * gd_sens).sum(-1) / (sens.norm(dim=-1) * gd_sens.norm(dim=-1))
    return {"misalignment": 1 - cos.mean(1),
            "prediction_gap": (pred - gd_pred).abs().mean(1) / gd_pred.abs().mean(1),
            "model_diff": (sens - gd_sens).norm(dim=-1).mean(1),
            "loss_ratio": ((pred - instance.yq) ** 2).mean(1) / ((gd_pred - instance.yq) ** 2).mean(1)}


# Sized on a pilot with base seed 1000 (seeds the verdicts never use; see the docstring): batch 64, and steps
# past the plateau on which two of its eight seeds sat until 4000-8000 steps. The quick grid only exercises the
# code within the quick budget.
BATCH = 64
GRID = (5000, 6000, 7000, 8000)
QUICK_GRID = (500, 700, 1000)
TRAINED_EXPERIMENT = Experiment(family="icl-linear-regression", over="t", grid=GRID, seeds=8, quick_grid=QUICK_GRID,
                                quick_seeds=8, params={"d": 10, "N": 10, "tasks": 512})
TRAINED_CLAIMS = ("recovers-sensitivity", "recovers-predictions")
PLATEAU = ("one of the 8 seeds stays on a saddle (misalignment 0.746, loss 1.94 x GD's) through t = 8000 while "
           "seven are at 0.005-0.007; it leaves the saddle between t = 8000 and 16000 (measured outside the "
           "budget, to t = 32000: all eight at 0.003-0.006 from t = 16000 on); ")
SENSITIVITY_FAILS = (PLATEAU + "INCONCLUSIVE, mean 0.0985 [-0.179, 0.376] at t = 8000 (full); quick: INCONCLUSIVE, "
                     "0.144 [-0.121, 0.409] at t = 500")
PREDICTION_FAILS = (PLATEAU + "INCONCLUSIVE, mean 0.222 [-0.084, 0.529] at t = 8000 (full); quick: FAIL, 0.387 "
                    "[0.143, 0.632] at t = 500. Past the saddle the gap stays over the bound 0.1, chosen before "
                    "running and tighter than the misalignment bound 0.01 implies (1 - cos = 0.006 is an angle of "
                    "0.11 rad): the seven converged seeds at 0.10-0.15 at t = 8000, all eight at 0.10-0.13 at 32000")
KEY_QUERY_MISSED = {
    "recovers-sensitivity": "FAILs at 0.827 [0.800, 0.853] (t = 8000), but the correct version is INCONCLUSIVE "
                            "(expected failure), so no catch can count",
    "recovers-predictions": "FAILs at 0.976 [0.958, 0.994] (t = 8000), but the correct version is INCONCLUSIVE "
                            "(expected failure), so no catch can count"}

TRAINED = Algorithm(
    name="lsa-trained", paper=PAPER, family="icl-linear-regression", init=trained_init, step=trained_step,
    metrics=trained_metrics,
    hyper={"lr": 1e-3, "b1": 0.9, "b2": 0.98, "eps": 1e-8, "init_scale": 0.002, "batch": BATCH},
    mutable={}, timeout_s=600.0,  # each generated mutant would be another training run of the budget
    claims=(
        Claim(name="recovers-sensitivity", metric="misalignment", kind="upper", form="1/100", free=(),
              source="Section 3, Figure 2: a trained LSA layer matches GD (model cos)", experiment=TRAINED_EXPERIMENT,
              expected_failure=SENSITIVITY_FAILS),
        Claim(name="recovers-predictions", metric="prediction_gap", kind="upper", form="1/10", free=(),
              source="Section 3, Figure 2: a trained LSA layer matches GD (preds diff)",
              experiment=TRAINED_EXPERIMENT, expected_failure=PREDICTION_FAILS),
    ),
    mutants=(
        Mutant(name="frozen-key-query", bug="W_K and W_Q left out of the optimiser", breaks=TRAINED_CLAIMS,
               step=functools.partial(trained_step, trained=("wv", "p")), missed=KEY_QUERY_MISSED),
    ),
    nulls=(Mutant(name="untrained", bug="frozen at its random init", breaks=TRAINED_CLAIMS, step=frozen_step),),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [TRAINED]
