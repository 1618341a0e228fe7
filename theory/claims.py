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
from fractions import Fraction
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
        return exact_number(value)

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
            raise self.refuse(f"a call to {_callee(node.func)}")
        if node.keywords or not node.args or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.refuse(f"keyword or starred arguments to {node.func.id}")
        return FUNCTIONS[node.func.id](*(self.build(a) for a in node.args))


def exact_number(value: int | float) -> sympy.Rational:
    """A number as the exact rational its shortest decimal reads as (0.3 -> 3/10, not the nearest double).

    sympy's limits mis-read float exponents (``T**0.3`` "grows exponentially", ``T**0.1`` has exponent 0), and
    an author who writes 0.3 means 3/10. Every number a form meets (literal, constant, parameter, hyper-parameter)
    goes through here.
    """
    if isinstance(value, int):
        return sympy.Integer(value)
    exact = Fraction(repr(float(value)))
    return sympy.Rational(exact.numerator, exact.denominator)


def _callee(func: ast.AST) -> str:
    """What a refused call calls, by the call innermost in it: ``__import__('os').system(...)`` calls
    ``__import__`` first, and that is what the author should read about."""
    inner = [node for node in ast.walk(func) if isinstance(node, ast.Call)]
    if inner:
        return _callee(inner[-1].func)
    if isinstance(func, (ast.Name, ast.Attribute)):
        return ast.unparse(func)
    return type(func).__name__.lower()


def check_syntax(text: object, what: str) -> sympy.Expr:
    """Refuse, at load, a form that the parser would refuse whatever its symbols are (calls, attributes,
    strings): every string field of a claim or experiment goes through ``parse_form`` before anything uses it."""
    if not isinstance(text, str):
        raise ClaimError(f"{what} must be a string, got {type(text).__name__}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        tree = None  # parse_form says why
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} if tree else set()
    return parse_form(text, {n for n in names if _NAME.match(n)} - set(NAMED_CONSTANTS))


