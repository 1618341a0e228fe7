"""The ``sor-sequence`` family: its batched SOR iteration counts agree with a plain one-system-at-a-time SOR
(scipy's triangular solve), Young's formula agrees with the eigenvalues, a seed's systems do not depend on its
batch, and the counts are memoised."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.linalg import solve_triangular

import plugins.learning_to_relax_instances as systems
from theory.random import Gen

PARAMS = {**systems.SOR_SEQUENCE.defaults, "m": 4, "levels": 3, "rhs": 2}


def instance(seeds, **params):
    return systems.SOR_SEQUENCE.instance({**PARAMS, **params}, Gen(seeds))


def reference_sor(a: np.ndarray, b: np.ndarray, omega: float, eps: float, cap: int) -> int:
    """Algorithm 1 on one system, written out with numpy and scipy."""
    w = np.diag(np.diag(a)) / omega + np.tril(a, -1)
    x, r = np.zeros_like(b), b.copy()
    for k in range(1, cap + 1):
        x = x + solve_triangular(w, r, lower=True)
        r = b - a @ x
        if np.linalg.norm(r) <= eps * np.linalg.norm(b):
            return k
    return cap


def test_batched_counts_match_one_system_at_a_time():
    inst = instance([3, 8])
    omegas = torch.tensor([0.8, 1.0, 1.25, 1.6])
    counts = inst.sor_iterations(omegas)
    assert counts.shape == (2, inst.pool, 4)
    levels = inst.pool_level
    for seed in range(2):
        for j in range(inst.pool):
            level = int(levels[j])
            a = (inst.matrix + inst.shifts[level] * torch.eye(16)).numpy()
            b = inst.rhs[seed, level, j % 2].numpy()
            for i, w in enumerate(omegas.tolist()):
                assert counts[seed, j, i] == reference_sor(a, b, w, inst.eps, inst.cap)


def test_young_formula_matches_eigenvalues():
    inst = instance([0])
    omegas = torch.linspace(0.5, 1.9, 15)
    young = inst.spectral_radius(omegas)
    for level, c in enumerate(inst.shifts.tolist()):
        a = inst.matrix + c * torch.eye(16)
        for i, w in enumerate(omegas.tolist()):
            split = torch.diag(torch.diag(a)) / w + torch.tril(a, -1)
            iteration = torch.eye(16) - a @ torch.linalg.inv(split)
            assert float(torch.linalg.eigvals(iteration).abs().max()) == pytest.approx(float(young[level, i]),
                                                                                       rel=1e-8)
    closed = 4 * math.cos(math.pi / 5) / (4 + inst.shifts)
    assert torch.allclose(inst.beta, closed, rtol=1e-12)


def test_a_seed_does_not_depend_on_its_batch():
    alone, together = instance([5]), instance([2, 5])
    assert torch.equal(alone.rhs[0], together.rhs[1])
    assert torch.equal(alone.sequence(50, Gen([5]))[0], together.sequence(50, Gen([2, 5]))[1])
    omegas = torch.tensor([1.1, 1.3])
    assert torch.equal(alone.sor_iterations(omegas)[0], together.sor_iterations(omegas)[1])


def test_counts_are_memoised_per_omega_and_splitting(monkeypatch):
    inst = instance([11])
    first = inst.sor_iterations(torch.tensor([1.05, 1.15]))
    monkeypatch.setattr(systems.SystemsInstance, "_solve", lambda *args: pytest.fail("recomputed a cached omega"))
    assert torch.equal(inst.sor_iterations(torch.tensor([1.15, 1.05])), first.flip(-1))

    def lazy(diagonal, lower, omega):
        return omega * diagonal + lower

    with pytest.raises(pytest.fail.Exception):
        inst.sor_iterations(torch.tensor([1.05]), lazy)  # another splitting is another cache entry


def test_the_sequence_follows_the_level_probabilities():
    inst = instance(list(range(64)))
    drawn = inst.sequence(400, Gen(list(range(64))))
    share = torch.bincount(inst.pool_level[drawn.flatten()], minlength=3).double() / drawn.numel()
    assert torch.allclose(share, inst.level_probs, atol=0.01)


def test_an_indefinite_shift_is_refused():
    with pytest.raises(ValueError, match="singular or indefinite"):
        instance([0], c_lo=-1.0)
