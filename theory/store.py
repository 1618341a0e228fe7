"""The result store: an SQLite file holding every finished run and verdict, as data.

A run is written as soon as it finishes, in one transaction, under a key that hashes everything that
determines its numbers (algorithm and version, experiment, grid, seeds, device, dtype). Re-running with the
same key reuses the stored trace, so a sweep killed at any moment resumes and recomputes only what is missing.

Nothing is pickled: metrics are little-endian float64 bytes with their shape, everything else is JSON, and
every row carries a SHA-256 of its content that is checked when it is read. A file written by another schema
version, a file that is not an SQLite database, or a row whose checksum does not match is refused with a
StoreError, never silently used. SQLite's write-ahead log and a busy timeout let several processes write to
one store without losing rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from theory.claims import Experiment
from theory.errors import TheoryError
from theory.model import Row, Status, Trace, Verdict

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY, algorithm TEXT NOT NULL, body TEXT NOT NULL, checksum TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS metrics (
    key TEXT NOT NULL, name TEXT NOT NULL, shape TEXT NOT NULL, data BLOB NOT NULL, checksum TEXT NOT NULL,
    PRIMARY KEY (key, name));
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT NOT NULL, claim TEXT NOT NULL, body TEXT NOT NULL, checksum TEXT NOT NULL,
    PRIMARY KEY (key, claim));
"""


class StoreError(TheoryError):
    """A store that cannot be trusted: wrong schema version, not a database, or a corrupted row."""


def run_key(algorithm: str, version: str, experiment: Experiment, grid: Sequence[float], seeds: Sequence[int],
            device: str, dtype: str, hyper: Mapping[str, object] | None = None, code: str = "") -> str:
    """A hash of everything that determines a run's numbers; ``code`` fingerprints the source that ran."""
    payload = {"algorithm": algorithm, "version": version, "experiment": _experiment_data(experiment),
               "grid": list(grid), "seeds": list(seeds), "device": device, "dtype": dtype,
               "hyper": dict(hyper or {}), "code": code}
    return _digest(json.dumps(payload, sort_keys=True, default=repr))


@dataclasses.dataclass(frozen=True)
class Entry:
    """One stored verdict: its run's key, when the run was stored (Unix time), the trace and the verdict."""

    key: str
    created: float
    trace: Trace
    verdict: Verdict


class Store:
    """An SQLite result store at ``path`` (created if missing)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable theorycheck store: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def _check_version(self) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif row[0] != str(SCHEMA_VERSION):
                raise StoreError(f"{self.path} was written with store schema {row[0]}; this theorycheck reads "
                                 f"schema {SCHEMA_VERSION}. Use another --store path or remove the file.")

    def put_trace(self, key: str, trace: Trace) -> None:
        body = json.dumps(_trace_data(trace), sort_keys=True)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?)",
                             (key, trace.algorithm, body, _digest(body), time.time()))
            self._db.execute("DELETE FROM metrics WHERE key = ?", (key,))
            for name, array in trace.metrics.items():
                data = np.ascontiguousarray(array, dtype="<f8").tobytes()
                shape = json.dumps(list(array.shape))
                self._db.execute("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)",
                                 (key, name, shape, data, _digest(shape.encode() + data)))

    def get_trace(self, key: str) -> Trace | None:
        row = self._db.execute("SELECT body, checksum FROM runs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        body = row[0]
        self._verify(body, row[1], f"run {key}")
        metrics = {}
        for name, shape, data, checksum in self._db.execute(
                "SELECT name, shape, data, checksum FROM metrics WHERE key = ?", (key,)):
            self._verify(shape.encode() + data, checksum, f"metric {name!r} of run {key}")
            metrics[name] = np.frombuffer(data, dtype="<f8").reshape(json.loads(shape)).copy()
        data = json.loads(body)
        if set(metrics) != set(data.pop("metric_names")):
            raise StoreError(f"run {key} in {self.path} is missing metric rows: the store is corrupted")
        return _trace_from(data, metrics)

    def put_verdict(self, key: str, verdict: Verdict) -> None:
        body = json.dumps(verdict_data(verdict), sort_keys=True)
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?)",
                             (key, verdict.claim, body, _digest(body)))

    def results(self) -> Iterator[tuple[Trace, Verdict]]:
        """Every stored verdict with the trace it was judged on, oldest run first."""
        for entry in self.entries():
            yield entry.trace, entry.verdict

    def entries(self) -> Iterator[Entry]:
        """Every stored verdict with its run's key, the time the run was stored and its trace, oldest first."""
        rows = self._db.execute("SELECT v.key, v.body, v.checksum, r.created FROM verdicts v JOIN runs r "
                                "ON r.key = v.key ORDER BY r.created, v.claim").fetchall()
        traces: dict[str, Trace] = {}
        for key, body, checksum, created in rows:
            if key not in traces:
                traces[key] = self.get_trace(key)  # type: ignore[assignment]
            self._verify(body, checksum, f"verdict of run {key}")
            yield Entry(key, created, traces[key], verdict_from(json.loads(body)))

    def _verify(self, content: str | bytes, checksum: str, what: str) -> None:
        if _digest(content) != checksum:
            raise StoreError(f"{what} in {self.path} fails its checksum: the store is corrupted or was edited")


def _digest(content: str | bytes) -> str:
    return hashlib.sha256(content.encode() if isinstance(content, str) else content).hexdigest()


def _experiment_data(experiment: Experiment) -> dict:
    data = dataclasses.asdict(experiment)
    if data["mode"] is None:  # so the keys of runs without a mode stay what they were before modes existed
        del data["mode"]
    data["params"] = {k: list(v) if isinstance(v, tuple) else v for k, v in experiment.params.items()}
    return data


def _experiment_from(data: dict) -> Experiment:
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in data.pop("params").items()}
    tuples: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Experiment(**tuples, params=params)


def _trace_data(trace: Trace) -> dict:
    data = {f.name: getattr(trace, f.name) for f in dataclasses.fields(trace) if f.name != "metrics"}
    data["experiment"] = _experiment_data(trace.experiment)
    data["metric_names"] = sorted(trace.metrics)
    return data


def _trace_from(data: dict, metrics: dict[str, np.ndarray]) -> Trace:
    data["experiment"] = _experiment_from(data["experiment"])
    return Trace(**{**data, "grid": tuple(data["grid"]), "seeds": tuple(data["seeds"]), "metrics": metrics})


def verdict_data(verdict: Verdict) -> dict:
    """A verdict as plain JSON-able data (also the rows of ``--json`` output)."""
    data = dataclasses.asdict(verdict)
    data["status"] = verdict.status.value
    return data


def verdict_from(data: dict) -> Verdict:
    rows = tuple(Row(**row) for row in data.pop("rows"))
    ci = tuple(data.pop("ci")) if data.get("ci") is not None else data.pop("ci")
    return Verdict(**{**data, "status": Status(data["status"]), "rows": rows, "ci": ci})
