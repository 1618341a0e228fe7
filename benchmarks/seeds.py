"""Scaling in seeds: the cost of 1 to 10,000 seeds of UCB1 on the bandit experiment (K = 10, means 0.1..0.9),
through the compiled kernel and through the torch step, on the CPU and, where there is one, on a GPU; each
point in a fresh process, so its peak memory is its own."""

from __future__ import annotations

import dataclasses
import time

import torch

from benchmarks.bandit_baselines import MEANS
from benchmarks.probe import fresh_process, reset_peak, resident
from benchmarks.table import Row

SEEDS = (1, 10, 100, 1_000, 10_000)
HORIZON, QUICK_HORIZON = 10_000, 1_000
TARGETS = {"cpu": 20.0, "cuda": 10.0}  # cost of 10,000 seeds over the cost of one


def point(seeds: int, horizon: int, path: str, device: str) -> tuple[float, int, int, int]:
    """Seconds for one run of ``seeds`` seeds, the bytes of the state it holds, the resident bytes before
    it (imports, plugins, compiled kernels) and its peak above them."""
    from theory import Experiment, build_registry, run
    from theory.random import Gen, seed_block

    registry = build_registry()
    algorithm, family = registry.algorithms["ucb1"], registry.families["bernoulli-bandit"]
    if path == "step":
        algorithm = dataclasses.replace(algorithm, kernel=None)
    experiment = Experiment(family="bernoulli-bandit", over="T", grid=(horizon / 4, horizon / 2, horizon),
                            params={"means": tuple(float(m) for m in MEANS)})
    run(algorithm, family, experiment, (20,), seed_block(1, 2), device=device)  # compile, allocate, warm up
    reset_peak()
    before = resident()
    started = time.perf_counter()
    trace = run(algorithm, family, experiment, (horizon,), seed_block(0, seeds), device=device)
    elapsed = time.perf_counter() - started
    peak = resident("VmHWM") - before
    if trace.status != "ok":
        raise RuntimeError(trace.message)
    gen = Gen(torch.tensor(seed_block(0, seeds)))
    state = algorithm.init(family.instance(experiment.at(horizon), gen), {**algorithm.hyper, "horizon": horizon}, gen)
    return elapsed, sum(value.nbytes for value in state.values()), before, peak


def measure(quick: bool) -> list[Row]:
    horizon = QUICK_HORIZON if quick else HORIZON
    runs = [("kernel", "cpu"), ("step", "cpu")] + ([("step", "cuda")] if torch.cuda.is_available() else [])
    rows = []
    for path, device in runs:
        seconds = {}
        for seeds in SEEDS:
            elapsed, state_bytes, before, peak = fresh_process(point, seeds, horizon, path, device)
            seconds[seeds] = elapsed
            label = f"{seeds:,} seed{'s' if seeds > 1 else ''}, T={horizon:,}"
            rows.append(Row(benchmark="seeds", measure=f"ucb1 {path} on {device}: {label}",
                            value=elapsed, unit="s",
                            note=f"{elapsed / (seeds * horizon) * 1e9:.0f} ns per (pull x seed); peak memory "
                                 f"{peak / 2**20:.1f} MiB above the {before / 2**20:.0f} MiB before the run, "
                                 f"for a state of {state_bytes / 2**10:.1f} KiB"))
        ratio = seconds[SEEDS[-1]] / seconds[SEEDS[0]]
        rows.append(Row(benchmark="seeds", measure=f"ucb1 {path} on {device}: 10,000 seeds / 1 seed", value=ratio,
                        unit="x", target=f"<= {TARGETS[device]:g}x", met=ratio <= TARGETS[device],
                        note=f"{seconds[SEEDS[-1]] / SEEDS[-1] * 1e6:.0f} us per seed at 10,000 seeds, "
                             f"{seconds[SEEDS[0]] * 1e6:.0f} us for one"))
    return rows
