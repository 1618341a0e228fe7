"""Worst-case certificates for first-order methods by performance estimation (PEP), through PEPit.

Sampling says how a method behaves on the instances drawn; a PEP says how it behaves on the worst function
of a whole class. For N steps of a method whose iterates are fixed linear combinations of gradients and
iterates, the worst value of a metric over every function of the class (L-smooth convex, L-smooth and
mu-strongly convex, or G-Lipschitz convex) with ||x_0 - x*|| <= R is the value of a semidefinite program
(Drori and Teboulle 2014; Taylor, Hendrickx and Glineur 2017). PEPit writes that program from the method's own steps
(``Algorithm.pep``); we never write it by hand. Its dual value is an upper bound on the worst case (a proof,
up to the solver's accuracy), its primal value a lower bound (a worst-case function, up to the same).

Judgement, per horizon N, against the claim's explicit bound B(N), with relative solver tolerance RTOL:
- certified at N when dual <= B(N) (1 + RTOL): the worst case over the class is at most B(N) (1 + RTOL);
- violated at N when primal > B(N) (1 + RTOL): some function of the class exceeds the bound;
- otherwise undecided (the solver's gap straddles the bound).
CERTIFIED needs every horizon checked certified; FAIL needs one violated. The class and its constants come
from the claim's experiment: ``R`` is required, with ``L`` (and ``mu``, default 0, for strong convexity) for a
smooth class or ``G`` alone for the G-Lipschitz convex class (non-smooth: subgradient methods). A PEP form may
state a metric as a list of expressions: the worst case of their minimum (the best iterate so far).

PEPit keeps its problem in class-level globals, so every problem is solved in its own worker process, which
is killed when it passes ``timeout_s``. PEPit is imported only there (``pip install 'theorycheck[pep]'``).
"""

from __future__ import annotations

import importlib.util
import math
import multiprocessing
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from theory.claims import Claim, evaluate
from theory.spec import Algorithm, PepBuild

RTOL = 1e-6  # Clarabel's default accuracy is about 1e-8 relative; this leaves it room and no more
HORIZONS = (1, 2, 4, 8, 16)  # a PEP of N steps has about (N + 2)^2 constraints: N = 32 takes seconds, 64 minutes
TIMEOUT_S = 300.0
SOLVER = "CLARABEL"


@dataclass(frozen=True)
class FunctionClass:
    """The class a worst case is taken over, with ||x_0 - x*|| <= R: L-smooth and mu-strongly convex (mu = 0:
    convex), or, with ``G`` set instead of ``L``, G-Lipschitz convex."""

    L: float | None
    mu: float
    R: float
    G: float | None = None

    def describe(self) -> str:
        if self.G is not None:
            return f"{self.G:g}-Lipschitz convex functions, ||x0 - x*|| <= {self.R:g}"
        kind = f"{self.mu:g}-strongly convex" if self.mu else "convex"
        return f"{self.L:g}-smooth {kind} functions, ||x0 - x*|| <= {self.R:g}"


@dataclass(frozen=True)
class WorstCase:
    """One horizon: the claimed bound, PEP's primal (lower) and dual (upper) worst case, or why there is none."""

    horizon: int
    bound: float
    primal: float | None = None
    dual: float | None = None
    seconds: float = 0.0
    error: str = ""

    def ratio(self, value: float | None) -> float:
        """``value`` (the primal or the dual) over the bound; NaN where the solver gave none."""
        return math.nan if value is None else value / self.bound

    @property
    def outcome(self) -> str:
        """certified, violated, undecided, or error."""
        if self.error or self.primal is None or self.dual is None:
            return "error"
        edge = self.bound * (1 + RTOL)
        return "certified" if self.dual <= edge else "violated" if self.primal > edge else "undecided"


@dataclass(frozen=True)
class Certificate:
    """What performance estimation concluded about one explicit claim: CERTIFIED, FAIL, INCONCLUSIVE, SKIPPED
    (with the reason) or ERROR, over ``function_class``, for the horizons in ``rows``."""

    algorithm: str
    claim: str
    status: str
    evidence: str
    function_class: str = ""
    rows: tuple[WorstCase, ...] = field(default_factory=tuple)
    rtol: float = RTOL


