"""One linear self-attention layer built as Proposition 1 says is one step of gradient descent: von Oswald,
Niklasson, Randazzo, Sacramento, Mordvintsev, Zhmoginov, Vladymyrov, "Transformers Learn In-Context by Gradient
Descent", ICML 2023 (arXiv 2212.07677). Catalogue: shared/claims/optimization.md, section 14.

Tasks (``icl-linear-regression``, below): per task w ~ N(0, I_d), N context pairs (x_i, w^T x_i) and a query
x_q, x ~ U(-1, 1)^d, noise-free; ``tasks`` tasks per seed (batch = seeds x tasks). Tokens e_i = (x_i, y_i),
e_q = (x_q, -W_0 x_q). One LSA layer (keys and values from the N context tokens only):

    e_j <- e_j + P sum_i (W_V e_i) (W_K e_i)^T (W_Q e_j),      prediction  y_hat = -(y-slot of e_q).

Proposition 1 (Section 2): with W_K = W_Q = [[I_d, 0], [0, 0]], W_V = [[0, 0], [W_0, -1]] and P = (eta / N) I,
every token moves as one GD step from W_0 on L(W) = (1 / 2N) sum_i ||W x_i - y_i||^2 moves it: y_j <- y_j -
dW x_j, dW = -(eta / N) sum_i (W_0 x_i - y_i) x_i^T, so y_hat = (W_0 + dW) x_q; K identical layers are K GD
steps (the catalogue's C14.1). Claims of ``lsa-gd-construction`` (exact, float64; metric ``gd_gap`` =
||y_hat_LSA - y_hat_GD|| / ||y_hat_GD|| over a seed's 64 tasks, against 0 with atol 1e-10, the float64
tolerance of docs/statistics.md, since the form 0 has no relative error; eta = 0.3, 8 seeds):
- ``one-step``: W_0 = 0, one layer, over the context size N = 5 .. 160 (d = 10);
- ``any-start``: W_0 ~ N(0, I) per seed, one layer, over the dimension d = 2 .. 32 (N = 20);
- ``stacked``: W_0 = 0, K = 1 .. 8 layers against K GD steps (d = 10, N = 20);
- ``any-factorisation`` (Section 2, "Uniqueness", after Proposition 1: "the construction is not unique; in
  particular, it is only required that the products P W_V as well as W_K W_Q match the construction"): the keys
  and queries factorised without symmetry, W_K = A and W_Q = A^{-T} diag(I_d, 0), A = I + G / sqrt(d + 1) with G
  ~ N(0, I) drawn per seed (the family's ``factor`` = 1), so W_K^T W_Q = diag(I_d, 0) still; W_0 ~ N(0, I), one
  layer, over d = 2 .. 32 (N = 20), like ``any-start``. Written before it was run, for ``key-query-transposed``:
  with these factors the transposed pair reads W_K W_Q^T = A diag(I_d, 0) A^{-1}, which is not the product.
The first three PASS, largest error 4.6e-16; ``any-factorisation`` PASSes, 2.3e-14 (seed 3, d = 16, where A
is worst conditioned), and ``key-query-transposed`` FAILs it, mean errors 0.42 to 18 over d, worst 134 (full
and quick: the claims have no quick grid). Both nulls FAIL it.

The trained layer of Section 3 is plugins/icl_trained_lsa.py, on this family.

Mutants (construction): ``missing-1-over-N`` (P = eta I, catalogue M14.b: predictions N times too large);
``value-sign`` (W_V = [[0, 0], [W_0, +1]], M14.c: relative error 2); ``query-in-keys`` (M14.a: the query
token in the key/value sum: equal at layer 1 when W_0 = 0, wrong from layer 2 and at W_0 != 0);
``value-transposed`` (W_V^T, the (in, out) layout slip the reference's ``.T`` guards against: W_V is
symmetric when W_0 = 0, so only ``any-start`` can catch it); ``softmax-attention`` (M14.d: softmax over the
context, which Proposition 1 does not cover); ``key-query-transposed`` (W_K^T and W_Q^T): with the
construction's W_K = W_Q = diag(I, 0) it is an equivalent mutant (the matrices are symmetric, so the run is the
correct one to the last bit: tests/test_icl_gradient_descent.py), declared missed on ``one-step`` and
``any-start``; it must break ``any-factorisation``, where the factors are not symmetric. Nulls:
``skip-layer`` (frozen: no attention update, y_hat = W_0 x_q) and ``random-layer`` (weights N(0, 1 / (d + 1)),
P scaled by eta / N as built; a null of the one-layer claims only: eight stacked random cubic layers overflow
float64, an ERROR rather than a FAIL).

Verified against the reference code (google-research/self-organising-systems, transformers_learn_icl_by_gd,
read with ``fetch``): ``create_weights`` (the construction, P = eta / N on the y-slot, W_V lower row (W_0, -1)),
``Transformer`` (keys and values exclude the query unless ``include_query``; residual update), the readout
-(last token's y-slot), ``compute_loss`` (0.5 mean squared error), ``analyse`` (the three measures), the
config and notebook (d = N = 10, Adam 1e-3 with b1 0.9, b2 0.98, init scale 0.002) and ``create_reg_data``.
The paper's Section 2 was later read in the code index (a stored PDF transcription, found with
``find_string``): Proposition 1's statement, the LSA layer, the loss (2), the step (3), the readout -(y-slot of
e_q) with e_q = (x_q, -W_0 x_q), the exclusion of the query from keys and values, and the "Uniqueness" remark
that ``any-factorisation`` checks (the construction itself is in its Appendix A.1, not read; x ~ U(-1, 1) is
from the catalogue); the catalogue's transcription of the construction agrees with the code; eta = 0.3 is one
of the catalogue's values. Departures: x ~ U(-1, 1),
where the reference's config draws U(-1/2, 1/2) (input_range 1), which rescales eta and nothing the exact
claims measure; scalar targets only; P = (eta / N) I on the whole token as the catalogue writes it, where
the code scales the y-slot alone (the value's x-part is 0, so the two agree). The family's ``factor`` describes
the weights, not the tasks: it is a family parameter so that one claim can ask for it, and its A is drawn with
the instance (stream ``instance/key``), one per seed; at 0 (the default) no A is drawn and W_K = W_Q exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from theory import Algorithm, Claim, Experiment, Family, Gen, Instance, Mutant, Paper, Param, hookimpl, measures

State = dict[str, torch.Tensor]
Hyper = Mapping[str, Any]
Weights = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # W_Q, W_K, W_V, P: (seeds, D, D)

PAPER = Paper(title="Transformers Learn In-Context by Gradient Descent", year=2023, arxiv="2212.07677",
              authors="von Oswald, Niklasson, Randazzo, Sacramento, Mordvintsev, Zhmoginov, Vladymyrov")
NAMES = ("wq", "wk", "wv", "p")


def _draw(gen: Gen, stream: str, t: int, count: int, n: int, d: int) -> tuple[torch.Tensor, ...]:
    """``count`` tasks per seed: context x (S, count, n, d), y (S, count, n), query x_q (S, count, d), y_q."""
    x = 2 * gen.uniform(f"{stream}/x", t, count, n + 1, d) - 1
    w = gen.normal(f"{stream}/w", t, count, d)
    y = (x * w[:, :, None]).sum(-1)
    return x[:, :, :n], y[:, :, :n], x[:, :, n], y[:, :, n]


@dataclass(frozen=True, kw_only=True)
class RegressionTasks(Instance):
    x: torch.Tensor  # (S, T, N, d) held-out contexts
    y: torch.Tensor  # (S, T, N)
    xq: torch.Tensor  # (S, T, d) queries
    yq: torch.Tensor  # (S, T)
    w0: torch.Tensor  # (S, d): the GD start W_0, one per seed (a layer's weights are shared by its tasks)
    eta_star: torch.Tensor  # (S,): the best eta for one GD step from 0, on a calibration draw
    layers: int  # K
    key: torch.Tensor | None = None  # (S, D, D): the factor A of W_K = A, W_Q = A^-T diag(I, 0); None: W_K = W_Q

    def sample(self, gen: Gen, t: int, count: int) -> tuple[torch.Tensor, ...]:
        """Fresh training tasks for step ``t``."""
        return _draw(gen, "train", t, count, self.x.shape[2], self.x.shape[3])


def _generate(params: Mapping[str, object], gen: Gen) -> RegressionTasks:
    d, n, count = int(params["d"]), int(params["N"]), int(params["tasks"])
    x, y, xq, yq = _draw(gen, "instance/eval", 0, count, n, d)
    cx, cy, cxq, cyq = _draw(gen, "instance/calibration", 0, count, n, d)
    g = ((cy[..., None] * cx).sum(2) * cxq).sum(-1) / n
    factor = float(params.get("factor", 0.0))
    key = torch.eye(d + 1) + factor * gen.normal("instance/key", 0, d + 1, d + 1) / math.sqrt(d + 1) if factor else None
    return RegressionTasks(params=dict(params), batch=gen.batch, x=x, y=y, xq=xq, yq=yq,
                           w0=float(params["w0"]) * gen.normal("instance/w0", 0, d),
                           eta_star=(g * cyq).sum(1) / (g * g).sum(1), layers=int(params["K"]),
                           key=key)


FAMILY = Family(
    name="icl-linear-regression", generate=_generate,
    description="in-context linear regression: w ~ N(0, I), N pairs (x, w^T x) and a query, x ~ U(-1, 1)^d",
    defaults={"d": 10, "N": 10, "tasks": 256, "w0": 0.0, "K": 1, "factor": 0.0},
    parameters={"d": Param(meaning="input dimension", low=1, high=64, integer=True),
                "N": Param(meaning="context pairs per task", low=1, high=1024, integer=True),
                "tasks": Param(meaning="held-out tasks per seed (and calibration tasks for eta*)", low=8,
                               high=8192, integer=True),
                "w0": Param(meaning="scale of the GD start W_0 ~ w0 N(0, I) (0: the paper's W_0 = 0)", low=0,
                            high=10),
                "K": Param(meaning="LSA layers, compared with as many GD steps", low=1, high=64, integer=True),
                "factor": Param(meaning="non-symmetric key-query factors W_K = A, W_Q = A^-T diag(I, 0), A = I + "
                                        "factor G / sqrt(d + 1) (0: the paper's W_K = W_Q = diag(I, 0))", low=0,
                                high=1)})


def tokens(x: torch.Tensor, y: torch.Tensor, xq: torch.Tensor, w0: torch.Tensor) -> torch.Tensor:
    """(S, T, N + 1, d + 1): the context tokens (x_i, y_i), then the query (x_q, -W_0 x_q)."""
    query = torch.cat([xq, -(xq * w0[:, None]).sum(-1, keepdim=True)], -1)
    return torch.cat([torch.cat([x, y[..., None]], -1), query[:, :, None]], -2)


def attend(e: torch.Tensor, weights: Weights, with_query: bool = False, softmax: bool = False,
           query_only: bool = False) -> torch.Tensor:
    """One residual LSA layer on every token (or the query's row alone, all that a readout needs); keys and
    values from the context (and the query if asked)."""
    wq, wk, wv, p = weights
    keys, rows = e if with_query else e[:, :, :-1], e[:, :, -1:] if query_only else e
    scores = _apply(rows, wq) @ _apply(keys, wk).mT
    if softmax:
        scores = torch.softmax(scores / math.sqrt(e.shape[-1]), -1)
    return rows + _apply(scores @ _apply(keys, wv), p)


def _apply(e: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """w e for every token of every task: one (tokens x D) @ (D x D) product per seed, not one per task."""
    return (e.flatten(1, -2) @ w.mT).view(e.shape)


def construction(d: int, eta: float, n: int, w0: torch.Tensor, *, key: torch.Tensor | None = None,
                 per_n: bool = True, sign: float = -1.0, transposed: str = "") -> Weights:
    """Proposition 1's weights, with W_K = key and W_Q = key^-T diag(I, 0) when a key factor is given (the same
    product W_K^T W_Q), and the mutants' changes behind the keywords."""
    batch, size = w0.shape[0], d + 1
    read_x = torch.zeros(batch, size, size)
    read_x[:, :d, :d] = torch.eye(d)
    value = torch.zeros(batch, size, size)
    value[:, d, :d], value[:, d, d] = w0, sign
    p = (eta / n if per_n else eta) * torch.eye(size).expand(batch, size, size)
    wq, wk = (read_x, read_x) if key is None else (torch.linalg.solve(key.mT, read_x), key)
    if transposed == "key-query":
        wq, wk = wq.mT, wk.mT
    return wq, wk, value.mT if transposed == "value" else value, p


