"""Baselines for the bandit benchmark: the experiment theorycheck's runner does, done the ways a user could.

The experiment: Bernoulli arms with means evenly spaced from 0.1 to 0.9 (K = 10, shuffled per repetition),
UCB1, Thompson sampling (Beta(1, 1) priors) and loss-based EXP3 (eta = sqrt(2 ln K / (T K))), exactly as
plugins/ucb1.py, plugins/thompson.py and plugins/exp3.py define them, each run for ``reps`` repetitions of
``horizon`` pulls. Three baselines, each returning seconds per algorithm and the pseudo-regret at the horizon
(mean over repetitions, with its standard error) so a table can show that all computed the same thing:

- ``smpybandits``: SMPyBandits' own Evaluator, arms and policies, installed pinned into a virtual environment
  of its own and run in one process by ``smpybandits_experiment.py``;
- ``per_seed_loop``: a plain Python loop over repetitions and steps, numpy over the arms, as a user would write
  it without vectorising over seeds;
- ``numba_floor``: compiled kernels (numba, no fastmath) advancing all repetitions in lockstep, time outside
  and repetitions inside, the same shape of work as the batched runner: a floor for what it could cost. They
  keep what a pull does not change: UCB1 each arm's mean and 1 / sqrt(n), so a step is a multiply-add per
  arm; EXP3 the weights exp(-eta L) (one exp per step, the same probabilities as exp(-eta (L - min L))).
  On the full experiment they chose the same arms as the direct formulas (the same regret to every digit);
  written directly they cost about 3.5 times (UCB1) and 2 to 4 times (EXP3) as much here.

ns per (pull x seed) is ``Measurement.ns_per_pull``. Nothing here prints; the table is written elsewhere.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ALGORITHMS = ("ucb1", "thompson", "exp3")
MEANS = np.linspace(0.1, 0.9, 10)
HERE = Path(__file__).resolve().parent
SMPYBANDITS_CACHE = HERE / ".venv-smpybandits"
# SMPyBandits 0.9.7 (2019) imports scipy.special.btdtri, gone since SciPy 1.14, so SciPy is held at 1.13.1 (which
# needs NumPy below 2.3) and NumPy at 1.26.4, the 1.x line SMPyBandits was written for; the rest is the tree pip
# resolved with those on Python 3.11, pinned so that a later release cannot change what is measured.
SMPYBANDITS_REQUIREMENTS = (
    "SMPyBandits==0.9.7", "numpy==1.26.4", "scipy==1.13.1", "matplotlib==3.11.2", "seaborn==0.13.2",
    "pandas==3.0.6", "scikit-learn==1.9.1", "scikit-optimize==0.10.2", "joblib==1.6.0",
    "contourpy==1.3.3", "cycler==0.12.1", "fonttools==4.68.0", "kiwisolver==1.5.1", "packaging==26.3",
    "pillow==13.0.0", "pyparsing==3.3.3", "python-dateutil==4.0.0", "narwhals==2.29.0", "threadpoolctl==3.8.0",
    "pyaml==26.7.0", "PyYAML==6.0.3", "cloudpickle==3.1.2", "tzdata==2026.6",
)


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """Seconds per algorithm for ``reps`` repetitions of ``horizon`` pulls; pseudo-regret at the horizon.

    ``cpu_seconds`` (empty where not measured) is the process's CPU time over the same span: every baseline here
    runs on one thread, so on a quiet machine it matches ``seconds``; on a busy one it shows the time spent waiting.
    """

    seconds: dict[str, float]
    regret: dict[str, float]  # mean over repetitions
    regret_se: dict[str, float]  # its standard error
    reps: int
    horizon: int
    note: str = ""
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def ns_per_pull(self, algorithm: str) -> float:
        """Nanoseconds per (pull x repetition)."""
        return self.seconds[algorithm] / (self.reps * self.horizon) * 1e9


@dataclass(frozen=True)
class Unavailable:
    """A baseline that could not be measured here, and why (for the table's note)."""

    reason: str


def _summary(regrets: dict[str, np.ndarray]) -> tuple[dict[str, float], dict[str, float]]:
    mean = {name: float(r.mean()) for name, r in regrets.items()}
    se = {name: float(r.std(ddof=1) / math.sqrt(r.size)) if r.size > 1 else math.nan for name, r in regrets.items()}
    return mean, se


def _shuffled_means(rng: np.random.Generator, reps: int) -> np.ndarray:
    return np.stack([rng.permutation(MEANS) for _ in range(reps)])


# --- SMPyBandits -------------------------------------------------------------------------------------------


def _first_lines(text: str, count: int = 6) -> str:
    """The first lines of pip's error (from its first ERROR line when it has one), else its last lines."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("WARNING: Location")]
    errors = [i for i, line in enumerate(lines) if line.startswith("ERROR")]
    return "\n".join(lines[errors[0]:errors[0] + count] if errors else lines[-count:])


def _smpybandits_python(cache: Path) -> Path | Unavailable:
    """The python of a virtual environment holding SMPyBandits as pinned, made (or remade) when needed."""
    python, marker = cache / "bin" / "python", cache / "theorycheck-requirements.txt"
    wanted = "\n".join(SMPYBANDITS_REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    shutil.rmtree(cache, ignore_errors=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(cache)], capture_output=True, text=True)
    if made.returncode:
        return Unavailable(f"could not create a virtual environment: {_first_lines(made.stderr)}")
    pip = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                          *SMPYBANDITS_REQUIREMENTS], capture_output=True, text=True)
    if pip.returncode:
        return Unavailable(f"pip install SMPyBandits==0.9.7 failed: {_first_lines(pip.stderr)}")
    marker.write_text(wanted)
    return python


def smpybandits(reps: int, horizon: int, *, seed: int = 0, cache: Path = SMPYBANDITS_CACHE,
                timeout: float = 3600.0) -> Measurement | Unavailable:
    """SMPyBandits' Evaluator on the experiment, one process, timed per algorithm (its import excluded)."""
    python = _smpybandits_python(cache)
    if isinstance(python, Unavailable):
        return python
    command = [str(python), str(HERE / "smpybandits_experiment.py"), "--reps", str(reps), "--horizon",
               str(horizon), "--arms", str(MEANS.size), "--seed", str(seed)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "MPLBACKEND": "Agg"})
    except subprocess.TimeoutExpired:
        return Unavailable(f"SMPyBandits did not finish within {timeout:.0f} s")
    if done.returncode:
        return Unavailable(f"the SMPyBandits experiment failed: {_first_lines(done.stderr)}")
    out = json.loads(done.stdout)
    runs = out["algorithms"]
    return Measurement(
        seconds={name: run["seconds"] for name, run in runs.items()},
        cpu_seconds={name: run["cpu_seconds"] for name, run in runs.items()},
        regret={name: run["regret_mean"] for name, run in runs.items()},
        regret_se={name: run["regret_se"] for name, run in runs.items()}, reps=reps, horizon=horizon,
        note=(f"SMPyBandits {out['smpybandits']} (numpy {out['numpy']}, Python {out['python']}), its Evaluator "
              f"with n_jobs=1; import ({out['import_seconds']:.1f} s) excluded; UCB and Thompson as shipped, "
              "EXP3 its Exp3 class with our loss-based update and learning rate (SMPyBandits has none)"))


