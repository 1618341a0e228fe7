"""The bandit benchmark run with SMPyBandits' own Evaluator, arms and policies, timed per algorithm.

Run by ``benchmarks/bandit_baselines.py`` with the python of the virtual environment where SMPyBandits is
installed (not theorycheck's): ``python smpybandits_experiment.py --reps 100 --horizon 10000``. Prints one JSON
object on stdout; SMPyBandits' own chatter goes to stderr.

The experiment: Bernoulli arms with means evenly spaced from 0.1 to 0.9, one process (``n_jobs=1``), one
Evaluator per algorithm so each is timed alone; the time excludes importing SMPyBandits and building the
Evaluator, and includes what the Evaluator does per step and per repetition (deep copies, result storage).
The algorithms, matched to theorycheck's plugins:

- ucb1: SMPyBandits' ``UCB``, index s/n + sqrt(2 ln t / n), as plugins/ucb1.py (SMPyBandits' t counts the
  steps already played, so it uses ln(t - 1) where the plugin uses ln t; it breaks ties at random).
- thompson: SMPyBandits' ``Thompson`` with its default Beta(1, 1) posteriors, as plugins/thompson.py.
- exp3: SMPyBandits' ``Exp3`` is the reward-based variant mixed with gamma / K of uniform exploration and a
  learning rate gamma / K; plugins/exp3.py is the loss-based EXP3 of Bubeck and Cesa-Bianchi (2012, Section
  3.1) with eta = sqrt(2 ln K / (T K)) and no mixing. ``LossExp3`` below subclasses SMPyBandits' ``Exp3`` and
  replaces its three formulas with ours, keeping its per-step style (weights renormalised every step, an arm
  drawn with ``numpy.random.choice``), so the algorithm is ours and the cost per step is SMPyBandits'.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time

import numpy as np

_START = time.perf_counter()
with contextlib.redirect_stdout(sys.stderr):  # SMPyBandits prints as it loads; keep stdout for the JSON
    from SMPyBandits.Arms import Bernoulli
    from SMPyBandits.Environment import Evaluator
    from SMPyBandits.Policies import UCB, Exp3, Thompson
    from SMPyBandits.Policies.BasePolicy import BasePolicy
IMPORT_SECONDS = time.perf_counter() - _START  # reported apart: the import is not part of the experiment

ALGORITHMS = ("ucb1", "thompson", "exp3")


class LossExp3(Exp3):
    """Loss-based EXP3 with eta = sqrt(2 ln K / (T K)): p = normalised exp(-eta L), L_A += (1 - r) / p_A."""

    def __init__(self, nbArms: int, horizon: int):
        self.eta = math.sqrt(2 * math.log(nbArms) / (horizon * nbArms))
        super().__init__(nbArms, gamma=self.eta)  # gamma only names it in SMPyBandits' printout

    @property
    def trusts(self):
        return self.weights  # kept normalised by getReward: no uniform mixing

    def getReward(self, arm, reward):
        BasePolicy.getReward(self, arm, reward)
        self.weights[arm] *= np.exp(-self.eta * (1 - reward) / self.weights[arm])
        self.weights /= np.sum(self.weights)

    def choice(self):
        # SMPyBandits draws from numpy's global RNG, as its own Exp3 does here; no initial round over the arms
        return np.random.choice(self.nbArms, p=self.weights)  # noqa: TID251


def _policy(name: str, arms: int, horizon: int):
    return {"ucb1": lambda: UCB(arms), "thompson": lambda: Thompson(arms),
            "exp3": lambda: LossExp3(arms, horizon)}[name]()


def run(name: str, reps: int, horizon: int, means: np.ndarray) -> dict[str, float]:
    """Run one algorithm through SMPyBandits' Evaluator; its wall time and the pseudo-regret at the horizon."""
    config = {"horizon": horizon, "repetitions": reps, "n_jobs": 1, "verbosity": 0,
              "environment": [{"arm_type": Bernoulli, "params": [float(m) for m in means]}],
              "policies": [_policy(name, len(means), horizon)]}
    evaluator = Evaluator(config)
    start, cpu = time.perf_counter(), time.process_time()
    evaluator.startAllEnv()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    pulls = evaluator.lastPulls[0][0]  # (K, reps): pulls of each arm at the horizon, per repetition
    regret = ((means.max() - means)[:, None] * pulls).sum(axis=0)
    return {"seconds": seconds, "cpu_seconds": cpu, "inner_seconds": float(evaluator.runningTimes[0][0].sum()),
            "regret_mean": float(regret.mean()), "regret_se": float(regret.std(ddof=1) / math.sqrt(reps))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--horizon", type=int, default=10_000)
    parser.add_argument("--arms", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--algorithms", default=",".join(ALGORITHMS))
    args = parser.parse_args()
    means = np.linspace(0.1, 0.9, args.arms)
    with contextlib.redirect_stdout(sys.stderr):  # SMPyBandits prints as it goes; keep stdout for the JSON
        np.random.seed(args.seed)  # noqa: TID251  (SMPyBandits' policies and arms draw from the global RNG)
        results = {name: run(name, args.reps, args.horizon, means) for name in args.algorithms.split(",")}
    from importlib.metadata import version
    print(json.dumps({"smpybandits": version("SMPyBandits"), "numpy": np.__version__,
                      "python": sys.version.split()[0], "import_seconds": IMPORT_SECONDS, "reps": args.reps,
                      "horizon": args.horizon, "arms": args.arms, "algorithms": results}))


if __name__ == "__main__":
    main()
