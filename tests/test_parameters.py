"""Instance parameters: every built-in family declares them, and experiments are validated when plugins load."""

from __future__ import annotations

import dataclasses

import pytest

from tests import fake_plugins
from theory.claims import Experiment
from theory.errors import ClaimError
from theory.parameters import UndeclaredParameters, validate_experiment
from theory.registry import build_registry

GRID = (100.0, 200.0, 400.0)


def _bandit_claim(**params):
    experiment = Experiment(family="bernoulli-bandit", over="T", grid=GRID, params=params, seeds=4)
    return dataclasses.replace(fake_plugins.claim(), experiment=experiment)


def _load_error(**params) -> str:
    alg = fake_plugins.algorithm("typo", family="bernoulli-bandit", claims=(_bandit_claim(**params),))
    registry = fake_plugins.registry(("typo-plugin", fake_plugins.Plugin(alg, families=())))
    assert "typo" not in registry.algorithms
    (error,) = registry.errors
    return str(error)


def test_every_builtin_family_declares_its_defaults_and_accepts_them():
    families = build_registry(autoload=False).families
    assert families
    for family in families.values():
        assert family.parameters, family.name
        assert set(family.defaults) <= set(family.parameters), family.name
        validate_experiment(Experiment(family=family.name, over="T", grid=GRID, params=dict(family.defaults)),
                            family)


def test_a_typo_is_refused_at_load_with_the_family_parameter_list():
    message = _load_error(K=4, best=0.7, gapp=0.4)
    assert "no parameter 'gapp'" in message and "did you mean 'gap'?" in message
    for name in ("K (number of arms, integer in [2, inf])", "best (", "gap (", "means ("):
        assert name in message


@pytest.mark.parametrize(("params", "problem"), [
    ({"K": 4, "best": 1.7, "gap": 0.1}, "best=1.7 is above 1"),
    ({"K": 2.5, "best": 0.9, "gap": 0.1}, "K=2.5 is not a whole number"),
    ({"K": 0, "best": 0.9, "gap": 0.1}, "K=0 is below 2"),
    ({"K": 2, "means": (0.9, 1.2)}, "means=(0.9, 1.2) is above 1"),
    ({"K": 4, "best": 0.9, "gap": "1 - 200/T"}, "gap=-1.0 at T=100 is below 0"),  # a form, checked per point
])
def test_out_of_range_values_are_refused_at_load(params, problem):
    message = _load_error(**params)
    assert problem in message and "family 'bernoulli-bandit'" in message, message


def test_a_form_valued_parameter_is_checked_at_every_grid_point():
    family = build_registry(autoload=False).families["bernoulli-bandit"]
    fine = Experiment(family=family.name, over="T", grid=GRID, params={"gap": "sqrt(K*log(T)/T)", "K": 4})
    validate_experiment(fine, family)
    wide = dataclasses.replace(fine, params={"gap": "T/300", "K": 4})  # 0.33, 0.67, then 1.33 at T=400
    with pytest.raises(ClaimError, match=r"gap=1\.33\d* at T=400 is above 1"):
        validate_experiment(wide, family)


def test_a_claim_constant_in_params_is_not_a_family_parameter():
    """dp_bai carries H_BAI for its bound's form in params: the claim's own symbol, allowed unchecked."""
    claim = dataclasses.replace(_bandit_claim(K=4, best=0.9, gap=0.1, H=3.0), form="C*H*sqrt(T)")
    alg = fake_plugins.algorithm("constants", family="bernoulli-bandit", claims=(claim,))
    registry = fake_plugins.registry(("constants-plugin", fake_plugins.Plugin(alg, families=())))
    assert not registry.errors and "constants" in registry.algorithms


def test_a_family_without_declarations_keeps_working_with_a_warning(monkeypatch):
    monkeypatch.setattr("theory.parameters._warned", set())
    with pytest.warns(UndeclaredParameters, match="'toy-bandit' declares no parameters"):
        registry = fake_plugins.registry(("toy", fake_plugins.Plugin(fake_plugins.algorithm())))
    assert "fake" in registry.algorithms and not registry.errors
