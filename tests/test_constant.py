"""The hidden constant: the fitted C of an O-claim and the looseness of an explicit bound, on inputs whose
constant is known."""

from __future__ import annotations

import numpy as np

from tests.fakes import make_claim, make_trace
from theory.judge import check
from theory.render import constant_cell, constant_text, row
from theory.store import verdict_data, verdict_from

GRID = (100.0, 200.0, 400.0, 800.0, 1600.0)


def _noisy(scale: float, form: np.ndarray, seeds: int = 200) -> np.ndarray:
    noise = np.random.default_rng(1).normal(1.0, 0.05, size=(seeds, 1))
    return scale * noise * form[None, :]


def test_the_fitted_constant_of_an_o_claim_is_mean_over_form_at_the_top_with_its_interval():
    form = np.sqrt(np.array(GRID))
    verdict = check(make_claim("C*sqrt(T)", grid=GRID), make_trace(_noisy(3.0, form), GRID))
    low, high = verdict.constant_ci
    assert verdict.constant_at == 1600.0
    assert abs(verdict.constant - 3.0) < 0.05 and low < verdict.constant < high
    assert low < 3.0 < high and high - low < 0.1
    assert verdict.looseness == ()
    assert constant_cell(verdict).startswith("C=2.9") and "at T=1600" in constant_text(verdict, "T")


def test_an_explicit_bound_reports_measured_over_claimed_at_every_grid_point():
    bound = 10 * np.sqrt(np.array(GRID))
    verdict = check(make_claim("10*sqrt(T)", grid=GRID, free=()), make_trace(_noisy(2.5, np.sqrt(GRID)), GRID))
    assert verdict.constant is None
    assert len(verdict.looseness) == len(GRID)
    means = _noisy(2.5, np.sqrt(GRID)).mean(axis=0)
    assert np.allclose(verdict.looseness, means / bound)
    assert abs(max(verdict.looseness) - 0.25) < 0.01
    assert constant_cell(verdict).endswith("max")


def test_the_constant_survives_the_store_and_json_rows():
    verdict = check(make_claim("C*sqrt(T)", grid=GRID), make_trace(_noisy(3.0, np.sqrt(GRID)), GRID))
    assert verdict_from(verdict_data(verdict)) == verdict
    data = row(verdict)
    assert data["constant"] == verdict.constant and data["constant_ci"] == list(verdict.constant_ci)


def test_a_linear_rate_reads_its_constant_above_the_precision_floor():
    """A metric that sinks into rounding noise at the top of the grid: C comes from the last point above it."""
    grid = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0)
    values = 2.0 * 0.5 ** np.array(grid)
    values[-1] = 0.0  # below the floor
    verdict = check(make_claim("C*0.5**t", grid=grid, over="t"), make_trace(np.tile(values, (8, 1)), grid, over="t"))
    assert verdict.constant_at == 50.0 and abs(verdict.constant - 2.0) < 1e-9
