"""Build the registry of algorithms and instance families from plugins, validating everything at load time.

Built in are the core's instance families; every other plugin, the paper plugins shipped in ``plugins/``
included, is found through the ``theorycheck`` entry-point group. A plugin that fails to import, raises in
a hook, or declares something invalid is reported with its name and the cause, and every other plugin still
loads. Setting ``THEORYCHECK_DISABLE_PLUGIN_AUTOLOAD`` skips entry points from other distributions.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from theory import hookspecs, mutation
from theory.claims import Claim, parse_form
from theory.errors import ClaimError, PluginError
from theory.model import Subject
from theory.parameters import validate_claim
from theory.sources import BUILTIN_FAMILIES, DISABLE_AUTOLOAD, ENTRY_POINT_GROUP, OWN_DISTRIBUTION
from theory.spec import SCHEDULES, Algorithm, Family, metric_names_of

_UNNAMEABLE = re.compile(r"[\[\]/\s]")  # what 'algo[mutant]', paths and the command line cannot carry


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot name an algorithm, mutant, null, claim or family, or None when it can: names are
    joined as ``algo[mutant]``, written into paths and typed on the command line."""
    if not isinstance(name, str) or not name:
        return f"the name {name!r} is empty or not a string"
    if _UNNAMEABLE.search(name):
        return f"the name {name!r} holds one of '[', ']', '/' or whitespace, which names cannot carry"
    return None


@dataclass(frozen=True)
class Registry:
    """Every loaded algorithm and instance family by name, the plugin that owns each, and the PluginErrors of
    the plugins that could not be loaded (those are left out; the others work)."""

    algorithms: Mapping[str, Algorithm]
    families: Mapping[str, Family]
    errors: tuple[PluginError, ...]
    owners: Mapping[str, str]  # algorithm or family name -> plugin name

    def algorithm(self, name: str) -> Algorithm:
        """An algorithm by name, or by ``name[mutant]`` for one of its mutants or nulls, a null learner of a
        family its claims run on, or a generated mutant (``theory.mutation``)."""
        subject = Subject.parse(name)
        base, mutant = subject.algorithm, subject.mutant
        if base not in self.algorithms:
            raise PluginError(name, f"no algorithm of that name (known: {', '.join(sorted(self.algorithms))})")
        algorithm = self.algorithms[base]
        if not mutant:
            return algorithm
        families = [self.families[f] for f in dict.fromkeys([algorithm.family, *(c.experiment.family
                                                                                  for c in algorithm.claims)])]
        candidates = [*algorithm.mutants, *algorithm.nulls, *(m for f in families for m in f.nulls),
                      *(g.mutant for g in mutation.generate(algorithm))]
        for m in candidates:
            if m.name == mutant:
                return algorithm.variant(m)
        return algorithm.mutant(mutant)  # raises, naming the algorithm and the mutant


def build_registry(plugins: Iterable[tuple[str, object]] = (), autoload: bool | None = None) -> Registry:
    """Load built-ins, entry points (unless disabled) and the given ``(name, plugin)`` pairs."""
    manager = pluggy.PluginManager("theorycheck")
    manager.add_hookspecs(hookspecs)
    errors: list[PluginError] = []
    if autoload is None:
        autoload = not os.environ.get(DISABLE_AUTOLOAD)
    for name in BUILTIN_FAMILIES:
        _register(manager, name, lambda name=name: importlib.import_module(name), errors)
    for entry_point in _entry_points(autoload):
        _register(manager, entry_point.name, entry_point.load, errors)
    for name, plugin in plugins:
        _register(manager, name, lambda plugin=plugin: plugin, errors)
    owners: dict[str, str] = {}
    families = _collect(manager, "theorycheck_families", Family, owners, errors)
    for name in list(families):
        try:
            _validate_family(families[name])
        except ClaimError as exc:
            errors.append(_chained(PluginError(owners[name], f"family {name!r}: {exc}"), exc))
            del families[name]
    algorithms = _collect(manager, "theorycheck_algorithms", Algorithm, owners, errors)
    for name in list(algorithms):
        try:
            _validate(algorithms[name], families)
        except Exception as exc:  # a malformed declaration (a claim that is no Claim) is its plugin's error
            cause = str(exc) if isinstance(exc, ClaimError) else f"{type(exc).__name__}: {exc}"
            errors.append(_chained(PluginError(owners[name], f"algorithm {name!r}: {cause}"), exc))
            del algorithms[name]
    return Registry(algorithms, families, tuple(errors), owners)


