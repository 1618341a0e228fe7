"""The runner with small fake algorithms on the Bernoulli bandit: deterministic, batch-invariant, anytime or
per point as declared, and every way a plugin can go wrong ends as a Trace, never as a crash."""

from __future__ import annotations

import dataclasses
import signal
import threading
import time

import numpy as np
import pytest
import torch
from fakes import (
    bandit_experiment,
    hanging_algorithm,
    make_algorithm,
    nan_algorithm,
    probe_algorithm,
    pulling_algorithm,
    raising_algorithm,
    sleepy_algorithm,
    wrong_shape_algorithm,
)

from theory import Experiment, measures, run
from theory.errors import DeviceError
from theory.instances.bandits import BERNOULLI

GRID = (8.0, 16.0, 32.0, 64.0)


def run_fake(algorithm=None, experiment=None, grid=GRID, seeds=range(4), **kwargs):
    return run(algorithm or make_algorithm(), BERNOULLI, experiment or bandit_experiment(grid), grid,
               list(seeds), **kwargs)


# --- determinism and batch invariance -----------------------------------------------------------------------


def test_a_run_is_a_trace_of_metrics_over_seeds_and_grid():
    trace = run_fake(seeds=range(10, 16))
    assert trace.status == "ok", trace.message
    assert trace.algorithm == "fake" and trace.seeds == tuple(range(10, 16)) and trace.grid == GRID
    assert set(trace.metrics) == {"regret", "reward"}
    regret = trace.metrics["regret"]
    assert regret.shape == (6, 4) and regret.dtype == np.float64
    assert np.all(np.diff(regret, axis=1) >= 0)  # pseudo-regret only grows
    assert np.all(regret[:, -1] > 0)
    assert trace.environment["torch"] == torch.__version__


def test_same_seeds_same_numbers():
    first, second = run_fake(seeds=range(8)), run_fake(seeds=range(8))
    for name in first.metrics:
        assert np.array_equal(first.metrics[name], second.metrics[name])
    other = run_fake(seeds=range(8, 16))
    assert not np.array_equal(first.metrics["reward"], other.metrics["reward"])


@pytest.mark.parametrize("algorithm, grid", [(make_algorithm, GRID), (pulling_algorithm, (4.0, 8.0, 16.0))],
                         ids=["own-rewards", "family-pull"])
def test_a_seed_gets_the_same_numbers_in_any_batch_and_order(algorithm, grid):
    seeds = list(range(1000, 1064))
    full = run_fake(algorithm(), grid=grid, seeds=seeds)
    reversed_batch = run_fake(algorithm(), grid=grid, seeds=seeds[::-1])
    rng = np.random.default_rng(0)
    for seed in (1000, 1041):
        row = seeds.index(seed)
        alone = run_fake(algorithm(), grid=grid, seeds=[seed])
        others = [int(s) for s in rng.choice([s for s in seeds if s != seed], size=6, replace=False)]
        in_seven = run_fake(algorithm(), grid=grid, seeds=others[:3] + [seed] + others[3:])
        for name in ("regret", "reward"):
            expected = full.metrics[name][row]
            assert np.array_equal(alone.metrics[name][0], expected), (seed, name, "batch of 1")
            assert np.array_equal(in_seven.metrics[name][3], expected), (seed, name, "batch of 7")
            assert np.array_equal(reversed_batch.metrics[name][63 - row], expected), (seed, name, "reversed")


# --- anytime or per grid point ------------------------------------------------------------------------------


def test_anytime_algorithm_runs_once_to_the_largest_horizon_and_is_never_told_it():
    trace = run_fake(probe_algorithm())
    assert trace.status == "ok", trace.message
    assert np.array_equal(trace.metrics["steps"], np.tile(GRID, (4, 1)))  # measured at each checkpoint
    assert np.all(trace.metrics["horizon"] == 0)


def test_an_anytime_algorithm_that_reads_the_horizon_is_an_error_naming_the_schedule():
    def init(instance, hyper, gen):
        return {"steps": torch.zeros(instance.batch) + hyper["horizon"]}

    trace = run_fake(make_algorithm("reader", init=init, step=lambda s, *_: s,
                                    metrics=measures("steps")(lambda s, i: s)))
    assert trace.status == "error"
    assert "schedule='per_horizon'" in trace.message


