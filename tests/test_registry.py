"""The registry with deliberately broken plugins: each breakage is a PluginError that names the plugin and the
cause, and every good plugin still loads."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from importlib import metadata
from types import SimpleNamespace

import pytest
from fakes import (
    AlgorithmsPlugin,
    FamiliesPlugin,
    MisspelledHookPlugin,
    RaisingPlugin,
    bandit_experiment,
    fake_family,
    valid_algorithm,
    with_claim,
)

import theory.registry as registry_module
from theory import Experiment, Mutant, build_registry, hookimpl
from theory.errors import PluginError, TheoryError
from theory.registry import DISABLE_AUTOLOAD, ENTRY_POINT_GROUP

GOOD = ("good", AlgorithmsPlugin(valid_algorithm("good-algorithm")))


@pytest.fixture
def no_entry_points(monkeypatch):
    """Isolate from whatever plugins this environment has installed: only built-ins and the given plugins."""
    monkeypatch.setattr(registry_module, "_entry_points", lambda autoload: [])


def build(*plugins):
    return build_registry(plugins=[GOOD, *plugins])


def errors_of(registry, plugin: str) -> list[PluginError]:
    return [error for error in registry.errors if error.plugin == plugin]


def only_error(registry, plugin: str) -> PluginError:
    errors = errors_of(registry, plugin)
    assert len(errors) == 1, [str(e) for e in registry.errors]
    assert "good-algorithm" in registry.algorithms  # the good plugin still loaded
    return errors[0]


# --- good plugins -------------------------------------------------------------------------------------------


def test_good_plugin_and_builtin_families_load(no_entry_points):
    registry = build()
    assert registry.algorithms["good-algorithm"].name == "good-algorithm"
    assert registry.owners["good-algorithm"] == "good"
    # the core's own families come through the same hook a third party uses
    assert {"bernoulli-bandit", "gaussian-bandit"} <= set(registry.families)
    assert registry.owners["bernoulli-bandit"] == "theory.instances.bandits"
    assert errors_of(registry, "good") == []


def test_algorithm_lookup_and_mutants(no_entry_points):
    registry = build()
    mutant = registry.algorithm("good-algorithm[lazy]")
    assert mutant.name == "good-algorithm[lazy]" and mutant.mutant_of == "good-algorithm"
    assert registry.algorithm("good-algorithm").mutant_of is None
    with pytest.raises(PluginError, match="no algorithm of that name .known: .*good-algorithm"):
        registry.algorithm("nope")
    with pytest.raises(TheoryError, match="has no mutant 'nope'"):
        registry.algorithm("good-algorithm[nope]")


def test_mutant_overrides_hyper_and_step():
    def other_step(state, instance, t, hyper, gen):
        return state

    algorithm = valid_algorithm("a", hyper={"eta": 1.0, "k": 2},
                                mutants=(Mutant(name="m", bug="b", breaks=("rate",), hyper={"eta": 9.0},
                                                step=other_step),))
    mutant = algorithm.mutant("m")
    assert mutant.hyper == {"eta": 9.0, "k": 2}
    assert mutant.step is other_step and mutant.init is algorithm.init
    assert mutant.mutants == ()


# --- broken plugins -----------------------------------------------------------------------------------------


def test_error_message_names_plugin_and_cause():
    error = PluginError("broken", "ValueError: nope")
    assert str(error) == 'Error loading plugin "broken": ValueError: nope'
    assert isinstance(error, TheoryError)


def test_hook_that_raises(no_entry_points):
    error = only_error(build(("raiser", RaisingPlugin())), "raiser")
    assert error.cause == "theorycheck_algorithms() raised RuntimeError: hook exploded"
    assert isinstance(error.__cause__, RuntimeError)


def test_hook_returning_something_that_is_not_an_algorithm(no_entry_points):
    registry = build(("odd", AlgorithmsPlugin("not an algorithm", valid_algorithm("fine-one"))))
    error = only_error(registry, "odd")
    assert error.cause == "theorycheck_algorithms() returned 'not an algorithm', not a Algorithm"
    assert "fine-one" in registry.algorithms  # the plugin's valid item still counts


def test_hook_returning_a_single_algorithm_instead_of_a_list(no_entry_points):
    error = only_error(build(("single", SimpleNamespace(theorycheck_algorithms=hookimpl(
        lambda: valid_algorithm("lonely"))))), "single")
    assert "theorycheck_algorithms()" in error.cause and "not iterable" in error.cause


def test_families_hook_returning_something_that_is_not_a_family(no_entry_points):
    error = only_error(build(("fam", FamiliesPlugin({"name": "dict-family"}))), "fam")
    assert "theorycheck_families() returned {'name': 'dict-family'}, not a Family" == error.cause


def test_duplicate_algorithm_name_names_both_plugins(no_entry_points):
    registry = build(("first", AlgorithmsPlugin(valid_algorithm("twin"))),
                     ("second", AlgorithmsPlugin(valid_algorithm("twin"))))
    errors = [e for e in registry.errors if "twin" in e.cause]
    assert len(errors) == 1
    (error,) = errors
    assert "duplicate algorithm name 'twin'" in error.cause
    named = {error.plugin} | {p for p in ("first", "second") if repr(p) in error.cause}
    assert named == {"first", "second"}
    assert registry.owners["twin"] in {"first", "second"} - {error.plugin}


def test_duplicate_family_name(no_entry_points):
    registry = build(("copycat", FamiliesPlugin(fake_family("bernoulli-bandit"))))
    error = only_error(registry, "copycat")
    assert error.cause == ("duplicate family name 'bernoulli-bandit' "
                           "(already registered by 'theory.instances.bandits')")


def test_two_different_plugins_under_one_name_are_not_silently_merged(no_entry_points):
    registry = build(("same-name", AlgorithmsPlugin(valid_algorithm("one"))),
                     ("same-name", AlgorithmsPlugin(valid_algorithm("two"))))
    error = only_error(registry, "same-name")
    assert "already registered under the name 'same-name'" in error.cause
    assert "one" in registry.algorithms and "two" not in registry.algorithms


def test_the_same_plugin_twice_is_loaded_once(no_entry_points):
    plugin = AlgorithmsPlugin(valid_algorithm("once"))
    registry = build(("p", plugin), ("p-again", plugin))
    assert "once" in registry.algorithms
    assert errors_of(registry, "p") == errors_of(registry, "p-again") == []


def test_unknown_hook_name(no_entry_points):
    error = only_error(build(("typo", MisspelledHookPlugin())), "typo")
    assert error.cause == ("unknown hook(s) theorycheck_algorithm; "
                           "known: theorycheck_algorithms, theorycheck_families")


def test_hook_with_a_wrong_signature(no_entry_points):
    class Plugin:
        @hookimpl
        def theorycheck_algorithms(self, config):
            return []

    error = only_error(build(("signature", Plugin())), "signature")
    assert "PluginValidationError" in error.cause and "config" in error.cause


@pytest.mark.parametrize("change, says", [
    (dict(metric="loss"), "claim 'rate' is on unknown metric 'loss' (the algorithm measures regret, reward)"),
    (dict(form="C*sqrt(T)*mystery"), "the unknown symbol 'mystery'"),
    (dict(form="sqrt(C*T)"), "free constant C must be a plain factor"),
    (dict(form="C*calls", against="calls"), "claim 'rate' is against 'calls', which the algorithm does not measure"),
    (dict(experiment=Experiment(family="nowhere", over="T", grid=(1, 2, 3))),
     "claim 'rate' names unknown family 'nowhere'"),
])
def test_invalid_claim(no_entry_points, change, says):
    registry = build(("claims", AlgorithmsPlugin(with_claim(valid_algorithm("bad-claim"), **change))))
    error = only_error(registry, "claims")
    assert error.cause.startswith("algorithm 'bad-claim': ")
    assert says in error.cause
    assert "bad-claim" not in registry.algorithms


def test_a_hyper_parameter_named_like_the_grid_variable_is_refused(no_entry_points):
    """A form C*T**(-1/3) would read a hyper-parameter T's fixed value, and its claimed exponent would be 0."""
    registry = build(("clash", AlgorithmsPlugin(dataclasses.replace(valid_algorithm("clash"), hyper={"T": 4}))))
    error = only_error(registry, "clash")
    assert "hyper-parameter 'T' is named like the variable the claim is judged over" in error.cause