def gd(instance: RegressionTasks, eta: float, steps: int) -> torch.Tensor:
    """y_hat after ``steps`` GD steps on (1 / 2N) sum_i (W x_i - y_i)^2 from W_0."""
    x, y, n = instance.x, instance.y, instance.x.shape[2]
    w = instance.w0[:, None].expand(-1, x.shape[1], -1)
    for _ in range(steps):
        w = w - eta / n * ((x @ w[..., None])[..., 0] - y)[..., None].mul(x).sum(2)
    return (w * instance.xq).sum(-1)


def built_init(instance: RegressionTasks, hyper: Hyper, gen: Gen) -> State:
    return {}


def built_step(state: State, instance: RegressionTasks, t: int, hyper: Hyper, gen: Gen, *, with_query: bool = False,
               softmax: bool = False, layer: str = "construction", **wrong: Any) -> State:
    """K layers of the construction (or a null's layer) on the held-out tasks, beside K GD steps."""
    x, eta, k = instance.x, float(hyper["eta"]), instance.layers
    d, n = x.shape[3], x.shape[2]
    if layer == "random":
        wq, wk, wv, p = (gen.normal(f"null/{name}", 0, d + 1, d + 1) / math.sqrt(d + 1) for name in NAMES)
        weights = (wq, wk, wv, eta / n * p)
    else:
        weights = construction(d, eta, n, instance.w0, key=instance.key, **wrong)
    e = tokens(x, instance.y, instance.xq, instance.w0)
    for _ in range(0 if layer == "skip" else k):
        e = attend(e, weights, with_query, softmax)
    return {"lsa": -e[:, :, -1, -1], "gd": gd(instance, eta, k)}


