"""Where independent runs execute: in this process, in a local pool of worker processes, or on a Dask cluster.

A Job names what to run (algorithm, claim, grid, seeds, device) instead of carrying code, so any worker can
run it after building its own registry from the installed plugins. Seeds are counter-based, so a job gives
the same numbers whichever executor and worker ran it. Away from this process's main thread, each job runs in
a worker process that is killed at the job's time limit (``theory.workers``): a job that hangs, even inside a
compiled call, is reported as a timeout at its limit and the rest of the run goes on. A worker that dies loses
only its job, which is retried, and comes back as an error trace after ``MAX_ATTEMPTS`` deaths.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from theory.claims import Experiment
from theory.registry import Registry
from theory.runner import Trace, run
from theory.workers import MAX_ATTEMPTS, Worker, drive, unfinished


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


def execute(job: Job, registry: Registry) -> Trace:
    """Run one job with ``registry`` (a worker process builds its own once, from the installed plugins)."""
    algorithm = registry.algorithm(job.algorithm)
    family = registry.families[job.experiment.family]
    return run(algorithm, family, job.experiment, job.grid, job.seeds, device=job.device)


class InProcess:
    """Runs jobs one after the other with the caller's registry: in this process on the main thread, where
    SIGALRM stops a run at its limit; elsewhere in one worker process that is killed at the limit (a job whose
    algorithm only the caller's registry knows then runs in this thread, stopped between steps)."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def map(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Trace]]:
        if threading.current_thread() is threading.main_thread():
            for job in jobs:
                yield job, execute(job, self.registry)
            return
        yield from ProcessPool(1, fallback=lambda job: execute(job, self.registry)).map(jobs)


class ProcessPool:
    """A local pool of ``workers`` processes, each killed and replaced when its job passes its time limit;
    results come back as they finish."""

    def __init__(self, workers: int, fallback: Callable[[Job], Trace] | None = None):
        self.workers = workers
        self.fallback = fallback

    def map(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Trace]]:
        workers = [Worker() for _ in range(max(1, min(self.workers, len(jobs))))]
        try:
            yield from drive(jobs, workers, self.fallback)
        finally:
            for worker in workers:
                worker.close()


_THREAD = threading.local()


def execute_stoppable(job: Job) -> Trace:
    """Run one job in a worker process of this thread's own (kept for its next job), stopped at the job's limit:
    what a Dask task runs, since a Dask worker runs tasks in threads that nothing can interrupt."""
    if not hasattr(_THREAD, "worker"):
        _THREAD.worker = Worker()
    [(_, trace)] = list(drive([job], [_THREAD.worker]))
    return trace


class DaskCluster:
    """Dask distributed: the scheduler at ``address``, or a local cluster when none is given.

    Each task runs its job in a worker process beside the Dask worker (``execute_stoppable``). Dask reschedules
    the tasks of a Dask worker that dies; a task that kills ``MAX_ATTEMPTS`` of them is reported.
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
                    submitted = {client.submit(execute_stoppable, job, key=f"theorycheck-{job.key}", pure=False): job
                                 for job in jobs}
                    for future in as_completed(submitted):
                        job = submitted[future]
                        try:
                            yield job, future.result()
                        except KilledWorker:
                            yield job, unfinished(job, "error", f"it killed {MAX_ATTEMPTS} Dask workers")
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
