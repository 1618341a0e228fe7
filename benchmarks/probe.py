"""Run one measurement in a fresh process, to read its peak memory apart from every other measurement's."""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from typing import Any


def _child(function: Callable[..., Any], args: tuple, queue: multiprocessing.Queue) -> None:
    import theory.runner  # noqa: F401  the imports every measurement pays, counted in the baseline

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        result = function(*args)
    except Exception as exc:  # handed to the parent, which raises it
        queue.put(exc)
        return
    queue.put((result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, baseline))


def fresh_process(function: Callable[..., Any], *args: Any) -> tuple[Any, int, int]:
    """``function(*args)`` in a spawned process: its result, the process's peak resident bytes, and the peak
    after importing theorycheck and torch but before measuring (the part of the peak that is not the run's)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(function, args, queue))
    process.start()
    outcome = queue.get()
    process.join()
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
