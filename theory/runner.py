"""Run an Algorithm on an instance family over a grid and a batch of seeds, returning a Trace.

The runner measures and never judges: an exception in a plugin, a non-finite metric or a run past its time
limit is recorded on the Trace (status ``error``, ``diverged`` or ``timeout`` with the message) and the caller
goes on.
Seeds are the first axis of every tensor: one ``step`` call advances all of them. Metrics stay on the device
until the run ends, so the step loop never waits for the device.
"""

from __future__ import annotations

import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from theory.backend import environment, resolve_device, resolve_dtype
from theory.claims import Experiment
from theory.locate import drew_from_global, global_generators, nonfinite_origin
from theory.model import Trace
from theory.random import Gen
from theory.spec import Algorithm, Family

RUN_THREADS = 1  # intra-op threads while a run steps (see run)
KERNEL_WORK = 1 << 20  # (step x seed) pairs per compiled-kernel call, between two checks of the time limit


class RunTimeout(BaseException):
    """Raised inside a run that passed its time limit (a BaseException so plugin code cannot swallow it)."""


class MeasureError(Exception):
    """A metric with the wrong shape or a non-finite value."""


class NonFiniteMetric(MeasureError):
    """A metric that is NaN or infinite at grid point ``point``."""

    def __init__(self, message: str, point: int):
        super().__init__(message)
        self.point = point


def run(algorithm: Algorithm, family: Family, experiment: Experiment, grid: Sequence[float],
        seeds: Sequence[int], device: str = "cpu", timeout_s: float | None = None) -> Trace:
    """Run ``algorithm`` on ``experiment`` at every grid point for every seed, in one batch."""
    torch_device = resolve_device(device)
    grid = tuple(float(x) for x in grid)
    started = time.monotonic()
    limit = timeout_s if timeout_s is not None else algorithm.timeout_s
    common: dict[str, Any] = dict(
        algorithm=algorithm.name, version=algorithm.version, experiment=experiment, grid=grid, seeds=tuple(seeds),
        device=str(torch_device), dtype=algorithm.dtype,
        environment={**environment(torch_device), "path": "kernel" if uses_kernel(algorithm, torch_device) else "step"})
    previous_dtype, previous_threads = torch.get_default_dtype(), torch.get_num_threads()
    generators = global_generators()
    try:
        with _deadline(limit) as check_time:
            torch.set_default_dtype(resolve_dtype(algorithm.dtype))
            # A step works on small (seeds x arms) tensors, too small for intra-op threads to pay off; worse,
            # on a busy machine the threads of MKL and OpenMP spin: torch.log of 3200 doubles measured 13 us
            # on one thread and 3.5 ms on two, on a loaded 2-core machine.
            torch.set_num_threads(RUN_THREADS)
            gen_seeds = torch.tensor(list(seeds), dtype=torch.int64, device=torch_device)
            values = None
            if algorithm.schedule == "anytime" and experiment.steps is None and not experiment.depends_on_over():
                values = _run_anytime(algorithm, family, experiment, grid, gen_seeds, check_time)
            if values is None:
                values = _run_per_point(algorithm, family, experiment, grid, gen_seeds, check_time)
            try:
                metrics = _collect(algorithm, values, len(seeds), grid)
            except NonFiniteMetric as exc:
                origin = _origin(algorithm, family, experiment, grid[exc.point], gen_seeds, check_time)
                raise NonFiniteMetric(f"{exc}; {origin}", exc.point) from None
            drew = drew_from_global(generators)
            if drew:
                raise MeasureError(drew)
    except RunTimeout:
        return Trace(**common, metrics={}, status="timeout", elapsed_s=time.monotonic() - started,
                     message=f"run exceeded its time limit of {limit:g} s")
    except NonFiniteMetric as exc:  # the algorithm diverged (or divided by 0): a result, judged as such
        return Trace(**common, metrics={}, status="diverged", elapsed_s=time.monotonic() - started,
                     message=f"{exc}")
    except Exception as exc:  # a plugin's bug is a result to report, not a crash of the whole sweep
        return Trace(**common, metrics={}, status="error", elapsed_s=time.monotonic() - started,
                     message=_describe(exc))
    finally:
        torch.set_default_dtype(previous_dtype)
        torch.set_num_threads(previous_threads)
    return Trace(**common, metrics=metrics, elapsed_s=time.monotonic() - started)


class _Watched(dict):
    """Instance parameters that remember whether the family read one of them."""

    def __init__(self, values: Mapping[str, object], watched: str):
        super().__init__(values)
        self.watched, self.read = watched, False

    def __getitem__(self, key: str) -> object:
        self.read |= key == self.watched
        return super().__getitem__(key)

    def get(self, key: str, default: object = None) -> object:
        self.read |= key == self.watched
        return super().get(key, default)


def _run_anytime(algorithm: Algorithm, family: Family, experiment: Experiment, grid: tuple[float, ...],
                 seeds: torch.Tensor, check_time: Callable[[], None]) -> list[Mapping[str, torch.Tensor]] | None:
    """One run to the largest horizon, measured at every grid point; None when the family read the scaling
    variable while building the instance, which then depends on it: it would see only the largest value,
    so the caller rebuilds the instance at every grid point instead."""
    checkpoints = _horizons(grid)
    gen = Gen(seeds)
    params = _Watched({**family.defaults, **experiment.at(grid[-1])}, experiment.over)
    instance = family.generated(params, gen, experiment.mode)  # Family.instance, with the parameters watched
    if params.read:
        return None
    hyper = _hyper(algorithm, checkpoints[-1])
    state = algorithm.init(instance, hyper, gen)
    values: list[Mapping[str, torch.Tensor]] = []
    done = 0
    for checkpoint in checkpoints:
        state = _advance(algorithm, state, instance, done + 1, checkpoint, hyper, gen, check_time)
        values.append(_measure(algorithm, state, instance, seeds.shape[0]))
        done = checkpoint
    return values


