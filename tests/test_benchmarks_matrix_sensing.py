"""The matrix-sensing benchmark compares like with like: its per-seed loop and theorycheck's runner compute the
same GD iterates on the same operator, truths and initialisations (checked on a small instance, not timed)."""

from __future__ import annotations

import torch

from benchmarks import matrix_sensing as bench
from plugins.overparam_matrix_sensing import OVERPARAM
from theory import Experiment, run
from theory.instances.matrix_sensing import MATRIX_SENSING, packing, sensing_operator

PARAMS = {"n": 6, "r": 1, "oversampling": 5.0, "cond": 2.0, "operator_seed": 3}
STEPS = 5


def test_per_seed_loop_matches_the_runner():
    algorithm, family = OVERPARAM, MATRIX_SENSING
    seeds, grid = (11, 12), (STEPS - 2, STEPS - 1, STEPS)
    experiment = Experiment(family="matrix-sensing", over="t", grid=grid, params=PARAMS)
    trace = run(algorithm, family, experiment, grid, seeds)
    assert trace.status == "ok", trace.message

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        n, m = PARAMS["n"], round(PARAMS["oversampling"] * PARAMS["n"] * PARAMS["r"])
        operator, layout = sensing_operator(n, m, PARAMS["operator_seed"]), packing(n)
        k = PARAMS["r"] + algorithm.hyper["extra"]
        for i, seed in enumerate(seeds):
            x, y, truth = bench.seed_problem(seed, PARAMS, k, operator, layout[0])
            for _ in range(STEPS):
                x = bench.seed_step(x, y, operator, layout, algorithm.hyper["eta"])
            error = torch.linalg.matrix_norm(x @ x.T - truth).item()
            assert abs(error - trace.metrics["error"][i, -1]) <= 1e-12 * max(1.0, error)
    finally:
        torch.set_default_dtype(previous)
