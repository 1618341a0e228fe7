"""Counter-based random numbers: every value is a hash of (seed, stream, step, index).

A seed's numbers therefore do not depend on how many other seeds share its batch, on the worker that runs
it, or on the device: the hash is integer arithmetic that gives the same bits on cpu and cuda. Values are
computed a block of steps at a time per stream and served from that block, which amortises the per-call
overhead of small tensors without changing a single number.

Uniforms carry 32 random bits, so normals from Box-Muller are truncated beyond about 6.6 standard deviations.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import torch

_M32 = 0xFFFFFFFF
_BLOCK_ELEMENTS = 1 << 16  # 512 KB of float64 per cached block, at most: larger blocks measured slower
_FIRST_SPAN = 1  # steps in a stream's first block; each refill doubles it
GAMMA_TRIES = 8  # Marsaglia-Tsang proposals per gamma draw (see Gen.gamma)


def _mix(x: torch.Tensor) -> torch.Tensor:
    """The lowbias32 integer hash on int64 tensors holding values in [0, 2**32)."""
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _M32
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & _M32
    return x ^ (x >> 16)


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (the same in every process)."""
    return zlib.crc32(name.encode())


class Gen:
    """Random numbers for a batch of seeds; every draw has shape ``(batch, *shape)``.

    ``stream`` separates independent uses (``"reward"``, ``"arm"``, ``"instance/means"``); ``t`` is the step.
    """

    def __init__(self, seeds: torch.Tensor | list[int], device: str | torch.device = "cpu"):
        self.seeds = torch.as_tensor(seeds, dtype=torch.int64, device=device)
        if self.seeds.ndim != 1:
            raise ValueError("seeds must be a 1-d sequence of integers")
        self.device = self.seeds.device
        lo, hi = self.seeds & _M32, (self.seeds >> 32) & _M32
        self._seed_key = _mix(lo ^ _mix(hi + 0x9E3779B9))[:, None]
        self._blocks: dict[tuple, tuple[int, int, torch.Tensor]] = {}

    @property
    def batch(self) -> int:
        return int(self.seeds.shape[0])

    def seed_keys(self) -> np.ndarray:
        """Each seed's hash key, for compiled kernels that draw these same numbers (``theory.kernels``)."""
        return self._seed_key[:, 0].cpu().numpy().astype(np.uint64)

    def _bits(self, key: int, steps: torch.Tensor, count: int) -> torch.Tensor:
        counter = steps[:, None] * count + torch.arange(count, device=self.device)  # (steps, count)
        lo, hi = counter & _M32, (counter >> 32) & _M32
        per_counter = _mix(lo ^ _mix(hi ^ key))
        return _mix(self._seed_key[:, :, None] ^ per_counter[None])  # (batch, steps, count)

    def uniform(self, stream: str, t: int, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """Uniform on the open interval (0, 1)."""
        count = math.prod(shape)
        cache_key = (stream, count, dtype)
        start, stop, block = self._blocks.get(cache_key, (0, 0, None))
        if block is None or not start <= t < stop:
            # Blocks start small and double while a stream is read, up to about _BLOCK_ELEMENTS: a short run
            # does not pay for a full block per stream, a long one still amortises the per-call overhead.
            limit = max(1, _BLOCK_ELEMENTS // max(1, self.batch * count))
            span = min(limit, max(_FIRST_SPAN, 2 * (stop - start)))
            start, stop = t, t + span
            steps = torch.arange(start, stop, dtype=torch.int64, device=self.device)
            block = ((self._bits(stream_key(stream), steps, count).to(torch.float64) + 0.5) / 2.0**32).to(dtype)
            # Rounding to float32 would map the top 2**-25 of (0, 1) onto 1.0: keep the interval open.
            block = block.clamp_(max=1.0 - torch.finfo(dtype).eps / 2)
            self._blocks[cache_key] = (start, stop, block)
        return block[:, t - start].reshape(self.batch, *shape)

    def normal(self, stream: str, t: int, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """Standard normal by Box-Muller from two uniform streams."""
        u1 = self.uniform(stream + "#r", t, *shape, dtype=dtype)
        u2 = self.uniform(stream + "#a", t, *shape, dtype=dtype)
        return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * math.pi * u2)

    def bernoulli(self, stream: str, t: int, p: torch.Tensor) -> torch.Tensor:
        """0/1 draws with success probability ``p`` of shape ``(batch, *shape)``."""
        return (self.uniform(stream, t, *p.shape[1:], dtype=p.dtype) < p).to(p.dtype)

    def rademacher(self, stream: str, t: int, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        return torch.where(self.uniform(stream, t, *shape, dtype=dtype) < 0.5, -1.0, 1.0).to(dtype)

    def categorical(self, stream: str, t: int, probs: torch.Tensor) -> torch.Tensor:
        """One index per seed drawn from the rows of ``probs`` (shape ``(batch, K)``) by inverse CDF."""
        u = self.uniform(stream, t, 1, dtype=probs.dtype)
        cdf = torch.cumsum(probs, dim=1)
        index = torch.searchsorted(cdf, u * cdf[:, -1:], right=True)[:, 0]
        return index.clamp_(max=probs.shape[1] - 1)

    def gamma(self, stream: str, t: int, shape: torch.Tensor, tries: int = GAMMA_TRIES) -> torch.Tensor:
        """Gamma(shape, 1) for ``shape >= 1`` by Marsaglia-Tsang (with its squeeze) and a fixed number of
        vectorised tries.

        Each try is accepted with probability above 0.95, so all ``tries`` fail with probability below
        1e-10; the last proposal is then used, a bias far below anything a check can see.
        """
        d = (shape - 1.0 / 3.0)[..., None]
        c = 1.0 / torch.sqrt(9.0 * d)
        z = self.normal(stream + "#z", t, *shape.shape[1:], tries, dtype=shape.dtype)
        u = self.uniform(stream + "#u", t, *shape.shape[1:], tries, dtype=shape.dtype)
        v = (1.0 + c * z) ** 3
        squeeze = u < 1.0 - 0.0331 * (z * z) * (z * z)  # accepts most proposals without the logs
        ok = (v > 0) & (squeeze | (torch.log(u) < 0.5 * z**2 + d - d * v + d * torch.log(v.clamp_min(1e-300))))
        first = torch.where(ok.any(-1), ok.to(torch.int8).argmax(-1), tries - 1)
        return (d * v).gather(-1, first[..., None])[..., 0]

    def beta(self, stream: str, t: int, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Beta(a, b) for ``a, b >= 1`` as a ratio of gammas."""
        x = self.gamma(stream + "#a", t, a)
        return x / (x + self.gamma(stream + "#b", t, b))


def seed_block(base: int, count: int) -> list[int]:
    """The seeds of a run: ``count`` consecutive integers in the block owned by ``base``."""
    return [base * 1_000_003 + i for i in range(count)]
