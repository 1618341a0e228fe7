"""A job that hangs is stopped at its time limit wherever it runs, and the others' results still arrive
(issue 17, item 4): in a process pool, on Dask, and in the in-process executor off the main thread; a hang in
Python and one inside a call that never returns to the interpreter alike."""

from __future__ import annotations

import textwrap
import threading
import time

import installed_plugin
import pytest
from fakes import AlgorithmsPlugin, valid_algorithm

from theory.executors import DaskCluster, InProcess, Job, ProcessPool
from theory.registry import build_registry
from theory.workers import GRACE_S

LIMIT_S = 1.0
SLACK_S = 2.0  # what a loaded 2-core machine adds to noticing a timeout

SOURCE = textwrap.dedent(f'''
    """Three algorithms: one that sleeps in Python, one stuck where no signal handler can run, one that works."""
    import signal
    import time

    import torch
    from theory import Algorithm, Claim, Experiment, Paper, hookimpl, measures

    def init(instance, hyper, gen):
        return {{"regret": torch.zeros(instance.batch)}}

    def step(state, instance, t, hyper, gen):
        return {{"regret": state["regret"] + 1}}

    def sleep(state, instance, t, hyper, gen):
        time.sleep(3600)

    def stuck(state, instance, t, hyper, gen):
        # A long compiled call (numba) holds the thread without returning to the interpreter, so SIGALRM's
        # handler never runs: blocking the signal around a C-level sleep does the same, deterministically.
        signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGALRM}})
        time.sleep(3600)

    EXPERIMENT = Experiment(family="bernoulli-bandit", over="T", grid=(4, 8, 16),
                            params={{"K": 2, "means": (0.9, 0.5)}}, seeds=4)

    def algorithm(name, step):
        return Algorithm(name=name, paper=Paper(title="none", authors="none", year=2000),
                         family="bernoulli-bandit", init=init, step=step, timeout_s={LIMIT_S},
                         metrics=measures("regret")(lambda state, instance: {{"regret": state["regret"]}}),
                         claims=(Claim(name="linear", metric="regret", kind="upper", form="C*T", source="none",
                                       experiment=EXPERIMENT),))

    @hookimpl
    def theorycheck_algorithms():
        return [algorithm("sleeper", sleep), algorithm("stuck", stuck), algorithm("quick", step)]
''')


@pytest.fixture
def registry(tmp_path, monkeypatch):
    installed_plugin.install(tmp_path, monkeypatch, module="tc_hangs", source=SOURCE)
    registry = build_registry(plugins=[("here", AlgorithmsPlugin(valid_algorithm("only-here")))])
    assert {"sleeper", "stuck", "quick", "only-here"} <= set(registry.algorithms), registry.errors
    return registry


def job(registry, name: str) -> Job:
    claim = registry.algorithm(name).claims[0]
    grid, seeds = claim.experiment.sized(quick=False)
    return Job(name, name, claim.name, grid, tuple(range(seeds)), "cpu", claim.experiment)


def in_a_thread(run, limit_s: float = 120.0) -> dict:
    """``run()`` off the main thread, as Dask runs tasks; the test fails instead of hanging."""
    out: dict = {}
    worker = threading.Thread(target=lambda: out.update(run()), daemon=True)
    worker.start()
    worker.join(limit_s)
    assert not worker.is_alive(), "the executor hung on a job past its time limit"
    return out


def assert_stopped_at_the_limit(trace) -> None:
    assert trace.status == "timeout", trace.message
    assert f"time limit of {LIMIT_S:g} s" in trace.message
    assert LIMIT_S * 0.9 <= trace.elapsed_s <= LIMIT_S + GRACE_S + SLACK_S


def test_a_process_pool_stops_hung_jobs_at_their_limit_and_runs_the_rest(registry):
    # a killed worker is replaced by a fresh one (seconds to start): the stuck job comes last, so none is needed
    jobs = [job(registry, name) for name in ("quick", "sleeper", "stuck")]
    traces = in_a_thread(lambda: {j.algorithm: t for j, t in ProcessPool(2).map(jobs)})
    assert_stopped_at_the_limit(traces["sleeper"])
    assert_stopped_at_the_limit(traces["stuck"])
    assert "worker process was stopped" in traces["stuck"].message  # killed: it could not stop itself
    assert traces["quick"].status == "ok" and traces["quick"].metrics["regret"].shape == (4, 3)


def test_dask_stops_a_hung_job_at_its_limit_and_runs_the_rest(registry):
    jobs = [job(registry, "quick"), job(registry, "stuck")]
    started = time.monotonic()
    traces = in_a_thread(lambda: {j.algorithm: t for j, t in DaskCluster(workers=1).map(jobs)})
    assert_stopped_at_the_limit(traces["stuck"])
    assert traces["quick"].status == "ok"
    assert time.monotonic() - started < 90


def test_in_process_off_the_main_thread_stops_a_hung_job(registry):
    jobs = [job(registry, "quick"), job(registry, "only-here"), job(registry, "stuck")]
    traces = in_a_thread(lambda: {j.algorithm: t for j, t in InProcess(registry).map(jobs)})
    assert_stopped_at_the_limit(traces["stuck"])
    assert traces["quick"].status == "ok"
    # known only to this process's registry: run here, in this thread, as before
    assert traces["only-here"].status == "ok", traces["only-here"].message


def test_in_process_on_the_main_thread_runs_here(registry, monkeypatch):
    """The common case stays in this process: no worker is started (SIGALRM stops a run here)."""
    monkeypatch.setattr("theory.executors.Worker", None)  # would fail if used
    [(_, trace)] = list(InProcess(registry).map([job(registry, "sleeper")]))
    assert_stopped_at_the_limit(trace)
