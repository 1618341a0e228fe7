"""The Laplace mechanism: Dwork, McSherry, Nissim and Smith, "Calibrating Noise to Sensitivity in Private Data
Analysis", TCC 2006; restated in Dwork and Roth, "The Algorithmic Foundations of Differential Privacy" (2014),
Definition 3.3 and Theorems 3.6 and 3.8. A sanity plugin for the privacy auditor (docs/privacy.md).

The query is the mean of n records in [0, 1], whose L1 sensitivity under replacing one record is 1/n. The
mechanism releases

    M(D) = mean(D) + Y,   Y ~ Laplace(b),   b = (1/n) / eps,

on both inputs of the ``privacy-pair`` family (D and its neighbour D', with independent noise).

Claims:
- ``privacy`` (Dwork and Roth, Theorem 3.6): M is (eps, 0)-DP. Audited on the pair D = (0, ..., 0),
  D' = (1, 0, ..., 0), where the mean moves by its whole sensitivity; the statistic is the release itself.
  The likelihood ratio of two shifted Laplace laws is monotone in the output, so threshold sets are the
  most powerful tests and a far-enough threshold shows the whole epsilon.
- ``mae-in-n`` and ``mae-in-eps``: the error E|M(D) - mean(D)| = E|Y| = b = 1/(n eps) exactly, so
  O(1/n) at fixed eps and O(1/eps) at fixed n (Theorem 3.8 is the high-probability form of the same scale).

Mutants: ``half-noise`` (scale b / 2: the classic bug that no utility test sees) must be caught by the audit;
``eps-ignored`` (scale 1/n, as if eps were 1) breaks the eps-rate and, below eps = 1, privacy;
``sum-sensitivity`` (scale 1/eps, the sum's sensitivity: private but useless) breaks the n-rate.

Departures: the noise is drawn by inverting the Laplace CDF at a uniform with 32 random bits
(``theory.random``), so it is truncated beyond about 21.5 b and lies on a fine grid; strictly the mechanism is
then (eps, 2**-32)-DP, a difference no audit with fewer than billions of runs could see. The theorem numbers
are those of the 2014 monograph as recalled, not re-read for this module.

Null learner ``constant-release`` (``theory.constant_release`` of family ``privacy-pair``: 1/2 whatever the
data) FAILs ``mae-in-n`` and ``mae-in-eps`` (flat error, measured at quick fidelity); it is perfectly
private, so the privacy claim has no null and its teeth are the under-noised mutants.
"""

from __future__ import annotations

import torch

from theory import Algorithm, Claim, Experiment, Mutant, Paper, constant_release, hookimpl, measures

PAPER = Paper(title="Calibrating Noise to Sensitivity in Private Data Analysis",
              authors="Dwork, McSherry, Nissim, Smith", year=2006)
SOURCE = "Dwork and Roth 2014, Theorem 3.6"
ACCURACY = "E|Laplace(b)| = b, b = 1/(n eps) (Dwork and Roth 2014, Theorem 3.8 in tail form)"


def laplace(gen, stream: str, t: int, shape: tuple[int, ...], scale: torch.Tensor | float) -> torch.Tensor:
    """Laplace(scale) noise of shape (batch, *shape) by inverse CDF."""
    centred = gen.uniform(stream, t, *shape) - 0.5
    return -scale * torch.sign(centred) * torch.log1p(-2.0 * centred.abs())


def init(instance, hyper, gen):
    return {"release": torch.zeros(instance.batch, 2)}


def _release(instance, t, gen, scale: float):
    """The mechanism on D and D' at once: the exact means plus independent Laplace noise."""
    return {"release": instance.means() + laplace(gen, "noise", t, (2,), scale)}


def step(state, instance, t, hyper, gen):
    return _release(instance, t, gen, (1.0 / instance.n) / instance.eps)


def step_half_noise(state, instance, t, hyper, gen):
    return _release(instance, t, gen, 0.5 * (1.0 / instance.n) / instance.eps)


def step_eps_ignored(state, instance, t, hyper, gen):
    return _release(instance, t, gen, 1.0 / instance.n)


def step_sum_sensitivity(state, instance, t, hyper, gen):
    return _release(instance, t, gen, 1.0 / instance.eps)


@measures("output", "output_neighbour", "abs_error")
def metrics(state, instance):
    release = state["release"]
    return {"output": release[:, 0], "output_neighbour": release[:, 1],
            "abs_error": (release[:, 0] - instance.means()[:, 0]).abs()}


AUDIT = Experiment(family="privacy-pair", over="eps", params={"n": 100}, steps=1,
                   grid=(0.125, 0.25, 0.5, 1.0, 2.0, 4.0), quick_grid=(0.125, 0.25, 0.5, 1.0, 2.0, 4.0),
                   seeds=100_000, quick_seeds=40_000)
OVER_N = Experiment(family="privacy-pair", over="n", params={"eps": 1.0}, steps=1,
                    grid=(10, 32, 100, 316, 1000, 3162, 10000), quick_grid=(10, 32, 100, 316, 1000, 3162),
                    seeds=4000, quick_seeds=2000)
OVER_EPS = Experiment(family="privacy-pair", over="eps", params={"n": 100}, steps=1,
                      grid=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0), quick_grid=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
                      seeds=4000, quick_seeds=2000)

LAPLACE = Algorithm(
    name="laplace-mechanism", paper=PAPER, family="privacy-pair", init=init, step=step, metrics=metrics,
    claims=(
        Claim(name="privacy", metric="output", neighbour="output_neighbour", kind="privacy", form="eps",
              delta=0.0, source=SOURCE, experiment=AUDIT),
        Claim(name="mae-in-n", metric="abs_error", kind="upper", form="C/n", source=ACCURACY, experiment=OVER_N),
        Claim(name="mae-in-eps", metric="abs_error", kind="upper", form="C/eps", source=ACCURACY,
              experiment=OVER_EPS),
    ),
    mutants=(
        Mutant(name="half-noise", bug="Laplace scale 1/(2 n eps): half the noise the sensitivity needs",
               breaks=("privacy",), step=step_half_noise),
        Mutant(name="eps-ignored", bug="Laplace scale 1/n whatever eps: eps never reaches the noise",
               breaks=("privacy", "mae-in-eps"), step=step_eps_ignored),
        Mutant(name="sum-sensitivity", bug="Laplace scale 1/eps: the sum's sensitivity used for the mean",
               breaks=("mae-in-n",), step=step_sum_sensitivity),
    ),
    nulls=constant_release(("mae-in-n", "mae-in-eps")),
)


@hookimpl
def theorycheck_algorithms():
    return [LAPLACE]
