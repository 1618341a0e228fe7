"""Where a run went wrong, said in the plugin's terms: the step and line that first made a non-finite number,
and a draw from a global random generator the run should not have touched.

Metrics are checked only when a run ends (checking every step would make the loop wait for the device), so a
run that ends with a non-finite metric is replayed step by step until its state first holds one; that step is
replayed once more under a line tracer, which names the line of the plugin's step function after which a local
tensor first holds a NaN or an infinity. Steps are pure (docs/writing-a-plugin.md), so the replay is exact.
"""

from __future__ import annotations

import functools
import os
import random  # noqa: TID251 (only read, to notice a plugin that draws from it)
import sys
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

import numpy as np
import torch

from theory.spec import Algorithm


def nonfinite_origin(algorithm: Algorithm, instance: object, hyper: dict, gen: Any, last: int,
                     check_time: Callable[[], None]) -> str:
    """Replay ``last`` steps and say where the first non-finite value appeared."""
    state = algorithm.init(instance, hyper, gen)
    if _nonfinite_entries(state):
        return f"init already returns non-finite {_nonfinite_entries(state)} ({where(algorithm.init)})"
    for t in range(1, last + 1):
        following = algorithm.step(state, instance, t, hyper, gen)
        bad = _nonfinite_entries(following)
        if bad:
            line = _culprit_line(algorithm.step, (state, instance, t, hyper, gen))
            return f"the state's {', '.join(bad)} first turned non-finite at step {t}, {line}"
        state = following
        check_time()
    return f"the state stays finite to step {last}: metrics() made the value ({where(algorithm.metrics)})"


def where(function: Callable) -> str:
    """``plugins/foo.py:12 in foo_step``: a function's file (relative to the working directory when under it)."""
    while isinstance(function, functools.partial):
        function = function.func
    code = getattr(function, "__code__", None)
    if code is None:
        return getattr(function, "__qualname__", type(function).__name__)
    return f"{_short_path(code.co_filename)}:{code.co_firstlineno} in {code.co_name}"


def _short_path(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _nonfinite(value: object) -> bool:
    return (isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()))


def _nonfinite_entries(state: object) -> list[str]:
    """The names of a state's tensors that hold a non-finite value (a dict, a NamedTuple or one tensor)."""
    if isinstance(state, Mapping):
        items = state.items()
    elif hasattr(state, "_asdict"):
        items = state._asdict().items()
    else:
        items = [("state", state)]
    return [str(name) for name, value in items if _nonfinite(value)]


def _culprit_line(step: Callable, args: tuple) -> str:
    """Run ``step(*args)`` under a line tracer; the line after which one of its local tensors (or its result)
    first holds a non-finite value."""
    code = getattr(step, "__code__", None)
    if code is None:
        return f"in {where(step)}"
    found: list[int] = []
    previous: list[int] = [code.co_firstlineno]

    def in_step(frame: FrameType, event: str, arg: object) -> Any:
        if found:
            return None
        if event in ("line", "return"):
            if any(_nonfinite(v) for v in frame.f_locals.values()):
                found.append(previous[0])
            elif event == "return" and _nonfinite_entries(arg):
                found.append(frame.f_lineno)
            previous[0] = frame.f_lineno
        return in_step

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return in_step if frame.f_code is code else None

    tracer = sys.gettrace()
    sys.settrace(calls)
    try:
        step(*args)
    finally:
        sys.settrace(tracer)
    if not found:
        return f"in {where(step)} (a helper it calls)"
    return f"at {_short_path(code.co_filename)}:{found[0]} in {code.co_name}"


def global_generators() -> tuple:
    """The state of every global random generator a plugin might draw from instead of ``gen``."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    numpy_state = np.random.get_state()
    return (torch.get_rng_state(), tuple(cuda), numpy_state[1].copy(), numpy_state[2], random.getstate())


def drew_from_global(before: tuple) -> str | None:
    """Which global generator changed since ``before``: a draw that seeds do not reproduce."""
    after = global_generators()
    changed = []
    if not torch.equal(before[0], after[0]) or len(before[1]) != len(after[1]) or \
            any(not torch.equal(a, b) for a, b in zip(before[1], after[1])):
        changed.append("torch's global generator (torch.rand, torch.randn, torch.randint, ...)")
    if not np.array_equal(before[2], after[2]) or before[3] != after[3]:
        changed.append("numpy's global generator (numpy.random.*)")
    if before[4] != after[4]:
        changed.append("Python's random module")
    if not changed:
        return None
    return (f"the run drew from {' and '.join(changed)}, which the seeds do not control, so its numbers do not "
            f"reproduce: draw every random number from gen (gen.uniform, gen.normal, ...)")
