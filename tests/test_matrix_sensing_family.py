"""The matrix-sensing family's knobs do what docs/families/matrix-sensing.md says: the general operator sees
non-symmetric matrices and its adjoint is its transpose, the exact operator is an isometry, outliers hit the
stated share of measurements, dense noise has the stated size, and bad parameters are refused by name."""

from __future__ import annotations

import math

import pytest
import torch

from theory import Gen
from theory.instances.matrix_sensing import MATRIX_SENSING

SMALL = {"n": 5, "r": 2, "oversampling": 8.0}


pytestmark = pytest.mark.usefixtures("float64")  # tests/conftest.py


def instance(**params):
    return MATRIX_SENSING.instance({**SMALL, **params}, Gen([1, 2, 3]))


@pytest.mark.parametrize("general", [0, 1])
def test_adjoint_is_the_transpose_of_measure(general):
    inst = instance(general=general)
    gen = Gen([7, 8, 9])
    s = gen.normal("s", 0, 5, 5)
    if not general:
        s = s + s.transpose(1, 2)
    v = gen.normal("v", 0, inst.y.shape[1])
    left = (inst.measure(s) * v).sum(1)
    right = (s * inst.adjoint(v)).sum((1, 2))
    assert torch.allclose(left, right, rtol=1e-12)


def test_general_operator_sees_the_antisymmetric_part():
    """F G^T needs it: the packed symmetric operator reads only the upper triangle (its inputs are symmetric)."""
    antisymmetric = torch.zeros(3, 5, 5)
    antisymmetric[:, 0, 1], antisymmetric[:, 1, 0] = 1.0, -1.0
    general = instance(general=1)
    assert general.measure(antisymmetric).abs().max() > 1e-3
    assert torch.allclose(general.measure(antisymmetric), -general.measure(antisymmetric.transpose(1, 2)))


@pytest.mark.parametrize("general", [0, 1])
def test_exact_operator_is_an_isometry_and_recovers_the_truth(general):
    inst = instance(exact=1, general=general)
    s = Gen([4, 5, 6]).normal("s", 0, 5, 5)
    s = s + s.transpose(1, 2)
    assert torch.allclose(inst.measure(s).norm(dim=1), torch.linalg.matrix_norm(s), rtol=1e-12)
    assert torch.allclose(inst.residual(inst.truth), torch.zeros_like(inst.truth), atol=1e-12)


def test_outliers_corrupt_the_stated_share_and_nothing_else():
    clean, dirty = instance(), instance(outliers=0.25)
    changed = (dirty.y - clean.y).abs() > 0
    m = clean.y.shape[1]
    assert changed.sum(1).tolist() == [round(0.25 * m)] * 3
    assert not torch.equal(changed[0], changed[1])  # each seed its own corrupted measurements


def test_dense_noise_has_the_stated_norm():
    inst, clean = MATRIX_SENSING.instance({"n": 10, "r": 2, "oversampling": 40.0, "noise": 0.5}, Gen(range(64))), \
        MATRIX_SENSING.instance({"n": 10, "r": 2, "oversampling": 40.0}, Gen(range(64)))
    norms = (inst.y - clean.y).norm(dim=1)
    assert abs(norms.mean().item() - 0.5) < 0.02
    assert math.isclose(inst.alpha, 1.0)


@pytest.mark.parametrize("bad", [{"noise": -1.0}, {"outliers": 1.0}, {"alpha": 0.0}, {"r": 6}])
def test_bad_parameters_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="matrix-sensing needs"):
        instance(**bad)
