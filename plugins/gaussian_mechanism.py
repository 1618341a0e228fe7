"""The Gaussian mechanism, composed: Dwork and Roth, "The Algorithmic Foundations of Differential Privacy"
(2014), Theorem A.1 (the classic calibration), and Balle and Wang, "Improving the Gaussian Mechanism for
Differential Privacy: Analytical Calibration and Optimal Denoising", ICML 2018 (arXiv 1805.06530), the exact
calibration. A sanity plugin for the privacy auditor (docs/privacy.md).

The query is the mean of n records in [0, 1] (L2 sensitivity 1/n under replacing one record), answered k
times (``releases``, default 4), each answer with fresh noise:

    M(D) = (mean(D) + Z_1, ..., mean(D) + Z_k),   Z_j ~ N(0, sigma^2),
    sigma = the smallest noise for which the k-fold composition is (eps, delta)-DP,

computed by dp-accounting's privacy loss distributions (``theory.gaussian_noise``), never by a formula
written here; the released statistic is the average of the k answers.

Claims:
- ``privacy``: M is (eps, delta)-DP (the accountant's guarantee, which is exact for Gaussian noise: Balle and
  Wang's analytic calibration, composed). Audited on D = (0, ..., 0), D' = (1, 0, ..., 0) with the average
  of the answers as statistic: it is sufficient for the mean, so threshold sets on it are the most powerful
  tests (auditing one answer alone would see only part of the privacy loss).
- ``privacy-curve``: the same guarantee read as the accountant gives it for Gaussian noise, the whole curve:
  M is mu-GDP with the mu of that calibration (``curve="gaussian"``, docs/privacy.md), audited on the same runs.
- ``mae-in-n``: E|average - mean(D)| = O(1/n) at fixed (eps, delta).
- ``classic-bound`` (Theorem A.1, for eps < 1): the classic noise sqrt(2 ln(1.25/delta)) (1/n) / eps already
  suffices for one answer, and the exact calibration needs no more; the average of k answers has the noise of
  one answer, so E|error| <= sqrt(2/pi) sqrt(2 ln(1.25/delta)) / (n eps).

Mutants: ``half-noise`` (sigma / 2) and ``no-composition`` (sigma calibrated for one answer but k given) must
be caught by the audit; ``less-noise`` (0.8 sigma) by the curve audit, which the one-point audit misses at
these run counts (docs/privacy.md); ``sum-sensitivity`` (noise for sensitivity 1, not 1/n) breaks both utility claims.

Departures: normals come from Box-Muller on 32-bit uniforms (``theory.random``), truncated beyond about 6.6
sigma: outside that range the two laws differ on a set of probability below 1e-10, far below delta. The
theorem numbers are those of the 2014 monograph as recalled; the classic formula was checked against a
restatement (Zhao et al. 2019, arXiv 1911.12060), Balle and Wang's paper only through its abstract.

Null learner ``constant-release`` (``theory.constant_release`` of family ``privacy-pair``: 1/2 whatever the
data) FAILs ``mae-in-n`` and ``classic-bound`` (flat error, measured at quick fidelity); it is perfectly
private, so the privacy claim has no null and its teeth are the under-noised mutants.
"""

from __future__ import annotations

import functools

import torch

from theory import Algorithm, Claim, Experiment, Mutant, Paper, constant_release, gaussian_noise, hookimpl, measures

PAPER = Paper(title="Improving the Gaussian Mechanism for Differential Privacy: Analytical Calibration and "
                    "Optimal Denoising", authors="Balle, Wang", year=2018, arxiv="1805.06530")
DELTA = 1e-5


@functools.lru_cache(maxsize=256)
def _sigma(eps: float, delta: float, n: int, releases: int) -> float:
    return gaussian_noise(eps, delta, sensitivity=1.0 / n, releases=releases)


def init(instance, hyper, gen):
    return {"release": torch.zeros(instance.batch, 2)}


def _release(instance, t, hyper, gen, sigma: float):
    """k noisy answers on D and on D' (independent noise), averaged."""
    k = int(hyper["releases"])
    answers = instance.means()[:, :, None] + sigma * gen.normal("noise", t, 2, k)
    return {"release": answers.mean(dim=2)}