def check_symbol_name(name: object, what: str) -> None:
    """A name that becomes a sympy symbol must be one a form can write."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ClaimError(f"{what} {name!r} must be a name of letters, digits and _, starting with a letter")


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """Where a claim is tested: an instance family, its parameters, and the grid of the scaling variable.

    ``params`` values may be numbers or bound-form strings over ``over`` (e.g. a gap ``sqrt(K*log(T)/T)``
    that shrinks with the horizon); such an instance is regenerated at every grid point. ``steps`` is the
    number of steps at each grid point; ``None`` means the grid value itself is the horizon.
    ``mode`` names a measurement mode the family declares (``Family.modes``, e.g. ``"audit"``: build a privacy
    audit pair, not a utility instance): it changes what is measured, so it is part of the run's key, and the
    family's ``generate`` and the algorithm (``instance.mode``) see it; None is the family's ordinary instance.
    """

    family: str
    over: str
    grid: tuple[float, ...]
    params: Mapping[str, float | int | str | tuple[float, ...]] = field(default_factory=dict)
    steps: int | None = None
    seeds: int = 64
    quick_seeds: int | None = None
    quick_grid: tuple[float, ...] | None = None
    mode: str | None = None

    def __post_init__(self) -> None:
        if self.mode is not None:
            check_symbol_name(self.mode, "the mode")
        for grid in (self.grid, self.quick_grid or self.grid):
            if len(grid) < 3 or any(b <= a for a, b in zip(grid, grid[1:])) or grid[0] <= 0:
                raise ClaimError(f"grid {grid} must hold at least 3 increasing positive values")
        check_symbol_name(self.over, "the scaling variable")
        for value in self.params.values():
            if isinstance(value, str):  # parsed as at() and FormCurve will: over the scaling variable and numbers
                parse_form(value, frozenset(self.scalars()) | {self.over})

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
    ``tol`` overrides the allowance on a fitted exponent, which by default follows from the grid (half the
    exponent one log factor makes over the fitted end, docs/statistics.md); for linear rates it is relative
    (default 0.1); an override needs a reason in the plugin's docstring. ``rtol`` overrides the dtype's
    relative tolerance for ``exact`` claims, and ``atol``, when set, makes an ``exact`` claim compare absolutely
    (``|metric - form| <= atol``: the way to claim equality with 0); ``tail`` is the share of the grid, from its
    asymptotic end, that rate fits use; ``toward`` is that end: ``"infinity"`` (the default: the claim is about
    large x) or ``"zero"`` (an eps -> 0 claim, fitted on the smallest x).
    ``against`` names a counter the algorithm measures (``calls``: oracle calls so far) to judge the claim in
    instead of the grid variable: x at each grid point is the counter's mean over seeds, and the form is written
    over that name (``C*calls**(-1/4)``), since a method whose cost per step varies has one rate in steps and
    another in the work it does.
    ``expected_failure`` declares, with its reason (the measured estimate and CI), a claim known not to PASS on
    this instance: a FAIL or an INCONCLUSIVE verdict is then shown as XFAIL, a PASS as XPASS.
    ``quick_expected_failure`` declares the same for the ``--quick`` budget alone (a quick grid that stops short
    of the asymptote the full grid reaches), so the full run still holds the claim to a PASS.
    ``nulls`` names the null learners the claim is also run on (None: the algorithm's that break it and the
    family's that measure its metric; ``()``: none applies). ``vacuous`` says why null learners are not
    expected to FAIL it (a privacy claim, which releasing nothing meets; a necessary condition kept on
    purpose): required with ``nulls=()``, and it makes a VACUOUS outcome non-blocking.

    A ``privacy`` claim says the mechanism is (form, ``delta``)-differentially private: ``form`` is the claimed
    epsilon (explicit, e.g. ``eps``), ``metric`` the mechanism's output statistic on one input and
    ``neighbour`` the same statistic on a neighbouring input; ``delta`` is a number or a form like ``form``.
    ``pairs`` names further candidate neighbouring pairs, each (statistic on one input, statistic on its
    neighbour), audited beside the first. ``curve`` is what the claim asserts: ``"point"`` the one
    (epsilon, delta) point, ``"gaussian"`` the whole privacy curve of the Gaussian mechanism calibrated to it
    (Gaussian-DP with the mu of that calibration, as an accountant of Gaussian noise asserts). It is audited,
    never proven (docs/privacy.md).
    """

    name: str
    metric: str
    form: str
    kind: Kind
    experiment: Experiment
    source: str
    free: tuple[str, ...] = ("C",)
    constants: Mapping[str, float | str] = field(default_factory=dict)
    tol: float | None = None
    rtol: float | None = None
    atol: float | None = None
    level: float = 0.99
    tail: float = 0.5
    expected_failure: str | None = None
    quick_expected_failure: str | None = None
    note: str = ""
    neighbour: str = ""
    delta: float | str = 0.0
    nulls: tuple[str, ...] | None = None
    vacuous: str | None = None
    toward: Literal["infinity", "zero"] = "infinity"
    pairs: tuple[tuple[str, str], ...] = ()
    curve: Literal["point", "gaussian"] = "point"
    against: str | None = None

    def __post_init__(self) -> None:
        if self.toward not in ("infinity", "zero"):
            raise ClaimError(f"claim {self.name!r}: toward {self.toward!r} must be 'infinity' or 'zero'")
        if self.tol is not None and not 0 <= self.tol < math.inf:
            raise ClaimError(f"claim {self.name!r}: tol {self.tol} must be a finite number >= 0")
        if self.kind not in KINDS:
            raise ClaimError(f"claim {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not 0.5 < self.level < 1:
            raise ClaimError(f"claim {self.name!r}: level {self.level} must lie in (0.5, 1)")
        if self.kind == "theta" and self.explicit:
            raise ClaimError(f"claim {self.name!r}: a theta claim is a rate and needs a free constant in its form")
        if self.kind == "privacy" and (not self.neighbour or not self.explicit):
            raise ClaimError(f"claim {self.name!r}: a privacy claim needs the neighbour's metric and an explicit "
                             f"epsilon (no free constant) in its form")
        if self.nulls == () and not self.vacuous:
            raise ClaimError(f"claim {self.name!r}: nulls=() (no null learner applies) needs the reason in vacuous")
        if self.curve not in ("point", "gaussian"):
            raise ClaimError(f"claim {self.name!r}: curve {self.curve!r} must be 'point' or 'gaussian'")
        if (self.pairs or self.curve != "point") and self.kind != "privacy":
            raise ClaimError(f"claim {self.name!r}: pairs and curve belong to privacy claims")
        if any(not (isinstance(p, tuple) and len(p) == 2 and all(isinstance(n, str) and n for n in p))
               for p in self.pairs):
            raise ClaimError(f"claim {self.name!r}: pairs must be (metric, neighbour) name pairs, got {self.pairs!r}")
        if not isinstance(self.delta, str) and not 0 <= self.delta < 1:
            raise ClaimError(f"claim {self.name!r}: delta {self.delta} must lie in [0, 1)")
        form = check_syntax(self.form, f"claim {self.name!r}: the form")
        if self.atol is not None and (self.kind != "exact" or not 0 <= self.atol < math.inf):
            raise ClaimError(f"claim {self.name!r}: atol {self.atol} is for exact claims, a finite number >= 0")
        if self.kind == "exact" and self.atol is None and form == 0:
            raise ClaimError(f"claim {self.name!r}: an exact claim against 0 has no relative error: set atol")
        if isinstance(self.delta, str):
            check_syntax(self.delta, f"claim {self.name!r}: delta")
        for name in self.free:
            check_symbol_name(name, f"claim {self.name!r}: the free constant")
        self.constant_values()
        if self.against is not None:
            self._check_against()

    def _check_against(self) -> None:
        what = f"claim {self.name!r}: against"
        check_symbol_name(self.against, what)
        taken = set(self.free) | set(self.constants) | set(self.experiment.params) | {self.experiment.over}
        if self.against in taken:
            raise ClaimError(f"{what} {self.against!r} is already a free constant, a constant, a parameter or "
                             "the grid variable")
        if self.kind == "privacy":
            raise ClaimError(f"{what}: a privacy claim is judged at each grid point, not along a counter")
        if self.experiment.depends_on_over():
            raise ClaimError(f"{what}: the experiment's parameters are written over {self.experiment.over}, "
                             f"which the form, written over {self.against}, cannot see")

    @property
    def axis(self) -> str:
        """The variable the form is written over and the rate fitted in: the grid's, or the counter ``against``."""
        return self.against or self.experiment.over

    def constant_values(self) -> dict[str, sympy.Expr]:
        """``constants`` as sympy numbers: a number as it is, a string parsed as a form without symbols
        (``"1/3"``, ``"sqrt(2)"``); sympy never sees the raw string, since its ``subs`` would run it as code."""
        values = {}
        for name, value in self.constants.items():
            what = f"claim {self.name!r}: constant {name!r}"
            check_symbol_name(name, what)
            if isinstance(value, str):
                values[name] = parse_form(value, frozenset())
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                values[name] = exact_number(value)
            else:
                raise ClaimError(f"{what} must be a finite number or a form without symbols, not {value!r}")
        return values

    def expression(self, hyper_names: frozenset[str] | set[str] = frozenset()) -> sympy.Expr:
        """The parsed form; every symbol must be the scaling variable, a parameter, a hyper-parameter,
        a named constant or a declared free constant."""
        names = self.experiment.symbols() | set(hyper_names) | set(self.constants) | set(self.free)
        if self.against is not None:
            names = (names - {self.experiment.over}) | {self.against}
        expr = parse_form(self.form, names)
        for name in self.free:
            symbol = sympy.Symbol(name, positive=True)
            if symbol in expr.free_symbols and symbol in (expr / symbol).free_symbols:
                raise ClaimError(f"claim {self.name!r}: free constant {name} must be a plain factor of {self.form!r}")
        return expr

    def expected(self, quick: bool = False) -> str | None:
        """The declared reason this claim is expected not to PASS under this budget, or None."""
        return self.expected_failure or (self.quick_expected_failure if quick else None)

    @property
    def explicit(self) -> bool:
        """True when no free constant appears in the form: the bound is checked value by value."""
        return not any(_mentions(self.form, name) for name in self.free)