def _entry_points(autoload: bool) -> list[metadata.EntryPoint]:
    found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    unique = {(ep.name, ep.value): ep for ep in found}.values()  # an editable install may list a plugin twice
    return [ep for ep in unique if autoload or (ep.dist is not None and ep.dist.name == OWN_DISTRIBUTION)]


def _register(manager: pluggy.PluginManager, name: str, load, errors: list[PluginError]) -> None:
    try:
        plugin = load()
        if manager.is_registered(plugin):  # the same module reached twice (an entry point and a built-in)
            return
        if manager.get_plugin(name) is not None:
            raise ValueError(f"another plugin is already registered under the name {name!r}")
        manager.register(plugin, name=name)
    except Exception as exc:  # a broken plugin must not stop the others from loading
        errors.append(_chained(PluginError(name, f"{type(exc).__name__}: {exc}"), exc))
        return
    unknown = [caller.name for caller in manager.get_hookcallers(plugin) or [] if not caller.has_spec()]
    if unknown:
        manager.unregister(plugin)
        errors.append(PluginError(name, f"unknown hook(s) {', '.join(unknown)}; known: "
                                        "theorycheck_algorithms, theorycheck_families"))


def _collect(manager: pluggy.PluginManager, hook: str, kind: type[Algorithm] | type[Family], owners: dict[str, str],
             errors: list[PluginError]) -> dict:
    found: dict = {}
    for impl in getattr(manager.hook, hook).get_hookimpls():
        try:
            items: list[Any] = list(impl.function() or [])
        except Exception as exc:
            cause = f"{hook}() raised {type(exc).__name__}: {exc}"
            errors.append(_chained(PluginError(impl.plugin_name, cause), exc))
            continue
        for item in items:
            if not isinstance(item, kind):
                errors.append(PluginError(impl.plugin_name, f"{hook}() returned {item!r}, not a {kind.__name__}"))
            elif name_problem(item.name):
                errors.append(PluginError(impl.plugin_name, f"{kind.__name__.lower()}: {name_problem(item.name)}"))
            elif item.name in found:
                errors.append(PluginError(impl.plugin_name, f"duplicate {kind.__name__.lower()} name {item.name!r} "
                                                            f"(already registered by {owners[item.name]!r})"))
            else:
                found[item.name] = item
                owners[item.name] = impl.plugin_name
    return found


def _chained(error: PluginError, cause: BaseException) -> PluginError:
    """The error with its cause attached, as ``raise ... from cause`` would, for whoever re-raises it."""
    error.__cause__ = cause
    return error


