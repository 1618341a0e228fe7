"""A pytest plugin for the checks-suite benchmark: when the suite's collection ended, how long it spent inside
the runner (stepping algorithms), and when it ended, written as JSON to $THEORYCHECK_SUITE_PROBE."""

from __future__ import annotations

import functools
import json
import os
import time

import pytest

_times = {"runner_s": 0.0, "runs": 0}


def _timed(run):
    @functools.wraps(run)
    def timed_run(*args, **kwargs):
        started = time.perf_counter()
        try:
            return run(*args, **kwargs)
        finally:
            _times["runner_s"] += time.perf_counter() - started
            _times["runs"] += 1
    return timed_run


def pytest_configure(config: pytest.Config) -> None:
    import theory.executors
    import theory.harness

    for module in (theory.harness, theory.executors):  # both call the runner by a name of their own
        module.run = _timed(module.run)


def pytest_collection_finish(session: pytest.Session) -> None:
    _times["collected_at"] = time.time()
    _times["items"] = len(session.items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _times["finished_at"] = time.time()
    _times["exit_status"] = int(exitstatus)
    with open(os.environ["THEORYCHECK_SUITE_PROBE"], "w") as out:
        json.dump(_times, out)