# --- A plain per-seed loop ---------------------------------------------------------------------------------


def _ucb1_seed(rng: np.random.Generator, means: np.ndarray, horizon: int) -> float:
    pulls, sums, regret = np.zeros(means.size), np.zeros(means.size), 0.0
    best = means.max()
    for t in range(1, horizon + 1):
        if t <= means.size:
            arm = t - 1
        else:
            arm = int(np.argmax(sums / pulls + np.sqrt(2 * math.log(t) / pulls)))
        pulls[arm] += 1
        sums[arm] += rng.random() < means[arm]
        regret += best - means[arm]
    return regret


def _thompson_seed(rng: np.random.Generator, means: np.ndarray, horizon: int) -> float:
    a, b, regret = np.ones(means.size), np.ones(means.size), 0.0
    best = means.max()
    for _ in range(horizon):
        arm = int(np.argmax(rng.beta(a, b)))
        reward = float(rng.random() < means[arm])
        a[arm] += reward
        b[arm] += 1 - reward
        regret += best - means[arm]
    return regret


def _exp3_seed(rng: np.random.Generator, means: np.ndarray, horizon: int) -> float:
    eta = math.sqrt(2 * math.log(means.size) / (horizon * means.size))
    estimates, regret = np.zeros(means.size), 0.0
    best = means.max()
    for _ in range(horizon):
        weights = np.exp(-eta * (estimates - estimates.min()))
        probs = weights / weights.sum()
        arm = int(rng.choice(means.size, p=probs))
        estimates[arm] += (rng.random() >= means[arm]) / probs[arm]  # the loss 1 - r over its probability
        regret += best - means[arm]
    return regret


_PER_SEED: dict[str, Callable[[np.random.Generator, np.ndarray, int], float]] = {
    "ucb1": _ucb1_seed, "thompson": _thompson_seed, "exp3": _exp3_seed}


def per_seed_loop(reps: int, horizon: int, *, seed: int = 0, max_reps: int = 10) -> Measurement:
    """One repetition at a time, one step at a time; times at most ``max_reps`` repetitions and scales up."""
    timed = min(reps, max_reps)
    seconds, cpu_seconds, regrets = {}, {}, {}
    for name, run in _PER_SEED.items():
        rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(timed)]
        start, cpu = time.perf_counter(), time.process_time()
        regrets[name] = np.array([run(rng, rng.permutation(MEANS), horizon) for rng in rngs])
        seconds[name] = (time.perf_counter() - start) * reps / timed
        cpu_seconds[name] = (time.process_time() - cpu) * reps / timed
    mean, se = _summary(regrets)
    scaled = f"; timed on {timed} of {reps} repetitions and scaled by {reps / timed:g}" if timed < reps else ""
    return Measurement(seconds=seconds, cpu_seconds=cpu_seconds, regret=mean, regret_se=se, reps=reps,
                       horizon=horizon,
                       note=f"plain Python loop over repetitions and steps, numpy over the arms{scaled}")


