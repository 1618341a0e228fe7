"""A sweep killed with SIGKILL at any moment resumes from the store: it recomputes only the missing runs and
ends with the verdicts of an uninterrupted sweep."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import installed_plugin


def _theorycheck(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "theory.cli", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stored_runs(path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


def test_a_sweep_killed_halfway_resumes_and_gives_the_same_verdicts(tmp_path, monkeypatch):
    installed_plugin.install(tmp_path, monkeypatch)
    store = tmp_path / "results.sqlite"
    sweep = ["run", installed_plugin.ALGORITHM, "--json", "--quiet", "--store"]
    slow = {**os.environ, "TC_RANDOM_PLAYER_DELAY": "0.01"}  # about 2.5 s a run

    killed = _theorycheck(*sweep, str(store), env=slow)
    deadline = time.monotonic() + 240
    while _stored_runs(store) < 1 and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    done_before = _stored_runs(store)
    assert 1 <= done_before < installed_plugin.RUNS, "the kill must land between the first and the last run"

    resumed = _theorycheck(*sweep, str(store), env=dict(os.environ))
    out, err = resumed.communicate(timeout=300)
    missing = installed_plugin.RUNS - done_before
    assert f"runs: {missing} computed, {done_before} reused" in err, err

    uninterrupted = _theorycheck(*sweep, str(tmp_path / "other.sqlite"), env=dict(os.environ))
    expected, _ = uninterrupted.communicate(timeout=300)
    assert _results(out) == _results(expected)


def _results(printed: str) -> list[dict]:
    """The rows without the run time, which is the one field of a row that reproduces only roughly."""
    rows = json.loads(printed)
    for row in rows:
        del row["provenance"]["elapsed_s"]
    return rows
