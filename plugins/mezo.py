"""MeZO: Malladi, Gao, Nichani, Damian, Lee, Chen, Arora, "Fine-Tuning Language Models with Just Forward Passes",
NeurIPS 2023 (arXiv 2305.17333). Catalogue: shared/claims/optimization.md, section 13. The family is
``finetune-quadratic`` (plugins/finetune_quadratic.py): L = (1/2) sum_{i<r} (theta_i - theta*_i)^2 in d weights.

The step (ZO-SGD with SPSA, n = 1, done in place as large_models/trainer.py's zo_step and zo_update do):

    z ~ N(0, I_d) from a fresh seed s;  theta += eps z;  l+ = L(theta);  theta -= 2 eps z;  l- = L(theta);
    theta += eps z (restore);  g = (l+ - l-) / (2 eps);  theta -= eta g z   (z regenerated from s).

How the seed trick is modelled: the reference code never stores z; it calls torch.manual_seed(s) before each of
the four uses and draws z again. Here s is the counter (stream "z", step t) of the run's counter-based generator:
each use calls gen.normal("z", t, d) again and gets the same numbers, and no z is kept in the state between
uses. What is modelled is the arithmetic (four in-place updates of theta, with their rounding), not the memory:
a vectorised batch holds a (seeds, d) tensor per use.

Claims (metrics: speed = log(L(theta_0) / L(theta_T)) / T per seed, at a fixed budget of T steps, and the
log-reduction itself). Theorem 1 ("dimension-free rate"): if the Hessian has local effective rank r
(tr(G) / ||G|| <= r), then E[L(theta_{t+1}) | theta_t] - L(theta_t) <= -eta ||grad L||^2 + (1/2) eta^2 l gamma
E||grad L(theta; B)||^2 with gamma = (d r + d - 2) / (n (d + 2)) + 1 = Theta(r / n), so eta_ZO = eta_SGD / gamma
matches SGD up to the slowdown gamma, which grows with r and not with d.
- ``dimension-free``: speed = Theta(1 / gamma) over d in [64, 2048] at r = 8 (theta, exponent 0 in d).
- ``rank-slowdown``: speed = Theta(1 / gamma) over r in [4, 128] at d = 256 (theta, exponent -1 in r).
- ``full-rank``: with r = d the slowdown is gamma = d, the classical ZO slowdown: speed = Theta(1/d) over d in
  [64, 2048] (catalogue C13.2's contrast: flat in d at fixed r, proportional to d at r = d).
- ``descent-bound``: Theorem 1 at eta = 1 / (l gamma) with the PL inequality (the paper's global-convergence
  corollary, catalogue C13.3) gives E L_t <= (1 - mu / (l gamma))^t L_0; by Jensen the mean log-reduction is then
  at least -t log(1 - 1 / (r + 2)) (mu = l = 1 here). Explicit lower bound at every t in [10, 320].

Gaussian z and the two gammas. The paper's gamma is for z uniform on the sphere of radius sqrt(d); the code draws
Gaussian z, and so does this plugin. The same proof with Gaussian moments, E[(z.g)^2 z^T H z] = ||g||^2 tr(H) +
2 g^T H g, gives gamma = (r + n + 1) / n = r + 2 (catalogue C13.1's Gaussian factor with r for d), the d -> infinity
limit of the paper's; the two differ by the factor d / (d + 2). The step and the explicit bound use r + 2; the rate
forms use the paper's gamma (the free constant absorbs the difference). On this family both inequalities of
the descent step are equalities (H = identity on its range): E L_{t+1} = (1 - 1/(r + 2)) L_t exactly, so the
rate claims are tight and the explicit bound holds with Jensen's slack alone (about 1/(r + 2) relative).

Verified: the step against princeton-nlp/MeZO large_models/trainer.py (zo_perturb_parameters with scaling 1, -2,
1; projected_grad = (loss1 - loss2) / (2 zo_eps); zo_update re-seeds and redraws z; eps default 1e-3). The
theorem's text could not be read (search found the paper's page, not its theory section): gamma and the PL
corollary are the catalogue's [R]; that the sphere's fourth moment d/(d+2) (||g||^2 tr H + 2 g^T H g) reproduces
the paper's gamma exactly for n = 1 was checked by hand, which supports the reconstruction.

Regime (chosen before running): r = 8 and the budget T = 200 make the log-reduction about 20 (L drops about
e^-20, well above float64's rounding of theta near theta*; at r = 2 it reaches the rounding floor, so the rank
grid starts at 4); seeds 64 (128 for the explicit bound, whose slack at t = 10 is about 0.2 on a mean of 1.2).
Quick: d in [32, 512], r in [4, 64], t in [10, 160], half the seeds.

Departures: the step size is the theorem's eta = 1 / (l (r + 2)), with r and l read from the instance's Hessian;
in practice MeZO's learning rate is tuned. n = 1 (the code's default; n-SPSA is not implemented). No weight decay
and no minibatch: the loss is deterministic, so E||grad L(theta; B)||^2 = ||grad L||^2.

Mutants (expected effects worked out before running):
- ``fresh-z``: the update draws a new z instead of regenerating the perturbation's (the seed not reset): a
  zero-mean random walk whose loss grows; breaks ``descent-bound``.
- ``eps-denominator``: g = (l+ - l-) / eps, the step doubled: E L_{t+1} = L_t, no progress; ``descent-bound``.
- ``no-denominator``: g = l+ - l-, the 1/(2 eps) missing: steps 2 eps = 0.002 times too small; ``descent-bound``.
- ``restore-sign``: the restore perturbs by -eps z instead of +eps z, leaving theta - 2 eps z each step: a random
  walk of size 2 eps sqrt(t) that stalls the loss near 2 eps^2 r (r + 2); ``descent-bound``.
- ``classical-step``: eta = 1 / (l (d + 2)), the dimension-dependent step of the classical ZO analysis: speed
  ~ 1/d; breaks ``dimension-free``, ``rank-slowdown`` (flat in r) and ``descent-bound``.
- ``unit-direction``: z / ||z|| (the unit sphere, radius 1 instead of sqrt(d)) with the same step: the step is
  d times too small, speed ~ 1/d (1/d^2 at r = d); breaks ``dimension-free``, ``full-rank`` and
  ``descent-bound`` (not ``rank-slowdown``: at fixed d it is still ~ 1/(r + 2)). ``classical-step`` is the
  correct step at r = d, so it is not declared on ``full-rank``.
- Null ``frozen`` (the weights never move: speed 0) must FAIL every claim.

Measured (full budget, base seed 0; the quick run gives the same verdicts): ``dimension-free`` exponent 0.001
[-0.032, 0.034] on d in [512, 2048]; ``rank-slowdown`` -1.046 [-1.076, -1.017] on r in [32, 128]; ``full-rank``
-0.993 [-1.023, -0.963]; ``descent-bound`` worst mean/bound 1.123 [1.105, 1.141]: all PASS, ``frozen`` FAILs all.
Mutants, all FAIL: ``classical-step`` exponent of d -0.986 (``dimension-free``) and of r -0.215 (``rank-slowdown``);
``unit-direction`` -0.990 in d, -1.989 at r = d; on ``descent-bound`` worst mean/bound ``fresh-z`` -0.60,
``eps-denominator`` 0.26 (the mean loss stays put, its log still falls a little: Jensen), ``no-denominator`` 0.004,
``restore-sign`` 0.13.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch

from plugins.finetune_quadratic import FinetuneInstance
from theory import Algorithm, Claim, Experiment, Gen, Mutant, Paper, hookimpl, measures

State = dict[str, torch.Tensor]  # theta (seeds, d), eta (seeds,), start_loss (seeds,), t (seeds,)
Hyper = Mapping[str, Any]

PAPER = Paper(title="Fine-Tuning Language Models with Just Forward Passes",
              authors="Malladi, Gao, Nichani, Damian, Lee, Chen, Arora", year=2023, arxiv="2305.17333")
GAMMA = "((d*r + d - 2)/(d + 2) + 1)"  # Theorem 1's slowdown factor with n = 1


def step_size(instance: FinetuneInstance, hyper: Hyper, mask: torch.Tensor | None = None,
              dimension: bool = False) -> torch.Tensor:
    """eta = lr / (l (r + 2)) per seed: Theorem 1's eta_SGD / gamma for Gaussian z, r the effective rank of the
    Hessian restricted to ``mask``; with ``dimension``, the classical step's d in place of r."""
    rank, top = instance.effective_rank(mask)
    if dimension:
        rank = torch.full_like(rank, instance.curvature.shape[1])
    return hyper["lr"] / (top * (rank + 2))


