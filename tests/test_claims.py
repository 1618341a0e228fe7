"""The claim language: what parses, what is refused (never evaluated), and Claim and Experiment validation."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import math
import re
import time

import pytest
import sympy

from theory.claims import MAX_FORM_LENGTH, Claim, Experiment, evaluate, parse_form
from theory.errors import ClaimError, TheoryError
from theory.export import experiment_data
from theory.render import instance_text

SYMBOLS = frozenset({"C", "K", "T", "t", "rho", "n"})
C, K, T, t, rho = (sympy.Symbol(name, positive=True) for name in ("C", "K", "T", "t", "rho"))


# --- forms that parse ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("C*sqrt(K*T*log(T))", C * sympy.sqrt(K * T * sympy.log(T))),
    ("C*rho**t", C * rho**t),
    ("C/t**2", C / t**2),
    ("C*max(T, K)", C * sympy.Max(T, K)),
    ("C*min(T, 2)", C * sympy.Min(T, 2)),
    ("pi*T", sympy.pi * T),
    ("e**t", sympy.exp(t)),
    ("C*T**(2/3)", C * T ** sympy.Rational(2, 3)),
    ("-C + abs(T) + exp(-t)", -C + T + sympy.exp(-t)),
    ("  0.5*C*log(T)  ", C * sympy.log(T) / 2),
    ("+T - 1e-3", T - sympy.Rational(1, 1000)),
])
def test_valid_forms_parse_to_the_expected_expression(text, expected):
    parsed = parse_form(text, SYMBOLS)
    assert sympy.simplify(parsed - expected) == 0, (text, parsed)


def test_named_constants_have_their_values():
    assert float(parse_form("pi", SYMBOLS)) == pytest.approx(math.pi, abs=0)
    assert float(parse_form("e", SYMBOLS)) == pytest.approx(math.e, abs=0)
    # a symbol named like a constant wins over the constant when the experiment declares it
    assert parse_form("e", {"e"}) == sympy.Symbol("e", positive=True)


def test_symbols_are_positive_so_log_factors_simplify():
    # Forms are over positive quantities: sqrt(K*T) splits, which is what lets a free constant be a factor.
    assert parse_form("sqrt(C*T)", SYMBOLS) == sympy.sqrt(C) * sympy.sqrt(T)


# --- refusals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, says", [
    ("().__class__", "attribute"),
    ("T.real", "attribute"),
    ("__import__('os')", "__import__"),
    ("__builtins__", "__builtins__"),
    ("_T", "'_T'"),
    ("(lambda: 1)()", "a call to lambda"),
    ("lambda x: x", "lambda"),
    ("T[0]", "subscript"),
    ("'T'", "literal 'T'"),
    ("b'T'", "literal b'T'"),
    ("True*T", "literal True"),
    ("sqrt(x=T)", "keyword"),
    ("sqrt(*T)", "starred"),
    ("eval('1')", "a call to eval"),
    ("open('f')", "a call to open"),
    ("exec('x=1')", "a call to exec"),
    ("getattr(T, 'real')", "a call to getattr"),
    ("sqrt.__call__(T)", "a call to sqrt.__call__"),
    ("__import__('os').system('x')", "a call to __import__ is not allowed"),
    ("T*os.path.join('a')", "a call to os.path.join is not allowed"),
    ("unknown*T", "unknown symbol 'unknown'"),
    ("[x for x in (1, 2)]", "listcomp"),
    ("sum(x for x in (1, 2))", "a call to sum"),
    ("max(x for x in (1, 2))", "generatorexp"),
    ("{x: 1 for x in (1,)}", "dictcomp"),
    ("1e13*T", "beyond"),
    ("10000000000000*T", "beyond"),
    ("1e400*T", "beyond"),
    ("9**9**9", "constant exponent"),
    ("T**100", "constant exponent"),
    ("T if T else 1", "ifexp"),
    ("T < 1", "compare"),
    ("T % 3", "binop"),
    ("T // 3", "binop"),
    ("T @ T", "binop"),
    ("~T", "unaryop"),
    ("(T := 3)", "namedexpr"),
    ("f'{T}'", "joinedstr"),
    ("C*sqrt(T", "not an arithmetic expression"),
    ("T; import os", "not an arithmetic expression"),
    ("", "not an arithmetic expression"),
])
def test_refusals_are_claim_errors_that_say_what_was_refused(text, says):
    with pytest.raises(ClaimError) as info:
        parse_form(text, SYMBOLS)
    assert says in str(info.value)
    assert isinstance(info.value, TheoryError)


def test_refusal_message_lists_what_is_allowed():
    with pytest.raises(ClaimError, match=r"allowed: \+ - \* / \*\*, numbers, functions sqrt, log") as info:
        parse_form("open('x')", {"T"})
    assert "symbols T" in str(info.value)


def test_non_string_form_is_refused():
    with pytest.raises(ClaimError, match="must be a string, got int"):
        parse_form(3, SYMBOLS)  # type: ignore[arg-type]


def test_over_long_form_is_refused_before_parsing():
    text = "T+" * (MAX_FORM_LENGTH // 2) + "T"
    with pytest.raises(ClaimError, match=f"longer than {MAX_FORM_LENGTH} characters"):
        parse_form(text, SYMBOLS)
    parse_form("T+" * ((MAX_FORM_LENGTH - 1) // 2) + "T", SYMBOLS)  # just under the limit is fine


@pytest.mark.parametrize("text", [
    "9**9**9",
    "9**9**9**9",
    "((((9**60)**60)**60)**60)**60",  # each exponent is small, the constant is astronomically large
    "(((1e12**60)**60)**60)**60",
    "exp(exp(exp(exp(100))))",
    "T**exp(exp(100))",
])
def test_huge_constants_are_refused_fast(text):
    started = time.perf_counter()
    with pytest.raises(ClaimError):
        parse_form(text, SYMBOLS)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("text", ["T**(1/0)", "1/0", "T*log(0)", "T**(0**-1)"])
def test_undefined_constants_are_claim_errors(text):
    # Never a TypeError or ZeroDivisionError from deep inside sympy: the registry reports ClaimErrors only.
    with pytest.raises(ClaimError):
        parse_form(text, SYMBOLS)


def test_refused_forms_are_never_evaluated(tmp_path):
    """Forms that would leave a trace if evaluated (a file, a call to eval/exec) leave none."""
    flag = tmp_path / "flag"
    calls: list[str] = []
    real_compile = builtins.compile

    def spy(name):
        def recorder(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} called while parsing a bound form")
        return recorder

    def compile_spy(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse compiles to a tree only: that is parsing, not running
            calls.append("compile")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    hostile = [
        f"__import__('pathlib').Path({str(flag)!r}).touch()",
        f"open({str(flag)!r}, 'w').write('x')",
        f"exec('open({str(flag)!r}, \"w\")')",
        "().__class__.__bases__[0].__subclasses__()",
        f"[open({str(flag)!r}, 'w') for _ in (1,)]",
        f"max(T, open({str(flag)!r}, 'w'))",
        f"T*(lambda: open({str(flag)!r}, 'w'))()",
    ]
    outcomes = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builtins, "eval", spy("eval"))
        patch.setattr(builtins, "exec", spy("exec"))
        patch.setattr(builtins, "compile", compile_spy)
        for text in hostile:
            try:
                parse_form(text, SYMBOLS)
                outcomes.append("parsed")
            except ClaimError:
                outcomes.append("refused")
        parse_form("C*sqrt(K*T*log(T))", SYMBOLS)  # valid forms, too, are parsed without running code
    assert outcomes == ["refused"] * len(hostile)
    assert calls == []
    assert not flag.exists()


# --- Claim --------------------------------------------------------------------------------------------------


def experiment(**fields) -> Experiment:
    fields.setdefault("grid", (10.0, 100.0, 1000.0))
    return Experiment(family="bernoulli-bandit", over="T", **fields)


def claim(**fields) -> Claim:
    values = dict(name="c", metric="regret", form="C*sqrt(T)", kind="upper", experiment=experiment(),
                  source="Theorem 1")
    values.update(fields)
    return Claim(**values)


def test_theta_without_free_constant_is_refused():
    with pytest.raises(ClaimError, match="needs a free constant"):
        claim(kind="theta", form="2*sqrt(T)", free=())
    with pytest.raises(ClaimError, match="needs a free constant"):
        claim(kind="theta", form="sqrt(T)")  # C is declared free but does not appear
    assert claim(kind="theta").kind == "theta"


def test_malformed_form_of_a_theta_claim_is_a_claim_error():
    with pytest.raises(ClaimError):
        claim(kind="theta", form="C*sqrt(T")


@pytest.mark.parametrize("kind", ["Upper", "upper bound", "", "O"])
def test_bad_kind_is_refused(kind):
    with pytest.raises(ClaimError, match=f"kind {kind!r} is not one of upper, lower, theta, exact"):
        claim(kind=kind)


@pytest.mark.parametrize("level", [0.5, 1.0, 0.3, 1.5, 99])
def test_bad_level_is_refused(level):
    with pytest.raises(ClaimError, match=f"level {level} must lie in"):
        claim(level=level)


def test_good_levels_are_accepted():
    assert claim(level=0.9).level == 0.9
    assert claim().level == 0.99  # the documented default


@pytest.mark.parametrize("form", ["sqrt(C*T)", "T**C", "C + T", "log(C*T)", "exp(C*T)", "C*T + C**2"])
def test_free_constant_must_be_a_plain_factor(form):
    with pytest.raises(ClaimError, match="free constant C must be a plain factor"):
        claim(form=form).expression()


@pytest.mark.parametrize("form", ["C*sqrt(T)", "sqrt(T)*C/2", "C*(T + log(T))", "-C*T + 0*T"])
def test_plain_factor_forms_are_accepted(form):
    claim(form=form).expression()


def test_expression_accepts_hyper_parameters_constants_and_parameters():
    c = claim(form="C*sqrt(K*T)*eta*gamma", constants={"gamma": 2.0}, experiment=experiment(params={"K": 5}))
    with pytest.raises(ClaimError, match="unknown symbol 'eta'"):
        c.expression()
    assert sympy.Symbol("eta", positive=True) in c.expression(frozenset({"eta"})).free_symbols


def test_a_string_constant_is_parsed_when_the_claim_is_made_and_never_run(tmp_path, monkeypatch):
    """Issue 17, item 1: sympy's subs ran a string constant as code at check time, and with '+ 1' the claim even
    came out INCONCLUSIVE. Now it is refused when the Claim is built, and says what it found."""
    monkeypatch.chdir(tmp_path)
    for hostile in ("__import__('os').system('touch pwned')", "__import__('os').system('touch pwned') + 1"):
        with pytest.raises(ClaimError, match="constant 'c'.*a call to __import__ is not allowed|a call to __import__"):
            claim(form="c*C*T", constants={"c": hostile})
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("fields, says", [
    (dict(constants={"c": True}), "must be a finite number or a form without symbols"),
    (dict(constants={"c": math.inf}), "must be a finite number or a form without symbols"),
    (dict(constants={"c": "T"}), "the unknown symbol 'T'"),
    (dict(constants={"_c": 2.0}), "must be a name of letters"),
    (dict(free=("C D",)), "the free constant 'C D' must be a name"),
    (dict(form="C*T.real"), "attribute"),
    (dict(form="C*open('x')"), "a call to open"),
    (dict(kind="privacy", form="eps", neighbour="other", delta="exec('1')"), "a call to exec"),
])
def test_every_string_field_of_a_claim_goes_through_the_parser(fields, says):
    with pytest.raises(ClaimError, match=re.escape(says)):
        claim(**fields)


def test_string_constants_are_exact_numbers():
    c = claim(form="c*C*T", constants={"c": "1/3", "d": 0.3, "n": 4})
    assert c.constant_values() == {"c": sympy.Rational(1, 3), "d": sympy.Rational(3, 10), "n": sympy.Integer(4)}


def test_the_scaling_variable_must_be_a_name():
    with pytest.raises(ClaimError, match="the scaling variable 'T T' must be a name"):
        Experiment(family="f", over="T T", grid=(1, 2, 3))


def test_decimals_parse_to_the_rationals_they_read_as():
    assert parse_form("T**0.3", SYMBOLS) == T ** sympy.Rational(3, 10)
    assert parse_form("1e-3*T", SYMBOLS) == T / 1000
    assert parse_form("2.5e3", SYMBOLS) == 2500


def test_explicit_means_no_free_constant_in_the_form():
    assert claim(form="3*sqrt(T)", free=()).explicit
    assert claim(form="3*sqrt(T)").explicit  # C declared free but unused: the bound is explicit
    assert not claim(form="C*sqrt(T)").explicit
    assert not claim(form="A*sqrt(T)", free=("A",)).explicit


# --- Experiment ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("grid", [(1.0, 2.0), (1.0, 2.0, 2.0), (3.0, 2.0, 1.0), (0.0, 1.0, 2.0),
                                  (-1.0, 1.0, 2.0), ()])
def test_bad_grids_are_refused(grid):
    with pytest.raises(ClaimError, match="at least 3 increasing positive values"):
        experiment(grid=grid)
    if grid:  # an empty quick grid reads as "none declared"
        with pytest.raises(ClaimError, match="at least 3 increasing positive values"):
            experiment(quick_grid=grid)


def test_at_evaluates_string_parameters_at_the_grid_point():
    e = experiment(params={"K": 5, "gap": "sqrt(K*log(T)/T)", "means": (0.9, 0.5), "half": "K/2"})
    at = e.at(100.0)
    assert at["gap"] == pytest.approx(math.sqrt(5 * math.log(100) / 100), rel=1e-12)
    assert at["half"] == 2.5
    assert at["K"] == 5.0 and at["T"] == 100.0
    assert at["means"] == (0.9, 0.5)  # tuples pass through untouched
    assert e.at(10_000.0)["gap"] < at["gap"]  # the gap shrinks with the horizon


def test_at_refuses_a_parameter_that_is_not_a_real_number_there():
    e = experiment(params={"bad": "log(1 - T)"})
    with pytest.raises(ClaimError, match="not a finite real number"):
        e.at(5.0)


def test_parameters_cannot_smuggle_code():
    with pytest.raises(ClaimError, match="a call to __import__ is not allowed"):
        experiment(params={"gap": "__import__('os').getcwd()"})  # refused when declared, not when used


def test_a_parameter_may_only_use_the_scaling_variable_and_number_parameters():
    with pytest.raises(ClaimError, match="unknown symbol 'gap'"):
        experiment(params={"gap": "1/T", "half": "gap/2"})  # at() could not evaluate it


def test_depends_on_over():
    assert experiment(params={"K": 5, "gap": "sqrt(K*log(T)/T)"}).depends_on_over()
    assert not experiment(params={"K": 5, "gap": "sqrt(K)/10"}).depends_on_over()
    assert not experiment(params={"K": 5, "means": (0.9, 0.1)}).depends_on_over()
    assert not experiment().depends_on_over()
    assert Experiment(family="f", over="n", grid=(1, 2, 3), params={"eps": "1/n"}).depends_on_over()


def test_depends_on_over_with_malformed_parameter_is_a_claim_error():
    with pytest.raises(ClaimError):
        experiment(params={"gap": "sqrt(T"}).depends_on_over()


def test_symbols_are_the_scaling_variable_and_non_tuple_parameters():
    e = experiment(params={"K": 5, "gap": "1/T", "means": (0.9, 0.1)})
    assert e.symbols() == {"T", "K", "gap"}
    assert e.scalars() == {"K": 5.0}


def test_sized_quick_and_normal():
    e = experiment(grid=(1.0, 2.0, 4.0, 8.0), quick_grid=(1.0, 2.0, 4.0), seeds=64, quick_seeds=8)
    assert e.sized(quick=False) == ((1.0, 2.0, 4.0, 8.0), 64)
    assert e.sized(quick=True) == ((1.0, 2.0, 4.0), 8)
    assert e.sized(quick=True, seeds=3) == ((1.0, 2.0, 4.0), 3)
    assert e.sized(quick=False, seeds=5) == ((1.0, 2.0, 4.0, 8.0), 5)
    plain = experiment(grid=(1.0, 2.0, 4.0), seeds=16)
    assert plain.sized(quick=True) == ((1.0, 2.0, 4.0), 16)  # nothing quick declared: the normal sizes


def test_evaluate_binds_symbols_by_name():
    expr = parse_form("C*sqrt(K*T)", SYMBOLS)
    assert evaluate(expr, {"C": 2.0, "K": 4.0, "T": 9.0}) == pytest.approx(12.0, rel=1e-14)
    with pytest.raises(ClaimError, match="not a finite real number"):
        evaluate(parse_form("log(T - 2)", SYMBOLS), {"T": 1.0})


def test_instance_text_and_json_experiment_data_show_the_mode():
    experiment = Experiment(family="sparse-regression", over="eps", grid=(0.5, 1.0, 2.0), params={"n": 2},
                            mode="audit")
    claim = Claim(name="privacy", metric="m", neighbour="m2", kind="privacy", form="eps", source="s",
                  experiment=experiment)
    assert instance_text(claim).startswith("sparse-regression in audit mode over eps, n=2")
    assert experiment_data(experiment)["mode"] == "audit"
    assert experiment_data(dataclasses.replace(experiment, mode=None))["mode"] is None
