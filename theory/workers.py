"""Worker processes that run jobs and are killed when a job passes its time limit.

A run times itself out by SIGALRM (``theory.runner``), which works only in the main thread of a process and only
once control is back in the interpreter: it cannot stop a step off the main thread (a Dask worker's thread), nor
one inside a compiled call that never returns (a numba loop). So a job that must be stoppable runs in a worker
process; its parent waits until the job's limit plus ``GRACE_S``, then kills the worker, reports the job as a
timeout, and starts a fresh worker for the next job, while the other workers go on.

A worker is ``python -m theory.workers FD``: a fresh interpreter (a forked child inherits torch's thread pools
mid-state and can deadlock, and multiprocessing refuses children to daemonic processes such as Dask's workers),
which builds its registry from the installed plugins once and talks to its parent over a socket pair.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from theory.runner import Trace

if TYPE_CHECKING:
    from theory.executors import Job

GRACE_S = 1.0  # past a job's limit, what its worker has to report the timeout itself before it is killed
MAX_ATTEMPTS = 3


def unfinished(job: Job, status: str, why: str, elapsed_s: float = 0.0) -> Trace:
    """The trace of a job that left no result: its worker died (``error``) or was stopped (``timeout``)."""
    return Trace(algorithm=job.algorithm, version="", experiment=job.experiment, grid=job.grid, seeds=job.seeds,
                 metrics={}, status=status, message=why, device=job.device, elapsed_s=elapsed_s)


class Worker:
    """One worker process, started on the first job it is given and again after it is stopped or dies."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.conn: Any = None  # a multiprocessing Connection while the process runs
        self.started: float | None = None  # when the current job began to run
        self.limit = 0.0
        self.busy = False

    def submit(self, job: Job) -> None:
        if self.process is None:
            ours, theirs = socket.socketpair()
            # the parent's import path, as multiprocessing's spawn passes it on
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self.process = subprocess.Popen([sys.executable, "-m", "theory.workers", str(theirs.fileno())],
                                            pass_fds=(theirs.fileno(),), env=env)
            theirs.close()
            self.conn = Connection(ours.detach())
        self.started, self.busy = None, True
        self.conn.send(job)

    def deadline(self) -> float | None:
        return None if self.started is None else self.started + self.limit + GRACE_S

    def stop(self) -> None:
        """Kill the process at once (a job past its limit, or one that broke the connection)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.conn.close()
        self.process = self.conn = None
        self.busy = False

    def close(self) -> None:
        """Let an idle worker exit (its end of the socket reads EOF), killing it if it does not; a worker still
        on a job (its caller stopped reading results) is killed at once."""
        if self.busy:
            self.stop()
        if self.process is not None:
            self.conn.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = self.conn = None


def drive(jobs: Iterable[Job], workers: list[Worker],
          fallback: Callable[[Job], Trace] | None = None) -> Iterator[tuple[Job, Trace]]:
    """Run ``jobs`` on ``workers``, yielding ``(job, trace)`` as each lands. A job past its limit is stopped
    and reported as a timeout; a job whose worker dies is retried on a fresh one, and after ``MAX_ATTEMPTS``
    deaths is reported as an error. A job whose algorithm the workers' registry lacks (a plugin given to
    ``build_registry`` in this process only) goes to ``fallback``, or is reported as an error."""
    pending, deaths = deque(jobs), Counter[str]()
    busy: dict[Worker, Job] = {}
    while pending or busy:
        for worker in workers:
            if worker not in busy and pending:
                busy[worker] = pending.popleft()
                worker.submit(busy[worker])
        deadlines = [d for d in (w.deadline() for w in busy) if d is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        ready = wait([w.conn for w in busy], timeout)
        for worker, job in list(busy.items()):
            if worker.conn in ready:
                try:
                    kind, value = worker.conn.recv()
                except (EOFError, OSError):
                    kind, value = "died", None
                if kind == "started":
                    worker.started, worker.limit = time.monotonic(), value
                    continue
                del busy[worker]
                worker.busy = False
                if kind == "done":
                    yield job, value
                elif kind == "unknown":
                    yield job, fallback(job) if fallback else unfinished(job, "error", value)
                elif kind == "raised":
                    yield job, unfinished(job, "error", value)
                else:
                    worker.stop()
                    deaths[job.key] += 1
                    if deaths[job.key] < MAX_ATTEMPTS:
                        pending.appendleft(job)
                    else:
                        yield job, unfinished(job, "error", f"its worker process died {MAX_ATTEMPTS} times")
            elif (deadline := worker.deadline()) is not None and time.monotonic() >= deadline:
                elapsed = time.monotonic() - (worker.started or deadline)
                worker.stop()
                del busy[worker]
                yield job, unfinished(job, "timeout", f"run exceeded its time limit of {worker.limit:g} s "
                                                      f"(its worker process was stopped)", elapsed)


def serve(conn: Connection) -> None:
    """A worker's loop: run each job it is sent, saying first when the run starts and under which limit."""
    from theory.errors import TheoryError
    from theory.executors import execute
    from theory.registry import build_registry

    registry = None
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            registry = registry or build_registry()
            limit = registry.algorithm(job.algorithm).timeout_s
        except TheoryError as exc:
            conn.send(("unknown", str(exc)))
            continue
        conn.send(("started", limit))
        try:
            conn.send(("done", execute(job, registry)))
        except Exception as exc:  # the parent reports it; this worker stays usable
            conn.send(("raised", f"{type(exc).__name__}: {exc}"))


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