class LazyPlugin:
    """Builds its algorithm inside the hook, as a plugin module does at import: a refusal at construction is
    then the plugin's load error."""

    def __init__(self, build):
        self.build = build

    @hookimpl
    def theorycheck_algorithms(self):
        return [self.build()]


@pytest.mark.parametrize("change, says", [
    (dict(experiment=lambda: bandit_experiment(K=3, best=0.9, gap="sqrt(T")), "is not an arithmetic expression"),
    (dict(experiment=lambda: bandit_experiment(K=3, best=0.9, gap="open('x')")), "a call to open"),
    (dict(constants={"c": "__import__('os').system('true')"}), "a call to __import__ is not allowed"),
    (dict(constants={"c": "T + 1"}), "the unknown symbol 'T'"),
    (dict(constants={"c": [1]}), "constant 'c' must be a finite number or a form without symbols"),
    (dict(delta="exec('1')"), "a call to exec"),
    (dict(form="C*T.real"), "attribute"),
    (dict(form="C*sqrt(T"), "is not an arithmetic expression"),
    (dict(form="__import__('os')"), "a call to __import__ is not allowed"),
    (dict(form="C*__builtins__"), "the name '__builtins__' is not allowed"),
    (dict(form="__import__('os').system('true')"), "a call to __import__ is not allowed"),
    (dict(form="C*os.system('true')"), "a call to os.system is not allowed"),
])
def test_every_string_field_is_parsed_when_the_plugin_loads(no_entry_points, tmp_path, monkeypatch, change, says):
    plugin = LazyPlugin(lambda: with_claim(valid_algorithm("hostile"),
                                           **{k: v() if callable(v) else v for k, v in change.items()}))
    error = only_error(build(("hostile", plugin)), "hostile")
    assert "raised ClaimError" in error.cause and says in error.cause