@measures("gd_gap")
def built_metrics(state: State, instance: RegressionTasks) -> dict[str, torch.Tensor]:
    return {"gd_gap": (state["lsa"] - state["gd"]).norm(dim=1) / state["gd"].norm(dim=1)}


def _exact(name: str, over: str, grid: tuple[int, ...], source: str, **params: float) -> Claim:
    return Claim(name=name, metric="gd_gap", kind="exact", form="0", free=(), atol=1e-10, source=source,
                 experiment=Experiment(family="icl-linear-regression", over=over, grid=grid, seeds=8,
                                       params={"tasks": 64, **params}))


BUILT = Algorithm(
    name="lsa-gd-construction", paper=PAPER, family="icl-linear-regression", init=built_init, step=built_step,
    metrics=built_metrics, hyper={"eta": 0.3}, schedule="once",
    mutable={"eta": ("x2", "half", "neg")},
    claims=(
        _exact("one-step", "N", (5, 10, 20, 40, 80, 160), "Proposition 1 (W_0 = 0)", d=10),
        _exact("any-start", "d", (2, 4, 8, 16, 32), "Proposition 1 (any W_0)", N=20, w0=1.0),
        _exact("stacked", "K", (1, 2, 3, 4, 6, 8), "Proposition 1, K identical layers (catalogue C14.1)", d=10,
               N=20),
        _exact("any-factorisation", "d", (2, 4, 8, 16, 32), "Section 2, after Proposition 1 ('Uniqueness'): only "
               "the products P W_V and W_K^T W_Q need match the construction", N=20, w0=1.0, factor=1.0),
    ),
    mutants=(
        Mutant(name="missing-1-over-N", bug="P = eta I: the 1/N of the loss forgotten",
               breaks=("one-step", "any-start", "stacked"), step=functools.partial(built_step, per_n=False)),
        Mutant(name="value-sign", bug="W_V = [[0, 0], [W_0, +1]]: the value's sign flipped",
               breaks=("one-step", "any-start", "stacked"), step=functools.partial(built_step, sign=1.0)),
        Mutant(name="query-in-keys", bug="the query token left in the key/value sum (no mask)",
               breaks=("any-start", "stacked"), step=functools.partial(built_step, with_query=True)),
        Mutant(name="value-transposed", bug="W_V transposed: an (in, out) layout read as (out, in)",
               breaks=("any-start",), step=functools.partial(built_step, transposed="value")),
        Mutant(name="softmax-attention", bug="softmax over the context instead of linear attention (M14.d)",
               breaks=("one-step", "any-start", "stacked"), step=functools.partial(built_step, softmax=True)),
        Mutant(name="key-query-transposed", bug="W_K and W_Q transposed",
               breaks=("one-step", "any-start", "any-factorisation"),
               step=functools.partial(built_step, transposed="key-query"),
               missed={claim: "equivalent: W_K^T W_Q = diag(I_d, 0) is symmetric, so the scores do not change"
                       for claim in ("one-step", "any-start")}),
    ),
    nulls=(Mutant(name="skip-layer", bug="frozen: no attention update, y_hat = W_0 x_q",
                  breaks=("one-step", "any-start", "stacked", "any-factorisation"),
                  step=functools.partial(built_step, layer="skip")),
           Mutant(name="random-layer", bug="random weights N(0, 1/(d+1)), P times eta/N as built",
                  breaks=("one-step", "any-start", "any-factorisation"),
                  step=functools.partial(built_step, layer="random"))),
)

@hookimpl
def theorycheck_families() -> list[Family]:
    return [FAMILY]


@hookimpl
def theorycheck_algorithms() -> list[Algorithm]:
    return [BUILT]