def test_horizon_dependent_algorithm_runs_once_per_grid_point():
    trace = run_fake(probe_algorithm(schedule="per_horizon"))
    assert np.array_equal(trace.metrics["steps"], np.tile(GRID, (4, 1)))
    assert np.array_equal(trace.metrics["horizon"], np.tile(GRID, (4, 1)))


def test_a_one_shot_algorithm_takes_one_step_at_every_grid_point():
    trace = run_fake(probe_algorithm(schedule="once"))
    assert np.all(trace.metrics["steps"] == 1) and np.all(trace.metrics["horizon"] == 0)


def test_parameters_that_depend_on_the_scaling_variable_force_per_point_runs():
    experiment = bandit_experiment(GRID, K=3, best=0.9, gap="1/sqrt(T)")
    trace = run_fake(probe_algorithm(), experiment)
    assert np.array_equal(trace.metrics["steps"], np.tile(GRID, (4, 1)))
    assert np.all(trace.metrics["horizon"] == 0)  # per point, and still not told the horizon
    # a fresh instance at every grid point, with that point's gap
    np.testing.assert_allclose(trace.metrics["gap"], np.tile(1 / np.sqrt(GRID), (4, 1)), rtol=1e-12)


def test_a_family_that_reads_the_scaling_variable_is_rebuilt_at_every_grid_point():
    """Issue 17, item 7: a family given T in its parameters saw only the largest T under an anytime algorithm."""
    def generate(params, gen):
        return BERNOULLI.generate({**params, "gap": 1 / float(params["T"]) ** 0.5}, gen)

    family = dataclasses.replace(BERNOULLI, name="reads-T", generate=generate)
    experiment = bandit_experiment(GRID, K=3, best=0.9)
    trace = run(probe_algorithm(), family, experiment, GRID, [0, 1])
    assert trace.status == "ok", trace.message
    np.testing.assert_allclose(trace.metrics["gap"], np.tile(1 / np.sqrt(GRID), (2, 1)), rtol=1e-12)
    assert np.array_equal(trace.metrics["steps"], np.tile(GRID, (2, 1)))
    assert np.all(trace.metrics["horizon"] == 0)  # rebuilt per point, still never told the horizon


def test_fixed_steps_run_every_grid_point_for_that_many_steps():
    experiment = Experiment(family="bernoulli-bandit", over="gap", grid=(0.1, 0.2, 0.4),
                            params={"K": 3, "best": 0.9}, steps=10)
    trace = run(probe_algorithm(schedule="per_horizon"), BERNOULLI, experiment, experiment.grid, [0, 1])
    assert trace.status == "ok", trace.message
    assert np.all(trace.metrics["steps"] == 10) and np.all(trace.metrics["horizon"] == 10)
    np.testing.assert_allclose(trace.metrics["gap"], np.tile([0.1, 0.2, 0.4], (2, 1)), rtol=1e-6)


def test_a_grid_used_as_horizons_must_hold_integers():
    trace = run_fake(grid=(8.0, 16.5, 32.0))
    assert trace.status == "error"
    assert "must hold distinct integers" in trace.message


# --- plugin failures become traces --------------------------------------------------------------------------


def test_exception_in_step_is_an_error_trace_with_message_and_location():
    trace = run_fake(raising_algorithm())
    assert trace.status == "error"
    assert trace.metrics == {}
    assert trace.message.startswith("ZeroDivisionError: deliberate failure at step 3 (at ")
    assert "fakes.py:" in trace.message and trace.message.endswith(" in _raising_step)")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_metric_is_a_divergence_naming_the_metric_and_grid_point(bad):
    trace = run_fake(nan_algorithm(bad))
    assert trace.status == "diverged" and trace.metrics == {}
    assert f"metric 'loss' is {bad} for 1 of 4 seeds (first at grid point 16)" in trace.message
    assert "diverged or divided by 0" in trace.message


def test_metric_of_the_wrong_shape_is_an_error():
    trace = run_fake(wrong_shape_algorithm())
    assert trace.status == "error"
    assert "metric 'steps' has shape (4, 2), expected (4,): one per seed" in trace.message


def test_missing_metric_is_an_error():
    returned = make_algorithm().metrics
    declares_more = measures("regret", "reward", "loss")(lambda state, instance: returned(state, instance))
    trace = run_fake(make_algorithm(metrics=declares_more))
    assert trace.status == "error"
    assert "metrics() did not return ['loss']" in trace.message