def _validate(algorithm: Algorithm, families: Mapping[str, Family]) -> None:
    if algorithm.family not in families:
        raise ClaimError(f"unknown family {algorithm.family!r}")
    if algorithm.schedule not in SCHEDULES:
        raise ClaimError(f"schedule {algorithm.schedule!r} is not one of {', '.join(SCHEDULES)}")
    functions = [("the algorithm", algorithm.metrics),
                 *((repr(m.name), m.metrics) for m in (*algorithm.nulls, *algorithm.mutants))]
    undeclared = [name for name, metrics in functions if metrics is not None and not metric_names_of(metrics)]
    if undeclared:
        raise ClaimError(f"the metrics function of {undeclared[0]} does not name its metrics: declare them on it "
                         f"with @theory.measures('name', ...)")
    named: list[tuple[str, Any]] = [*(("claim", c) for c in algorithm.claims),
                                    *(("mutant", m) for m in algorithm.mutants),
                                    *(("null learner", n) for n in algorithm.nulls)]
    for what, item in named:
        if name_problem(item.name):
            raise ClaimError(f"{what}: {name_problem(item.name)}")
    claims = {claim.name for claim in algorithm.claims}
    if len(claims) < len(algorithm.claims):
        raise ClaimError("two claims share a name")
    for claim in algorithm.claims:
        if claim.metric not in algorithm.metric_names:
            raise ClaimError(f"claim {claim.name!r} is on unknown metric {claim.metric!r} "
                             f"(the algorithm measures {', '.join(algorithm.metric_names)})")
        for name in (claim.neighbour, *(n for pair in claim.pairs for n in pair)):
            if name and name not in algorithm.metric_names:
                raise ClaimError(f"claim {claim.name!r} names unknown neighbour metric {name!r}")
        axes = [name for name in (claim.experiment.over, claim.against) if name is not None]
        clash = {name for name in axes if name in algorithm.hyper}
        if clash:  # the form would read the hyper-parameter's fixed value where it means the varying axis
            raise ClaimError(f"claim {claim.name!r}: hyper-parameter {sorted(clash)[0]!r} is named like the variable "
                             f"the claim is judged over; rename the hyper-parameter")
        if claim.against is not None and claim.against not in algorithm.metric_names:
            raise ClaimError(f"claim {claim.name!r} is against {claim.against!r}, which the algorithm does not "
                             f"measure (it measures {', '.join(algorithm.metric_names)})")
        if isinstance(claim.delta, str):
            parse_form(claim.delta, claim.experiment.symbols() | set(algorithm.hyper) | set(claim.constants))
        if claim.experiment.family not in families:
            raise ClaimError(f"claim {claim.name!r} names unknown family {claim.experiment.family!r}")
        validate_claim(claim, families)
        claim.expression(frozenset(algorithm.hyper))
        for text in claim.experiment.params.values():
            if isinstance(text, str):
                parse_form(text, claim.experiment.symbols())
        _validate_nulls(algorithm, claim, families[claim.experiment.family])
    for invariant in algorithm.invariants:
        if invariant.metric not in algorithm.metric_names or set(invariant.claims) - claims:
            raise ClaimError(f"invariant {invariant.name!r} names a metric or claim the algorithm does not have")
    mutation.validate(algorithm)
    names = [m.name for m in (*algorithm.mutants, *algorithm.nulls)]
    if len(set(names)) < len(names):
        raise ClaimError("two mutants or null learners share a name")
    for mutant in (*algorithm.mutants, *algorithm.nulls):
        unknown = set(mutant.breaks) - claims
        if unknown or not mutant.breaks:
            raise ClaimError(f"mutant {mutant.name!r} must break at least one of its claims, "
                             f"not {sorted(unknown) or 'none'}")
        odd = (set(mutant.missed) | set(mutant.quick_missed)) - set(mutant.breaks)
        if odd:
            raise ClaimError(f"mutant {mutant.name!r} declares misses on claims it does not break: {sorted(odd)}")
        stray = set(mutant.hyper) - set(algorithm.hyper)
        if stray:
            raise ClaimError(f"mutant {mutant.name!r} overrides hyper-parameter(s) {sorted(stray)} that the "
                             f"algorithm does not have (it has {sorted(algorithm.hyper) or 'none'})")


def _validate_nulls(algorithm: Algorithm, claim: Claim, family: Family) -> None:
    """The nulls a claim names exist, and every null it runs on measures its metric."""
    known = {m.name for m in (*algorithm.nulls, *family.nulls)}
    unknown = set(claim.nulls or ()) - known
    if unknown:
        raise ClaimError(f"claim {claim.name!r} names unknown null learner(s) {sorted(unknown)} "
                         f"(known: {sorted(known) or 'none'})")
    for null in algorithm.nulls_for(claim, family):
        measured = null.metric_names or algorithm.metric_names
        for metric in (claim.metric, claim.against):
            if metric is not None and metric not in measured:
                raise ClaimError(f"null learner {null.name!r} does not measure {metric!r}, which claim "
                                 f"{claim.name!r} needs")


def _validate_family(family: Family) -> None:
    """A family's null learner is a complete learner that breaks no named claim (the family knows none)."""
    for null in family.nulls:
        if not (null.init and null.step and null.metrics and null.metric_names) or null.breaks:
            raise ClaimError(f"null learner {null.name!r} must bring init, step and metrics (named with "
                             f"@theory.measures), "
                             f"and no breaks (it applies to every claim on the family that uses its metrics)")
    if len({m.name for m in family.nulls}) < len(family.nulls):
        raise ClaimError("two null learners share a name")
