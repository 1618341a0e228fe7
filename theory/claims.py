"""Claims and their bound forms.

A bound form is a string such as ``C*sqrt(K*T*log(T))`` written over named symbols. It comes from plugin
authors, possibly third parties, so it is parsed from Python's ``ast`` into sympy by hand against a whitelist:
nothing in it is ever evaluated as code (sympy's own ``parse_expr`` calls ``eval`` and is not used).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import sympy

from theory.errors import ClaimError

Kind = Literal["upper", "lower", "theta", "exact", "privacy"]
KINDS: tuple[str, ...] = ("upper", "lower", "theta", "exact", "privacy")

FUNCTIONS = {"sqrt": sympy.sqrt, "log": sympy.log, "exp": sympy.exp, "abs": sympy.Abs,
             "min": sympy.Min, "max": sympy.Max}
NAMED_CONSTANTS = {"pi": sympy.pi, "e": sympy.E}
MAX_FORM_LENGTH = 400
MAX_LITERAL = 1e12
MAX_CONSTANT_EXPONENT = 64
MAX_CONSTANT = 1e300  # the largest magnitude of a constant subexpression
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_OPERATORS = {ast.Add: sympy.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sympy.Mul,
              ast.Div: lambda a, b: a / b, ast.Pow: sympy.Pow}


def parse_form(text: str, symbols: set[str] | frozenset[str]) -> sympy.Expr:
    """Parse a bound form over the allowed ``symbols``; refuse anything else without evaluating it."""
    if not isinstance(text, str):
        raise ClaimError(f"a bound form must be a string, got {type(text).__name__}")
    if len(text) > MAX_FORM_LENGTH:
        raise ClaimError(f"bound form longer than {MAX_FORM_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ClaimError(f"bound form {text!r} is not an arithmetic expression: {exc.msg}") from None
    return _Builder(text, set(symbols)).build(tree.body)


class _Builder:
    def __init__(self, text: str, symbols: set[str]):
        self.text = text
        self.symbols = symbols

    def refuse(self, what: str) -> ClaimError:
        allowed = ", ".join(sorted(self.symbols)) or "none"
        return ClaimError(f"bound form {self.text!r}: {what} is not allowed "
                          f"(allowed: + - * / **, numbers, functions {', '.join(FUNCTIONS)}, "
                          f"constants pi and e, symbols {allowed})")

    def build(self, node: ast.AST) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            return self.literal(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = self.build(node.left), self.build(node.right)
            if isinstance(node.op, ast.Pow) and right.is_number:
                if abs(complex(right)) > MAX_CONSTANT_EXPONENT:
                    raise self.refuse(f"a constant exponent above {MAX_CONSTANT_EXPONENT}")
                # sympy computes a power of numbers at once: refuse one beyond MAX_CONSTANT before it does
                # (small exponents nest: ((9**60)**60)**60 would take minutes and gigabytes).
                if left.is_number and left != 0 and \
                        abs(complex(right)) * math.log10(abs(complex(left))) > math.log10(MAX_CONSTANT):
                    raise self.refuse(f"a constant beyond {MAX_CONSTANT:g}")
            return self.bounded(_OPERATORS[type(node.op)](left, right))
        if isinstance(node, ast.Call):
            return self.bounded(self.call(node))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):  # papers write T^(2/3)
            raise self.refuse("'^' (write a power with **, as in T**(2/3))")
        raise self.refuse(type(node).__name__.lower())

    def bounded(self, expr: sympy.Expr) -> sympy.Expr:
        """Refuse a constant subexpression that is undefined (1/0, log(0)) or beyond MAX_CONSTANT, so every
        constant a later operation sees is a modest finite number."""
        if expr.is_number:
            try:
                value = complex(expr)
            except (TypeError, ValueError, OverflowError):
                value = complex(math.inf)
            if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                raise self.refuse(f"the undefined constant {expr}")
            if not (math.isfinite(value.real) and math.isfinite(value.imag)) or abs(value) > MAX_CONSTANT:
                raise self.refuse(f"a constant beyond {MAX_CONSTANT:g}")
        return expr

    def literal(self, value: object) -> sympy.Expr:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.refuse(f"the literal {value!r}")
        if not math.isfinite(value) or abs(value) > MAX_LITERAL:
            raise self.refuse(f"the literal {value!r} (beyond {MAX_LITERAL:g})")
        return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)

    def name(self, identifier: str) -> sympy.Expr:
        if identifier.startswith("_") or not _NAME.match(identifier):
            raise self.refuse(f"the name {identifier!r}")
        if identifier in self.symbols:
            return sympy.Symbol(identifier, positive=True)
        if identifier in NAMED_CONSTANTS:
            return NAMED_CONSTANTS[identifier]
        raise self.refuse(f"the unknown symbol {identifier!r}")

    def call(self, node: ast.Call) -> sympy.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.refuse("a call to " + (node.func.id if isinstance(node.func, ast.Name)
                                              else type(node.func).__name__.lower()))
        if node.keywords or not node.args or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.refuse(f"keyword or starred arguments to {node.func.id}")
        return FUNCTIONS[node.func.id](*(self.build(a) for a in node.args))


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """Where a claim is tested: an instance family, its parameters, and the grid of the scaling variable.

    ``params`` values may be numbers or bound-form strings over ``over`` (e.g. a gap ``sqrt(K*log(T)/T)``
    that shrinks with the horizon); such an instance is regenerated at every grid point. ``steps`` is the
    number of steps at each grid point; ``None`` means the grid value itself is the horizon.
    """

    family: str
    over: str
    grid: tuple[float, ...]
    params: Mapping[str, float | int | str | tuple[float, ...]] = field(default_factory=dict)
    steps: int | None = None
    seeds: int = 64
    quick_seeds: int | None = None
    quick_grid: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for grid in (self.grid, self.quick_grid or self.grid):
            if len(grid) < 3 or any(b <= a for a, b in zip(grid, grid[1:])) or grid[0] <= 0:
                raise ClaimError(f"grid {grid} must hold at least 3 increasing positive values")

    def depends_on_over(self) -> bool:
        """True when some instance parameter is an expression in the scaling variable."""
        return any(isinstance(v, str) and _mentions(v, self.over) for v in self.params.values())

    def scalars(self) -> dict[str, float]:
        """The parameters given as plain numbers."""
        return {k: float(v) for k, v in self.params.items() if isinstance(v, (int, float))}

    def symbols(self) -> frozenset[str]:
        """Names a bound form may use: the scaling variable and the scalar parameters."""
        return frozenset(k for k, v in self.params.items() if not isinstance(v, tuple)) | {self.over}

    def at(self, value: float) -> dict[str, object]:
        """Instance parameters at one grid point (string parameters evaluated there, tuples passed on)."""
        numeric = {**self.scalars(), self.over: float(value)}
        out: dict[str, object] = {**self.params, **numeric}
        for key, text in self.params.items():
            if isinstance(text, str):
                out[key] = evaluate(parse_form(text, frozenset(numeric)), numeric)
        return out

    def sized(self, quick: bool, seeds: int | None = None) -> tuple[tuple[float, ...], int]:
        """The grid and seed count for a normal or a quick run; ``seeds`` overrides the count."""
        if quick:
            return (self.quick_grid or self.grid), seeds or self.quick_seeds or self.seeds
        return self.grid, seeds or self.seeds


def _mentions(text: str, name: str) -> bool:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ClaimError(f"bound form {text!r} is not an arithmetic expression: {exc.msg}") from None
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


def evaluate(expr: sympy.Expr, values: Mapping[str, float]) -> float:
    """Evaluate a parsed form at numeric symbol values."""
    subs = {sympy.Symbol(k, positive=True): v for k, v in values.items()}
    result = complex(expr.subs(subs).evalf())
    if result.imag or not math.isfinite(result.real):
        raise ClaimError(f"form {expr} is not a finite real number at {dict(values)}")
    return result.real


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One claim of a paper: ``metric`` is bounded by ``form`` as ``over`` grows.

    ``free`` names multiplicative constants left unknown (an O-claim, checked as a rate); with no free
    symbol the form is an explicit bound and is checked point by point. ``constants`` fixes named values.
    ``tol`` is the allowance on a fitted exponent (relative, for linear rates); ``rtol`` overrides the dtype's
    tolerance for ``exact`` claims; ``tail`` is the share of the grid, from the top, that rate fits use.
    ``expected_failure`` declares, with its reason, a claim known not to hold on this instance.

    A ``privacy`` claim says the mechanism is (form, ``delta``)-differentially private: ``form`` is the claimed
    epsilon (explicit, e.g. ``eps``), ``metric`` the mechanism's output statistic on one input and
    ``neighbour`` the same statistic on a neighbouring input; ``delta`` is a number or a form like ``form``.
    It is audited, never proven (docs/privacy.md).
    """

    name: str
    metric: str
    form: str
    kind: Kind
    experiment: Experiment
    source: str
    free: tuple[str, ...] = ("C",)
    constants: Mapping[str, float] = field(default_factory=dict)
    tol: float = 0.10
    rtol: float | None = None
    level: float = 0.99
    tail: float = 0.5
    expected_failure: str | None = None
    note: str = ""
    neighbour: str = ""
    delta: float | str = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ClaimError(f"claim {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not 0.5 < self.level < 1:
            raise ClaimError(f"claim {self.name!r}: level {self.level} must lie in (0.5, 1)")
        if self.kind == "theta" and self.explicit:
            raise ClaimError(f"claim {self.name!r}: a theta claim is a rate and needs a free constant in its form")
        if self.kind == "privacy" and (not self.neighbour or not self.explicit):
            raise ClaimError(f"claim {self.name!r}: a privacy claim needs the neighbour's metric and an explicit "
                             f"epsilon (no free constant) in its form")
        if not isinstance(self.delta, str) and not 0 <= self.delta < 1:
            raise ClaimError(f"claim {self.name!r}: delta {self.delta} must lie in [0, 1)")

    def expression(self, hyper_names: frozenset[str] | set[str] = frozenset()) -> sympy.Expr:
        """The parsed form; every symbol must be the scaling variable, a parameter, a hyper-parameter,
        a named constant or a declared free constant."""
        names = self.experiment.symbols() | set(hyper_names) | set(self.constants) | set(self.free)
        expr = parse_form(self.form, names)
        for name in self.free:
            symbol = sympy.Symbol(name, positive=True)
            if symbol in expr.free_symbols and symbol in (expr / symbol).free_symbols:
                raise ClaimError(f"claim {self.name!r}: free constant {name} must be a plain factor of {self.form!r}")
        return expr

    @property
    def explicit(self) -> bool:
        """True when no free constant appears in the form: the bound is checked value by value."""
        return not any(_mentions(self.form, name) for name in self.free)