def test_a_constant_cannot_run_code(no_entry_points, tmp_path, monkeypatch):
    """The defect: sympy's subs ran a string constant as code when the claim was checked."""
    monkeypatch.chdir(tmp_path)
    hostile = "__import__('os').system('touch pwned') + 1"
    plugin = LazyPlugin(lambda: with_claim(valid_algorithm("hostile"), constants={"c": hostile}, form="c*T"))
    registry = build(("hostile", plugin))
    assert "hostile" not in registry.algorithms
    assert not (tmp_path / "pwned").exists()


def test_string_constants_are_numbers_written_as_forms(no_entry_points):
    registry = build(("exact", AlgorithmsPlugin(with_claim(valid_algorithm("thirds"), constants={"c": "1/3"},
                                                           form="c*C*T"))))
    assert "thirds" in registry.algorithms, registry.errors


@pytest.mark.parametrize("bad", ["ho[alpha=2]", "a]", "a/b", "two words", "tab\t", ""])
@pytest.mark.parametrize("where", ["algorithm", "mutant", "null", "claim", "family"])
def test_names_the_name_protocol_cannot_carry_are_refused(no_entry_points, bad, where):
    mutant = Mutant(name=bad if where == "mutant" else "lazy", bug="b", breaks=("rate",))
    null = Mutant(name=bad if where == "null" else "frozen", bug="b", breaks=("rate",))
    algorithm = valid_algorithm(bad if where == "algorithm" else "named", mutants=(mutant,), nulls=(null,))
    if where == "claim":
        algorithm = dataclasses.replace(with_claim(algorithm, name=bad), mutants=(), nulls=())
    plugin = FamiliesPlugin(fake_family(bad)) if where == "family" else AlgorithmsPlugin(algorithm)
    error = only_error(build(("names", plugin)), "names")
    assert "which names cannot carry" in error.cause or "is empty" in error.cause
    assert repr(bad) in error.cause
    assert bad not in build(("names", plugin)).algorithms