def start(instance: FinetuneInstance, eta: torch.Tensor) -> State:
    return {"theta": instance.start, "eta": eta, "start_loss": instance.loss(instance.start),
            "t": torch.zeros(instance.batch, dtype=torch.float64, device=instance.start.device)}


def init(instance: FinetuneInstance, hyper: Hyper, gen: Gen, *, dimension: bool = False) -> State:
    return start(instance, step_size(instance, hyper, dimension=dimension))


def zo_step(state: State, instance: FinetuneInstance, t: int, hyper: Hyper, gen: Gen,
            mask: torch.Tensor | None = None, *, fresh: bool = False, halve: bool = True, divide: bool = True,
            restore: float = 1.0, unit: bool = False, masked_update: bool = True) -> State:
    """One in-place ZO-SGD step along z (times ``mask``), with the mutants' changes behind the keywords."""
    theta, eps = state["theta"], hyper["eps"]

    def direction(stream: str = "z", masked: bool = True) -> torch.Tensor:
        """z(s), drawn again at every use from the same counter, as MeZO re-seeds torch before each use."""
        z = gen.normal(stream, t, theta.shape[1])
        z = z / z.norm(dim=1, keepdim=True) if unit else z
        return z if mask is None or not masked else z * mask

    theta = theta + eps * direction()
    plus = instance.loss(theta)
    theta = theta - 2 * eps * direction()
    minus = instance.loss(theta)
    theta = theta + restore * eps * direction()
    projected = (plus - minus) / ((2 if halve else 1) * eps) if divide else plus - minus
    theta = theta - (state["eta"] * projected)[:, None] * direction("z/fresh" if fresh else "z", masked_update)
    return {**state, "theta": theta, "t": state["t"] + 1}