def test_a_hanging_step_times_out_within_its_limit():
    previous_handler = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    trace = run_fake(hanging_algorithm(timeout_s=0.5))
    elapsed = time.monotonic() - started
    assert trace.status == "timeout"
    assert trace.message == "run exceeded its time limit of 0.5 s"
    assert 0.5 <= trace.elapsed_s and elapsed < 3.0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm left behind
    assert signal.getsignal(signal.SIGALRM) is previous_handler
    assert run_fake().status == "ok"  # and the next run is unaffected


def test_run_timeout_overrides_the_algorithm_limit():
    trace = run_fake(hanging_algorithm(timeout_s=60.0), timeout_s=0.3)
    assert trace.status == "timeout" and "0.3 s" in trace.message


def test_timeout_outside_the_main_thread_is_checked_between_steps():
    # No SIGALRM off the main thread: the step loop checks the clock after every step instead.
    result = {}
    worker = threading.Thread(target=lambda: result.update(trace=run_fake(sleepy_algorithm(timeout_s=0.3))))
    started = time.monotonic()
    worker.start()
    worker.join(timeout=10)
    assert time.monotonic() - started < 2.0  # 64 steps of 50 ms would take 3.2 s
    assert result["trace"].status == "timeout"


def test_default_dtype_is_restored_after_a_failed_run():
    previous, threads = torch.get_default_dtype(), torch.get_num_threads()
    try:
        torch.set_default_dtype(torch.float32)
        assert run_fake(raising_algorithm()).status == "error"
        assert torch.get_default_dtype() == torch.float32
        assert run_fake(hanging_algorithm(timeout_s=0.2)).status == "timeout"
        assert torch.get_default_dtype() == torch.float32
        torch.set_default_dtype(torch.float64)
        assert run_fake(make_algorithm(dtype="float32", step=raising_algorithm().step)).status == "error"
        assert torch.get_default_dtype() == torch.float64
        assert torch.get_num_threads() == threads
    finally:
        torch.set_default_dtype(previous)
    # and the next run works and gives the same numbers as ever
    assert np.array_equal(run_fake().metrics["regret"], run_fake().metrics["regret"])


def test_algorithm_dtype_is_the_default_inside_the_run():
    seen = []

    def init(instance, hyper, gen):
        seen.append(torch.get_default_dtype())
        return {"steps": torch.zeros(instance.batch)}

    algorithm = make_algorithm(dtype="float32", init=init, step=lambda s, i, t, h, g: s,
                               metrics=measures("steps")(lambda s, i: dict(s)))
    trace = run_fake(algorithm)
    assert trace.status == "ok" and trace.dtype == "float32"
    assert seen == [torch.float32]


def test_unknown_device_is_refused():
    for device in ("tpu", "mps", "cuda-please"):
        with pytest.raises(DeviceError, match=f"device {device!r} is not supported"):
            run_fake(device=device)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="sees no CUDA GPU"):
            run_fake(device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_same_numbers_on_cpu_and_cuda():
    cpu, cuda = run_fake(seeds=range(8)), run_fake(seeds=range(8), device="cuda")
    assert cuda.status == "ok", cuda.message
    np.testing.assert_allclose(cpu.metrics["regret"], cuda.metrics["regret"], rtol=1e-12)


@pytest.mark.parametrize("schedule", ["anytime", "per_horizon"])
def test_an_experiment_mode_reaches_the_family_and_the_algorithm(schedule):
    """Issue 10, item 5: a measurement mode is declared on the experiment, not smuggled in a parameter."""
    asked = []

    def generate(params, gen, mode=None):
        asked.append(mode)
        return BERNOULLI.generate(params, gen)

    family = dataclasses.replace(BERNOULLI, name="modal-bandit", generate=generate, modes=("audit",))

    def metrics(state, instance):
        return {**state, "audit": torch.full((instance.batch,), float(instance.mode == "audit"))}

    algorithm = dataclasses.replace(probe_algorithm(schedule=schedule),
                                    metrics=measures("steps", "horizon", "gap", "audit")(metrics))
    for mode, expected in ((None, 0.0), ("audit", 1.0)):
        asked.clear()
        experiment = dataclasses.replace(bandit_experiment(GRID, K=3, best=0.9), family="modal-bandit", mode=mode)
        trace = run(algorithm, family, experiment, GRID, [0, 1])
        assert trace.status == "ok", trace.message
        assert set(asked) == {mode} and np.all(trace.metrics["audit"] == expected)
        assert trace.experiment.mode == mode