def test_unknown_family_of_an_algorithm(no_entry_points):
    registry = build(("fam", AlgorithmsPlugin(valid_algorithm("lost", family="nowhere"))))
    assert only_error(registry, "fam").cause == "algorithm 'lost': unknown family 'nowhere'"


def test_family_from_another_plugin_is_known(no_entry_points):
    algorithm = valid_algorithm("elsewhere", family="extra-family")
    registry = build(("algorithms", AlgorithmsPlugin(algorithm)),
                     ("families", FamiliesPlugin(fake_family("extra-family"))))
    assert "elsewhere" in registry.algorithms
    assert registry.errors == tuple(e for e in registry.errors if e.plugin not in ("algorithms", "families"))


@pytest.mark.parametrize("breaks, says", [(("nope",), "not ['nope']"), ((), "not none")])
def test_mutant_must_break_a_known_claim(no_entry_points, breaks, says):
    algorithm = valid_algorithm("mutated", mutants=(Mutant(name="lazy", bug="b", breaks=breaks),))
    error = only_error(build(("mut", AlgorithmsPlugin(algorithm))), "mut")
    assert error.cause == f"algorithm 'mutated': mutant 'lazy' must break at least one of its claims, {says}"


def test_a_mutant_hyper_key_the_algorithm_lacks_is_refused(no_entry_points):
    algorithm = valid_algorithm("typo")
    claim = algorithm.claims[0].name
    mutant = Mutant(name="fast", bug="b", breaks=(claim,), hyper={"learning_rte": 2.0})
    error = only_error(build(("typo", AlgorithmsPlugin(dataclasses.replace(algorithm, mutants=(mutant,))))), "typo")
    assert "mutant 'fast' overrides hyper-parameter(s) ['learning_rte']" in error.cause


def test_a_null_learner_shares_the_mutants_rules(no_entry_points):
    algorithm = valid_algorithm("nulled")
    null = Mutant(name="frozen", bug="never updates", breaks=("nope",))
    error = only_error(build(("nulled", AlgorithmsPlugin(dataclasses.replace(algorithm, nulls=(null,))))), "nulled")
    assert error.cause == "algorithm 'nulled': mutant 'frozen' must break at least one of its claims, not ['nope']"


def test_two_claims_with_one_name(no_entry_points):
    algorithm = valid_algorithm("twice")
    algorithm = dataclasses.replace(algorithm, claims=algorithm.claims * 2)
    assert only_error(build(("dupclaim", AlgorithmsPlugin(algorithm))), "dupclaim").cause == \
        "algorithm 'twice': two claims share a name"


def test_a_claim_that_is_not_a_claim(no_entry_points):
    algorithm = dataclasses.replace(valid_algorithm("sloppy"), claims=({"name": "rate"},))
    error = only_error(build(("sloppy", AlgorithmsPlugin(algorithm))), "sloppy")
    assert error.cause.startswith("algorithm 'sloppy': AttributeError")


# --- entry points -------------------------------------------------------------------------------------------


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A directory on sys.path for throwaway plugin modules, forgotten after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("tc_"):
            del sys.modules[name]


def entry_point(name: str, module: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=module, group=ENTRY_POINT_GROUP)


def test_plugin_whose_import_fails(monkeypatch, module_dir):
    (module_dir / "tc_explodes.py").write_text("raise RuntimeError('import-time boom')\n")
    (module_dir / "tc_fine.py").write_text(textwrap.dedent("""
        from fakes import valid_algorithm
        from theory import hookimpl

        @hookimpl
        def theorycheck_algorithms():
            return [valid_algorithm("from-entry-point")]
    """))
    points = [entry_point("explodes", "tc_explodes"), entry_point("missing", "tc_no_such_module"),
              entry_point("fine", "tc_fine")]
    monkeypatch.setattr(registry_module, "_entry_points", lambda autoload: points)
    registry = build()
    explodes = only_error(registry, "explodes")
    assert str(explodes) == 'Error loading plugin "explodes": RuntimeError: import-time boom'
    assert isinstance(explodes.__cause__, RuntimeError)  # the cause is chained for whoever re-raises it
    missing = only_error(registry, "missing")
    assert missing.cause == "ModuleNotFoundError: No module named 'tc_no_such_module'"
    assert registry.owners["from-entry-point"] == "fine"


