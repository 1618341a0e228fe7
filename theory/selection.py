"""What a command line names: algorithms by glob, ``name[mutant]``, families, and instance overrides.

``run 'ogd-*'``, ``run 'ucb1[greedy]'`` and ``run --family bernoulli-bandit`` select algorithms; an unknown
name gets a "did you mean". ``--param K=5`` and ``--config FILE`` (TOML, a ``[params]`` table) override the
instance parameters of every selected claim: the overridden experiments are validated against their family's
declared parameters (theory.parameters) and, being part of the experiment, they are part of every store key,
so a run with other parameters never reuses one without them.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from theory.errors import ClaimError, TheoryError
from theory.model import Subject
from theory.parameters import validate_claim
from theory.registry import Registry
from theory.spec import Algorithm


class SelectionError(TheoryError):
    """A name, pattern or override the registry cannot serve."""


def select(registry: Registry, names: Sequence[str] = (), families: Sequence[str] = ()) -> list[Algorithm]:
    """The algorithms (or mutants and null learners, as ``name[mutant]``) that ``names`` match (glob patterns;
    none: all) and whose family matches one of ``families`` (glob patterns; none: any)."""
    chosen: dict[str, Algorithm] = {}
    for name in names or ["*"]:
        subject = Subject.parse(name)
        base, mutant = subject.algorithm, subject.mutant
        if mutant and name.endswith("]") and not any(c in base for c in "*?"):
            if base not in registry.algorithms:
                raise SelectionError(unknown("algorithm", base, registry.algorithms, registry))
            try:
                chosen[name] = registry.algorithm(name)
            except TheoryError:
                known = [m.name for m in (*registry.algorithms[base].mutants, *registry.algorithms[base].nulls)]
                raise SelectionError(unknown("mutant", mutant, known, registry, of=base)) from None
            continue
        matched = [n for n in sorted(registry.algorithms) if fnmatch.fnmatchcase(n, name)]
        if not matched:
            raise SelectionError(unknown("algorithm", name, registry.algorithms, registry))
        chosen.update((n, registry.algorithms[n]) for n in matched)
    picked = [a for a in chosen.values()
              if not families or any(fnmatch.fnmatchcase(a.family, p) for p in families)]
    if families and not picked:
        pattern = families[0]
        if not any(fnmatch.fnmatchcase(f, p) for f in registry.families for p in families):
            raise SelectionError(unknown("family", pattern, registry.families, registry))
        raise SelectionError(f"no selected algorithm runs on a family matching {', '.join(families)}")
    return picked


def unknown(what: str, name: str, known: Sequence[str] | Mapping[str, object], registry: Registry,
            of: str = "") -> str:
    """``unknown algorithm 'uc1'; did you mean 'ucb1'? (known: ...)``, naming plugins that failed to load;
    ``of`` names what the claim or mutant belongs to."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if what == "algorithm" and name in registry.families:
        hint = f"; {name!r} is an instance family: select its algorithms with --family {name}"
    failed = ", ".join(e.plugin for e in registry.errors)
    why = f"; plugins that failed to load: {failed}" if failed else ""
    owner = f" of {of!r}" if of else ""
    return f"unknown {what} {name!r}{owner}{hint} (known: {', '.join(names) or 'none'}{why})"


def parse_overrides(pairs: Sequence[str], config: Path | None = None) -> dict[str, object]:
    """``K=5``, ``gap=0.1``, ``means=0.9,0.5`` (a tuple) or ``gap=sqrt(K/T)`` (a form), after the ``[params]``
    table of a TOML ``config``; later values win."""
    values: dict[str, object] = {}
    if config is not None:
        values.update(_config(config))
    for pair in pairs:
        key, eq, text = pair.partition("=")
        if not eq or not key.strip() or not text.strip():
            raise SelectionError(f"--param {pair!r}: write NAME=VALUE, such as K=5 or means=0.9,0.5")
        values[key.strip()] = _value(text.strip())
    return values


def _value(text: str) -> object:
    if "," in text:
        return tuple(float(_value(part.strip())) for part in text.split(","))  # type: ignore[arg-type]
    try:
        number = json.loads(text)
    except ValueError:
        return text  # a form over the scaling variable, parsed and checked like a plugin's
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise SelectionError(f"--param value {text!r} is not a number, a comma-separated list or a form")
    return number


def _config(path: Path) -> dict[str, object]:
    import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SelectionError(f"config {path}: {exc}") from None
    extra = set(data) - {"params"}
    if extra or not isinstance(data.get("params", {}), dict):
        raise SelectionError(f"config {path}: only a [params] table is read (found {', '.join(sorted(extra))})")
    params = data.get("params", {})
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def override(registry: Registry, algorithms: Sequence[Algorithm], params: Mapping[str, Any]) -> Registry:
    """A registry in which every claim of ``algorithms`` runs with ``params`` over its experiment's own, each
    claim validated against its family (unknown names and out-of-range values are refused)."""
    if not params:
        return registry
    changed = dict(registry.algorithms)
    for algorithm in algorithms:
        base = registry.algorithms[algorithm.mutant_of or algorithm.name]
        claims = []
        for claim in base.claims:
            experiment = dataclasses.replace(claim.experiment, params={**claim.experiment.params, **params})
            claims.append(dataclasses.replace(claim, experiment=experiment))
            try:
                validate_claim(claims[-1], registry.families)
            except ClaimError as exc:
                raise SelectionError(f"{base.name}/{claim.name}: {exc}") from None
        changed[base.name] = dataclasses.replace(base, claims=tuple(claims))
    return dataclasses.replace(registry, algorithms=changed)
