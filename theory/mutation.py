"""Mutation operators: mutants generated from an algorithm's numeric hyper-parameters, for ``theorycheck audit``.

Hand-written mutants are the bugs an author thought of; these are the ones nobody chose. Each numeric
hyper-parameter is doubled (``x2``), halved (``half``) and negated (``neg``); where the algorithm declares it,
the step counter is shifted by one (``t`` with ``+1`` or ``-1``: the step sees ``t + 1`` or ``t - 1``).
``Algorithm.mutable`` says which hyper-parameters and operators apply (see ``theory.spec``).

Not every generated mutant is a bug: twice the exploration of UCB1 is still a UCB with logarithmic regret, so
the share caught per claim is a measure of how sharply the claim pins the algorithm down, not a pass mark. A
mutant whose value does not change (0 doubled) is reported as equivalent and not run; one whose run gives
exactly the correct version's numbers (the hyper-parameter is never read on that path) is reported as a no-op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from theory.errors import ClaimError
from theory.spec import Algorithm, Mutant

SHIFT = "t"  # the key of Algorithm.mutable that shifts the step counter
VALUE_OPERATORS: dict[str, Callable[[float], float]] = {
    "x2": lambda v: v * 2, "half": lambda v: v / 2, "neg": lambda v: -v}
SHIFT_OPERATORS = {"+1": 1, "-1": -1}
DEFAULT_OPERATORS = tuple(VALUE_OPERATORS)


@dataclass(frozen=True, kw_only=True)
class Generated:
    """A generated mutant, or the reason it is not run (``equivalent``: the operator leaves the value as is)."""

    mutant: Mutant
    equivalent: str = ""


def numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def operators(algorithm: Algorithm) -> dict[str, tuple[str, ...]]:
    """Which operators apply to which hyper-parameter (or to ``t``), by declaration or by default."""
    if algorithm.mutable is None:
        return {name: DEFAULT_OPERATORS for name, value in algorithm.hyper.items() if numeric(value)}
    return {name: tuple(ops) for name, ops in algorithm.mutable.items()}


def validate(algorithm: Algorithm) -> None:
    """Refuse a ``mutable`` declaration that names an unknown or non-numeric hyper-parameter or operator."""
    for name, ops in operators(algorithm).items():
        known = SHIFT_OPERATORS if name == SHIFT else VALUE_OPERATORS
        if name != SHIFT and not numeric(algorithm.hyper.get(name)):
            raise ClaimError(f"mutable names {name!r}, which is not a numeric hyper-parameter "
                             f"(numeric ones: {sorted(n for n, v in algorithm.hyper.items() if numeric(v))})")
        unknown = [op for op in ops if op not in known]
        if unknown or isinstance(ops, str):
            raise ClaimError(f"mutable[{name!r}]: operators {list(ops)!r} must be a tuple of {', '.join(known)}")


def generate(algorithm: Algorithm) -> list[Generated]:
    """Every mutant the operators make of ``algorithm``, named ``hyper:operator`` (``t:+1`` for a shift)."""
    found = []
    for name, ops in operators(algorithm).items():
        for op in ops:
            label = f"{name}:{op}"
            if name == SHIFT:
                step = functools.partial(_shifted, step=algorithm.step, shift=SHIFT_OPERATORS[op])
                found.append(Generated(mutant=Mutant(name=label, bug=f"the step sees t{op}", breaks=(),
                                                     step=step)))
                continue
            value = algorithm.hyper[name]
            changed = VALUE_OPERATORS[op](value)
            if isinstance(value, int) and op == "half":
                changed = value // 2  # an integer hyper-parameter (a count) stays an integer
            bug = f"{name} = {changed:g} instead of {value:g}"
            equivalent = f"{op} leaves {name} = {value:g} unchanged" if changed == value else ""
            found.append(Generated(mutant=Mutant(name=label, bug=bug, breaks=(), hyper={name: changed}),
                                   equivalent=equivalent))
    return found


def _shifted(state: object, instance: object, t: int, hyper: Mapping[str, object], gen: object, *,
             step: Callable, shift: int) -> object:
    return step(state, instance, t + shift, hyper, gen)
