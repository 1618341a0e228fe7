"""Instance parameters checked against what a family declares, when a plugin loads and when a user overrides.

A family lists the parameters it reads (``Family.parameters``: name -> Param with a meaning, inclusive bounds
and an integer flag). A typo such as ``gapp`` for ``gap`` would otherwise run the family's default silently,
and a value outside the family's assumptions (``K=0``, ``best=1.7``) would run or crash deep inside it; both
are refused here with the family's parameter list in the message. A parameter given as a form over the
scaling variable (``sqrt(K*log(T)/T)``) is checked at every grid point, normal and quick. A family that
declares nothing (a third party's, written before declarations existed) keeps working, with one warning.
"""

from __future__ import annotations

import ast
import difflib
import math
import warnings
from collections.abc import Mapping

from theory.claims import Claim, Experiment
from theory.errors import ClaimError
from theory.spec import Family, Param


class UndeclaredParameters(UserWarning):
    """A family declares no parameters, so its experiments' parameters cannot be checked."""


_warned: set[str] = set()


def validate_claim(claim: Claim, families: Mapping[str, Family]) -> None:
    """Check a claim's experiment against its family; what the claim's own forms name (a constant such as
    ``H_BAI`` carried in ``params`` for the bound) is the claim's, not the family's, and passes."""
    texts = [claim.form, *([claim.delta] if isinstance(claim.delta, str) else [])]
    names = {n.id for text in texts for n in ast.walk(_tree(text)) if isinstance(n, ast.Name)}
    validate_experiment(claim.experiment, families[claim.experiment.family], frozenset(names))


def _tree(text: str) -> ast.AST:
    """A form's syntax tree; a malformed form is empty here (the registry reports it with its own message)."""
    try:
        return ast.parse(text.strip(), mode="eval")
    except (SyntaxError, AttributeError):
        return ast.Constant(0)


def validate_experiment(experiment: Experiment, family: Family, constants: frozenset[str] = frozenset()) -> None:
    """Refuse unknown parameter names and out-of-range values of ``experiment`` on ``family`` (ClaimError);
    names in ``constants`` are allowed unchecked; a mode the family does not declare is refused."""
    if experiment.mode is not None and experiment.mode not in family.modes:
        raise ClaimError(f"family {family.name!r} has no mode {experiment.mode!r} "
                         f"(its modes: {', '.join(family.modes) or 'none'})")
    declared = family.parameters
    if not declared:
        if family.name not in _warned:
            _warned.add(family.name)
            warnings.warn(f"family {family.name!r} declares no parameters: the parameters of its experiments "
                          f"are not checked (declare Family(parameters=...), see docs/writing-a-family.md)",
                          UndeclaredParameters, stacklevel=2)
        return
    for key in experiment.params:
        if key not in declared and key not in constants:
            close = difflib.get_close_matches(key, list(declared), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ClaimError(f"family {family.name!r} has no parameter {key!r}{hint} "
                             f"(its parameters: {describe(declared)})")
    for key, value in experiment.params.items():
        if key in declared and not isinstance(value, str):
            check_value(family, key, value)
    varying = [key for key, value in experiment.params.items() if isinstance(value, str) and key in declared]
    if experiment.over in declared:
        varying.append(experiment.over)
    for x in sorted({*experiment.grid, *(experiment.quick_grid or ())}):
        point = experiment.at(x)
        for key in varying:
            check_value(family, key, point[key], where=f" at {experiment.over}={x:g}")


def check_value(family: Family, key: str, value: object, where: str = "") -> None:
    """One value (a number, or a tuple of numbers) against the family's declaration of ``key``."""
    param = family.parameters[key]
    values = value if isinstance(value, (tuple, list)) else (value,)
    for v in values:
        problem = _problem(param, v)
        if problem:
            raise ClaimError(f"family {family.name!r}: parameter {key}={value!r}{where} {problem} "
                             f"({key}: {describe_one(param)})")


def _problem(param: Param, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"is a {type(value).__name__}, not a number"
    if not math.isfinite(value):
        return "is not finite"
    if param.integer and value != int(value):
        return "is not a whole number"
    if param.low is not None and value < param.low:
        return f"is below {param.low:g}"
    if param.high is not None and value > param.high:
        return f"is above {param.high:g}"
    return ""


def describe_one(param: Param) -> str:
    """``number of arms, integer in [2, inf)``."""
    low = "-inf" if param.low is None else f"{param.low:g}"
    high = "inf" if param.high is None else f"{param.high:g}"
    kind = "integer" if param.integer else "number"
    return f"{param.meaning}, {kind} in [{low}, {high}]"


def describe(parameters: Mapping[str, Param]) -> str:
    return "; ".join(f"{name} ({describe_one(p)})" for name, p in parameters.items())


def instance_parameters(experiment: Experiment, family: Family | None) -> dict[str, object]:
    """The parameters a verdict was measured with: the family's defaults under the experiment's own."""
    defaults = dict(family.defaults) if family is not None else {}
    return {**defaults, **experiment.params}
