"""The values that flow between the layers: what the engine measures, for the judge and the store to read.

Plain frozen data with no behaviour of its own, so the judge (theory.check) and the store need not import the
engine (theory.runner) that produces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from theory.claims import Experiment


@dataclass(frozen=True, kw_only=True)
class Trace:
    """Metrics of one run: ``metrics[name]`` has shape ``(seeds, grid)``; ``status`` is ok, error or timeout."""

    algorithm: str
    version: str
    experiment: Experiment
    grid: tuple[float, ...]
    seeds: tuple[int, ...]
    metrics: Mapping[str, np.ndarray]
    status: str = "ok"
    message: str = ""
    device: str = "cpu"
    dtype: str = "float64"
    elapsed_s: float = 0.0
    environment: Mapping[str, str] = field(default_factory=dict)