class NotCertifiable(Exception):
    """The claim or the algorithm is outside what a PEP can state; the message says why."""


def available() -> bool:
    return importlib.util.find_spec("PEPit") is not None


def function_class(claim: Claim) -> FunctionClass:
    params = claim.experiment.scalars()
    if "G" in params and "L" not in params:
        if "R" not in params:
            raise NotCertifiable("its experiment does not give R (||x0 - x*||)")
        return FunctionClass(L=None, mu=0.0, R=params["R"], G=params["G"])
    missing = [name for name in ("L", "R") if name not in params]
    if missing:
        raise NotCertifiable(f"its experiment does not give {' and '.join(missing)} (the class's smoothness "
                             f"and ||x0 - x*||, or G and R for a Lipschitz class)")
    return FunctionClass(L=params["L"], mu=params.get("mu", 0.0), R=params["R"])


def certify(algorithm: Algorithm, claim: Claim, horizons: Sequence[int] = HORIZONS,
            timeout_s: float = TIMEOUT_S) -> Certificate:
    """Certify or refute ``claim`` of ``algorithm`` over its function class at each of ``horizons``."""
    base: dict[str, Any] = dict(algorithm=algorithm.name, claim=claim.name)
    try:
        cls, build = _check_certifiable(algorithm, claim)
        bounds = [_bound(algorithm, claim, n) for n in horizons]
    except NotCertifiable as exc:
        return Certificate(**base, status="SKIPPED", evidence=str(exc))
    rows = tuple(_solve(build, cls, claim.metric, n, b, algorithm.hyper, timeout_s)
                 for n, b in zip(horizons, bounds))
    return _judge(base, cls, rows)


def _check_certifiable(algorithm: Algorithm, claim: Claim) -> tuple[FunctionClass, PepBuild]:
    if algorithm.pep is None:
        raise NotCertifiable(f"{algorithm.name} declares no PEP form (Algorithm.pep): its step is data-dependent "
                             f"or replaced, or was not written in PEP terms")
    if claim.kind != "upper" or not claim.explicit:
        raise NotCertifiable("only explicit upper bounds (no free constant) can be certified")
    if claim.experiment.steps is not None:
        raise NotCertifiable(f"its scaling variable {claim.experiment.over} is not the number of steps")
    if not available():
        raise NotCertifiable("PEPit is not installed (pip install 'theorycheck[pep]')")
    return function_class(claim), algorithm.pep


def _bound(algorithm: Algorithm, claim: Claim, horizon: int) -> float:
    hyper = {k: float(v) for k, v in algorithm.hyper.items()
             if isinstance(v, (int, float)) and not isinstance(v, bool)}
    constants = {name: float(value) for name, value in claim.constant_values().items()}
    values = {**hyper, **claim.experiment.scalars(), **constants, claim.experiment.over: float(horizon)}
    return evaluate(claim.expression(frozenset(hyper)), values)


def _judge(base: dict, cls: FunctionClass, rows: tuple[WorstCase, ...]) -> Certificate:
    outcomes = [row.outcome for row in rows]
    horizons = ", ".join(str(row.horizon) for row in rows)
    common: dict[str, Any] = dict(**base, function_class=cls.describe(), rows=rows)
    if "error" in outcomes:
        bad = rows[outcomes.index("error")]
        return Certificate(**common, status="ERROR", evidence=f"N={bad.horizon}: {bad.error}")
    if "violated" in outcomes:
        worst = max((r for r in rows if r.outcome == "violated"), key=lambda r: r.ratio(r.primal))
        at = ", ".join(str(r.horizon) for r in rows if r.outcome == "violated")
        return Certificate(**common, status="FAIL", evidence=(
            f"the worst case exceeds the bound at N={at}: at N={worst.horizon} some function of the class reaches "
            f"{worst.primal:.6g} > bound {worst.bound:.6g} (ratio {worst.ratio(worst.primal):.4g})"))
    if all(o == "certified" for o in outcomes):
        tight = max(rows, key=lambda r: r.ratio(r.dual))
        return Certificate(**common, status="CERTIFIED", evidence=(
            f"worst case <= bound x (1 + {RTOL:g}) at every N in {horizons}; tightest at N={tight.horizon}: "
            f"worst case {tight.dual:.6g} vs bound {tight.bound:.6g} (ratio {tight.ratio(tight.dual):.6g})"))
    unsure = ", ".join(str(r.horizon) for r in rows if r.outcome == "undecided")
    return Certificate(**common, status="INCONCLUSIVE",
                       evidence=f"the solver's primal-dual interval contains the bound at N={unsure}")


