"""Compiled CPU kernels: the counter-based generator of theory.random, scalar and in numba.

A step over a batch of a few hundred seeds is too small for torch: each tensor operation costs microseconds of
dispatch, so a bandit step of ten operations spends nearly all its time outside arithmetic. An algorithm may
therefore ship a ``kernel`` (see ``theory.spec.Algorithm``) that advances many steps in one compiled call. These
functions give such a kernel the very numbers ``Gen`` gives ``step``: the same hash of (seed, stream, step,
index), element by element, so a kernel and its step agree bit for bit wherever they do the same arithmetic
(transcendental functions may differ in the last place between numba's libm and torch's vector code).

Stream keys and seed keys are computed in Python (``stream_key``, ``Gen.seed_keys``) and passed in as integers.
A plugin declares its kernel as a ``Kernel``: the compiled function over numpy arrays, and which state entries,
streams and inputs it takes; the adapter does the rest (copying the state, the keys, the checks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import torch

from theory.random import GAMMA_TRIES, Gen, stream_key

_M32 = np.uint64(0xFFFFFFFF)
_TWO32 = 4294967296.0

jit = numba.njit(cache=True, nogil=True)
jit.__doc__ = "numba's njit, cached and without the GIL: the decorator for a Kernel's steps and their helpers."


@jit
def mix(x: np.uint64) -> np.uint64:
    """lowbias32 on a value in [0, 2**32), as ``theory.random._mix``."""
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x7FEB352D)) & _M32
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(0x846CA68B)) & _M32
    return x ^ (x >> np.uint64(16))


@jit
def uniform(seed_key: np.uint64, stream: np.uint64, t: int, count: int, index: int) -> float:
    """Element ``index`` of ``Gen.uniform(stream, t, count)`` (float64) for the seed whose key is ``seed_key``."""
    counter = np.uint64(t * count + index)
    per_counter = mix((counter & _M32) ^ mix(((counter >> np.uint64(32)) & _M32) ^ stream))
    return (float(mix(seed_key ^ per_counter)) + 0.5) / _TWO32


@jit
def normal(seed_key: np.uint64, radius: np.uint64, angle: np.uint64, t: int, count: int, index: int) -> float:
    """``Gen.normal``: Box-Muller from the streams ``name#r`` and ``name#a`` (keys ``radius``, ``angle``)."""
    u1 = uniform(seed_key, radius, t, count, index)
    u2 = uniform(seed_key, angle, t, count, index)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@jit
def gamma(seed_key: np.uint64, keys: np.ndarray, t: int, arms: int, arm: int, shape: float, tries: int) -> float:
    """``Gen.gamma`` for one element: Marsaglia-Tsang, first accepted of ``tries`` proposals (else the last).

    ``keys`` holds the stream keys of ``name#z#r``, ``name#z#a`` and ``name#u``. Proposals after the accepted
    one are never drawn: they cannot change the result, since every proposal has its own counter.
    """
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    value = 0.0
    for j in range(tries):
        index = arm * tries + j
        z = normal(seed_key, keys[0], keys[1], t, arms * tries, index)
        u = uniform(seed_key, keys[2], t, arms * tries, index)
        w = 1.0 + c * z
        v = w * w * w  # torch computes a cube as two products too
        value = d * v
        if v > 0 and (u < 1.0 - 0.0331 * (z * z) * (z * z)
                      or math.log(u) < 0.5 * z**2 + d - d * v + d * math.log(max(v, 1e-300))):
            return value
    return value


@jit
def beta(seed_key: np.uint64, keys: np.ndarray, t: int, arms: int, arm: int, a: float, b: float) -> float:
    """``Gen.beta`` for one element; ``keys`` is ``beta_keys(name)``."""
    x = gamma(seed_key, keys[0], t, arms, arm, a, GAMMA_TRIES)
    return x / (x + gamma(seed_key, keys[1], t, arms, arm, b, GAMMA_TRIES))


def gamma_keys(stream: str) -> np.ndarray:
    """The keys of the streams ``Gen.gamma(stream, ...)`` reads, in the order ``gamma`` takes them."""
    return np.array([stream_key(f"{stream}#z#r"), stream_key(f"{stream}#z#a"), stream_key(f"{stream}#u")],
                    dtype=np.uint64)


def beta_keys(stream: str) -> np.ndarray:
    """The keys of the streams ``Gen.beta(stream, ...)`` reads: one row per gamma."""
    return np.stack([gamma_keys(f"{stream}#a"), gamma_keys(f"{stream}#b")])


def _no_inputs(instance: Any, hyper: Mapping[str, Any]) -> tuple:
    return ()


@dataclass(frozen=True, kw_only=True)
class Kernel:
    """An algorithm's compiled CPU path, declared as data (``Algorithm(kernel=Kernel(...))``).

    ``steps`` is a jitted function over numpy arrays only, called as
    ``steps(*state arrays, seed_keys, *stream keys, *inputs(instance, hyper), first, last)``: it advances steps
    ``first..last`` in place on copies of the ``state`` entries (float64, one row per seed), drawing its random
    numbers with ``uniform``/``normal``/``beta`` from ``seed_keys`` (one per seed) and the keys of ``streams``.
    Calling the Kernel does what calling the algorithm's ``step`` for each ``t`` does, with the same numbers.
    """

    steps: Callable[..., None]
    state: tuple[str, ...]
    streams: tuple[str, ...] = ()
    inputs: Callable[[Any, Mapping[str, Any]], tuple] = _no_inputs

    def __call__(self, state: Mapping[str, torch.Tensor], instance: Any, first: int, last: int,
                 hyper: Mapping[str, Any], gen: Gen) -> dict[str, torch.Tensor]:
        out = {name: value.clone() for name, value in state.items()}
        for name in self.state:
            if out[name].dtype != torch.float64 or out[name].device.type != "cpu":
                raise TypeError(f"a compiled kernel works on float64 CPU state; {name!r} is {out[name].dtype} "
                                f"on {out[name].device}")
        keys = (np.uint64(stream_key(name)) for name in self.streams)
        self.steps(*(out[name].numpy() for name in self.state), gen.seed_keys(), *keys,
                   *self.inputs(instance, hyper), first, last)
        return out
