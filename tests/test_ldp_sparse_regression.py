"""Which noise bugs of the LDP sparse regression plugin a privacy audit can see: ``sd-as-variance`` under-noises
at the audit's low eps, ``l1-sensitivity`` over-noises at every d (so it is registered against utility only)."""

from __future__ import annotations

import pytest

from plugins import ldp_sparse_regression as ldp
from plugins.sparse_regression import SPARSE_REGRESSION
from theory import Gen

pytestmark = pytest.mark.usefixtures("float64")  # tests/conftest.py


def scales(d: int, eps: float, public: bool, **bug: bool) -> tuple[float, float]:
    instance = SPARSE_REGRESSION.instance({"n": 2, "d": d, "eps": eps, "delta": 1e-5}, Gen([0]))
    return ldp._scales(instance, ldp.HYPER, public, **bug)


@pytest.mark.parametrize("public", [False, True])
@pytest.mark.parametrize("d", [2, 4, 8, 16, 24])
def test_l1_sensitivity_over_noises(d: int, public: bool) -> None:
    assert all(b >= a for a, b in zip(scales(d, 1.0, public), scales(d, 1.0, public, l1=True)))


@pytest.mark.parametrize("public", [False, True])
def test_sd_as_variance_under_noises_at_low_eps(public: bool) -> None:
    """At delta = 1e-5 the unit noise s is about 2 or more for eps <= 2, where sqrt(s) < s; at eps = 8 it is below 1."""
    for eps in (0.5, 1.0, 2.0):
        correct, bug = scales(4, eps, public)[1], scales(4, eps, public, root=True)[1]
        assert bug < correct / 1.3
    assert scales(4, 8.0, public, root=True)[1] > scales(4, 8.0, public)[1]
