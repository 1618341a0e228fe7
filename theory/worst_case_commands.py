"""The commands that look past the sampled instance: ``certify`` (worst-case certificates by performance
estimation, theory.pep) and ``falsify`` (counterexample search, theory.falsify). Their parser is in cli.py."""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Sequence
from typing import Any

from theory.cli import UsageError, _add, _console, _registry, _summary, _table, _tally
from theory.registry import Registry
from theory.spec import Algorithm


def cmd_certify(args: argparse.Namespace) -> int:
    """Certify every explicit upper bound of the selected algorithms at the given horizons; exit 1 when one
    is refuted, undecided or errs (a skipped claim, with its reason, does not count)."""
    from theory.pep import HORIZONS, Certificate, certify
    from theory.render import certificate_row

    registry = _registry()
    try:
        horizons = [int(n) for n in args.horizons.split(",")] if args.horizons else list(HORIZONS)
    except ValueError:
        raise UsageError(f"--horizons must be integers separated by commas, not {args.horizons!r}") from None
    if not horizons or min(horizons) < 1:
        raise UsageError(f"--horizons must be positive, not {args.horizons!r}")
    certificates = []
    for name in args.names or sorted(registry.algorithms):
        algorithm = _algorithm(registry, name)
        if algorithm.pep is None:
            certificates.append(Certificate(algorithm=algorithm.name, claim="-", status="SKIPPED",
                                            evidence="declares no PEP form (Algorithm.pep)"))
            continue
        certificates += [certify(algorithm, claim, horizons) for claim in algorithm.claims]
    rows = [certificate_row(c) for c in certificates]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        table = _table("algorithm", "claim", "certificate", "function class", "N", "worst/bound", "evidence",
                       title="Worst-case certificates (PEP)")
        for r in rows:
            _add(table, r["algorithm"], r["claim"], r["certificate"], r["function_class"],
                 ",".join(map(str, r["horizons"])), r["worst_over_bound"], r["evidence"])
        _console().print(table)
        _summary(f"{len(rows)} claims: " + _tally(r["certificate"] for r in rows), registry)
    failed = any(c.status in ("FAIL", "ERROR", "INCONCLUSIVE") for c in certificates)
    return 1 if failed or registry.errors else 0


def cmd_falsify(args: argparse.Namespace) -> int:
    """Search one claim's family for a counterexample; exit 1 when one is found (the claim FAILs on it)."""
    from theory.errors import ClaimError
    from theory.falsify import BUDGET_S, NotSearchable, falsify
    from theory.render import search_report

    registry = _registry()
    algorithm = _algorithm(registry, args.algorithm)
    try:
        claim = algorithm.claim(args.claim)
        at = _assignments(args.at) if args.at else None
        vary = [name.strip() for name in args.vary.split(",")] if args.vary else None
        result = falsify(algorithm, registry.families[claim.experiment.family], claim, budget_s=args.budget or BUDGET_S,
                         vary=vary, at=at, base_seed=args.seed, seeds=args.seeds, quick=args.quick,
                         device=args.device)
    except (ClaimError, NotSearchable) as exc:
        raise UsageError(str(exc)) from None
    text, row = search_report(result, claim, _reproduce_falsify(args, dict(result.params)))
    print(json.dumps(row, indent=2) if args.json else text)
    return 1 if result.counterexample else 0


def _algorithm(registry: Registry, name: str) -> Algorithm:
    from theory.errors import ClaimError, PluginError

    try:
        return registry.algorithm(name)
    except (PluginError, ClaimError) as exc:
        raise UsageError(str(exc)) from None


def _assignments(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs; a VALUE with commas is a tuple."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            numbers = tuple(float(v) for v in value.split(","))
        except ValueError:
            numbers = ()
        if not sep or not name or not numbers:
            raise UsageError(f"--at takes NAME=VALUE with a number or comma-separated numbers, not {item!r}")
        out[name] = numbers if len(numbers) > 1 else numbers[0]
    return out


def _reproduce_falsify(args: argparse.Namespace, params: dict[str, Any]) -> str:

    at = [f"--at={k}={','.join(f'{x:.17g}' for x in v) if isinstance(v, tuple) else f'{v:.17g}'}"
          for k, v in params.items()]
    flags = ["--seed", str(args.seed), *(["--quick"] if args.quick else []),
             *(["--seeds", str(args.seeds)] if args.seeds else []),
             *(["--device", args.device] if args.device != "cpu" else [])]
    return shlex.join(["theorycheck", "falsify", args.algorithm, args.claim, *at, *flags])
