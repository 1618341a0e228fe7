"""Claims judged against a measured counter (``Claim.against``): a method whose oracle calls per step grow has
one rate in steps and another in calls, and the checker must judge the one the paper states."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import geometric_grid, make_claim, make_trace

from theory import Status, check
from theory.errors import ClaimError
from theory.render import describe_claim

GRID = geometric_grid(4, 11)  # k = 16 .. 2048 steps
K = np.array(GRID)


def _traces(seeds: int = 32) -> dict[str, np.ndarray]:
    """Steps k cost k calls each, so calls = k(k+1)/2 ~ k^2/2, and the metric is calls^(-1/2) ~ k^-1, with
    multiplicative noise."""
    calls = np.tile(K * (K + 1) / 2, (seeds, 1))
    noise = np.random.default_rng(3).gamma(400.0, 1 / 400.0, size=calls.shape)
    return {"m": calls ** -0.5 * noise, "calls": calls}


def test_rate_is_judged_in_the_counter_not_the_steps():
    in_calls = make_claim("C*calls**(-1/2)", grid=GRID, over="k", against="calls", kind="theta")
    in_steps = make_claim("C*k**(-1/2)", grid=GRID, over="k", kind="theta")
    trace = make_trace(_traces(), GRID, over="k")
    judged = check(in_calls, trace)
    assert judged.status is Status.PASS, judged.evidence
    assert judged.estimate == pytest.approx(-0.5, abs=0.03)
    assert "exponent of calls" in judged.evidence
    assert [row.x for row in judged.rows] == pytest.approx(list(K * (K + 1) / 2))
    # the same metric in steps decays like k^-1: a theta claim of k^-1/2 is refuted
    assert check(in_steps, trace).status is Status.FAIL


def test_a_counter_that_does_not_advance_is_an_error_naming_it():
    claim = make_claim("C*calls**(-1/2)", grid=GRID, over="k", against="calls")
    frozen = {"m": np.ones((16, len(GRID))), "calls": np.zeros((16, len(GRID)))}
    verdict = check(claim, make_trace(frozen, GRID, over="k"))
    assert verdict.status is Status.ERROR
    assert "counter 'calls' must be positive, finite and strictly increasing" in verdict.evidence
    missing = check(claim, make_trace({"m": np.ones((16, len(GRID)))}, GRID, over="k"))
    assert missing.status is Status.ERROR and "does not measure" in missing.evidence


@pytest.mark.parametrize("form, fields, message", [
    ("C*k", {"against": "calls"}, "not allowed"),  # the form is over the counter, not the grid variable
    ("C*calls", {"against": "k"}, "already"),
    ("C*calls", {"against": "C"}, "already"),
    ("C*calls", {"against": "2x"}, "against"),
])
def test_against_is_validated(form, fields, message):
    with pytest.raises(ClaimError, match=message):
        make_claim(form, grid=GRID, over="k", **fields).expression()


def test_the_statement_names_the_counter():
    claim = make_claim("C*calls**(-1/4)", grid=GRID, over="k", against="calls")
    assert claim.axis == "calls"
    assert "as calls grows (the mean calls at each k of the grid)" in describe_claim(claim)