def _solve(build: PepBuild, cls: FunctionClass, metric: str, horizon: int, bound: float,
           hyper: Mapping[str, Any], timeout_s: float) -> WorstCase:
    """One PEP in a fresh process, killed after ``timeout_s``. Forked where the platform allows and this process
    has not imported PEPit (so the child's PEPit globals start empty, without re-importing torch and the
    plugin, which costs seconds); spawned otherwise."""
    forkable = "fork" in multiprocessing.get_all_start_methods() and "PEPit" not in sys.modules
    context: Any = multiprocessing.get_context("fork" if forkable else "spawn")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_worker, args=(send, build, cls, metric, horizon, dict(hyper)), daemon=True)
    started = time.monotonic()
    try:
        worker.start()
    except Exception as exc:  # an unpicklable build (a closure, a lambda) cannot reach the worker
        return WorstCase(horizon=horizon, bound=bound, error=f"cannot start the worker: {type(exc).__name__}: {exc}")
    send.close()
    try:
        if not receive.poll(timeout_s):
            return WorstCase(horizon=horizon, bound=bound, seconds=timeout_s,
                             error=f"the solver passed its time limit of {timeout_s:g} s")
        result = receive.recv()
    except EOFError:
        result = {"error": f"the worker died (exit code {worker.exitcode})"}
    finally:
        worker.kill()
        worker.join()
    seconds = time.monotonic() - started
    if "error" in result:
        return WorstCase(horizon=horizon, bound=bound, seconds=seconds, error=result["error"])
    return WorstCase(horizon=horizon, bound=bound, primal=result["primal"], dual=result["dual"], seconds=seconds)


def _worker(send: Any, build: PepBuild, cls: FunctionClass, metric: str, horizon: int, hyper: dict) -> None:
    try:
        send.send(worst_case(build, cls, metric, horizon, hyper))
    except Exception as exc:  # the plugin's build or the solver failed: a result to report
        send.send({"error": f"{type(exc).__name__}: {exc}"})


def worst_case(build: PepBuild, cls: FunctionClass, metric: str, horizon: int,
               hyper: Mapping[str, Any]) -> dict[str, float]:
    """Solve one PEP in this process: the primal and dual worst case of ``metric`` after ``horizon`` steps.

    Call it in a process of its own (``certify`` does): PEPit's problem lives in class-level globals.
    """
    from PEPit import PEP
    from PEPit.functions import ConvexLipschitzFunction, SmoothConvexFunction, SmoothStronglyConvexFunction

    problem = PEP()
    if cls.G is not None:
        f = problem.declare_function(ConvexLipschitzFunction, M=cls.G)
    elif cls.mu:
        f = problem.declare_function(SmoothStronglyConvexFunction, L=cls.L, mu=cls.mu)
    else:
        f = problem.declare_function(SmoothConvexFunction, L=cls.L)
    xs = f.stationary_point()
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= cls.R**2)
    measured = build(problem, f, x0, xs, horizon, {**hyper, "horizon": horizon, "class": cls})
    if metric not in measured:
        raise NotCertifiable(f"the PEP form states {sorted(measured)}, not the claim's metric {metric!r}")
    stated = measured[metric]
    for expression in stated if isinstance(stated, (list, tuple)) else [stated]:
        problem.set_performance_metric(expression)  # several: PEPit takes the worst case of their minimum
    dual = problem.solve(wrapper="cvxpy", solver=SOLVER, verbose=0)
    status = problem.wrapper.prob.status
    if dual is None or status != "optimal":
        raise RuntimeError(f"the solver ended with status {status!r}")
    primal = float(problem.objective.eval())
    if not (math.isfinite(primal) and math.isfinite(dual)):
        raise RuntimeError(f"the solver returned primal {primal}, dual {dual}")
    return {"primal": primal, "dual": float(dual)}
