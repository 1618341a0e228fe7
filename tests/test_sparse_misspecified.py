"""The sparse bandit's oracles (plugins/sparse_misspecified.py): the query count is the oracle's tally of the
distinct actions it evaluated, and the enumeration's count is what the reconstruction prescribes."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from plugins.sparse_misspecified import SPARSE, SPARSE_LINEAR, net_directions, step
from theory import Gen


@pytest.fixture(autouse=True)
def _float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the runner's default; the family mixes dtypes below it
    yield
    torch.set_default_dtype(previous)


def _instance(d: int, eps: float):
    return SPARSE_LINEAR.instance({"d": d, "s": 2, "eps": eps, "alpha": 1.3}, Gen([0, 1, 2]))


def test_oracle_counts_distinct_actions_once():
    instance = _instance(5, 0.25)
    supports = torch.tensor([[0, 1], [2, 3], [0, 1]])
    coords = torch.tensor([[0.6, 0.8], [0.8, -0.6], [0.6, 0.8]])
    rewards, count = instance.query_sparse(supports, coords)
    assert rewards.shape == (3, 3, 3) and count == 2 * 2
    dense, q = instance.query(torch.ones(3, 7, 5) / math.sqrt(5))
    assert dense.shape == (3, 7) and q == 7


def test_enumeration_count_is_supports_times_net_plus_axes():
    d, eps = 12, 1 / 8
    instance = _instance(d, eps)
    state = step(None, instance, 1, SPARSE.hyper, Gen([0, 1, 2]))
    net = net_directions(2, eps / math.sqrt(2)).shape[0]
    expected = len(list(itertools.combinations(range(d), 2))) * net + 2 * d
    assert torch.all(state["queries"] == expected)
