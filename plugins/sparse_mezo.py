"""Sparse MeZO: Liu, Zhu, Gong, Cheng, Hsieh, You, "Sparse MeZO: Less Parameters for Better Performance in
Zeroth-Order LLM Fine-Tuning", 2024 (arXiv 2402.15751). Catalogue: shared/claims/optimization.md, section 13.
Family ``finetune-quadratic`` (plugins/finetune_quadratic.py), here with a full-rank Hessian (r = d): k small
pretrained weights that the task moves, d - k large ones that are already optimal.

The step is MeZO's (plugins/mezo.py) with z replaced by m * z in the perturbation and in the update, the mask
computed from the unperturbed weights before perturbing, as the paper's memory-efficient version recomputes it:

    m_i = 1 if |theta_i| <= h else 0;   theta +- eps m*z;  g = (l+ - l-) / (2 eps);  theta -= eta g m*z.

Claims (metrics as MeZO's: speed = log(L_0 / L_T) / T at T = 200 steps, and the log-reduction). The paper states
its gains empirically (abstract: "consistently improves both performance and convergence speed over MeZO", 3.5x
faster on RTE; catalogue C13.5). The checked form is the catalogue's C13.6 [R, low confidence]: with d^ = ||m||_0
masked weights the variance factor of the estimate is d^ + 2 (Gaussian z, n = 1), i.e. MeZO's Theorem 1 on the
masked subproblem, whose Hessian (here the identity on the k small weights) has effective rank d^ = k:
- ``masked-rank``: speed = Theta(1 / (d^ + 2)) over k = d^ in [4, 128] at d = 256 (exponent -1).
- ``ambient-free``: speed = Theta(1) over d in [64, 2048] at k = 8 on the full-rank Hessian, where MeZO itself
  slows like 1/d (its gamma is d + 2 there): the masked count, not d, sets the rate.
- ``descent-bound``: as MeZO's, on the masked subproblem: mean log-reduction >= -t log(1 - 1/(k + 2)).

Verified: the mask rule (small weights perturbed, the same m * z in perturbation and update, mask from the
unperturbed weights) against the paper's abstract and a third-party description of the method
(junaidaliop.github.io/zij/math/sparsemezo). The authors' code (NUS-HPC-AI-Lab/SparseMeZO) could not be fetched
here, and the paper's theory section could not be read: the d^ + 2 factor is the catalogue's reconstruction.

Departures: the threshold h is absolute (0.5), where the paper takes a per-layer percentile of |theta|; on this
family's two bands (|theta| <= 0.2 and >= 1) every h in between selects the same mask. The step size is
eta = 1 / (l^ (r^ + 2)) with r^ and l^ the effective rank and norm of the Hessian restricted to the initial mask,
MeZO's theorem step on the masked subproblem (the paper tunes its learning rate). The catalogue's mutant M13.d
(mask recomputed after the +eps z perturbation) is not registered: no weight lies within eps |z| of h here, so
it would be the correct algorithm on every run.

Regime (chosen before running): as MeZO's (T = 200, 64 seeds, 128 for the bound) with k = 8 for the fixed claims.
What these claims can and cannot tell: with the mask on the k small weights, Sparse MeZO on the full-rank Hessian
is, number for number, MeZO on the rank-k Hessian (the same z coordinates drive the same k weights; the others sit
at their optimum and never move; tests/test_mezo.py), so its verdicts repeat MeZO's at r = k. That reduction is
the catalogue's C13.6 made exact, not an independent test of the paper's empirical speed-ups; the claims check
that the mask selects the right weights, that perturbation and update share it, and that the step is the mask's.

Mutants (expected effects): ``full-rank-step`` (eta from the whole Hessian's effective rank, d + 2 here, not the
mask's: speed ~ 1/d) breaks all three claims; ``inverted-mask`` (|theta| > h: the large, already optimal weights
are perturbed, the small ones never move) and ``unmasked-update`` (the mask in the perturbation but not in the
update: the large weights take the noise of every step) break ``descent-bound``. Null ``frozen`` fails all.

Measured (full budget, base seed 0; the quick run gives the same verdicts): ``ambient-free`` exponent -0.001
[-0.035, 0.032] on d in [512, 2048], ``masked-rank`` -1.046 [-1.076, -1.017] on k in [32, 128], ``descent-bound``
worst mean/bound 1.123 [1.105, 1.141]: PASS, ``frozen`` FAILs all. ``full-rank-step`` FAILs with exponent -0.988
in d and -0.215 in k; on ``descent-bound`` ``inverted-mask`` gives worst mean/bound -2.90 and ``unmasked-update``
-2.61 (the loss grows).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch

from plugins.finetune_quadratic import FinetuneInstance
from plugins.mezo import RANKS, SIZES, descent_claim, frozen, metrics, rate_claim, start, step_size, zo_step
from theory import Algorithm, Gen, Mutant, Paper, hookimpl

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]

PAPER = Paper(title="Sparse MeZO: Less Parameters for Better Performance in Zeroth-Order LLM Fine-Tuning",
              authors="Liu, Zhu, Gong, Cheng, Hsieh, You", year=2024, arxiv="2402.15751")


def mask_of(theta: torch.Tensor, hyper: Hyper, inverted: bool = False) -> torch.Tensor:
    """1 on the small weights |theta| <= h (on the large ones with ``inverted``)."""
    small = theta.abs() <= hyper["threshold"]
    return (~small if inverted else small).to(theta.dtype)


def init(instance: FinetuneInstance, hyper: Hyper, gen: Gen, *, full: bool = False) -> State:
    return start(instance, step_size(instance, hyper, None if full else mask_of(instance.start, hyper)))


def step(state: State, instance: FinetuneInstance, t: int, hyper: Hyper, gen: Gen, *, inverted: bool = False,
         masked_update: bool = True) -> State:
    return zo_step(state, instance, t, hyper, gen, mask_of(state["theta"], hyper, inverted),
                   masked_update=masked_update)


SOURCE = "catalogue C13.6: variance factor d^ + 2 for d^ = ||m||_0 (MeZO's Theorem 1 on the masked subproblem)"
FULL = {"d": 256, "r": 256}
SPARSE_MEZO = Algorithm(
    name="sparse-mezo", paper=PAPER, family="finetune-quadratic", init=init, step=step, metrics=metrics,
    hyper={"lr": 1.0, "eps": 1e-3, "threshold": 0.5},
    claims=(rate_claim("ambient-free", "d", SIZES, {"r": "d", "k": 8}, "C/(k + 2)", SOURCE),
            rate_claim("masked-rank", "k", RANKS, FULL, "C/(k + 2)", SOURCE),
            descent_claim("-t*log(1 - 1/(k + 2))", f"{SOURCE}, with MeZO's PL corollary and Jensen",
                          {**FULL, "k": 8})),
    mutants=(
        Mutant(name="full-rank-step", bug="step from the whole Hessian's effective rank, not the mask's",
               breaks=("ambient-free", "masked-rank", "descent-bound"), init=functools.partial(init, full=True)),
        Mutant(name="inverted-mask", bug="mask |theta| > h: the large weights perturbed instead of the small",
               breaks=("descent-bound",), step=functools.partial(step, inverted=True)),
        Mutant(name="unmasked-update", bug="the mask in the perturbation but not in the update",
               breaks=("descent-bound",), step=functools.partial(step, masked_update=False)),
    ),
    nulls=(Mutant(name="frozen", bug="the weights never move", step=frozen,
                  breaks=("ambient-free", "masked-rank", "descent-bound")),),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [SPARSE_MEZO]
