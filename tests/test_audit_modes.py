"""The two families with an ``audit`` mode build what their plugins' privacy claims audit, and only in it."""

from __future__ import annotations

import torch

from plugins.robust_regression import CANARY_SCALE, REGRESSION
from plugins.sparse_regression import SPARSE_REGRESSION
from theory import Gen


def test_robust_regression_builds_its_canary_pair_only_in_audit_mode():
    params = {"n": 96, "d": 1, "m": 1}
    plain, audit = REGRESSION.instance(params, Gen([0, 1])), REGRESSION.instance(params, Gen([0, 1]), mode="audit")
    assert plain.mode is None and plain.a.shape == (2, 4, 1, 1) and plain.ridge == 0.25
    assert audit.mode == "audit" and audit.a.shape == (2, 2, 1, 1) and audit.ridge == 0.0
    assert torch.all(audit.a == CANARY_SCALE) and audit.b[0, :, 0].tolist() == [-0.5, 4.0]


def test_sparse_regression_is_the_same_instance_in_audit_mode():
    params = {"n": 2, "d": 4, "k": 2}
    plain, audit = (SPARSE_REGRESSION.instance(params, Gen([3]), mode=m) for m in (None, "audit"))
    assert (plain.mode, audit.mode) == (None, "audit")
    assert torch.equal(plain.x, audit.x) and torch.equal(plain.y, audit.y) and torch.equal(plain.pair_x, audit.pair_x)
