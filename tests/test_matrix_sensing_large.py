"""The named larger matrix-sensing setting (docs/families/matrix-sensing-large.toml, meant for --device cuda)
parses into parameters the family accepts, and the same run goes through on the CPU once its size is scaled
down (the CI has no GPU)."""

from __future__ import annotations

from pathlib import Path

import torch

from plugins.overparam_matrix_sensing import OVERPARAM
from theory import Experiment
from theory.instances.matrix_sensing import LARGE, MATRIX_SENSING
from theory.runner import run
from theory.selection import parse_overrides

CONFIG = Path(__file__).resolve().parents[1] / "docs" / "families" / "matrix-sensing-large.toml"


def test_config_is_the_named_setting():
    params = parse_overrides([], CONFIG)
    assert params == LARGE
    for name, value in params.items():
        declared = MATRIX_SENSING.parameters[name]
        assert declared.low is None or value >= declared.low


def test_runs_on_cpu_at_small_size():
    params = {**OVERPARAM.claims[0].experiment.params, **parse_overrides([], CONFIG), "n": 12, "r": 2}
    experiment = Experiment(family="matrix-sensing", over="t", grid=(4, 8, 16), params=params)
    trace = run(OVERPARAM, MATRIX_SENSING, experiment, experiment.grid, seeds=[0, 1], device="cpu")
    assert trace.status == "ok", trace.message
    error = torch.as_tensor(trace.metrics["error"])
    assert error.shape == (2, 3) and bool(torch.isfinite(error).all())