# --- Compiled kernels, all repetitions in lockstep ----------------------------------------------------------


def _kernels() -> dict[str, Callable[[np.random.Generator, np.ndarray, int], np.ndarray]]:
    """The numba kernels, compiled on first call (numba is imported only here: the other baselines lack it)."""
    from numba import njit

    @njit(cache=True)
    def ucb1(rng, means, horizon):
        reps, arms = means.shape
        best = np.array([means[r].max() for r in range(reps)])
        pulls, sums, regret = np.zeros((reps, arms)), np.zeros((reps, arms)), np.zeros(reps)
        average, inverse_root = np.zeros((reps, arms)), np.zeros((reps, arms))  # s / n and 1 / sqrt(n)
        for t in range(1, horizon + 1):
            width = math.sqrt(2.0 * math.log(t))
            for r in range(reps):
                arm = t - 1
                if t > arms:
                    top = -np.inf
                    for i in range(arms):
                        index = average[r, i] + width * inverse_root[r, i]
                        if index > top:
                            top, arm = index, i
                pulls[r, arm] += 1.0
                sums[r, arm] += 1.0 if rng.random() < means[r, arm] else 0.0
                average[r, arm] = sums[r, arm] / pulls[r, arm]
                inverse_root[r, arm] = 1.0 / math.sqrt(pulls[r, arm])
                regret[r] += best[r] - means[r, arm]
        return regret

    @njit(cache=True)
    def thompson(rng, means, horizon):
        reps, arms = means.shape
        best = np.array([means[r].max() for r in range(reps)])
        a, b, regret = np.ones((reps, arms)), np.ones((reps, arms)), np.zeros(reps)
        for _ in range(horizon):
            for r in range(reps):
                arm, top = 0, -1.0
                for i in range(arms):
                    theta = rng.beta(a[r, i], b[r, i])
                    if theta > top:
                        top, arm = theta, i
                if rng.random() < means[r, arm]:
                    a[r, arm] += 1.0
                else:
                    b[r, arm] += 1.0
                regret[r] += best[r] - means[r, arm]
        return regret

    @njit(cache=True)
    def exp3(rng, means, horizon):
        reps, arms = means.shape
        best = np.array([means[r].max() for r in range(reps)])
        eta = math.sqrt(2.0 * math.log(arms) / (horizon * arms))
        weights, regret = np.ones((reps, arms)), np.zeros(reps)  # exp(-eta L), up to a factor per repetition
        for _ in range(horizon):
            for r in range(reps):
                total = 0.0
                for i in range(arms):
                    total += weights[r, i]
                if total < 1e-200:  # weights only shrink: bring them back before they underflow
                    weights[r] /= weights[r].max()
                    total = weights[r].sum()
                u, arm = rng.random() * total, 0  # inverse CDF
                while arm < arms - 1 and u >= weights[r, arm]:
                    u -= weights[r, arm]
                    arm += 1
                if rng.random() >= means[r, arm]:  # a loss of 1, over its probability
                    weights[r, arm] *= math.exp(-eta * total / weights[r, arm])
                regret[r] += best[r] - means[r, arm]
        return regret

    return {"ucb1": ucb1, "thompson": thompson, "exp3": exp3}


def numba_floor(reps: int, horizon: int, *, seed: int = 0) -> Measurement:
    """Compiled kernels over all repetitions in lockstep; compile time excluded (each is warmed up first)."""
    start = time.perf_counter()
    kernels = _kernels()
    warm = np.random.default_rng(seed)
    for kernel in kernels.values():
        kernel(warm, _shuffled_means(warm, 2), 20)
    compile_seconds = time.perf_counter() - start
    seconds, cpu_seconds, regrets = {}, {}, {}
    for name, kernel in kernels.items():
        rng = np.random.default_rng(seed)
        means = _shuffled_means(rng, reps)
        start, cpu = time.perf_counter(), time.process_time()
        regrets[name] = kernel(rng, means, horizon)
        seconds[name], cpu_seconds[name] = time.perf_counter() - start, time.process_time() - cpu
    mean, se = _summary(regrets)
    return Measurement(seconds=seconds, cpu_seconds=cpu_seconds, regret=mean, regret_se=se, reps=reps,
                       horizon=horizon,
                       note=(f"numba @njit kernels, no fastmath, numpy Generator draws (Beta by rng.beta); "
                             f"import and compile or cache load ({compile_seconds:.1f} s) excluded"))
