"""Where independent runs execute: in this process, in a local process pool, or on a Dask cluster.

A Job names what to run (algorithm, claim, grid, seeds, device) instead of carrying code, so any worker can
run it after building its own registry from the installed plugins. Seeds are counter-based, so a job gives
the same numbers whichever executor and worker ran it. A worker that dies loses only the jobs it held: they
are retried, and a job whose worker dies ``MAX_ATTEMPTS`` times comes back as an error trace that says so.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache

from theory.claims import Experiment
from theory.registry import Registry, build_registry
from theory.runner import Trace, run

MAX_ATTEMPTS = 3
# Fresh interpreters: a forked child inherits torch's thread pools mid-state and can deadlock.
_SPAWN = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Job:
    key: str
    algorithm: str  # a registry name; "name[mutant]" for a mutant
    claim: str
    grid: tuple[float, ...]
    seeds: tuple[int, ...]
    device: str
    experiment: Experiment  # what to run (a claim's, or an override of it from the command line)


Executor = Callable[[Sequence[Job]], Iterator[tuple[Job, Trace]]]  # jobs in, (job, trace) pairs out as they land


def execute(job: Job, registry: Registry | None = None) -> Trace:
    """Run one job; a worker process builds its registry once and reuses it."""
    registry = registry or _worker_registry()
    algorithm = registry.algorithm(job.algorithm)
    family = registry.families[job.experiment.family]
    return run(algorithm, family, job.experiment, job.grid, job.seeds, device=job.device)


@lru_cache(maxsize=1)
def _worker_registry() -> Registry:
    return build_registry()


def _lost(job: Job, why: str) -> Trace:
    return Trace(algorithm=job.algorithm, version="", experiment=job.experiment, grid=job.grid, seeds=job.seeds,
                 metrics={}, status="error", message=why, device=job.device)


class InProcess:
    """Runs jobs one after the other in this process, with the caller's registry."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def map(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Trace]]:
        for job in jobs:
            yield job, execute(job, self.registry)


class ProcessPool:
    """A local pool of ``workers`` processes; results come back as they finish."""

    def __init__(self, workers: int):
        self.workers = workers

    def map(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Trace]]:
        suspects = []
        with futures.ProcessPoolExecutor(self.workers, mp_context=_SPAWN) as pool:
            running = {pool.submit(execute, job): job for job in jobs}
            for future in futures.as_completed(running):
                try:
                    yield running[future], future.result()
                except BrokenProcessPool:
                    suspects.append(running[future])
        # A dead worker breaks the whole pool: rerun each unfinished job alone, so a death is charged to its job.
        for job in suspects:
            yield job, self._alone(job)

    @staticmethod
    def _alone(job: Job) -> Trace:
        for _ in range(MAX_ATTEMPTS):
            with futures.ProcessPoolExecutor(1, mp_context=_SPAWN) as pool:
                try:
                    return pool.submit(execute, job).result()
                except BrokenProcessPool:
                    continue
        return _lost(job, f"its worker process died {MAX_ATTEMPTS} times")


class DaskCluster:
    """Dask distributed: the scheduler at ``address``, or a local cluster when none is given.

    Dask reschedules the tasks of a worker that dies; a task that kills ``MAX_ATTEMPTS`` workers is reported.
    """

    def __init__(self, address: str | None = None, workers: int = 2):
        self.address = address
        self.workers = workers

    def map(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Trace]]:
        import dask
        from distributed import Client, KilledWorker, LocalCluster, as_completed

        with dask.config.set({"distributed.scheduler.allowed-failures": MAX_ATTEMPTS - 1}):
            cluster = None if self.address else LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                                             processes=True, dashboard_address=None)
            try:
                with Client(self.address or cluster) as client:
                    submitted = {client.submit(execute, job, key=f"theorycheck-{job.key}", pure=False): job
                                 for job in jobs}
                    for future in as_completed(submitted):
                        job = submitted[future]
                        try:
                            yield job, future.result()
                        except KilledWorker:
                            yield job, _lost(job, f"it killed {MAX_ATTEMPTS} Dask workers")
            finally:
                if cluster is not None:
                    cluster.close()


def make_executor(kind: str, registry: Registry, jobs: int = 1, address: str | None = None) -> Executor:
    """The executor named on the command line: ``local`` (with ``jobs`` > 1, a process pool) or ``dask``."""
    if kind == "dask":
        return DaskCluster(address, workers=max(jobs, 1)).map
    if kind == "local":
        return ProcessPool(jobs).map if jobs > 1 else InProcess(registry).map
    raise ValueError(f"unknown executor {kind!r} (use local or dask)")