def step(state, instance, t, hyper, gen):
    return _release(instance, t, hyper, gen, _sigma(instance.eps, instance.delta, instance.n, hyper["releases"]))


def step_half_noise(state, instance, t, hyper, gen):
    sigma = _sigma(instance.eps, instance.delta, instance.n, hyper["releases"])
    return _release(instance, t, hyper, gen, 0.5 * sigma)


def step_less_noise(state, instance, t, hyper, gen):
    sigma = _sigma(instance.eps, instance.delta, instance.n, hyper["releases"])
    return _release(instance, t, hyper, gen, 0.8 * sigma)


def step_no_composition(state, instance, t, hyper, gen):
    return _release(instance, t, hyper, gen, _sigma(instance.eps, instance.delta, instance.n, 1))


def step_sum_sensitivity(state, instance, t, hyper, gen):
    sigma = _sigma(instance.eps, instance.delta, 1, hyper["releases"])
    return _release(instance, t, hyper, gen, sigma)


@measures("output", "output_neighbour", "abs_error")
def metrics(state, instance):
    release = state["release"]
    return {"output": release[:, 0], "output_neighbour": release[:, 1],
            "abs_error": (release[:, 0] - instance.means()[:, 0]).abs()}


AUDIT = Experiment(family="privacy-pair", over="eps", params={"n": 100, "delta": DELTA}, steps=1,
                   grid=(0.5, 1.0, 2.0, 4.0, 8.0), quick_grid=(0.5, 1.0, 2.0, 4.0, 8.0),
                   seeds=200_000, quick_seeds=100_000)
OVER_N = Experiment(family="privacy-pair", over="n", params={"eps": 0.5, "delta": DELTA}, steps=1,
                    grid=(10, 32, 100, 316, 1000, 3162, 10000), quick_grid=(10, 32, 100, 316, 1000, 3162),
                    seeds=4000, quick_seeds=2000)

GAUSSIAN = Algorithm(
    name="gaussian-mechanism", paper=PAPER, family="privacy-pair", init=init, step=step, metrics=metrics,
    hyper={"releases": 4},
    claims=(
        Claim(name="privacy", metric="output", neighbour="output_neighbour", kind="privacy", form="eps",
              delta="delta", source="Balle and Wang 2018 (analytic calibration), composed by dp-accounting",
              experiment=AUDIT),
        Claim(name="privacy-curve", metric="output", neighbour="output_neighbour", kind="privacy", form="eps",
              delta="delta", curve="gaussian", experiment=AUDIT,
              source="Balle and Wang 2018: Gaussian noise calibrated to (eps, delta), so mu-GDP for that mu"),
        Claim(name="mae-in-n", metric="abs_error", kind="upper", form="C/n",
              source="E|N(0, sigma^2)| = sigma sqrt(2/pi), sigma proportional to the sensitivity 1/n",
              experiment=OVER_N),
        Claim(name="classic-bound", metric="abs_error", kind="upper", free=(),
              form="sqrt(2/pi)*sqrt(2*log(1.25/delta))/(n*eps)", source="Dwork and Roth 2014, Theorem A.1",
              experiment=OVER_N),
    ),
    mutants=(
        Mutant(name="half-noise", bug="Gaussian noise sigma / 2: half the scale the accountant asks for",
               breaks=("privacy",), step=step_half_noise),
        Mutant(name="less-noise", bug="Gaussian noise 0.8 sigma: 20% under the accountant's scale",
               breaks=("privacy-curve",), step=step_less_noise),
        Mutant(name="no-composition", bug="sigma calibrated for one answer while k answers are released",
               breaks=("privacy",), step=step_no_composition),
        Mutant(name="sum-sensitivity", bug="noise calibrated to sensitivity 1 (the sum's) for the mean",
               breaks=("mae-in-n", "classic-bound"), step=step_sum_sensitivity),
    ),
    nulls=constant_release(("mae-in-n", "classic-bound")),
)


@hookimpl
def theorycheck_algorithms():
    return [GAUSSIAN]