def frozen(state: State, instance: FinetuneInstance, t: int, hyper: Hyper, gen: Gen) -> State:
    """The null learner: the steps are counted, the weights never move."""
    return {**state, "t": state["t"] + 1}


@measures("loss", "log_reduction", "speed")
def metrics(state: State, instance: FinetuneInstance) -> dict[str, torch.Tensor]:
    loss = instance.loss(state["theta"])
    reduction = torch.log(state["start_loss"] / loss)
    return {"loss": loss, "log_reduction": reduction, "speed": reduction / state["t"]}


METRICS = ("loss", "log_reduction", "speed")
HYPER = {"lr": 1.0, "eps": 1e-3}
BUDGET = 200
SIZES = ((64, 128, 256, 512, 1024, 2048), (32, 64, 128, 256, 512))  # full and quick grids
RANKS = ((4, 8, 16, 32, 64, 128), (4, 8, 16, 32, 64))
HORIZONS = (10, 20, 40, 80, 160, 320)


def rate_claim(name: str, over: str, grids: tuple[tuple[int, ...], tuple[int, ...]], params: Mapping[str, Any],
               form: str, source: str) -> Claim:
    """A rate claim on ``speed`` at the fixed budget, over one scaling variable (its full and quick grids)."""
    return Claim(name=name, metric="speed", kind="theta", form=form, source=source,
                 experiment=Experiment(family="finetune-quadratic", over=over, grid=grids[0], steps=BUDGET,
                                       params=params, seeds=64, quick_grid=grids[1], quick_seeds=32))


def descent_claim(form: str, source: str, params: Mapping[str, Any]) -> Claim:
    """The explicit lower bound on the mean log-reduction, over the horizon."""
    return Claim(name="descent-bound", metric="log_reduction", kind="lower", form=form, free=(), source=source,
                 experiment=Experiment(family="finetune-quadratic", over="t", grid=HORIZONS, params=params,
                                       seeds=128, quick_grid=HORIZONS[:5], quick_seeds=64))


SOURCE = "Theorem 1 (dimension-free rate): slowdown gamma = (dr + d - 2)/(n(d + 2)) + 1 = Theta(r/n), n = 1"
MEZO = Algorithm(
    name="mezo", paper=PAPER, family="finetune-quadratic", init=init, step=zo_step, metrics=metrics,
    hyper=HYPER,
    claims=(rate_claim("dimension-free", "d", SIZES, {"r": 8, "k": 8}, f"C/{GAMMA}", SOURCE),
            rate_claim("rank-slowdown", "r", RANKS, {"d": 256, "k": "r"}, f"C/{GAMMA}", SOURCE),
            rate_claim("full-rank", "d", SIZES, {"r": "d", "k": 8}, "C/d",
                       "Theorem 1 with r = d: gamma = d, the classical slowdown (catalogue C13.2)"),
            descent_claim("-t*log(1 - 1/(r + 2))", "Theorem 1 at eta = 1/(l gamma), Gaussian z (gamma = r + 2), "
                          "with the PL corollary (catalogue C13.3) and Jensen", {"d": 256, "r": 8, "k": 8})),
    mutants=(
        Mutant(name="fresh-z", bug="the update draws a fresh z instead of regenerating the perturbation's",
               breaks=("descent-bound",), step=functools.partial(zo_step, fresh=True)),
        Mutant(name="eps-denominator", bug="projected gradient divided by eps instead of 2 eps",
               breaks=("descent-bound",), step=functools.partial(zo_step, halve=False)),
        Mutant(name="no-denominator", bug="the 1/(2 eps) of the projected gradient missing",
               breaks=("descent-bound",), step=functools.partial(zo_step, divide=False)),
        Mutant(name="restore-sign", bug="the restoring perturbation is -eps z instead of +eps z",
               breaks=("descent-bound",), step=functools.partial(zo_step, restore=-1.0)),
        Mutant(name="classical-step", bug="step 1/(l (d + 2)) of the dimension-dependent analysis",
               breaks=("dimension-free", "rank-slowdown", "descent-bound"),
               init=functools.partial(init, dimension=True)),
        Mutant(name="unit-direction", bug="z normalised to the unit sphere (radius 1, not sqrt(d))",
               breaks=("dimension-free", "full-rank", "descent-bound"), step=functools.partial(zo_step, unit=True)),
    ),
    nulls=(Mutant(name="frozen", bug="the weights never move", step=frozen,
                  breaks=("dimension-free", "rank-slowdown", "full-rank", "descent-bound")),),
)


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [MEZO]
