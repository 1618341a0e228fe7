"""The bandit experiment (Bernoulli, K = 10, means 0.1..0.9, horizon 10,000, 100 repetitions; UCB1, Thompson
sampling and EXP3) through theorycheck's runner, beside SMPyBandits and a numba floor doing the same work.

All three are timed in this process's run (SMPyBandits in its own virtual environment and process), after a
warm-up run that compiles theorycheck's kernels, so compile time is not counted for either compiled side.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.bandit_baselines import (
    ALGORITHMS,
    MEANS,
    Measurement,
    Unavailable,
    numba_floor,
    per_seed_loop,
    smpybandits,
)
from benchmarks.table import Row

REPS, HORIZON = 100, 10_000
QUICK_HORIZON = 2_000
TARGET_VS_SMPYBANDITS = 300.0
TARGET_VS_FLOOR = 3.0


def theorycheck(reps: int, horizon: int) -> Measurement:
    """The runner on the experiment, timed per algorithm after a short warm-up run."""
    from theory import Experiment, build_registry, run
    from theory.random import seed_block

    registry = build_registry()
    family = registry.families["bernoulli-bandit"]
    experiment = Experiment(family="bernoulli-bandit", over="T", grid=(horizon / 4, horizon / 2, horizon),
                            params={"means": tuple(float(m) for m in MEANS)})
    seconds, regrets = {}, {}
    for name in ALGORITHMS:
        algorithm = registry.algorithms[name]
        run(algorithm, family, experiment, (50,), seed_block(1, 4))  # compiles (or loads) the kernel
        started = time.perf_counter()
        trace = run(algorithm, family, experiment, (horizon,), seed_block(0, reps))
        seconds[name] = time.perf_counter() - started
        if trace.status != "ok":
            raise RuntimeError(f"{name}: {trace.message}")
        regrets[name] = trace.metrics["regret"][:, -1]
    return Measurement(seconds=seconds, regret={k: float(v.mean()) for k, v in regrets.items()},
                       regret_se={k: float(v.std(ddof=1) / np.sqrt(reps)) for k, v in regrets.items()},
                       reps=reps, horizon=horizon, note=f"path: {trace.environment['path']}")


def measure(quick: bool) -> list[Row]:
    horizon = QUICK_HORIZON if quick else HORIZON
    ours, floor = theorycheck(REPS, horizon), numba_floor(REPS, horizon)
    anchor = smpybandits(REPS, horizon)
    if isinstance(anchor, Unavailable):
        reason = anchor.reason
        anchor = per_seed_loop(REPS, horizon)
        label = "per-seed loop"
        anchor_name = f"{label} (SMPyBandits unavailable: {reason})"
    else:
        label = anchor_name = "SMPyBandits"
    size = f"{REPS} reps x T={horizon}"
    rows = []
    for name in ALGORITHMS:
        regrets = ", ".join(f"{who} {m.regret[name]:.1f}±{m.regret_se[name]:.1f}"
                            for who, m in (("ours", ours), ("floor", floor), (label, anchor)))
        rows.append(Row(benchmark="bandits", measure=f"{name}: theorycheck ns per (pull x seed)",
                        value=ours.ns_per_pull(name), unit="ns",
                        note=f"floor {floor.ns_per_pull(name):.0f} ns, {label} "
                             f"{anchor.ns_per_pull(name):.0f} ns; regret {regrets}"))
    total = {who: sum(m.seconds.values()) for who, m in (("ours", ours), ("floor", floor), ("anchor", anchor))}
    speedup = total["anchor"] / total["ours"]
    rows.append(Row(benchmark="bandits", measure=f"throughput vs {anchor_name}, all three ({size})", value=speedup,
                    unit="x", target=f">= {TARGET_VS_SMPYBANDITS:g}x", met=speedup >= TARGET_VS_SMPYBANDITS,
                    note=f"{total['anchor']:.1f} s vs {total['ours']:.2f} s; {anchor.note}"))
    slowdown = total["ours"] / total["floor"]
    rows.append(Row(benchmark="bandits", measure=f"time vs the numba floor, all three ({size})", value=slowdown,
                    unit="x", target=f"<= {TARGET_VS_FLOOR:g}x", met=slowdown <= TARGET_VS_FLOOR,
                    note=f"{total['ours']:.2f} s vs {total['floor']:.2f} s; " + ", ".join(
                        f"{name} {ours.seconds[name] / floor.seconds[name]:.1f}x" for name in ALGORITHMS)))
    return rows
