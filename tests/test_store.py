"""The result store keeps runs as checksummed data, reuses them by key, and refuses what it cannot trust."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3

import numpy as np
import pytest

from theory.claims import Experiment
from theory.model import Row, Status, Trace, Verdict
from theory.store import SCHEMA_VERSION, Store, StoreError, _experiment_data, run_key

EXPERIMENT = Experiment(family="bernoulli-bandit", over="T", grid=(8.0, 16.0, 32.0),
                        params={"K": 2, "means": (0.9, 0.5), "gap": "1/sqrt(T)"})


def _trace(name: str = "alg", scale: float = 1.0) -> Trace:
    metrics = {"regret": scale * np.arange(12, dtype=float).reshape(4, 3), "other": np.ones((4, 3))}
    return Trace(algorithm=name, version="2", experiment=EXPERIMENT, grid=EXPERIMENT.grid, seeds=(0, 1, 2, 3),
                 metrics=metrics, device="cpu", dtype="float64", elapsed_s=0.5, environment={"torch": "x"})


def _verdict(claim: str = "c") -> Verdict:
    return Verdict(algorithm="alg", claim=claim, status=Status.FAIL, test="rate", level=0.99, evidence="e",
                   estimate=1.0, ci=(0.9, 1.1), claimed=0.5, threshold=0.6, seeds=4,
                   rows=(Row(x=8.0, mean=1.0, low=0.5, high=1.5, form=2.0),), mutant_of="base")


def _key(name: str = "alg") -> str:
    return run_key(name, "2", EXPERIMENT, EXPERIMENT.grid, (0, 1, 2, 3), "cpu", "float64")


def test_a_trace_and_its_verdict_come_back_unchanged(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store.put_trace(_key(), _trace())
    store.put_verdict(_key(), _verdict())
    trace = store.get_trace(_key())
    assert trace.experiment == EXPERIMENT and trace.seeds == (0, 1, 2, 3) and trace.environment == {"torch": "x"}
    np.testing.assert_array_equal(trace.metrics["regret"], _trace().metrics["regret"])
    [(stored_trace, verdict)] = list(store.results())
    assert verdict == _verdict() and stored_trace.algorithm == "alg"


def test_the_key_changes_with_anything_that_changes_the_numbers():
    base = _key()
    assert run_key("alg", "3", EXPERIMENT, EXPERIMENT.grid, (0, 1, 2, 3), "cpu", "float64") != base
    assert run_key("alg", "2", EXPERIMENT, EXPERIMENT.grid, (0, 1, 2, 4), "cpu", "float64") != base
    assert run_key("alg", "2", EXPERIMENT, EXPERIMENT.grid, (0, 1, 2, 3), "cuda", "float64") != base
    assert _key("alg[mutant]") != base and _key() == base


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable theorycheck store"):
        Store(path)


def test_a_store_from_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match=f"schema {SCHEMA_VERSION + 1}"):
        Store(path)


@pytest.mark.parametrize("table, column", [("runs", "body"), ("metrics", "data"), ("verdicts", "body")])
def test_an_edited_row_is_refused(tmp_path, table, column):
    path = tmp_path / "s.sqlite"
    store = Store(path)
    store.put_trace(_key(), _trace())
    store.put_verdict(_key(), _verdict())
    with sqlite3.connect(path) as db:
        value = db.execute(f"SELECT {column} FROM {table} LIMIT 1").fetchone()[0]
        edited = value.replace("e", "f", 1) if isinstance(value, str) else bytes([value[0] ^ 1]) + value[1:]
        db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = (SELECT min(rowid) FROM {table})", (edited,))
    with pytest.raises(StoreError, match="checksum"):
        list(Store(path).results())


def _write_many(path: str, worker: int) -> None:
    store = Store(path)
    for i in range(40):
        store.put_trace(_key(f"alg-{worker}-{i}"), _trace(f"alg-{worker}-{i}", scale=i))


def test_several_processes_writing_one_store_lose_no_row(tmp_path):
    path = str(tmp_path / "s.sqlite")
    Store(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(path, w)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    store = Store(path)
    for w in range(3):
        for i in range(40):
            trace = store.get_trace(_key(f"alg-{w}-{i}"))
            assert trace is not None and trace.metrics["regret"][1, 0] == 3 * i


def test_a_mode_is_part_of_the_key_and_no_mode_keeps_the_old_key():
    audit = dataclasses.replace(EXPERIMENT, mode="audit")
    assert run_key("alg", "2", audit, EXPERIMENT.grid, (0, 1, 2, 3), "cpu", "float64") != _key()
    # a run without a mode hashes as it did before modes existed: the mode is left out, not stored as null
    assert "mode" not in _experiment_data(EXPERIMENT) and _experiment_data(audit)["mode"] == "audit"


def test_a_trace_of_a_mode_comes_back_with_its_mode(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    trace = dataclasses.replace(_trace(), experiment=dataclasses.replace(EXPERIMENT, mode="audit"))
    store.put_trace(_key(), trace)
    assert store.get_trace(_key()).experiment.mode == "audit"
