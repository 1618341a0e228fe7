"""Every executor gives the same verdicts; a dying worker costs only its own job; a store makes reruns free."""

from __future__ import annotations

import installed_plugin
import pytest

from theory.executors import DaskCluster, ProcessPool
from theory.harness import Budget, Harness
from theory.registry import build_registry
from theory.store import Store


@pytest.fixture
def registry(tmp_path, monkeypatch):
    installed_plugin.install(tmp_path, monkeypatch)
    registry = build_registry()
    assert installed_plugin.ALGORITHM in registry.algorithms, registry.errors
    return registry


def _pairs(registry):
    algorithm = registry.algorithms[installed_plugin.ALGORITHM]
    return [(algorithm, claim) for claim in algorithm.claims]


def _verdicts(registry, executor=None, store=None):
    harness = Harness(registry, Budget(), store=store)
    harness.prefetch(_pairs(registry), executor=executor)
    return harness, [harness.verdict(a, c) for a, c in _pairs(registry)]


def test_a_process_pool_and_a_dask_cluster_give_the_in_process_verdicts(registry):
    _, expected = _verdicts(registry)
    assert {v.status.value for v in expected} <= {"PASS", "FAIL"}
    _, pooled = _verdicts(registry, ProcessPool(2).map)
    _, dask = _verdicts(registry, DaskCluster(workers=2).map)
    assert pooled == expected
    assert dask == expected


def test_a_worker_that_dies_loses_only_its_own_job(registry):
    algorithm = registry.algorithms[installed_plugin.ALGORITHM]
    crashing = algorithm.mutant("crash")
    harness = Harness(registry, Budget())
    pairs = [*_pairs(registry), (crashing, crashing.claim("linear"))]
    harness.prefetch(pairs, executor=ProcessPool(2).map)
    lost = harness.trace(crashing, crashing.claim("linear"))
    assert lost.status == "error" and "died 3 times" in lost.message
    assert all(harness.trace(a, c).status == "ok" for a, c in _pairs(registry))


def test_a_second_run_reuses_every_stored_job(registry, tmp_path):
    store = Store(tmp_path / "results.sqlite")
    first, verdicts = _verdicts(registry, store=store)
    second, again = _verdicts(registry, store=Store(tmp_path / "results.sqlite"))
    assert first.computed == installed_plugin.RUNS and first.reused == 0  # claims sharing an experiment share a run
    assert second.computed == 0 and second.reused == installed_plugin.RUNS
    assert again == verdicts
    fresh = Harness(registry, Budget(), store=store, fresh=True)
    fresh.prefetch(_pairs(registry))
    assert fresh.computed == installed_plugin.RUNS