def fake_distribution_entry_points(monkeypatch, module_dir):
    """Two entry points in the group: one from theorycheck itself, one from another distribution."""
    for module, algorithm in (("tc_own", "own-algorithm"), ("tc_third", "third-party-algorithm")):
        (module_dir / f"{module}.py").write_text(textwrap.dedent(f"""
            from fakes import valid_algorithm
            from theory import hookimpl

            @hookimpl
            def theorycheck_algorithms():
                return [valid_algorithm({algorithm!r})]
        """))

    def point(name, module, dist):
        return SimpleNamespace(name=name, value=module, dist=SimpleNamespace(name=dist),
                               load=entry_point(name, module).load)

    points = [point("own", "tc_own", "theorycheck"), point("third", "tc_third", "someone-else"),
              point("own", "tc_own", "theorycheck")]  # an editable install may list an entry point twice
    fake_metadata = SimpleNamespace(entry_points=lambda group: points if group == ENTRY_POINT_GROUP else [])
    monkeypatch.setattr(registry_module, "metadata", fake_metadata)


def test_autoload_switch_keeps_the_own_distribution(monkeypatch, module_dir):
    fake_distribution_entry_points(monkeypatch, module_dir)
    monkeypatch.delenv(DISABLE_AUTOLOAD, raising=False)
    everything = build()
    assert {"own-algorithm", "third-party-algorithm"} <= set(everything.algorithms)
    assert not [e for e in everything.errors if e.plugin in ("own", "third")]  # the duplicate is loaded once

    monkeypatch.setenv(DISABLE_AUTOLOAD, "1")
    own_only = build()
    assert "own-algorithm" in own_only.algorithms and "third-party-algorithm" not in own_only.algorithms

    monkeypatch.delenv(DISABLE_AUTOLOAD)
    explicit = build_registry(autoload=False)
    assert "own-algorithm" in explicit.algorithms and "third-party-algorithm" not in explicit.algorithms


def test_real_entry_points_of_this_distribution_survive_the_switch(monkeypatch):
    monkeypatch.setenv(DISABLE_AUTOLOAD, "1")
    names = {point.name for point in registry_module._entry_points(autoload=False)}
    assert "ucb1" in names  # shipped by theorycheck itself, so never switched off


# --- measurement modes ----------------------------------------------------------------------------------------


def _modal_plugins(mode: str):
    """A family declaring the mode ``audit``, and an algorithm whose claim asks ``mode`` of it."""
    from theory.instances.bandits import BERNOULLI
    family = dataclasses.replace(BERNOULLI, name="modal-bandit", modes=("audit",))
    experiment = dataclasses.replace(bandit_experiment(), family="modal-bandit", mode=mode)
    algorithm = with_claim(valid_algorithm("modal", family="modal-bandit"), experiment=experiment)
    return ("fam", FamiliesPlugin(family)), ("modal", AlgorithmsPlugin(algorithm))


def test_a_mode_the_family_declares_loads(no_entry_points):
    registry = build(*_modal_plugins("audit"))
    assert registry.algorithms["modal"].claims[0].experiment.mode == "audit", [str(e) for e in registry.errors]


def test_a_mode_the_family_does_not_declare_is_refused_with_its_modes(no_entry_points):
    error = only_error(build(*_modal_plugins("canary")), "modal")
    assert "has no mode 'canary'" in str(error) and "its modes: audit" in str(error)
    plain = with_claim(valid_algorithm("plain"), experiment=dataclasses.replace(bandit_experiment(), mode="audit"))
    error = only_error(build(("plain", AlgorithmsPlugin(plain))), "plain")
    assert "'bernoulli-bandit' has no mode 'audit'" in str(error) and "its modes: none" in str(error)


def test_a_mode_must_be_a_name():
    with pytest.raises(TheoryError, match="the mode"):
        dataclasses.replace(bandit_experiment(), mode="two words")
    with pytest.raises(TheoryError, match="the mode"):
        dataclasses.replace(fake_family("f"), modes=("",))