def _run_per_point(algorithm: Algorithm, family: Family, experiment: Experiment, grid: tuple[float, ...],
                   seeds: torch.Tensor, check_time: Callable[[], None]) -> list[Mapping[str, torch.Tensor]]:
    if algorithm.schedule == "once":
        horizons = [1] * len(grid)
    else:
        horizons = [experiment.steps] * len(grid) if experiment.steps is not None else _horizons(grid)
    values: list[Mapping[str, torch.Tensor]] = []
    for x, steps in zip(grid, horizons):
        gen = Gen(seeds)
        instance = family.instance(experiment.at(x), gen, experiment.mode)
        hyper = _hyper(algorithm, steps)
        state = algorithm.init(instance, hyper, gen)
        state = _advance(algorithm, state, instance, 1, steps, hyper, gen, check_time)
        values.append(_measure(algorithm, state, instance, seeds.shape[0]))
    return values


def _advance(algorithm: Algorithm, state: object, instance: object, first: int, last: int, hyper: dict,
             gen: Gen, check_time: Callable[[], None]) -> object:
    """Steps ``first..last``: through the compiled kernel on the CPU, in spans short enough that the time limit
    is still checked (a signal waits for compiled code to return), else one ``step`` call per step."""
    if algorithm.kernel is not None and uses_kernel(algorithm, gen.device):
        span = max(1, KERNEL_WORK // gen.batch)
        for start in range(first, last + 1, span):
            state = algorithm.kernel(state, instance, start, min(last, start + span - 1), hyper, gen)
            check_time()
        return state
    for t in range(first, last + 1):
        state = algorithm.step(state, instance, t, hyper, gen)
        check_time()
    return state


class _Untold(dict):
    """The hyper-parameters of an algorithm that is not told its horizon: reading it is a clear error."""

    def __missing__(self, key: str) -> object:
        if key == "horizon":
            raise KeyError("horizon: an algorithm whose schedule is 'anytime' or 'once' is not told the horizon; "
                           "declare schedule='per_horizon' if it needs it")
        raise KeyError(key)


def _hyper(algorithm: Algorithm, steps: int) -> dict:
    """What ``init``, ``step`` and a kernel receive: the horizon only under the ``per_horizon`` schedule."""
    if algorithm.schedule == "per_horizon":
        return {**algorithm.hyper, "horizon": steps}
    return _Untold(algorithm.hyper)


def uses_kernel(algorithm: Algorithm, device: torch.device) -> bool:
    """Whether a run of ``algorithm`` on ``device`` goes through its compiled kernel."""
    return algorithm.kernel is not None and device.type == "cpu"


def _horizons(grid: tuple[float, ...]) -> list[int]:
    horizons = [int(round(x)) for x in grid]
    if any(abs(h - x) > 1e-9 for h, x in zip(horizons, grid)) or len(set(horizons)) < len(horizons):
        raise ValueError(f"grid {grid} is used as horizons and must hold distinct integers")
    return horizons


def _measure(algorithm: Algorithm, state: object, instance: object, batch: int) -> dict[str, torch.Tensor]:
    measured = algorithm.metrics(state, instance)
    missing = set(algorithm.metric_names) - set(measured)
    if missing:
        raise MeasureError(f"metrics() did not return {sorted(missing)}")
    out = {}
    for name in algorithm.metric_names:
        value = torch.as_tensor(measured[name])
        if tuple(value.shape) != (batch,):
            raise MeasureError(f"metric {name!r} has shape {tuple(value.shape)}, expected ({batch},): one per seed")
        out[name] = value.detach().to(torch.float64)
    return out


def _collect(algorithm: Algorithm, values: list[Mapping[str, torch.Tensor]], batch: int,
             grid: tuple[float, ...]) -> dict[str, np.ndarray]:
    metrics = {name: torch.stack([v[name] for v in values], dim=1).cpu().numpy() for name in algorithm.metric_names}
    for name, array in metrics.items():
        bad = ~np.isfinite(array)
        if bad.any():
            seed, point = np.argwhere(bad)[0]
            raise NonFiniteMetric(f"metric {name!r} is {array[seed, point]} for {int(bad.any(1).sum())} of {batch} "
                                  f"seeds (first at grid point {grid[point]:g}): the algorithm diverged or divided "
                                  f"by 0", int(point))
    return metrics


def _origin(algorithm: Algorithm, family: Family, experiment: Experiment, x: float, seeds: torch.Tensor,
            check_time: Callable[[], None]) -> str:
    """Where the run first made a non-finite number: replayed alone at grid point ``x`` (theory.locate)."""
    steps = 1 if algorithm.schedule == "once" else experiment.steps or int(round(x))
    gen = Gen(seeds)
    try:
        instance = family.instance(experiment.at(x), gen, experiment.mode)
        return nonfinite_origin(algorithm, instance, _hyper(algorithm, steps), gen, steps, check_time)
    except RunTimeout:
        return "replaying the run to locate it passed the time limit"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, MeasureError):  # already says where, in the plugin's terms
        return f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


@contextmanager
def _deadline(seconds: float) -> Iterator[Callable[[], None]]:
    """Interrupt the run after ``seconds``: by SIGALRM where possible (main thread, POSIX), which also stops a
    step that hangs; elsewhere by the check the step loop calls after every step."""
    end = time.monotonic() + seconds

    def check_time() -> None:
        if time.monotonic() > end:
            raise RunTimeout()

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield check_time
        return

    def expire(signum, frame):
        raise RunTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield check_time
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
