"""Memory of a measurement: run it in a fresh process, and read its resident size and peak from Linux."""

from __future__ import annotations

import ctypes
import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any


def resident(field: str = "VmRSS") -> int:
    """The process's resident bytes now (VmRSS), or its peak since start or the last ``reset_peak`` (VmHWM)."""
    status = Path("/proc/self/status").read_text()
    return 1024 * int(next(line.split()[1] for line in status.splitlines() if line.startswith(f"{field}:")))


def reset_peak() -> int:
    """Hand freed heap pages back to the system (glibc keeps them, and they would count as resident), then
    restart the peak at the current resident size (Linux: writing 5 to clear_refs resets VmHWM and
    ru_maxrss); returns the peak before the restart."""
    before = resident("VmHWM")
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    return before


def _child(function: Callable[..., Any], args: tuple, queue: multiprocessing.Queue) -> None:
    try:
        queue.put(function(*args))
    except Exception as exc:  # handed to the parent, which raises it
        queue.put(exc)


def fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a spawned process, whose peak memory (``resident("VmHWM")``) is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(function, args, queue))
    process.start()
    outcome = queue.get()
    process.join()
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
